//! In-process tests of the MCP server: an rmcp client over `tokio::io::duplex`, every tool, prompt and resource.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

mod support;

use release_gate_mcp::{LineTransport, ReleaseGateServer, Root};
use rmcp::model::{ErrorCode, GetPromptRequestParams, ReadResourceRequestParams};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use serde_json::{Value, json};
use support::{call, invalid_arguments, tool_error};

const NOW: &str = "2026-11-28T12:00:00Z";

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// A temporary repository root with a decision, a policy, and paths that try to leave it.
struct Fixture {
    dir: PathBuf,
}

impl Fixture {
    fn new(name: &str, policy: Option<&str>) -> Fixture {
        let dir = std::env::temp_dir().join(format!("release-gate-mcp-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        std::fs::copy(repo().join("examples/release-decision.md"), dir.join("docs/release.md")).unwrap();
        std::fs::copy(repo().join("examples/draft.md"), dir.join("docs/draft.md")).unwrap();
        std::fs::write(dir.join("docs/latin1.md"), b"### Release Decision\n\n- Release scope: caf\xe9\n")
            .unwrap();
        std::fs::write(dir.join("docs/notes.md"), "# Notes\n\nNo decision here.\n").unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.join("docs/escape.md")).unwrap();
        std::os::unix::fs::symlink("release.md", dir.join("docs/inside.md")).unwrap();
        if let Some(policy) = policy {
            std::fs::create_dir_all(dir.join(".release")).unwrap();
            std::fs::write(dir.join(".release/policy.toml"), policy).unwrap();
        }
        Fixture { dir }
    }

    async fn client(&self) -> RunningService<RoleClient, ()> {
        support::connect(ReleaseGateServer::new(Root::new(&self.dir).unwrap()), ()).await
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn server_identifies_itself_with_instructions() {
    let fixture = Fixture::new("info", None);
    let client = fixture.client().await;
    let info = client.peer_info().unwrap();
    let info = serde_json::to_value(&*info).unwrap();
    assert_eq!(info["serverInfo"]["name"], "release-gate");
    assert_eq!(info["serverInfo"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(info["instructions"].as_str().unwrap().contains("validate_decision"));
    for capability in ["tools", "prompts", "resources"] {
        assert!(info["capabilities"][capability].is_object(), "{info}");
    }
}

#[tokio::test]
async fn tools_list_is_a_reviewed_surface() {
    let fixture = Fixture::new("list", None);
    let client = fixture.client().await;
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
    assert_eq!(names, release_gate_mcp::TOOL_NAMES);
    let read_only = [
        "audit_decision",
        "check_setup",
        "classify_risk",
        "decision_status",
        "list_decisions",
        "render_decision",
        "validate_decision",
        "verify_decision",
    ];
    // Tools that record a person's call or sign-off, or act on an environment: a client asks first.
    let destructive = ["decide", "run_rehearsal", "sign_decision", "start_watch"];
    for tool in &tools {
        let name = tool.name.as_ref();
        let annotations = tool.annotations.as_ref().unwrap();
        // A hint left out means the protocol's default: not read-only, destructive.
        assert_eq!(annotations.read_only_hint.unwrap_or(false), read_only.contains(&name), "{name}");
        assert_eq!(annotations.destructive_hint.unwrap_or(true), destructive.contains(&name), "{name}");
        assert!(annotations.title.is_some(), "{name} has no title");
        assert!(tool.output_schema.is_some(), "{name} has no output schema");
        assert_eq!(tool.output_schema.as_ref().unwrap()["type"], "object", "{name}");
        // Tools that record say who for.
        let required = tool.input_schema.get("required").cloned().unwrap_or_default();
        // A signature records its signer's key and principal, not an `actor`.
        // `run_status` only follows or cancels a run; the run recorded its own actor.
        let records = !read_only.contains(&name) && name != "sign_decision" && name != "run_status";
        assert_eq!(
            serde_json::to_value(&required).unwrap().as_array().is_some_and(|r| r.contains(&json!("actor"))),
            records,
            "{name}: `actor` required iff the tool records"
        );
    }
    // Descriptions say what the tool does, where that can be checked: the audit asks exactly the core's
    // five questions, and no other.
    let audit = tools.iter().find(|tool| tool.name == "audit_decision").unwrap();
    let description = audit.description.as_deref().unwrap();
    for question in release_gate_core::audit::Question::ALL {
        assert!(description.contains(question.text()), "{question:?} is not in: {description}");
    }
    assert_eq!(
        description.matches('?').count(),
        release_gate_core::audit::Question::ALL.len(),
        "{description}"
    );
    insta::assert_json_snapshot!("tools_list", tools);
}

#[tokio::test]
async fn validate_gives_the_cli_report_for_path_and_content() {
    let fixture = Fixture::new("validate", None);
    let client = fixture.client().await;
    let ready =
        call(&client, "validate_decision", json!({"path": "docs/release.md", "now": NOW})).await.unwrap();
    assert_eq!(ready["isError"], false);
    assert_eq!(
        ready["structuredContent"],
        json!({"verdict": "pass", "risk_class": "high", "decision": "GO", "findings": []})
    );

    let text = std::fs::read_to_string(fixture.dir.join("docs/draft.md")).unwrap();
    let draft = call(&client, "validate_decision", json!({"content": text, "now": NOW})).await.unwrap();
    // Not ready is an answer, not an error.
    assert_eq!(draft["isError"], false);
    let report = &draft["structuredContent"];
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["risk_class"], "medium");
    assert_eq!(
        report["findings"][0],
        json!({"code": "gate-unmarked", "severity": "error", "line": 7,
        "message": "The review gate is not marked: evaluate it and mark it pass, fail or n/a."})
    );
    // The text copy is the same object, for clients that read only text.
    let copy: Value = serde_json::from_str(draft["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(&copy, report);

    // A symbolic link that stays inside the root is followed.
    let inside =
        call(&client, "validate_decision", json!({"path": "docs/inside.md", "now": NOW})).await.unwrap();
    assert_eq!(inside["structuredContent"]["verdict"], "pass");
    // An absolute path inside the root is accepted.
    let absolute = fixture.dir.canonicalize().unwrap().join("docs/release.md");
    let absolute = call(&client, "validate_decision", json!({"path": absolute, "now": NOW})).await.unwrap();
    assert_eq!(absolute["structuredContent"]["verdict"], "pass");
}

#[tokio::test]
async fn validate_uses_the_root_policy() {
    let policy = "version = 1\n\n[findings]\n\"rollback-trigger-vague\" = \"off\"\n";
    let fixture = Fixture::new("policy", Some(policy));
    let client = fixture.client().await;
    let draft =
        call(&client, "validate_decision", json!({"path": "docs/draft.md", "now": NOW})).await.unwrap();
    let codes: Vec<&str> = draft["structuredContent"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"rollback-trigger-vague"), "{codes:?}");
    assert!(codes.contains(&"gate-unmarked"), "{codes:?}");

    let resource =
        client.read_resource(ReadResourceRequestParams::new("release-gate://policy")).await.unwrap();
    let resource = serde_json::to_value(resource).unwrap();
    assert_eq!(resource["contents"][0]["text"], policy);
}

#[tokio::test]
async fn a_bad_policy_is_a_tool_error() {
    let fixture = Fixture::new("bad-policy", Some("version = 99\n"));
    let client = fixture.client().await;
    tool_error(
        call(&client, "validate_decision", json!({"path": "docs/release.md"})).await,
        ".release/policy.toml",
    );
}

#[tokio::test]
async fn validate_answers_malformed_arguments_with_how_to_correct_them() {
    let fixture = Fixture::new("malformed", None);
    let client = fixture.client().await;
    invalid_arguments(call(&client, "validate_decision", json!({})).await, "pass the decision as `content`");
    invalid_arguments(
        call(&client, "validate_decision", json!({"content": "x", "path": "y"})).await,
        "not several",
    );
    invalid_arguments(call(&client, "validate_decision", json!({"content": 5})).await, "invalid type");
    invalid_arguments(
        call(&client, "validate_decision", json!({"file": "docs/release.md"})).await,
        "unknown field",
    );
    invalid_arguments(
        call(&client, "validate_decision", json!({"path": "docs/release.md", "now": "yesterday"})).await,
        "`now`",
    );
    invalid_arguments(
        call(&client, "render_decision", json!({"path": "docs/release.md", "to": "pdf"})).await,
        "unknown variant",
    );
    invalid_arguments(
        call(&client, "render_decision", json!({"path": "docs/release.md"})).await,
        "missing field `to`",
    );
    // The connection is still good.
    let ok =
        call(&client, "validate_decision", json!({"path": "docs/release.md", "now": NOW})).await.unwrap();
    assert_eq!(ok["structuredContent"]["verdict"], "pass");
}

#[tokio::test]
async fn paths_cannot_leave_the_root() {
    let fixture = Fixture::new("escape", None);
    let client = fixture.client().await;
    for path in ["../x", "docs/../../etc/passwd", "/etc/passwd", "/nonexistent/file.md", "docs/escape.md"] {
        invalid_arguments(
            call(&client, "validate_decision", json!({"path": path})).await,
            "outside the repository root",
        );
        invalid_arguments(
            call(&client, "audit_decision", json!({"path": path})).await,
            "outside the repository root",
        );
    }
    invalid_arguments(call(&client, "validate_decision", json!({"path": ""})).await, "`path` is empty");
}

#[tokio::test]
async fn unreadable_decisions_are_tool_errors_that_say_what_to_do() {
    let fixture = Fixture::new("unreadable", None);
    let client = fixture.client().await;
    for tool in ["validate_decision", "audit_decision"] {
        tool_error(call(&client, tool, json!({"path": "docs/missing.md"})).await, "Check the path");
        tool_error(call(&client, tool, json!({"path": "docs"})).await, "not a regular file");
        tool_error(
            call(&client, tool, json!({"path": "docs/notes.md"})).await,
            "`### Release Decision` section",
        );
        tool_error(call(&client, tool, json!({"path": "docs/latin1.md"})).await, "not valid UTF-8");
        tool_error(call(&client, tool, json!({"content": "{ not json"})).await, "cannot read a decision");
    }
    tool_error(
        call(&client, "render_decision", json!({"content": "plain text", "to": "json"})).await,
        "Release Decision",
    );
    let big = "a".repeat(release_gate_core::MAX_INPUT_BYTES + 1);
    tool_error(call(&client, "validate_decision", json!({"content": big})).await, "at most 10 MiB");
    std::fs::write(fixture.dir.join("docs/big.md"), "a".repeat(release_gate_core::MAX_INPUT_BYTES + 1))
        .unwrap();
    tool_error(call(&client, "audit_decision", json!({"path": "docs/big.md"})).await, "larger than 10 MiB");
}

#[tokio::test]
async fn audit_answers_the_five_questions() {
    let fixture = Fixture::new("audit", None);
    let client = fixture.client().await;
    let ready = call(&client, "audit_decision", json!({"path": "docs/release.md"})).await.unwrap();
    assert_eq!(ready["isError"], false);
    assert_eq!(ready["structuredContent"]["ready"], true);
    assert_eq!(ready["structuredContent"]["answers"].as_array().unwrap().len(), 5);
    let draft = call(&client, "audit_decision", json!({"path": "docs/draft.md"})).await.unwrap();
    assert_eq!(draft["structuredContent"]["ready"], false);
}

#[tokio::test]
async fn render_converts_both_ways_losslessly() {
    let fixture = Fixture::new("render", None);
    let client = fixture.client().await;
    let json_form =
        call(&client, "render_decision", json!({"path": "docs/release.md", "to": "json"})).await.unwrap();
    let record = json_form["structuredContent"]["text"].as_str().unwrap().to_owned();
    assert_eq!(serde_json::from_str::<Value>(&record).unwrap()["risk_class"], "high (touches billing)");
    let markdown =
        call(&client, "render_decision", json!({"content": record, "to": "markdown"})).await.unwrap();
    let markdown = markdown["structuredContent"]["text"].as_str().unwrap().to_owned();
    assert!(markdown.starts_with("### Release Decision\n"), "{markdown}");
    let again = call(&client, "render_decision", json!({"content": markdown, "to": "json"})).await.unwrap();
    assert_eq!(again["structuredContent"]["text"], record);
}

#[tokio::test]
async fn prompts_walk_the_protocol() {
    let fixture = Fixture::new("prompts", None);
    let client = fixture.client().await;
    let prompts = client.list_all_prompts().await.unwrap();
    let prompts = serde_json::to_value(prompts).unwrap();
    let names: Vec<&str> = prompts.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["release_readiness_review", "rollback_rehearsal_plan"]);
    let rehearsal_args = &prompts[1]["arguments"];
    assert!(
        rehearsal_args.as_array().unwrap().iter().any(|a| a["name"] == "service" && a["required"] == true),
        "{rehearsal_args}"
    );

    let review = client
        .get_prompt(GetPromptRequestParams::new("release_readiness_review").with_arguments(
            json!({"path": "docs/release.md", "scope": "billing-api"}).as_object().unwrap().clone(),
        ))
        .await
        .unwrap();
    let text =
        serde_json::to_value(review).unwrap()["messages"][0]["content"]["text"].as_str().unwrap().to_owned();
    for needle in [
        "docs/release.md",
        "billing-api",
        "risk class declared first",
        "validate_decision",
        "GO / NO-GO",
        "decision_status",
        "run_code_gates",
    ] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
    let bare = client.get_prompt(GetPromptRequestParams::new("release_readiness_review")).await.unwrap();
    let text =
        serde_json::to_value(bare).unwrap()["messages"][0]["content"]["text"].as_str().unwrap().to_owned();
    assert!(text.contains("release-gate://template"), "{text}");

    let plan = client
        .get_prompt(GetPromptRequestParams::new("rollback_rehearsal_plan").with_arguments(
            json!({"service": "billing-api", "rollback_command": "deploy rollback billing-api", "environment": "staging"})
                .as_object()
                .unwrap()
                .clone(),
        ))
        .await
        .unwrap();
    let text =
        serde_json::to_value(plan).unwrap()["messages"][0]["content"]["text"].as_str().unwrap().to_owned();
    for needle in [
        "billing-api",
        "staging",
        "`deploy rollback billing-api`",
        "1. Apply the candidate build",
        "2. Simulate the rollback trigger",
        "3. Execute the rollback path",
        "4. Confirm the service recovers and alerts normalize",
        "5. Record the recovery time and the friction points",
        "`run_rehearsal`",
    ] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
    // A required argument missing is a protocol error.
    let missing = client.get_prompt(GetPromptRequestParams::new("rollback_rehearsal_plan")).await;
    assert!(
        matches!(missing, Err(ServiceError::McpError(ref e)) if e.code == ErrorCode::INVALID_PARAMS),
        "{missing:?}"
    );
    let unknown = client.get_prompt(GetPromptRequestParams::new("no_such_prompt")).await;
    assert!(matches!(unknown, Err(ServiceError::McpError(_))), "{unknown:?}");
}

#[tokio::test]
async fn resources_serve_policy_rules_and_template() {
    let fixture = Fixture::new("resources", None);
    let client = fixture.client().await;
    let resources = serde_json::to_value(client.list_all_resources().await.unwrap()).unwrap();
    let uris: Vec<&str> = resources.as_array().unwrap().iter().map(|r| r["uri"].as_str().unwrap()).collect();
    assert_eq!(uris, ["release-gate://policy", "release-gate://rules", "release-gate://template"]);

    let read = |uri: &'static str| {
        let client = &client;
        async move {
            let result = client.read_resource(ReadResourceRequestParams::new(uri)).await.unwrap();
            serde_json::to_value(result).unwrap()["contents"][0].clone()
        }
    };
    let policy = read("release-gate://policy").await;
    assert_eq!(policy["text"], release_gate_core::policy::DEFAULT_POLICY_TOML);
    assert_eq!(policy["mimeType"], "application/toml");

    let rules = read("release-gate://rules").await;
    let rules: Value = serde_json::from_str(rules["text"].as_str().unwrap()).unwrap();
    let rules = rules.as_array().unwrap();
    assert_eq!(rules.len(), release_gate_core::Code::ALL.len());
    for (rule, code) in rules.iter().zip(release_gate_core::Code::ALL) {
        assert_eq!(rule["code"], code.as_str());
        assert_eq!(rule["severity"], code.default_severity().as_str());
        assert_eq!(rule["meaning"], code.meaning());
        assert_eq!(rule["fix"], code.fix());
    }

    let template = read("release-gate://template").await;
    assert_eq!(template["mimeType"], "text/markdown");
    let text = template["text"].as_str().unwrap();
    // The template reads as a decision, and every placeholder counts as missing.
    let document = release_gate_core::read_document(text.as_bytes()).unwrap();
    let report = release_gate_core::validate(
        &document,
        &release_gate_core::Policy::default(),
        jiff::Timestamp::UNIX_EPOCH,
    );
    let codes: Vec<&str> = report.findings.iter().map(|f| f.code.as_str()).collect();
    for code in
        ["scope-missing", "risk-class-missing", "gate-unmarked", "decision-missing", "timestamp-missing"]
    {
        assert!(codes.contains(&code), "{code} not in {codes:?}");
    }
    assert!(!codes.contains(&"field-unknown"), "{codes:?}");

    let missing = client.read_resource(ReadResourceRequestParams::new("release-gate://nope")).await;
    assert!(
        matches!(missing, Err(ServiceError::McpError(ref e)) if e.code == ErrorCode::RESOURCE_NOT_FOUND),
        "{missing:?}"
    );
}

#[tokio::test]
async fn unknown_tools_are_protocol_errors() {
    let fixture = Fixture::new("unknown-tool", None);
    let client = fixture.client().await;
    let result = call(&client, "no_such_tool", json!({})).await;
    assert!(matches!(result, Err(ServiceError::McpError(_))), "{result:?}");
}

/// Raw lines over the transport: what rmcp's own client cannot send.
#[tokio::test]
async fn oversized_and_unparsable_lines_get_errors_and_the_session_goes_on() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let fixture = Fixture::new("raw", None);
    let (server_end, client_end) = tokio::io::duplex(64 * 1024);
    let server = ReleaseGateServer::new(Root::new(&fixture.dir).unwrap());
    let (read, write) = tokio::io::split(server_end);
    tokio::spawn(release_gate_mcp::serve_on(server, LineTransport::with_max_line(read, write, 4096)));
    let (client_read, mut client_write) = tokio::io::split(client_end);
    let mut lines = BufReader::new(client_read).lines();

    let mut send = async |text: String| {
        client_write.write_all(text.as_bytes()).await.unwrap();
        client_write.write_all(b"\n").await.unwrap();
    };
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
        "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})
        .to_string(),
    )
    .await;
    let init: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(init["id"], 1);
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string()).await;

