//! The risk policy: the protocol's risk-class matrix as data, and the `.release/policy.toml` that overrides it.
//!
//! A policy file is parsed into [`UnvalidatedPolicy`] (every key optional, spans kept), then validated
//! into [`Policy`], whose invariants hold by construction. Errors name the key and the line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::classify::PathRules;
use crate::decision::{Layer, RiskClass};
use crate::finding::{Code, Severity};
use crate::freeze::FreezeWindow;

/// How strongly a risk class asks for an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Requirement {
    /// Missing it is an error.
    Required,
    /// Missing it is a warning.
    Recommended,
    /// Missing it is not reported.
    Optional,
}

impl Requirement {
    /// The severity of a finding about the artifact being missing, if any.
    pub fn severity(self) -> Option<Severity> {
        match self {
            Requirement::Required => Some(Severity::Error),
            Requirement::Recommended => Some(Severity::Warning),
            Requirement::Optional => None,
        }
    }

    fn parse(name: &str) -> Option<Requirement> {
        match name {
            "required" => Some(Requirement::Required),
            "recommended" => Some(Requirement::Recommended),
            "optional" => Some(Requirement::Optional),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Requirement::Required => "required",
            Requirement::Recommended => "recommended",
            Requirement::Optional => "optional",
        }
    }
}

/// What one risk class requires before a GO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRules {
    /// Gate layers that must be evaluated (n/a is not allowed) and pass for a GO.
    pub gates: BTreeSet<Layer>,
    pub rollback_owner: Requirement,
    pub rehearsal: Requirement,
    pub drill: Requirement,
    pub communication: Requirement,
    /// Minimum number of distinct names on the go/no-go panel for a GO (0: no panel needed).
    pub panel: u32,
    /// How old a gate's evidence may be before it no longer counts.
    pub evidence_max_age: jiff::SignedDuration,
    /// Minimum number of distinct panel members whose signatures a signed GO needs (`release-gate verify`).
    pub signatures: u32,
    /// How long a GO stays valid for a deploy after it is made; later, `verify` and `validate` report
    /// `decision-expired` until the owner confirms it again.
    pub go_valid_for: jiff::SignedDuration,
}

/// A command the policy allows release-gate to run: a program and its arguments, never a shell line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub command: Vec<String>,
    /// The check is killed, and fails, when it runs longer.
    pub timeout: jiff::SignedDuration,
}

/// How long a check may run when the policy does not say.
pub const DEFAULT_CHECK_TIMEOUT: jiff::SignedDuration = jiff::SignedDuration::from_mins(30);

/// The rollback rehearsal's commands, one per step of the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RehearsalPlan {
    /// Apply the candidate build (non-production).
    pub apply: Check,
    /// Simulate the rollback trigger.
    pub trigger: Check,
    /// Execute the rollback path; the recovery clock starts here.
    pub rollback: Check,
    /// Succeeds when the service has recovered; polled until it does.
    pub check: Check,
    /// Time between two runs of the check.
    pub poll_interval: jiff::SignedDuration,
    /// How long to keep polling before the rehearsal fails.
    pub poll_limit: jiff::SignedDuration,
    /// The longest acceptable recovery time; a slower rehearsal fails.
    pub max_recovery: jiff::SignedDuration,
    /// How long after the trigger the check must fail (the service seen broken); otherwise the trigger did
    /// nothing observable and the rehearsal fails with `trigger-not-observed`.
    pub detect_within: jiff::SignedDuration,
}

/// The drill items that can be checked by running something.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrillChecks {
    /// "confirm critical commands run cleanly in current branch"
    pub critical_commands: Option<Check>,
    /// "verify feature flags/defaults are as expected"
    pub feature_flags: Option<Check>,
    /// "verify rollback command/process still works"
    pub rollback_command: Option<Check>,
}

/// A validated policy. Build it with [`Policy::default`] or [`Policy::from_toml`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    low: ClassRules,
    medium: ClassRules,
    high: ClassRules,
    /// Path rules that suggest a risk class from the diff.
    pub(crate) paths: PathRules,
    /// Release scope names and the path patterns each covers.
    pub(crate) scopes: BTreeMap<String, Vec<String>>,
    /// Severity overrides by finding code; `None` turns the finding off.
    findings: BTreeMap<String, Option<Severity>>,
    /// The code gate's checks, in order.
    code_gates: Vec<Check>,
    drill: DrillChecks,
    rehearsal: Option<RehearsalPlan>,
    pub(crate) freezes: Vec<FreezeWindow>,
    pub(crate) freeze_exceptions: Vec<crate::freeze::FreezeException>,
    metrics: MetricsSettings,
    signals: Vec<crate::signals::Signal>,
    watch: Option<WatchPlan>,
}

/// Where the metrics behind the rollback triggers are read (`[metrics]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// The Prometheus server's base URL; `RELEASE_GATE_METRICS_URL` overrides it.
    pub url: Option<String>,
    /// How long one query may take before it counts as an error.
    pub timeout: jiff::SignedDuration,
}

impl Default for MetricsSettings {
    fn default() -> MetricsSettings {
        MetricsSettings { url: None, timeout: jiff::SignedDuration::from_secs(10) }
    }
}

/// The post-deploy watch (`[watch]`): what to run when a rollback trigger fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchPlan {
    /// The production rollback, run once when a condition fires.
    pub rollback: Check,
    /// Polls in a row without data (or with query errors) after which the watch ends inconclusive.
    pub error_limit: u32,
    /// Roll back on an inconclusive end too (default: no automatic rollback without evidence).
    pub rollback_on_inconclusive: bool,
}

