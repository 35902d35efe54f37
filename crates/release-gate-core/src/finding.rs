//! Findings: what the validator says about a decision, each with a stable kebab-case code.
//!
//! Codes are a public contract: the CLI's JSON, the MCP server, the docs and the skill all use them.
//! A code is never reused for another meaning; new rules get new codes.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// How bad a finding is. Errors make the verdict `fail`; warnings never do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! codes {
    ($( $variant:ident = $code:literal, $severity:ident, $meaning:literal, $fix:literal; )*) => {
        /// Every finding code the validator can emit.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $variant, )*
        }

        impl Code {
            /// Every code, in catalog order.
            pub const ALL: &'static [Code] = &[$( Code::$variant, )*];

            /// The stable kebab-case name.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// The severity under the default policy (some rules pick a severity per risk class;
            /// this is the strongest one they use).
            pub fn default_severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$severity, )* }
            }

            /// One line: when the rule fires.
            pub fn meaning(self) -> &'static str {
                match self { $( Code::$variant => $meaning, )* }
            }

            /// One line: how to make the finding go away honestly.
            pub fn fix(self) -> &'static str {
                match self { $( Code::$variant => $fix, )* }
            }

            /// Looks a code up by its kebab-case name.
            pub fn from_name(name: &str) -> Option<Code> {
                match name { $( $code => Some(Code::$variant), )* _ => None }
            }
        }
    };
}

