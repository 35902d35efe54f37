//! In-process tests of `sign_decision` and `verify_decision` over `tokio::io::duplex`, on a real git
//! repository with a real ssh-keygen key: confirmation through elicitation (accepted, declined), a client
//! that cannot elicit, no key configured, and verification.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use release_gate_core::decision::{Call, Layer, RiskClass};
use release_gate_core::history::{Mark, SettableField};
use release_gate_mcp::{Confirmation, LineTransport, ReleaseGateServer, Root, Signing};
use release_gate_repo::workspace::{DraftRequest, Workspace};
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult,
    ElicitationAction, ElicitationCapability, FormElicitationCapability,
};
use rmcp::service::{RequestContext, RoleClient, RunningService};
use rmcp::{ClientHandler, ErrorData, ServiceExt};
use serde_json::{Value, json};

struct Repo {
    dir: PathBuf,
    key: PathBuf,
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).current_dir(dir).output().unwrap();
    assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
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
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.name", "Rel Eng"]);
    git(&["config", "user.email", "releng@example.com"]);
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
        (Layer::Code, Mark::Pass),
        (Layer::Review, Mark::Pass),
        (Layer::Operational, Mark::NotApplicable),
        (Layer::Communication, Mark::NotApplicable),
    ] {
        workspace.record_gate(&id, layer, mark, vec!["checked".into()], "Rel Eng", "HEAD", now).unwrap();
    }
    for (field, value) in [
        (SettableField::ResidualRisks, "none"),
        (SettableField::RollbackTrigger, "error rate > 1% for 5 minutes"),
        (SettableField::RollbackOwner, "Lee Park"),
    ] {
        workspace.set_field(&id, field, vec![value.into()], "Rel Eng", now).unwrap();
    }
    workspace.decide(&id, Call::Go, "Priya Shah", "Rel Eng", "HEAD", now).unwrap();
    Repo { dir, key }
}

/// A client that answers elicitations as told (`None`: it does not support them).
#[derive(Clone)]
struct Client {
    answer: Option<ElicitationAction>,
    asked: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        if self.answer.is_some() {
            capabilities.elicitation =
                Some(ElicitationCapability::new().with_form(FormElicitationCapability::default()));
        }
        ClientConfig::new(capabilities, rmcp::model::Implementation::new("test", "1"))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = request {
            self.asked.lock().unwrap().push(message);
        }
        let action = self.answer.clone().unwrap_or(ElicitationAction::Decline);
        let accept = action == ElicitationAction::Accept;
        let result = ElicitResult::new(action);
        Ok(if accept { result.with_content(json!({"confirm": true})) } else { result })
    }
}

async fn connect(repo: &Repo, signing: Signing, client: Client) -> RunningService<RoleClient, Client> {
    let (server_end, client_end) = tokio::io::duplex(64 * 1024);
    let server = ReleaseGateServer::new(Root::new(&repo.dir).unwrap()).with_signing(signing);
    let (read, write) = tokio::io::split(server_end);
    tokio::spawn(release_gate_mcp::serve_on(server, LineTransport::new(read, write)));
    client.serve(client_end).await.unwrap()
}

async fn call(client: &RunningService<RoleClient, Client>, tool: &str, args: Value) -> Value {
    let params =
        CallToolRequestParams::new(tool.to_owned()).with_arguments(args.as_object().unwrap().clone());
    serde_json::to_value(client.call_tool(params).await.unwrap()).unwrap()
}

fn signing(repo: &Repo, confirmation: Confirmation) -> Signing {
    Signing { key: Some(repo.key.clone()), confirmation }
}

fn client(answer: Option<ElicitationAction>) -> Client {
    Client { answer, asked: Arc::new(Mutex::new(Vec::new())) }
}

fn envelope(repo: &Repo) -> PathBuf {
    repo.dir.join(".release/attestations/rel-1.dsse.json")
}

#[tokio::test]
async fn the_person_confirms_through_elicitation_and_the_decision_verifies() {
    let repo = decided("accept");
    let asker = client(Some(ElicitationAction::Accept));
    let client = connect(&repo, signing(&repo, Confirmation::Elicit), asker.clone()).await;
    let result = call(&client, "sign_decision", json!({"id": "rel-1"})).await;
    assert_eq!(result["isError"], false, "{result}");
    let signed = &result["structuredContent"];
    assert_eq!(signed["signed"], true, "{signed}");
    assert_eq!(signed["confirmed_by"], "elicitation");
    assert_eq!(signed["outcome"]["roles"], json!(["Priya Shah"]));
    let asked = asker.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    // The person sees the decision, its call, the commit and the key.
    let head = run(&repo.dir, "git", &["rev-parse", "HEAD"]);
    assert!(
        asked[0].contains("rel-1") && asked[0].contains("GO") && asked[0].contains(&head),
        "{}",
        asked[0]
    );
    assert!(asked[0].contains("priya_ed25519"), "{}", asked[0]);

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
    let client =
        connect(&repo, signing(&repo, Confirmation::Elicit), client(Some(ElicitationAction::Decline))).await;
    let result = call(&client, "sign_decision", json!({"id": "rel-1"})).await;
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"]["signed"], false);
    assert_eq!(result["structuredContent"]["outcome"]["outcome"], "refused");
    assert!(!envelope(&repo).exists());
    // Not signed: verify_decision says so as a tool error with what to do.
    let verified = call(&client, "verify_decision", json!({"id": "rel-1"})).await;
    assert_eq!(verified["isError"], true, "{verified}");
    assert!(verified["content"][0]["text"].as_str().unwrap().contains("is not signed"), "{verified}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_client_that_cannot_ask_relies_on_its_own_approval() {
    let repo = decided("no-elicit");
    let client = connect(&repo, signing(&repo, Confirmation::Elicit), client(None)).await;
    let result = call(&client, "sign_decision", json!({"id": "rel-1"})).await;
    assert_eq!(result["structuredContent"]["signed"], true, "{result}");
    assert_eq!(result["structuredContent"]["confirmed_by"], "client-approval");
    assert!(envelope(&repo).exists());
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn without_a_key_or_with_a_bad_argument_nothing_is_signed() {
    let repo = decided("no-key");
    let client = connect(&repo, Signing::default(), client(Some(ElicitationAction::Accept))).await;
    let result = call(&client, "sign_decision", json!({"id": "rel-1"})).await;
    assert_eq!(result["isError"], true, "{result}");
    assert!(result["content"][0]["text"].as_str().unwrap().contains("RELEASE_GATE_SIGNING_KEY"), "{result}");
    // No argument names a key or a file: an extra field is a malformed request.
    let params = CallToolRequestParams::new("sign_decision").with_arguments(
        json!({"id": "rel-1", "key": "/etc/ssh/ssh_host_ed25519_key"}).as_object().unwrap().clone(),
    );
    let error = client.call_tool(params).await.unwrap_err();
    assert!(format!("{error:?}").contains("key"), "{error:?}");
    let params = CallToolRequestParams::new("sign_decision")
        .with_arguments(json!({"id": "../x"}).as_object().unwrap().clone());
    assert!(client.call_tool(params).await.is_err());
    assert!(!envelope(&repo).exists());
    client.cancel().await.unwrap();
}
