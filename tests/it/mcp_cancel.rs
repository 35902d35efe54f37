//! Cancelled and abandoned runs over stdio: `notifications/cancelled` for a running `run_code_gates`, or a
//! client that closes stdin, kills the check's whole process group and records nothing for it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::evidence::alive;
use crate::mcp::Session;
use crate::support::GitRepo;

/// A repository whose code gate starts a background child (its pid in a file outside the repository)
/// and hangs, with a drafted decision `c`.
fn hanging_gate(name: &str) -> (GitRepo, PathBuf) {
    let repo = GitRepo::new(name);
    let pidfile = std::env::temp_dir().join(format!("release-gate-{name}-{}.pid", std::process::id()));
    let _ = std::fs::remove_file(&pidfile);
    repo.commit(
        &[("src/lib.rs", "fn main() { changed() }\n"), (
            ".release/policy.toml",
            &format!(
                "[[code_gates]]\nname = \"hangs\"\ncommand = [\"sh\", \"-c\", \"sleep 300 & echo $! > {}; sleep 300\"]\ntimeout = \"10m\"\n",
                pidfile.display()
            ),
        )],
        "policy",
    );
    let drafted = repo.run(&["draft", "--scope", "s", "--risk", "low", "--id", "c"]);
    assert_eq!(drafted.code, 0, "{drafted:?}");
    (repo, pidfile)
}

/// The pid the check's background child wrote, once it is there.
fn child_pid(pidfile: &PathBuf) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(pidfile)
            && text.ends_with('\n')
        {
            return text.trim().to_owned();
        }
        assert!(Instant::now() < deadline, "the check never started");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn gone_within(pid: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(pid), "process {pid} started by the check is still running");
}

/// The stored record has no code-gate result (no pass, no fail) recorded by the run.
fn nothing_recorded(repo: &GitRepo) {
    let text = std::fs::read_to_string(repo.path().join(".release/decisions/c.json")).unwrap();
    let record: Value = serde_json::from_str(&text).unwrap();
    let events = record["history"].as_array().unwrap();
    assert!(
        events.iter().all(|event| event["change"]["type"] != "gate-recorded"),
        "a cancelled run recorded a gate: {record}"
    );
    assert!(!record["gates"]["code"].as_str().unwrap_or_default().starts_with("pass"), "{record}");
}

#[test]
fn a_cancelled_gate_run_is_killed_and_records_nothing() {
    let (repo, pidfile) = hanging_gate("cancel");
    let mut session = Session::start(repo.path());
    session.send_line(
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "run_code_gates",
            "arguments": {"id": "c", "actor": "it for Dana Lee"}}})
        .to_string()
        .as_bytes(),
    );
    let pid = child_pid(&pidfile);
    assert!(alive(&pid));
    session.send_line(
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7,
            "reason": "the person stopped it"}})
        .to_string()
        .as_bytes(),
    );
    gone_within(&pid, Duration::from_secs(10));
    // The session goes on, and the decision shows no code gate from the cancelled run.
    let status = session.call(8, "decision_status", json!({"id": "c"}));
    assert_eq!(status["id"], 8, "{status}");
    assert_eq!(status["result"]["isError"], false, "{status}");
    nothing_recorded(&repo);
    let _ = std::fs::remove_file(&pidfile);
}

#[test]
fn a_client_that_goes_away_stops_its_gate_run() {
    let (repo, pidfile) = hanging_gate("departed");
    let mut session = Session::start(repo.path());
    session.send_line(
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "run_code_gates",
            "arguments": {"id": "c", "actor": "it for Dana Lee"}}})
        .to_string()
        .as_bytes(),
    );
    let pid = child_pid(&pidfile);
    session.close_stdin();
    gone_within(&pid, Duration::from_secs(30));
    // The server ends too, instead of waiting for a check nobody will read.
    let deadline = Instant::now() + Duration::from_secs(30);
    while session.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the server kept running after its client went away");
        std::thread::sleep(Duration::from_millis(20));
    }
    nothing_recorded(&repo);
    let _ = std::fs::remove_file(&pidfile);
}