    send("{ this is not json".to_owned()).await;
    let parse: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(
        (parse["id"].clone(), parse["error"]["code"].clone()),
        (Value::Null, json!(-32700)),
        "{parse}"
    );

    send(
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "validate_decision",
        "arguments": {"content": "x".repeat(10_000)}}})
        .to_string(),
    )
    .await;
    let oversized: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(
        (oversized["id"].clone(), oversized["error"]["code"].clone()),
        (json!(2), json!(-32600)),
        "{oversized}"
    );
    assert!(
        oversized["error"]["message"].as_str().unwrap().contains("longer than 4096 bytes"),
        "{oversized}"
    );

    send(json!({"jsonrpc": "2.0", "id": 3, "result": 5, "method": 7}).to_string()).await;
    let invalid: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(
        (invalid["id"].clone(), invalid["error"]["code"].clone()),
        (json!(3), json!(-32600)),
        "{invalid}"
    );

    send(json!({"jsonrpc": "2.0", "id": 4, "method": "no/such/method"}).to_string()).await;
    let unknown: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(
        (unknown["id"].clone(), unknown["error"]["code"].clone()),
        (json!(4), json!(-32601)),
        "{unknown}"
    );

    send(
        json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "audit_decision",
        "arguments": {"path": "docs/release.md"}}})
        .to_string(),
    )
    .await;
    let ok: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(ok["id"], 5);
    assert_eq!(ok["result"]["structuredContent"]["ready"], true, "{ok}");
}

