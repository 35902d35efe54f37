//! The server's resources: the effective policy, the rule catalog, the Markdown template, and each stored
//! decision.

use release_gate_core::Code;
use serde::Serialize;

pub const POLICY_URI: &str = "release-gate://policy";
pub const RULES_URI: &str = "release-gate://rules";
pub const TEMPLATE_URI: &str = "release-gate://template";
/// A stored decision's JSON record: this prefix and the id.
pub const DECISION_URI_PREFIX: &str = "release-gate://decisions/";
pub const DECISION_URI_TEMPLATE: &str = "release-gate://decisions/{id}";

/// The resource of one stored decision.
pub fn decision_uri(id: &str) -> String {
    format!("{DECISION_URI_PREFIX}{id}")
}

/// The protocol's Release Decision template, with every optional part.
pub const TEMPLATE: &str = include_str!("template.md");

#[derive(Serialize)]
struct Rule {
    code: &'static str,
    severity: &'static str,
    meaning: &'static str,
    fix: &'static str,
}

/// The rule catalog as JSON, the same shape as `release-gate rules --format json`.
pub fn rules_json(codes: &[Code]) -> String {
    let rules: Vec<Rule> = codes
        .iter()
        .map(|code| Rule {
            code: code.as_str(),
            severity: code.default_severity().as_str(),
            meaning: code.meaning(),
            fix: code.fix(),
        })
        .collect();
    serde_json::to_string_pretty(&rules).unwrap_or_else(|_| "[]".to_owned())
}