impl Default for Policy {
    /// The protocol's risk-class matrix: low needs code + review; medium adds a rollback owner; high needs all
    /// five layers, a rehearsal, a drill and a panel of two.
    fn default() -> Self {
        use Requirement::*;
        Policy {
            low: ClassRules {
                gates: BTreeSet::from([Layer::Code, Layer::Review]),
                rollback_owner: Recommended,
                rehearsal: Optional,
                drill: Optional,
                communication: Recommended,
                panel: 0,
                evidence_max_age: jiff::SignedDuration::from_hours(30 * 24),
                signatures: 0,
                go_valid_for: jiff::SignedDuration::from_hours(7 * 24),
            },
            medium: ClassRules {
                gates: BTreeSet::from([Layer::Code, Layer::Review]),
                rollback_owner: Required,
                rehearsal: Recommended,
                drill: Optional,
                communication: Recommended,
                panel: 0,
                evidence_max_age: jiff::SignedDuration::from_hours(7 * 24),
                signatures: 0,
                go_valid_for: jiff::SignedDuration::from_hours(3 * 24),
            },
            high: ClassRules {
                gates: Layer::ALL.into_iter().collect(),
                rollback_owner: Required,
                rehearsal: Required,
                drill: Required,
                communication: Required,
                panel: 2,
                evidence_max_age: jiff::SignedDuration::from_hours(3 * 24),
                signatures: 2,
                go_valid_for: jiff::SignedDuration::from_hours(24),
            },
            paths: PathRules::new(PathRules::protocol_default()).unwrap_or_else(|_| PathRules::empty()),
            scopes: BTreeMap::new(),
            findings: BTreeMap::new(),
            code_gates: Vec::new(),
            drill: DrillChecks::default(),
            rehearsal: None,
            freezes: Vec::new(),
            freeze_exceptions: Vec::new(),
            metrics: MetricsSettings::default(),
            signals: Vec::new(),
            watch: None,
        }
    }
}

impl Policy {
    /// The rules of one risk class.
    pub fn class(&self, class: RiskClass) -> &ClassRules {
        match class {
            RiskClass::Low => &self.low,
            RiskClass::Medium => &self.medium,
            RiskClass::High => &self.high,
        }
    }

    /// The path rules that suggest a risk class from the diff.
    pub fn paths(&self) -> &PathRules {
        &self.paths
    }

    /// Release scope names and their path patterns (empty: scopes are not checked).
    pub fn scopes(&self) -> &BTreeMap<String, Vec<String>> {
        &self.scopes
    }

    /// The checks `release-gate gates run` runs for the code gate.
    pub fn code_gates(&self) -> &[Check] {
        &self.code_gates
    }

    /// The drill items that run a command.
    pub fn drill(&self) -> &DrillChecks {
        &self.drill
    }

    /// The rollback rehearsal's commands, if the policy names them.
    pub fn rehearsal(&self) -> Option<&RehearsalPlan> {
        self.rehearsal.as_ref()
    }

    /// Freeze windows.
    pub fn freezes(&self) -> &[FreezeWindow] {
        &self.freezes
    }

    /// Approved exceptions to freeze windows (`[[freeze_exception]]`).
    /// Where the metrics are read.
    pub fn metrics(&self) -> &MetricsSettings {
        &self.metrics
    }

    /// The rollback triggers' signals, each a query with its unit.
    pub fn signals(&self) -> &[crate::signals::Signal] {
        &self.signals
    }

    /// The post-deploy watch's rollback, if the policy names one.
    pub fn watch(&self) -> Option<&WatchPlan> {
        self.watch.as_ref()
    }

    pub fn freeze_exceptions(&self) -> &[crate::freeze::FreezeException] {
        &self.freeze_exceptions
    }

    fn class_mut(&mut self, class: RiskClass) -> &mut ClassRules {
        match class {
            RiskClass::Low => &mut self.low,
            RiskClass::Medium => &mut self.medium,
            RiskClass::High => &mut self.high,
        }
    }

    /// The severity a finding gets under this policy: the rule's own, unless the policy overrides it.
    /// `None` means the policy turned the finding off.
    pub fn severity(&self, code: Code, rule_severity: Severity) -> Option<Severity> {
        match self.findings.get(code.as_str()) {
            Some(overridden) => *overridden,
            None => Some(rule_severity),
        }
    }

    /// Parses and validates a policy file; keys it does not set keep their defaults. Every mistake is
    /// reported (a file TOML cannot read at all, its first one).
    pub fn from_toml(text: &str) -> Result<Policy, PolicyErrors> {
        let unvalidated: UnvalidatedPolicy =
            toml::from_str(text).map_err(|error| PolicyErrors(vec![PolicyError::from_toml(&error, text)]))?;
        unvalidated.validate(text)
    }
}

/// A policy file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// 1-based line of the offending key or value, when known.
    pub line: Option<usize>,
    /// The dotted key, when known.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

/// Every mistake of a policy file, in file order (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors(Vec<PolicyError>);

impl std::ops::Deref for PolicyErrors {
    type Target = [PolicyError];

    fn deref(&self) -> &[PolicyError] {
        &self.0
    }
}

