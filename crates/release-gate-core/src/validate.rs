//! The validator: reads a decision against a policy at a given time and gathers every finding.
//!
//! It never stops at the first problem: a draft shows everything that is left to do. Which rules run
//! depends on the call (GO, NO-GO, or not yet made) and on the declared risk class.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::decision::{Call, Decision, GateResult, Layer, Reading, RiskClass};
use crate::finding::{Code, Finding, Findings, Severity};
use crate::history::Change;
use crate::markdown::{self, Field, SourceLines};
use crate::policy::{Policy, Requirement};
use crate::value;

mod lifecycle;
mod metrics;

pub use lifecycle::evidence_time;

/// How far in the future a decision timestamp may be, for clock skew between machines.
pub const FUTURE_TOLERANCE: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// How many characters of the input a finding quotes.
const QUOTED: usize = 80;

/// How many checked items a complete pre-release drill has (the protocol's five).
pub const DRILL_SIZE: usize = 5;

/// A decision ready to validate: the record, and where it came from.
#[derive(Debug, Clone)]
pub struct Document {
    pub decision: Decision,
    /// Source lines, for Markdown input.
    pub lines: Option<SourceLines>,
    /// What the reader itself noticed (unknown fields, duplicates, extra sections).
    pub findings: Findings,
}

impl Document {
    pub fn from_record(decision: Decision) -> Document {
        Document { decision: decision.normalized(), lines: None, findings: Findings::new() }
    }

    pub fn from_markdown(parsed: markdown::ParsedMarkdown) -> Document {
        Document { decision: parsed.decision, lines: Some(parsed.lines), findings: parsed.findings }
    }
}

/// The overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
}

/// What `validate` returns; serialized as the `validate --format json` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    pub verdict: Verdict,
    pub risk_class: Option<RiskClass>,
    pub decision: Option<Call>,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|finding| finding.severity == Severity::Error)
    }
}

/// Facts about the release being judged, gathered from git by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFacts {
    /// The commit being released.
    pub commit: String,
    /// `sha256:<hex>` of the raw diff from the decision's base to `commit`.
    pub diff_digest: String,
    /// The paths that diff changes.
    pub changed_paths: Vec<String>,
    /// Other commits with the same code as `commit` (they differ only in release-gate's own records under
    /// `.release/`, such as the commit that adds the decision): evidence gathered on them still counts.
    pub same_code: Vec<String>,
    /// The lines changed (added or removed) in the dependency manifests of the diff, by path: a manifest
    /// that changes a framework or security package suggests high.
    pub manifest_changes: std::collections::BTreeMap<String, Vec<String>>,
}

impl ReleaseFacts {
    /// The diff's classification under a policy's path rules, reading the manifests' changed lines.
    pub fn classification(&self, policy: &Policy) -> crate::classify::Classification {
        crate::classify::classify_with(policy.paths(), &self.changed_paths, |path| {
            self.manifest_changes.get(path).map_or(&[][..], Vec::as_slice)
        })
    }
}

/// Validates a decision against a policy at time `now`.
pub fn validate(document: &Document, policy: &Policy, now: jiff::Timestamp) -> Report {
    validate_release(document, policy, now, None)
}

/// Validates a decision, and, given facts about the release, also its history and evidence against git:
/// late risk declarations, risk below the diff's suggestion, stale and expired evidence, scope drift.
pub fn validate_release(
    document: &Document,
    policy: &Policy,
    now: jiff::Timestamp,
    release: Option<&ReleaseFacts>,
) -> Report {
    let mut rules = Rules::new(document, policy, now);
    rules.findings.merge(&document.findings, |code, severity| policy.severity(code, severity));
    let call = document.decision.call();
    let is_go = call.valid() == Some(Call::Go);
    let is_draft = call.valid().is_none();

    rules.scope();
    rules.risk_class();
    rules.risk_declared_late();
    rules.record_consistent();
    rules.evidence_overridden();
    if let Some(release) = release {
        rules.risk_below_suggested(release);
        rules.evidence_fresh(release);
        rules.scope_drift(release);
    }
    rules.gates_marked();
    rules.decision_owner();
    rules.decision();
    rules.timestamp();
    if is_go || is_draft {
        rules.freeze_window(is_go);
        rules.gates_required();
        rules.residual_risks();
        rules.rollback_trigger();
        rules.signals();
        rules.rollback_owner();
    }
    if is_go {
        rules.decision_expired();
        rules.gates_failed();
        rules.panel();
        rules.drill();
        rules.rehearsal();
        rules.communication();
    }
    rules.finish()
}

