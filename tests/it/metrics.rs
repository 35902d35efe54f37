//! Rollback triggers against a real Prometheus (Debian's package, extracted by `scripts/test.sh`, started
//! here on 127.0.0.1): a deterministic run on backfilled samples with fixed times, a live rehearsal and
//! watch against a small exporter scraped every second, and a fake metrics server for timeouts, error
//! streaks and the token.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use release_gate_core::signals::{self, Answer, Comparison, NoData, State, Unit, Watched};
use release_gate_repo::metrics::Prometheus;
use serde_json::Value;

use crate::support::{GitRepo, TempDir, release_gate};

/// Where `scripts/test.sh` put `prometheus` and `promtool`; a missing tool fails the test.
fn prometheus_bin(name: &str) -> PathBuf {
    let dir = std::env::var("RELEASE_GATE_PROMETHEUS_DIR")
        .unwrap_or_else(|_| format!("{}/target/prometheus/usr/bin", env!("CARGO_MANIFEST_DIR")));
    let path = Path::new(&dir).join(name);
    assert!(path.is_file(), "{} is missing: run scripts/test.sh, which installs Prometheus", path.display());
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A Prometheus server on 127.0.0.1, killed on drop.
struct Server {
    child: Child,
    url: String,
    _dir: TempDir,
}

impl Server {
    fn start(config: &str, data: Option<&Path>) -> Server {
        let dir = TempDir::new("prometheus");
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let port = free_port();
        let storage = data.map_or_else(|| dir.path().join("data"), Path::to_path_buf);
        let child = Command::new(prometheus_bin("prometheus"))
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.tsdb.path={}", storage.display()))
            .arg("--storage.tsdb.retention.time=100y")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, url: format!("http://127.0.0.1:{port}"), _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !http_ok(port, "/-/ready") {
            assert!(Instant::now() < deadline, "prometheus did not become ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_ok(port: u16, path: &str) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    let mut line = String::new();
    let _ = BufReader::new(stream).read_line(&mut line);
    line.contains(" 200 ")
}

const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn watched(query: &str, window_s: i64, step_s: i64) -> Watched {
    Watched {
        text: "error share > 2% for 5 minutes".into(),
        signal: "error share".into(),
        query: query.into(),
        comparison: Comparison::Above,
        threshold: 0.02,
        unit: Unit::Ratio,
        window: jiff::SignedDuration::from_secs(window_s),
        step: jiff::SignedDuration::from_secs(step_s),
        no_data: NoData::Inconclusive,
    }
}

#[test]
fn backfilled_samples_fire_and_clear_at_known_minutes() {
    let dir = TempDir::new("backfill");
    // One hour of an error share every 30 s, 5% in minutes 20-30, and a second series to refuse.
    let mut text = String::from("# TYPE app_error_share gauge\n");
    for k in 0..=120 {
        let share = if (40..60).contains(&k) { 0.05 } else { 0.001 };
        text.push_str(&format!("app_error_share {share} {}\n", T0 + k * 30));
    }
    text.push_str("# TYPE app_other gauge\n");
    for k in 0..=120 {
        text.push_str(&format!("app_other 1 {}\n", T0 + k * 30));
    }
    text.push_str("# EOF\n");
    let input = dir.path().join("samples.om");
    std::fs::write(&input, text).unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let out = Command::new(prometheus_bin("promtool"))
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let server = Server::start("global: {}\n", Some(&data));
    let client = Prometheus::new(&server.url, None, Duration::from_secs(5)).unwrap();
    assert!(client.build_info().unwrap().starts_with("prometheus 2."));

    let condition = watched("max(app_error_share)", 300, 30);
    let state_at = |minute_halves: i64| {
        let end = (T0 + minute_halves * 30) * 1000;
        let (start, step) = signals::grid(&condition, end);
        let range = client.query_range(&condition.query, start, end, step).unwrap();
        signals::evaluate(&condition, &range.answer, end)
    };
    let states: Vec<(i64, State)> = (30..=70).map(|k| (k, state_at(k))).collect();
    let first =
        |wanted: &State, from: i64| states.iter().find(|(k, s)| *k >= from && s == wanted).map(|(k, _)| *k);
    // ">2% for 5 minutes", sampled every 30 s: first firing at minute 25, clear from minute 30.
    assert_eq!(first(&State::Firing, 0), Some(50), "{states:?}");
    assert_eq!(first(&State::Clear, 50), Some(60), "{states:?}");
    assert_eq!(states.iter().find(|(k, _)| *k == 45).map(|(_, s)| s.clone()), Some(State::Pending));
    assert_eq!(states.first().map(|(_, s)| s.clone()), Some(State::Clear));

    // Long after the data ends the query answers no series: no data, never a pass.
    let late = (T0 + 3 * 3600) * 1000;
    let (start, step) = signals::grid(&condition, late);
    let range = client.query_range(&condition.query, start, late, step).unwrap();
    assert_eq!(range.answer, Answer::Empty);
    assert_eq!(signals::evaluate(&condition, &range.answer, late), State::NoData(signals::Gap::Empty));

    // Two series are refused, not picked from.
    let both = watched("{__name__=~\"app_.*\"}", 60, 30);
    let end = (T0 + 1200) * 1000;
    let (start, step) = signals::grid(&both, end);
    let range = client.query_range(&both.query, start, end, step).unwrap();
    assert_eq!(range.answer, Answer::Several(2));
    assert!(matches!(signals::evaluate(&both, &range.answer, end), State::Error(_)));

    // The exported rule is one Prometheus accepts.
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, signals::alert_rules("release-gate", "rel-1", &[condition])).unwrap();
    let out = Command::new(prometheus_bin("promtool")).args(["check", "rules"]).arg(&rules).output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A stdlib exporter: `app_error_share` from a file (`gone`: no series at all).
const EXPORTER: &str = r#"
import http.server, sys
share_file = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        value = open(share_file).read().strip()
        body = b"" if value == "gone" else ("app_error_share %s\n" % value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"#;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn decision_with_trigger(repo: &GitRepo, policy: &str, trigger: &str) {
    repo.commit(&[(".release/policy.toml", policy)], "policy");
    assert_eq!(repo.run(&["draft", "--scope", "s", "--risk", "medium", "--id", "r"]).code, 0);
    let set = repo.run(&["set", "r", "rollback-trigger", trigger]);
    assert_eq!(set.code, 0, "{set:?}");
}

fn record(repo: &GitRepo) -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo.path().join(".release/decisions/r.json")).unwrap())
        .unwrap()
}

#[test]
fn a_live_rehearsal_observes_detection_and_recovery_and_a_vanished_series_ends_the_watch() {
    let dir = TempDir::new("live");
    let share = dir.path().join("share");
    std::fs::write(&share, "0").unwrap();
    let exporter_port = free_port();
    let _exporter = Killed(
        Command::new("python3")
            .arg("-c")
            .arg(EXPORTER)
            .arg(exporter_port.to_string())
            .arg(&share)
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let server = Server::start(
        &format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:{exporter_port}']\n"
        ),
        None,
    );
    // Prometheus applies new scrape targets on a 5 s tick: wait (bounded) for the first sample.
    let client = Prometheus::new(&server.url, None, Duration::from_secs(5)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = release_gate_repo::watch::now_ms();
        let range = client.query_range("max(app_error_share)", now - 1000, now, 1000).unwrap();
        if matches!(range.answer, Answer::One(ref points) if !points.is_empty()) {
            break;
        }
        assert!(Instant::now() < deadline, "the exporter was never scraped");
        std::thread::sleep(Duration::from_millis(200));
    }
    let share_path = share.display();
    let policy = format!(
        r#"[metrics]
url = "{url}"
timeout = "5s"

[[signals]]
name = "error share"
query = 'max(app_error_share)'
unit = "ratio"
step = "1s"

[rehearsal]
apply = ["true"]
trigger = ["sh", "-c", "echo 0.05 > {share_path}"]
rollback = ["sh", "-c", "echo 0 > {share_path}"]
check = ["true"]
poll_interval = "1s"
poll_limit = "40s"
max_recovery = "40s"
detect_within = "30s"

[watch]
rollback = ["sh", "-c", "echo 0 > {share_path}"]
error_limit = 3
"#,
        url = server.url
    );
    let repo = GitRepo::new("metrics-live");
    decision_with_trigger(&repo, &policy, "error share > 2% for 2s");

    let (code, outcome) = repo.json(&["rehearse", "r", "--format", "json"]);
    assert_eq!(code, 0, "{outcome}");
    let observed = &outcome["metrics"][0];
    assert_eq!(observed["baseline"], "clear", "{outcome}");
    assert!(observed["detected_after_ms"].as_u64().is_some(), "{outcome}");
    assert!(observed["cleared_after_ms"].as_u64().is_some(), "{outcome}");
    assert_eq!(observed["query"], "max(app_error_share)");
    assert!(observed["server"].as_str().unwrap().starts_with("prometheus 2."), "{outcome}");
    assert!(observed["digest"].as_str().unwrap().starts_with("sha256:"));
    assert!(!observed["series"].as_array().unwrap().is_empty());
    let stored = record(&repo);
    let run = stored["history"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["change"]["type"] == "rehearsal-run")
        .unwrap();
    assert_eq!(run["change"]["metrics"][0]["query"], "max(app_error_share)");

    // After the deploy: the error share rises, the watch records the firing, then rolls back (exit 1).
    std::fs::write(&share, "0.05").unwrap();
    let out = repo.run(&["watch", "r", "--for", "60s", "--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let run: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(run["outcome"], "rolled-back", "{run}");
    assert_eq!(std::fs::read_to_string(&share).unwrap().trim(), "0", "the committed rollback ran");
    let kinds: Vec<String> = record(&repo)["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["change"]["type"].as_str().unwrap().to_owned())
        .collect();
    let fired = kinds.iter().position(|k| k == "watch-fired").unwrap();
    let ended = kinds.iter().position(|k| k == "watch-ended").unwrap();
    assert!(fired < ended, "the firing is on record before the end: {kinds:?}");

    // The series vanishes: no data for `error_limit` polls ends the watch inconclusive (exit 3), no rollback.
    std::fs::write(&share, "gone").unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let out = repo.run(&["watch", "r", "--for", "60s", "--format", "json"]);
    assert_eq!(out.code, 3, "{out:?}");
    let run: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(run["outcome"], "inconclusive", "{run}");
    assert_eq!(run["rollback"], Value::Null);
    assert_eq!(std::fs::read_to_string(&share).unwrap().trim(), "gone", "no automatic rollback");

    // The same conditions as an alerting rule, accepted by promtool.
    let out = repo.run(&["watch", "r", "--to", "prometheus-rule"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("expr: \"(max(app_error_share)) > 0.02\""), "{}", out.stdout);
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, &out.stdout).unwrap();
    let check =
        Command::new(prometheus_bin("promtool")).args(["check", "rules"]).arg(&rules).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
}

/// A fake metrics server: answers the build info, then `query_range` per `mode`, recording each request.
fn fake_server(mode: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                request.push_str(&line);
            }
            log.lock().unwrap().push(request.clone());
            let (status, body) = if request.starts_with("GET /api/v1/status/buildinfo") {
                ("200 OK", r#"{"status":"success","data":{"version":"9.9.9","revision":"fake"}}"#.to_owned())
            } else if mode == "hang" {
                std::thread::sleep(Duration::from_secs(3));
                continue;
            } else {
                ("503 Service Unavailable", r#"{"status":"error","error":"overloaded"}"#.to_owned())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, seen)
}

fn fake_policy(url: &str) -> String {
    format!(
        r#"[metrics]
url = "{url}"
timeout = "1s"

[[signals]]
name = "error share"
query = 'max(app_error_share)'
unit = "ratio"
step = "1s"

[watch]
rollback = ["true"]
error_limit = 2
"#
    )
}

#[test]
fn query_errors_and_timeouts_end_the_watch_inconclusive_and_the_token_stays_secret() {
    const TOKEN: &str = "tok-SECRET-5f3a9";
    for mode in ["errors", "hang"] {
        let (url, seen) = fake_server(mode);
        let repo = GitRepo::new(&format!("metrics-fake-{mode}"));
        decision_with_trigger(&repo, &fake_policy(&url), "error share > 2% for 2s");
        let started = Instant::now();
        let out = release_gate()
            .args(["watch", "r", "--for", "60s"])
            .current_dir(repo.path())
            .env("RELEASE_GATE_METRICS_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{mode}: {stdout}{stderr}");
        assert!(stdout.contains("inconclusive"), "{stdout}");
        // Every wait is bounded: two polls of at most the 1 s timeout each, and a step between them.
        assert!(started.elapsed() < Duration::from_secs(30), "{mode} took {:?}", started.elapsed());
        let requests = seen.lock().unwrap().clone();
        assert!(
            requests
                .iter()
                .any(|r| r.contains(&format!("Bearer {TOKEN}")) || r.contains(&format!("bearer {TOKEN}"))),
            "the token is sent: {requests:?}"
        );
        assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN), "{mode}: the token leaked to the output");
        let record = std::fs::read_to_string(repo.path().join(".release/decisions/r.json")).unwrap();
        assert!(!record.contains(TOKEN), "the token leaked into the record");
        assert!(record.contains("\"watch-ended\""), "{record}");
        assert!(record.contains("\"inconclusive\""), "{record}");
    }
}

#[test]
fn a_trigger_without_a_signal_or_with_a_wrong_unit_is_a_finding() {
    let (url, _) = fake_server("errors");
    let repo = GitRepo::new("metrics-findings");
    decision_with_trigger(&repo, &fake_policy(&url), "error share > 2% for 2s");
    let set = repo.run(&[
        "set",
        "r",
        "rollback-trigger",
        "queue depth > 500 for 5 minutes",
        "error share above 800 ms",
        "error share > 2% for 3 sprints",
    ]);
    assert_eq!(set.code, 0, "{set:?}");
    let (_, report) = repo.json(&["validate", "r", "--format", "json"]);
    let codes: Vec<&str> =
        report["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    for code in ["signal-unmapped", "signal-unit-mismatch", "trigger-window-unreadable"] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    // The watch refuses to start on triggers it cannot watch, and says why.
    let out = repo.run(&["watch", "r", "--for", "10s"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("cannot be watched"), "{}", out.stderr);
}

#[test]
fn start_watch_over_mcp_asks_the_person_then_watches_behind_a_run_handle() {
    use crate::support::{Transport, mcp_session};
    let (url, _seen) = fake_server("errors");
    let repo = GitRepo::new("metrics-mcp-watch");
    decision_with_trigger(&repo, &fake_policy(&url), "error share > 2% for 2s");
    let start =
        serde_json::json!({"tool": "start_watch", "arguments": {"id": "r", "for": "60s", "actor": "codex"}});
    // A client that cannot ask the person starts nothing; a decline starts nothing.
    let refused = mcp_session(repo.path(), &Transport::Stdio, &[], None, std::slice::from_ref(&start));
    assert_eq!(refused[0]["is_error"], true, "{refused:?}");
    let declined = mcp_session(
        repo.path(),
        &Transport::Stdio,
        &[],
        Some(("decline", "Dana Ruiz")),
        std::slice::from_ref(&start),
    );
    assert_eq!(declined[0]["asked"].as_array().unwrap().len(), 1, "{declined:?}");
    assert!(!record(&repo).to_string().contains("watch-ended"), "a declined watch ran");
    // Confirmed: the watch runs behind a handle (the server answers after 1 s) and ends inconclusive.
    let handle = "run-1-start_watch-r";
    let mut calls = vec![start];
    calls.extend((0..20).map(|_| serde_json::json!({"tool": "run_status", "arguments": {"run": handle}})));
    let results = mcp_session(
        repo.path(),
        &Transport::Stdio,
        &[("RELEASE_GATE_RUN_WAIT_MS", "1000")],
        Some(("accept", "Dana Ruiz")),
        &calls,
    );
    assert_eq!(results[0]["is_error"], false, "{results:?}");
    let done = results[1..]
        .iter()
        .find(|r| r["structured"]["run"]["state"] == "done" || r["structured"]["state"] == "done");
    let done = done.unwrap_or_else(|| panic!("the watch never finished: {results:?}"));
    assert!(done.to_string().contains("inconclusive"), "{done}");
    let record = record(&repo).to_string();
    assert!(record.contains("\"watch-ended\""), "{record}");
    assert!(record.contains("Dana Ruiz"), "who confirmed is recorded: {record}");
}