codes! {
    ScopeMissing = "scope-missing", Error,
        "The release scope is absent, empty or a template placeholder.",
        "Name the services, modules or features this release covers.";
    RiskClassMissing = "risk-class-missing", Error,
        "The risk class is absent, empty or a template placeholder.",
        "Declare the risk class (low, medium or high) before final verification.";
    RiskClassInvalid = "risk-class-invalid", Error,
        "The risk class is not low, medium or high.",
        "Use exactly one of low, medium or high; add any comment after it.";
    GateUnmarked = "gate-unmarked", Error,
        "A gate layer is absent, a placeholder, or not one of pass, fail, n/a.",
        "Mark every gate layer (code, review, operational, communication, decision) pass, fail or n/a.";
    GateRequired = "gate-required", Error,
        "A gate layer that the risk class requires is marked n/a.",
        "Evaluate the layer and mark it pass or fail; the risk class does not allow skipping it.";
    GateFailed = "gate-failed", Error,
        "The decision is GO while a gate layer is marked fail (a warning when the class does not require the layer).",
        "Fix what failed and re-evaluate the gate, or record NO-GO.";
    ResidualRisksMissing = "residual-risks-missing", Error,
        "Residual risks are absent or a placeholder.",
        "List the risks that remain open after the gates, or write `none`.";
    RollbackTriggerMissing = "rollback-trigger-missing", Error,
        "The rollback trigger is absent or a placeholder.",
        "State the condition that triggers a rollback, e.g. `error rate > 2% for 5 minutes`.";
    RollbackTriggerVague = "rollback-trigger-vague", Error,
        "A rollback trigger is not concrete and testable: it lacks a number or a comparison.",
        "Name a measurable signal with a comparison and a threshold, e.g. `p99 latency above 800 ms`.";
    RollbackOwnerMissing = "rollback-owner-missing", Error,
        "No rollback owner is named (a warning for low risk).",
        "Name the person or role who executes the rollback.";
    DecisionOwnerMissing = "decision-owner-missing", Error,
        "The final decision owner is absent or a placeholder.",
        "Name the one person who owns the final go/no-go call.";
    DecisionMissing = "decision-missing", Error,
        "The decision is absent, a placeholder, or not GO / NO-GO.",
        "Record an explicit GO or NO-GO.";
    TimestampMissing = "timestamp-missing", Error,
        "The decision timestamp is absent or a placeholder.",
        "Record when the decision was made, as RFC 3339 with an offset, e.g. `2026-11-27T14:05:00Z`.";
    TimestampInvalid = "timestamp-invalid", Error,
        "The decision timestamp is not an RFC 3339 date-time with an offset.",
        "Write the timestamp as RFC 3339 with `T` and an offset, e.g. `2026-11-27T14:05:00Z`.";
    TimestampFuture = "timestamp-future", Error,
        "The decision timestamp is more than 5 minutes in the future.",
        "Record the time the decision was actually made, not a planned time.";
    PanelMissing = "panel-missing", Error,
        "A high-risk GO has no go/no-go panel with enough distinct names.",
        "Name the go/no-go panel (at least the policy's panel size of distinct people).";
    DrillIncomplete = "drill-incomplete", Error,
        "A high-risk GO has no pre-release drill with all five items checked.",
        "Run the pre-release drill and check each of its five items.";
    RehearsalMissing = "rehearsal-missing", Error,
        "A GO has no rollback rehearsal (an error for high risk, a warning for medium).",
        "Rehearse the rollback in a non-production environment and record it.";
    RehearsalIncomplete = "rehearsal-incomplete", Error,
        "A rollback rehearsal does not record the recovery time.",
        "Add `recovery time:` with the time from rollback start to recovery.";
    CommunicationIncomplete = "communication-incomplete", Error,
        "A GO has no communication package, or it misses one of its five elements (an error for high risk, a warning otherwise).",
        "Fill in what changed, known limitations, monitoring focus, rollback trigger conditions and escalation.";
    RiskDeclaredLate = "risk-declared-late", Error,
        "The risk class was declared, or lowered, after the first gate result was recorded.",
        "Declare the risk class before gathering gate evidence; re-record the gates after a late declaration.";
    RiskBelowSuggested = "risk-below-suggested", Error,
        "The declared risk class is lower than the diff suggests (a warning when a justification is recorded).",
        "Raise the risk class, or record why the lower class is right (`release-gate risk ID CLASS --justification ...`).";
    EvidenceStale = "evidence-stale", Error,
        "Gate evidence was gathered on another commit than the one being released, or the diff changed since.",
        "Re-run or re-record the gate on the commit being released.";
    EvidenceExpired = "evidence-expired", Error,
        "Gate evidence is older than the risk class's maximum evidence age.",
        "Re-run or re-record the gate; old evidence no longer shows the release's state.";
    EvidenceFuture = "evidence-future", Error,
        "Gate evidence is dated after the time of validation, so it cannot have been gathered yet.",
        "Re-record the gate; a record's times come from the clock of the machine that records it.";
    ScopeDrift = "scope-drift", Error,
        "The diff changes files outside the declared release scope (an error for high risk, a warning otherwise).",
        "Widen the declared scope to cover the change, or take the unrelated change out of the release.";
    ScopeUnknown = "scope-unknown", Warning,
        "A declared release scope name is not one of the policy's scopes.",
        "Use a scope name from the policy's `[scopes]`, or add the scope there.";
    FreezeWindow = "freeze-window", Error,
        "The decision time falls inside a freeze window of the policy (a warning for a decision not yet made).",
        "Wait until the freeze window ends, or, for an emergency, record the approved exception in the policy: a `[[freeze_exception]]` with `window`, `approved_by`, `reason` and `until`.";
    RehearsalFailed = "rehearsal-failed", Error,
        "The rollback rehearsal failed: a step failed, the service did not recover, or recovery took longer than the policy allows.",
        "Fix the rollback path and rehearse again until it recovers within the limit.";
    MultipleDecisions = "multiple-decisions", Warning,
        "The document has more than one Release Decision section; only the first is read.",
        "Keep one Release Decision section per document.";
    FieldUnknown = "field-unknown", Warning,
        "A bullet in the decision is not a field release-gate knows; it is ignored.",
        "Check the field name against the template, or move the text out of the field list.";
    FieldDuplicate = "field-duplicate", Warning,
        "A field is given more than once; only the first is read.",
        "Keep one bullet per field.";
    EvidenceOverridden = "evidence-overridden", Error,
        "A gate result was typed over evidence the policy runs, by an explicit override (a warning for low risk).",
        "Run the evidence (`release-gate gates run ID`) so the gate shows what happened, or accept the override as a known risk.";
    RecordInconsistent = "record-inconsistent", Error,
        "A stored record's fields disagree with its own history (a hand edit).",
        "Restore the record from version control and record changes with release-gate, never by editing the JSON.";
    TriggerNotObserved = "trigger-not-observed", Error,
        "The rehearsal's trigger did nothing observable: the recovery check never failed after it.",
        "Make the trigger really break the service in the rehearsal environment (the check must fail within `detect_within`), then rehearse again.";
    DecisionExpired = "decision-expired", Error,
        "The GO is older than the policy's `go_valid_for` for its risk class.",
        "The final decision owner confirms the GO again (`release-gate decide ID --go`) for the commit being deployed.";
    FreezeException = "freeze-exception", Warning,
        "The decision time falls inside a freeze window, and an approved exception in the policy lets it through (who approved it, why, until when).",
        "Nothing to fix: the exception is shown so everyone sees it; remove the `[[freeze_exception]]` once it has served.";
    SignalUnmapped = "signal-unmapped", Error,
        "The policy maps rollback-trigger signals to metrics (`[[signals]]`), but a trigger's signal is not one of them, so nothing can watch it.",
        "Add a `[[signals]]` entry whose `name` is the trigger's signal, with its PromQL `query` and `unit`, or write the trigger with a signal the policy names.";
    SignalUnitMismatch = "signal-unit-mismatch", Error,
        "A rollback trigger's unit does not convert to its signal's unit (e.g. `2%` against a query in seconds).",
        "Write the threshold in a unit of the signal's kind (a share for ratio and percent, a time for seconds and milliseconds), or fix the signal's `unit` in the policy.";
    SignalSeveralSeries = "signal-several-series", Error,
        "The last rehearsal's query for a rollback trigger answered with several series, so no single value could be compared.",
        "Aggregate the signal's query into one series (`sum(...)`, `max(...)`) in the policy, commit it and rehearse again.";
    TriggerWindowUnreadable = "trigger-window-unreadable", Error,
        "The policy maps rollback-trigger signals to metrics, but a trigger's window (`for ...`) is not a duration in seconds, minutes or hours.",
        "Write the window as a number and a unit the watch can read, e.g. `for 5 minutes` or `over 10m`.";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Code::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown finding code `{name}`")))
    }
}

