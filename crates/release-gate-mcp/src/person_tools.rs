//! The person-only acts over MCP: `decide` (GO and NO-GO), `run_rehearsal` (it acts on an environment), a risk
//! class below what the diff suggests (`draft_decision`, `declare_risk`), and naming the decision owner or the
//! panel (`set_decision_field`). Each asks the person through `confirm` before it acts, and the history records
//! who confirmed and how; an owner or panel name that is the agent's own is refused. The rest of these tools'
//! calls (a class at or above the suggestion, any other field) need no confirmation.

use release_gate_core::decision::{Call, RiskClass};
use release_gate_core::finding::{Code, Severity};
use release_gate_core::history::{Confirmation, SettableField};
use release_gate_repo::evidence::{Clock, Progress, RehearsalOutcome};
use release_gate_repo::watch::{WatchProgress, WatchRun};
use release_gate_repo::workspace::{DecideRequest, DraftRequest, OpError, Workspace};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::RequestMetaObject;
use rmcp::service::{Peer, RequestContext};
use rmcp::{Json, RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::confirm::{self, Act, Asked, Reply, complete};
use crate::input::ToolError;
use crate::repo::{self, blocking, op_error};
use crate::repo_tools::{
    DecideArgs, Decided, DeclareRiskArgs, DraftArgs, Drafted, Recorded, RehearsalArgs, SetFieldArgs,
    run_start,
};
use crate::runs::RunReply;
use crate::server::ReleaseGateServer;

/// Arguments of `start_watch`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchArgs {
    /// The stored decision's id (a GO that was deployed).
    pub id: String,
    /// How long to watch, e.g. `30m`, `2h`.
    #[serde(rename = "for")]
    pub duration: String,
    /// Who you act for, recorded in the history, e.g. `codex for Dana Lee`.
    pub actor: String,
}