#[tokio::test]
async fn a_policy_linked_from_outside_the_root_is_not_served() {
    let fixture = Fixture::new("policy-link", None);
    let outside = std::env::temp_dir().join(format!("release-gate-mcp-secret-{}", std::process::id()));
    std::fs::write(&outside, "secret = \"do not serve\"\n").unwrap();
    std::fs::create_dir_all(fixture.dir.join(".release")).unwrap();
    std::os::unix::fs::symlink(&outside, fixture.dir.join(".release/policy.toml")).unwrap();
    let client = fixture.client().await;
    let read = client.read_resource(ReadResourceRequestParams::new("release-gate://policy")).await;
    let shown = format!("{read:?}");
    assert!(!shown.contains("do not serve"), "{shown}");
    let result = call(&client, "validate_decision", json!({"path": "docs/release.md"})).await.unwrap();
    assert_eq!(result["isError"], true, "{result}");
    assert!(
        result["content"][0]["text"].as_str().unwrap().contains("leads out of the repository"),
        "{result}"
    );
    let _ = std::fs::remove_file(&outside);
    client.cancel().await.unwrap();
}

/// Text given inline is judged with the policy as it is now: the first call reads and parses it, later
/// ones use it as parsed (on the server's async thread) until the file changes.
#[tokio::test]
async fn content_is_judged_with_the_policy_as_it_is_now() {
    let quiet = "version = 1\n\n[findings]\n\"rollback-trigger-vague\" = \"off\"\n";
    let fixture = Fixture::new("policy-change", Some(quiet));
    let client = fixture.client().await;
    let text = std::fs::read_to_string(fixture.dir.join("docs/draft.md")).unwrap();
    let codes = async |text: &str| -> Vec<String> {
        let report = call(&client, "validate_decision", json!({"content": text, "now": NOW})).await.unwrap();
        report["structuredContent"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_owned())
            .collect()
    };
    for _ in 0..3 {
        assert!(!codes(&text).await.contains(&"rollback-trigger-vague".to_owned()));
    }
    std::fs::write(fixture.dir.join(".release/policy.toml"), "version = 1\n").unwrap();
    assert!(codes(&text).await.contains(&"rollback-trigger-vague".to_owned()));
}
