//! The history of a decision kept in a repository: every change, appended with who and when, never
//! rewritten; and the git range the decision covers.
//!
//! Changes go through [`Decision::record`], which applies the change to the template fields and appends
//! the event, so the fields always show the latest state and the history shows how it got there.
//! The latest `gate-recorded` event of a layer is that gate's evidence.

use serde::{Deserialize, Serialize};

use crate::decision::{Call, Decision, GateResult, Layer, RiskClass};

/// The git range a decision covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    /// The repository: its `origin` remote URL, or its folder name when it has none.
    pub repository: String,
    /// The base commit (what is already released).
    pub base: String,
    /// The head commit the decision was drafted on.
    pub head: String,
    /// `sha256:<hex>` of the raw base..head diff: every changed path with its modes and blob ids.
    pub diff_digest: String,
}

/// A template field that can be set directly (the rest change through their own events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SettableField {
    Scope,
    ResidualRisks,
    RollbackTrigger,
    RollbackOwner,
    DecisionOwner,
    Panel,
}

impl SettableField {
    pub const ALL: [SettableField; 6] = [
        SettableField::Scope,
        SettableField::ResidualRisks,
        SettableField::RollbackTrigger,
        SettableField::RollbackOwner,
        SettableField::DecisionOwner,
        SettableField::Panel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SettableField::Scope => "scope",
            SettableField::ResidualRisks => "residual-risks",
            SettableField::RollbackTrigger => "rollback-trigger",
            SettableField::RollbackOwner => "rollback-owner",
            SettableField::DecisionOwner => "decision-owner",
            SettableField::Panel => "panel",
        }
    }

    pub fn from_name(name: &str) -> Option<SettableField> {
        SettableField::ALL.into_iter().find(|field| field.as_str() == name)
    }
}

/// One change to a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Change {
    /// The decision was created for a git range.
    Drafted { base: String, head: String, diff_digest: String },
    /// The risk class was declared or changed.
    RiskDeclared {
        risk_class: RiskClass,
        /// Why the class is lower than the diff suggests, when it is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        justification: Option<String>,
    },
    /// A gate layer was marked, with its evidence, on a commit.
    GateRecorded {
        layer: Layer,
        result: GateResult,
        /// Links, approvals, notes: what shows the result.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<String>,
        /// The commit the evidence was gathered on.
        commit: String,
        /// The diff digest the evidence covers (for the review gate: the diff that was reviewed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        diff_digest: Option<String>,
        /// The checks that were run for this result, when it was run rather than typed.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        checks: Vec<CheckResult>,
        /// Why a person typed this result where the policy runs the evidence (`--override`): set only on
        /// an explicit override, reported by `evidence-overridden`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        override_justification: Option<String>,
    },
    /// A pre-release drill item was run or confirmed.
    DrillItemRecorded {
        item: DrillItem,
        passed: bool,
        /// What a person confirmed, or notes.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<String>,
        /// The command run for the item, if it was run.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        check: Option<CheckResult>,
        commit: String,
    },
    /// The rollback rehearsal was run.
    RehearsalRun {
        /// apply, trigger, rollback, then the last run of the recovery check.
        steps: Vec<CheckResult>,
        /// Rollback start to the recovery check's first success, in milliseconds; absent if it never recovered.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recovery_ms: Option<u64>,
        /// The policy's limit on recovery time, in milliseconds.
        max_recovery_ms: u64,
        /// Trigger end to the recovery check's first failure (the service seen broken), in milliseconds;
        /// absent if the check never failed, so the trigger was not observed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detection_ms: Option<u64>,
        passed: bool,
        commit: String,
        /// What the metrics server showed of each watched rollback trigger, when the policy maps them to
        /// signals: baseline, time to detection, time to clear, the query and the bounded series.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        metrics: Vec<crate::signals::Observation>,
    },
    /// A post-deploy watch saw a rollback trigger fire; recorded before the rollback runs, so a crash
    /// after it cannot hide that the rollback was started.
    WatchFired { commit: String, observation: crate::signals::Observation },
    /// A post-deploy watch ended: passed, rolled back, rollback failed, or inconclusive.
    WatchEnded {
        outcome: crate::signals::WatchOutcome,
        commit: String,
        /// The rollback that ran, if one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rollback: Option<CheckResult>,
        /// Why it ended inconclusive, when it did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        observations: Vec<crate::signals::Observation>,
    },
    /// A friction point of the rehearsal was noted.
    FrictionNoted { note: String },
    /// Elements of the communication package were set.
    CommunicationSet { package: crate::decision::Communication },
    /// Operational facts were set.
    OperationsSet { operations: crate::decision::Operations },
    /// A template field was set.
    FieldSet { field: SettableField, value: Vec<String> },
    /// The go/no-go call was made.
    Decided {
        decision: Call,
        owner: String,
        /// Why, in the owner's words (above all for a NO-GO).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The decision moved to a new head on the same base: new commits after the draft.
    Rebound {
        previous_head: String,
        head: String,
        diff_digest: String,
        /// Each file changed from the previous head to the new one, with the class the policy suggests.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        delta: Vec<DeltaFile>,
    },
    /// The decision's life ended: deployed, rolled back or abandoned.
    Closed {
        outcome: Closure,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

/// A file changed between two heads of a decision, with the risk class its path suggests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeltaFile {
    pub path: String,
    pub class: RiskClass,
    /// The policy pattern that set the class.
    pub rule: String,
}

/// How a decision's life ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Closure {
    /// The GO was deployed.
    Deployed,
    /// The deployed release was rolled back.
    RolledBack,
    /// The release will not ship under this decision.
    Abandoned,
}