#[tool_router(router = person_tool_router, vis = "pub(crate)")]
impl ReleaseGateServer {
    #[tool(
        name = "draft_decision",
        description = "Start a stored Release Decision for `base..head` in the repository's `.release/decisions/`, \
            with its scope and its risk class declared up front (before any verification). A class below what \
            `classify_risk` suggests is the person's call: the server asks them to confirm first. Returns the new \
            decision's `id`; then record gates, run evidence, set the rollback trigger and owner, and call \
            `decision_status` for what is left. `actor` is recorded in the decision's history.",
        output_schema = rmcp::handler::server::tool::schema_for_output::<Drafted>(),
        annotations(
            title = "Draft a release decision",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn draft_decision(&self, asked: Asked, Parameters(args): Parameters<DraftArgs>) -> Reply {
        let actor = repo::actor(&args.actor)?;
        if let Some(id) = &args.id {
            repo::id(id)?;
        }
        let (root, base, head) = (self.root().clone(), args.base.clone(), args.head.clone());
        let suggested = blocking(move || {
            let classification =
                repo::workspace(&root)?.classify(base.as_deref(), head.as_deref()).map_err(op_error)?;
            Ok(classification.suggested.map(|class| (class, classification.base, classification.head)))
        })
        .await?;
        let confirmation = match suggested {
            Some((suggested, base, head)) if args.risk_class < suggested => {
                let range = format!("{}..{}", base.unwrap_or_default(), head.unwrap_or_default());
                let act = Act {
                    tool: "draft_decision",
                    facts: json!({
                        "scope": args.scope, "risk_class": args.risk_class, "suggested": suggested,
                        "justification": args.justification, "range": range, "id": args.id, "actor": actor,
                    }),
                    question: format!(
                        "Declare `{}` {} risk, below the {} the diff {range} suggests? Justification: {}",
                        args.scope.trim(),
                        args.risk_class.as_str(),
                        suggested.as_str(),
                        args.justification.as_deref().unwrap_or("none given")
                    ),
                    actor: actor.clone(),
                    by_hand: format!("release-gate draft --scope SCOPE --risk {}", args.risk_class.as_str()),
                };
                match self.ask_person(asked, act).await?.or_reply() {
                    Ok(confirmation) => Some(confirmation),
                    Err(reply) => return *reply,
                }
            }
            _ => None,
        };
        let root = self.root().clone();
        let drafted = blocking(move || {
            let workspace = open(&root, confirmation)?;
            let request = DraftRequest {
                id: args.id,
                scope: args.scope,
                risk: Some(args.risk_class),
                justification: args.justification,
                base: args.base,
                head: args.head,
                actor,
            };
            let drafted = workspace.draft_release(request, repo::now()).map_err(op_error)?;
            let id = drafted.id;
            let file = format!(".release/decisions/{id}.json");
            let covers = drafted.range.describe();
            Ok(Json(Drafted { id: id.to_string(), file, covers, warnings: drafted.warnings }))
        })
        .await;
        complete(drafted)
    }

    #[tool(
        name = "declare_risk",
        description = "Declare or change the risk class of a stored decision (`low`, `medium`, `high`), with a \
            justification when it is lower than the diff suggests; such a class is the person's call, confirmed \
            by them when the server asks. The change is kept in the history; never lower a class to get past a \
            gate. Returns where the decision stands.",
        output_schema = rmcp::handler::server::tool::schema_for_output::<Recorded>(),
        annotations(
            title = "Declare the risk class",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn declare_risk(&self, asked: Asked, Parameters(args): Parameters<DeclareRiskArgs>) -> Reply {
        let id = repo::id(&args.id)?;
        let actor = repo::actor(&args.actor)?;
        let (root, for_id) = (self.root().clone(), id.clone());
        let suggested = blocking(move || {
            let workspace = repo::workspace(&root)?;
            let decision = workspace.load(&for_id).map_err(op_error)?;
            let Some(binding) = decision.binding else { return Ok(None) };
            let classification =
                workspace.classify(Some(&binding.base), Some(&binding.head)).map_err(op_error)?;
            Ok(classification.suggested.map(|class| (class, format!("{}..{}", binding.base, binding.head))))
        })
        .await?;
        let confirmation = match suggested {
            Some((suggested, range)) if args.risk_class < suggested => {
                let act = Act {
                    tool: "declare_risk",
                    facts: json!({
                        "id": id.as_str(), "risk_class": args.risk_class, "suggested": suggested,
                        "justification": args.justification, "range": range, "actor": actor,
                    }),
                    question: format!(
                        "Declare release `{id}` {} risk, below the {} its diff {range} suggests? Justification: {}",
                        args.risk_class.as_str(),
                        suggested.as_str(),
                        args.justification.as_deref().unwrap_or("none given")
                    ),
                    actor: actor.clone(),
                    by_hand: format!(
                        "release-gate risk {id} {} --justification TEXT",
                        args.risk_class.as_str()
                    ),
                };
                match self.ask_person(asked, act).await?.or_reply() {
                    Ok(confirmation) => Some(confirmation),
                    Err(reply) => return *reply,
                }
            }
            _ => None,
        };
        let root = self.root().clone();
        let recorded = blocking(move || {
            let decision = open(&root, confirmation)?
                .declare_risk(&id, args.risk_class, args.justification, &actor, repo::now())
                .map_err(op_error)?;
            Ok(Json(Recorded::of(&id, decision)))
        })
        .await;
        complete(recorded)
    }

    #[tool(
        name = "set_decision_field",
        description = "Set a field of a stored decision: `scope`, `residual-risks`, `rollback-trigger` (concrete: a \
            signal, a comparison and a number), `rollback-owner`, `decision-owner` or `panel`. Several `values` \
            make a list. Owners and panel members are people the person named; never guess them. Naming the \
            decision owner or the panel asks the person to confirm; a name that is yours (an agent's) is refused. \
            Returns where the decision stands.",
        output_schema = rmcp::handler::server::tool::schema_for_output::<Recorded>(),
        annotations(
            title = "Set a decision field",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn set_decision_field(
        &self,
        asked: Asked,
        Parameters(args): Parameters<SetFieldArgs>,
    ) -> Reply {
        let id = repo::id(&args.id)?;
        let actor = repo::actor(&args.actor)?;
        let confirmation = if matches!(args.field, SettableField::DecisionOwner | SettableField::Panel) {
            let client = asked.client();
            if let Some(agent) =
                args.values.iter().find(|name| confirm::is_agent_name(name, &actor, client.as_deref()))
            {
                return Err(ToolError::invalid(format!(
                    "`values`: `{agent}` is an agent, not a person; the {} is people the person names",
                    args.field.as_str()
                )));
            }
            let names = args.values.join(", ");
            let act = Act {
                tool: "set_decision_field",
                facts: json!({"id": id.as_str(), "field": args.field, "values": args.values, "actor": actor}),
                question: format!("Name {names} as the {} of release `{id}`?", args.field.as_str()),
                actor: actor.clone(),
                by_hand: format!("release-gate set {id} {} NAME", args.field.as_str()),
            };
            match self.ask_person(asked, act).await?.or_reply() {
                Ok(confirmation) => Some(confirmation),
                Err(reply) => return *reply,
            }
        } else {
            None
        };
        let root = self.root().clone();
        let recorded = blocking(move || {
            let decision = open(&root, confirmation)?
                .set_field(&id, args.field, args.values, &actor, repo::now())
                .map_err(op_error)?;
            Ok(Json(Recorded::of(&id, decision)))
        })
        .await;
        complete(recorded)
    }

    #[tool(
        name = "decide",
        description = "Record the person's GO or NO-GO for a stored decision, with `owner` the person who made the \
            call (never you). The server asks the person to confirm (decision, owner, commit, verdict) before \
            anything is recorded; a decline, or a client that cannot ask, records nothing. A GO is recorded only \
            if the decision, with the call made, validates for `commit` (default HEAD): otherwise `recorded` is \
            false and `report` lists what to fix. A NO-GO is always recorded once confirmed.",
        output_schema = rmcp::handler::server::tool::schema_for_output::<Decided>(),
        annotations(
            title = "Record the GO/NO-GO call",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn decide(&self, asked: Asked, Parameters(args): Parameters<DecideArgs>) -> Reply {
        let id = repo::id(&args.id)?;
        let actor = repo::actor(&args.actor)?;
        let owner = release_gate_core::value::tidy_line(&args.owner);
        if confirm::is_agent_name(&owner, &actor, asked.client().as_deref()) {
            return Err(ToolError::invalid(format!(
                "`owner`: `{owner}` is an agent, not a person; the owner is the person who made the call"
            )));
        }
        let (root, for_id, rev, given) =
            (self.root().clone(), id.clone(), repo::commit(args.commit), owner.clone());
        let (sha, preview) = blocking(move || {
            let workspace = repo::workspace(&root)?;
            // A call by someone other than the recorded owner is refused anyway: do not ask the person about it.
            let name = |text: &str| release_gate_core::signing::person_name(text).trim().to_ascii_lowercase();
            let recorded = workspace.load(&for_id).map_err(op_error)?.decision_owner;
            if let Some(recorded) = recorded.filter(|recorded| name(recorded) != name(&given)) {
                return Err(op_error(OpError::OwnerMismatch { recorded, given }));
            }
            let sha = workspace.resolve(&rev).map_err(op_error)?;
            let status = workspace.status(&for_id, &sha, repo::now()).map_err(op_error)?;
            let scope = status.scope.unwrap_or_default();
            let risk = status.risk_class.map_or("undeclared", RiskClass::as_str);
            // What a GO would meet: the report's errors but those `decide` itself sets, and the GO-only rules.
            let set_by_decide = |code: Code| matches!(code, Code::DecisionMissing | Code::TimestampMissing);
            let mut codes: Vec<&str> = status
                .report
                .findings
                .iter()
                .filter(|finding| finding.severity == Severity::Error && !set_by_decide(finding.code))
                .chain(&status.go_needs)
                .map(|finding| finding.code.as_str())
                .collect();
            codes.sort_unstable();
            codes.dedup();
            let verdict = if codes.is_empty() {
                "a GO would validate".to_owned()
            } else {
                format!("a GO would meet {}", codes.join(", "))
            };
            Ok((sha, format!("`{scope}`, risk {risk}; {verdict}")))
        })
        .await?;
        let word = match args.call {
            Call::Go => "GO",
            Call::NoGo => "NO-GO",
        };
        let reason = args.reason.as_deref().map(|r| format!(" Reason: {r}")).unwrap_or_default();
        let act = Act {
            tool: "decide",
            facts: json!({
                "id": id.as_str(), "call": args.call, "owner": owner, "reason": args.reason, "commit": sha,
                "actor": actor,
            }),
            question: format!(
                "Record {word} for release `{id}` ({preview}) by {owner} for commit {sha}?{reason}"
            ),
            actor: actor.clone(),
            by_hand: format!(
                "release-gate decide {id} --{} --owner \"{owner}\"",
                if args.call == Call::Go { "go" } else { "no-go" }
            ),
        };
        let confirmation = match self.ask_person(asked, act).await?.or_reply() {
            Ok(confirmation) => confirmation,
            Err(reply) => return *reply,
        };
        let root = self.root().clone();
        let decided = blocking(move || {
            let workspace = open(&root, Some(confirmation))?;
            let request = DecideRequest { call: args.call, owner, reason: args.reason, actor, commit: sha };
            match workspace.decide(&id, request, repo::now()) {
                Ok((_, report)) => Ok(Json(Decided { recorded: true, report })),
                Err(OpError::Refused(report)) => Ok(Json(Decided { recorded: false, report: *report })),
                Err(error) => Err(op_error(error)),
            }
        })
        .await;
        complete(decided)
    }

    #[tool(
        name = "start_watch",
        description = "After a deploy, watch the decision's rollback trigger on the metrics the committed policy maps \
            (`[[signals]]`) for `for`; when a condition fires it records that first and runs the committed \
            `[watch].rollback`. It acts on production, so the server asks the person first. Returns a run handle \
            at once when the watch goes on: follow it with `run_status` (passed, rolled back or inconclusive).",
        output_schema = rmcp::handler::server::tool::schema_for_output::<RunReply<WatchRun>>(),
        annotations(
            title = "Watch the rollback trigger after deploy",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    pub async fn start_watch(
        &self,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        context: RequestContext<RoleServer>,
        asked: Asked,
        Parameters(args): Parameters<WatchArgs>,
    ) -> Reply {
        let id = repo::id(&args.id)?;
        let actor = repo::actor(&args.actor)?;
        let duration = release_gate_core::policy::parse_age(&args.duration)
            .filter(|duration| !duration.is_negative() && !duration.is_zero())
            .ok_or_else(|| {
                ToolError::invalid(format!(
                    "`for`: `{}` is not a duration such as `30m` or `2h`",
                    args.duration
                ))
            })?;
        let act = Act {
            tool: "start_watch",
            facts: json!({"id": id.as_str(), "for": args.duration, "actor": actor}),
            question: format!(
                "Watch release `{id}` for {} and, if its rollback trigger fires, run the committed [watch] rollback \
                 command against production?",
                args.duration
            ),
            actor: actor.clone(),
            by_hand: format!("release-gate watch {id} --for {}", args.duration),
        };
        let confirmation = match self.ask_person(asked, act).await?.or_reply() {
            Ok(confirmation) => confirmation,
            Err(reply) => return *reply,
        };
        let root = self.root().clone();
        let start = run_start("start_watch", &id, meta, peer, context);
        let reply = self
            .runs()
            .start(start, move |progress, cancel| {
                let workspace = open(&root, Some(confirmation))?;
                let mut polls = |event: WatchProgress| {
                    if let WatchProgress::Polled { poll, .. } = event {
                        progress(Progress::Polling {
                            attempt: poll,
                            since_rollback: std::time::Duration::ZERO,
                        });
                    }
                };
                workspace
                    .watch(&id, duration.unsigned_abs(), &actor, Clock(None), &mut polls, cancel)
                    .map_err(op_error)
            })
            .await
            .map(Json);
        complete(reply)
    }

    #[tool(
        name = "run_rehearsal",
        description = "The timed rollback rehearsal from the committed policy's `[rehearsal]`: apply the candidate, \
            simulate the trigger, run the rollback, then poll the recovery check; recovery time runs from the \
            rollback's start to the check's first success and must be within the policy's limit. It acts on the \
            rehearsal environment the policy's commands name (never production), so the server asks the person \
            to confirm first; a decline, or a client that cannot ask, runs nothing. Only the committed policy's \
            commands run. Sends progress notifications when the client gives a progress token.",
        output_schema = rmcp::handler::server::tool::schema_for_output::<RunReply<RehearsalOutcome>>(),
        annotations(
            title = "Run the rollback rehearsal",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    pub async fn run_rehearsal(
        &self,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        context: RequestContext<RoleServer>,
        asked: Asked,
        Parameters(args): Parameters<RehearsalArgs>,
    ) -> Reply {
        let id = repo::id(&args.id)?;
        let actor = repo::actor(&args.actor)?;
        let (root, for_id) = (self.root().clone(), id.clone());
        let (head, scope) = blocking(move || {
            let workspace = repo::workspace(&root)?;
            let decision = workspace.load(&for_id).map_err(op_error)?;
            let head = workspace.resolve("HEAD").map_err(op_error)?;
            Ok((head, decision.scope.unwrap_or_default()))
        })
        .await?;
        let act = Act {
            tool: "run_rehearsal",
            facts: json!({"id": id.as_str(), "head": head, "friction": args.friction, "actor": actor}),
            question: format!(
                "Run the rollback rehearsal for release `{id}` (`{scope}`) at commit {head} now? It runs the \
                 committed policy's [rehearsal] commands (apply, trigger, rollback, recovery check) against the \
                 rehearsal environment they name."
            ),
            actor: actor.clone(),
            by_hand: format!("release-gate rehearse {id}"),
        };
        let confirmation = match self.ask_person(asked, act).await?.or_reply() {
            Ok(confirmation) => confirmation,
            Err(reply) => return *reply,
        };
        let start = run_start("run_rehearsal", &id, meta, peer, context);
        let reply = self
            .run_tool(start, Some(confirmation), move |workspace, progress, cancel| {
                workspace.rehearse(&id, &args.friction, &actor, Clock(None), progress, cancel)
            })
            .await;
        complete(reply)
    }
}

/// The workspace, recording the person's confirmation on what it writes when there is one.
fn open(root: &crate::input::Root, confirmation: Option<Confirmation>) -> Result<Workspace, ToolError> {
    Ok(repo::workspace(root)?.confirmed(confirmation))
}
