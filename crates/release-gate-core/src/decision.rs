//! The decision record: the protocol's "Release Decision" and its optional companion artifacts.
//!
//! The record keeps what its author wrote, as text, so that a Markdown decision survives a trip to JSON
//! and back unchanged, placeholders and typos included. Interpreting the text (is `high (billing)` a
//! valid risk class?) is the validator's job, through the typed views in this module.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::history::{Binding, Event};
use crate::value;

/// The version of the JSON record format. Bumped on any incompatible change.
pub const RECORD_VERSION: u32 = 1;

/// A release decision, in its canonical (JSON) form.
///
/// Every field is optional because a decision is drafted over time and the validator must be able to
/// say what is still missing. Absent and empty mean the same thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Release decision", description = "A release decision record (release-gate format v1).")]
pub struct Decision {
    /// Record format version; always 1 for this format.
    #[serde(default = "record_version")]
    pub version: u32,
    /// Release scope: the services, modules or features the release covers.
    #[serde(default)]
    pub scope: Option<String>,
    /// Declared risk class as written: `low`, `medium` or `high`, optionally followed by a comment.
    #[serde(default)]
    pub risk_class: Option<String>,
    /// Result of each of the five gate layers as written: `pass`, `fail` or `n/a`, optionally followed by a comment.
    #[serde(default)]
    pub gates: Gates,
    /// Risks that remain open after the gates; `["none"]` when there are none.
    #[serde(default)]
    pub residual_risks: Vec<String>,
    /// Conditions that trigger a rollback; each must be concrete and testable.
    #[serde(default)]
    pub rollback_trigger: Vec<String>,
    /// The person or role who executes a rollback.
    #[serde(default)]
    pub rollback_owner: Option<String>,
    /// The person who owns the final go/no-go call.
    #[serde(default)]
    pub decision_owner: Option<String>,
    /// `GO` or `NO-GO` as written, optionally followed by a comment.
    #[serde(default)]
    pub decision: Option<String>,
    /// When the decision was made: RFC 3339 with an offset, e.g. `2026-11-27T14:05:00Z`.
    #[serde(default)]
    pub decided_at: Option<String>,
    /// The go/no-go panel: one name per entry.
    #[serde(default)]
    pub panel: Vec<String>,
    /// The pre-release drill checklist.
    #[serde(default)]
    pub drill: Vec<ChecklistItem>,
    /// The rollback rehearsal, if one was run.
    #[serde(default)]
    pub rehearsal: Option<Rehearsal>,
    /// The release communication package.
    #[serde(default)]
    pub communication: Option<Communication>,
    /// Operational facts: rollback path, on-call and backup owners, release window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Operations>,
    /// The rollback trigger conditions read as signal, comparison, threshold and window, for deployment
    /// tooling. Derived from `rollback_trigger` whenever the record is read; never edited by hand.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rollback_conditions: Vec<crate::trigger::Condition>,
    /// The git range the decision covers (decisions kept in a repository).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<Binding>,
    /// Every change to the decision, oldest first (decisions kept in a repository).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Event>,
}

fn record_version() -> u32 {
    RECORD_VERSION
}

impl Default for Decision {
    fn default() -> Self {
        Decision {
            version: RECORD_VERSION,
            scope: None,
            risk_class: None,
            gates: Gates::default(),
            residual_risks: Vec::new(),
            rollback_trigger: Vec::new(),
            rollback_owner: None,
            decision_owner: None,
            decision: None,
            decided_at: None,
            panel: Vec::new(),
            drill: Vec::new(),
            rehearsal: None,
            communication: None,
            operations: None,
            rollback_conditions: Vec::new(),
            binding: None,
            history: Vec::new(),
        }
    }
}

/// Why a JSON record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The message includes serde's line and column; no source is chained, so it is said once.
    #[error("the decision record is not valid JSON for this format: {0}")]
    Json(String),
    #[error("the decision record has version {found}; this release-gate reads version {RECORD_VERSION}")]
    Version { found: u32 },
    /// A stored record's field that release-gate never writes that way (a hand edit or a hostile record).
    #[error(
        "`{field}` {reason}; release-gate writes this field itself: restore the record from version control"
    )]
    Field { field: String, reason: &'static str },
    #[error(
        "the decision record holds more than {MAX_RECORD_VALUES} values (list items and object members); release-gate reads records of at most that many"
    )]
    TooManyValues,
}

