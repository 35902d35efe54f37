//! Rules about a stored decision's life: a gate typed over evidence the policy runs, a record whose fields
//! contradict its own history, and a GO older than the policy lets it stand.

use super::Rules;
use crate::decision::{Call, Decision, Layer, RiskClass};
use crate::finding::{Code, Severity};
use crate::history::Change;
use crate::value;

/// The time evidence age is judged at: the GO's own time for a decided GO (so a GO does not turn invalid
/// because its evidence ages after the call; `decision-expired` says when the GO itself is too old),
/// otherwise `now`.
pub fn evidence_time(decision: &Decision, now: jiff::Timestamp) -> jiff::Timestamp {
    match decision.call().valid() {
        Some(Call::Go) => decision.decided_at.as_deref().and_then(value::parse_timestamp).unwrap_or(now),
        _ => now,
    }
}

impl Rules<'_> {
    /// A gate result a person typed over evidence the policy runs (`gate ... --override`): always reported,
    /// a warning for low risk and an error for medium and high (the policy's `[findings]` can change it).
    pub(super) fn evidence_overridden(&mut self) {
        for layer in Layer::ALL {
            let overridden = self.decision.history.iter().rev().find_map(|event| match &event.change {
                Change::GateRecorded { layer: recorded, override_justification, .. }
                    if *recorded == layer =>
                {
                    Some(override_justification.as_deref().map(|j| (j, event)))
                }
                _ => None,
            });
            let Some(Some((justification, event))) = overridden else { continue };
            let severity =
                if self.class == Some(RiskClass::Low) { Severity::Warning } else { Severity::Error };
            let message = format!(
                "The {layer} gate was typed by {} over the evidence the policy runs ({}), justified as: {}. Run the evidence instead (`release-gate gates run`), or keep the override as a known risk.",
                value::excerpt(&event.actor, 40),
                event.at,
                value::excerpt(justification, 120)
            );
            let line = self.gate_line(layer);
            self.emit(Code::EvidenceOverridden, severity, message, line);
        }
    }

    /// A stored record whose fields say something its history does not (a hand edit): every field is what
    /// replaying the history gives, and the binding is the last range drafted or rebound.
    pub(super) fn record_consistent(&mut self) {
        if self.decision.history.is_empty() {
            return;
        }
        let mut replayed = Decision { version: self.decision.version, ..Decision::default() };
        for event in &self.decision.history {
            replayed.record(event.clone());
        }
        let replayed = replayed.normalized();
        let stored = self.decision;
        let mut differs: Vec<&str> = Vec::new();
        let mut check = |name: &'static str, same: bool| {
            if !same {
                differs.push(name);
            }
        };
        check("scope", stored.scope == replayed.scope);
        check("risk_class", stored.risk_class == replayed.risk_class);
        for layer in Layer::ALL {
            let name = match layer {
                Layer::Code => "gates.code",
                Layer::Review => "gates.review",
                Layer::Operational => "gates.operational",
                Layer::Communication => "gates.communication",
                Layer::Decision => "gates.decision",
            };
            check(name, stored.gates.get(layer) == replayed.gates.get(layer));
        }
        check("residual_risks", stored.residual_risks == replayed.residual_risks);
        check("rollback_trigger", stored.rollback_trigger == replayed.rollback_trigger);
        check("rollback_owner", stored.rollback_owner == replayed.rollback_owner);
        check("decision_owner", stored.decision_owner == replayed.decision_owner);
        check("decision", stored.decision == replayed.decision);
        check("decided_at", stored.decided_at == replayed.decided_at);
        check("panel", stored.panel == replayed.panel);
        check("drill", stored.drill == replayed.drill);
        check("rehearsal", stored.rehearsal == replayed.rehearsal);
        check("communication", stored.communication == replayed.communication);
        check("operations", stored.operations == replayed.operations);
        let range = stored.history.iter().rev().find_map(|event| match &event.change {
            Change::Drafted { head, diff_digest, .. } | Change::Rebound { head, diff_digest, .. } => {
                Some((head, diff_digest))
            }
            _ => None,
        });
        if let (Some(binding), Some((head, digest))) = (&stored.binding, range) {
            check("binding", binding.head == *head && binding.diff_digest == *digest);
        }
        if differs.is_empty() {
            return;
        }
        self.emit(
            Code::RecordInconsistent,
            Severity::Error,
            format!(
                "The stored record's {} disagree(s) with its history (a hand edit): release-gate trusts only what the history records. Restore the record from version control, and record changes with release-gate.",
                differs.join(", ")
            ),
            None,
        );
    }

    /// A GO older than the class's `go_valid_for`: no longer an answer to "may this commit deploy now?".
    ///
    /// Only for a stored decision (one with a history): a written document is judged as written, and a
    /// signed one by `verify`, which applies the same rule at the deploy time.
    pub(super) fn decision_expired(&mut self) {
        if self.decision.history.is_empty() {
            return;
        }
        let (Some(Call::Go), Some(class)) = (self.decision.call().valid(), self.class) else { return };
        let Some(decided_at) = self.decision.decided_at.as_deref().and_then(value::parse_timestamp) else {
            return;
        };
        let valid_for = self.policy.class(class).go_valid_for;
        if self.now.duration_since(decided_at) <= valid_for {
            return;
        }
        let line = self.field_line(crate::markdown::Field::DecidedAt);
        self.emit(
            Code::DecisionExpired,
            Severity::Error,
            format!(
                "The GO was made at {decided_at}, longer ago than the {valid_for:#} a {class}-risk GO stands: the final decision owner confirms it again (`release-gate decide ID --go`) before it deploys."
            ),
            line,
        );
    }
}
