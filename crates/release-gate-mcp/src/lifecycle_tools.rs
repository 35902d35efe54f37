//! A decision's life around the call: following new commits (`rebind_decision`), ending it
//! (`close_decision`), and the signing set-up it will need (`check_setup`). Thin wrappers over the
//! repository operations the CLI's `rebind`, `close` and `doctor` call.

use release_gate_core::history::Closure;
use release_gate_repo::setup::Doctor;
use release_gate_repo::workspace::Rebind;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::input::ToolError;
use crate::repo::{self, blocking};
use crate::repo_tools::Recorded;
use crate::server::ReleaseGateServer;

/// Arguments of `rebind_decision`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RebindArgs {
    /// The stored decision's id.
    pub id: String,
    /// The new head (revision); it must contain the decision's base. Omit for `HEAD`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub head: Option<String>,
    /// Who you act for, recorded in the history, e.g. `codex for Dana Lee`.
    pub actor: String,
}

/// Arguments of `close_decision`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseArgs {
    /// The stored decision's id.
    pub id: String,
    /// How its life ended: `deployed` (a GO that shipped), `rolled-back` (a GO that shipped and was rolled
    /// back) or `abandoned` (it will not ship).
    pub outcome: Closure,
    /// Why, in a sentence.
    #[serde(default)]
    #[schemars(with = "String")]
    pub reason: Option<String>,
    /// Who you act for, recorded in the history, e.g. `codex for Dana Lee`.
    pub actor: String,
}

#[tool_router(router = lifecycle_tool_router, vis = "pub(crate)")]
impl ReleaseGateServer {
    #[tool(
        name = "rebind_decision",
        description = "After new commits (a follow-up, a hotfix), move a stored decision to the new head on the \
            same base. Earlier evidence stays bound to its commit, so those gates are stale until re-run or \
            re-recorded; owners, trigger, panel and communication carry over. Returns the files changed since \
            (with their suggested class) and the stale gates.",
        annotations(
            title = "Follow new commits",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    pub async fn rebind_decision(
        &self,
        Parameters(args): Parameters<RebindArgs>,
    ) -> Result<Json<Rebind>, ToolError> {
        let head = repo::commit(args.head);
        repo::change(self.root(), &args.id, &args.actor, move |workspace, id, actor, now| {
            workspace.rebind(id, &head, actor, now).map(Json)
        })
        .await
    }

    #[tool(
        name = "check_setup",
        description = "Check what a signed GO needs, before anyone tries: the policy committed, an allowed_signers \
            line for every owner and panel member of the open decisions, this server's signing key usable and \
            trusted, the Codex entry passing the key, `.release/` committed. Each check says what to do.",
        annotations(
            title = "Check the signing set-up",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    pub async fn check_setup(&self) -> Result<Json<Doctor>, ToolError> {
        let root = self.root().clone();
        let key = self.signing().key.clone();
        blocking(move || Ok(Json(repo::workspace(&root)?.doctor(key.as_deref())))).await
    }

    #[tool(
        name = "close_decision",
        description = "End a stored decision's life: `deployed` or `rolled-back` (only after a GO), or \
            `abandoned`. A closed decision takes no more changes and `list_decisions` hides it unless `all`. \
            Record only what the person tells you happened.",
        annotations(
            title = "Close a decision",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn close_decision(
        &self,
        Parameters(args): Parameters<CloseArgs>,
    ) -> Result<Json<Recorded>, ToolError> {
        let (outcome, reason) = (args.outcome, args.reason);
        repo::change(self.root(), &args.id, &args.actor, move |workspace, id, actor, now| {
            Ok(Json(Recorded::of(id, workspace.close(id, outcome, reason, actor, now)?)))
        })
        .await
    }
}