/// The most values (list items and object members, counted by the commas between them) a JSON record may
/// hold: far more than any decision's history needs, and few enough that reading one costs little memory
/// whatever its size.
pub const MAX_RECORD_VALUES: usize = 100_000;

/// The commas of a JSON text outside its strings: one less than the values of each list or object.
fn separators(text: &str) -> usize {
    let (mut count, mut in_string, mut escaped) = (0, false, false);
    for &byte in text.as_bytes() {
        match (in_string, escaped, byte) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') | (false, _, b'"') => in_string = !in_string,
            (false, _, b',') => count += 1,
            _ => {}
        }
    }
    count
}

impl Decision {
    /// Reads a record from its JSON form, normalizing empty values to absent ones.
    pub fn from_json(text: &str) -> Result<Decision, RecordError> {
        if separators(text) >= MAX_RECORD_VALUES {
            return Err(RecordError::TooManyValues);
        }
        let decision: Decision =
            serde_json::from_str(text).map_err(|error| RecordError::Json(error.to_string()))?;
        if decision.version != RECORD_VERSION {
            return Err(RecordError::Version { found: decision.version });
        }
        Ok(decision.normalized())
    }

    /// The canonical JSON form: pretty, stable key order, trailing newline.
    pub fn to_json(&self) -> String {
        // Serializing plain strings, vectors and options cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Trims every value and drops empty ones, so that absent and empty mean one thing.
    #[must_use]
    pub fn normalized(mut self) -> Decision {
        // Tidy text is kept as it is, without a copy.
        fn text(value: &mut Option<String>) {
            *value = value
                .take()
                .map(|v| value::tidy_lines(std::borrow::Cow::Owned(v)).into_owned())
                .filter(|v| !v.is_empty());
        }
        fn list(values: &mut Vec<String>) {
            values.iter_mut().for_each(value::tidy_in_place);
            values.retain(|v| !v.is_empty());
        }
        text(&mut self.scope);
        text(&mut self.risk_class);
        for layer in Layer::ALL {
            text(self.gates.get_mut(layer));
        }
        list(&mut self.residual_risks);
        list(&mut self.rollback_trigger);
        text(&mut self.rollback_owner);
        text(&mut self.decision_owner);
        text(&mut self.decision);
        text(&mut self.decided_at);
        list(&mut self.panel);
        for item in &mut self.drill {
            value::tidy_in_place(&mut item.item);
        }
        if let Some(rehearsal) = self.rehearsal.as_mut() {
            for (_, step) in rehearsal.fields_mut() {
                text(step);
            }
        }
        if self.rehearsal.as_ref().is_some_and(Rehearsal::is_empty) {
            self.rehearsal = None;
        }
        if let Some(communication) = self.communication.as_mut() {
            for (_, element) in communication.fields_mut() {
                text(element);
            }
        }
        if self.communication.as_ref().is_some_and(Communication::is_empty) {
            self.communication = None;
        }
        if let Some(operations) = self.operations.as_mut() {
            for (_, fact) in operations.fields_mut() {
                text(fact);
            }
        }
        if self.operations.as_ref().is_some_and(Operations::is_empty) {
            self.operations = None;
        }
        self.rollback_conditions =
            self.rollback_trigger.iter().filter_map(|t| crate::trigger::parse(t)).collect();
        self
    }
}

/// The five gate layers of the protocol's release gate stack.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Code,
    Review,
    Operational,
    Communication,
    Decision,
}

