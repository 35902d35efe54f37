//! Rules about rollback triggers watched against metrics: when the policy maps signals to queries
//! (`[[signals]]`), every structured trigger must name one of them, in a unit that converts and with a
//! window that reads; and the last rehearsal's queries must each have answered with one series.

use super::Rules;
use crate::finding::{Code, Severity};
use crate::history::Change;
use crate::signals::Unresolved;
use crate::value;

/// How much of a trigger a message quotes.
const QUOTED: usize = 80;

impl Rules<'_> {
    pub(super) fn signals(&mut self) {
        let signals = self.policy.signals();
        if signals.is_empty() {
            return;
        }
        let conditions: Vec<(usize, crate::trigger::Condition)> = self
            .decision
            .rollback_trigger
            .iter()
            .enumerate()
            .filter_map(|(index, item)| value::meaningful(Some(item)).map(|text| (index, text)))
            .filter_map(|(index, text)| crate::trigger::parse(text).map(|condition| (index, condition)))
            .collect();
        for (index, condition) in conditions {
            let Err(problem) = crate::signals::resolve(&condition, signals) else { continue };
            let line = self.lines.map(|lines| {
                lines
                    .rollback_trigger
                    .get(index)
                    .copied()
                    .unwrap_or_else(|| lines.field_or_heading(crate::markdown::Field::RollbackTrigger))
            });
            let shown = value::excerpt(&condition.text, QUOTED).to_owned();
            let signal = value::excerpt(&condition.signal, QUOTED).to_owned();
            let (code, message) = match problem {
                Unresolved::NoSignal => (
                    Code::SignalUnmapped,
                    format!(
                        "The rollback trigger `{shown}` names the signal `{signal}`, which no `[[signals]]` entry of the policy maps to a query, so it cannot be rehearsed or watched: add the signal to the policy, or use a signal it names."
                    ),
                ),
                Unresolved::Unit { trigger, signal: unit } => (
                    Code::SignalUnitMismatch,
                    format!(
                        "The rollback trigger `{shown}` is in `{}`, which does not convert to the signal's unit `{}`: write the threshold in a unit of the same kind, or fix the signal's unit in the policy.",
                        trigger.as_deref().unwrap_or("no unit"),
                        unit.as_str()
                    ),
                ),
                Unresolved::Window { window } => (
                    Code::TriggerWindowUnreadable,
                    format!(
                        "The rollback trigger `{shown}` holds for `{}`, which is not a duration in seconds, minutes or hours: write it as e.g. `for 5 minutes`.",
                        value::excerpt(&window, QUOTED)
                    ),
                ),
            };
            self.emit(code, Severity::Error, message, line);
        }
        let several = self.decision.history.iter().rev().find_map(|event| match &event.change {
            Change::RehearsalRun { metrics, .. } => Some(
                metrics
                    .iter()
                    .filter(|observation| {
                        observation.problem.as_deref().is_some_and(|p| p.contains("series"))
                    })
                    .map(|observation| observation.signal.clone())
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        });
        for signal in several.unwrap_or_default() {
            let line = self.field_line(crate::markdown::Field::Rehearsal);
            self.emit(
                Code::SignalSeveralSeries,
                Severity::Error,
                format!(
                    "In the last rehearsal the query of the signal `{}` answered with several series, so no single value could be compared: aggregate it into one series (`sum(...)`, `max(...)`) in the policy and rehearse again.",
                    value::excerpt(&signal, QUOTED)
                ),
                line,
            );
        }
    }
}
