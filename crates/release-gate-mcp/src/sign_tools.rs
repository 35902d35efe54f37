//! Signing and verifying decisions over MCP. `sign_decision` is annotated destructive: it asks the person
//! to confirm through elicitation when the client supports it (showing the decision, commit and signer),
//! and otherwise relies on the client's own approval. The signing key is the person's, configured when the
//! server starts (`RELEASE_GATE_SIGNING_KEY`); no tool argument names a key or a file to sign with.

use std::path::PathBuf;

use release_gate_core::signing::verify::Verification;
use release_gate_repo::signoff::{SignDecision, SignOutcome, Target};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::{ElicitationError, Peer};
use rmcp::{Json, RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::input::ToolError;
use crate::repo::{self, blocking, op_error};
use crate::server::ReleaseGateServer;

/// The environment variable naming the private key `sign_decision` signs with.
pub const SIGNING_KEY_ENV: &str = "RELEASE_GATE_SIGNING_KEY";

/// How `sign_decision` gets the person's confirmation: `elicit` (default: ask through the client when it
/// can; a decline refuses) or `client` (the client's approval of this destructive tool is the
/// confirmation, for headless runs where the key's owner pre-approved `sign_decision`).
pub const SIGN_CONFIRM_ENV: &str = "RELEASE_GATE_SIGN_CONFIRM";

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
    /// How the person confirmed: `elicitation` (asked through the client) or `client-approval`.
    pub confirmed_by: String,
    /// The signature (when signed) or why nothing was signed.
    pub outcome: SignOutcome,
}

/// A confirmation the person gives through the client.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct Confirm {
    /// Sign this decision now.
    pub confirm: bool,
}

rmcp::elicit_safe!(Confirm);

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

/// How the person confirms a signature.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Confirmation {
    /// Ask through MCP elicitation when the client can; a decline or cancel refuses.
    #[default]
    Elicit,
    /// The client's approval of the destructive tool call is the confirmation.
    Client,
}

/// The signing set up by the person who starts the server.
#[derive(Debug, Clone, Default)]
pub struct Signing {
    /// Their OpenSSH Ed25519 private key; `None`: `sign_decision` refuses and says how to set it.
    pub key: Option<PathBuf>,
    pub confirmation: Confirmation,
}

impl Signing {
    /// From `RELEASE_GATE_SIGNING_KEY` and `RELEASE_GATE_SIGN_CONFIRM`.
    pub fn from_env() -> Result<Signing, String> {
        let key = std::env::var_os(SIGNING_KEY_ENV).filter(|path| !path.is_empty()).map(PathBuf::from);
        let confirmation = match std::env::var(SIGN_CONFIRM_ENV).unwrap_or_default().as_str() {
            "" | "elicit" => Confirmation::Elicit,
            "client" => Confirmation::Client,
            other => {
                return Err(format!(
                    "{SIGN_CONFIRM_ENV} is `{other}`: use `elicit` (the default) or `client`"
                ));
            }
        };
        Ok(Signing { key, confirmation })
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
        description = "Sign a stored decision's GO for a commit with the person's key (configured when the \
            server started): an in-toto statement in a DSSE envelope, an SSH signature, and an entry in the \
            decision log. Only for a GO that validates, and only when the key belongs to the final decision \
            owner or a panel member. This records a person's sign-off: call it only when that person asked you \
            to; the client asks them to confirm. Returns `signed` and the signature, or why nothing was signed.",
        annotations(
            title = "Sign a release decision",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn sign_decision(
        &self,
        Parameters(args): Parameters<SignArgs>,
        peer: Peer<RoleServer>,
    ) -> Result<Json<SignResult>, ToolError> {
        let id = repo::id(&args.id)?;
        let key = self.signing().key()?;
        let commit = args.commit.filter(|c| !c.trim().is_empty()).unwrap_or_else(|| "HEAD".to_owned());
        let root = self.root().clone();
        // What the person is asked to confirm: the decision, its call, the commit, the key.
        let summary = {
            let (id, key, commit) = (id.clone(), key.clone(), commit.clone());
            blocking(move || {
                let workspace = repo::workspace(&root)?;
                let decision = workspace.store.load(&id).map_err(|e| op_error(e.into()))?;
                let sha = workspace.git.resolve(&commit).map_err(|e| op_error(e.into()))?;
                let call = decision.decision.unwrap_or_else(|| "no decision".to_owned());
                let risk = decision.risk_class.unwrap_or_else(|| "undeclared".to_owned());
                Ok(format!(
                    "Sign release decision `{id}` ({call}, risk {risk}) for commit {sha} with the key {}?",
                    key.display()
                ))
            })
            .await?
        };
        let elicited = match self.signing().confirmation {
            Confirmation::Elicit => peer.elicit::<Confirm>(summary).await,
            Confirmation::Client => Err(ElicitationError::CapabilityNotSupported),
        };
        let confirmed_by = match elicited {
            Ok(Some(Confirm { confirm: true })) => "elicitation",
            Ok(_) | Err(ElicitationError::UserDeclined) | Err(ElicitationError::UserCancelled) => {
                return Ok(Json(SignResult {
                    signed: false,
                    confirmed_by: "elicitation".to_owned(),
                    outcome: SignOutcome::Refused {
                        reason: format!(
                            "the person did not confirm the signature through the client, so nothing was signed. \
                             A client that cannot ask (a headless run) declines on its own: the key's owner who \
                             pre-approved `sign_decision` there starts the server with {SIGN_CONFIRM_ENV}=client"
                        ),
                        findings: Vec::new(),
                    },
                }));
            }
            // The client cannot ask, or its owner chose so: its own approval of this destructive tool stands
            // for the confirmation.
            Err(ElicitationError::CapabilityNotSupported) => "client-approval",
            Err(error) => {
                return Err(ToolError::Failed(format!(
                    "could not ask the person to confirm ({error}); nothing was signed: call again"
                )));
            }
        };
        let root = self.root().clone();
        blocking(move || {
            let workspace = repo::workspace(&root)?;
            let request = SignDecision {
                target: Target::Stored(id),
                key: &key,
                commit: &commit,
                principal: args.principal.as_deref(),
                now: jiff::Timestamp::now(),
            };
            let outcome = workspace.sign(&request).map_err(op_error)?;
            let signed = matches!(outcome, SignOutcome::Signed(_));
            Ok(Json(SignResult { signed, confirmed_by: confirmed_by.to_owned(), outcome }))
        })
        .await
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
            if !envelope.is_file() {
                return Err(ToolError::Failed(format!(
                    "decision `{id}` is not signed (no {}): a person signs it with `sign_decision` or `release-gate sign`",
                    envelope.strip_prefix(workspace.git.root()).unwrap_or(&envelope).display()
                )));
            }
            workspace.verify(&envelope, args.commit.as_deref(), None).map(Json).map_err(op_error)
        })
        .await
    }
}