impl Layer {
    pub const ALL: [Layer; 5] =
        [Layer::Code, Layer::Review, Layer::Operational, Layer::Communication, Layer::Decision];

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Code => "code",
            Layer::Review => "review",
            Layer::Operational => "operational",
            Layer::Communication => "communication",
            Layer::Decision => "decision",
        }
    }

    pub fn from_name(name: &str) -> Option<Layer> {
        Layer::ALL.into_iter().find(|layer| layer.as_str().eq_ignore_ascii_case(name))
    }

    /// How the protocol's template names the layer's bullet.
    pub fn template_name(self) -> &'static str {
        match self {
            Layer::Code => "code gates",
            Layer::Review => "review gates",
            Layer::Operational => "operational gates",
            Layer::Communication => "communication gates",
            Layer::Decision => "decision gate",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The recorded result of each gate layer, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gates {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub review: Option<String>,
    #[serde(default)]
    pub operational: Option<String>,
    #[serde(default)]
    pub communication: Option<String>,
    #[serde(default)]
    pub decision: Option<String>,
}

impl Gates {
    pub fn get(&self, layer: Layer) -> Option<&str> {
        match layer {
            Layer::Code => self.code.as_deref(),
            Layer::Review => self.review.as_deref(),
            Layer::Operational => self.operational.as_deref(),
            Layer::Communication => self.communication.as_deref(),
            Layer::Decision => self.decision.as_deref(),
        }
    }

    pub fn get_mut(&mut self, layer: Layer) -> &mut Option<String> {
        match layer {
            Layer::Code => &mut self.code,
            Layer::Review => &mut self.review,
            Layer::Operational => &mut self.operational,
            Layer::Communication => &mut self.communication,
            Layer::Decision => &mut self.decision,
        }
    }
}

/// One line of the drill checklist as the decision writes it (`- [x] text`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    /// Whether the item was checked (`[x]`).
    pub checked: bool,
    /// The item's text.
    pub item: String,
}

/// The protocol's five drill items, in its order.
pub const DRILL_ITEMS: [&str; 5] = [
    "confirm critical commands run cleanly in current branch",
    "verify feature flags/defaults are as expected",
    "verify rollback command/process still works",
    "verify dashboards/alerts cover changed surfaces",
    "verify pager owner and backup owner are available",
];

macro_rules! named_fields {
    ($(#[$meta:meta])* $name:ident { $( $(#[$fmeta:meta])* $field:ident = $label:literal, )* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$fmeta])* #[serde(default)] pub $field: Option<String>, )*
        }

        impl $name {
            /// The Markdown names of the fields, in template order.
            pub const LABELS: &'static [&'static str] = &[$( $label, )*];

            /// Each field with its Markdown name, in template order.
            pub fn fields(&self) -> Vec<(&'static str, Option<&str>)> {
                vec![$( ($label, self.$field.as_deref()), )*]
            }

            pub fn fields_mut(&mut self) -> Vec<(&'static str, &mut Option<String>)> {
                vec![$( ($label, &mut self.$field), )*]
            }

            /// The field with the given Markdown name.
            pub fn field_mut(&mut self, label: &str) -> Option<&mut Option<String>> {
                match label { $( $label => Some(&mut self.$field), )* _ => None }
            }

            pub fn is_empty(&self) -> bool {
                true $( && self.$field.is_none() )*
            }
        }
    };
}

named_fields! {
    /// The rollback rehearsal: the protocol's steps, each with what happened, plus recovery time and friction.
    Rehearsal {
        /// Step 1: apply candidate build.
        apply_candidate_build = "apply candidate build",
        /// Step 2: simulate rollback trigger.
        simulate_rollback_trigger = "simulate rollback trigger",
        /// Step 3: execute rollback path.
        execute_rollback_path = "execute rollback path",
        /// Step 4: confirm service recovers and alerts normalize.
        confirm_recovery = "confirm service recovers and alerts normalize",
        /// Step 5: the measured time from rollback start to recovery.
        recovery_time = "recovery time",
        /// Step 5: what was slow or confusing.
        friction_points = "friction points",
    }
}

named_fields! {
    /// The release communication package: the protocol's five elements.
    Communication {
        /// What changed, user-facing and internal.
        what_changed = "what changed",
        /// Known limitations.
        known_limitations = "known limitations",
        /// Monitoring focus for the first 30-60 minutes.
        monitoring_focus = "monitoring focus",
        /// Rollback trigger conditions.
        rollback_trigger_conditions = "rollback trigger conditions",
        /// Escalation channel and owner.
        escalation = "escalation",
    }
}

