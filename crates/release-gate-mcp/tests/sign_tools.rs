//! In-process tests of `sign_decision` and `verify_decision` over `tokio::io::duplex`, on a real git
//! repository with a real ssh-keygen key: confirmation through elicitation (accepted, declined, cancelled,
//! `confirm: false`), a client that cannot elicit (refused unless the server was started with
//! `RELEASE_GATE_CONFIRM=client`), HTTP without a bearer token (refused), no key configured, and
//! verification. Every refusal is checked on disk: no envelope, no signature, no log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use release_gate_core::decision::GateResult;
use release_gate_core::decision::{Call, Layer, RiskClass};
use release_gate_core::history::SettableField;
use release_gate_mcp::{ConfirmMode, LineTransport, ReleaseGateServer, Root, Signing, Transport};
use release_gate_repo::workspace::{DecideRequest, DraftRequest, GateRequest, Workspace};
use rmcp::model::{
    CallToolRequestParams, ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction,
};
use rmcp::service::{RequestContext, RoleClient, RunningService};
use rmcp::{ClientHandler, ErrorData};
use serde_json::{Value, json};
use support::{connect, git_init, run};

struct Repo {
    dir: PathBuf,
    key: PathBuf,
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A repository with a medium-risk GO `rel-1` decided by Priya, and Priya's key trusted.
fn decided(name: &str) -> Repo {
    let base = std::env::temp_dir().join(format!("release-gate-mcp-sign-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let dir = base.join("repo");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let key = base.join("priya_ed25519");
    run(&base, "ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-C", "priya", "-f", key.to_str().unwrap()]);
    let git = |args: &[&str]| run(&dir, "git", args);
    git_init(&dir);
    std::fs::write(dir.join("src/lib.rs"), "fn a() {}\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "initial"]);
    git(&["tag", "v1"]);
    std::fs::write(dir.join("src/lib.rs"), "fn b() {}\n").unwrap();
    git(&["commit", "-q", "-am", "change"]);
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let public: Vec<&str> = public.split_whitespace().take(2).collect();
    std::fs::create_dir_all(dir.join(".release")).unwrap();
    std::fs::write(
        dir.join(".release/allowed_signers"),
        format!("\"Priya Shah\" namespaces=\"release-gate,release-gate-checkpoint\" {}\n", public.join(" ")),
    )
    .unwrap();
    // The decision, through the same operations the CLI uses.
    let workspace = Workspace::open(&dir, None).unwrap();
    let now = jiff::Timestamp::now();
    let request = DraftRequest {
        id: Some("rel-1".into()),
        scope: "search".into(),
        risk: Some(RiskClass::Medium),
        base: Some("v1".into()),
        actor: "Rel Eng".into(),
        ..DraftRequest::default()
    };
    let id = workspace.draft(request, now).unwrap();
    for (layer, mark) in [
        (Layer::Code, GateResult::Pass),
        (Layer::Review, GateResult::Pass),
        (Layer::Operational, GateResult::NotApplicable),
        (Layer::Communication, GateResult::NotApplicable),
    ] {
        let request = GateRequest {
            layer,
            result: mark,
            evidence: vec!["checked".into()],
            actor: "Rel Eng".into(),
            commit: "HEAD".into(),
            override_justification: None,
        };
        workspace.record_gate(&id, request, now).unwrap();
    }
    for (field, value) in [
        (SettableField::ResidualRisks, "none"),
        (SettableField::RollbackTrigger, "error rate > 1% for 5 minutes"),
        (SettableField::RollbackOwner, "Lee Park"),
    ] {
        workspace.set_field(&id, field, vec![value.into()], "Rel Eng", now).unwrap();
    }
    let call = DecideRequest {
        call: Call::Go,
        owner: "Priya Shah".into(),
        reason: None,
        actor: "Rel Eng".into(),
        commit: "HEAD".into(),
    };
    workspace.decide(&id, call, now).unwrap();
    Repo { dir, key }
}

/// How a test client answers an elicitation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// It does not declare the elicitation capability.
    CannotAsk,
    Accept,
    /// Accepts the form with `confirm: false`.
    AcceptUnconfirmed,
    Decline,
    Cancel,
}

/// A client that answers elicitations as told, and keeps every question (message and requested schema).
#[derive(Clone)]
struct Client {
    answer: Answer,
    asked: Arc<Mutex<Vec<(String, Value)>>>,
}

impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        support::client_info(self.answer != Answer::CannotAsk)
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, requested_schema, .. } = request {
            self.asked.lock().unwrap().push((message, serde_json::to_value(requested_schema).unwrap()));
        }
        Ok(match self.answer {
            Answer::Accept => ElicitResult::new(ElicitationAction::Accept)
                .with_content(json!({"confirm": true, "name": "Priya Shah"})),
            Answer::AcceptUnconfirmed => ElicitResult::new(ElicitationAction::Accept)
                .with_content(json!({"confirm": false, "name": "Priya Shah"})),
            Answer::Cancel => ElicitResult::new(ElicitationAction::Cancel),
            Answer::Decline | Answer::CannotAsk => ElicitResult::new(ElicitationAction::Decline),
        })
    }
}

