//! Rollback triggers against metrics: the policy's `[[signals]]` (a trigger's signal name mapped to a PromQL
//! query and its unit), the threshold converted into the query's unit, the evaluation of a condition over
//! the samples of a range query, and the same condition written out as a Prometheus alerting rule.
//!
//! Pure: the samples come in as values, the time as a number. The shells query the server.
//!
//! Semantics, chosen so that no data never passes silently:
//! - the condition is judged over the grid of a range query: `start = end - window`, one point per `step`;
//! - **firing**: every grid point is present, finite and meets the comparison (Prometheus's `for`, sampled);
//! - **clear**: the latest grid point is present, finite and does not meet it;
//! - **pending**: the latest point meets it, but not every point of the window is there or meets it;
//! - **no data**: the latest point is missing, NaN or infinite (a 0/0 ratio, a target gone);
//! - **error**: the query answered with several series (aggregate them in PromQL), or the window holds
//!   more points than a query may ask for.

use serde::{Deserialize, Serialize};

use crate::decision::Decision;
use crate::trigger::Condition;

/// The unit of a signal's query result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// A share between 0 and 1: a trigger's `2%` is 0.02.
    Ratio,
    /// A share in percent: a trigger's `2%` is 2.
    Percent,
    /// Seconds: a trigger's `800 ms` is 0.8.
    Seconds,
    /// Milliseconds: a trigger's `2 s` is 2000.
    Milliseconds,
    /// A plain number (a count, a rate): the trigger's number as written.
    Count,
}

impl Unit {
    pub const ALL: [Unit; 5] = [Unit::Ratio, Unit::Percent, Unit::Seconds, Unit::Milliseconds, Unit::Count];

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Ratio => "ratio",
            Unit::Percent => "percent",
            Unit::Seconds => "seconds",
            Unit::Milliseconds => "milliseconds",
            Unit::Count => "count",
        }
    }

    pub fn from_name(name: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|unit| unit.as_str() == name)
    }
}

/// What a signal's missing data counts as in a watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NoData {
    /// No data is neither a pass nor a firing: after `error_limit` polls in a row the watch ends inconclusive.
    Inconclusive,
    /// No data means no trouble (a signal that only exists while errors happen).
    NotFiring,
    /// No data is trouble (a heartbeat that must always report).
    Firing,
}

impl NoData {
    pub const ALL: [NoData; 3] = [NoData::Inconclusive, NoData::NotFiring, NoData::Firing];

    pub fn as_str(self) -> &'static str {
        match self {
            NoData::Inconclusive => "inconclusive",
            NoData::NotFiring => "not-firing",
            NoData::Firing => "firing",
        }
    }

    pub fn from_name(name: &str) -> Option<NoData> {
        NoData::ALL.into_iter().find(|rule| rule.as_str() == name)
    }
}

/// One `[[signals]]` entry of the policy: a rollback trigger's signal name and how to measure it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    /// The signal as triggers name it, e.g. `invoice API error rate` (compared without case).
    pub name: String,
    /// A PromQL expression that answers with one series.
    pub query: String,
    pub unit: Unit,
    /// The distance between two points of the range query, and between two polls of a watch.
    pub step: jiff::SignedDuration,
    pub no_data: NoData,
}

/// `>`, `>=`, `<`, `<=` or `=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Comparison {
    #[serde(rename = ">")]
    Above,
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = "=")]
    Equal,
}

impl Comparison {
    pub fn from_operator(operator: &str) -> Option<Comparison> {
        Some(match operator {
            ">" => Comparison::Above,
            ">=" => Comparison::AtLeast,
            "<" => Comparison::Below,
            "<=" => Comparison::AtMost,
            "=" => Comparison::Equal,
            _ => return None,
        })
    }

    /// The PromQL operator.
    pub fn promql(self) -> &'static str {
        match self {
            Comparison::Above => ">",
            Comparison::AtLeast => ">=",
            Comparison::Below => "<",
            Comparison::AtMost => "<=",
            Comparison::Equal => "==",
        }
    }

    /// Whether a finite value meets the comparison.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Above => value > threshold,
            Comparison::AtLeast => value >= threshold,
            Comparison::Below => value < threshold,
            Comparison::AtMost => value <= threshold,
            Comparison::Equal => value == threshold,
        }
    }
}

