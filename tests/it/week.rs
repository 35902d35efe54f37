//! A release team's ordinary week on a real repository: a failed run that a typed claim cannot override,
//! new commits followed with `rebind`, one decision owner, a hotfix after GO, a GO that expires, a closed
//! decision, a NO-GO with its reason, and a hand-edited record; through the CLI and the MCP tools.

use serde_json::{Value, json};

use crate::support::{GitRepo, Transport, mcp_calls};

fn record(repo: &GitRepo, id: &str) -> Value {
    let text = std::fs::read_to_string(repo.path().join(format!(".release/decisions/{id}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_owned()).collect()
}

/// A repository whose committed policy runs one check that passes only once `ready` is committed.
fn team_repo(name: &str) -> GitRepo {
    let repo = GitRepo::new(name);
    repo.commit(
        &[
            (
                ".release/policy.toml",
                "[[code_gates]]\nname = \"tests\"\ncommand = [\"test\", \"-e\", \"ready\"]\n",
            ),
            ("src/api.rs", "fn api() {}\n"),
        ],
        "api change",
    );
    repo
}

fn fill_medium(repo: &GitRepo, id: &str) {
    assert_eq!(repo.run(&["draft", "--scope", "api", "--risk", "medium", "--id", id]).code, 0);
    for (field, value) in [
        ("decision-owner", "Priya Shah"),
        ("rollback-owner", "Dana Ruiz"),
        ("rollback-trigger", "error rate > 2% for 5 minutes"),
        ("residual-risks", "none"),
    ] {
        let out = repo.run(&["set", id, field, value]);
        assert_eq!(out.code, 0, "{out:?}");
    }
}

#[test]
fn a_typed_claim_cannot_override_a_failed_run() {
    let repo = team_repo("week-claim");
    fill_medium(&repo, "w");
    let (code, run) = repo.json(&["gates", "run", "w", "--format", "json"]);
    assert_eq!((code, &run["passed"]), (1, &json!(false)), "{run}");
    let before = record(&repo, "w");

    // The claim is refused, and so is a pass without evidence and a hand-marked decision gate.
    let claim = repo.run(&["gate", "w", "code", "pass", "--evidence", "trust me"]);
    assert_eq!(claim.code, 2, "{claim:?}");
    assert!(claim.stderr.contains("gates run"), "{claim:?}");
    let bare = repo.run(&["gate", "w", "review", "pass"]);
    assert_eq!(bare.code, 2, "{bare:?}");
    assert!(bare.stderr.contains("needs evidence"), "{bare:?}");
    let decision_gate = repo.run(&["gate", "w", "decision", "pass", "--evidence", "x"]);
    assert_eq!(decision_gate.code, 2, "{decision_gate:?}");
    assert_eq!(record(&repo, "w"), before, "nothing was recorded");
    let (_, status) = repo.json(&["status", "w", "--format", "json"]);
    assert!(status["gates"][0]["result"].as_str().unwrap().starts_with("fail"), "{status}");

    // A person may override, explicitly: recorded, and reported as an error for medium risk.
    let out = repo.run(&[
        "gate",
        "w",
        "code",
        "pass",
        "--evidence",
        "ran the suite by hand",
        "--override",
        "--justification",
        "the check needs a file CI provides",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let (_, report) = repo.json(&["validate", "w", "--format", "json"]);
    assert!(codes(&report).contains(&"evidence-overridden".to_owned()), "{report}");
    let overridden = record(&repo, "w")["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(overridden["change"]["override_justification"], "the check needs a file CI provides");
    // The override shows wherever the gate does.
    let shown = record(&repo, "w")["gates"]["code"].as_str().unwrap().to_owned();
    assert!(shown.starts_with("pass (overridden by "), "{shown}");

    // A hand edit that makes the record say more than its history is reported.
    let path = repo.path().join(".release/decisions/w.json");
    let mut edited = record(&repo, "w");
    edited["gates"]["review"] = json!("pass (approved)");
    std::fs::write(&path, serde_json::to_string_pretty(&edited).unwrap()).unwrap();
    let (_, report) = repo.json(&["validate", "w", "--format", "json"]);
    assert!(codes(&report).contains(&"record-inconsistent".to_owned()), "{report}");

    // The same refusals over MCP.
    let repo = team_repo("week-claim-mcp");
    fill_medium(&repo, "m");
    let results = mcp_calls(
        repo.path(),
        &Transport::Stdio,
        &[
            json!({"tool": "run_code_gates", "arguments": {"id": "m", "actor": "codex"}}),
            json!({"tool": "record_gate", "arguments": {"id": "m", "layer": "code", "result": "pass",
                "evidence": ["trust me"], "actor": "codex"}}),
            json!({"tool": "record_gate", "arguments": {"id": "m", "layer": "decision", "result": "pass",
                "evidence": ["x"], "actor": "codex"}}),
            json!({"tool": "decision_status", "arguments": {"id": "m"}}),
        ],
    );
    assert_eq!(results[0]["structured"]["passed"], false, "{results:?}");
    assert_eq!(results[1]["is_error"], true, "{results:?}");
    assert!(results[1]["text"].as_str().unwrap().contains("run_code_gates"), "{results:?}");
    assert_eq!(results[2]["is_error"], true, "{results:?}");
    assert!(results[3]["structured"]["gates"][0]["result"].as_str().unwrap().starts_with("fail"));
}

#[test]
fn a_week_new_commits_one_owner_a_hotfix_an_expired_go_and_closing() {
    let repo = team_repo("week");
    fill_medium(&repo, "w");
    assert_eq!(repo.run(&["gates", "run", "w"]).code, 1);

    // A new commit after the draft: everything is stale, and the fix points to rebind.
    repo.commit(&[("ready", "yes\n")], "make the check pass");
    let (_, report) = repo.json(&["validate", "w", "--format", "json"]);
    let stale =
        report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "evidence-stale").unwrap();
    assert!(stale["message"].as_str().unwrap().contains("rebind"), "{report}");
    let again = repo.run(&["draft", "--scope", "api", "--risk", "medium", "--id", "w"]);
    assert!(again.stderr.contains("rebind"), "{again:?}");

    let (code, rebound) = repo.json(&["rebind", "w", "--format", "json"]);
    assert_eq!(code, 0, "{rebound}");
    assert_eq!(
        rebound["delta"],
        json!([{"path": "ready", "class": "medium", "rule": "default"}]),
        "{rebound}"
    );
    assert_eq!(rebound["stale"], json!(["code"]), "{rebound}");
    let stored = record(&repo, "w");
    assert_eq!(stored["binding"]["head"], repo.git(&["rev-parse", "HEAD"]));
    assert_eq!(stored["decision_owner"], "Priya Shah", "owners carry over");
    assert_eq!(repo.run(&["gates", "run", "w"]).code, 0);
    assert_eq!(repo.run(&["gate", "w", "review", "pass", "--evidence", "PR #7 approved by Lee"]).code, 0);

    // What a GO needs is shown before anyone tries: nothing is left for this medium-risk decision.
    let (_, status) = repo.json(&["status", "w", "--format", "json"]);
    assert_eq!(status["go_needs"], json!([]), "{status}");
    assert!(status["report"]["findings"].as_array().unwrap().iter().all(|f| f["code"] != "gate-unmarked"));

    // One decision owner: someone else's GO is refused and nothing is recorded.
    let other = repo.run(&["decide", "w", "--go", "--owner", "Lee Park"]);
    assert_eq!(other.code, 2, "{other:?}");
    assert!(other.stderr.contains("Priya Shah"), "{other:?}");
    assert_eq!(record(&repo, "w")["decision"], Value::Null);
    let go = repo.run(&["decide", "w", "--go", "--owner", "priya shah"]);
    assert_eq!(go.code, 0, "{go:?}");
    let (_, listed) = repo.json(&["list", "--format", "json"]);
    assert_eq!(listed["decisions"][0]["state"], "go", "{listed}");

    // A hotfix after GO: rebind, re-run, and the owner confirms again.
    repo.commit(&[("src/api.rs", "fn api() { /* fixed */ }\n")], "hotfix");
    let (code, _) = repo.json(&["validate", "w", "--format", "json"]);
    assert_eq!(code, 1, "a GO for the old head does not cover the hotfix");
    assert_eq!(repo.run(&["rebind", "w"]).code, 0);
    assert_eq!(repo.run(&["gates", "run", "w"]).code, 0);
    assert_eq!(repo.run(&["gate", "w", "review", "pass", "--evidence", "PR #8 approved by Lee"]).code, 0);
    assert_eq!(repo.run(&["decide", "w", "--go", "--owner", "Priya Shah"]).code, 0);
    let (code, report) = repo.json(&["validate", "w", "--format", "json"]);
    assert_eq!(code, 0, "{report}");

    // Four days later the medium-risk GO (valid 3 days) has expired; evidence age is judged at the GO.
    let decided: jiff::Timestamp = record(&repo, "w")["decided_at"].as_str().unwrap().parse().unwrap();
    let later = (decided + jiff::SignedDuration::from_hours(4 * 24)).to_string();
    let (code, report) = repo.json(&["validate", "w", "--format", "json", "--now", &later]);
    assert_eq!(code, 1);
    let errors: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(errors, ["decision-expired"], "no evidence-expired: {report}");

    // Deployed: closed, hidden from `list`, and it takes no more changes.
    assert_eq!(repo.run(&["close", "w", "--deployed", "--reason", "shipped at 14:00"]).code, 0);
    let (_, listed) = repo.json(&["list", "--format", "json"]);
    assert_eq!(listed["decisions"], json!([]), "{listed}");
    let (_, all) = repo.json(&["list", "--all", "--format", "json"]);
    assert_eq!(all["decisions"][0]["state"], "deployed", "{all}");
    let out = repo.run(&["gate", "w", "review", "pass", "--evidence", "late"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("closed"), "{out:?}");

    // A NO-GO takes a reason; a draft is abandoned, never deployed.
    fill_medium(&repo, "n");
    let out = repo.run(&["decide", "n", "--no-go", "--owner", "Priya Shah", "--reason", "load test failed"]);
    assert_eq!(out.code, 0, "{out:?}");
    let decided = record(&repo, "n")["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(decided["change"]["reason"], "load test failed");
    fill_medium(&repo, "d");
    assert_eq!(repo.run(&["close", "d", "--deployed"]).code, 2);
    assert_eq!(repo.run(&["close", "d", "--abandoned", "--reason", "scratch"]).code, 0);

    // The same life over MCP: a new commit, rebind_decision, status, close_decision.
    fill_medium(&repo, "m");
    repo.commit(&[("docs/notes.md", "notes\n")], "notes");
    let results = mcp_calls(
        repo.path(),
        &Transport::Stdio,
        &[
            json!({"tool": "rebind_decision", "arguments": {"id": "m", "actor": "codex"}}),
            json!({"tool": "decide", "arguments": {"id": "m", "call": "GO", "owner": "Lee Park", "actor": "codex"}}),
            json!({"tool": "close_decision", "arguments": {"id": "m", "outcome": "abandoned", "actor": "codex",
                "reason": "folded into w"}}),
            json!({"tool": "list_decisions", "arguments": {"all": true}}),
        ],
    );
    assert_eq!(results[0]["is_error"], false, "{results:?}");
    assert_eq!(results[0]["structured"]["delta"][0]["path"], "docs/notes.md", "{results:?}");
    assert_eq!(results[1]["is_error"], true, "{results:?}");
    assert!(results[1]["text"].as_str().unwrap().contains("Priya Shah"), "{results:?}");
    assert_eq!(results[2]["is_error"], false, "{results:?}");
    let states: Vec<&str> = results[3]["structured"]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["abandoned", "abandoned", "no-go", "deployed"], "{results:?}");
}
