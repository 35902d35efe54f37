//! Freeze windows: times when no release may be decided, each judged in its own IANA time zone.
//!
//! A window is one-off (from a local date-time to another) or weekly (on some weekdays, between two
//! local times). Local times are read in the window's zone with the time-zone database bundled into
//! the binary, so daylight-saving changes are handled as the zone's own clocks do.

use jiff::civil::{DateTime, Time, Weekday};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use toml::Spanned;

use crate::policy::{Checker, Policy, PolicyError, UnvalidatedFreeze, UnvalidatedFreezeException, line_of};

/// When a freeze applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// From `start` (inclusive) to `end` (exclusive), local date-times in the zone.
    Once { start: DateTime, end: DateTime },
    /// Every week on `days`, from `from` (inclusive) to `to` (exclusive) local time; `to` before `from`
    /// runs past midnight into the next day.
    Weekly { days: Vec<Weekday>, from: Time, to: Time },
}

/// A named freeze window in a time zone.
#[derive(Debug, Clone)]
pub struct FreezeWindow {
    pub name: String,
    pub zone_name: String,
    pub zone: TimeZone,
    pub schedule: Schedule,
}

impl PartialEq for FreezeWindow {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.zone_name == other.zone_name && self.schedule == other.schedule
    }
}

impl Eq for FreezeWindow {}

/// An approved exception to a freeze window (the emergency path), written in the committed policy so it is
/// reviewed like any other change: which window, who approved it, why, until when, and optionally for
/// which release scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreezeException {
    /// The freeze window's name, as the policy writes it.
    pub window: String,
    pub approved_by: String,
    pub reason: String,
    /// The exception covers decisions made before this time.
    pub until: jiff::Timestamp,
    /// A release scope name the exception is limited to (matched without regard to case); `None` for any.
    pub scope: Option<String>,
}

impl FreezeException {
    /// Whether the exception lets a decision of `scope`, made at `at`, through `window`.
    pub fn covers(&self, window: &FreezeWindow, at: jiff::Timestamp, scope: Option<&str>) -> bool {
        let scope_ok = match &self.scope {
            None => true,
            Some(wanted) => scope.is_some_and(|declared| {
                declared.split([',', '\n']).any(|name| name.trim().eq_ignore_ascii_case(wanted.trim()))
            }),
        };
        self.window.trim().eq_ignore_ascii_case(window.name.trim()) && at < self.until && scope_ok
    }
}

/// Looks a zone up in the bundled database; `None` for an unknown name.
pub fn zone(name: &str) -> Option<TimeZone> {
    TimeZoneDatabase::bundled().get(name).ok()
}

impl FreezeWindow {
    /// Whether the instant falls inside the window.
    pub fn contains(&self, at: jiff::Timestamp) -> bool {
        match &self.schedule {
            Schedule::Once { start, end } => {
                let instant = |dt: DateTime| self.zone.to_ambiguous_timestamp(dt).compatible().ok();
                match (instant(*start), instant(*end)) {
                    (Some(start), Some(end)) => start <= at && at < end,
                    _ => false,
                }
            }
            Schedule::Weekly { days, from, to } => {
                let local = self.zone.to_datetime(at);
                let (day, time) = (local.weekday(), local.time());
                if from <= to {
                    days.contains(&day) && *from <= time && time < *to
                } else {
                    // Past midnight: the start day's evening, or the next morning.
                    (days.contains(&day) && time >= *from) || (days.contains(&day.previous()) && time < *to)
                }
            }
        }
    }

    /// The window in words, for messages.
    pub fn describe(&self) -> String {
        match &self.schedule {
            Schedule::Once { start, end } => {
                format!("{} from {start} to {end} ({})", self.name, self.zone_name)
            }
            Schedule::Weekly { days, from, to } => {
                let days: Vec<String> = days.iter().map(|d| format!("{d:?}")).collect();
                format!("{} every {} from {from} to {to} ({})", self.name, days.join(", "), self.zone_name)
            }
        }
    }
}

/// Parses a weekday name: its three-letter abbreviation or its full English name (`fri`, `Friday`, any
/// case). Anything else is refused, so a typo such as `monkey` is an error, not Monday.
pub fn weekday(name: &str) -> Option<Weekday> {
    const DAYS: [(&str, &str, Weekday); 7] = [
        ("mon", "monday", Weekday::Monday),
        ("tue", "tuesday", Weekday::Tuesday),
        ("wed", "wednesday", Weekday::Wednesday),
        ("thu", "thursday", Weekday::Thursday),
        ("fri", "friday", Weekday::Friday),
        ("sat", "saturday", Weekday::Saturday),
        ("sun", "sunday", Weekday::Sunday),
    ];
    let lower = name.trim().to_ascii_lowercase();
    DAYS.iter().find(|(short, long, _)| lower == *short || lower == *long).map(|(_, _, day)| *day)
}

