//! Next steps a person or an agent can act on: each names who acts (an agent may do it, or only the person
//! can), the MCP tool with its arguments, and the CLI command. Before a GO the list covers everything a GO
//! will still need, failed gates first as blockers; after a GO, the signatures still missing and the
//! commit that shares them, then the deploy gate.

use release_gate_core::decision::Call;
use release_gate_core::{Code, Decision, Finding, Severity};
use serde::Serialize;
use serde_json::{Value, json};

use crate::store::Id;
use crate::workspace::Workspace;

/// Who acts on a step. For an agent, `person` means: ask the person, and act only on their answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Who {
    /// An agent may do it on its own.
    Agent,
    /// Only the person: a call, a sign-off, a name, a fact only they know, an act on an environment.
    Person,
}

/// An MCP tool call that does a step.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ToolCall {
    pub name: &'static str,
    pub arguments: Value,
}

/// One next step.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Step {
    pub who: Who,
    /// What to do, and why, in a sentence.
    pub what: String,
    /// The finding the step clears, if it comes from one.
    pub code: Option<Code>,
    /// True for what blocks a GO outright (a failed gate): fix it, or the person records NO-GO.
    pub blocker: bool,
    /// The MCP tool that does it.
    pub tool: Option<ToolCall>,
    /// The CLI command that does it.
    pub command: Option<String>,
}