/// The rules, each a method that adds its findings. Shared with the fast audit.
pub(crate) struct Rules<'a> {
    decision: &'a Decision,
    lines: Option<&'a SourceLines>,
    policy: &'a Policy,
    now: jiff::Timestamp,
    class: Option<RiskClass>,
    findings: Findings,
}

impl<'a> Rules<'a> {
    pub(crate) fn new(document: &'a Document, policy: &'a Policy, now: jiff::Timestamp) -> Rules<'a> {
        Rules {
            decision: &document.decision,
            lines: document.lines.as_ref(),
            policy,
            now,
            class: document.decision.risk_class().valid(),
            findings: Findings::new(),
        }
    }

    pub(crate) fn finish(self) -> Report {
        let findings = self.findings.into_vec();
        let verdict = if findings.iter().any(|f| f.severity == Severity::Error) {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        Report { verdict, risk_class: self.class, decision: self.decision.call().valid(), findings }
    }

    fn emit(&mut self, code: Code, severity: Severity, message: String, line: Option<u32>) {
        self.emit_with(code, severity, line, || message);
    }

    /// Adds a finding whose message is written only if the report keeps it (see [`Findings`]).
    fn emit_with(
        &mut self,
        code: Code,
        severity: Severity,
        line: Option<u32>,
        message: impl FnOnce() -> String,
    ) {
        if let Some(severity) = self.policy.severity(code, severity) {
            self.findings.add(code, severity, line, message);
        }
    }

    fn field_line(&self, field: Field) -> Option<u32> {
        self.lines.map(|lines| lines.field_or_heading(field))
    }

    fn gate_line(&self, layer: Layer) -> Option<u32> {
        self.lines.map(|lines| lines.gate_or_heading(layer))
    }

    fn error(&mut self, code: Code, field: Field, message: String) {
        let line = self.field_line(field);
        self.emit(code, Severity::Error, message, line);
    }

    pub(crate) fn scope(&mut self) {
        if value::meaningful(self.decision.scope.as_deref()).is_none() {
            self.error(
                Code::ScopeMissing,
                Field::Scope,
                "The release scope is missing: name the services, modules or features this release covers."
                    .into(),
            );
        }
    }

    fn risk_declared_late(&mut self) {
        let mut gates_recorded = false;
        let mut declared: Option<RiskClass> = None;
        let mut late = Vec::new();
        for event in &self.decision.history {
            match &event.change {
                Change::GateRecorded { .. } => gates_recorded = true,
                Change::RiskDeclared { risk_class, .. } => {
                    if gates_recorded {
                        match declared {
                            None => late.push(format!(
                                "The risk class was first declared ({risk_class}, {} by {}) after gate results were recorded: gate depth must be settled before verification. Re-record the gates.",
                                event.at, value::excerpt(&event.actor, QUOTED)
                            )),
                            Some(before) if *risk_class < before => late.push(format!(
                                "The risk class was lowered from {before} to {risk_class} ({} by {}) after gate results were recorded: keep {before}, or re-record every gate after the change.",
                                event.at, value::excerpt(&event.actor, QUOTED)
                            )),
                            Some(_) => {}
                        }
                    }
                    declared = Some(*risk_class);
                }
                _ => {}
            }
        }
        if late.is_empty() || self.gates_recorded_again_after_last_risk_change() {
            return;
        }
        for message in late {
            self.emit(Code::RiskDeclaredLate, Severity::Error, message, None);
        }
    }

    /// Whether every gate recorded before the last risk declaration was recorded again after it: the gates
    /// were then gathered at the depth the class now asks, so a late declaration no longer matters.
    fn gates_recorded_again_after_last_risk_change(&self) -> bool {
        let history = &self.decision.history;
        let Some(last_risk) =
            history.iter().rposition(|event| matches!(event.change, Change::RiskDeclared { .. }))
        else {
            return true;
        };
        let (before, after) = history.split_at(last_risk);
        let layers = |events: &[crate::history::Event]| -> BTreeSet<Layer> {
            events
                .iter()
                .filter_map(|event| match &event.change {
                    Change::GateRecorded { layer, .. } => Some(*layer),
                    _ => None,
                })
                .collect()
        };
        layers(before).is_subset(&layers(after))
    }

    fn risk_below_suggested(&mut self, release: &ReleaseFacts) {
        let Some(class) = self.class else { return };
        let classification = release.classification(self.policy);
        let Some(deciding) = classification.deciding().next() else { return };
        let (suggested, path, rule) = (deciding.class, deciding.path.as_str(), deciding.rule.as_str());
        if class >= suggested {
            return;
        }
        let (severity, why) =
            match self.decision.risk_justification().and_then(|j| value::meaningful(Some(j))) {
                Some(justification) => {
                    (Severity::Warning, format!("justified as: {}", value::excerpt(justification, QUOTED)))
                }
                None => (Severity::Error, "no justification is recorded".to_owned()),
            };
        let line = self.field_line(Field::RiskClass);
        self.emit(
            Code::RiskBelowSuggested,
            severity,
            format!(
                "The declared risk class is {class}, but the diff suggests {suggested} (`{path}`, rule `{rule}`); {why}. Raise the class, or record why {class} is right."
            ),
            line,
        );
    }

    fn evidence_fresh(&mut self, release: &ReleaseFacts) {
        if let Some(binding) = &self.decision.binding
            && binding.diff_digest != release.diff_digest
        {
            self.emit(
                Code::EvidenceStale,
                Severity::Error,
                format!(
                    "The change being released ({}..{}) differs from the one this decision covers ({}..{}): after new commits, `release-gate rebind ID` moves the decision to the new head; then re-run or re-record the gates.",
                    value::short_commit(&binding.base),
                    value::short_commit(&release.commit),
                    value::short_commit(&binding.base),
                    value::short_commit(&binding.head)
                ),
                None,
            );
        }
        let max_age = self.class.map(|class| self.policy.class(class).evidence_max_age);
        let age_at = evidence_time(self.decision, self.now);
        for layer in Layer::ALL {
            let Some(evidence) = self.decision.gate_evidence(layer) else { continue };
            // A layer the class does not require is never the reason a decision fails.
            let severity = match self.class {
                Some(class) if !self.policy.class(class).gates.contains(&layer) => Severity::Warning,
                _ => Severity::Error,
            };
            let judged = evidence.judge(release, self.now, age_at, max_age);
            match judged.stale {
                Some(crate::history::Stale::OtherCommit) => self.emit(
                    Code::EvidenceStale,
                    severity,
                    format!(
                        "The {layer} gate's evidence was gathered on {}, but {} is being released: re-run or re-record the gate on the released commit (after new commits, `release-gate rebind` first).",
                        value::short_commit(evidence.commit),
                        value::short_commit(&release.commit)
                    ),
                    None,
                ),
                Some(crate::history::Stale::OtherDiff) => self.emit(
                    Code::EvidenceStale,
                    severity,
                    format!("The {layer} gate's evidence covers another diff than the one being released: re-record it."),
                    None,
                ),
                None => {}
            }
            if judged.future {
                self.emit(
                    Code::EvidenceFuture,
                    Severity::Error,
                    format!(
                        "The {layer} gate's evidence is dated {}, after the time of validation ({}): re-record it.",
                        evidence.at,
                        self.now.round(jiff::Unit::Second).unwrap_or(self.now)
                    ),
                    None,
                );
            } else if judged.expired
                && let Some(max_age) = max_age
            {
                let when = if age_at == self.now { "" } else { " at the time of the GO" };
                self.emit(
                    Code::EvidenceExpired,
                    severity,
                    format!(
                        "The {layer} gate's evidence is from {}, older{when} than the {} allowed for this risk class: re-run or re-record it.",
                        evidence.at,
                        human_age(max_age)
                    ),
                    None,
                );
            }
        }
    }

    fn scope_drift(&mut self, release: &ReleaseFacts) {
        let scopes = self.policy.scopes();
        if scopes.is_empty() {
            return;
        }
        let Some(declared) = value::meaningful(self.decision.scope.as_deref()) else { return };
        let mut patterns = Vec::new();
        let mut unknown = Vec::new();
        for name in declared.split([',', '\n']).map(value::tidy_line).filter(|name| !name.is_empty()) {
            match scopes.get(&name.to_lowercase()) {
                Some(list) => patterns.extend(list.iter().cloned()),
                None => unknown.push(name),
            }
        }
        let line = self.field_line(Field::Scope);
        if !unknown.is_empty() {
            let known: Vec<&str> = scopes.keys().map(String::as_str).collect();
            let shown: Vec<&str> = unknown.iter().take(5).map(|name| value::excerpt(name, QUOTED)).collect();
            let more = match unknown.len() {
                0..=5 => String::new(),
                count => format!(" and {} more", count - 5),
            };
            self.emit(
                Code::ScopeUnknown,
                Severity::Warning,
                format!(
                    "The release scope names {}{more}, which the policy does not define (it defines {}): use the policy's scope names so drift can be checked.",
                    shown.join(", "),
                    known.join(", ")
                ),
                line,
            );
        }
        if patterns.is_empty() {
            return;
        }
        let Ok(set) = crate::classify::compile_set(&patterns) else { return };
        let outside: Vec<&str> = release
            .changed_paths
            .iter()
            .filter(|path| !set.is_match(path.as_str()))
            .map(String::as_str)
            .collect();
        if outside.is_empty() {
            return;
        }
        let severity = if self.class == Some(RiskClass::High) { Severity::Error } else { Severity::Warning };
        let shown: Vec<&str> = outside.iter().take(5).copied().collect();
        let more = if outside.len() > 5 { format!(" and {} more", outside.len() - 5) } else { String::new() };
        self.emit(
            Code::ScopeDrift,
            severity,
            format!(
                "The diff changes {} file(s) outside the declared scope: {}{more}. Widen the scope or take the change out of the release.",
                outside.len(),
                shown.join(", ")
            ),
            line,
        );
    }

    pub(crate) fn risk_class(&mut self) {
        match self.decision.risk_class() {
            Reading::Valid(_) => {}
            Reading::Missing => self.error(
                Code::RiskClassMissing,
                Field::RiskClass,
                "The risk class is not declared: declare low, medium or high before final verification, so gate depth is not debated at the last minute.".into(),
            ),
            Reading::Invalid(word) => self.error(
                Code::RiskClassInvalid,
                Field::RiskClass,
                format!(
                    "`{}` is not a risk class: use low, medium or high (a comment may follow it).",
                    value::excerpt(&word, QUOTED)
                ),
            ),
        }
    }

    pub(crate) fn gates_marked(&mut self) {
        // In a stored record, `decide` marks the decision gate, and a layer the class does not require may
        // stay unmarked; a written document marks every layer, as the template asks.
        let stored = !self.decision.history.is_empty();
        for layer in Layer::ALL {
            let optional = layer == Layer::Decision
                || self.class.is_some_and(|class| !self.policy.class(class).gates.contains(&layer));
            let message = match self.decision.gate(layer) {
                Reading::Valid(_) => continue,
                Reading::Missing if stored && optional => continue,
                Reading::Missing => {
                    format!("The {layer} gate is not marked: evaluate it and mark it pass, fail or n/a.")
                }
                Reading::Invalid(word) => {
                    format!(
                        "The {layer} gate is marked `{}`: mark it pass, fail or n/a (a comment may follow).",
                        value::excerpt(&word, QUOTED)
                    )
                }
            };
            let line = self.gate_line(layer);
            self.emit(Code::GateUnmarked, Severity::Error, message, line);
        }
    }

    pub(crate) fn decision_owner(&mut self) {
        if value::meaningful(self.decision.decision_owner.as_deref()).is_none() {
            self.error(
                Code::DecisionOwnerMissing,
                Field::DecisionOwner,
                "No final decision owner is named: name the one person who owns the go/no-go call, so nobody assumes someone else made it.".into(),
            );
        }
    }

    fn decision(&mut self) {
        let message = match self.decision.call() {
            Reading::Valid(_) => return,
            Reading::Missing => "No decision is recorded: record an explicit GO or NO-GO.".to_owned(),
            Reading::Invalid(word) => {
                format!("`{}` is not a decision: record GO or NO-GO.", value::excerpt(&word, QUOTED))
            }
        };
        self.error(Code::DecisionMissing, Field::Decision, message);
    }

    fn timestamp(&mut self) {
        let Some(text) = value::meaningful(self.decision.decided_at.as_deref()) else {
            self.error(
                Code::TimestampMissing,
                Field::DecidedAt,
                "The decision timestamp is missing: record when the decision was made, e.g. `2026-11-27T14:05:00Z`.".into(),
            );
            return;
        };
        let word = value::first_word(text);
        let Some(at) = value::parse_timestamp(word) else {
            self.error(
                Code::TimestampInvalid,
                Field::DecidedAt,
                format!(
                    "`{}` is not an RFC 3339 date-time with an offset: write it like `2026-11-27T14:05:00Z` (seconds may be left out: `2026-11-27T14:05Z`).",
                    value::excerpt(text, QUOTED)
                ),
            );
            return;
        };
        let latest = self.now.checked_add(FUTURE_TOLERANCE).unwrap_or(self.now);
        if at > latest {
            self.error(
                Code::TimestampFuture,
                Field::DecidedAt,
                format!(
                    "The decision timestamp {at} is after the current time {}: record when the decision was actually made.",
                    self.now.round(jiff::Unit::Second).unwrap_or(self.now)
                ),
            );
        }
    }

    fn gates_required(&mut self) {
        let Some(class) = self.class else { return };
        for &layer in &self.policy.class(class).gates {
            if self.decision.gate(layer) == Reading::Valid(GateResult::NotApplicable) {
                let line = self.gate_line(layer);
                self.emit(
                    Code::GateRequired,
                    Severity::Error,
                    format!(
                        "The {layer} gate is marked n/a, but {class} risk requires it: evaluate it and mark it pass or fail."
                    ),
                    line,
                );
            }
        }
    }

    fn residual_risks(&mut self) {
        let named = self.decision.residual_risks.iter().any(|risk| value::meaningful(Some(risk)).is_some());
        if !named {
            self.error(
                Code::ResidualRisksMissing,
                Field::ResidualRisks,
                "Residual risks are not stated: list the risks that stay open after the gates, or write `none`.".into(),
            );
        }
    }

    pub(crate) fn rollback_trigger(&mut self) {
        let conditions: Vec<(usize, &str)> = self
            .decision
            .rollback_trigger
            .iter()
            .enumerate()
            .filter_map(|(index, item)| value::meaningful(Some(item)).map(|text| (index, text)))
            .collect();
        if conditions.is_empty() {
            self.error(
                Code::RollbackTriggerMissing,
                Field::RollbackTrigger,
                "No rollback trigger is recorded: state the condition that triggers a rollback, e.g. `error rate > 2% for 5 minutes`, so nobody debates thresholds during an incident.".into(),
            );
            return;
        }
        // Every vague condition, not the first: a team fixes them in one pass.
        for &(index, text) in conditions.iter().filter(|(_, text)| !value::is_concrete_trigger(text)) {
            let line = self.lines.map(|lines| {
                lines
                    .rollback_trigger
                    .get(index)
                    .copied()
                    .unwrap_or_else(|| lines.field_or_heading(Field::RollbackTrigger))
            });
            let relative = value::mentions_number_and_comparison(text);
            self.emit_with(Code::RollbackTriggerVague, Severity::Error, line, || {
                let shown = value::excerpt(text, QUOTED);
                if relative {
                    format!(
                        "The rollback trigger `{shown}` compares with something other than a number (a baseline, a ratio), so nobody can test it during an incident: state the threshold as a number, e.g. `error rate > 2% for 5 minutes`."
                    )
                } else {
                    format!(
                        "The rollback trigger `{shown}` is not testable: name a measurable signal with a comparison and a number, e.g. `p99 latency above 800 ms for 5 minutes`."
                    )
                }
            });
        }
    }

    fn requirement(
        &self,
        pick: impl Fn(&crate::policy::ClassRules) -> Requirement,
    ) -> Option<(RiskClass, Severity)> {
        let class = self.class?;
        pick(self.policy.class(class)).severity().map(|severity| (class, severity))
    }

    fn rollback_owner(&mut self) {
        let Some((class, severity)) = self.requirement(|rules| rules.rollback_owner) else { return };
        if value::meaningful(self.decision.rollback_owner.as_deref()).is_none() {
            let line = self.field_line(Field::RollbackOwner);
            self.emit(
                Code::RollbackOwnerMissing,
                severity,
                format!("No rollback owner is named for this {class}-risk release: name the person or role who executes the rollback."),
                line,
            );
        }
    }

    fn gates_failed(&mut self) {
        let Some(class) = self.class else { return };
        for layer in Layer::ALL {
            if self.decision.gate(layer) != Reading::Valid(GateResult::Fail) {
                continue;
            }
            let required = self.policy.class(class).gates.contains(&layer);
            let (severity, why) = if required {
                (Severity::Error, format!("{class} risk requires it"))
            } else {
                (Severity::Warning, format!("{class} risk does not require it, but it failed"))
            };
            let line = self.gate_line(layer);
            self.emit(
                Code::GateFailed,
                severity,
                format!("The decision is GO while the {layer} gate failed ({why}): fix it and re-evaluate, or record NO-GO."),
                line,
            );
        }
    }

    fn panel(&mut self) {
        let Some(class) = self.class else { return };
        let needed = self.policy.class(class).panel;
        if needed == 0 {
            return;
        }
        let distinct: BTreeSet<String> = self
            .decision
            .panel
            .iter()
            .filter_map(|name| value::meaningful(Some(name)))
            .map(|name| {
                // One person however written: `Priya Shah (chair)`, `Priya Shah.` and `priya shah` are one.
                let bare = name.trim().trim_end_matches(['.', ',', ';']);
                value::tidy_line(crate::signing::person_name(bare))
                    .trim_end_matches(|c: char| c.is_ascii_punctuation())
                    .to_lowercase()
            })
            .collect();
        if distinct.len() < usize::try_from(needed).unwrap_or(usize::MAX) {
            self.error(
                Code::PanelMissing,
                Field::Panel,
                format!(
                    "A {class}-risk GO needs an explicit go/no-go panel of at least {needed} distinct people; {} named: add the panel members.",
                    distinct.len()
                ),
            );
        }
    }

    fn drill(&mut self) {
        let Some((class, severity)) = self.requirement(|rules| rules.drill) else { return };
        let total = self.decision.drill.len();
        let checked = self.decision.drill.iter().filter(|item| item.checked).count();
        if total >= DRILL_SIZE && checked == total {
            return;
        }
        let line = self.field_line(Field::Drill);
        let message = if total == 0 {
            format!("A {class}-risk GO needs a pre-release drill: run it and check its five items.")
        } else {
            format!(
                "The pre-release drill has {checked} of {total} items checked; a {class}-risk GO needs at least {DRILL_SIZE}, all checked: finish the drill."
            )
        };
        self.emit(Code::DrillIncomplete, severity, message, line);
    }

    fn freeze_window(&mut self, is_go: bool) {
        let decided = value::meaningful(self.decision.decided_at.as_deref())
            .and_then(|text| value::parse_timestamp(value::first_word(text)));
        let (at, severity, what) = match (is_go, decided) {
            (true, Some(at)) => (at, Severity::Error, "The decision time"),
            (true, None) => return,
            (false, _) => (self.now, Severity::Warning, "A GO made now"),
        };
        let Some(window) = self.policy.freezes().iter().find(|window| window.contains(at)) else { return };
        let local = window.zone.to_datetime(at);
        let line = self.field_line(Field::DecidedAt);
        let scope = value::meaningful(self.decision.scope.as_deref());
        if let Some(exception) =
            self.policy.freeze_exceptions().iter().find(|exception| exception.covers(window, at, scope))
        {
            let message = format!(
                "{what} ({at}, {local} in {}) falls inside the freeze window {}, allowed by an exception approved by {} until {}: {}.",
                window.zone_name,
                window.describe(),
                value::excerpt(&exception.approved_by, QUOTED),
                exception.until,
                value::excerpt(&exception.reason, QUOTED)
            );
            self.emit(Code::FreezeException, Severity::Warning, message, line);
            return;
        }
        let message = format!(
            "{what} ({at}, {local} in {}) falls inside the freeze window {}: wait until it ends, or, for an emergency, record the approved exception in the policy (`[[freeze_exception]]` with window, approved_by, reason, until).",
            window.zone_name,
            window.describe()
        );
        self.emit(Code::FreezeWindow, severity, message, line);
    }

    fn rehearsal(&mut self) {
        self.rehearsal_outcome();
        match &self.decision.rehearsal {
            None => {
                let Some((class, severity)) = self.requirement(|rules| rules.rehearsal) else { return };
                let line = self.lines.map(|lines| lines.heading);
                self.emit(
                    Code::RehearsalMissing,
                    severity,
                    format!("A {class}-risk GO has no rollback rehearsal: rehearse the rollback in a non-production environment and record its recovery time."),
                    line,
                );
            }
            Some(rehearsal) => {
                if value::meaningful(rehearsal.recovery_time.as_deref()).is_none() {
                    self.error(
                        Code::RehearsalIncomplete,
                        Field::Rehearsal,
                        "The rollback rehearsal does not record the recovery time: add `recovery time:` with the time from rollback start to recovery.".into(),
                    );
                }
            }
        }
    }

    /// A rehearsal that was run and failed, or whose recorded recovery time exceeds the policy's limit.
    fn rehearsal_outcome(&mut self) {
        let latest_run = self.decision.history.iter().rev().find_map(|event| match &event.change {
            Change::RehearsalRun { passed, recovery_ms, max_recovery_ms, detection_ms, steps, .. } => {
                let observed = detection_ms.is_some() || !steps.iter().any(|step| step.name == "detect");
                Some((*passed && observed, *recovery_ms, *max_recovery_ms, observed))
            }
            _ => None,
        });
        if let Some((_, _, _, false)) = latest_run {
            let line = self.field_line(Field::Rehearsal);
            self.emit(
                Code::TriggerNotObserved,
                Severity::Error,
                "The last rollback rehearsal's trigger did nothing observable: the recovery check never failed after it, so the rollback was not shown to fix anything. Make the trigger break the service in the rehearsal environment and rehearse again.".into(),
                line,
            );
            return;
        }
        let latest_run = latest_run.map(|(passed, recovery, max, _)| (passed, recovery, max));
        let message = match latest_run {
            Some((true, _, _)) => return,
            Some((false, Some(ms), max)) if ms > max => format!(
                "The rollback rehearsal recovered in {}, over the {} the policy allows: a rollback this slow will be worse under incident pressure. Fix it and rehearse again.",
                crate::history::format_ms(ms),
                crate::history::format_ms(max)
            ),
            Some((false, _, _)) => "The last rollback rehearsal failed (a step failed or the service did not recover): fix the rollback path and rehearse again.".to_owned(),
            None => {
                let Some(plan) = self.policy.rehearsal() else { return };
                let Some(recorded) = self
                    .decision
                    .rehearsal
                    .as_ref()
                    .and_then(|r| value::meaningful(r.recovery_time.as_deref()))
                    .and_then(value::parse_human_duration)
                else {
                    return;
                };
                if recorded <= plan.max_recovery {
                    return;
                }
                format!(
                    "The rehearsal's recovery time ({recorded:#}) is over the {:#} the policy allows: fix the rollback path and rehearse again.",
                    plan.max_recovery
                )
            }
        };
        let line = self
            .lines
            .map(|lines| lines.recovery_time.unwrap_or_else(|| lines.field_or_heading(Field::Rehearsal)));
        self.emit(Code::RehearsalFailed, Severity::Error, message, line);
    }

    /// Checks the communication package against the class's requirement.
    fn communication(&mut self) {
        let Some((class, severity)) = self.requirement(|rules| rules.communication) else { return };
        let class = Some(class);
        let missing = self.decision.communication_missing();
        if missing.is_empty() {
            return;
        }
        let whose = class.map(|class| format!("{class}-risk ")).unwrap_or_default();
        let message = if self.decision.communication.is_none() {
            format!(
                "The {whose}release has no communication package: prepare what changed, known limitations, monitoring focus, rollback trigger conditions and escalation."
            )
        } else {
            format!("The communication package misses {}: fill them in.", missing.join(", "))
        };
        let line = self.field_line(Field::Communication);
        self.emit(Code::CommunicationIncomplete, severity, message, line);
    }
}

