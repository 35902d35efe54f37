//! In-process tests of the repository tools over `tokio::io::duplex`, on real git repositories in temp
//! folders: classify, draft, status, record, decide, list, the evidence runs with progress, and resources.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};

use release_gate_mcp::{ReleaseGateServer, Root};
use rmcp::model::{
    ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction, ErrorCode, ProgressNotificationParam,
    ReadResourceRequestParams,
};
use rmcp::service::{NotificationContext, RequestContext, RoleClient, RunningService, ServiceError};
use rmcp::{ClientHandler, ErrorData};
use serde_json::{Value, json};
use support::{TempDir, call, git_init, invalid_arguments, run, tool_error};

const ACTOR: &str = "codex for Dana Lee";

/// A policy whose commands are harmless and quick; the code gate takes a moment, for progress.
const POLICY: &str = r#"[[code_gates]]
name = "ok"
command = ["sh", "-c", "sleep 0.3; echo hi"]

[drill]
critical_commands = ["sh", "-c", "echo smoke"]

[rehearsal]
apply = ["sh", "-c", "echo apply"]
trigger = ["sh", "-c", "touch .broken"]
rollback = ["sh", "-c", "rm -f .broken"]
check = ["sh", "-c", "test ! -e .broken"]
poll_interval = "1s"
detect_within = "10s"
max_recovery = "1m"
"#;

/// A real git repository in a temporary folder: one commit tagged `v1`, then a change to release.
struct GitRepo {
    dir: TempDir,
}

impl GitRepo {
    fn new(name: &str) -> GitRepo {
        let repo = GitRepo { dir: TempDir::new("release-gate-mcp-repo", name) };
        git_init(repo.path());
        repo.commit(&[("src/lib.rs", "fn main() {}\n")], "initial");
        repo.git(&["tag", "v1"]);
        repo.commit(&[("docs/guide.md", "# Guide\n")], "Document the invoice export");
        repo
    }

    /// The same, with the evidence policy committed.
    fn with_policy(name: &str) -> GitRepo {
        let repo = GitRepo::new(name);
        repo.commit(&[(".release/policy.toml", POLICY)], "Add the release policy");
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        run(self.path(), "git", args)
    }

    fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, content) in files {
            let full = self.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}

/// A client that keeps the progress notifications it receives, and where Dana Lee confirms every
/// person-only act the server asks about (each question kept).
#[derive(Debug, Clone, Default)]
struct Client {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    asked: Arc<Mutex<Vec<String>>>,
    /// Dana Lee declines instead.
    declines: bool,
}

impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        support::client_info(true)
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = request {
            self.asked.lock().unwrap().push(message);
        }
        if self.declines {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        }
        Ok(ElicitResult::new(ElicitationAction::Accept)
            .with_content(json!({"confirm": true, "name": "Dana Lee"})))
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }
}

async fn connect(dir: &Path) -> RunningService<RoleClient, Client> {
    connect_server(ReleaseGateServer::new(Root::new(dir).unwrap())).await
}

async fn connect_server(server: ReleaseGateServer) -> RunningService<RoleClient, Client> {
    support::connect(server, Client::default()).await
}

/// A successful tool result's structured content.
async fn ok(client: &RunningService<RoleClient, Client>, tool: &str, args: Value) -> Value {
    let result = call(client, tool, args.clone()).await.unwrap_or_else(|e| panic!("{tool} {args}: {e:?}"));
    assert_eq!(result["isError"], false, "{tool} {args}: {result}");
    // The text copy is the same object, for clients that read only text.
    let copy: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(copy, result["structuredContent"]);
    result["structuredContent"].clone()
}

async fn draft(client: &RunningService<RoleClient, Client>, id: &str) -> Value {
    ok(client, "draft_decision", json!({"id": id, "scope": "docs site", "risk_class": "low", "actor": ACTOR}))
        .await
}

