//! The protocol's quick checklist: "before go/no-go" and "before production deploy", each item with
//! its state.

use serde::{Deserialize, Serialize};

use crate::decision::{Decision, Layer, Reading};
use crate::value;

/// One checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Item {
    pub item: String,
    pub done: bool,
    /// What is missing when it is not done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

/// The quick checklist in its two stages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Checklist {
    pub before_go_no_go: Vec<Item>,
    pub before_production_deploy: Vec<Item>,
}

impl Checklist {
    pub fn complete(&self) -> bool {
        self.before_go_no_go.iter().chain(&self.before_production_deploy).all(|item| item.done)
    }
}

fn item(text: &str, missing: Option<String>) -> Item {
    Item { item: text.to_owned(), done: missing.is_none(), missing }
}

/// Works out each item's state from the decision.
pub fn checklist(decision: &Decision) -> Checklist {
    let risk = match decision.risk_class() {
        Reading::Valid(_) => None,
        Reading::Missing => Some("no risk class".to_owned()),
        Reading::Invalid(word) => Some(format!("`{word}` is not a risk class")),
    };
    let unmarked: Vec<&str> = Layer::ALL
        .into_iter()
        .filter(|layer| decision.gate(*layer).valid().is_none())
        .map(Layer::as_str)
        .collect();
    let gates = (!unmarked.is_empty()).then(|| format!("not evaluated: {}", unmarked.join(", ")));
    let conditions: Vec<&str> =
        decision.rollback_trigger.iter().filter_map(|t| value::meaningful(Some(t))).collect();
    let mut rollback = Vec::new();
    if conditions.is_empty() {
        rollback.push("no rollback trigger".to_owned());
    } else if conditions.iter().any(|c| !value::is_concrete_trigger(c)) {
        rollback.push("a rollback trigger is not concrete".to_owned());
    }
    if value::meaningful(decision.rollback_owner.as_deref()).is_none() {
        rollback.push("no rollback owner".to_owned());
    }
    let rollback = (!rollback.is_empty()).then(|| rollback.join("; "));

    let mut recorded = Vec::new();
    if decision.call().valid().is_none() {
        recorded.push("no GO / NO-GO");
    }
    if value::meaningful(decision.decided_at.as_deref())
        .and_then(|t| value::parse_timestamp(value::first_word(t)))
        .is_none()
    {
        recorded.push("no valid timestamp");
    }
    if value::meaningful(decision.decision_owner.as_deref()).is_none() {
        recorded.push("no decision owner");
    }
    let recorded = (!recorded.is_empty()).then(|| recorded.join("; "));

    let missing_elements = decision.communication_missing();
    let communication =
        (!missing_elements.is_empty()).then(|| format!("missing: {}", missing_elements.join(", ")));

    let escalation = decision.communication.as_ref().and_then(|c| value::meaningful(c.escalation.as_deref()));
    let pager_checked =
        decision.drill.iter().any(|item| item.checked && item.item.to_lowercase().contains("pager owner"));
    let on_call = decision.operations.as_ref().and_then(|o| value::meaningful(o.on_call.as_deref()));
    let reachable = match (escalation, pager_checked || on_call.is_some()) {
        (None, _) => Some("no escalation channel and owner in the communication package".to_owned()),
        (Some(_), false) => Some(
            "nobody confirmed the pager owner is available (drill) and no on-call owner is recorded"
                .to_owned(),
        ),
        (Some(_), true) => None,
    };

    Checklist {
        before_go_no_go: vec![
            item("risk class declared", risk),
            item("five gate layers evaluated", gates),
            item("rollback trigger + owner recorded", rollback),
        ],
        before_production_deploy: vec![
            item("final decision recorded with timestamp", recorded),
            item("release communication package prepared", communication),
            item("escalation owner reachable", reachable),
        ],
    }
}
