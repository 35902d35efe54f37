//! The history of a decision kept in a repository: every change, appended with who and when, never
//! rewritten; and the git range the decision covers.
//!
//! Changes go through [`Decision::record`], which applies the change to the template fields and appends
//! the event, so the fields always show the latest state and the history shows how it got there.
//! The latest `gate-recorded` event of a layer is that gate's evidence.

use serde::{Deserialize, Serialize};

use crate::decision::{Call, Decision, Layer, RiskClass};

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

/// A gate result as recorded with evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Mark {
    #[serde(rename = "pass")]
    Pass,
    #[serde(rename = "fail")]
    Fail,
    #[serde(rename = "n/a")]
    NotApplicable,
}

impl Mark {
    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Pass => "pass",
            Mark::Fail => "fail",
            Mark::NotApplicable => "n/a",
        }
    }

    pub fn from_name(name: &str) -> Option<Mark> {
        match name.to_ascii_lowercase().as_str() {
            "pass" => Some(Mark::Pass),
            "fail" => Some(Mark::Fail),
            "n/a" | "na" => Some(Mark::NotApplicable),
            _ => None,
        }
    }
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
        result: Mark,
        /// Links, approvals, notes: what shows the result.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        evidence: Vec<String>,
        /// The commit the evidence was gathered on.
        commit: String,
        /// The diff digest the evidence covers (for the review gate: the diff that was reviewed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        diff_digest: Option<String>,
    },
    /// A template field was set.
    FieldSet { field: SettableField, value: Vec<String> },
    /// The go/no-go call was made.
    Decided { decision: Call, owner: String },
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
}

/// The evidence behind one gate: its latest `gate-recorded` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateEvidence<'a> {
    pub at: jiff::Timestamp,
    pub actor: &'a str,
    pub result: Mark,
    pub evidence: &'a [String],
    pub commit: &'a str,
    pub diff_digest: Option<&'a str>,
}

impl Decision {
    /// Applies a change to the template fields and appends it to the history.
    pub fn record(&mut self, event: Event) {
        match &event.change {
            Change::Drafted { .. } => {}
            Change::RiskDeclared { risk_class, .. } => self.risk_class = Some(risk_class.as_str().to_owned()),
            Change::GateRecorded { layer, result, evidence, .. } => {
                let text = if evidence.is_empty() {
                    result.as_str().to_owned()
                } else {
                    format!("{} ({})", result.as_str(), evidence.join("; "))
                };
                *self.gates.get_mut(*layer) = Some(crate::value::tidy_line(&text));
            }
            Change::FieldSet { field, value } => {
                let joined = (!value.is_empty()).then(|| value.join("\n"));
                match field {
                    SettableField::Scope => self.scope = joined,
                    SettableField::ResidualRisks => self.residual_risks = value.clone(),
                    SettableField::RollbackTrigger => self.rollback_trigger = value.clone(),
                    SettableField::RollbackOwner => self.rollback_owner = joined,
                    SettableField::DecisionOwner => self.decision_owner = joined,
                    SettableField::Panel => self.panel = value.clone(),
                }
            }
            Change::Decided { decision, owner } => {
                self.decision = Some(decision.as_str().to_owned());
                self.decision_owner = Some(owner.clone());
                self.decided_at = Some(event.at.round(jiff::Unit::Second).unwrap_or(event.at).to_string());
            }
        }
        self.history.push(event);
    }

    /// The latest evidence recorded for a gate layer, if any.
    pub fn gate_evidence(&self, layer: Layer) -> Option<GateEvidence<'_>> {
        self.history.iter().rev().find_map(|event| match &event.change {
            Change::GateRecorded { layer: recorded, result, evidence, commit, diff_digest }
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