named_fields! {
    /// Operational facts of the release (the operational gate's subject).
    Operations {
        /// How the release is rolled back.
        rollback_path = "rollback path",
        /// Who is on call during and after the release.
        on_call = "on-call owner",
        /// Who backs the on-call owner up.
        backup_owner = "backup owner",
        /// When the release is planned to go out.
        release_window = "release window",
    }
}

/// A risk class of the protocol's matrix.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RiskClass {
    Low,
    Medium,
    High,
}

impl RiskClass {
    pub const ALL: [RiskClass; 3] = [RiskClass::Low, RiskClass::Medium, RiskClass::High];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskClass::Low => "low",
            RiskClass::Medium => "medium",
            RiskClass::High => "high",
        }
    }

    pub fn from_name(name: &str) -> Option<RiskClass> {
        RiskClass::ALL.into_iter().find(|class| class.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for RiskClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A gate layer's result: as the decision writes it, and as a gate record holds it with its evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum GateResult {
    #[serde(rename = "pass")]
    Pass,
    #[serde(rename = "fail")]
    Fail,
    #[serde(rename = "n/a")]
    NotApplicable,
}

impl GateResult {
    pub fn as_str(self) -> &'static str {
        match self {
            GateResult::Pass => "pass",
            GateResult::Fail => "fail",
            GateResult::NotApplicable => "n/a",
        }
    }

    /// The template's words, `pass`, `fail` and `n/a`, in any case.
    pub fn from_name(name: &str) -> Option<GateResult> {
        match name.to_ascii_lowercase().as_str() {
            "pass" => Some(GateResult::Pass),
            "fail" => Some(GateResult::Fail),
            "n/a" => Some(GateResult::NotApplicable),
            _ => None,
        }
    }
}

/// The go/no-go call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Call {
    #[serde(rename = "GO")]
    Go,
    #[serde(rename = "NO-GO")]
    NoGo,
}

impl Call {
    pub fn as_str(self) -> &'static str {
        match self {
            Call::Go => "GO",
            Call::NoGo => "NO-GO",
        }
    }

    pub fn from_name(name: &str) -> Option<Call> {
        if name.eq_ignore_ascii_case("go") {
            Some(Call::Go)
        } else if name.eq_ignore_ascii_case("no-go") {
            Some(Call::NoGo)
        } else {
            None
        }
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a recorded value reads: absent (or a placeholder), not one of the allowed values, or a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading<T> {
    Missing,
    Invalid(String),
    Valid(T),
}

impl<T: Copy> Reading<T> {
    pub fn valid(&self) -> Option<T> {
        match self {
            Reading::Valid(value) => Some(*value),
            _ => None,
        }
    }
}

/// Reads a "first word decides" value with the given parser.
pub fn read_keyword<T>(raw: Option<&str>, parse: impl Fn(&str) -> Option<T>) -> Reading<T> {
    match value::meaningful(raw) {
        None => Reading::Missing,
        Some(text) => {
            let word = value::first_word(text);
            match parse(word) {
                Some(parsed) => Reading::Valid(parsed),
                None => Reading::Invalid(word.to_owned()),
            }
        }
    }
}

impl Decision {
    /// The communication package's elements not filled in (placeholders count as empty), in template
    /// order; all of them when there is no package. The one reading of "what the package misses", for
    /// the validator and the checklist.
    pub fn communication_missing(&self) -> Vec<&'static str> {
        match &self.communication {
            None => Communication::LABELS.to_vec(),
            Some(package) => package
                .fields()
                .into_iter()
                .filter(|(_, value)| crate::value::meaningful(*value).is_none())
                .map(|(label, _)| label)
                .collect(),
        }
    }

    pub fn risk_class(&self) -> Reading<RiskClass> {
        read_keyword(self.risk_class.as_deref(), RiskClass::from_name)
    }

    pub fn call(&self) -> Reading<Call> {
        read_keyword(self.decision.as_deref(), Call::from_name)
    }

    pub fn gate(&self, layer: Layer) -> Reading<GateResult> {
        read_keyword(self.gates.get(layer), GateResult::from_name)
    }
}
