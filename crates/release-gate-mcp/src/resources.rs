//! The server's resources: the effective policy, the rule catalog, the Markdown template, and each stored
//! decision.

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

/// The rule catalog as JSON, the same shape as `release-gate rules --format json`.
pub fn rules_json() -> String {
    serde_json::to_string_pretty(&release_gate_core::finding::catalog()).unwrap_or_else(|_| "[]".to_owned())
}
