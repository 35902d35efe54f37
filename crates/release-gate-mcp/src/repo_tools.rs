//! The tools over the repository's decision store: classify, draft, status, record, decide, list, and the
//! evidence that is run (code gates, drill, rehearsal). Each is a thin wrapper over one
//! `release-gate-repo` operation, the same one the CLI calls; commands come only from the committed policy.

use release_gate_core::classify::Classification;
use release_gate_core::decision::GateResult;
use release_gate_core::decision::{self, Call, Communication, Gates, Layer, Operations, RiskClass};
use release_gate_core::history::{DrillItem, SettableField};
use release_gate_core::{Decision, Report};
use release_gate_repo::evidence::{Clock, GateRun};
use release_gate_repo::workspace::{GateRequest, Status, Summary};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::RequestMetaObject;
use rmcp::service::{Peer, RequestContext};
use rmcp::{Json, RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::input::ToolError;
use crate::repo::{self, blocking, op_error};
use crate::runs::{RunReply, Start};
use crate::server::ReleaseGateServer;
use release_gate_repo::evidence::Progress;
use release_gate_repo::run::Cancel;
use release_gate_repo::workspace::OpError;

/// Arguments of `classify_risk`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifyArgs {
    /// The last released revision (tag, branch or commit). Omit to use the latest tag reachable from `head`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub base: Option<String>,
    /// The revision being released. Omit for `HEAD`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub head: Option<String>,
}

/// Arguments of `draft_decision`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftArgs {
    /// What is being released: the services, modules or features, e.g. `billing-api, invoice-worker`.
    pub scope: String,
    /// Declared before any verification (low: docs, UI polish; medium: core behaviour; high: auth,
    /// billing, permissions, migrations). Call `classify_risk` first; never lower it to pass a gate.
    pub risk_class: RiskClass,
    /// Why the class is lower than `classify_risk` suggests, if it is (omit otherwise).
    #[serde(default)]
    #[schemars(with = "String")]
    pub justification: Option<String>,
    /// The last released revision. Omit to use the latest tag reachable from `head`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub base: Option<String>,
    /// The revision being released. Omit for `HEAD`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub head: Option<String>,
    /// The decision's id (letters, digits, `.`, `_`, `-`). Omit to get one from the date and the scope.
    #[serde(default)]
    #[schemars(with = "String")]
    pub id: Option<String>,
    /// Who you act for, recorded in the history, e.g. `codex for Dana Lee`.
    pub actor: String,
}

/// What `draft_decision` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Drafted {
    /// The new decision's id: pass it as `id` to the other tools.
    pub id: String,
    /// Where the record is stored, relative to the repository root.
    pub file: String,
    /// The range the decision covers: how the base was chosen, and the base and head commits.
    pub covers: String,
    /// What to tell the person now, e.g. a declared risk class below what the diff suggests (the decision then
    /// fails `risk-below-suggested` until the class is raised or a justification is recorded).
    pub warnings: Vec<String>,
}

/// Arguments of the tools that read a stored decision at a commit.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusArgs {
    /// The stored decision's id (as `draft_decision` or `list_decisions` gave it).
    pub id: String,
    /// The commit being released (revision). Omit for `HEAD`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub commit: Option<String>,
    /// Judge as of this time, RFC 3339 with an offset (e.g. `2026-11-27T14:05:00Z`). Omit for now.
    #[serde(default)]
    #[schemars(with = "String")]
    pub now: Option<String>,
}

/// Arguments of `list_decisions`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// Judge every decision for releasing this commit (revision). Omit for `HEAD`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub commit: Option<String>,
    /// Judge as of this time, RFC 3339 with an offset. Omit for now.
    #[serde(default)]
    #[schemars(with = "String")]
    pub now: Option<String>,
    /// Also list closed (deployed, rolled back) and abandoned decisions.
    #[serde(default)]
    pub all: bool,
}

/// What `list_decisions` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Decisions {
    /// Every stored decision, by id.
    pub decisions: Vec<Summary>,
}

/// Arguments of `record_gate`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordGateArgs {
    /// The stored decision's id.
    pub id: String,
    /// `code`, `review`, `operational` or `communication` (the decision gate comes from `decide`; the
    /// code gate from `run_code_gates` when the policy runs it).
    pub layer: Layer,
    /// `pass`, `fail` or `n/a`. A `pass` for a layer the class requires needs `evidence`.
    pub result: GateResult,
    /// What shows the result, one item per entry: a CI run, an approval, a link, a note.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// The commit the evidence was gathered on (revision). Omit for `HEAD`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub commit: Option<String>,
    /// Who you act for, recorded in the history, e.g. `codex for Dana Lee`.
    pub actor: String,
}

