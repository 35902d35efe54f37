//! The release note: the communication package as Markdown, ready to post.

use crate::decision::Decision;
use crate::value;

/// Renders the communication package and the decision's essentials as a release note.
pub fn release_note(decision: &Decision) -> String {
    let scope =
        value::meaningful(decision.scope.as_deref()).unwrap_or("(scope not named)").replace('\n', ", ");
    let mut out = format!("## Release: {scope}\n\n");
    let fact = |label: &str, value: Option<&str>| {
        format!("- **{label}:** {}\n", value::meaningful(value).unwrap_or("not recorded").replace('\n', "; "))
    };
    out.push_str(&fact("Risk class", decision.risk_class.as_deref()));
    out.push_str(&fact("Decision", decision.decision.as_deref()));
    out.push_str(&fact("Decided by", decision.decision_owner.as_deref()));
    out.push_str(&fact("Decided at", decision.decided_at.as_deref()));
    out.push_str(&fact("Rollback owner", decision.rollback_owner.as_deref()));
    if let Some(window) = decision.operations.as_ref().and_then(|o| o.release_window.as_deref()) {
        out.push_str(&fact("Release window", Some(window)));
    }
    let package = decision.communication.clone().unwrap_or_default();
    let section = |out: &mut String, title: &str, value: Option<&str>| {
        out.push_str(&format!("\n### {title}\n\n"));
        match value::meaningful(value) {
            Some(text) => {
                for line in text.lines() {
                    out.push_str(&format!("- {line}\n"));
                }
            }
            None => out.push_str("_Not prepared._\n"),
        }
    };
    section(&mut out, "What changed", package.what_changed.as_deref());
    section(&mut out, "Known limitations", package.known_limitations.as_deref());
    section(&mut out, "Monitoring focus (first 30-60 minutes)", package.monitoring_focus.as_deref());
    let conditions = package
        .rollback_trigger_conditions
        .clone()
        .or_else(|| (!decision.rollback_trigger.is_empty()).then(|| decision.rollback_trigger.join("\n")));
    section(&mut out, "Rollback trigger conditions", conditions.as_deref());
    section(&mut out, "Escalation", package.escalation.as_deref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Communication;

    #[test]
    fn note_lists_the_package_and_says_what_is_missing() {
        let decision = Decision {
            scope: Some("billing-api".into()),
            risk_class: Some("high".into()),
            rollback_trigger: vec!["error rate > 2% for 5 minutes".into()],
            communication: Some(Communication {
                what_changed: Some("rounding fix\nnew invoice PDF".into()),
                escalation: Some("#billing-oncall, Dana".into()),
                ..Communication::default()
            }),
            ..Decision::default()
        };
        let note = release_note(&decision);
        assert!(note.starts_with("## Release: billing-api\n"));
        assert!(note.contains("### What changed\n\n- rounding fix\n- new invoice PDF\n"));
        assert!(note.contains("### Known limitations\n\n_Not prepared._\n"));
        assert!(note.contains("### Rollback trigger conditions\n\n- error rate > 2% for 5 minutes\n"));
        assert!(note.contains("- **Decision:** not recorded\n"));
    }
}