fn step(
    who: Who,
    what: impl Into<String>,
    tool: Option<(&'static str, Value)>,
    command: Option<String>,
) -> Step {
    Step {
        who,
        what: what.into(),
        code: None,
        blocker: false,
        tool: tool.map(|(name, arguments)| ToolCall { name, arguments }),
        command,
    }
}

/// The step that clears a finding.
fn for_finding(id: &Id, finding: &Finding) -> Option<Step> {
    use Who::{Agent, Person};
    let set = |field: &str, who: Who, what: &str| {
        step(
            who,
            what,
            Some((
                "set_decision_field",
                json!({"id": id.as_str(), "field": field, "values": ["..."], "actor": "..."}),
            )),
            Some(format!("release-gate set {id} {field} VALUE")),
        )
    };
    let mut step = match finding.code {
        Code::ScopeMissing | Code::ScopeDrift | Code::ScopeUnknown => {
            set("scope", Agent, "name what the release covers (every changed area)")
        }
        Code::RiskClassMissing | Code::RiskClassInvalid => step(
            Agent,
            "classify the diff, then declare the class it suggests (a lower class is the person's call)",
            Some(("declare_risk", json!({"id": id.as_str(), "risk_class": "...", "actor": "..."}))),
            Some(format!("release-gate risk {id} CLASS")),
        ),
        Code::RiskBelowSuggested => step(
            Person,
            "the declared class is below what the diff suggests: the person raises it, or gives the reason it is right",
            Some((
                "declare_risk",
                json!({"id": id.as_str(), "risk_class": "...", "justification": "...", "actor": "..."}),
            )),
            Some(format!("release-gate risk {id} CLASS --justification TEXT")),
        ),
        Code::GateUnmarked
        | Code::GateRequired
        | Code::EvidenceStale
        | Code::EvidenceExpired
        | Code::EvidenceFuture
        | Code::RiskDeclaredLate
        | Code::EvidenceOverridden => {
            let code_gate = finding.message.contains("code gate") || finding.code == Code::EvidenceOverridden;
            if finding.code == Code::EvidenceStale && finding.message.contains("rebind") {
                step(
                    Agent,
                    "new commits since the decision was drafted: move it to the new head, then re-run the gates",
                    Some(("rebind_decision", json!({"id": id.as_str(), "actor": "..."}))),
                    Some(format!("release-gate rebind {id}")),
                )
            } else if code_gate {
                step(
                    Agent,
                    "run the code gate's checks on the commit being released",
                    Some(("run_code_gates", json!({"id": id.as_str(), "actor": "..."}))),
                    Some(format!("release-gate gates run {id}")),
                )
            } else {
                step(
                    Agent,
                    "record the gate again on the commit being released, with its evidence",
                    Some((
                        "record_gate",
                        json!({"id": id.as_str(), "layer": "...", "result": "pass", "evidence": ["..."], "actor": "..."}),
                    )),
                    Some(format!("release-gate gate {id} LAYER pass --evidence TEXT")),
                )
            }
        }
        Code::GateFailed => {
            let mut blocker = step(
                Agent,
                "a gate failed: fix the cause and run it again; never type a pass over it. If it cannot be fixed, the person records NO-GO",
                Some(("run_code_gates", json!({"id": id.as_str(), "actor": "..."}))),
                Some(format!("release-gate gates run {id}")),
            );
            blocker.blocker = true;
            blocker
        }
        Code::ResidualRisksMissing => {
            set("residual-risks", Person, "name the risks that remain open (or `none`)")
        }
        Code::RollbackTriggerMissing | Code::RollbackTriggerVague => set(
            "rollback-trigger",
            Person,
            "state the condition that triggers a rollback: a signal, a comparison and a number",
        ),
        Code::RollbackOwnerMissing => set("rollback-owner", Person, "name who executes a rollback"),
        Code::DecisionOwnerMissing => {
            set("decision-owner", Person, "name the one person who owns the final call")
        }
        Code::PanelMissing => set("panel", Person, "name the go/no-go panel"),
        Code::DrillIncomplete => step(
            Agent,
            "run the pre-release drill; the person confirms the items no command checks (dashboards, pager)",
            Some(("run_drill", json!({"id": id.as_str(), "actor": "..."}))),
            Some(format!("release-gate drill {id}")),
        ),
        Code::RehearsalMissing
        | Code::RehearsalIncomplete
        | Code::RehearsalFailed
        | Code::TriggerNotObserved => step(
            Person,
            "rehearse the rollback (it acts on an environment, so the person approves it first)",
            Some(("run_rehearsal", json!({"id": id.as_str(), "actor": "..."}))),
            Some(format!("release-gate rehearse {id}")),
        ),
        Code::CommunicationIncomplete => step(
            Agent,
            "fill the communication package (pre-filled from the commits and the decision)",
            Some(("set_communication", json!({"id": id.as_str(), "prefill": true, "actor": "..."}))),
            Some(format!("release-gate comms {id}")),
        ),
        Code::FreezeWindow => step(
            Person,
            "the release falls in a freeze window: the person waits, or records an approved exception",
            None,
            None,
        ),
        Code::DecisionExpired | Code::DecisionMissing | Code::TimestampMissing => return None,
        Code::RecordInconsistent => step(
            Person,
            "the record was edited by hand: restore it from version control",
            None,
            Some(format!("git checkout -- .release/decisions/{id}.json")),
        ),
        _ => return None,
    };
    step.code = Some(finding.code);
    Some(step)
}

impl Workspace {
    /// The steps from here: the report's errors, then what a GO still needs, then the call; after a GO, the
    /// signatures, the commit and the deploy gate.
    pub fn steps(
        &self,
        id: &Id,
        decision: &Decision,
        report: &release_gate_core::Report,
        go_needs: &[Finding],
        now: jiff::Timestamp,
    ) -> Vec<Step> {
        let mut steps: Vec<Step> = Vec::new();
        if decision.closure().is_some() {
            return steps;
        }
        let errors = report.findings.iter().chain(go_needs).filter(|f| f.severity == Severity::Error);
        for finding in errors {
            if let Some(step) = for_finding(id, finding)
                && !steps.iter().any(|s| s.code == step.code && s.what == step.what)
            {
                steps.push(step);
            }
        }
        // Blockers first.
        steps.sort_by_key(|step| !step.blocker);
        match decision.call().valid() {
            None => steps.push(step(
                Who::Person,
                "the final decision owner makes the GO / NO-GO call (it also marks the decision gate and its time)",
                Some(("decide", json!({"id": id.as_str(), "call": "GO or NO-GO", "owner": decision.decision_owner.clone().unwrap_or_else(|| "...".into()), "actor": "..."}))),
                Some(format!("release-gate decide {id} --go|--no-go --owner NAME")),
            )),
            Some(Call::NoGo) => {}
            Some(Call::Go) => steps.extend(self.after_go(id, decision, now)),
        }
        steps
    }

    /// After a GO: who still signs, sharing the records, and the deploy gate.
    fn after_go(&self, id: &Id, decision: &Decision, now: jiff::Timestamp) -> Vec<Step> {
        let mut steps = Vec::new();
        let class = decision.risk_class().valid();
        let required = class.map_or(0, |class| self.policy.class(class).signatures) as usize;
        let envelope = self.git.root().join(".release/attestations").join(format!("{id}.dsse.json"));
        let signed_by: Vec<String> = if self.is_signed(id) {
            self.verify(&envelope, None, None, now)
                .map(|result| result.signers.into_iter().flat_map(|signer| signer.principals).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let same = |a: &str, b: &str| {
            release_gate_core::signing::person_name(a)
                .eq_ignore_ascii_case(release_gate_core::signing::person_name(b))
        };
        let panel_signed =
            decision.panel.iter().filter(|name| signed_by.iter().any(|s| same(s, name))).count();
        let need_owner = required == 0 && signed_by.is_empty();
        if panel_signed < required || need_owner {
            let missing: Vec<String> = if required == 0 {
                decision.decision_owner.iter().cloned().collect()
            } else {
                decision
                    .panel
                    .iter()
                    .filter(|name| !signed_by.iter().any(|s| same(s, name)))
                    .cloned()
                    .collect()
            };
            steps.push(step(
                Who::Person,
                format!(
                    "signatures: {panel_signed} of {} panel signature(s); still to sign: {} (each with their own key; check_setup shows whether they can)",
                    required.max(1),
                    missing.join(", ")
                ),
                Some(("sign_decision", json!({"id": id.as_str()}))),
                Some(format!("release-gate sign {id} --key PATH")),
            ));
        }
        steps.push(step(
            Who::Agent,
            "commit .release/ (the decision, its attestation and the log) so the team and the deploy job see them",
            None,
            Some("git add .release && git commit -m \"release decision\"".to_owned()),
        ));
        steps.push(step(
            Who::Agent,
            "before deploying, check the signed GO for exactly the commit being deployed",
            Some(("verify_decision", json!({"id": id.as_str()}))),
            Some(format!("release-gate verify {id} --commit SHA")),
        ));
        steps
    }
}