fn stored(repo: &GitRepo, id: &str) -> Value {
    let text = std::fs::read_to_string(repo.path().join(format!(".release/decisions/{id}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_decision_goes_from_classify_to_a_recorded_call() {
    let repo = GitRepo::new("flow");
    let client = connect(repo.path()).await;

    let classified = ok(&client, "classify_risk", json!({})).await;
    assert_eq!(classified["files"][0]["path"], "docs/guide.md", "{classified}");
    assert_eq!(classified["suggested"], "low", "{classified}");

    let drafted = draft(&client, "docs-1").await;
    assert_eq!(
        (&drafted["id"], &drafted["file"]),
        (&json!("docs-1"), &json!(".release/decisions/docs-1.json"))
    );
    assert!(drafted["covers"].as_str().unwrap().starts_with("latest tag v1 "), "{drafted}");
    assert_eq!(drafted["warnings"], json!([]), "{drafted}");

    let record = stored(&repo, "docs-1");
    assert_eq!(record["risk_class"], "low", "{record}");
    // Who acted is in the history.
    assert!(record["history"].as_array().unwrap().iter().all(|e| e["actor"] == ACTOR), "{record}");

    let status = ok(&client, "decision_status", json!({"id": "docs-1"})).await;
    assert_eq!(status["id"], "docs-1");
    assert_eq!(status["risk_class"], "low");
    assert_eq!(status["release_commit"], repo.git(&["rev-parse", "HEAD"]));
    assert_eq!(status["gates"].as_array().unwrap().len(), 5);
    assert_eq!(status["report"]["verdict"], "fail");
    assert!(!status["next"].as_array().unwrap().is_empty(), "{status}");

    let gate = ok(
        &client,
        "record_gate",
        json!({"id": "docs-1", "layer": "review", "result": "pass", "evidence": ["PR #12 approved by Lee"], "actor": ACTOR}),
    )
    .await;
    assert_eq!(gate["id"], "docs-1");
    assert!(gate["gates"]["review"].as_str().unwrap().starts_with("pass"), "{gate}");
    assert_eq!(gate["change"], "gate-recorded", "{gate}");
    let last = stored(&repo, "docs-1")["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"], ACTOR, "{last}");

    let risk = ok(
        &client,
        "declare_risk",
        json!({"id": "docs-1", "risk_class": "medium", "justification": "touches the export", "actor": ACTOR}),
    )
    .await;
    assert_eq!(risk["risk_class"], "medium", "{risk}");
    assert_eq!(risk["change"], "risk-declared", "{risk}");
    assert_eq!(stored(&repo, "docs-1")["history"][4]["change"]["justification"], "touches the export");

    let trigger = ok(
        &client,
        "set_decision_field",
        json!({"id": "docs-1", "field": "rollback-trigger", "values": ["error rate > 2% for 5 minutes"], "actor": ACTOR}),
    )
    .await;
    assert_eq!(trigger["change"], "field-set", "{trigger}");
    assert_eq!(stored(&repo, "docs-1")["rollback_trigger"], json!(["error rate > 2% for 5 minutes"]));
    let owner = ok(
        &client,
        "set_decision_field",
        json!({"id": "docs-1", "field": "rollback-owner", "values": ["Lee Park"], "actor": ACTOR}),
    )
    .await;
    assert_eq!(owner["history_len"], trigger["history_len"].as_u64().unwrap() + 1, "{owner}");
    assert_eq!(stored(&repo, "docs-1")["rollback_owner"], "Lee Park");

    let comms = ok(
        &client,
        "set_communication",
        json!({"id": "docs-1", "known_limitations": "none known", "actor": ACTOR}),
    )
    .await;
    let package = &comms["communication"];
    assert_eq!(package["known_limitations"], "none known", "{comms}");
    // Prefilled from the commit subjects and the decision's trigger.
    assert_eq!(package["what_changed"], "Document the invoice export", "{comms}");
    assert_eq!(package["rollback_trigger_conditions"], "error rate > 2% for 5 minutes", "{comms}");

    let listed = ok(&client, "list_decisions", json!({})).await;
    assert_eq!(listed["decisions"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["decisions"][0]["id"], "docs-1");
    assert_eq!(listed["decisions"][0]["risk_class"], "medium");

    // The read tools take the stored decision by id.
    let report = ok(&client, "validate_decision", json!({"id": "docs-1"})).await;
    assert_eq!(report, status_report(&client, "docs-1").await);
    let audit = ok(&client, "audit_decision", json!({"id": "docs-1"})).await;
    assert_eq!(audit["ready"], false);
    let markdown = ok(&client, "render_decision", json!({"id": "docs-1", "to": "markdown"})).await;
    assert!(markdown["text"].as_str().unwrap().contains("error rate > 2% for 5 minutes"), "{markdown}");
    let at_v1 = call(&client, "validate_decision", json!({"id": "docs-1", "commit": "v1"})).await.unwrap();
    assert_eq!(at_v1["structuredContent"]["verdict"], "fail");
    // A blank `commit` is an omitted one (`HEAD`) in every tool that takes it (validate_decision refused it).
    for tool in ["validate_decision", "decision_status"] {
        let blank = ok(&client, tool, json!({"id": "docs-1", "commit": " "})).await;
        let omitted = ok(&client, tool, json!({"id": "docs-1"})).await;
        assert_eq!(blank, omitted, "{tool}");
    }
    let verified = ok(&client, "verify_decision", json!({"id": "docs-1", "commit": ""})).await;
    assert_eq!(verified, ok(&client, "verify_decision", json!({"id": "docs-1"})).await);

    // A GO that does not validate is a normal answer: not recorded, with the report.
    let go =
        ok(&client, "decide", json!({"id": "docs-1", "call": "GO", "owner": "Dana Lee", "actor": ACTOR}))
            .await;
    assert_eq!(go["recorded"], false, "{go}");
    assert_eq!(go["report"]["verdict"], "fail");
    assert!(!go["report"]["findings"].as_array().unwrap().is_empty());
    assert!(stored(&repo, "docs-1")["decision"].is_null(), "a refused GO left a trace");
    let no_go =
        ok(&client, "decide", json!({"id": "docs-1", "call": "NO-GO", "owner": "Dana Lee", "actor": ACTOR}))
            .await;
    assert_eq!(no_go["recorded"], true, "{no_go}");
    let record = stored(&repo, "docs-1");
    assert_eq!(record["decision"], "NO-GO", "{record}");
    assert_eq!(record["decision_owner"], "Dana Lee", "{record}");
}

async fn status_report(client: &RunningService<RoleClient, Client>, id: &str) -> Value {
    ok(client, "decision_status", json!({"id": id})).await["report"].clone()
}

#[tokio::test]
async fn stored_decisions_are_resources() {
    let repo = GitRepo::new("resources");
    let client = connect(repo.path()).await;
    draft(&client, "docs-2").await;
    let resources = serde_json::to_value(client.list_all_resources().await.unwrap()).unwrap();
    let uris: Vec<&str> = resources.as_array().unwrap().iter().map(|r| r["uri"].as_str().unwrap()).collect();
    assert_eq!(
        uris,
        [
            "release-gate://policy",
            "release-gate://rules",
            "release-gate://template",
            "release-gate://decisions/docs-2"
        ]
    );
    let templates = serde_json::to_value(client.list_all_resource_templates().await.unwrap()).unwrap();
    assert_eq!(templates[0]["uriTemplate"], "release-gate://decisions/{id}", "{templates}");

    let read = client
        .read_resource(ReadResourceRequestParams::new("release-gate://decisions/docs-2"))
        .await
        .unwrap();
    let contents = serde_json::to_value(read).unwrap()["contents"][0].clone();
    assert_eq!(contents["mimeType"], "application/json");
    let record: Value = serde_json::from_str(contents["text"].as_str().unwrap()).unwrap();
    assert_eq!(record, stored(&repo, "docs-2"));

    let missing = client.read_resource(ReadResourceRequestParams::new("release-gate://decisions/nope")).await;
    assert!(
        matches!(missing, Err(ServiceError::McpError(ref e)) if e.code == ErrorCode::RESOURCE_NOT_FOUND),
        "{missing:?}"
    );
    let unsafe_id =
        client.read_resource(ReadResourceRequestParams::new("release-gate://decisions/../x")).await;
    assert!(
        matches!(unsafe_id, Err(ServiceError::McpError(ref e)) if e.code == ErrorCode::INVALID_PARAMS),
        "{unsafe_id:?}"
    );
}

#[tokio::test]
async fn malformed_arguments_say_how_to_correct_them() {
    let repo = GitRepo::new("malformed");
    let client = connect(repo.path()).await;
    draft(&client, "docs-3").await;
    for tool in ["decision_status", "validate_decision", "audit_decision"] {
        invalid_arguments(call(&client, tool, json!({"id": "../x"})).await, "not a valid decision id");
    }
    invalid_arguments(
        call(
            &client,
            "record_gate",
            json!({"id": "../x", "layer": "code", "result": "pass", "actor": ACTOR}),
        )
        .await,
        "not a valid decision id",
    );
    invalid_arguments(
        call(
            &client,
            "record_gate",
            json!({"id": "docs-3", "layer": "security", "result": "pass", "actor": ACTOR}),
        )
        .await,
        "unknown variant",
    );
    invalid_arguments(
        call(
            &client,
            "record_gate",
            json!({"id": "docs-3", "layer": "code", "result": "maybe", "actor": ACTOR}),
        )
        .await,
        "unknown variant",
    );
    invalid_arguments(
        call(&client, "record_gate", json!({"id": "docs-3", "layer": "code", "result": "pass"})).await,
        "missing field `actor`",
    );
    invalid_arguments(
        call(
            &client,
            "record_gate",
            json!({"id": "docs-3", "layer": "code", "result": "pass", "actor": "  "}),
        )
        .await,
        "`actor` is empty",
    );
    invalid_arguments(
        call(&client, "decide", json!({"id": "docs-3", "call": "GO", "actor": ACTOR})).await,
        "missing field `owner`",
    );
    invalid_arguments(
        call(&client, "decide", json!({"id": "docs-3", "call": "yes", "owner": "Dana", "actor": ACTOR}))
            .await,
        "unknown variant",
    );
    invalid_arguments(
        call(
            &client,
            "draft_decision",
            json!({"scope": "x", "risk_class": "low", "actor": ACTOR, "id": "a/b"}),
        )
        .await,
        "not a valid decision id",
    );
    invalid_arguments(
        call(&client, "draft_decision", json!({"scope": "x", "actor": ACTOR})).await,
        "risk_class",
    );
    invalid_arguments(
        call(
            &client,
            "set_decision_field",
            json!({"id": "docs-3", "field": "decision", "values": ["GO"], "actor": ACTOR}),
        )
        .await,
        "unknown variant",
    );
    invalid_arguments(
        call(&client, "validate_decision", json!({"id": "docs-3", "content": "x"})).await,
        "not several",
    );
    invalid_arguments(
        call(&client, "validate_decision", json!({"content": "x", "commit": "HEAD"})).await,
        "`commit` applies only",
    );
    invalid_arguments(call(&client, "list_decisions", json!({"now": "soon"})).await, "`now`");
    // Nothing malformed was recorded.
    assert_eq!(stored(&repo, "docs-3")["history"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn operations_that_cannot_run_are_tool_errors_that_say_what_to_do() {
    let repo = GitRepo::new("cannot-run");
    let client = connect(repo.path()).await;
    tool_error(call(&client, "decision_status", json!({"id": "missing"})).await, "list_decisions");
    tool_error(
        call(
            &client,
            "record_gate",
            json!({"id": "missing", "layer": "code", "result": "pass", "actor": ACTOR}),
        )
        .await,
        "no stored decision `missing`",
    );
    tool_error(call(&client, "validate_decision", json!({"id": "missing"})).await, "no stored decision");
    draft(&client, "docs-4").await;
    tool_error(
        call(
            &client,
            "draft_decision",
            json!({"id": "docs-4", "scope": "x", "risk_class": "low", "actor": ACTOR}),
        )
        .await,
        "already exists",
    );
    tool_error(
        call(&client, "decision_status", json!({"id": "docs-4", "commit": "no-such-rev"})).await,
        "not a commit",
    );
    tool_error(
        call(
            &client,
            "draft_decision",
            json!({"scope": "x", "risk_class": "low", "actor": ACTOR, "base": "nope"}),
        )
        .await,
        "not a commit",
    );
    tool_error(
        call(&client, "decide", json!({"id": "docs-4", "call": "NO-GO", "owner": " ", "actor": ACTOR})).await,
        "name the final decision owner",
    );
    // No committed policy: nothing to run.
    tool_error(
        call(&client, "run_code_gates", json!({"id": "docs-4", "actor": ACTOR})).await,
        "no .release/policy.toml",
    );
    tool_error(
        call(&client, "run_rehearsal", json!({"id": "docs-4", "actor": ACTOR})).await,
        "no .release/policy.toml",
    );

    // Not a repository at all.
    let plain = std::env::temp_dir().join(format!("release-gate-mcp-plain-{}", std::process::id()));
    std::fs::create_dir_all(&plain).unwrap();
    let client = connect(&plain).await;
    for (tool, args) in [
        ("draft_decision", json!({"scope": "x", "risk_class": "low", "actor": ACTOR})),
        ("decision_status", json!({"id": "x"})),
        ("list_decisions", json!({})),
        ("classify_risk", json!({})),
    ] {
        tool_error(call(&client, tool, args).await, "not inside a git repository");
    }
    // The fixed resources are still there.
    let resources = client.list_all_resources().await.unwrap();
    assert_eq!(resources.len(), 3);
    let _ = std::fs::remove_dir_all(&plain);
}

#[tokio::test]
async fn a_run_longer_than_the_wait_goes_on_behind_a_handle() {
    let repo = GitRepo::with_policy("handle");
    let server = ReleaseGateServer::new(Root::new(repo.path()).unwrap())
        .with_runs(release_gate_mcp::Runs::new(std::time::Duration::from_millis(50)));
    let client = connect_server(server).await;
    draft(&client, "docs-h").await;

    // The check sleeps 0.3 s, longer than the 50 ms wait: a handle, no result yet.
    let started = ok(&client, "run_code_gates", json!({"id": "docs-h", "actor": ACTOR})).await;
    let run = started["run"]["run"].as_str().unwrap().to_owned();
    assert_eq!(started["run"]["state"], "running", "{started}");
    assert_eq!(started["run"]["id"], "docs-h", "{started}");
    assert!(started.get("passed").is_none(), "{started}");
    // Another run for the same decision waits for this one.
    tool_error(call(&client, "run_code_gates", json!({"id": "docs-h", "actor": ACTOR})).await, &run);

    let mut status = json!(null);
    for _ in 0..200 {
        status = ok(&client, "run_status", json!({"run": run})).await;
        if status["state"] != "running" {
            break;
        }
    }
    assert_eq!(status["state"], "done", "{status}");
    assert_eq!(status["result"]["passed"], true, "{status}");
    assert_eq!(status["result"]["checks"][0]["output_tail"], "hi", "{status}");
    let gates = ok(&client, "decision_status", json!({"id": "docs-h"})).await;
    assert!(gates["gates"][0]["result"].as_str().unwrap().starts_with("pass"), "{gates}");
    let recorded = |repo: &GitRepo| {
        stored(repo, "docs-h")["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|event| event["change"]["type"] == "gate-recorded")
            .count()
    };
    assert_eq!(recorded(&repo), 1);

    // Cancelled through run_status: stopped, nothing recorded.
    let again = ok(&client, "run_code_gates", json!({"id": "docs-h", "actor": ACTOR})).await;
    let second = again["run"]["run"].as_str().unwrap().to_owned();
    assert_ne!(second, run);
    let cancelled = ok(&client, "run_status", json!({"run": second, "cancel": true})).await;
    assert_eq!(cancelled["state"], "cancelled", "{cancelled}");
    assert!(cancelled["error"].as_str().unwrap().contains("nothing was recorded"), "{cancelled}");
    assert_eq!(recorded(&repo), 1);

    invalid_arguments(call(&client, "run_status", json!({"run": "run-99-x"})).await, "no run `run-99-x`");
}

#[tokio::test]
async fn code_gates_run_from_the_committed_policy_with_progress() {
    let repo = GitRepo::with_policy("gates");
    let client = connect(repo.path()).await;
    draft(&client, "docs-5").await;

    let run = ok(&client, "run_code_gates", json!({"id": "docs-5", "actor": ACTOR})).await;
    assert_eq!(run["passed"], true, "{run}");
    assert_eq!(run["commit"], repo.git(&["rev-parse", "HEAD"]));
    assert_eq!(run["checks"][0]["name"], "ok");
    assert_eq!(run["checks"][0]["output_tail"], "hi", "{run}");
    assert!(run["checks"][0]["duration_ms"].as_u64().unwrap() >= 300, "{run}");

    // rmcp's client always sends a progress token; the server reported the check starting and finishing.
    let mut progress = Vec::new();
    for _ in 0..100 {
        progress = client.service().progress.lock().unwrap().clone();
        if progress.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(progress.len() >= 2, "{progress:?}");
    assert!(progress.windows(2).all(|pair| pair[0].progress < pair[1].progress), "{progress:?}");
    assert!(progress.iter().all(|p| p.total == Some(1.0)), "{progress:?}");
    assert_eq!(progress[0].progress, 0.0);
    assert_eq!(progress[0].message.as_deref(), Some("running `ok` (1 of 1)"));
    let last = progress.last().unwrap();
    assert_eq!(last.progress, 1.0);
    assert!(last.message.as_deref().unwrap().starts_with("`ok` ok in"), "{last:?}");

    let status = ok(&client, "decision_status", json!({"id": "docs-5"})).await;
    let code = &status["gates"][0];
    assert_eq!(code["layer"], "code");
    assert!(code["result"].as_str().unwrap().starts_with("pass"), "{code}");
    assert_eq!(code["evidence"]["actor"], ACTOR);
    assert_eq!(code["evidence"]["fresh"], true);
}

#[tokio::test]
async fn no_argument_can_name_a_command() {
    let repo = GitRepo::with_policy("no-command");
    let client = connect(repo.path()).await;
    draft(&client, "docs-6").await;
    let history = stored(&repo, "docs-6")["history"].as_array().unwrap().len();
    for (tool, field) in [
        ("run_code_gates", "command"),
        ("run_drill", "command"),
        ("run_rehearsal", "rollback"),
        ("run_rehearsal", "command"),
    ] {
        let mut args = json!({"id": "docs-6", "actor": ACTOR});
        args[field] = json!(["sh", "-c", "touch pwned"]);
        invalid_arguments(call(&client, tool, args).await, "unknown field");
    }
    invalid_arguments(
        call(
            &client,
            "run_drill",
            json!({"id": "docs-6", "actor": ACTOR,
            "confirmations": [{"item": "pager", "evidence": ["x"], "command": ["touch", "pwned"]}]}),
        )
        .await,
        "unknown field",
    );
    assert!(!repo.path().join("pwned").exists(), "a command from an argument ran");
    assert_eq!(
        stored(&repo, "docs-6")["history"].as_array().unwrap().len(),
        history,
        "something was recorded"
    );
    assert!(client.service().progress.lock().unwrap().is_empty(), "something ran");
}

#[tokio::test]
async fn drill_and_rehearsal_record_their_evidence() {
    let repo = GitRepo::with_policy("drill");
    let client = connect(repo.path()).await;
    draft(&client, "docs-7").await;

    let drill = ok(
        &client,
        "run_drill",
        json!({"id": "docs-7", "actor": ACTOR,
            "confirmations": [{"item": "pager", "evidence": ["schedule shows Dana and Lee"]}]}),
    )
    .await;
    let items = drill["drill"].as_array().unwrap();
    let checked: Vec<bool> = items.iter().map(|item| item["checked"].as_bool().unwrap()).collect();
    assert_eq!(items.len(), 5, "{drill}");
    // critical commands ran, pager confirmed; the rest stay open.
    assert_eq!(checked, [true, false, false, false, true], "{drill}");

    // An item the policy runs cannot be confirmed by hand.
    tool_error(
        call(
            &client,
            "run_drill",
            json!({"id": "docs-7", "actor": ACTOR,
            "confirmations": [{"item": "critical-commands", "evidence": ["trust me"]}]}),
        )
        .await,
        "is run, not confirmed by hand",
    );

    let rehearsal =
        ok(&client, "run_rehearsal", json!({"id": "docs-7", "actor": ACTOR, "friction": ["slow deploy"]}))
            .await;
    assert_eq!(rehearsal["passed"], true, "{rehearsal}");
    assert_eq!(rehearsal["steps"].as_array().unwrap().len(), 5, "{rehearsal}");
    assert!(rehearsal["detection_ms"].as_u64().is_some(), "{rehearsal}");
    assert!(rehearsal["recovery_ms"].as_u64().is_some(), "{rehearsal}");
    let record = stored(&repo, "docs-7");
    assert!(record.to_string().contains("slow deploy"), "{record}");

    // Friction noted afterwards, without running anything again; and the operational facts.
    let noted = ok(
        &client,
        "note_friction",
        json!({"id": "docs-7", "notes": ["the runbook named the old service"], "actor": ACTOR}),
    )
    .await;
    assert_eq!(noted["change"], "friction-noted", "{noted}");
    assert_eq!(
        noted["rehearsal"]["friction_points"], "slow deploy\nthe runbook named the old service",
        "{noted}"
    );
    invalid_arguments(
        call(&client, "note_friction", json!({"id": "docs-7", "notes": [" "], "actor": ACTOR})).await,
        "empty",
    );
    let ops = ok(
        &client,
        "set_operations",
        json!({"id": "docs-7", "on_call": "Dana Lee", "release_window": "Tue 10:00-12:00 UTC", "actor": ACTOR}),
    )
    .await;
    assert_eq!(ops["operations"]["on_call"], "Dana Lee", "{ops}");
    assert_eq!(ops["operations"]["backup_owner"], serde_json::Value::Null, "{ops}");
    assert_eq!(stored(&repo, "docs-7")["operations"]["release_window"], "Tue 10:00-12:00 UTC");
    invalid_arguments(
        call(&client, "set_operations", json!({"id": "docs-7", "command": "sh", "actor": ACTOR})).await,
        "command",
    );

    // A dirty work tree: the evidence would not be for a commit.
    std::fs::write(repo.path().join("src/lib.rs"), "fn main() { changed() }\n").unwrap();
    for tool in ["run_code_gates", "run_drill", "run_rehearsal"] {
        tool_error(call(&client, tool, json!({"id": "docs-7", "actor": ACTOR})).await, "uncommitted changes");
    }
}

#[tokio::test]
async fn a_draft_below_the_suggested_class_warns_the_agent() {
    let repo = GitRepo::new("below");
    repo.commit(&[("src/auth/session.rs", "fn login() {}\n")], "Sessions");
    let client = connect(repo.path()).await;
    let drafted = ok(
        &client,
        "draft_decision",
        json!({"id": "low-1", "scope": "auth", "risk_class": "low", "actor": ACTOR}),
    )
    .await;
    let warning = drafted["warnings"][0].as_str().unwrap_or_default();
    assert!(warning.contains("below the high the diff suggests"), "{drafted}");
    assert!(warning.contains("src/auth/session.rs") && warning.contains("risk-below-suggested"), "{drafted}");
    client.cancel().await.unwrap();
}

/// The last event of a stored decision's history.
fn last_event(repo: &GitRepo, id: &str) -> Value {
    stored(repo, id)["history"].as_array().unwrap().last().unwrap().clone()
}

#[tokio::test]
async fn person_only_acts_ask_the_person_and_the_history_names_who_confirmed() {
    let repo = GitRepo::new("person");
    repo.commit(&[("src/auth/session.rs", "fn login() {}\n")], "Sessions");
    let client = connect(repo.path()).await;
    let asked = client.service().asked.clone();
    let dana = json!({"how": "elicitation", "by": "Dana Lee", "client": "test"});

    // The class the diff suggests, and fields anyone may set: nobody is asked, nothing says confirmed.
    ok(
        &client,
        "draft_decision",
        json!({"id": "p-1", "scope": "auth", "risk_class": "high", "actor": ACTOR}),
    )
    .await;
    let args = json!({"id": "p-1", "field": "rollback-owner", "values": ["Lee Park"], "actor": ACTOR});
    ok(&client, "set_decision_field", args).await;
    assert!(asked.lock().unwrap().is_empty());
    assert!(stored(&repo, "p-1")["history"].as_array().unwrap().iter().all(|e| e.get("confirmed").is_none()));

    // Below the suggestion: the person is asked, and the history says who confirmed and how.
    let args = json!({"id": "p-1", "risk_class": "low", "justification": "copy only", "actor": ACTOR});
    ok(&client, "declare_risk", args).await;
    assert!(asked.lock().unwrap()[0].contains("below the high"), "{:?}", asked.lock().unwrap());
    assert_eq!(last_event(&repo, "p-1")["confirmed"], dana);

    // An owner or panel member who is the agent is refused before anyone is asked.
    for (field, name) in [("decision-owner", "codex"), ("panel", "Claude"), ("decision-owner", ACTOR)] {
        let args = json!({"id": "p-1", "field": field, "values": [name], "actor": ACTOR});
        invalid_arguments(call(&client, "set_decision_field", args).await, "is an agent");
    }
    for owner in ["copilot", "codex"] {
        let args = json!({"id": "p-1", "call": "NO-GO", "owner": owner, "actor": ACTOR});
        invalid_arguments(call(&client, "decide", args).await, "is an agent");
    }
    assert_eq!(asked.lock().unwrap().len(), 1);

    let args = json!({"id": "p-1", "field": "decision-owner", "values": ["Priya Shah"], "actor": ACTOR});
    ok(&client, "set_decision_field", args).await;
    assert!(asked.lock().unwrap()[1].contains("Priya Shah"));
    assert_eq!(last_event(&repo, "p-1")["confirmed"], dana);

    // decide shows the call, the decision, the owner, the commit and what a GO would meet.
    let args =
        json!({"id": "p-1", "call": "NO-GO", "owner": "Priya Shah", "reason": "tests fail", "actor": ACTOR});
    let decided = ok(&client, "decide", args).await;
    assert_eq!(decided["recorded"], true, "{decided}");
    let question = asked.lock().unwrap()[2].clone();
    let head = repo.git(&["rev-parse", "HEAD"]);
    for part in ["NO-GO", "`p-1`", "Priya Shah", head.as_str(), "a GO would meet"] {
        assert!(question.contains(part), "{part:?} not in {question}");
    }
    let last = last_event(&repo, "p-1");
    assert_eq!(last["confirmed"], dana, "{last}");
    assert_eq!(last["change"]["type"], "decided", "{last}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_declined_person_only_act_records_and_runs_nothing() {
    let repo = GitRepo::with_policy("person-declines");
    let server = ReleaseGateServer::new(Root::new(repo.path()).unwrap());
    let client = support::connect(server, Client { declines: true, ..Client::default() }).await;
    draft(&client, "d-1").await;
    let before = stored(&repo, "d-1");
    for (tool, args) in [
        ("decide", json!({"id": "d-1", "call": "GO", "owner": "Priya Shah", "actor": ACTOR})),
        ("decide", json!({"id": "d-1", "call": "NO-GO", "owner": "Priya Shah", "actor": ACTOR})),
        (
            "set_decision_field",
            json!({"id": "d-1", "field": "panel", "values": ["Priya Shah"], "actor": ACTOR}),
        ),
        ("run_rehearsal", json!({"id": "d-1", "actor": ACTOR})),
    ] {
        tool_error(call(&client, tool, args).await, "did not confirm");
    }
    assert_eq!(client.service().asked.lock().unwrap().len(), 4);
    assert_eq!(stored(&repo, "d-1"), before, "a declined act changed the record");
    assert!(!repo.path().join(".broken").exists(), "the rehearsal ran");
    client.cancel().await.unwrap();
}