/// Arguments of `declare_risk`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareRiskArgs {
    /// The stored decision's id.
    pub id: String,
    /// The risk class: `low`, `medium` or `high`. Never lower it to get past a gate.
    pub risk_class: RiskClass,
    /// Why this class is right when it is lower than the diff suggests (omit otherwise).
    #[serde(default)]
    #[schemars(with = "String")]
    pub justification: Option<String>,
    /// Who you act for, recorded in the history, e.g. `codex for Dana Lee`.
    pub actor: String,
}

/// Arguments of `set_decision_field`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetFieldArgs {
    /// The stored decision's id.
    pub id: String,
    /// `scope`, `residual-risks`, `rollback-trigger` (signal, comparison, number: `error rate > 2% for 5
    /// minutes`), `rollback-owner`, `decision-owner` or `panel`.
    pub field: SettableField,
    /// The value; several entries make a list (residual risks, trigger conditions, panel names). Names of
    /// owners must come from the person, never be guessed.
    pub values: Vec<String>,
    /// Who you act for, recorded in the history, e.g. `codex for Dana Lee`.
    pub actor: String,
}

/// What the recording tools return: where the decision stands after the change. The whole record is the
/// resource `release-gate://decisions/{id}`; `decision_status` gives the findings and next steps.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Recorded {
    /// The decision's id.
    pub id: String,
    /// The kind of the change just appended to the history, e.g. `gate-recorded`.
    pub change: String,
    /// Events in the history now.
    pub history_len: usize,
    /// The risk class as recorded.
    pub risk_class: Option<String>,
    /// Each gate layer as recorded now.
    pub gates: Gates,
    /// The pre-release drill's items and whether each is checked.
    pub drill: Vec<decision::ChecklistItem>,
    /// The communication package as recorded now.
    pub communication: Option<Communication>,
    /// The operational facts as recorded now.
    pub operations: Option<Operations>,
    /// The rollback rehearsal as recorded now (steps, recovery time, friction points).
    pub rehearsal: Option<decision::Rehearsal>,
}

impl Recorded {
    pub(crate) fn of(id: &release_gate_repo::store::Id, decision: Decision) -> Recorded {
        Recorded {
            id: id.to_string(),
            change: decision.history.last().map_or_else(String::new, |event| event.change.kind().to_owned()),
            history_len: decision.history.len(),
            risk_class: decision.risk_class,
            gates: decision.gates,
            drill: decision.drill,
            communication: decision.communication,
            operations: decision.operations,
            rehearsal: decision.rehearsal,
        }
    }
}

/// Arguments of `decide`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideArgs {
    /// The stored decision's id.
    pub id: String,
    /// `GO` or `NO-GO`, exactly as the person said it. A GO is recorded only if the decision validates.
    pub call: Call,
    /// The person who made the call (the final decision owner), by name. Never yourself. It must be the
    /// decision owner already recorded, if one is.
    pub owner: String,
    /// Why, in the owner's words (above all for a NO-GO).
    #[serde(default)]
    #[schemars(with = "String")]
    pub reason: Option<String>,
    /// The commit being released (revision). Omit for `HEAD`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub commit: Option<String>,
    /// Who you act for, recorded in the history, e.g. `codex for Dana Lee`.
    pub actor: String,
}

/// What `decide` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Decided {
    /// Whether the call was recorded. `false`: a GO that does not validate; fix the report's errors.
    pub recorded: bool,
    /// The decision judged with the call made.
    pub report: Report,
}

/// Arguments of the tools that run evidence from the committed policy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunArgs {
    /// The stored decision's id.
    pub id: String,
    /// Who you act for, recorded in the history, e.g. `codex for Dana Lee`.
    pub actor: String,
}

/// A drill item a person confirmed, with what they checked.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillConfirmation {
    /// `dashboards` or `pager` (items with a command in the policy are run, not confirmed).
    pub item: DrillItem,
    /// What was checked, e.g. a dashboard link or the pager schedule.
    pub evidence: Vec<String>,
}

