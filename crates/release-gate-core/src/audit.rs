//! The protocol's fast release-readiness audit: five yes/no questions, each backed by findings.
//!
//! The audit asks the protocol's questions as written, whatever the decision or the policy says:
//! "If any answer is no, release is not ready."

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Severity};
use crate::policy::Policy;
use crate::validate::{Document, Rules};

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
}

/// The answer to one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Answer {
    pub id: Question,
    pub question: String,
    pub yes: bool,
    /// The findings behind a "no".
    pub findings: Vec<Finding>,
}

/// The audit's result: ready only when every answer is yes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Audit {
    pub ready: bool,
    pub answers: Vec<Answer>,
}

/// Runs the five-question audit. The time only matters to rules the audit does not ask about.
pub fn audit(document: &Document) -> Audit {
    // The protocol's questions, unaffected by a policy's severity overrides. Built once: the default
    // policy compiles its path rules.
    static DEFAULT: std::sync::LazyLock<Policy> = std::sync::LazyLock::new(Policy::default);
    let mut rules = Rules::new(document, &DEFAULT, jiff::Timestamp::UNIX_EPOCH);
    let answers: Vec<Answer> = Question::ALL
        .into_iter()
        .map(|question| {
            match question {
                Question::RiskClassDeclared => rules.risk_class(),
                Question::GateLayersMarked => rules.gates_marked(),
                Question::DecisionOwnerNamed => rules.decision_owner(),
                Question::RollbackTriggerConcrete => rules.rollback_trigger(),
                Question::CommunicationPrepared => rules.communication(Some(Severity::Error)),
            }
            let findings = rules.take_findings();
            Answer { id: question, question: question.text().to_owned(), yes: findings.is_empty(), findings }
        })
        .collect();
    Audit { ready: answers.iter().all(|answer| answer.yes), answers }
}