// ---------------------------------------------------------------------------------------------
// Reading `[[freeze]]` and `[[freeze_exception]]` from a policy file
// ---------------------------------------------------------------------------------------------

impl Checker<'_> {
    pub(crate) fn freeze(&mut self, policy: &mut Policy, index: usize, window: Spanned<UnvalidatedFreeze>) {
        let key = format!("freeze[{index}]");
        let window_span = window.span();
        let window = window.into_inner();
        let zone = zone(window.zone.get_ref());
        if zone.is_none() {
            self.at(
                &window.zone,
                format!("{key}.zone"),
                format!("`{}` is not an IANA time zone (e.g. `America/New_York`)", window.zone.get_ref()),
            );
        }
        let mut civil = |value: &Spanned<String>, field: &str| -> Option<jiff::civil::DateTime> {
            let parsed = value.get_ref().parse().ok();
            if parsed.is_none() {
                self.at(
                    value,
                    format!("{key}.{field}"),
                    format!("`{}` is not a local date-time such as `2026-12-24T00:00`", value.get_ref()),
                );
            }
            parsed
        };
        let schedule = match (&window.start, &window.end, &window.days, &window.from, &window.to) {
            (Some(start), Some(end), None, None, None) => match (civil(start, "start"), civil(end, "end")) {
                (Some(start_at), Some(end_at)) if end_at <= start_at => {
                    self.at(end, format!("{key}.end"), "the end must come after the start");
                    None
                }
                (Some(start), Some(end)) => Some(Schedule::Once { start, end }),
                _ => None,
            },
            (None, None, Some(days), Some(from), Some(to)) => {
                let mut parsed = Vec::new();
                let mut all = true;
                for day in days {
                    match weekday(day.get_ref()) {
                        Some(weekday) => parsed.push(weekday),
                        None => {
                            all = false;
                            self.at(
                                day,
                                format!("{key}.days"),
                                format!(
                                    "`{}` is not a weekday (mon, tue, wed, thu, fri, sat, sun)",
                                    day.get_ref()
                                ),
                            );
                        }
                    }
                }
                if days.is_empty() {
                    self.errors.push(PolicyError {
                        line: Some(line_of(self.text, window_span.start)),
                        key: Some(format!("{key}.days")),
                        message: "name at least one weekday".into(),
                    });
                    all = false;
                }
                let mut clock = |value: &Spanned<String>, field: &str| -> Option<jiff::civil::Time> {
                    let parsed = value.get_ref().parse().ok();
                    if parsed.is_none() {
                        self.at(
                            value,
                            format!("{key}.{field}"),
                            format!("`{}` is not a local time such as `18:00`", value.get_ref()),
                        );
                    }
                    parsed
                };
                match (clock(from, "from"), clock(to, "to")) {
                    (Some(from), Some(to)) if all => Some(Schedule::Weekly { days: parsed, from, to }),
                    _ => None,
                }
            }
            _ => {
                self.errors.push(PolicyError {
                    line: Some(line_of(self.text, window_span.start)),
                    key: Some(key),
                    message: "a freeze window has either `start` and `end` (one-off), or `days`, `from` and `to` (weekly)"
                        .into(),
                });
                None
            }
        };
        if let (Some(zone), Some(schedule)) = (zone, schedule) {
            let name = window.name.get_ref().trim().to_owned();
            policy.freezes.push(FreezeWindow { name, zone_name: window.zone.into_inner(), zone, schedule });
        }
    }

    pub(crate) fn freeze_exception(
        &mut self,
        policy: &mut Policy,
        index: usize,
        exception: UnvalidatedFreezeException,
    ) {
        let key = format!("freeze_exception[{index}]");
        let mut named = |value: &Spanned<String>, field: &str| -> Option<String> {
            let tidy = value.get_ref().trim();
            if tidy.is_empty() {
                self.at(value, format!("{key}.{field}"), "cannot be empty");
                return None;
            }
            Some(tidy.to_owned())
        };
        let window = named(&exception.window, "window");
        let approved_by = named(&exception.approved_by, "approved_by");
        let reason = named(&exception.reason, "reason");
        // No scope given: the exception covers every change (`Some(None)`); a blank one is a mistake.
        let scope = match &exception.scope {
            None => Some(None),
            Some(scope) => named(scope, "scope").map(Some),
        };
        if let Some(window) = &window
            && !policy.freezes.iter().any(|freeze| freeze.name.eq_ignore_ascii_case(window))
        {
            self.at(
                &exception.window,
                format!("{key}.window"),
                format!("no [[freeze]] window is named `{window}`"),
            );
        }
        let until = crate::value::parse_timestamp(exception.until.get_ref().trim());
        if until.is_none() {
            self.at(
                &exception.until,
                format!("{key}.until"),
                format!(
                    "`{}` is not an RFC 3339 date-time with an offset, e.g. 2026-12-27T00:00:00Z",
                    crate::value::excerpt(exception.until.get_ref(), 80)
                ),
            );
        }
        if let (Some(window), Some(approved_by), Some(reason), Some(until), Some(scope)) =
            (window, approved_by, reason, until, scope)
        {
            policy.freeze_exceptions.push(FreezeException { window, approved_by, reason, until, scope });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    fn window(zone_name: &str, schedule: Schedule) -> FreezeWindow {
        FreezeWindow {
            name: "freeze".into(),
            zone_name: zone_name.into(),
            zone: zone(zone_name).unwrap(),
            schedule,
        }
    }

    #[test]
    fn one_off_window_is_judged_in_its_zone() {
        // A holiday freeze in New York: Dec 24 00:00 to Dec 27 00:00 local (EST, UTC-5).
        let freeze = window(
            "America/New_York",
            Schedule::Once {
                start: "2026-12-24T00:00".parse().unwrap(),
                end: "2026-12-27T00:00".parse().unwrap(),
            },
        );
        // 02:00 UTC on the 24th is still the 23rd in New York: not frozen.
        assert!(!freeze.contains(at("2026-12-24T02:00:00Z")));
        assert!(freeze.contains(at("2026-12-24T05:00:00Z")));
        assert!(freeze.contains(at("2026-12-27T04:59:59Z")));
        assert!(!freeze.contains(at("2026-12-27T05:00:00Z")));
    }

    #[test]
    fn weekly_window_across_a_daylight_saving_change() {
        // Sundays 01:00-04:00 in New York. On 2026-11-01 clocks fall back from 02:00 EDT to 01:00 EST.
        let freeze = window(
            "America/New_York",
            Schedule::Weekly {
                days: vec![Weekday::Sunday],
                from: "01:00".parse().unwrap(),
                to: "04:00".parse().unwrap(),
            },
        );
        assert!(freeze.contains(at("2026-11-01T05:30:00Z")), "01:30 EDT, first pass");
        assert!(freeze.contains(at("2026-11-01T06:30:00Z")), "01:30 EST, second pass");
        assert!(freeze.contains(at("2026-11-01T08:59:00Z")), "03:59 EST");
        assert!(!freeze.contains(at("2026-11-01T09:00:00Z")), "04:00 EST");
        assert!(!freeze.contains(at("2026-11-01T04:59:00Z")), "00:59 EDT");
        // A week before, in summer time, the same local window is an hour earlier in UTC.
        assert!(freeze.contains(at("2026-10-25T05:00:00Z")), "01:00 EDT");
        assert!(!freeze.contains(at("2026-10-25T08:00:00Z")), "04:00 EDT");
        // Spring forward (2026-03-08): 02:00-03:00 does not exist; the window still spans 01:00-04:00 local.
        assert!(freeze.contains(at("2026-03-08T06:59:00Z")), "01:59 EST");
        assert!(freeze.contains(at("2026-03-08T07:00:00Z")), "03:00 EDT");
        assert!(!freeze.contains(at("2026-03-08T08:00:00Z")), "04:00 EDT");
    }

    #[test]
    fn weekly_window_past_midnight() {
        // Friday 18:00 to Monday-morning-like overnight: Fridays 18:00 to 06:00 next day, Berlin.
        let freeze = window(
            "Europe/Berlin",
            Schedule::Weekly {
                days: vec![Weekday::Friday],
                from: "18:00".parse().unwrap(),
                to: "06:00".parse().unwrap(),
            },
        );
        assert!(freeze.contains(at("2026-11-27T17:30:00Z")), "Fri 18:30 CET");
        assert!(freeze.contains(at("2026-11-28T04:00:00Z")), "Sat 05:00 CET");
        assert!(!freeze.contains(at("2026-11-28T05:00:00Z")), "Sat 06:00 CET");
        assert!(!freeze.contains(at("2026-11-27T16:00:00Z")), "Fri 17:00 CET");
    }

    #[test]
    fn names() {
        assert_eq!(weekday("FRI"), Some(Weekday::Friday));
        assert_eq!(weekday("sunday"), Some(Weekday::Sunday));
        assert_eq!(weekday("fr"), None);
        assert_eq!(weekday("monkey"), None);
        assert_eq!(weekday("Wednesday"), Some(Weekday::Wednesday));
        assert_eq!(weekday("thurs"), None);
        assert!(zone("Mars/Olympus").is_none());
        assert!(zone("Asia/Kolkata").is_some());
    }
}