/// A rollback-trigger condition that a watch can evaluate: its signal found in the policy, its threshold
/// in the query's unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Watched {
    /// The condition as the decision writes it.
    pub text: String,
    pub signal: String,
    pub query: String,
    pub comparison: Comparison,
    /// The threshold in the query's unit.
    pub threshold: f64,
    pub unit: Unit,
    /// How long the condition must hold; zero when the trigger names no window (the latest point decides).
    pub window: jiff::SignedDuration,
    pub step: jiff::SignedDuration,
    pub no_data: NoData,
}

/// Why a structured trigger cannot be watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// No `[[signals]]` entry names the trigger's signal.
    NoSignal,
    /// The trigger's unit does not convert to the signal's unit.
    Unit { trigger: Option<String>, signal: Unit },
    /// The trigger's window is not a duration the watch can read (`for 5 sprints`).
    Window { window: String },
}

/// The most points one range query of a condition may ask for (Prometheus refuses more than 11,000).
pub const MAX_WINDOW_POINTS: i64 = 11_000;

/// Reads a structured condition against the policy's signals.
pub fn resolve(condition: &Condition, signals: &[Signal]) -> Result<Watched, Unresolved> {
    let wanted = normalize(&condition.signal);
    let signal =
        signals.iter().find(|signal| normalize(&signal.name) == wanted).ok_or(Unresolved::NoSignal)?;
    let window = match (&condition.window, condition.window_seconds) {
        (_, Some(seconds)) => jiff::SignedDuration::from_secs(i64::try_from(seconds).unwrap_or(i64::MAX)),
        (Some(window), None) => return Err(Unresolved::Window { window: window.clone() }),
        (None, None) => jiff::SignedDuration::ZERO,
    };
    let unit_error = || Unresolved::Unit { trigger: condition.unit.clone(), signal: signal.unit };
    let comparison = Comparison::from_operator(&condition.comparison).ok_or_else(unit_error)?;
    let number: f64 = condition.threshold.parse().map_err(|_| unit_error())?;
    let threshold = convert(number, condition.unit.as_deref(), signal.unit).ok_or_else(unit_error)?;
    Ok(Watched {
        text: condition.text.clone(),
        signal: signal.name.clone(),
        query: signal.query.clone(),
        comparison,
        threshold,
        unit: signal.unit,
        window,
        step: signal.step,
        no_data: signal.no_data,
    })
}

fn normalize(name: &str) -> String {
    name.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" ")
}

/// A trigger's number in its unit (`%`, `ms`, none...) expressed in a signal's unit; `None` when the two
/// do not measure the same kind of thing.
pub fn convert(number: f64, trigger_unit: Option<&str>, signal: Unit) -> Option<f64> {
    enum Kind {
        Share(f64),
        Time(f64),
        Plain,
    }
    let kind = match trigger_unit.map(str::to_lowercase).as_deref() {
        None => Kind::Plain,
        Some("%" | "percent" | "pct") => Kind::Share(0.01),
        Some("ms" | "msec" | "millisecond" | "milliseconds") => Kind::Time(0.001),
        Some("s" | "sec" | "secs" | "second" | "seconds") => Kind::Time(1.0),
        Some("m" | "min" | "mins" | "minute" | "minutes") => Kind::Time(60.0),
        Some("us" | "µs" | "microsecond" | "microseconds") => Kind::Time(0.000_001),
        Some(_) => Kind::Plain,
    };
    let value = match (kind, signal) {
        (Kind::Share(per), Unit::Ratio) => number * per,
        (Kind::Share(_), Unit::Percent) => number,
        (Kind::Time(seconds), Unit::Seconds) => number * seconds,
        (Kind::Time(seconds), Unit::Milliseconds) => number * seconds * 1000.0,
        // A bare number is already in the signal's unit (`error ratio > 0.02`).
        (Kind::Plain, _) if trigger_unit.is_none() => number,
        // A word such as `requests` counts only for a plain count.
        (Kind::Plain, Unit::Count) => number,
        _ => return None,
    };
    value.is_finite().then_some(value)
}

