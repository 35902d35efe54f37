//! Signing and verifying decisions over MCP. `sign_decision` is annotated destructive and signs only with a
//! person's confirmation, asked through `confirm` (showing the decision, the commit and who signs). The signing
//! key is the person's, configured when the server starts (`RELEASE_GATE_SIGNING_KEY`); no tool argument names a
//! key or a file to sign with.

use std::path::{Path, PathBuf};

use release_gate_core::signing::NAMESPACE;
use release_gate_core::signing::verify::Verification;
use release_gate_repo::signoff::{SignDecision, SignOutcome, Target};
use release_gate_repo::store::Id;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::confirm::{Act, Answer, Asked, Reply, complete};
use crate::input::ToolError;
use crate::repo::{self, blocking, op_error};
use crate::server::ReleaseGateServer;

/// The environment variable naming the private key `sign_decision` signs with.
pub const SIGNING_KEY_ENV: &str = "RELEASE_GATE_SIGNING_KEY";

/// Arguments of `sign_decision`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignArgs {
    /// The stored decision's id. It must have a GO that validates.
    pub id: String,
    /// The commit being released (revision). Omit for `HEAD`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub commit: Option<String>,
    /// Which of the key's allowed_signers principals signs, when it has several.
    #[serde(default)]
    #[schemars(with = "String")]
    pub principal: Option<String>,
}

/// What `sign_decision` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SignResult {
    /// Whether a signature was written.
    pub signed: bool,
    /// How the person confirmed: `elicitation` or `input-request` (they answered the server's question in the
    /// client) or `client-approval` (the server was started with `RELEASE_GATE_CONFIRM=client`). Absent when
    /// nobody confirmed; then nothing was signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "ConfirmedBy")]
    pub confirmed_by: Option<ConfirmedBy>,
    /// The signature (when signed) or why nothing was signed.
    pub outcome: SignOutcome,
}

/// How the person confirmed a signature (or any person-only act).
pub use release_gate_core::history::ConfirmedHow as ConfirmedBy;

/// Arguments of `verify_decision`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyArgs {
    /// The signed decision's id (its envelope is `.release/attestations/<id>.dsse.json`).
    pub id: String,
    /// The commit being released (revision). Omit for `HEAD`; a HEAD that differs from the signed commit
    /// only under `.release/` counts as the signed commit.
    #[serde(default)]
    #[schemars(with = "String")]
    pub commit: Option<String>,
}

/// How clients reach the server: what `sign_decision` may trust about who is calling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Transport {
    /// stdio (or an in-process pipe): the one client that started the server.
    #[default]
    Stdio,
    /// Streamable HTTP; `token`: every request must carry the bearer token. Without it any local process
    /// can call, so `sign_decision` refuses.
    Http { token: bool },
}

/// The signing set up by the person who starts the server.
#[derive(Debug, Clone, Default)]
pub struct Signing {
    /// Their OpenSSH Ed25519 private key; `None`: `sign_decision` refuses and says how to set it.
    pub key: Option<PathBuf>,
}

impl Signing {
    /// From `RELEASE_GATE_SIGNING_KEY`.
    pub fn from_env() -> Signing {
        Signing { key: std::env::var_os(SIGNING_KEY_ENV).filter(|path| !path.is_empty()).map(PathBuf::from) }
    }

    fn key(&self) -> Result<PathBuf, ToolError> {
        self.key.clone().ok_or_else(|| {
            ToolError::Failed(format!(
                "no signing key is configured: the person who signs starts the server with {SIGNING_KEY_ENV} set \
                 to their OpenSSH Ed25519 private key (outside the repository); or they run \
                 `release-gate sign ID --key PATH` themselves"
            ))
        })
    }
}

