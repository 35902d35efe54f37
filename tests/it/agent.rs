//! A whole high-risk release driven over MCP as an agent drives it, with the Python SDK's client on a real
//! repository: a failing then passing test suite, a real local service for the rehearsal, every act only a
//! person may do confirmed (or declined, or refused to a client that cannot ask), and the `steps` leading
//! from the draft to a signed GO that verifies.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{Value, json};

use crate::evidence::Service;
use crate::support::{GitRepo, TempDir, Transport, mcp_session};

const ACTOR: &str = "codex for Priya Shah";

/// One stdio session as the agent, the person behind the client answering `answer` as `name`.
fn session(repo: &GitRepo, key: &Path, person: Option<(&str, &str)>, calls: &[Value]) -> Vec<Value> {
    let key = key.display().to_string();
    mcp_session(repo.path(), &Transport::Stdio, &[("RELEASE_GATE_SIGNING_KEY", key.as_str())], person, calls)
}

fn call(tool: &str, arguments: Value) -> Value {
    json!({"tool": tool, "arguments": arguments})
}

fn record(repo: &GitRepo) -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo.path().join(".release/decisions/rel.json")).unwrap())
        .unwrap()
}

fn keypair(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    let key = dir.join(name);
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    (key, public.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
}

#[test]
fn an_agent_takes_a_high_risk_release_to_a_signed_go_and_only_the_person_decides() {
    let service = Service::start("agent-service");
    let repo = GitRepo::new("agent-release");
    let keys = TempDir::new("agent-keys");
    let (priya_key, priya) = keypair(keys.path(), "priya");
    let (lee_key, lee) = keypair(keys.path(), "lee");
    let policy = format!(
        "[[code_gates]]\nname = \"tests\"\ncommand = [\"test\", \"-e\", \"fixed\"]\n\n\
         [drill]\ncritical_commands = [\"true\"]\nfeature_flags = [\"true\"]\nrollback_command = [\"true\"]\n{}",
        service.policy("0.2", "30s")
    );
    let signers = format!(
        "\"Priya Shah\" namespaces=\"release-gate,release-gate-checkpoint\" {priya}\n\
         \"Lee Park\" namespaces=\"release-gate,release-gate-checkpoint\" {lee}\n"
    );
    repo.commit(
        &[
            (".release/policy.toml", policy.as_str()),
            (".release/allowed_signers", signers.as_str()),
            ("src/billing/invoice.rs", "fn invoice() {}\n"),
        ],
        "invoice rounding",
    );

    // The agent classifies, drafts with the class first, and runs the suite: it fails, and the steps say so.
    let results = session(
        &repo,
        &priya_key,
        Some(("accept", "Priya Shah")),
        &[
            call("classify_risk", json!({"base": "v1"})),
            call(
                "draft_decision",
                json!({"scope": "billing", "risk_class": "high", "base": "v1", "id": "rel", "actor": ACTOR}),
            ),
            call("run_code_gates", json!({"id": "rel", "actor": ACTOR})),
            call(
                "record_gate",
                json!({"id": "rel", "layer": "code", "result": "pass", "evidence": ["trust me"], "actor": ACTOR}),
            ),
            call("decision_status", json!({"id": "rel"})),
        ],
    );
    assert_eq!(results[0]["structured"]["suggested"], "high", "{results:?}");
    assert_eq!(results[1]["asked"], json!([]), "the class the diff suggests needs nobody: {results:?}");
    assert_eq!(results[2]["structured"]["passed"], false, "{results:?}");
    assert_eq!(results[3]["is_error"], true, "a typed pass over a failed run: {results:?}");
    let steps = results[4]["structured"]["steps"].as_array().unwrap();
    assert_eq!(steps[0]["blocker"], true, "{steps:?}");
    assert_eq!(steps[0]["tool"]["name"], "run_code_gates", "{steps:?}");
    assert!(steps.iter().any(|s| s["who"] == "person" && s["tool"]["name"] == "decide"), "{steps:?}");

    // The developer fixes the suite; the agent follows the new commit and gathers the rest of the evidence.
    repo.commit(&[("fixed", "yes\n")], "fix the suite");
    let results = session(
        &repo,
        &priya_key,
        Some(("accept", "Priya Shah")),
        &[
            call("rebind_decision", json!({"id": "rel", "actor": ACTOR})),
            call("run_code_gates", json!({"id": "rel", "actor": ACTOR})),
            call(
                "record_gate",
                json!({"id": "rel", "layer": "review", "result": "pass", "evidence": ["PR #9 approved by Lee Park"], "actor": ACTOR}),
            ),
            call(
                "record_gate",
                json!({"id": "rel", "layer": "operational", "result": "pass", "evidence": ["on-call briefed"], "actor": ACTOR}),
            ),
            call(
                "record_gate",
                json!({"id": "rel", "layer": "communication", "result": "pass", "evidence": ["status page draft"], "actor": ACTOR}),
            ),
            call(
                "set_decision_field",
                json!({"id": "rel", "field": "decision-owner", "values": ["Priya Shah"], "actor": ACTOR}),
            ),
            call(
                "set_decision_field",
                json!({"id": "rel", "field": "panel", "values": ["Priya Shah", "Lee Park"], "actor": ACTOR}),
            ),
            call(
                "set_decision_field",
                json!({"id": "rel", "field": "rollback-trigger", "values": ["invoice error rate > 2% for 5 minutes"], "actor": ACTOR}),
            ),
            call(
                "set_decision_field",
                json!({"id": "rel", "field": "rollback-owner", "values": ["Dana Ruiz"], "actor": ACTOR}),
            ),
            call(
                "set_decision_field",
                json!({"id": "rel", "field": "residual-risks", "values": ["none"], "actor": ACTOR}),
            ),
            call(
                "run_drill",
                json!({"id": "rel", "actor": ACTOR, "confirmations": [
                {"item": "dashboards", "evidence": ["grafana/invoices"]}, {"item": "pager", "evidence": ["Dana on call"]}]}),
            ),
            call("run_rehearsal", json!({"id": "rel", "actor": ACTOR})),
            call(
                "set_communication",
                json!({"id": "rel", "actor": ACTOR, "known_limitations": "none",
                "monitoring_focus": "invoice errors", "escalation": "#billing-oncall, Dana Ruiz"}),
            ),
            call("decision_status", json!({"id": "rel"})),
        ],
    );
    for (index, result) in results.iter().enumerate() {
        assert_eq!(result["is_error"], false, "call {index}: {result}");
    }
    assert_eq!(results[1]["structured"]["passed"], true, "{results:?}");
    // Naming the owner and the panel, and the rehearsal, asked the person; the rest did not.
    for index in [5, 6, 11] {
        assert_eq!(
            results[index]["asked"].as_array().unwrap().len(),
            1,
            "call {index}: {:?}",
            results[index]
        );
    }
    for index in [0, 1, 2, 7, 8, 9, 10, 12] {
        assert_eq!(results[index]["asked"], json!([]), "call {index}: {:?}", results[index]);
    }
    assert_eq!(results[11]["structured"]["passed"], true, "{:?}", results[11]);
    assert_eq!(service.get().as_deref(), Some("ok v1"), "the rehearsal rolled the service back");
    let status = &results[13]["structured"];
    assert_eq!(status["go_needs"], json!([]), "{status}");
    let steps = status["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "only the call is left: {steps:?}");
    assert_eq!(
        (&steps[0]["who"], &steps[0]["tool"]["name"]),
        (&json!("person"), &json!("decide")),
        "{steps:?}"
    );

    // The call is the person's: a client that cannot ask, and a decline, record nothing; an agent's own name
    // as the owner is refused; the person's confirmation records the GO.
    let go = call("decide", json!({"id": "rel", "call": "GO", "owner": "Priya Shah", "actor": ACTOR}));
    let before = record(&repo);
    let refused = session(&repo, &priya_key, None, std::slice::from_ref(&go));
    assert_eq!(refused[0]["is_error"], true, "{refused:?}");
    let declined = session(&repo, &priya_key, Some(("decline", "Priya Shah")), std::slice::from_ref(&go));
    assert_eq!(declined[0]["asked"].as_array().unwrap().len(), 1, "{declined:?}");
    assert_eq!(record(&repo), before, "nothing was recorded without the person");
    let agent = session(
        &repo,
        &priya_key,
        Some(("accept", "Priya Shah")),
        &[call(
            "set_decision_field",
            json!({"id": "rel", "field": "decision-owner", "values": ["codex"], "actor": ACTOR}),
        )],
    );
    assert_eq!(agent[0]["is_error"], true, "{agent:?}");
    let results = session(
        &repo,
        &priya_key,
        Some(("accept", "Priya Shah")),
        &[go.clone(), call("decision_status", json!({"id": "rel"}))],
    );
    assert_eq!(results[0]["structured"]["recorded"], true, "{results:?}");
    let decided = record(&repo)["history"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["change"]["type"] == "decided")
        .cloned()
        .unwrap();
    assert_eq!(decided["confirmed"]["by"], "Priya Shah", "{decided}");
    // After the GO, the steps name the signatures still missing.
    let steps = results[1]["structured"]["steps"].as_array().unwrap();
    let sign =
        steps.iter().find(|s| s["tool"]["name"] == "sign_decision").unwrap_or_else(|| panic!("{steps:?}"));
    assert_eq!(sign["who"], "person");
    assert!(sign["what"].as_str().unwrap().contains("Priya Shah, Lee Park"), "{sign}");

    // Each panel member signs with their own key; the signed GO verifies.
    let priya_signs = session(
        &repo,
        &priya_key,
        Some(("accept", "Priya Shah")),
        &[call("sign_decision", json!({"id": "rel"}))],
    );
    assert_eq!(priya_signs[0]["structured"]["signed"], true, "{priya_signs:?}");
    let lee_signs = session(
        &repo,
        &lee_key,
        Some(("accept", "Lee Park")),
        &[call("sign_decision", json!({"id": "rel"})), call("verify_decision", json!({"id": "rel"}))],
    );
    assert_eq!(lee_signs[0]["structured"]["signed"], true, "{lee_signs:?}");
    let failures = lee_signs[1]["structured"]["failures"].as_array().unwrap();
    assert!(failures.is_empty(), "the signed GO does not verify: {failures:?}");
}