/// Arguments of `run_drill`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillArgs {
    /// The stored decision's id.
    pub id: String,
    /// Items a person confirmed by hand, with their evidence. Only confirm what the person told you.
    #[serde(default)]
    pub confirmations: Vec<DrillConfirmation>,
    /// Who you act for, recorded in the history, e.g. `codex for Dana Lee`.
    pub actor: String,
}

/// Arguments of `run_rehearsal`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RehearsalArgs {
    /// The stored decision's id.
    pub id: String,
    /// Friction points seen while rehearsing (what was slow or confusing), one per entry.
    #[serde(default)]
    pub friction: Vec<String>,
    /// Who you act for, recorded in the history, e.g. `codex for Dana Lee`.
    pub actor: String,
}

/// Arguments of `set_communication`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunicationArgs {
    /// The stored decision's id.
    pub id: String,
    /// What changed, user-facing and internal.
    #[serde(default)]
    #[schemars(with = "String")]
    pub what_changed: Option<String>,
    /// Known limitations.
    #[serde(default)]
    #[schemars(with = "String")]
    pub known_limitations: Option<String>,
    /// What to watch in the first 30-60 minutes.
    #[serde(default)]
    #[schemars(with = "String")]
    pub monitoring_focus: Option<String>,
    /// When to roll back (the rollback trigger conditions).
    #[serde(default)]
    #[schemars(with = "String")]
    pub rollback_trigger_conditions: Option<String>,
    /// Escalation channel and owner.
    #[serde(default)]
    #[schemars(with = "String")]
    pub escalation: Option<String>,
    /// Fill `what_changed` from the commit subjects and the trigger conditions from the decision when not
    /// given and not already set. Default true.
    #[serde(default = "yes")]
    pub prefill: bool,
    /// Who you act for, recorded in the history, e.g. `codex for Dana Lee`.
    pub actor: String,
}

fn yes() -> bool {
    true
}

/// Arguments of `set_operations`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationsArgs {
    /// The stored decision's id.
    pub id: String,
    /// How the release is rolled back (the rollback path or runbook).
    #[serde(default)]
    #[schemars(with = "String")]
    pub rollback_path: Option<String>,
    /// Who is on call during and after the release, as the person told you.
    #[serde(default)]
    #[schemars(with = "String")]
    pub on_call: Option<String>,
    /// Who backs the on-call owner up, as the person told you.
    #[serde(default)]
    #[schemars(with = "String")]
    pub backup_owner: Option<String>,
    /// When the release is planned to go out, e.g. `Tue 10:00-12:00 UTC`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub release_window: Option<String>,
    /// Who you act for, recorded in the history, e.g. `codex for Dana Lee`.
    pub actor: String,
}

/// Arguments of `note_friction`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FrictionArgs {
    /// The stored decision's id.
    pub id: String,
    /// What was slow or confusing in the rollback rehearsal, one note per entry.
    pub notes: Vec<String>,
    /// Who you act for, recorded in the history, e.g. `codex for Dana Lee`.
    pub actor: String,
}