/// A server on the repository, signing with its key, reached over stdio unless told otherwise.
fn server(repo: &Repo, confirmation: ConfirmMode) -> ReleaseGateServer {
    let signing = Signing { key: Some(repo.key.clone()) };
    ReleaseGateServer::new(Root::new(&repo.dir).unwrap())
        .with_signing(signing)
        .with_confirmation(confirmation)
}

async fn call(client: &RunningService<RoleClient, Client>, tool: &str, args: Value) -> Value {
    support::call(client, tool, args).await.unwrap()
}

fn client(answer: Answer) -> Client {
    Client { answer, asked: Arc::new(Mutex::new(Vec::new())) }
}

fn envelope(repo: &Repo) -> PathBuf {
    repo.dir.join(".release/attestations/rel-1.dsse.json")
}

/// Nothing of a signature is on disk: no attestation file (envelope, statement, SSH signature), no log.
fn nothing_signed(repo: &Repo) {
    let attestations = repo.dir.join(".release/attestations");
    let files: Vec<_> = std::fs::read_dir(&attestations)
        .map(|entries| entries.map(|entry| entry.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(files.is_empty(), "written after a refusal: {files:?}");
    assert!(!envelope(repo).exists());
    assert!(!repo.dir.join(".release/ledger.jsonl").exists(), "a log entry after a refusal");
    assert!(!repo.dir.join(".release/ledger.checkpoint").exists());
}

#[tokio::test]
async fn the_person_confirms_through_elicitation_and_the_decision_verifies() {
    let repo = decided("accept");
    let asker = client(Answer::Accept);
    let client = connect(server(&repo, ConfirmMode::Elicit), asker.clone()).await;
    let result = call(&client, "sign_decision", json!({"id": "rel-1"})).await;
    assert_eq!(result["isError"], false, "{result}");
    let signed = &result["structuredContent"];
    assert_eq!(signed["signed"], true, "{signed}");
    assert_eq!(signed["confirmed_by"], "elicitation");
    assert_eq!(signed["outcome"]["roles"], json!(["Priya Shah"]));
    let asked = asker.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    let (message, schema) = &asked[0];
    // The person sees the decision, its call, the commit and who signs (the key's principal).
    let head = run(&repo.dir, "git", &["rev-parse", "HEAD"]);
    assert!(message.contains("rel-1") && message.contains("GO") && message.contains(&head), "{message}");
    assert!(message.contains("as Priya Shah"), "{message}");
    // The form has a required property: a form without one is accepted by some clients on their own.
    assert_eq!(schema["required"], json!(["confirm", "name"]), "{schema}");
    assert_eq!(schema["properties"]["confirm"]["type"], "boolean", "{schema}");

    let verified = call(&client, "verify_decision", json!({"id": "rel-1"})).await;
    assert_eq!(verified["isError"], false, "{verified}");
    assert_eq!(verified["structuredContent"]["failures"], json!([]), "{verified}");
    // Against another commit it does not verify.
    let other = call(&client, "verify_decision", json!({"id": "rel-1", "commit": "v1"})).await;
    let codes: Vec<&str> = other["structuredContent"]["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"commit-mismatch"), "{other}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_declined_confirmation_signs_nothing() {
    let repo = decided("decline");
    let client = connect(server(&repo, ConfirmMode::Elicit), client(Answer::Decline)).await;
    let result = call(&client, "sign_decision", json!({"id": "rel-1"})).await;
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"]["signed"], false);
    assert_eq!(result["structuredContent"]["outcome"]["outcome"], "refused");
    assert_eq!(result["structuredContent"].get("confirmed_by"), None, "nobody confirmed: {result}");
    nothing_signed(&repo);
    // Not signed: verify_decision answers with a failing verification that says what to do.
    let verified = call(&client, "verify_decision", json!({"id": "rel-1"})).await;
    assert_eq!(verified["isError"], false, "{verified}");
    let failures = &verified["structuredContent"]["failures"];
    assert_eq!(failures[0]["code"], "not-signed", "{verified}");
    assert!(failures[0]["message"].as_str().unwrap().contains("is not signed"), "{verified}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_cancelled_or_unconfirmed_form_signs_nothing() {
    let repo = decided("unconfirmed");
    for answer in [Answer::Cancel, Answer::AcceptUnconfirmed] {
        let asker = client(answer);
        let client = connect(server(&repo, ConfirmMode::Elicit), asker.clone()).await;
        let result = call(&client, "sign_decision", json!({"id": "rel-1"})).await;
        assert_eq!(result["structuredContent"]["signed"], false, "{result}");
        assert_eq!(result["structuredContent"]["outcome"]["outcome"], "refused", "{result}");
        assert_eq!(asker.asked.lock().unwrap().len(), 1);
        nothing_signed(&repo);
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn a_client_that_cannot_ask_is_refused_and_told_how_to_opt_in() {
    let repo = decided("no-elicit");
    let client = connect(server(&repo, ConfirmMode::Elicit), client(Answer::CannotAsk)).await;
    let result = call(&client, "sign_decision", json!({"id": "rel-1"})).await;
    assert_eq!(result["isError"], false, "{result}");
    let refused = &result["structuredContent"];
    assert_eq!(refused["signed"], false, "{result}");
    assert_eq!(refused.get("confirmed_by"), None, "{result}");
    assert_eq!(refused["outcome"]["outcome"], "refused", "{result}");
    let reason = refused["outcome"]["reason"].as_str().unwrap();
    assert!(reason.contains("RELEASE_GATE_CONFIRM=client"), "{reason}");
    assert!(reason.contains("release-gate sign rel-1"), "{reason}");
    nothing_signed(&repo);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn with_client_confirmation_chosen_the_client_s_approval_signs_without_asking() {
    let repo = decided("client-confirm");
    // Even a client that can ask (and would decline) is not asked: the person chose the client's approval.
    for (answer, id) in [(Answer::CannotAsk, "rel-1"), (Answer::Decline, "rel-1")] {
        let asker = client(answer);
        let client = connect(server(&repo, ConfirmMode::Client), asker.clone()).await;
        let result = call(&client, "sign_decision", json!({"id": id})).await;
        assert_eq!(result["structuredContent"]["signed"], true, "{result}");
        assert_eq!(result["structuredContent"]["confirmed_by"], "client-approval", "{result}");
        assert!(asker.asked.lock().unwrap().is_empty());
        client.cancel().await.unwrap();
    }
    assert!(envelope(&repo).exists());
}

#[tokio::test]
async fn over_http_without_a_token_nothing_is_signed_whatever_the_confirmation() {
    let repo = decided("http-open");
    for confirmation in [ConfirmMode::Elicit, ConfirmMode::Client] {
        for answer in [Answer::Accept, Answer::CannotAsk] {
            let open = server(&repo, confirmation).with_transport(Transport::Http { token: false });
            let asker = client(answer);
            let client = connect(open, asker.clone()).await;
            let result = call(&client, "sign_decision", json!({"id": "rel-1"})).await;
            assert_eq!(result["isError"], true, "{result}");
            let text = result["content"][0]["text"].as_str().unwrap();
            assert!(text.contains("RELEASE_GATE_HTTP_TOKEN") && text.contains("nothing was done"), "{text}");
            assert!(asker.asked.lock().unwrap().is_empty(), "the person was asked for nothing");
            nothing_signed(&repo);
            client.cancel().await.unwrap();
        }
    }
    // With a token, the person is asked and the signature is made.
    let guarded = server(&repo, ConfirmMode::Elicit).with_transport(Transport::Http { token: true });
    let client = connect(guarded, client(Answer::Accept)).await;
    let result = call(&client, "sign_decision", json!({"id": "rel-1"})).await;
    assert_eq!(result["structuredContent"]["signed"], true, "{result}");
    assert_eq!(result["structuredContent"]["confirmed_by"], "elicitation", "{result}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn without_a_key_or_with_a_bad_argument_nothing_is_signed() {
    let repo = decided("no-key");
    let keyless = ReleaseGateServer::new(Root::new(&repo.dir).unwrap()).with_signing(Signing::default());
    let client = connect(keyless, client(Answer::Accept)).await;
    let result = call(&client, "sign_decision", json!({"id": "rel-1"})).await;
    assert_eq!(result["isError"], true, "{result}");
    assert!(result["content"][0]["text"].as_str().unwrap().contains("RELEASE_GATE_SIGNING_KEY"), "{result}");
    // No argument names a key or a file: an extra field, or an unsafe id, is refused with how to correct it.
    for args in [json!({"id": "rel-1", "key": "/etc/ssh/ssh_host_ed25519_key"}), json!({"id": "../x"})] {
        let refused = call(&client, "sign_decision", args).await;
        assert_eq!(refused["isError"], true, "{refused}");
        assert!(
            refused["content"][0]["text"].as_str().unwrap().starts_with("invalid arguments:"),
            "{refused}"
        );
    }
    nothing_signed(&repo);
    client.cancel().await.unwrap();
}

/// The same client on the 2026-07-28 protocol: `server/discover`, and no server-to-client requests, so the
/// server's question comes back as an input-required result that the client answers and sends again.
async fn connect_2026(server: ReleaseGateServer, client: Client) -> RunningService<RoleClient, Client> {
    let (server_end, client_end) = tokio::io::duplex(64 * 1024);
    let (read, write) = tokio::io::split(server_end);
    tokio::spawn(release_gate_mcp::serve_on(server, LineTransport::new(read, write)));
    let lifecycle = rmcp::service::ClientLifecycleMode::Discover {
        preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
    };
    rmcp::service::serve_client_with_lifecycle(client, client_end, lifecycle).await.unwrap()
}

#[tokio::test]
async fn a_2026_client_confirms_through_an_input_request() {
    let repo = decided("mrtr-accept");
    let asker = client(Answer::Accept);
    let client = connect_2026(server(&repo, ConfirmMode::Elicit), asker.clone()).await;
    let result = call(&client, "sign_decision", json!({"id": "rel-1"})).await;
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"]["signed"], true, "{result}");
    assert_eq!(result["structuredContent"]["confirmed_by"], "input-request", "{result}");
    let asked = asker.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1, "asked once");
    assert!(asked[0].0.contains("rel-1") && asked[0].0.contains("as Priya Shah"), "{asked:?}");
    assert_eq!(asked[0].1["required"], json!(["confirm", "name"]));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_2026_client_that_declines_or_cannot_ask_signs_nothing() {
    let repo = decided("mrtr-decline");
    for (answer, says) in [
        (Answer::Decline, "did not confirm"),
        (Answer::AcceptUnconfirmed, "did not confirm"),
        (Answer::CannotAsk, "cannot ask"),
    ] {
        let asker = client(answer);
        let client = connect_2026(server(&repo, ConfirmMode::Elicit), asker.clone()).await;
        let result = call(&client, "sign_decision", json!({"id": "rel-1"})).await;
        assert_eq!(result["structuredContent"]["signed"], false, "{result}");
        let reason = result["structuredContent"]["outcome"]["reason"].as_str().unwrap();
        assert!(reason.contains(says) && reason.contains("RELEASE_GATE_CONFIRM=client"), "{reason}");
        assert_eq!(asker.asked.lock().unwrap().len(), usize::from(answer != Answer::CannotAsk));
        nothing_signed(&repo);
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn a_2026_client_cannot_swap_forge_or_replay_the_act_it_confirms() {
    use rmcp::model::{CallToolResponse, InputResponses};
    let repo = decided("mrtr-swap");
    let client = connect_2026(server(&repo, ConfirmMode::Elicit), client(Answer::Accept)).await;
    let params = |args: Value| {
        CallToolRequestParams::new("sign_decision").with_arguments(args.as_object().unwrap().clone())
    };
    let CallToolResponse::InputRequired(question) =
        client.call_tool_once(params(json!({"id": "rel-1"}))).await.unwrap()
    else {
        panic!("the first round must ask the person");
    };
    let state = question.request_state.clone().unwrap();
    let requests = question.input_requests.clone().unwrap();
    let key = requests.keys().next().unwrap().clone();
    let yes: InputResponses =
        [(key, json!({"action": "accept", "content": {"confirm": true, "name": "Priya Shah"}}))].into();
    let again = |args: Value, state: &str| {
        params(args).with_input_responses(yes.clone()).with_request_state(state.to_owned())
    };
    let text = |response: CallToolResponse| {
        let CallToolResponse::Complete(result) = response else { panic!("asked again") };
        assert_eq!(result.is_error, Some(true), "{result:?}");
        serde_json::to_value(&result).unwrap()["content"][0]["text"].as_str().unwrap().to_owned()
    };
    // The answer for HEAD does not confirm a signature for another commit.
    let swapped = client.call_tool_once(again(json!({"id": "rel-1", "commit": "v1"}), &state)).await.unwrap();
    assert!(text(swapped).contains("another act"));
    // A state the server did not seal is refused.
    let forged = format!("{}x", state.trim_end_matches('x'));
    let forged = client.call_tool_once(again(json!({"id": "rel-1"}), &forged)).await.unwrap();
    assert!(text(forged).contains("not one this server issued"));
    nothing_signed(&repo);
    // The same act with its own state signs, once.
    let CallToolResponse::Complete(signed) =
        client.call_tool_once(again(json!({"id": "rel-1"}), &state)).await.unwrap()
    else {
        panic!("asked again");
    };
    let signed = serde_json::to_value(&signed).unwrap();
    assert_eq!(signed["structuredContent"]["signed"], true, "{signed}");
    let replayed = client.call_tool_once(again(json!({"id": "rel-1"}), &state)).await.unwrap();
    assert!(text(replayed).contains("already used"));
    client.cancel().await.unwrap();
}