impl Closure {
    pub fn as_str(self) -> &'static str {
        match self {
            Closure::Deployed => "deployed",
            Closure::RolledBack => "rolled-back",
            Closure::Abandoned => "abandoned",
        }
    }
}

impl Change {
    /// The kebab-case name of the change, as in the JSON `type` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Drafted { .. } => "drafted",
            Change::RiskDeclared { .. } => "risk-declared",
            Change::GateRecorded { .. } => "gate-recorded",
            Change::FieldSet { .. } => "field-set",
            Change::Decided { .. } => "decided",
            Change::Rebound { .. } => "rebound",
            Change::Closed { .. } => "closed",
            Change::DrillItemRecorded { .. } => "drill-item-recorded",
            Change::RehearsalRun { .. } => "rehearsal-run",
            Change::WatchFired { .. } => "watch-fired",
            Change::WatchEnded { .. } => "watch-ended",
            Change::FrictionNoted { .. } => "friction-noted",
            Change::CommunicationSet { .. } => "communication-set",
            Change::OperationsSet { .. } => "operations-set",
        }
    }
}

/// A change with who made it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Event {
    #[schemars(with = "String")]
    pub at: jiff::Timestamp,
    pub actor: String,
    pub change: Change,
    /// How the person confirmed this change when an agent made it for them (a person-only act over MCP).
    /// Absent for everything else, and in records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<Confirmation>,
}

/// A person's confirmation of an act an agent made for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    /// How they confirmed.
    pub how: ConfirmedHow,
    /// The name the person gave when they confirmed; absent when they were not asked (`client-approval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The client they confirmed in, as it names itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

/// How a person confirmed an act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ConfirmedHow {
    /// They answered the server's question in the client (a 2025-era client: elicitation).
    Elicitation,
    /// They answered the server's question in the client (a 2026-07-28 client: an input-required result
    /// whose sealed request state came back with their answer).
    InputRequest,
    /// Nobody was asked: the person who started the server made the client's approval of the call the
    /// confirmation.
    ClientApproval,
}

impl ConfirmedHow {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfirmedHow::Elicitation => "elicitation",
            ConfirmedHow::InputRequest => "input-request",
            ConfirmedHow::ClientApproval => "client-approval",
        }
    }
}

/// The evidence behind one gate: its latest `gate-recorded` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateEvidence<'a> {
    pub at: jiff::Timestamp,
    pub actor: &'a str,
    pub result: GateResult,
    pub evidence: &'a [String],
    pub commit: &'a str,
    pub diff_digest: Option<&'a str>,
}

/// Whether `text` is a full git object id as release-gate records it: 40 (SHA-1) or 64 (SHA-256)
/// lowercase hexadecimal digits. Anything else in a stored record is refused before it reaches git.
pub fn is_object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `text` is a diff digest as release-gate records it: `sha256:` and 64 lowercase hex digits.
pub fn is_diff_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Whether a gate's evidence still counts for a release: the one rule behind `validate`'s
/// `evidence-stale` / `evidence-future` / `evidence-expired` and `status`'s fresh and expired flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// Why the evidence is for another change, if it is.
    pub stale: Option<Stale>,
    /// Dated after the time of judgement (beyond the clock tolerance).
    pub future: bool,
    /// Older than the class's maximum evidence age at the time of judgement.
    pub expired: bool,
}