impl schemars::JsonSchema for Code {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Code".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = Code::ALL.iter().map(|code| code.as_str()).collect();
        schemars::json_schema!({
            "type": "string",
            "description": "A stable kebab-case finding code.",
            "enum": names,
        })
    }
}

/// One entry of the rule catalog: a code with its default severity, meaning and fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Rule {
    pub code: &'static str,
    pub severity: &'static str,
    pub meaning: &'static str,
    pub fix: &'static str,
}

/// The rule catalog: every finding code, in catalog order (`release-gate rules`, the MCP resource).
pub fn catalog() -> Vec<Rule> {
    Code::ALL
        .iter()
        .map(|code| Rule {
            code: code.as_str(),
            severity: code.default_severity().as_str(),
            meaning: code.meaning(),
            fix: code.fix(),
        })
        .collect()
}

/// One thing the validator found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// What is wrong and what to do about it, in one or two sentences.
    pub message: String,
    /// 1-based line in the Markdown input; `None` for JSON input.
    pub line: Option<u32>,
}

/// How many findings of one code a report lists; the rest are counted in one summary finding.
pub const MAX_PER_CODE: usize = 5;

/// The findings gathered so far, at most [`MAX_PER_CODE`] of each code; the rest are only counted.
///
/// Every finding the reader and the rules produce goes through here, so no input can make a report
/// grow with its size: a document of a million unknown bullets gives five findings and one summary,
/// not a million findings. A message is written only for a finding that is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    kept: Vec<Finding>,
    tallies: BTreeMap<Code, Tally>,
}

/// One code's count: how many were kept, and the ones left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    kept: usize,
    omitted: u64,
    /// The strongest severity among those left out.
    severity: Option<Severity>,
    /// The line of the first one left out.
    line: Option<u32>,
}

impl Tally {
    fn leave_out(&mut self, severity: Severity, line: Option<u32>, count: u64) {
        self.omitted = self.omitted.saturating_add(count);
        self.severity = Some(self.severity.map_or(severity, |other| other.min(severity)));
        if self.line.is_none() {
            self.line = line;
        }
    }
}

impl Findings {
    pub fn new() -> Findings {
        Findings::default()
    }

    /// Adds a finding; `message` is called only when the finding is kept.
    pub fn add(
        &mut self,
        code: Code,
        severity: Severity,
        line: Option<u32>,
        message: impl FnOnce() -> String,
    ) {
        let tally = self.tallies.entry(code).or_default();
        if tally.kept < MAX_PER_CODE {
            tally.kept += 1;
            self.kept.push(Finding { code, severity, message: message(), line });
        } else {
            tally.leave_out(severity, line, 1);
        }
    }

