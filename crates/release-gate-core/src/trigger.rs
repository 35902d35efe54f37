//! Structured rollback triggers: `error rate > 2% for 5 minutes` read as signal, comparison, threshold
//! and window, so deployment tooling can watch the same condition the decision names.

use serde::{Deserialize, Serialize};

/// One rollback-trigger condition, structured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The condition as written.
    pub text: String,
    /// What is measured, e.g. `error rate`.
    pub signal: String,
    /// `>`, `>=`, `<`, `<=` or `=`.
    pub comparison: String,
    /// The threshold's number as written, e.g. `2` or `99.5`.
    pub threshold: String,
    /// The threshold's unit, e.g. `%` or `ms`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// How long the condition must hold, e.g. `5 minutes`, if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// The window in seconds, when its unit is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_seconds: Option<u64>,
}

/// Comparison phrases and their operators, longest first so `drops below` wins over `below`.
const PHRASES: &[(&str, &str)] = &[
    (">=", ">="),
    ("<=", "<="),
    ("≥", ">="),
    ("≤", "<="),
    ("==", "="),
    (">", ">"),
    ("<", "<"),
    ("=", "="),
    ("drops below", "<"),
    ("falls below", "<"),
    ("rises above", ">"),
    ("greater than", ">"),
    ("higher than", ">"),
    ("more than", ">"),
    ("less than", "<"),
    ("lower than", "<"),
    ("fewer than", "<"),
    ("at least", ">="),
    ("at most", "<="),
    ("exceeds", ">"),
    ("exceed", ">"),
    ("above", ">"),
    ("over", ">"),
    ("below", "<"),
    ("under", "<"),
];

/// The longest condition read into its parts, in bytes. A real condition is a sentence; a longer text is
/// left unstructured, since its parts would copy it several times into every JSON form of the record.
pub const MAX_CONDITION_BYTES: usize = 1_000;

/// Reads a condition; `None` when it has no comparison followed by a number, or is longer than
/// [`MAX_CONDITION_BYTES`].
pub fn parse(text: &str) -> Option<Condition> {
    if text.len() > MAX_CONDITION_BYTES {
        return None;
    }
    // ASCII case folding keeps byte offsets, so a place found in `lower` is the same place in `text`.
    let lower = text.to_ascii_lowercase();
    let (at, phrase, operator) = earliest_comparison(&lower)?;
    let signal = text.get(..at)?.trim();
    let signal = strip_prefix_word(signal, &["if", "when", "rollback if", "roll back if"])
        .trim_end_matches([':', ',']);
    let rest = text.get(at + phrase.len()..)?.trim_start();
    let number_len = rest.char_indices().take_while(|(_, c)| c.is_ascii_digit() || *c == '.').count();
    let threshold = rest.get(..number_len)?.trim_end_matches('.');
    if threshold.is_empty() || !threshold.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let after = rest.get(number_len..)?;
    if let Some(after_percent) = after.strip_prefix('%') {
        let window = window(after_percent.trim_start());
        return Some(Condition {
            text: text.to_owned(),
            signal: signal.to_owned(),
            comparison: operator.to_owned(),
            threshold: threshold.to_owned(),
            unit: Some("%".to_owned()),
            window_seconds: window.as_ref().and_then(|(_, seconds)| *seconds),
            window: window.map(|(text, _)| text),
        });
    }
    let after = after.trim_start();
    let unit_word = after.split_whitespace().next().unwrap_or("");
    let unit_word = unit_word.trim_end_matches([',', ';', '.']);
    let is_window_word =
        matches!(unit_word.to_lowercase().as_str(), "for" | "over" | "within" | "during" | "in");
    let (unit, after_unit) = if unit_word.is_empty() || is_window_word {
        (None, after)
    } else {
        (Some(unit_word.to_owned()), after.get(unit_word.len()..).unwrap_or("").trim_start())
    };
    let window = window(after_unit);
    Some(Condition {
        text: text.to_owned(),
        signal: signal.to_owned(),
        comparison: operator.to_owned(),
        threshold: threshold.to_owned(),
        unit,
        window_seconds: window.as_ref().and_then(|(_, seconds)| *seconds),
        window: window.map(|(text, _)| text),
    })
}

fn strip_prefix_word<'t>(text: &'t str, words: &[&str]) -> &'t str {
    for word in words {
        if let Some(head) = text.get(..word.len())
            && head.eq_ignore_ascii_case(word)
            && text.get(word.len()..).is_some_and(|rest| rest.starts_with(' '))
        {
            return text.get(word.len()..).unwrap_or(text).trim_start();
        }
    }
    text
}

/// Which bytes start a phrase of [`PHRASES`], derived from the list.
static FIRST_BYTES: std::sync::LazyLock<[bool; 256]> = std::sync::LazyLock::new(|| {
    let mut table = [false; 256];
    for (phrase, _) in PHRASES {
        if let Some(slot) = phrase.as_bytes().first().and_then(|byte| table.get_mut(usize::from(*byte))) {
            *slot = true;
        }
    }
    table
});