impl fmt::Display for PolicyErrors {
    /// One mistake on its line; several as a count and one line each.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => one.fmt(f),
            many => {
                write!(f, "{} mistakes:", many.len())?;
                for error in many {
                    write!(f, "\n  {error}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for PolicyErrors {}

impl PolicyError {
    fn from_toml(error: &toml::de::Error, text: &str) -> PolicyError {
        let line = error.span().map(|span| line_of(text, span.start));
        PolicyError {
            line,
            key: line.and_then(|line| key_at_line(text, line)),
            message: error.message().trim().to_owned(),
        }
    }

    fn at<T>(text: &str, spanned: &Spanned<T>, key: String, message: String) -> PolicyError {
        PolicyError { line: Some(line_of(text, spanned.span().start)), key: Some(key), message }
    }
}

/// The dotted key written on a line of a TOML file (`classes.high.panel`, `code_gates[1].command`), read
/// from the line and the table header above it, for errors the TOML reader reports without one.
fn key_at_line(text: &str, line: usize) -> Option<String> {
    let mut table = String::new();
    let mut arrays: BTreeMap<String, usize> = BTreeMap::new();
    for (number, raw) in text.lines().enumerate().take(line) {
        let content = raw.split('#').next().unwrap_or("").trim();
        let header = content.strip_prefix("[[").and_then(|rest| rest.strip_suffix("]]"));
        let key = if let Some(name) = header {
            let name = unquote_key(name);
            let index = arrays.entry(name.clone()).and_modify(|n| *n += 1).or_insert(0);
            table = format!("{name}[{index}]");
            Some(table.clone())
        } else if let Some(name) = content.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            table = unquote_key(name);
            Some(table.clone())
        } else if let Some((name, _)) = content.split_once('=') {
            let name = unquote_key(name);
            Some(if table.is_empty() { name } else { format!("{table}.{name}") })
        } else {
            None
        };
        if number + 1 == line {
            return key.filter(|key| !key.is_empty()).map(|key| crate::value::excerpt(&key, 80).to_owned());
        }
    }
    None
}

fn unquote_key(key: &str) -> String {
    key.split('.').map(|part| part.trim().trim_matches('"').trim_matches('\'')).collect::<Vec<_>>().join(".")
}

pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).bytes().filter(|b| *b == b'\n').count() + 1
}

/// The policy file as written: every key optional, with spans for error messages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnvalidatedPolicy {
    version: Option<Spanned<i64>>,
    #[serde(default)]
    classes: BTreeMap<Spanned<String>, UnvalidatedClass>,
    #[serde(default)]
    findings: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    paths: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
    #[serde(default)]
    scopes: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
    dependencies: Option<UnvalidatedDependencies>,
    #[serde(default)]
    freeze_exception: Vec<UnvalidatedFreezeException>,
    #[serde(default)]
    code_gates: Vec<Spanned<UnvalidatedCheck>>,
    drill: Option<UnvalidatedDrill>,
    rehearsal: Option<Spanned<UnvalidatedRehearsal>>,
    #[serde(default)]
    freeze: Vec<Spanned<UnvalidatedFreeze>>,
    metrics: Option<UnvalidatedMetrics>,
    #[serde(default)]
    signals: Vec<Spanned<UnvalidatedSignal>>,
    watch: Option<Spanned<UnvalidatedWatch>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnvalidatedMetrics {
    url: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnvalidatedSignal {
    name: Spanned<String>,
    query: Spanned<String>,
    unit: Spanned<String>,
    step: Option<Spanned<String>>,
    no_data: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnvalidatedWatch {
    rollback: Spanned<Vec<String>>,
    timeout: Option<Spanned<String>>,
    error_limit: Option<Spanned<i64>>,
    rollback_on_inconclusive: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnvalidatedDependencies {
    pub(crate) manifests: Option<Vec<Spanned<String>>>,
    pub(crate) high: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnvalidatedFreezeException {
    pub(crate) window: Spanned<String>,
    pub(crate) approved_by: Spanned<String>,
    pub(crate) reason: Spanned<String>,
    pub(crate) until: Spanned<String>,
    pub(crate) scope: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnvalidatedCheck {
    name: Spanned<String>,
    command: Spanned<Vec<String>>,
    timeout: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnvalidatedDrill {
    /// One command (`critical_command` reads the same: the key is plural for the drill item's wording).
    #[serde(alias = "critical_command")]
    critical_commands: Option<Spanned<Vec<String>>>,
    feature_flags: Option<Spanned<Vec<String>>>,
    rollback_command: Option<Spanned<Vec<String>>>,
    timeout: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnvalidatedRehearsal {
    apply: Spanned<Vec<String>>,
    trigger: Spanned<Vec<String>>,
    rollback: Spanned<Vec<String>>,
    check: Spanned<Vec<String>>,
    timeout: Option<Spanned<String>>,
    poll_interval: Option<Spanned<String>>,
    poll_limit: Option<Spanned<String>>,
    max_recovery: Option<Spanned<String>>,
    detect_within: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnvalidatedFreeze {
    pub(crate) name: Spanned<String>,
    pub(crate) zone: Spanned<String>,
    pub(crate) start: Option<Spanned<String>>,
    pub(crate) end: Option<Spanned<String>>,
    pub(crate) days: Option<Vec<Spanned<String>>>,
    pub(crate) from: Option<Spanned<String>>,
    pub(crate) to: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnvalidatedClass {
    gates: Option<Vec<Spanned<String>>>,
    rollback_owner: Option<Spanned<String>>,
    rehearsal: Option<Spanned<String>>,
    drill: Option<Spanned<String>>,
    communication: Option<Spanned<String>>,
    panel: Option<Spanned<i64>>,
    evidence_max_age: Option<Spanned<String>>,
    signatures: Option<Spanned<i64>>,
    go_valid_for: Option<Spanned<String>>,
}

/// The policy file format this release-gate reads.
pub const POLICY_VERSION: i64 = 1;

impl UnvalidatedPolicy {
    /// Checks every value and applies it over the defaults. Every mistake is reported, each with its line
    /// and key, so a policy with three mistakes takes one run to fix; a value in error keeps its default.
    /// A file of another format version is reported alone: its other keys may mean something else.
    pub fn validate(self, text: &str) -> Result<Policy, PolicyErrors> {
        let mut check = Checker { text, errors: Vec::new() };
        if let Some(version) = &self.version
            && *version.get_ref() != POLICY_VERSION
        {
            return Err(PolicyErrors(vec![PolicyError::at(
                text,
                version,
                "version".into(),
                format!("this release-gate reads policy version {POLICY_VERSION}, not {}", version.get_ref()),
            )]));
        }
        let mut policy = Policy::default();
        for (name, class) in self.classes {
            check.class(&mut policy, name, class);
        }
        check.paths(&mut policy, self.paths, self.dependencies);
        for (name, patterns) in self.scopes {
            check.scope(&mut policy, name, patterns);
        }
        for (index, gate) in self.code_gates.into_iter().enumerate() {
            let key = format!("code_gates[{index}]");
            let gate = gate.into_inner();
            let name = gate.name.get_ref().trim().to_owned();
            if name.is_empty() {
                check.at(&gate.name, format!("{key}.name"), "a check needs a name");
            }
            let timeout =
                check.duration(gate.timeout.as_ref(), &format!("{key}.timeout"), DEFAULT_CHECK_TIMEOUT);
            if let Some(command) = check.command(&gate.command, &format!("{key}.command")) {
                policy.code_gates.push(Check { name, command, timeout });
            }
        }
        if let Some(drill) = self.drill {
            check.drill(&mut policy, drill);
        }
        if let Some(plan) = self.rehearsal {
            check.rehearsal(&mut policy, plan.into_inner());
        }
        if let Some(metrics) = self.metrics {
            check.metrics(&mut policy, metrics);
        }
        for (index, signal) in self.signals.into_iter().enumerate() {
            check.signal(&mut policy, index, signal.into_inner());
        }
        if let Some(watch) = self.watch {
            check.watch(&mut policy, watch.into_inner());
        }
        for (index, window) in self.freeze.into_iter().enumerate() {
            check.freeze(&mut policy, index, window);
        }
        for (index, exception) in self.freeze_exception.into_iter().enumerate() {
            check.freeze_exception(&mut policy, index, exception);
        }
        for (code, severity) in self.findings {
            check.finding(&mut policy, code, severity);
        }
        check.finish().map(|()| policy)
    }
}

/// Gathers a policy file's mistakes as the validator goes: each check notes what is wrong and gives back
/// `None` (the value keeps its default) instead of stopping.
pub(crate) struct Checker<'t> {
    pub(crate) text: &'t str,
    pub(crate) errors: Vec<PolicyError>,
}

impl Checker<'_> {
    pub(crate) fn at<T>(&mut self, spanned: &Spanned<T>, key: impl Into<String>, message: impl Into<String>) {
        self.errors.push(PolicyError::at(self.text, spanned, key.into(), message.into()));
    }

    fn finish(mut self) -> Result<(), PolicyErrors> {
        if self.errors.is_empty() {
            return Ok(());
        }
        // File order: the sections are checked one after another, not in the order they are written.
        self.errors.sort_by_key(|error| error.line.unwrap_or(usize::MAX));
        Err(PolicyErrors(self.errors))
    }

    /// A command array: a program and its arguments, none empty.
    pub(crate) fn command(&mut self, value: &Spanned<Vec<String>>, key: &str) -> Option<Vec<String>> {
        let words = value.get_ref();
        if words.is_empty() || words.iter().any(|word| word.is_empty() || word.contains('\0')) {
            self.at(
                value,
                key,
                "a command is a non-empty list of non-empty words, e.g. [\"cargo\", \"test\"]",
            );
            return None;
        }
        Some(words.clone())
    }

    /// A duration (`90s`, `10m`, `72h`, `3d`, `1w`); `default` when absent or in error.
    pub(crate) fn duration(
        &mut self,
        value: Option<&Spanned<String>>,
        key: &str,
        default: jiff::SignedDuration,
    ) -> jiff::SignedDuration {
        let Some(value) = value else { return default };
        match parse_age(value.get_ref()) {
            Some(duration) => duration,
            None => {
                self.at(
                    value,
                    key,
                    format!(
                        "`{}` is not a duration such as `90s`, `10m`, `72h`, `3d` or `1w`",
                        value.get_ref()
                    ),
                );
                default
            }
        }
    }

    /// A whole number from 0 to 100 (`what` names it in the message).
    fn count(&mut self, value: Option<Spanned<i64>>, key: &str, what: &str, slot: &mut u32) {
        let Some(value) = value else { return };
        match u32::try_from(*value.get_ref()).ok().filter(|n| *n <= 100) {
            Some(count) => *slot = count,
            None => {
                self.at(
                    &value,
                    key,
                    format!("{what} must be a whole number from 0 to 100, not {}", value.get_ref()),
                );
            }
        }
    }

    fn class(&mut self, policy: &mut Policy, name: Spanned<String>, class: UnvalidatedClass) {
        let key = format!("classes.{}", name.get_ref());
        let Some(risk) = RiskClass::from_name(name.get_ref()).filter(|r| r.as_str() == name.get_ref()) else {
            self.at(&name, key, "risk classes are `low`, `medium` and `high`");
            return;
        };
        let rules = policy.class_mut(risk);
        if let Some(gates) = class.gates {
            let mut set = BTreeSet::new();
            for gate in gates {
                match Layer::from_name(gate.get_ref()).filter(|l| l.as_str() == gate.get_ref()) {
                    Some(layer) => {
                        set.insert(layer);
                    }
                    None => self.at(
                        &gate,
                        format!("{key}.gates"),
                        format!(
                            "unknown gate layer `{}`; layers are code, review, operational, communication, decision",
                            gate.get_ref()
                        ),
                    ),
                }
            }
            rules.gates = set;
        }
        for (field, value, slot) in [
            ("rollback_owner", class.rollback_owner, &mut rules.rollback_owner),
            ("rehearsal", class.rehearsal, &mut rules.rehearsal),
            ("drill", class.drill, &mut rules.drill),
            ("communication", class.communication, &mut rules.communication),
        ] {
            let Some(value) = value else { continue };
            match Requirement::parse(value.get_ref()) {
                Some(requirement) => *slot = requirement,
                None => self.at(
                    &value,
                    format!("{key}.{field}"),
                    format!("`{}` is not one of `required`, `recommended`, `optional`", value.get_ref()),
                ),
            }
        }
        rules.evidence_max_age = self.duration(
            class.evidence_max_age.as_ref(),
            &format!("{key}.evidence_max_age"),
            rules.evidence_max_age,
        );
        rules.go_valid_for =
            self.duration(class.go_valid_for.as_ref(), &format!("{key}.go_valid_for"), rules.go_valid_for);
        self.count(class.signatures, &format!("{key}.signatures"), "signatures", &mut rules.signatures);
        self.count(class.panel, &format!("{key}.panel"), "panel size", &mut rules.panel);
    }

    fn drill(&mut self, policy: &mut Policy, drill: UnvalidatedDrill) {
        let timeout = self.duration(drill.timeout.as_ref(), "drill.timeout", DEFAULT_CHECK_TIMEOUT);
        let mut item = |value: Option<Spanned<Vec<String>>>, name: &str| -> Option<Check> {
            let command = self.command(&value?, &format!("drill.{name}"))?;
            Some(Check { name: name.replace('_', " "), command, timeout })
        };
        policy.drill = DrillChecks {
            critical_commands: item(drill.critical_commands, "critical_commands"),
            feature_flags: item(drill.feature_flags, "feature_flags"),
            rollback_command: item(drill.rollback_command, "rollback_command"),
        };
    }

    fn rehearsal(&mut self, policy: &mut Policy, plan: UnvalidatedRehearsal) {
        let timeout = self.duration(plan.timeout.as_ref(), "rehearsal.timeout", DEFAULT_CHECK_TIMEOUT);
        let mut step = |name: &str, value: &Spanned<Vec<String>>| -> Option<Check> {
            let command = self.command(value, &format!("rehearsal.{name}"))?;
            Some(Check { name: name.to_owned(), command, timeout })
        };
        let steps = (
            step("apply", &plan.apply),
            step("trigger", &plan.trigger),
            step("rollback", &plan.rollback),
            step("check", &plan.check),
        );
        let poll_interval = self.duration(
            plan.poll_interval.as_ref(),
            "rehearsal.poll_interval",
            jiff::SignedDuration::from_secs(1),
        );
        let poll_limit = self.duration(
            plan.poll_limit.as_ref(),
            "rehearsal.poll_limit",
            jiff::SignedDuration::from_mins(10),
        );
        let max_recovery = self.duration(
            plan.max_recovery.as_ref(),
            "rehearsal.max_recovery",
            jiff::SignedDuration::from_mins(15),
        );
        let detect_within = self.duration(
            plan.detect_within.as_ref(),
            "rehearsal.detect_within",
            jiff::SignedDuration::from_mins(2),
        );
        if let (Some(apply), Some(trigger), Some(rollback), Some(check)) = steps {
            policy.rehearsal = Some(RehearsalPlan {
                apply,
                trigger,
                rollback,
                check,
                poll_interval,
                poll_limit,
                max_recovery,
                detect_within,
            });
        }
    }

    fn metrics(&mut self, policy: &mut Policy, metrics: UnvalidatedMetrics) {
        if let Some(url) = &metrics.url {
            let value = url.get_ref().trim();
            if value.starts_with("http://") && value.len() > "http://".len() {
                policy.metrics.url = Some(value.to_owned());
            } else {
                self.at(
                    url,
                    "metrics.url",
                    "the metrics URL is the Prometheus server's base URL over plain HTTP, e.g. `http://127.0.0.1:9090`",
                );
            }
        }
        policy.metrics.timeout =
            self.duration(metrics.timeout.as_ref(), "metrics.timeout", policy.metrics.timeout);
    }

    fn signal(&mut self, policy: &mut Policy, index: usize, signal: UnvalidatedSignal) {
        let key = format!("signals[{index}]");
        let name = signal.name.get_ref().trim();
        let query = signal.query.get_ref().trim();
        if name.is_empty() || query.is_empty() {
            let at = if name.is_empty() { &signal.name } else { &signal.query };
            self.at(
                at,
                key,
                "a signal needs a `name` (as the rollback triggers write it) and a PromQL `query`",
            );
            return;
        }
        if policy.signals.iter().any(|known| known.name.eq_ignore_ascii_case(name)) {
            self.at(
                &signal.name,
                format!("{key}.name"),
                format!("the signal `{name}` is defined twice; keep one entry per signal"),
            );
            return;
        }
        let unit = crate::signals::Unit::from_name(signal.unit.get_ref());
        if unit.is_none() {
            self.at(
                &signal.unit,
                format!("{key}.unit"),
                "`unit` is one of ratio, percent, seconds, milliseconds, count",
            );
        }
        let no_data = match &signal.no_data {
            None => Some(crate::signals::NoData::Inconclusive),
            Some(value) => {
                let parsed = crate::signals::NoData::from_name(value.get_ref());
                if parsed.is_none() {
                    self.at(
                        value,
                        format!("{key}.no_data"),
                        "`no_data` is one of inconclusive, not-firing, firing",
                    );
                }
                parsed
            }
        };
        let step =
            self.duration(signal.step.as_ref(), &format!("{key}.step"), jiff::SignedDuration::from_secs(15));
        if let (Some(unit), Some(no_data)) = (unit, no_data) {
            policy.signals.push(crate::signals::Signal {
                name: name.to_owned(),
                query: query.to_owned(),
                unit,
                step,
                no_data,
            });
        }
    }

    fn watch(&mut self, policy: &mut Policy, watch: UnvalidatedWatch) {
        let timeout = self.duration(watch.timeout.as_ref(), "watch.timeout", DEFAULT_CHECK_TIMEOUT);
        let error_limit = match &watch.error_limit {
            None => 4,
            Some(value) => match u32::try_from(*value.get_ref()).ok().filter(|limit| *limit > 0) {
                Some(limit) => limit,
                None => {
                    self.at(value, "watch.error_limit", "`error_limit` is a positive number of polls");
                    4
                }
            },
        };
        if let Some(command) = self.command(&watch.rollback, "watch.rollback") {
            policy.watch = Some(WatchPlan {
                rollback: Check { name: "rollback".to_owned(), command, timeout },
                error_limit,
                rollback_on_inconclusive: watch.rollback_on_inconclusive.unwrap_or(false),
            });
        }
    }

    fn finding(&mut self, policy: &mut Policy, code: Spanned<String>, severity: Spanned<String>) {
        let key = format!("findings.{}", code.get_ref());
        if Code::from_name(code.get_ref()).is_none() {
            self.at(&code, key, "unknown finding code; `release-gate rules` lists them");
            return;
        }
        let level = match severity.get_ref().as_str() {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "off" => None,
            other => {
                self.at(&severity, key, format!("`{other}` is not one of `error`, `warning`, `off`"));
                return;
            }
        };
        policy.findings.insert(code.into_inner(), level);
    }
}

/// Parses a duration such as `90m`, `72h`, `3d`, `1w` or `1d12h` (units s, m, h, d, w).
pub fn parse_age(text: &str) -> Option<jiff::SignedDuration> {
    let mut total: i64 = 0;
    let mut number: Option<i64> = None;
    for c in text.trim().chars() {
        if let Some(digit) = c.to_digit(10) {
            number = Some(number.unwrap_or(0).checked_mul(10)?.checked_add(i64::from(digit))?);
            continue;
        }
        let seconds = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        total = total.checked_add(number.take()?.checked_mul(seconds)?)?;
    }
    if number.is_some() || total <= 0 {
        return None;
    }
    Some(jiff::SignedDuration::from_secs(total))
}

/// The default policy written out with comments, as `release-gate init` creates it.
pub const DEFAULT_POLICY_TOML: &str = include_str!("default-policy.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_out_default_is_the_default() {
        assert_eq!(Policy::from_toml(DEFAULT_POLICY_TOML), Ok(Policy::default()));
        assert_eq!(Policy::from_toml(""), Ok(Policy::default()));
    }

    #[test]
    fn the_singular_critical_command_reads_the_same() {
        let policy = Policy::from_toml("[drill]\ncritical_command = [\"make\", \"smoke\"]\n").unwrap();
        assert_eq!(policy.drill().critical_commands.as_ref().unwrap().command, ["make", "smoke"]);
    }

    #[test]
    fn commands_drill_rehearsal_and_freezes() {
        let policy = Policy::from_toml(
            r#"
[[code_gates]]
name = "tests"
command = ["cargo", "test"]
timeout = "10m"

[[code_gates]]
name = "lint"
command = ["cargo", "clippy"]

[drill]
critical_commands = ["make", "smoke"]

[rehearsal]
apply = ["./deploy", "candidate"]
trigger = ["./break"]
rollback = ["./rollback"]
check = ["./healthy"]
max_recovery = "2m"

[[freeze]]
name = "holidays"
zone = "America/New_York"
start = "2026-12-24T00:00"
end = "2026-12-27T00:00"

[[freeze]]
name = "weekends"
zone = "Europe/Berlin"
days = ["sat", "sun"]
from = "00:00"
to = "23:59"
"#,
        )
        .unwrap();
        let names: Vec<&str> = policy.code_gates().iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["tests", "lint"]);
        assert_eq!(policy.code_gates()[0].timeout, jiff::SignedDuration::from_mins(10));
        assert_eq!(policy.code_gates()[1].timeout, DEFAULT_CHECK_TIMEOUT);
        assert_eq!(policy.drill().critical_commands.as_ref().unwrap().command, ["make", "smoke"]);
        assert!(policy.drill().rollback_command.is_none());
        assert_eq!(policy.rehearsal().unwrap().max_recovery, jiff::SignedDuration::from_mins(2));
        assert_eq!(policy.freezes().len(), 2);
        assert!(policy.freezes()[0].contains("2026-12-25T12:00:00Z".parse().unwrap()));
    }

    #[test]
    fn errors_of_the_toml_reader_name_the_key() {
        let text = "version = 1\n\n[classes.high]\npanel = 2\n# a comment\npanel = 3\n";
        let errors = Policy::from_toml(text).unwrap_err();
        let error = &errors[0];
        assert_eq!((error.line, error.key.as_deref()), (Some(6), Some("classes.high.panel")), "{error}");
        assert!(error.to_string().starts_with("line 6: `classes.high.panel`: "), "{error}");
        let errors =
            Policy::from_toml("[[code_gates]]\nname = \"a\"\ncommand = [\"x\"]\n[[code_gates]]\nname = 1\n")
                .unwrap_err();
        assert_eq!(errors[0].key.as_deref(), Some("code_gates[1].name"), "{errors}");
    }

    #[test]
    fn freeze_exceptions_name_a_window_who_why_and_until() {
        let freeze = "[[freeze]]\nname = \"year-end\"\nzone = \"UTC\"\nstart = \"2026-12-24T00:00\"\nend = \"2027-01-02T00:00\"\n";
        let policy = Policy::from_toml(&format!(
            "{freeze}[[freeze_exception]]\nwindow = \"Year-End\"\napproved_by = \"Priya Shah\"\nreason = \"CVE fix\"\nuntil = \"2026-12-27T00:00Z\"\n"
        ))
        .unwrap();
        let exception = &policy.freeze_exceptions()[0];
        assert_eq!(exception.approved_by, "Priya Shah");
        let window = &policy.freezes()[0];
        assert!(exception.covers(window, "2026-12-26T12:00:00Z".parse().unwrap(), None));
        assert!(!exception.covers(window, "2026-12-28T12:00:00Z".parse().unwrap(), None));
        check_error(
            &format!(
                "{freeze}[[freeze_exception]]\nwindow = \"other\"\napproved_by = \"P\"\nreason = \"r\"\nuntil = \"2026-12-27T00:00Z\"\n"
            ),
            7,
            Some("freeze_exception[0].window"),
            "no [[freeze]] window",
        );
        check_error(
            &format!(
                "{freeze}[[freeze_exception]]\nwindow = \"year-end\"\napproved_by = \"P\"\nreason = \"r\"\nuntil = \"soon\"\n"
            ),
            10,
            Some("freeze_exception[0].until"),
            "RFC 3339",
        );
        check_error(
            &format!(
                "{freeze}[[freeze_exception]]\nwindow = \"year-end\"\nreason = \"r\"\nuntil = \"2026-12-27T00:00Z\"\n"
            ),
            6,
            Some("freeze_exception[0]"),
            "approved_by",
        );
    }

    #[test]
    fn bad_commands_and_freezes_name_key_and_line() {
        check_error(
            "[[code_gates]]\nname = \"t\"\ncommand = []\n",
            3,
            Some("code_gates[0].command"),
            "non-empty",
        );
        check_error(
            "[[code_gates]]\nname = \"t\"\ncommand = \"cargo test\"\n",
            3,
            Some("code_gates[0].command"),
            "sequence",
        );
        check_error(
            "[[code_gates]]\nname = \"\"\ncommand = [\"x\"]\n",
            2,
            Some("code_gates[0].name"),
            "name",
        );
        check_error(
            "[[freeze]]\nname = \"f\"\nzone = \"Mars/Base\"\nstart = \"2026-12-24T00:00\"\nend = \"2026-12-25T00:00\"\n",
            3,
            Some("freeze[0].zone"),
            "IANA",
        );
        check_error(
            "[[freeze]]\nname = \"f\"\nzone = \"UTC\"\nstart = \"2026-12-24T00:00\"\n",
            1,
            Some("freeze[0]"),
            "either",
        );
        check_error(
            "[[freeze]]\nname = \"f\"\nzone = \"UTC\"\ndays = [\"caturday\"]\nfrom = \"00:00\"\nto = \"01:00\"\n",
            4,
            Some("freeze[0].days"),
            "weekday",
        );
        check_error(
            "[[freeze]]\nname = \"f\"\nzone = \"UTC\"\nstart = \"2026-12-24T00:00\"\nend = \"2026-12-23T00:00\"\n",
            5,
            Some("freeze[0].end"),
            "after",
        );
        check_error("[rehearsal]\napply = [\"a\"]\n", 1, Some("rehearsal"), "missing field");
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("72h"), Some(jiff::SignedDuration::from_hours(72)));
        assert_eq!(parse_age("1d12h"), Some(jiff::SignedDuration::from_hours(36)));
        assert_eq!(parse_age("1w"), Some(jiff::SignedDuration::from_hours(168)));
        for bad in ["", "3", "d", "0d", "3x", "-3d", "99999999999999999999d"] {
            assert_eq!(parse_age(bad), None, "{bad}");
        }
    }

    #[test]
    fn path_rules_and_scopes() {
        let policy =
            Policy::from_toml("[paths]\nhigh = [\"payments/**\"]\n[scopes]\nAPI = [\"src/api/**\"]\n")
                .unwrap();
        let mut scratch = Vec::new();
        assert_eq!(policy.paths().classify_path("payments/x.rs", &mut scratch).0, RiskClass::High);
        // Replacing the high patterns drops the default ones; low ones stay.
        assert_eq!(policy.paths().classify_path("src/auth/x.rs", &mut scratch).0, RiskClass::Medium);
        assert_eq!(policy.paths().classify_path("README.md", &mut scratch).0, RiskClass::Low);
        assert_eq!(policy.scopes().get("api"), Some(&vec!["src/api/**".to_owned()]));
    }

    #[test]
    fn overrides_apply_over_defaults() {
        let policy = Policy::from_toml(
            "[classes.high]\npanel = 3\n[classes.low]\ngates = [\"code\"]\n[findings]\n\"rollback-trigger-vague\" = \"warning\"\n\"field-unknown\" = \"off\"\n",
        )
        .unwrap();
        assert_eq!(policy.class(RiskClass::High).panel, 3);
        assert_eq!(policy.class(RiskClass::High).gates.len(), 5);
        assert_eq!(policy.class(RiskClass::Low).gates, BTreeSet::from([Layer::Code]));
        assert_eq!(policy.severity(Code::RollbackTriggerVague, Severity::Error), Some(Severity::Warning));
        assert_eq!(policy.severity(Code::FieldUnknown, Severity::Warning), None);
        assert_eq!(policy.severity(Code::ScopeMissing, Severity::Error), Some(Severity::Error));
    }

    #[track_caller]
    fn check_error(text: &str, line: usize, key: Option<&str>, message_part: &str) {
        let errors = Policy::from_toml(text).unwrap_err();
        assert_eq!(errors.len(), 1, "one mistake, one error: {errors}");
        let error = &errors[0];
        assert_eq!(error.line, Some(line), "{error}");
        assert_eq!(error.key.as_deref(), key, "{error}");
        assert!(error.to_string().contains(message_part), "{error}");
    }

    /// A policy with a mistake in each of several sections is reported whole, in file order, in one run.
    #[test]
    fn every_mistake_is_reported_at_once() {
        let text = "[classes.high]\npanel = 101\ngates = [\"code\", \"qa\"]\n\n[[code_gates]]\nname = \"\"\n\
                    command = []\ntimeout = \"soon\"\n\n[[freeze]]\nname = \"winter\"\nzone = \"Mars/Olympus\"\n\
                    days = [\"funday\"]\nfrom = \"18:00\"\nto = \"25:00\"\n\n[findings]\nno-such-code = \"off\"\n";
        let errors = Policy::from_toml(text).unwrap_err();
        let found: Vec<(Option<usize>, Option<&str>)> =
            errors.iter().map(|error| (error.line, error.key.as_deref())).collect();
        assert_eq!(
            found,
            [
                (Some(2), Some("classes.high.panel")),
                (Some(3), Some("classes.high.gates")),
                (Some(6), Some("code_gates[0].name")),
                (Some(7), Some("code_gates[0].command")),
                (Some(8), Some("code_gates[0].timeout")),
                (Some(12), Some("freeze[0].zone")),
                (Some(13), Some("freeze[0].days")),
                (Some(15), Some("freeze[0].to")),
                (Some(18), Some("findings.no-such-code")),
            ],
            "{errors}"
        );
        let shown = errors.to_string();
        assert!(shown.starts_with("9 mistakes:\n  line 2: `classes.high.panel`: "), "{shown}");
        assert_eq!(shown.lines().count(), 10, "{shown}");
    }

    #[test]
    fn bad_policies_name_key_and_line() {
        check_error("version = 1\n\n[classes.high]\npanel = -1\n", 4, Some("classes.high.panel"), "0 to 100");
        check_error("[classes.urgent]\npanel = 1\n", 1, Some("classes.urgent"), "low");
        check_error("[classes.high]\ngates = [\"code\", \"qa\"]\n", 2, Some("classes.high.gates"), "`qa`");
        check_error("[classes.low]\ndrill = \"maybe\"\n", 2, Some("classes.low.drill"), "`maybe`");
        check_error(
            "[findings]\n\"no-such\" = \"off\"\n",
            2,
            Some("findings.no-such"),
            "unknown finding code",
        );
        check_error(
            "[findings]\n\"scope-missing\" = \"fatal\"\n",
            2,
            Some("findings.scope-missing"),
            "`fatal`",
        );
        check_error("[classes.high]\nsignatures = 101\n", 2, Some("classes.high.signatures"), "0 to 100");
        check_error("version = 2\n", 1, Some("version"), "version 1");
        check_error("[classes.high]\npannel = 3\n", 2, Some("classes.high.pannel"), "pannel");
        check_error("[classes.high\n", 1, None, "");
        check_error("x = \"\u{0}\"", 1, Some("x"), "");
        check_error(
            "[classes.high]\nevidence_max_age = \"soon\"\n",
            2,
            Some("classes.high.evidence_max_age"),
            "`soon`",
        );
        check_error("[paths]\nhigh = [\"src/[\"]\n", 2, Some("paths.high"), "not a valid glob");
        check_error("[paths]\nurgent = []\n", 2, Some("paths.urgent"), "risk classes");
        check_error("[scopes]\napi = [\"src/{\"]\n", 2, Some("scopes.api"), "not a valid glob");
    }
}
