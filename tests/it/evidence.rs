//! Evidence that is run, not typed: code gates, the drill, a timed rollback rehearsal against a real
//! service on loopback, the communication package, freeze windows, and commands that cannot be smuggled in.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{GitRepo, TempDir, data};

/// Commits a policy into the repository.
fn commit_policy(repo: &GitRepo, policy: &str) {
    repo.commit(&[(".release/policy.toml", policy)], "policy");
}

fn record(repo: &GitRepo, id: &str) -> Value {
    let text = std::fs::read_to_string(repo.path().join(format!(".release/decisions/{id}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Whether a process is still running (not gone, not a zombie waiting to be reaped).
pub fn alive(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

#[test]
fn code_gates_run_from_the_committed_policy() {
    let repo = GitRepo::new("gates");
    let marker = repo.path().join("..").join(format!("gates-marker-{}", std::process::id()));
    commit_policy(
        &repo,
        &format!(
            r#"
[[code_gates]]
name = "unit"
command = ["sh", "-c", "echo all good; touch {marker}"]

[[code_gates]]
name = "lint"
command = ["sh", "-c", "echo 'warning: x' >&2; exit 0"]
"#,
            marker = marker.display()
        ),
    );
    assert_eq!(repo.run(&["draft", "--scope", "s", "--risk", "low", "--id", "g"]).code, 0);
    let (code, run) = repo.json(&["gates", "run", "g", "--format", "json"]);
    assert_eq!(code, 0, "{run}");
    assert_eq!(run["passed"], true);
    assert!(marker.exists());
    let _ = std::fs::remove_file(&marker);
    let checks = run["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0]["output_tail"], "all good");
    assert_eq!(checks[1]["output_tail"], "warning: x");
    assert!(checks[0]["output_digest"].as_str().unwrap().starts_with("sha256:"));
    let stored = record(&repo, "g");
    assert_eq!(stored["gates"]["code"], "pass (2/2 checks passed)");
    let event = stored["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(event["change"]["type"], "gate-recorded");
    assert_eq!(event["change"]["commit"], repo.git(&["rev-parse", "HEAD"]));

    // One failing check fails the gate.
    commit_policy(
        &repo,
        "[[code_gates]]\nname = \"ok\"\ncommand = [\"true\"]\n[[code_gates]]\nname = \"tests\"\ncommand = [\"sh\", \"-c\", \"echo 2 failed; exit 1\"]\n",
    );
    let (code, run) = repo.json(&["gates", "run", "g", "--format", "json"]);
    assert_eq!(code, 1, "{run}");
    assert_eq!(run["passed"], false);
    assert_eq!(run["checks"][1]["exit_code"], 1);
    assert_eq!(record(&repo, "g")["gates"]["code"], "fail (1/2 checks passed)");
    // Plain lines when stderr is not a terminal.
    let out = repo.run(&["gates", "run", "g"]);
    assert!(out.stderr.contains("[2/2] tests: running"), "{}", out.stderr);
    assert!(out.stderr.contains("fail tests: failed (exit 1)"), "{}", out.stderr);
    // A live line on a terminal: `script` gives the run a pseudo-terminal.
    let command = format!("{} gates run g", env!("CARGO_BIN_EXE_release-gate"));
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(repo.path())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script (util-linux) runs");
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("\r[2/2] tests ..."), "{shown:?}");
    assert!(!shown.contains("tests: running"), "{shown:?}");
}

#[test]
fn a_hanging_check_is_killed_and_fails_the_gate() {
    let repo = GitRepo::new("hang");
    let pidfile = std::env::temp_dir().join(format!("release-gate-hang-{}.pid", std::process::id()));
    commit_policy(
        &repo,
        &format!(
            "[[code_gates]]\nname = \"hangs\"\ncommand = [\"sh\", \"-c\", \"sleep 300 & echo $! > {}; sleep 300\"]\ntimeout = \"1s\"\n",
            pidfile.display()
        ),
    );
    assert_eq!(repo.run(&["draft", "--scope", "s", "--risk", "low", "--id", "h"]).code, 0);
    let started = Instant::now();
    let (code, run) = repo.json(&["gates", "run", "h", "--format", "json"]);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(code, 1, "{run}");
    assert_eq!(run["checks"][0]["timed_out"], true);
    assert!(run["checks"][0]["duration_ms"].as_u64().unwrap() >= 1000);
    let pid = std::fs::read_to_string(&pidfile).unwrap().trim().to_owned();
    let _ = std::fs::remove_file(&pidfile);
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(&pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(&pid), "process {pid} started by the check is still running");
    assert_eq!(record(&repo, "h")["gates"]["code"], "fail (0/1 checks passed)");
}

#[test]
fn commands_cannot_be_smuggled_in() {
    let repo = GitRepo::new("smuggle");
    let marker = std::env::temp_dir().join(format!("release-gate-smuggled-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    assert_eq!(repo.run(&["draft", "--scope", "s", "--risk", "low", "--id", "x"]).code, 0);
    let touch = format!("touch {}", marker.display());

    // No argument takes a command.
    for args in [
        vec!["gates", "run", "x", "--command", touch.as_str()],
        vec!["gates", "run", "x", "--", "sh", "-c", touch.as_str()],
        vec!["rehearse", "x", "--rollback", touch.as_str()],
        vec!["drill", "x", "--exec", touch.as_str()],
    ] {
        let out = repo.run(&args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
    }
    // A policy that is only in the work tree is not the committed policy: refused, nothing runs.
    std::fs::create_dir_all(repo.path().join(".release")).unwrap();
    std::fs::write(
        repo.path().join(".release/policy.toml"),
        format!("[[code_gates]]\nname = \"evil\"\ncommand = [\"sh\", \"-c\", \"{touch}\"]\n"),
    )
    .unwrap();
    let out = repo.run(&["gates", "run", "x"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("uncommitted changes"), "{}", out.stderr);
    // A commit without a policy file: refused with what to do.
    std::fs::remove_file(repo.path().join(".release/policy.toml")).unwrap();
    let out = repo.run(&["gates", "run", "x"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("commands run only from the committed policy"), "{}", out.stderr);
    assert!(!marker.exists(), "a smuggled command ran");
}

#[test]
fn the_drill_runs_what_it_can_and_records_who_confirmed_the_rest() {
    let repo = GitRepo::new("drill");
    commit_policy(
        &repo,
        "[drill]\ncritical_commands = [\"true\"]\nrollback_command = [\"sh\", \"-c\", \"echo rollback ok\"]\n",
    );
    assert_eq!(repo.run(&["draft", "--scope", "s", "--risk", "high", "--id", "d"]).code, 0);
    // An item with a command cannot be confirmed by hand.
    let out = repo.run(&["drill", "d", "--confirm", "rollback-command:trust me"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("is run, not confirmed by hand"), "{}", out.stderr);
    let out = repo.run(&[
        "drill",
        "d",
        "--confirm",
        "feature-flags:flags.yaml reviewed, new-rounding off by default",
        "--confirm",
        "dashboards:grafana board billing-overview covers /invoices",
        "--confirm",
        "pager:Dana on call, Lee backup, both acknowledged",
        "--actor",
        "Lee Park",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let stored = record(&repo, "d");
    let drill = stored["drill"].as_array().unwrap();
    assert_eq!(drill.len(), 5);
    assert!(drill.iter().all(|item| item["checked"] == true), "{drill:?}");
    let events: Vec<&Value> = stored["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["change"]["type"] == "drill-item-recorded")
        .collect();
    assert_eq!(events.len(), 5);
    let pager = events.iter().find(|e| e["change"]["item"] == "pager").unwrap();
    assert_eq!(pager["actor"], "Lee Park");
    assert_eq!(pager["change"]["evidence"][0], "Dana on call, Lee backup, both acknowledged");
    let rollback = events.iter().find(|e| e["change"]["item"] == "rollback-command").unwrap();
    assert_eq!(rollback["change"]["check"]["output_tail"], "rollback ok");
}

/// A tiny real service on loopback: serves `status.txt` from a folder.
pub struct Service {
    child: std::process::Child,
    port: u16,
    dir: TempDir,
}

impl Service {
    pub fn start(name: &str) -> Service {
        let dir = TempDir::new(name);
        std::fs::write(dir.path().join("status.txt"), "ok v1\n").unwrap();
        std::fs::write(dir.path().join("previous.txt"), "ok v1\n").unwrap();
        std::fs::write(dir.path().join("candidate.txt"), "ok v2\n").unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new("python3")
            .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"])
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 runs the test service");
        let service = Service { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while service.get().is_none() {
            assert!(Instant::now() < deadline, "the test service did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        service
    }

    pub fn get(&self) -> Option<String> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.write_all(b"GET /status.txt HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.split("\r\n\r\n").nth(1).map(|body| body.trim().to_owned())
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The rehearsal policy: apply the candidate, break it, roll back after `rollback_delay`, check over HTTP.
    pub fn policy(&self, rollback_delay: &str, max_recovery: &str) -> String {
        let dir = self.dir().display();
        let check = format!(
            "import sys, urllib.request; body = urllib.request.urlopen('http://127.0.0.1:{}/status.txt', timeout=2).read(); sys.exit(0 if body.strip() == b'ok v1' else 1)",
            self.port
        );
        format!(
            r#"
[rehearsal]
apply = ["cp", "{dir}/candidate.txt", "{dir}/status.txt"]
trigger = ["sh", "-c", "echo broken > {dir}/status.txt"]
rollback = ["sh", "-c", "sleep {rollback_delay}; cp {dir}/previous.txt {dir}/status.txt"]
check = ["python3", "-c", "{check}"]
poll_interval = "1s"
poll_limit = "30s"
max_recovery = "{max_recovery}"
"#
        )
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_rehearsal_against_a_real_service_measures_recovery_time() {
    let service = Service::start("service");
    let repo = GitRepo::new("rehearse");
    commit_policy(&repo, &service.policy("0.4", "30s"));
    assert_eq!(repo.run(&["draft", "--scope", "s", "--risk", "medium", "--id", "r"]).code, 0);
    let (code, outcome) =
        repo.json(&["rehearse", "r", "--format", "json", "--friction", "rollback needs the full build id"]);
    assert_eq!(code, 0, "{outcome}");
    assert_eq!(service.get().as_deref(), Some("ok v1"), "the rollback restored the service");
    let recovery = outcome["recovery_ms"].as_u64().unwrap();
    assert!((400..30_000).contains(&recovery), "recovery {recovery} ms includes the 0.4 s rollback");
    let steps: Vec<&str> =
        outcome["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(steps, ["apply", "trigger", "detect", "rollback", "check"]);
    // The trigger was seen: the check failed right after it.
    assert!(outcome["detection_ms"].as_u64().is_some(), "{outcome}");
    let stored = record(&repo, "r");
    let trigger = stored["rehearsal"]["simulate_rollback_trigger"].as_str().unwrap();
    assert!(trigger.contains("service seen broken after"), "{trigger}");
    assert!(stored["rehearsal"]["recovery_time"].as_str().unwrap().ends_with('s'), "{}", stored["rehearsal"]);
    assert_eq!(stored["rehearsal"]["friction_points"], "rollback needs the full build id");
    assert!(stored["rehearsal"]["apply_candidate_build"].as_str().unwrap().starts_with("ok in"));

    // A rollback slower than the policy allows fails the rehearsal, and the validator says so.
    let slow = GitRepo::new("rehearse-slow");
    commit_policy(&slow, &service.policy("1.5", "1s"));
    assert_eq!(slow.run(&["draft", "--scope", "s", "--risk", "medium", "--id", "r"]).code, 0);
    let (code, outcome) = slow.json(&["rehearse", "r", "--format", "json"]);
    assert_eq!(code, 1, "{outcome}");
    assert!(outcome["recovery_ms"].as_u64().unwrap() >= 1500);
    assert_eq!(outcome["passed"], false);
    // Rehearsal rules judge a GO: deciding GO is refused with rehearsal-failed.
    let (code, refused) = slow.json(&["decide", "r", "--go", "--owner", "Priya", "--format", "json"]);
    assert_eq!(code, 1);
    assert!(
        refused["findings"].as_array().unwrap().iter().any(|f| f["code"] == "rehearsal-failed"),
        "{refused}"
    );
}

#[test]
fn a_rehearsal_whose_trigger_breaks_nothing_fails() {
    let service = Service::start("service-noop");
    let repo = GitRepo::new("rehearse-noop");
    // Nothing breaks the service (the candidate is the healthy build and the trigger does nothing): the check
    // keeps passing, so nothing was shown to need a rollback.
    let dir = service.dir().display().to_string();
    let policy = service
        .policy("0", "30s")
        .replace(&format!("{dir}/candidate.txt"), &format!("{dir}/previous.txt"))
        .replace(
            &format!("trigger = [\"sh\", \"-c\", \"echo broken > {}/status.txt\"]", service.dir().display()),
            "trigger = [\"true\"]\ndetect_within = \"2s\"",
        );
    assert!(policy.contains("trigger = [\"true\"]"), "{policy}");
    commit_policy(&repo, &policy);
    assert_eq!(repo.run(&["draft", "--scope", "s", "--risk", "medium", "--id", "r"]).code, 0);
    let (code, outcome) = repo.json(&["rehearse", "r", "--format", "json"]);
    assert_eq!(code, 1, "{outcome}");
    assert_eq!(outcome["passed"], false, "{outcome}");
    assert_eq!(outcome["detection_ms"], Value::Null, "{outcome}");
    // The rollback still ran, and recovery was timed as usual.
    assert!(outcome["recovery_ms"].as_u64().is_some(), "{outcome}");
    // `status` shows it before any GO is attempted; a GO is refused with the code.
    let (_, status) = repo.json(&["status", "r", "--format", "json"]);
    let needs = status["go_needs"].as_array().unwrap();
    assert!(needs.iter().any(|f| f["code"] == "trigger-not-observed"), "{status}");
    let (code, refused) = repo.json(&["decide", "r", "--go", "--owner", "Priya", "--format", "json"]);
    assert_eq!(code, 1);
    assert!(
        refused["findings"].as_array().unwrap().iter().any(|f| f["code"] == "trigger-not-observed"),
        "{refused}"
    );
}

#[test]
fn the_communication_package_is_prefilled_and_renders_as_a_release_note() {
    let repo = GitRepo::new("comms");
    repo.commit(&[("src/a.rs", "a\n")], "Round invoice totals half-even");
    repo.commit(&[("src/b.rs", "b\n")], "Regenerate PDF invoices overnight");
    assert_eq!(repo.run(&["draft", "--scope", "billing-api", "--risk", "medium", "--id", "c"]).code, 0);
    assert_eq!(repo.run(&["set", "c", "rollback-trigger", "invoice error rate > 2% for 5 minutes"]).code, 0);
    let out = repo.run(&[
        "comms",
        "c",
        "--known-limitations",
        "old PDFs keep old rounding",
        "--monitoring-focus",
        "invoice error rate, checkout success",
        "--escalation",
        "#billing-oncall, Dana Ruiz",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let stored = record(&repo, "c");
    assert_eq!(
        stored["communication"]["what_changed"],
        "Round invoice totals half-even\nRegenerate PDF invoices overnight"
    );
    assert_eq!(
        stored["communication"]["rollback_trigger_conditions"],
        "invoice error rate > 2% for 5 minutes"
    );
    assert_eq!(
        stored["rollback_conditions"][0],
        serde_json::json!({"text": "invoice error rate > 2% for 5 minutes", "signal": "invoice error rate",
            "comparison": ">", "threshold": "2", "unit": "%", "window": "5 minutes", "window_seconds": 300})
    );
    let note = repo.run(&["render", "c", "--to", "release-note"]);
    assert_eq!(note.code, 0);
    assert!(note.stdout.starts_with("## Release: billing-api\n"), "{}", note.stdout);
    assert!(note.stdout.contains(
        "### What changed\n\n- Round invoice totals half-even\n- Regenerate PDF invoices overnight\n"
    ));
    assert!(note.stdout.contains("### Escalation\n\n- #billing-oncall, Dana Ruiz\n"));

    // The quick checklist: trigger recorded but no owner yet; the package is prepared.
    let (code, checklist) = repo.json(&["checklist", "c", "--format", "json"]);
    assert_eq!(code, 1);
    assert_eq!(checklist["before_go_no_go"][2]["done"], false);
    assert_eq!(checklist["before_go_no_go"][2]["missing"], "no rollback owner");
    assert_eq!(checklist["before_production_deploy"][1]["done"], true);
    assert_eq!(checklist["before_production_deploy"][2]["done"], false);
    assert_eq!(
        repo.run(&["ops", "c", "--on-call", "Dana Ruiz", "--release-window", "Tue 10:00-12:00 UTC"]).code,
        0
    );
    let (_, checklist) = repo.json(&["checklist", "c", "--format", "json"]);
    assert_eq!(checklist["before_production_deploy"][2]["done"], true, "{checklist}");
    // The checklist reads files too: a complete high-risk GO, whose drill confirmed the pager owner.
    let (code, checklist) =
        repo.json(&["checklist", data("decisions/valid_high_go.md").to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{checklist}");
}

#[test]
fn a_decision_inside_a_freeze_window_is_refused() {
    let dir = TempDir::new("freeze");
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[freeze]]\nname = \"holiday freeze\"\nzone = \"America/New_York\"\nstart = \"2026-11-26T00:00\"\nend = \"2026-11-28T00:00\"\n",
    )
    .unwrap();
    // valid_high_go was decided 2026-11-27T14:05Z: 09:05 in New York, inside the freeze.
    let decision = data("decisions/valid_high_go.md");
    let args = ["validate", decision.to_str().unwrap(), "--now", "2026-11-28T12:00:00Z", "--format", "json"];
    let out = crate::support::run(&[&args[..], &["--policy", policy.to_str().unwrap()]].concat());
    assert_eq!(out.code, 1, "{out:?}");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let finding =
        report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "freeze-window").unwrap();
    assert!(
        finding["message"].as_str().unwrap().contains("2026-11-27T09:05:00 in America/New_York"),
        "{finding}"
    );
    // The same instant is outside a window that ended at midnight New York time... in Tokyo.
    std::fs::write(
        &policy,
        "[[freeze]]\nname = \"holiday freeze\"\nzone = \"Asia/Tokyo\"\nstart = \"2026-11-26T00:00\"\nend = \"2026-11-27T23:00\"\n",
    )
    .unwrap();
    let out = crate::support::run(&[&args[..], &["--policy", policy.to_str().unwrap()]].concat());
    assert_eq!(out.code, 0, "14:05Z is 23:05 in Tokyo, after the window: {out:?}");
}