fn human_age(age: jiff::SignedDuration) -> String {
    let hours = age.as_hours();
    if hours >= 24 && hours % 24 == 0 { format!("{} days", hours / 24) } else { format!("{hours} hours") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::GateResult;
    use crate::history::{Binding, Event};

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    fn stored(changes: Vec<Change>) -> Decision {
        let mut decision = Decision {
            binding: Some(Binding {
                repository: "r".into(),
                base: "b".repeat(40),
                head: "c".repeat(40),
                diff_digest: "sha256:1".into(),
            }),
            ..Decision::default()
        };
        for change in changes {
            decision.record(Event {
                at: at("2026-11-28T10:00:00Z"),
                actor: "a".into(),
                change,
                confirmed: None,
            });
        }
        decision
    }

    fn gate(layer: Layer, commit: &str, digest: Option<&str>) -> Change {
        Change::GateRecorded {
            layer,
            result: GateResult::Pass,
            evidence: vec![],
            commit: commit.into(),
            diff_digest: digest.map(str::to_owned),
            checks: Vec::new(),
            override_justification: None,
        }
    }

    fn codes(decision: Decision, facts: Option<&ReleaseFacts>) -> Vec<(Code, Severity)> {
        let report = validate_release(
            &Document::from_record(decision),
            &Policy::default(),
            at("2026-11-28T12:00:00Z"),
            facts,
        );
        report.findings.iter().map(|f| (f.code, f.severity)).collect()
    }

    fn facts(paths: &[&str]) -> ReleaseFacts {
        ReleaseFacts {
            commit: "c".repeat(40),
            diff_digest: "sha256:1".into(),
            changed_paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            same_code: Vec::new(),
            manifest_changes: Default::default(),
        }
    }

    #[test]
    fn evidence_for_another_diff_on_the_same_commit_is_stale() {
        let decision = stored(vec![
            Change::RiskDeclared { risk_class: RiskClass::Low, justification: None },
            gate(Layer::Code, &"c".repeat(40), Some("sha256:1")),
            gate(Layer::Review, &"c".repeat(40), Some("sha256:other")),
        ]);
        let found = codes(decision, Some(&facts(&["README.md"])));
        let stale: Vec<_> = found.iter().filter(|(code, _)| *code == Code::EvidenceStale).collect();
        assert_eq!(stale.len(), 1, "{found:?}");
    }

    #[test]
    fn history_rules_need_no_git_but_diff_rules_do() {
        let late = stored(vec![
            gate(Layer::Code, &"c".repeat(40), None),
            Change::RiskDeclared { risk_class: RiskClass::Low, justification: None },
        ]);
        assert!(codes(late.clone(), None).contains(&(Code::RiskDeclaredLate, Severity::Error)));
        // Without facts there is no diff to suggest a class, and no commit to compare evidence with.
        let without = codes(late.clone(), None);
        assert!(
            !without.iter().any(|(code, _)| matches!(code, Code::RiskBelowSuggested | Code::EvidenceStale))
        );
        let with = codes(late, Some(&facts(&["src/billing/invoice.rs"])));
        assert!(with.contains(&(Code::RiskBelowSuggested, Severity::Error)), "{with:?}");
    }

    #[test]
    fn evidence_age_follows_the_class() {
        let decision = stored(vec![
            Change::RiskDeclared { risk_class: RiskClass::High, justification: None },
            gate(Layer::Code, &"c".repeat(40), None),
        ]);
        let policy = Policy::from_toml("[classes.high]\nevidence_max_age = \"1h\"\n").unwrap();
        let report = validate_release(
            &Document::from_record(decision),
            &policy,
            at("2026-11-28T11:00:01Z"),
            Some(&facts(&["src/auth/a.rs"])),
        );
        assert!(report.findings.iter().any(|f| f.code == Code::EvidenceExpired), "{report:?}");
    }
}