/// The watchable conditions of a decision, and the structured triggers that cannot be watched.
pub fn watched(decision: &Decision, signals: &[Signal]) -> (Vec<Watched>, Vec<(usize, Unresolved)>) {
    let mut found = Vec::new();
    let mut unresolved = Vec::new();
    for (index, condition) in decision.rollback_conditions.iter().enumerate() {
        match resolve(condition, signals) {
            Ok(watched) => found.push(watched),
            Err(problem) => unresolved.push((index, problem)),
        }
    }
    (found, unresolved)
}

/// One point of a series: its time in milliseconds since the epoch and its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at_ms: i64,
    pub value: f64,
}

/// What a range query answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// No series at all (an empty vector: nothing scraped yet, or the series is gone).
    Empty,
    /// Exactly one series, its points in any order.
    One(Vec<Sample>),
    /// This many series: the query must aggregate them into one.
    Several(usize),
}

/// Why there is no usable latest point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Gap {
    /// The query answered with no series, or with no point in the window.
    Empty,
    /// The series has points in the window, but not at its end.
    Missing,
    /// The latest point is NaN (a 0/0 ratio: no traffic).
    NotANumber,
    /// The latest point is +Inf or -Inf.
    Infinite,
}

/// The state of a condition at one time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case", tag = "state", content = "detail")]
pub enum State {
    Firing,
    Pending,
    Clear,
    NoData(Gap),
    Error(String),
}

impl State {
    pub fn name(&self) -> &'static str {
        match self {
            State::Firing => "firing",
            State::Pending => "pending",
            State::Clear => "clear",
            State::NoData(_) => "no-data",
            State::Error(_) => "error",
        }
    }
}

/// The range query that evaluates `watched` at `end_ms`: its start and step, in milliseconds.
pub fn grid(watched: &Watched, end_ms: i64) -> (i64, i64) {
    let step_ms = i64::try_from(watched.step.as_millis()).unwrap_or(i64::MAX).max(1);
    let window_ms = i64::try_from(watched.window.as_millis()).unwrap_or(i64::MAX).max(0);
    (end_ms.saturating_sub(window_ms), step_ms)
}

/// The condition's state at `end_ms` from what its range query (see [`grid`]) answered.
pub fn evaluate(watched: &Watched, answer: &Answer, end_ms: i64) -> State {
    let samples = match answer {
        Answer::Several(count) => {
            return State::Error(format!(
                "the query answered with {count} series; aggregate them into one in the signal's query (e.g. `sum(...)` or `max(...)`)"
            ));
        }
        Answer::Empty => return State::NoData(Gap::Empty),
        Answer::One(samples) => samples,
    };
    let (start_ms, step_ms) = grid(watched, end_ms);
    let points = (end_ms.saturating_sub(start_ms) / step_ms).saturating_add(1);
    if points > MAX_WINDOW_POINTS {
        return State::Error(format!(
            "the window holds {points} points at this step, more than a query may ask for ({MAX_WINDOW_POINTS}); use a longer `step` for the signal"
        ));
    }
    let at = |index: i64| -> Option<f64> {
        let time = start_ms.checked_add(index.checked_mul(step_ms)?)?;
        samples.iter().find(|sample| sample.at_ms == time).map(|sample| sample.value)
    };
    let latest = at(points - 1);
    let Some(latest) = latest else {
        let any = (0..points).any(|index| at(index).is_some());
        return State::NoData(if any { Gap::Missing } else { Gap::Empty });
    };
    if latest.is_nan() {
        return State::NoData(Gap::NotANumber);
    }
    if latest.is_infinite() {
        return State::NoData(Gap::Infinite);
    }
    if !watched.comparison.holds(latest, watched.threshold) {
        return State::Clear;
    }
    let all = (0..points).all(|index| {
        at(index).is_some_and(|value| value.is_finite() && watched.comparison.holds(value, watched.threshold))
    });
    if all { State::Firing } else { State::Pending }
}

/// How a post-deploy watch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WatchOutcome {
    /// The watch ran its time with data, and no condition fired.
    Passed,
    /// A condition fired (or no data counted as firing) and the committed rollback succeeded.
    RolledBack,
    /// A condition fired and the committed rollback failed: act now.
    RollbackFailed,
    /// No data or query errors for `error_limit` polls in a row, or never one poll with data.
    Inconclusive,
}