#[tool_router(router = repo_tool_router, vis = "pub(crate)")]
impl ReleaseGateServer {
    #[tool(
        name = "classify_risk",
        description = "Suggest a risk class for a release from the files changed between `base` (default: the \
            latest tag) and `head` (default: HEAD), using the policy's path rules. Returns `suggested` (low, \
            medium, high, or null for no changes) and each file with its class and the rule that matched. Call \
            it before `draft_decision`; a lower class than suggested needs a justification.",
        annotations(
            title = "Classify a release's risk",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    pub async fn classify_risk(
        &self,
        Parameters(args): Parameters<ClassifyArgs>,
    ) -> Result<Json<Classification>, ToolError> {
        let root = self.root().clone();
        blocking(move || {
            let workspace = repo::workspace(&root)?;
            workspace.classify(args.base.as_deref(), args.head.as_deref()).map_err(op_error).map(Json)
        })
        .await
    }

    #[tool(
        name = "decision_status",
        description = "Where a stored decision stands for releasing `commit` (default HEAD): risk class, each gate \
            layer with its result, whether it is required, and its evidence (fresh: gathered on this commit and \
            diff; expired: older than the policy allows), the full validation report, and `next`: what to do, \
            most important first. A failing report is a normal answer.",
        annotations(
            title = "Status of a stored decision",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    pub async fn decision_status(
        &self,
        Parameters(args): Parameters<StatusArgs>,
    ) -> Result<Json<Status>, ToolError> {
        let id = repo::id(&args.id)?;
        let now = crate::input::now(args.now.as_deref())?;
        let root = self.root().clone();
        blocking(move || {
            let workspace = repo::workspace(&root)?;
            workspace.status(&id, &repo::commit(args.commit), now).map_err(op_error).map(Json)
        })
        .await
    }

    #[tool(
        name = "list_decisions",
        description = "List the repository's stored decisions, each with its scope, risk class, call, verdict for \
            releasing `commit` (default HEAD) and when it last changed; `error` says why a record cannot be read.",
        annotations(
            title = "List stored decisions",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    pub async fn list_decisions(
        &self,
        Parameters(args): Parameters<ListArgs>,
    ) -> Result<Json<Decisions>, ToolError> {
        let now = crate::input::now(args.now.as_deref())?;
        let root = self.root().clone();
        blocking(move || {
            let workspace = repo::workspace(&root)?;
            let decisions = workspace.list(&repo::commit(args.commit), now, args.all).map_err(op_error)?;
            Ok(Json(Decisions { decisions }))
        })
        .await
    }

    #[tool(
        name = "record_gate",
        description = "Mark one gate layer of a stored decision `pass`, `fail` or `n/a` with the evidence that \
            shows it (a CI run, an approval, a link), bound to the commit it was gathered on (default HEAD). \
            Evidence counts only for that commit and diff. Prefer `run_code_gates` for the code gate. Returns \
            where the decision stands (gates, drill, package); `actor` is recorded in its history.",
        annotations(
            title = "Record a gate result",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn record_gate(
        &self,
        Parameters(args): Parameters<RecordGateArgs>,
    ) -> Result<Json<Recorded>, ToolError> {
        repo::change(self.root(), &args.id, &args.actor, move |workspace, id, actor, now| {
            let request = GateRequest {
                layer: args.layer,
                result: args.result,
                evidence: args.evidence,
                actor: actor.to_owned(),
                commit: repo::commit(args.commit),
                // Typing a result over run evidence is a person's act: only the CLI offers it.
                override_justification: None,
            };
            Ok(Json(Recorded::of(id, workspace.record_gate(id, request, now)?)))
        })
        .await
    }

    #[tool(
        name = "run_code_gates",
        description = "Run the code gate's checks (`[[code_gates]]`) of the policy as committed at HEAD, in a clean \
            work tree, and record the code gate: pass only when every check passes. Only the committed policy's \
            commands run; no argument can name one. Sends progress notifications when the client gives a \
            progress token. Returns each check's exit code, duration and output tail.",
        annotations(
            title = "Run the code gate's checks",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn run_code_gates(
        &self,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        context: RequestContext<RoleServer>,
        Parameters(args): Parameters<RunArgs>,
    ) -> Result<Json<RunReply<GateRun>>, ToolError> {
        let id = repo::id(&args.id)?;
        let actor = repo::actor(&args.actor)?;
        let start = run_start("run_code_gates", &id, meta, peer, context);
        self.run_tool(start, None, move |workspace, progress, cancel| {
            workspace.run_code_gates(&id, &actor, Clock(None), progress, cancel)
        })
        .await
    }

    #[tool(
        name = "run_drill",
        description = "The pre-release drill: run the drill items the committed policy has commands for \
            (critical-commands, feature-flags, rollback-command) on HEAD in a clean work tree, and record the \
            items a person confirmed by hand (`dashboards`, `pager`) with their evidence. Only the committed \
            policy's commands run. Sends progress notifications when the client gives a progress token. \
            Returns where the decision stands (its `drill` list shows each item).",
        annotations(
            title = "Run the pre-release drill",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn run_drill(
        &self,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        context: RequestContext<RoleServer>,
        Parameters(args): Parameters<DrillArgs>,
    ) -> Result<Json<RunReply<Recorded>>, ToolError> {
        let id = repo::id(&args.id)?;
        let actor = repo::actor(&args.actor)?;
        let confirmations: Vec<(DrillItem, Vec<String>)> =
            args.confirmations.into_iter().map(|c| (c.item, c.evidence)).collect();
        let start = run_start("run_drill", &id, meta, peer, context);
        self.run_tool(start, None, move |workspace, progress, cancel| {
            let decision = workspace.run_drill(&id, &confirmations, &actor, Clock(None), progress, cancel)?;
            Ok(Recorded::of(&id, decision))
        })
        .await
    }

    #[tool(
        name = "set_communication",
        description = "Set the communication package of a stored decision: what changed, known limitations, \
            monitoring focus, rollback trigger conditions, escalation. With `prefill` (default true), what \
            changed comes from the commit subjects and the trigger conditions from the decision when not given \
            and not already set. Returns where the decision stands.",
        annotations(
            title = "Set the communication package",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn set_communication(
        &self,
        Parameters(args): Parameters<CommunicationArgs>,
    ) -> Result<Json<Recorded>, ToolError> {
        let package = Communication {
            what_changed: args.what_changed,
            known_limitations: args.known_limitations,
            monitoring_focus: args.monitoring_focus,
            rollback_trigger_conditions: args.rollback_trigger_conditions,
            escalation: args.escalation,
        };
        let prefill = args.prefill;
        repo::change(self.root(), &args.id, &args.actor, move |workspace, id, actor, now| {
            let decision = workspace.set_communication(id, package, prefill, actor, Clock(Some(now)))?;
            Ok(Json(Recorded::of(id, decision)))
        })
        .await
    }

    #[tool(
        name = "set_operations",
        description = "Record a stored decision's operational facts: rollback path, on-call owner, backup owner, \
            release window. Only what the person told you; names are never guessed. Returns where the decision \
            stands.",
        annotations(
            title = "Set operational facts",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn set_operations(
        &self,
        Parameters(args): Parameters<OperationsArgs>,
    ) -> Result<Json<Recorded>, ToolError> {
        let operations = Operations {
            rollback_path: args.rollback_path,
            on_call: args.on_call,
            backup_owner: args.backup_owner,
            release_window: args.release_window,
        };
        repo::change(self.root(), &args.id, &args.actor, move |workspace, id, actor, now| {
            let decision = workspace.set_operations(id, operations, actor, Clock(Some(now)))?;
            Ok(Json(Recorded::of(id, decision)))
        })
        .await
    }

    #[tool(
        name = "note_friction",
        description = "Add friction points to a stored decision's rollback rehearsal without running it: what \
            was slow or confusing, as the people who ran it said. Returns where the decision stands.",
        annotations(
            title = "Note rehearsal friction",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn note_friction(
        &self,
        Parameters(args): Parameters<FrictionArgs>,
    ) -> Result<Json<Recorded>, ToolError> {
        if args.notes.iter().all(|note| note.trim().is_empty()) {
            return Err(ToolError::invalid("`notes` is empty: give at least one friction point"));
        }
        let notes = args.notes;
        repo::change(self.root(), &args.id, &args.actor, move |workspace, id, actor, now| {
            Ok(Json(Recorded::of(id, workspace.note_friction(id, &notes, actor, Clock(Some(now)))?)))
        })
        .await
    }
}

impl ReleaseGateServer {
    /// The plumbing of every run tool, in one place: the run registered under the call (progress to the
    /// client, cancelled with the call, a handle when it outlasts the wait), the workspace opened on the
    /// blocking thread (recording how a person confirmed the act, when one did), and the operation's
    /// errors said as the agent can act on them. Each step is stamped by the clock as it happens.
    pub(crate) async fn run_tool<T, F, C>(
        &self,
        start: Start<C>,
        confirmation: Option<release_gate_core::history::Confirmation>,
        operation: F,
    ) -> Result<Json<RunReply<T>>, ToolError>
    where
        T: Serialize + JsonSchema + Send + 'static,
        F: FnOnce(
                &release_gate_repo::workspace::Workspace,
                &mut dyn FnMut(Progress<'_>),
                &Cancel,
            ) -> Result<T, OpError>
            + Send
            + 'static,
        C: std::future::Future<Output = ()> + Send + 'static,
    {
        let root = self.root().clone();
        self.runs()
            .start(start, move |progress, cancel| {
                let workspace = repo::workspace(&root)?.confirmed(confirmation);
                operation(&workspace, progress, cancel).map_err(op_error)
            })
            .await
            .map(Json)
    }
}

/// What a run tool passes to `Runs::start`: its name, the decision, where progress goes, and the call's
/// cancellation.
pub(crate) fn run_start(
    tool: &'static str,
    id: &release_gate_repo::store::Id,
    meta: RequestMetaObject,
    peer: Peer<RoleServer>,
    context: RequestContext<RoleServer>,
) -> Start<impl std::future::Future<Output = ()> + Send + 'static> {
    Start {
        tool,
        id: id.to_string(),
        peer,
        token: meta.get_progress_token(),
        cancelled: context.ct.cancelled_owned(),
    }
}
