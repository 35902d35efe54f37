//! The protocol's fast release-readiness audit: five yes/no questions, each backed by findings.
//!
//! The audit is the validator's report read as the protocol's questions, so `validate` and `audit` of the
//! same document under the same policy give one answer: the release is ready exactly when the report
//! passes. A question is answered "no" when an error finding stands behind it; errors of rules outside the
//! five questions (panel, drill, rehearsal, freshness of evidence...) are listed under `other`.

use serde::{Deserialize, Serialize};

use crate::finding::{Code, Finding, Severity};
use crate::validate::{Report, Verdict};

/// One of the audit's questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Question {
    RiskClassDeclared,
    GateLayersMarked,
    DecisionOwnerNamed,
    RollbackTriggerConcrete,
    CommunicationPrepared,
}

impl Question {
    pub const ALL: [Question; 5] = [
        Question::RiskClassDeclared,
        Question::GateLayersMarked,
        Question::DecisionOwnerNamed,
        Question::RollbackTriggerConcrete,
        Question::CommunicationPrepared,
    ];

    /// The question as the protocol asks it.
    pub fn text(self) -> &'static str {
        match self {
            Question::RiskClassDeclared => "Is risk class explicitly declared?",
            Question::GateLayersMarked => "Are all gate layers marked pass/fail?",
            Question::DecisionOwnerNamed => "Is final decision owner named?",
            Question::RollbackTriggerConcrete => "Is rollback trigger concrete and testable?",
            Question::CommunicationPrepared => "Is communication package prepared?",
        }
    }

    /// The finding codes that answer the question.
    pub fn codes(self) -> &'static [Code] {
        match self {
            Question::RiskClassDeclared => &[
                Code::RiskClassMissing,
                Code::RiskClassInvalid,
                Code::RiskDeclaredLate,
                Code::RiskBelowSuggested,
            ],
            Question::GateLayersMarked => &[
                Code::GateUnmarked,
                Code::GateRequired,
                Code::GateFailed,
                Code::EvidenceStale,
                Code::EvidenceExpired,
                Code::EvidenceFuture,
                Code::EvidenceOverridden,
            ],
            Question::DecisionOwnerNamed => &[Code::DecisionOwnerMissing],
            Question::RollbackTriggerConcrete => &[Code::RollbackTriggerMissing, Code::RollbackTriggerVague],
            Question::CommunicationPrepared => &[Code::CommunicationIncomplete],
        }
    }
}

/// The answer to one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Answer {
    pub id: Question,
    pub question: String,
    /// No error finding stands behind the question.
    pub yes: bool,
    /// The findings behind the answer: the errors behind a "no", and any warnings.
    pub findings: Vec<Finding>,
}

/// The audit's result: ready exactly when `validate` passes (then every answer is yes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Audit {
    pub ready: bool,
    pub answers: Vec<Answer>,
    /// Errors of rules outside the five questions (panel, drill, rehearsal, decision, timestamp, freeze,
    /// scope...): a release with any of them is not ready either.
    #[serde(default)]
    pub other: Vec<Finding>,
}

/// Reads a validation report as the five-question audit.
pub fn audit(report: &Report) -> Audit {
    let answers: Vec<Answer> = Question::ALL
        .into_iter()
        .map(|question| {
            let findings: Vec<Finding> =
                report.findings.iter().filter(|f| question.codes().contains(&f.code)).cloned().collect();
            let yes = !findings.iter().any(|f| f.severity == Severity::Error);
            Answer { id: question, question: question.text().to_owned(), yes, findings }
        })
        .collect();
    let other = report
        .errors()
        .filter(|f| !Question::ALL.iter().any(|question| question.codes().contains(&f.code)))
        .cloned()
        .collect();
    Audit { ready: report.verdict == Verdict::Pass, answers, other }
}