impl WatchOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            WatchOutcome::Passed => "passed",
            WatchOutcome::RolledBack => "rolled-back",
            WatchOutcome::RollbackFailed => "rollback-failed",
            WatchOutcome::Inconclusive => "inconclusive",
        }
    }
}

/// What a watch does after one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Poll again at the next step.
    Continue,
    /// A condition fired (its index): record it, then roll back.
    Fire(usize),
    /// Stop without a rollback decision: why.
    Inconclusive(String),
}

/// The watch's judgement over its polls: firing ends it at once; no data and errors count in a streak
/// that ends it inconclusive at `error_limit`; only a poll where every condition had data resets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    error_limit: u32,
    streak: u32,
    polls_with_data: u32,
    last_problem: Option<String>,
}

impl Tally {
    pub fn new(error_limit: u32) -> Tally {
        Tally { error_limit: error_limit.max(1), streak: 0, polls_with_data: 0, last_problem: None }
    }

    /// Takes one poll: each condition's no-data rule and state, in order.
    pub fn poll(&mut self, states: &[(NoData, State)]) -> Verdict {
        let mut problem = None;
        for (index, (no_data, state)) in states.iter().enumerate() {
            match (state, no_data) {
                (State::Firing, _) | (State::NoData(_), NoData::Firing) => return Verdict::Fire(index),
                (State::NoData(_), NoData::NotFiring) | (State::Clear | State::Pending, _) => {}
                (State::NoData(gap), NoData::Inconclusive) => {
                    problem = Some(format!("condition {} has no data ({gap:?})", index + 1));
                }
                (State::Error(error), _) => problem = Some(format!("condition {}: {error}", index + 1)),
            }
        }
        match problem {
            None => {
                self.streak = 0;
                self.polls_with_data = self.polls_with_data.saturating_add(1);
                Verdict::Continue
            }
            Some(problem) => {
                self.streak = self.streak.saturating_add(1);
                self.last_problem = Some(problem.clone());
                if self.streak >= self.error_limit {
                    Verdict::Inconclusive(format!(
                        "{} polls in a row without an answer: {problem}",
                        self.streak
                    ))
                } else {
                    Verdict::Continue
                }
            }
        }
    }

    /// How a watch that ran its time without firing ends: passed only with data at its end.
    pub fn finish(&self) -> Result<(), String> {
        if self.polls_with_data == 0 {
            return Err(self.last_problem.clone().unwrap_or_else(|| "no poll had data".to_owned()));
        }
        match (&self.last_problem, self.streak) {
            (Some(problem), streak) if streak > 0 => {
                Err(format!("the last {streak} polls had no answer: {problem}"))
            }
            _ => Ok(()),
        }
    }
}

/// One recorded point of a series: time in milliseconds and the value as the server wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Point {
    pub at_ms: i64,
    pub value: String,
}

/// The most points an observation keeps (the latest ones): the record stays small whatever the run's length.
pub const MAX_OBSERVED_POINTS: usize = 600;

/// What a rehearsal or a watch saw of one condition on the metrics server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    /// The condition as the decision writes it.
    pub condition: String,
    pub signal: String,
    /// The PromQL query that ran, and the threshold it was compared with (in the query's unit).
    pub query: String,
    pub threshold: String,
    /// The server's version and revision (`/api/v1/status/buildinfo`).
    pub server: String,
    /// The state before the trigger (a rehearsal) or at the start (a watch).
    pub baseline: String,
    /// Trigger end to the first `firing`, in milliseconds; absent if it never fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_after_ms: Option<u64>,
    /// Rollback start to the first `clear` after it, in milliseconds; absent if it never cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared_after_ms: Option<u64>,
    /// How many range queries ran, and how many failed.
    pub queries: u32,
    pub query_errors: u32,
    /// The latest answer's points (at most [`MAX_OBSERVED_POINTS`]).
    pub series: Vec<Point>,
    /// SHA-256 over every raw answer of the server, in order (`sha256:HEX`).
    pub digest: String,
    /// A problem that makes the observation void, e.g. several series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// The threshold as PromQL writes it (shortest form that reads back the same).
pub fn number(value: f64) -> String {
    format!("{value}")
}