    /// Adds a finding that is already written.
    pub fn push(&mut self, finding: Finding) {
        let Finding { code, severity, message, line } = finding;
        self.add(code, severity, line, || message);
    }

    /// Adds every finding of `other`, counted ones included; `severity` maps each code and severity to
    /// the one to use, or `None` to drop the finding.
    pub fn merge(&mut self, other: &Findings, severity: impl Fn(Code, Severity) -> Option<Severity>) {
        for finding in &other.kept {
            if let Some(mapped) = severity(finding.code, finding.severity) {
                self.add(finding.code, mapped, finding.line, || finding.message.clone());
            }
        }
        for (&code, tally) in &other.tallies {
            if let Some(mapped) = tally.severity.and_then(|original| severity(code, original)) {
                self.tallies.entry(code).or_default().leave_out(mapped, tally.line, tally.omitted);
            }
        }
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// How many findings were added, the ones left out included.
    pub fn total(&self) -> u64 {
        self.tallies.values().map(|tally| tally.kept as u64 + tally.omitted).sum()
    }

    /// The findings kept, plus one summary per code that had more, in line order.
    pub fn into_vec(self) -> Vec<Finding> {
        let Findings { mut kept, tallies } = self;
        for (code, tally) in tallies {
            if let (Some(severity), true) = (tally.severity, tally.omitted > 0) {
                let message = summary(code, tally.omitted, tally.line);
                kept.push(Finding { code, severity, message, line: tally.line });
            }
        }
        kept.sort_by_key(|finding| (finding.line, finding.code));
        kept
    }
}

/// The message of the finding that stands for the `omitted` findings of `code` left out of a report.
fn summary(code: Code, omitted: u64, line: Option<u32>) -> String {
    let from = line.map(|line| format!(" (the first on line {line})")).unwrap_or_default();
    let (noun, verb) = if omitted == 1 { ("finding", "was") } else { ("findings", "were") };
    format!(
        "{omitted} more `{code}` {noun}{from} {verb} left out: a report lists at most {MAX_PER_CODE} of one code. Fix the ones shown, then validate again to see the rest."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for &code in Code::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "duplicate code {name}");
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{name} is not kebab-case");
            assert_eq!(Code::from_name(name), Some(code));
            assert!(code.meaning().ends_with('.') && code.fix().ends_with('.'), "{name}: write sentences");
        }
        assert_eq!(Code::from_name("no-such-code"), None);
    }

    #[test]
    fn findings_keep_five_of_a_code_and_count_the_rest() {
        let mut findings = Findings::new();
        let mut written = 0;
        for line in 1..=1000 {
            findings.add(Code::FieldUnknown, Severity::Warning, Some(line), || {
                written += 1;
                format!("unknown on {line}")
            });
        }
        findings.add(Code::ScopeMissing, Severity::Error, None, || "scope".into());
        assert_eq!(written, MAX_PER_CODE, "messages are written only for findings that are kept");
        assert_eq!(findings.total(), 1001);
        let list = findings.into_vec();
        assert_eq!(list.len(), MAX_PER_CODE + 2, "{list:?}");
        let summary = list.iter().find(|f| f.message.contains("left out")).unwrap();
        assert_eq!(summary.code, Code::FieldUnknown);
        assert_eq!(summary.line, Some(6));
        assert!(summary.message.starts_with("995 more `field-unknown` findings (the first on line 6)"));
    }

    #[test]
    fn merged_findings_keep_their_counts_and_take_the_mapped_severity() {
        let mut read = Findings::new();
        for line in 1..=8 {
            read.add(Code::FieldDuplicate, Severity::Warning, Some(line), || "dup".into());
        }
        read.add(Code::MultipleDecisions, Severity::Warning, Some(20), || "second".into());
        let mut report = Findings::new();
        report.merge(&read, |code, severity| match code {
            Code::MultipleDecisions => None,
            _ => Some(if severity == Severity::Warning { Severity::Error } else { severity }),
        });
        let list = report.into_vec();
        assert_eq!(list.len(), MAX_PER_CODE + 1, "{list:?}");
        assert!(list.iter().all(|f| f.code == Code::FieldDuplicate && f.severity == Severity::Error));
        assert!(list.iter().any(|f| f.message.starts_with("3 more `field-duplicate` findings")), "{list:?}");
    }
}