/// Why evidence is for another change than the one being released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    /// Gathered on a commit whose code differs from the released commit's.
    OtherCommit,
    /// Gathered on the released code, but for another diff (the base moved).
    OtherDiff,
}

impl GateEvidence<'_> {
    /// Judges this evidence for releasing `release`: dated after `now` is from the future; its age is taken
    /// at `age_at` (the GO's time for a decided GO, see `validate::evidence_time`) against `max_age`.
    pub fn judge(
        &self,
        release: &crate::validate::ReleaseFacts,
        now: jiff::Timestamp,
        age_at: jiff::Timestamp,
        max_age: Option<jiff::SignedDuration>,
    ) -> Freshness {
        let stale = if self.commit != release.commit && !release.same_code.iter().any(|c| c == self.commit) {
            Some(Stale::OtherCommit)
        } else if self.diff_digest.is_some_and(|digest| digest != release.diff_digest) {
            Some(Stale::OtherDiff)
        } else {
            None
        };
        let latest = now.checked_add(crate::validate::FUTURE_TOLERANCE).unwrap_or(now);
        let future = self.at > latest;
        let expired = !future && max_age.is_some_and(|max_age| age_at.duration_since(self.at) > max_age);
        Freshness { stale, future, expired }
    }
}

impl Decision {
    /// Checks what a stored record says about git before anything acts on it: every commit a full object
    /// id and every diff digest well formed, in the binding and in each event. A record comes from the
    /// repository (and so from pull requests): `--output=FILE` as a base must never reach git.
    pub fn check_stored(&self) -> Result<(), crate::decision::RecordError> {
        use crate::decision::RecordError;
        fn commit(field: String, value: &str) -> Result<(), RecordError> {
            if is_object_id(value) {
                Ok(())
            } else {
                Err(RecordError::Field {
                    field,
                    reason: "is not a full commit id (40 or 64 lowercase hex digits)",
                })
            }
        }
        fn digest(field: String, value: &str) -> Result<(), RecordError> {
            if is_diff_digest(value) {
                Ok(())
            } else {
                Err(RecordError::Field {
                    field,
                    reason: "is not a diff digest (`sha256:` and 64 hex digits)",
                })
            }
        }
        if let Some(binding) = &self.binding {
            commit("binding.base".into(), &binding.base)?;
            commit("binding.head".into(), &binding.head)?;
            digest("binding.diff_digest".into(), &binding.diff_digest)?;
        }
        for (index, event) in self.history.iter().enumerate() {
            let field = |name: &str| format!("history[{index}].change.{name}");
            match &event.change {
                Change::Drafted { base, head, diff_digest } => {
                    commit(field("base"), base)?;
                    commit(field("head"), head)?;
                    digest(field("diff_digest"), diff_digest)?;
                }
                Change::GateRecorded { commit: at, diff_digest, .. } => {
                    commit(field("commit"), at)?;
                    if let Some(value) = diff_digest {
                        digest(field("diff_digest"), value)?;
                    }
                }
                Change::DrillItemRecorded { commit: at, .. }
                | Change::RehearsalRun { commit: at, .. }
                | Change::WatchFired { commit: at, .. }
                | Change::WatchEnded { commit: at, .. } => {
                    commit(field("commit"), at)?;
                }
                Change::Rebound { previous_head, head, diff_digest, .. } => {
                    commit(field("previous_head"), previous_head)?;
                    commit(field("head"), head)?;
                    digest(field("diff_digest"), diff_digest)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Applies a change to the template fields and appends it to the history.
    pub fn record(&mut self, event: Event) {
        match &event.change {
            Change::Drafted { .. } => {}
            // A watch changes no field: its events are the evidence of what happened after the deploy.
            Change::WatchFired { .. } | Change::WatchEnded { .. } => {}
            Change::RiskDeclared { risk_class, .. } => self.risk_class = Some(risk_class.as_str().to_owned()),
            Change::GateRecorded { layer, result, evidence, checks, override_justification, .. } => {
                let mut notes: Vec<String> = Vec::new();
                // An override says so wherever the gate is shown: status, render, release note, statement.
                if let Some(justification) = override_justification {
                    notes.push(format!("overridden by {}: {justification}", event.actor));
                }
                notes.extend(evidence.iter().cloned());
                if !checks.is_empty() {
                    let passed = checks.iter().filter(|check| check.passed).count();
                    notes.push(format!("{passed}/{} checks passed", checks.len()));
                }
                let text = if notes.is_empty() {
                    result.as_str().to_owned()
                } else {
                    format!("{} ({})", result.as_str(), notes.join("; "))
                };
                *self.gates.get_mut(*layer) = Some(crate::value::tidy_line(&text));
            }
            Change::DrillItemRecorded { item, passed, .. } => {
                if self.drill.is_empty() {
                    self.drill = crate::decision::DRILL_ITEMS
                        .iter()
                        .map(|text| crate::decision::ChecklistItem {
                            checked: false,
                            item: (*text).to_owned(),
                        })
                        .collect();
                }
                let text = item.text();
                match self.drill.iter_mut().find(|entry| entry.item == text) {
                    Some(entry) => entry.checked = *passed,
                    None => self
                        .drill
                        .push(crate::decision::ChecklistItem { checked: *passed, item: text.to_owned() }),
                }
            }
            Change::RehearsalRun { steps, recovery_ms, max_recovery_ms, detection_ms, passed, .. } => {
                let mut rehearsal = self.rehearsal.take().unwrap_or_default();
                let outcome =
                    |name: &str| steps.iter().find(|step| step.name == name).map(CheckResult::summary);
                rehearsal.apply_candidate_build = outcome("apply");
                // Records from before detection was observed have no `detect` step.
                let detected = steps.iter().any(|step| step.name == "detect").then(|| match detection_ms {
                    Some(ms) => format!("; service seen broken after {}", format_ms(*ms)),
                    None => "; the service was never seen broken (trigger not observed)".to_owned(),
                });
                rehearsal.simulate_rollback_trigger =
                    outcome("trigger").map(|text| format!("{text}{}", detected.unwrap_or_default()));
                rehearsal.execute_rollback_path = outcome("rollback");
                rehearsal.confirm_recovery = Some(match recovery_ms {
                    Some(_) => "recovered: the check passed".to_owned(),
                    None => "did not recover within the polling limit".to_owned(),
                });
                rehearsal.recovery_time = recovery_ms.map(|ms| {
                    let verdict = if *passed { "" } else { " (over the limit)" };
                    format!("{}{verdict}", format_ms(ms))
                });
                let _ = max_recovery_ms;
                self.rehearsal = Some(rehearsal);
            }
            Change::FrictionNoted { note } => {
                let mut rehearsal = self.rehearsal.take().unwrap_or_default();
                rehearsal.friction_points = Some(match rehearsal.friction_points.take() {
                    Some(existing) => format!("{existing}\n{note}"),
                    None => note.clone(),
                });
                self.rehearsal = Some(rehearsal);
            }
            Change::CommunicationSet { package } => {
                let mut current = self.communication.take().unwrap_or_default();
                for (label, value) in package.fields() {
                    if let (Some(value), Some(slot)) = (value, current.field_mut(label)) {
                        *slot = Some(value.to_owned());
                    }
                }
                self.communication = Some(current);
            }
            Change::OperationsSet { operations } => {
                let mut current = self.operations.take().unwrap_or_default();
                for (label, value) in operations.fields() {
                    if let (Some(value), Some(slot)) = (value, current.field_mut(label)) {
                        *slot = Some(value.to_owned());
                    }
                }
                self.operations = Some(current);
            }
            Change::FieldSet { field, value } => {
                let joined = (!value.is_empty()).then(|| value.join("\n"));
                match field {
                    SettableField::Scope => self.scope = joined,
                    SettableField::ResidualRisks => self.residual_risks = value.clone(),
                    SettableField::RollbackTrigger => {
                        self.rollback_trigger = value.clone();
                        // The stored record carries its structured conditions, as every other form does.
                        self.rollback_conditions =
                            value.iter().filter_map(|text| crate::trigger::parse(text)).collect();
                    }
                    SettableField::RollbackOwner => self.rollback_owner = joined,
                    SettableField::DecisionOwner => self.decision_owner = joined,
                    SettableField::Panel => self.panel = value.clone(),
                }
            }
            Change::Rebound { head, diff_digest, .. } => {
                if let Some(binding) = &mut self.binding {
                    binding.head = head.clone();
                    binding.diff_digest = diff_digest.clone();
                }
            }
            Change::Closed { .. } => {}
            Change::Decided { decision, owner, .. } => {
                self.decision = Some(decision.as_str().to_owned());
                self.decision_owner = Some(owner.clone());
                self.decided_at = Some(event.at.round(jiff::Unit::Second).unwrap_or(event.at).to_string());
            }
        }
        self.history.push(event);
    }

    /// How the decision's life ended, if it has.
    pub fn closure(&self) -> Option<Closure> {
        self.history.iter().rev().find_map(|event| match &event.change {
            Change::Closed { outcome, .. } => Some(*outcome),
            _ => None,
        })
    }

    /// The latest evidence recorded for a gate layer, if any.
    pub fn gate_evidence(&self, layer: Layer) -> Option<GateEvidence<'_>> {
        self.history.iter().rev().find_map(|event| match &event.change {
            Change::GateRecorded { layer: recorded, result, evidence, commit, diff_digest, .. }
                if *recorded == layer =>
            {
                Some(GateEvidence {
                    at: event.at,
                    actor: &event.actor,
                    result: *result,
                    evidence,
                    commit,
                    diff_digest: diff_digest.as_deref(),
                })
            }
            _ => None,
        })
    }

    /// The justification given with the latest risk declaration, if any.
    pub fn risk_justification(&self) -> Option<&str> {
        self.history.iter().rev().find_map(|event| match &event.change {
            Change::RiskDeclared { justification, .. } => Some(justification.as_deref()),
            _ => None,
        })?
    }
}

/// One of the protocol's five pre-release drill items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DrillItem {
    /// Confirm critical commands run cleanly in the current branch (run).
    CriticalCommands,
    /// Verify feature flags/defaults are as expected (run).
    FeatureFlags,
    /// Verify the rollback command/process still works (run).
    RollbackCommand,
    /// Verify dashboards/alerts cover changed surfaces (confirmed by a person).
    Dashboards,
    /// Verify pager owner and backup owner are available (confirmed by a person).
    Pager,
}

impl DrillItem {
    pub const ALL: [DrillItem; 5] = [
        DrillItem::CriticalCommands,
        DrillItem::FeatureFlags,
        DrillItem::RollbackCommand,
        DrillItem::Dashboards,
        DrillItem::Pager,
    ];

    /// The protocol's wording of the item.
    pub fn text(self) -> &'static str {
        let index = match self {
            DrillItem::CriticalCommands => 0,
            DrillItem::FeatureFlags => 1,
            DrillItem::RollbackCommand => 2,
            DrillItem::Dashboards => 3,
            DrillItem::Pager => 4,
        };
        crate::decision::DRILL_ITEMS.get(index).copied().unwrap_or("")
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DrillItem::CriticalCommands => "critical-commands",
            DrillItem::FeatureFlags => "feature-flags",
            DrillItem::RollbackCommand => "rollback-command",
            DrillItem::Dashboards => "dashboards",
            DrillItem::Pager => "pager",
        }
    }