#[tool_router(router = sign_tool_router, vis = "pub(crate)")]
impl ReleaseGateServer {
    #[tool(
        name = "sign_decision",
        description = "Sign a stored decision's GO for a commit with the person's key (set when the server \
            started): an in-toto statement in a DSSE envelope, an SSH signature and a decision-log entry. Only a \
            GO that validates, only by the final decision owner or a panel member, and only when that person \
            asked you. The person confirms in the client; a decline or a client that cannot ask signs nothing \
            (unless the server was started with RELEASE_GATE_CONFIRM=client); over HTTP the bearer token \
            is required. Returns `signed` and the signature, or why not.",
        output_schema = rmcp::handler::server::tool::schema_for_output::<SignResult>(),
        annotations(
            title = "Sign a release decision",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn sign_decision(&self, asked: Asked, Parameters(args): Parameters<SignArgs>) -> Reply {
        let id = repo::id(&args.id)?;
        let key = self.signing().key()?;
        let commit = repo::commit(args.commit);
        let (sha, question) = self.question(&id, &key, &commit, args.principal.as_deref()).await?;
        let facts = serde_json::json!({
            "id": id.as_str(),
            "commit": sha,
            "principal": args.principal,
            "key": key.display().to_string(),
        });
        let by_hand = format!("release-gate sign {id} --key THEIR_KEY");
        let act = Act { tool: "sign_decision", facts, question, actor: String::new(), by_hand };
        let confirmed = match self.ask_person(asked, act).await? {
            Answer::Confirmed(confirmed) => confirmed,
            Answer::Ask(input) => return Ok(input.into()),
            Answer::Refused(reason) => return complete(refused(reason)),
        };
        let root = self.root().clone();
        let result = blocking(move || {
            let workspace = repo::workspace(&root)?;
            let request = SignDecision {
                target: Target::Stored(id),
                key: &key,
                // The commit the person confirmed, not whatever HEAD is by now.
                commit: &sha,
                principal: args.principal.as_deref(),
                now: repo::now(),
                remote: None,
                publish: true,
            };
            let outcome = workspace.sign(&request).map_err(op_error)?;
            let signed = matches!(outcome, SignOutcome::Signed(_));
            Ok(Json(SignResult { signed, confirmed_by: Some(confirmed.how), outcome }))
        })
        .await?;
        complete(result)
    }

    #[tool(
        name = "verify_decision",
        description = "Verify a signed decision offline: every signature against the repository's \
            allowed_signers, namespace and validity at decidedAt, the signed commit against the one being \
            released, GO, the signer rules and panel threshold, the policy, and the decision log. Returns \
            every failure by code; an empty `failures` means it verifies.",
        annotations(
            title = "Verify a signed decision",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    pub async fn verify_decision(
        &self,
        Parameters(args): Parameters<VerifyArgs>,
    ) -> Result<Json<Verification>, ToolError> {
        let id = repo::id(&args.id)?;
        let root = self.root().clone();
        blocking(move || {
            let workspace = repo::workspace(&root)?;
            let envelope = workspace.envelope_path(id.as_str()).map_err(op_error)?;
            if std::fs::symlink_metadata(&envelope).is_err() {
                // Not signed yet is an answer (a failing verification), not a failed call; anything else
                // at the envelope's name (a link, a pipe) goes to `verify`, which refuses it.
                let shown =
                    envelope.strip_prefix(workspace.root()).unwrap_or(&envelope).display().to_string();
                return Ok(Json(Verification::not_signed(id.as_str(), &shown)));
            }
            workspace
                .verify(&envelope, repo::given_commit(args.commit).as_deref(), None, repo::now())
                .map(Json)
                .map_err(op_error)
        })
        .await
    }
}

/// A refusal before anything was written: nobody confirmed.
fn refused(reason: String) -> Json<SignResult> {
    Json(SignResult {
        signed: false,
        confirmed_by: None,
        outcome: SignOutcome::Refused { reason, findings: Vec::new() },
    })
}

impl ReleaseGateServer {
    /// What the person is asked to confirm: the decision, its call, the commit, and who signs (the key's
    /// allowed_signers principals; the key's path when they cannot be read).
    async fn question(
        &self,
        id: &Id,
        key: &Path,
        commit: &str,
        principal: Option<&str>,
    ) -> Result<(String, String), ToolError> {
        let (root, id, key, commit) = (self.root().clone(), id.clone(), key.to_path_buf(), commit.to_owned());
        let principal = principal.map(str::to_owned);
        blocking(move || {
            let workspace = repo::workspace(&root)?;
            let decision = workspace.load(&id).map_err(op_error)?;
            let sha = workspace.resolve(&commit).map_err(op_error)?;
            let at = decision
                .decided_at
                .as_deref()
                .and_then(|text| text.parse::<jiff::Timestamp>().ok())
                .unwrap_or_else(jiff::Timestamp::now);
            let signer = signers(&workspace, &key, at, principal.as_deref())
                .unwrap_or_else(|| format!("with the key {}", key.display()));
            let call = decision.decision.unwrap_or_else(|| "no decision".to_owned());
            let risk = decision.risk_class.unwrap_or_else(|| "undeclared".to_owned());
            let question =
                format!("Sign release decision `{id}` ({call}, risk {risk}) for commit {sha} {signer}?");
            Ok((sha, question))
        })
        .await
    }
}

/// `as NAME, NAME` for the principals allowed_signers gives the key, if the key and the file can be read.
fn signers(
    workspace: &release_gate_repo::workspace::Workspace,
    key: &Path,
    at: jiff::Timestamp,
    wanted: Option<&str>,
) -> Option<String> {
    let key = release_gate_repo::keys::load_signing_key(key, Some(workspace.root())).ok()?;
    let allowed = workspace.allowed_signers(None).ok()?;
    let mut principals = allowed.principals(&key.public(), NAMESPACE, at).ok()?;
    if let Some(wanted) = wanted {
        principals.retain(|p| p.eq_ignore_ascii_case(wanted));
    }
    if principals.is_empty() {
        return None;
    }
    Some(format!("as {}", principals.into_iter().collect::<Vec<_>>().join(", ")))
}