/// The conditions as a Prometheus rule file (YAML): one alerting rule per condition, `expr` the query
/// compared with the threshold, `for` the window. Prometheus's `for` tolerates gaps that the watch does not
/// (a missed evaluation keeps the alert pending): page on the rule, decide with the watch.
pub fn alert_rules(group: &str, decision_id: &str, watched: &[Watched]) -> String {
    let mut out = String::from("groups:\n");
    out.push_str(&format!("  - name: {}\n    rules:\n", quote(group)));
    for (index, condition) in watched.iter().enumerate() {
        let alert = alert_name(decision_id, index);
        out.push_str(&format!("      - alert: {alert}\n"));
        let expr = format!(
            "({}) {} {}",
            condition.query.trim(),
            condition.comparison.promql(),
            number(condition.threshold)
        );
        out.push_str(&format!("        expr: {}\n", quote(&expr)));
        let seconds = condition.window.as_secs();
        if seconds > 0 {
            out.push_str(&format!("        for: {seconds}s\n"));
        }
        out.push_str("        labels:\n");
        out.push_str(&format!("          release_gate_decision: {}\n", quote(decision_id)));
        out.push_str("          severity: page\n");
        out.push_str("        annotations:\n");
        out.push_str(&format!(
            "          summary: {}\n",
            quote(&format!("Rollback trigger: {}", condition.text))
        ));
        out.push_str(&format!(
            "          description: {}\n",
            quote(&format!(
                "Release decision {decision_id}: {} ({}) {} {} for {seconds}s. Roll back as the decision says.",
                condition.signal,
                condition.unit.as_str(),
                condition.comparison.promql(),
                number(condition.threshold)
            ))
        ));
    }
    out
}

/// An alert name Prometheus accepts (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
fn alert_name(decision_id: &str, index: usize) -> String {
    let id: String =
        decision_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    format!("ReleaseGateRollback_{id}_{}", index + 1)
}