/// The earliest comparison in the text, preferring the longest phrase at the same place. A phrase of
/// words counts only as whole words; a symbol counts anywhere.
fn earliest_comparison(lower: &str) -> Option<(usize, &'static str, &'static str)> {
    let mut previous: Option<char> = None;
    for (at, c) in lower.char_indices() {
        let word_start = previous.is_none_or(|p| !p.is_alphanumeric());
        previous = Some(c);
        if c.is_alphanumeric() && !word_start {
            continue;
        }
        let rest = lower.get(at..)?;
        // Most places cannot start a phrase: one look at the first byte settles them, so a long text of
        // separators costs one step per character.
        let first = rest.as_bytes().first().copied();
        if !first.is_some_and(|byte| FIRST_BYTES.get(usize::from(byte)).copied().unwrap_or(false)) {
            continue;
        }
        let hit = PHRASES
            .iter()
            .filter(|(phrase, _)| {
                phrase.as_bytes().first().copied() == first
                    && rest.starts_with(phrase)
                    && (!phrase.starts_with(|c: char| c.is_ascii_alphabetic())
                        || rest
                            .get(phrase.len()..)
                            .and_then(|after| after.chars().next())
                            .is_none_or(|c| !c.is_alphanumeric()))
            })
            .max_by_key(|(phrase, _)| phrase.len());
        if let Some((phrase, operator)) = hit {
            return Some((at, phrase, operator));
        }
    }
    None
}

/// `for 5 minutes` -> (`5 minutes`, 300); `over 10m` -> (`10m`, 600): the number and its unit may be
/// written apart or together.
fn window(text: &str) -> Option<(String, Option<u64>)> {
    let mut words = text.split_whitespace();
    let lead = words.next()?.to_lowercase();
    if !matches!(lead.as_str(), "for" | "over" | "within" | "during" | "in") {
        return None;
    }
    let first = words.next()?.trim_end_matches([',', ';', '.', ')']);
    let digits = first.char_indices().take_while(|(_, c)| c.is_ascii_digit()).count();
    let (number, glued) = first.split_at_checked(digits)?;
    let count: u64 = number.parse().ok()?;
    let glued = glued.trim_start_matches('-');
    let unit = if glued.is_empty() {
        words.next().unwrap_or("").trim_end_matches([',', ';', '.', ')'])
    } else {
        glued
    };
    let seconds = match unit.to_lowercase().as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => Some(1),
        "m" | "min" | "mins" | "minute" | "minutes" => Some(60),
        "h" | "hr" | "hrs" | "hour" | "hours" => Some(3600),
        _ => None,
    };
    let text = match (unit.is_empty(), glued.is_empty()) {
        (true, _) => number.to_owned(),
        (false, true) => format!("{number} {unit}"),
        (false, false) => first.to_owned(),
    };
    Some((text, seconds.and_then(|s: u64| s.checked_mul(count))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(
        text: &str,
        signal: &str,
        comparison: &str,
        threshold: &str,
        unit: Option<&str>,
        window: Option<u64>,
    ) {
        let condition = parse(text).unwrap_or_else(|| panic!("{text:?} should parse"));
        assert_eq!(condition.signal, signal, "{text}");
        assert_eq!(condition.comparison, comparison, "{text}");
        assert_eq!(condition.threshold, threshold, "{text}");
        assert_eq!(condition.unit.as_deref(), unit, "{text}");
        assert_eq!(condition.window_seconds, window, "{text}");
    }

    /// The plain definition: each phrase's first whole-word place, the earliest (then longest) wins.
    fn earliest_by_definition(lower: &str) -> Option<(usize, &'static str, &'static str)> {
        let whole_word = |at: usize, len: usize| {
            lower.get(..at).and_then(|b| b.chars().next_back()).is_none_or(|c| !c.is_alphanumeric())
                && lower.get(at + len..).and_then(|a| a.chars().next()).is_none_or(|c| !c.is_alphanumeric())
        };
        PHRASES
            .iter()
            .filter_map(|(phrase, operator)| {
                let wordy = phrase.starts_with(|c: char| c.is_ascii_alphabetic());
                lower
                    .match_indices(phrase)
                    .map(|(at, _)| at)
                    .find(|at| !wordy || whole_word(*at, phrase.len()))
                    .map(|at| (at, *phrase, *operator))
            })
            .min_by_key(|(at, phrase, _)| (*at, std::cmp::Reverse(phrase.len())))
    }

    proptest::proptest! {
        #[test]
        fn the_scan_finds_what_the_definition_finds(
            words in proptest::collection::vec(
                "(>|<|=|>=|<=|≥|≤|drops|below|above|over|under|more|than|at|least|exceeds?|é|x|rate|[0-9]{1,3}%?)",
                0..8,
            ),
            glue in "[ _.]",
        ) {
            let text = words.join(&glue);
            proptest::prop_assert_eq!(earliest_comparison(&text), earliest_by_definition(&text));
        }
    }

    #[test]
    fn conditions() {
        check("error rate > 2% for 5 minutes", "error rate", ">", "2", Some("%"), Some(300));
        check("p99 latency above 800 ms", "p99 latency", ">", "800", Some("ms"), None);
        check("checkout success drops below 99%", "checkout success", "<", "99", Some("%"), None);
        check("if 5xx rate >= 1.5 % over 10 min", "5xx rate", ">=", "1.5", Some("%"), Some(600));
        check("queue depth exceeds 10000 for 2 hours", "queue depth", ">", "10000", None, Some(7200));
        check(
            "invoice API error rate > 2% for 5 minutes",
            "invoice API error rate",
            ">",
            "2",
            Some("%"),
            Some(300),
        );
        // The window's number and unit written together keep the window.
        check("5xx rate over 1% over 10m", "5xx rate", ">", "1", Some("%"), Some(600));
        check("p95 latency > 900 ms for 2min", "p95 latency", ">", "900", Some("ms"), Some(120));
        check("error rate > 3% for 15-minute", "error rate", ">", "3", Some("%"), Some(900));
        let kept = parse("5xx rate over 1% over 10m").unwrap();
        assert_eq!(kept.window.as_deref(), Some("10m"));
        // A relative condition has no number to compare with: not a structured condition.
        assert_eq!(parse("error rate more than double the 7-day baseline"), None);
        assert_eq!(parse("if things look bad"), None);
        assert_eq!(parse("latency above normal"), None);
    }
}