    /// Whether the item is checked by running a command (else a person confirms it).
    pub fn runs(self) -> bool {
        matches!(self, DrillItem::CriticalCommands | DrillItem::FeatureFlags | DrillItem::RollbackCommand)
    }
}

/// What running one command showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckResult {
    pub name: String,
    pub command: Vec<String>,
    /// The exit code; absent when the process was killed or could not start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Killed for running past its timeout.
    #[serde(default)]
    pub timed_out: bool,
    /// Why it could not start, if it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// The last lines of its combined stdout and stderr.
    pub output_tail: String,
    /// `sha256:<hex>` of all of its output.
    pub output_digest: String,
    pub passed: bool,
}

impl CheckResult {
    /// One line: `ok in 1.2s`, `failed (exit 1) in 0.3s`, `timed out after 10s`.
    pub fn summary(&self) -> String {
        let took = format_ms(self.duration_ms);
        if self.passed {
            format!("ok in {took}")
        } else if self.timed_out {
            format!("timed out after {took}")
        } else if let Some(error) = &self.error {
            format!("could not run: {error}")
        } else {
            match self.exit_code {
                Some(code) => format!("failed (exit {code}) in {took}"),
                None => format!("failed (killed) in {took}"),
            }
        }
    }
}

/// Milliseconds for people: `850ms`, `4.3s`, `4m 10s`.
pub fn format_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{}m {}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}