/// A YAML double-quoted scalar: JSON's string escapes are YAML's.
fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn watched(comparison: Comparison, threshold: f64, window_s: i64, step_s: i64) -> Watched {
        Watched {
            text: "error rate > 2% for 5 minutes".into(),
            signal: "error rate".into(),
            query: "sum(rate(errors[1m])) / sum(rate(requests[1m]))".into(),
            comparison,
            threshold,
            unit: Unit::Ratio,
            window: jiff::SignedDuration::from_secs(window_s),
            step: jiff::SignedDuration::from_secs(step_s),
            no_data: NoData::Inconclusive,
        }
    }

    fn series(end_ms: i64, step_ms: i64, values: &[f64]) -> Answer {
        let count = i64::try_from(values.len()).unwrap();
        Answer::One(
            values
                .iter()
                .enumerate()
                .map(|(index, value)| Sample {
                    at_ms: end_ms - (count - 1 - i64::try_from(index).unwrap()) * step_ms,
                    value: *value,
                })
                .collect(),
        )
    }

    fn signal(name: &str, unit: Unit) -> Signal {
        Signal {
            name: name.into(),
            query: "q".into(),
            unit,
            step: jiff::SignedDuration::from_secs(15),
            no_data: NoData::Inconclusive,
        }
    }

    #[test]
    fn conversions() {
        assert_eq!(convert(2.0, Some("%"), Unit::Ratio), Some(0.02));
        assert_eq!(convert(2.0, Some("%"), Unit::Percent), Some(2.0));
        assert_eq!(convert(800.0, Some("ms"), Unit::Seconds), Some(0.8));
        assert_eq!(convert(2.0, Some("s"), Unit::Milliseconds), Some(2000.0));
        assert_eq!(convert(0.02, None, Unit::Ratio), Some(0.02));
        assert_eq!(convert(50.0, Some("requests"), Unit::Count), Some(50.0));
        assert_eq!(convert(2.0, Some("%"), Unit::Seconds), None);
        assert_eq!(convert(800.0, Some("ms"), Unit::Ratio), None);
        assert_eq!(convert(5.0, Some("requests"), Unit::Seconds), None);
    }

    #[test]
    fn resolving_triggers() {
        let signals = [signal("Invoice API  error rate", Unit::Ratio), signal("p99 latency", Unit::Seconds)];
        let parse = |text: &str| crate::trigger::parse(text).unwrap();
        let found = resolve(&parse("invoice API error rate > 2% for 5 minutes"), &signals).unwrap();
        assert_eq!((found.threshold, found.window.as_secs()), (0.02, 300));
        let found = resolve(&parse("p99 latency above 800 ms"), &signals).unwrap();
        assert_eq!((found.threshold, found.window.as_secs()), (0.8, 0));
        assert_eq!(resolve(&parse("queue depth > 5"), &signals), Err(Unresolved::NoSignal));
        assert_eq!(
            resolve(&parse("p99 latency above 2%"), &signals),
            Err(Unresolved::Unit { trigger: Some("%".into()), signal: Unit::Seconds })
        );
        assert_eq!(
            resolve(&parse("p99 latency above 800 ms for 3 sprints"), &signals),
            Err(Unresolved::Window { window: "3 sprints".into() })
        );
    }

    #[test]
    fn states() {
        let w = watched(Comparison::Above, 0.02, 60, 15);
        let end = 1_000_000;
        assert_eq!(evaluate(&w, &series(end, 15_000, &[0.05; 5]), end), State::Firing);
        assert_eq!(evaluate(&w, &series(end, 15_000, &[0.0, 0.05, 0.05, 0.05, 0.05]), end), State::Pending);
        assert_eq!(evaluate(&w, &series(end, 15_000, &[0.05, 0.05, 0.05, 0.05, 0.01]), end), State::Clear);
        assert_eq!(
            evaluate(&w, &series(end, 15_000, &[0.05; 4]), end),
            State::Pending,
            "first point missing"
        );
        assert_eq!(evaluate(&w, &series(end - 15_000, 15_000, &[0.05; 4]), end), State::NoData(Gap::Missing));
        assert_eq!(evaluate(&w, &Answer::One(Vec::new()), end), State::NoData(Gap::Empty));
        assert_eq!(evaluate(&w, &Answer::Empty, end), State::NoData(Gap::Empty));
        assert_eq!(
            evaluate(&w, &series(end, 15_000, &[0.05, 0.05, 0.05, 0.05, f64::NAN]), end),
            State::NoData(Gap::NotANumber)
        );
        assert_eq!(
            evaluate(&w, &series(end, 15_000, &[0.05, 0.05, 0.05, 0.05, f64::INFINITY]), end),
            State::NoData(Gap::Infinite)
        );
        assert_eq!(
            evaluate(&w, &series(end, 15_000, &[0.05, f64::NAN, 0.05, 0.05, 0.05]), end),
            State::Pending,
            "a NaN inside the window keeps it from firing"
        );
        assert!(matches!(evaluate(&w, &Answer::Several(2), end), State::Error(_)));
        let huge = watched(Comparison::Above, 0.02, 86_400, 1);
        assert!(matches!(evaluate(&huge, &series(end, 1000, &[0.05]), end), State::Error(_)));
        // No window: the latest point decides.
        let instant = watched(Comparison::Below, 0.99, 0, 15);
        assert_eq!(evaluate(&instant, &series(end, 15_000, &[0.5]), end), State::Firing);
    }

    #[test]
    fn rule_file() {
        let rules = alert_rules("release-gate", "rel-1", &[watched(Comparison::Above, 0.02, 300, 15)]);
        assert!(rules.contains("- alert: ReleaseGateRollback_rel_1_1\n"), "{rules}");
        assert!(
            rules.contains("expr: \"(sum(rate(errors[1m])) / sum(rate(requests[1m]))) > 0.02\"\n"),
            "{rules}"
        );
        assert!(rules.contains("for: 300s\n"), "{rules}");
    }

    #[test]
    fn tally() {
        let gap = State::NoData(Gap::Empty);
        let mut tally = Tally::new(2);
        assert_eq!(tally.poll(&[(NoData::Inconclusive, gap.clone())]), Verdict::Continue);
        assert!(tally.finish().is_err(), "never any data");
        assert_eq!(tally.poll(&[(NoData::Inconclusive, State::Clear)]), Verdict::Continue);
        assert_eq!(tally.finish(), Ok(()));
        assert_eq!(tally.poll(&[(NoData::Inconclusive, gap.clone())]), Verdict::Continue);
        assert!(tally.finish().is_err(), "no data at the end");
        assert!(matches!(tally.poll(&[(NoData::Inconclusive, gap.clone())]), Verdict::Inconclusive(_)));
        let mut tally = Tally::new(4);
        assert_eq!(
            tally.poll(&[(NoData::NotFiring, gap.clone()), (NoData::Inconclusive, State::Firing)]),
            Verdict::Fire(1)
        );
        assert_eq!(tally.poll(&[(NoData::Firing, gap)]), Verdict::Fire(0));
    }

    fn value() -> impl Strategy<Value = Option<f64>> {
        prop_oneof![
            6 => (0.0f64..0.1).prop_map(Some),
            1 => Just(None),
            1 => Just(Some(f64::NAN)),
            1 => Just(Some(f64::INFINITY)),
            1 => Just(Some(f64::NEG_INFINITY)),
        ]
    }

    proptest! {
        #[test]
        fn firing_means_every_point_present_finite_and_over(
            values in proptest::collection::vec(value(), 0..12),
            window in 0i64..10,
            end in 0i64..1_000_000,
        ) {
            let w = watched(Comparison::Above, 0.05, window * 10, 10);
            let count = i64::try_from(values.len()).unwrap();
            let samples: Vec<Sample> = values
                .iter()
                .enumerate()
                .filter_map(|(index, value)| {
                    value.map(|value| Sample { at_ms: end - (count - 1 - i64::try_from(index).unwrap()) * 10_000, value })
                })
                .collect();
            let state = evaluate(&w, &Answer::One(samples.clone()), end);
            let at = |t: i64| samples.iter().find(|s| s.at_ms == t).map(|s| s.value);
            let grid: Vec<i64> = (0..=window).map(|k| end - window * 10_000 + k * 10_000).collect();
            let latest = at(end);
            match &state {
                State::Firing => prop_assert!(grid.iter().all(|t| at(*t).is_some_and(|v| v.is_finite() && v > 0.05))),
                State::Clear => prop_assert!(latest.is_some_and(|v| v.is_finite() && v <= 0.05)),
                State::Pending => {
                    prop_assert!(latest.is_some_and(|v| v.is_finite() && v > 0.05));
                    prop_assert!(!grid.iter().all(|t| at(*t).is_some_and(|v| v.is_finite() && v > 0.05)));
                }
                State::NoData(_) => prop_assert!(!latest.is_some_and(f64::is_finite)),
                State::Error(_) => prop_assert!(false, "no error expected"),
            }
            // Taking any point of the window away never makes it fire.
            if state == State::Firing {
                for index in 0..samples.len() {
                    let mut fewer = samples.clone();
                    let removed = fewer.remove(index);
                    if grid.contains(&removed.at_ms) {
                        prop_assert_ne!(evaluate(&w, &Answer::One(fewer), end), State::Firing);
                    }
                }
            }
        }

        #[test]
        fn evaluation_takes_any_input(
            values in proptest::collection::vec((any::<i64>(), any::<f64>()), 0..20),
            window in any::<i64>(),
            step in 1i64..100_000,
            end in any::<i64>(),
            threshold in any::<f64>(),
        ) {
            let mut w = watched(Comparison::AtMost, threshold, 0, 1);
            w.window = jiff::SignedDuration::from_millis(window);
            w.step = jiff::SignedDuration::from_millis(step);
            let samples = values.into_iter().map(|(at_ms, value)| Sample { at_ms, value }).collect();
            let _ = evaluate(&w, &Answer::One(samples), end);
        }

        #[test]
        fn a_converted_threshold_reads_back(number in 0.0f64..1e6) {
            let ratio = convert(number, Some("%"), Unit::Ratio).unwrap();
            prop_assert!((ratio * 100.0 - number).abs() <= number * 1e-12 + 1e-12);
            let rule = alert_rules("g", "d", &[watched(Comparison::Above, ratio, 0, 1)]);
            let expr = rule.lines().find(|l| l.trim_start().starts_with("expr:")).unwrap();
            let written = expr.rsplit(' ').next().unwrap().trim_end_matches('"');
            prop_assert_eq!(written.parse::<f64>().unwrap(), ratio);
        }
    }
}
