//! Reading the text of a field: placeholders, the "first word decides" rule, concrete rollback
//! triggers and RFC 3339 timestamps. Shared by the validator and the Markdown reader so that every
//! surface gives the same verdicts.

use std::borrow::Cow;

/// The template's option lists, which count as "not filled in" when left in whole.
const OPTION_LISTS: [&str; 3] = ["low | medium | high", "pass | fail", "go | no-go"];

/// Collapses runs of white space inside one line and trims the ends.
pub fn tidy_line(text: &str) -> String {
    tidy(text).into_owned()
}

/// [`tidy_line`] without a copy when the text is tidy already (the common case: this runs on every field
/// of every decision read).
pub fn tidy(text: &str) -> Cow<'_, str> {
    if is_tidy(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

/// Whether `text` has no white space at its ends and only single spaces inside.
fn is_tidy(text: &str) -> bool {
    // ASCII bytes decide alone; any other byte may start white space (U+00A0, U+2003, ...), so such text
    // takes the careful path.
    let mut after_space = true;
    for &byte in text.as_bytes() {
        match byte {
            b' ' if after_space => return false,
            b' ' => after_space = true,
            b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x80.. => return false,
            _ => after_space = false,
        }
    }
    !after_space || text.is_empty()
}

/// [`tidy`] in place: the string is replaced only when it was not tidy.
pub fn tidy_in_place(text: &mut String) {
    if let Cow::Owned(tidied) = tidy(text) {
        *text = tidied;
    }
}

/// Tidies each line of a multi-line value and drops empty lines.
pub fn tidy_multiline(text: &str) -> String {
    tidy_lines(Cow::Borrowed(text)).into_owned()
}

/// [`tidy_multiline`] that keeps the text as it is (no copy) when every line is tidy and none is empty.
pub fn tidy_lines(text: Cow<'_, str>) -> Cow<'_, str> {
    if text.split('\n').all(|line| !line.is_empty() && is_tidy(line)) {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = tidy(line);
        if !line.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&line);
        }
    }
    Cow::Owned(out)
}

/// At most the first `max` characters of `text`: how a finding quotes the input, so a message stays short
/// however long the line it quotes.
pub fn excerpt(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => text.get(..end).unwrap_or(text),
        None => text,
    }
}

/// Whether a value is a template placeholder: `<...>` as a whole, or one of the template's option lists.
pub fn is_placeholder(text: &str) -> bool {
    let text = text.trim();
    if text.len() >= 2 && text.starts_with('<') && text.ends_with('>') {
        return true;
    }
    // Every option list has a `|`: without one, the text cannot be one (and needs no copies to tell).
    if !text.contains('|') {
        return false;
    }
    let normalized = tidy_line(&text.to_ascii_lowercase());
    let spaced = normalized.replace(" | ", "|").replace('|', " | ");
    OPTION_LISTS.contains(&spaced.as_str())
}

/// The value, trimmed, unless it is absent, empty or a placeholder.
pub fn meaningful(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|text| !text.is_empty() && !is_placeholder(text))
}

/// The first word of a value, without surrounding emphasis (`**high**`, `` `GO` ``) or trailing
/// punctuation (`pass,`). The rest of the value is a comment.
pub fn first_word(text: &str) -> &str {
    let word = text.split_whitespace().next().unwrap_or("");
    let punctuation = |c| matches!(c, ',' | ';' | '.' | ':' | '!');
    let word = word.trim_end_matches(punctuation).trim_matches(|c| matches!(c, '*' | '_' | '`'));
    word.trim_end_matches(punctuation)
}

/// Words that make a comparison in a rollback trigger, matched as whole words, case-insensitively.
const COMPARISON_WORDS: &[&str] = &[
    "above",
    "below",
    "over",
    "under",
    "exceed",
    "exceeds",
    "exceeded",
    "exceeding",
    "more than",
    "less than",
    "greater than",
    "fewer than",
    "higher than",
    "lower than",
    "drop",
    "drops",
    "dropped",
    "rise",
    "rises",
    "risen",
    "at least",
    "at most",
];

/// Whether one rollback-trigger condition is concrete and testable: a signal compared with a number
/// (`error rate > 2% for 5 minutes`), so it can be read into a structured condition. A condition that
/// compares with something else (`more than double the 7-day baseline`) is not, whatever numbers it names.
pub fn is_concrete_trigger(text: &str) -> bool {
    if text.len() > crate::trigger::MAX_CONDITION_BYTES {
        // Too long to structure: judged by its words alone.
        return mentions_number_and_comparison(text);
    }
    crate::trigger::parse(text).is_some()
}

/// Whether a condition names a number and a comparison somewhere, even if not as "comparison, number"
/// (a relative condition such as `more than double the 7-day baseline`).
pub fn mentions_number_and_comparison(text: &str) -> bool {
    let has_number = text.chars().any(|c| c.is_ascii_digit());
    has_number && has_comparison(text)
}

fn has_comparison(text: &str) -> bool {
    if text.contains(['>', '<', '=', '≥', '≤']) {
        return true;
    }
    let lower = text.to_lowercase();
    // One word of look-behind is enough: a phrase has at most two words. No list of the words is kept, so a
    // long condition costs no memory per word.
    let mut previous = "";
    for word in lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let found = COMPARISON_WORDS.iter().any(|phrase| match phrase.split_once(' ') {
            Some((first, second)) => previous == first && word == second,
            None => word == *phrase,
        });
        if found {
            return true;
        }
        previous = word;
    }
    false
}

/// Reads a duration as people write it: `4m 10s`, `4.5s`, `250 ms`, `12 minutes`, `1h`, `00:04:10`.
pub fn parse_human_duration(text: &str) -> Option<jiff::SignedDuration> {
    let text = text.trim().to_lowercase();
    let first = text.split_whitespace().next()?;
    if first.contains(':') {
        let parts: Vec<&str> = first.split(':').collect();
        let numbers: Option<Vec<f64>> = parts.iter().map(|p| p.parse::<f64>().ok()).collect();
        let seconds = match numbers?.as_slice() {
            [m, s] => m * 60.0 + s,
            [h, m, s] => h * 3600.0 + m * 60.0 + s,
            _ => return None,
        };
        return jiff::SignedDuration::try_from_secs_f64(seconds).ok();
    }
    let mut total = 0.0;
    let mut number: Option<f64> = None;
    let mut found = false;
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() || c == '.' {
            let mut digits = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() || **d == '.') {
                digits.push(d);
                chars.next();
            }
            number = Some(digits.parse().ok()?);
        } else if c.is_alphabetic() {
            let mut word = String::new();
            while let Some(&w) = chars.peek().filter(|w| w.is_alphabetic()) {
                word.push(w);
                chars.next();
            }
            let Some(value) = number.take() else { break };
            let unit = match word.as_str() {
                "ms" | "msec" | "millisecond" | "milliseconds" => 0.001,
                "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
                "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
                "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
                _ => return None,
            };
            total += value * unit;
            found = true;
        } else if c.is_whitespace() || c == ',' {
            chars.next();
        } else {
            break;
        }
    }
    (found && number.is_none()).then(|| jiff::SignedDuration::try_from_secs_f64(total).ok()).flatten()
}

/// Parses an RFC 3339 date-time with the `T` separator and an explicit offset; the seconds may be left
/// out (`2026-11-29T22:10Z` is `22:10:00`), as people write times.
///
/// Stricter than most parsers on purpose: `2026-11-27 14:05Z` and `2026-11-27T14:05:00` are refused,
/// so that a decision's time is never read in an assumed zone.
pub fn parse_timestamp(text: &str) -> Option<jiff::Timestamp> {
    if has_rfc3339_shape(text.as_bytes()) {
        return text.parse::<jiff::Timestamp>().ok();
    }
    // `YYYY-MM-DDTHH:MM` and an offset: the same instant with `:00` seconds.
    let (minutes, offset) = text.split_at_checked(16)?;
    let with_seconds = format!("{minutes}:00{offset}");
    if offset.starts_with(['.', ':']) || !has_rfc3339_shape(with_seconds.as_bytes()) {
        return None;
    }
    with_seconds.parse::<jiff::Timestamp>().ok()
}

fn has_rfc3339_shape(bytes: &[u8]) -> bool {
    fn digits(bytes: &[u8]) -> bool {
        !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit)
    }
    // YYYY-MM-DDTHH:MM:SS
    let Some((head, mut rest)) = bytes.split_at_checked(19) else { return false };
    let shape_ok = head.iter().enumerate().all(|(i, &b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T' || b == b't',
        13 | 16 => b == b':',
        _ => b.is_ascii_digit(),
    });
    if !shape_ok {
        return false;
    }
    if let Some(fraction) = rest.strip_prefix(b".") {
        let end = fraction.iter().position(|b| !b.is_ascii_digit()).unwrap_or(fraction.len());
        let Some((frac_digits, after)) = fraction.split_at_checked(end) else { return false };
        if !digits(frac_digits) || frac_digits.len() > 9 {
            return false;
        }
        rest = after;
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => digits(&[*h1, *h2, *m1, *m2]),
        _ => false,
    }
}

/// A commit id cut to its first 12 characters, for messages.
pub fn short_commit(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fast_path_holds() {
        // `is_placeholder` answers "no" for text without `|`; that is only right while every list has one.
        assert!(OPTION_LISTS.iter().all(|list| list.contains('|')));
        assert!(is_placeholder("Low|Medium |  HIGH"));
        assert!(is_placeholder("<owner>"));
        assert!(!is_placeholder("low"));
        assert_eq!(tidy_line("  a \t b\n c  "), "a b c");
        assert_eq!(tidy_line(" \t "), "");
    }

    fn tidy_slowly(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    proptest::proptest! {
        #[test]
        fn tidy_agrees_with_the_plain_definition(text in "[ a\t\n\r\u{a0}\u{2003}é]{0,12}") {
            proptest::prop_assert_eq!(tidy(&text), tidy_slowly(&text));
            let multiline: Vec<String> =
                text.lines().map(tidy_slowly).filter(|line| !line.is_empty()).collect();
            proptest::prop_assert_eq!(tidy_multiline(&text), multiline.join("\n"));
        }
    }

    #[test]
    fn placeholders() {
        for text in
            ["<person/role>", " <iso datetime> ", "low | medium | high", "PASS|FAIL", "GO | NO-GO", "<>"]
        {
            assert!(is_placeholder(text), "{text:?} should be a placeholder");
        }
        for text in ["Dana Ruiz <dana@example.com>", "pass", "low", "GO", "pass | fail | n/a", "<a> and <b"] {
            assert!(!is_placeholder(text), "{text:?} should not be a placeholder");
        }
        assert_eq!(meaningful(Some("  ")), None);
        assert_eq!(meaningful(Some(" Dana ")), Some("Dana"));
    }

    #[test]
    fn first_word_strips_emphasis_and_punctuation() {
        assert_eq!(first_word("pass (CI #4411)"), "pass");
        assert_eq!(first_word("**high** (touches billing)"), "high");
        assert_eq!(first_word("`GO`."), "GO");
        assert_eq!(first_word("n/a"), "n/a");
        assert_eq!(first_word(""), "");
    }

    #[test]
    fn triggers() {
        for text in [
            "error rate > 2% for 5 minutes",
            "p99 latency above 800 ms",
            "checkout success drops below 99%",
            "5xx rate exceeds 1% over 10 min",
            "queue depth at least 10000",
            "error budget burn >= 2x",
        ] {
            assert!(is_concrete_trigger(text), "{text:?} should be concrete");
        }
        for text in [
            "if things look bad",
            "if customers complain",
            "when needed",
            "latency above normal",
            "v2",
            "error rate more than double the 7-day baseline",
            "p99 latency 20% above last week's",
        ] {
            assert!(!is_concrete_trigger(text), "{text:?} should be vague");
        }
    }

    #[test]
    fn human_durations() {
        let secs = |s: f64| jiff::SignedDuration::try_from_secs_f64(s).ok();
        assert_eq!(parse_human_duration("4m 10s"), secs(250.0));
        assert_eq!(parse_human_duration("4.5s"), secs(4.5));
        assert_eq!(parse_human_duration("250 ms"), secs(0.25));
        assert_eq!(parse_human_duration("12 minutes (slow DNS)"), secs(720.0));
        assert_eq!(parse_human_duration("00:04:10"), secs(250.0));
        assert_eq!(parse_human_duration("1h"), secs(3600.0));
        for bad in ["", "quick", "4", "4 parsecs", "a:b"] {
            assert_eq!(parse_human_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamps() {
        for text in ["2026-11-27T14:05:00Z", "2026-11-27T14:05:00.123+02:00", "2026-11-27T14:05:00-05:30"] {
            assert!(parse_timestamp(text).is_some(), "{text:?} should parse");
        }
        // Without seconds: the minute's first second.
        assert_eq!(parse_timestamp("2026-11-29T22:10Z"), parse_timestamp("2026-11-29T22:10:00Z"));
        assert_eq!(parse_timestamp("2026-11-29T23:10+01:00"), parse_timestamp("2026-11-29T22:10:00Z"));
        for text in [
            "TBD",
            "2026-11-27 14:05:00Z",
            "2026-11-27T14:05:00",
            "2026-11-27T14:05",
            "2026-11-27T14:05.5Z",
            "2026-11-27T14Z",
            "2026-13-27T14:05:00Z",
            "2026-02-30T14:05:00Z",
            "2026-11-27T14:05:00+0200",
            "2026-11-27T14:05:00.Z",
            "",
        ] {
            assert!(parse_timestamp(text).is_none(), "{text:?} should not parse");
        }
    }
}

/// A decision id: 1 to [`DecisionId::MAX_LEN`] ASCII letters, digits, `.`, `_` and `-`, starting with a
/// letter or a digit, never `..`. It names the record's file and the signed statement's subject, so it is
/// a safe file name everywhere: the one rule for ids, used by the store, signing and both shells.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DecisionId(String);

/// Why a text is not a decision id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{id}` is not a valid decision id: {reason}")]
pub struct InvalidId {
    /// The text, printable (control characters escaped, long text cut).
    pub id: String,
    pub reason: &'static str,
}

impl DecisionId {
    pub const MAX_LEN: usize = 100;

    pub fn parse(text: &str) -> Result<DecisionId, InvalidId> {
        let reason = if text.is_empty() {
            "an id cannot be empty"
        } else if text.len() > Self::MAX_LEN {
            "an id has at most 100 characters"
        } else if !text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
            "an id uses only letters, digits, `.`, `_` and `-`"
        } else if !text.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric()) {
            "an id starts with a letter or a digit"
        } else if text.contains("..") {
            "an id cannot contain `..`"
        } else {
            return Ok(DecisionId(text.to_owned()));
        };
        Err(InvalidId { id: printable(text), reason })
    }

    /// An id from free text: `prefix`, then the text's words lowercased and joined by `-`, cut to fit.
    pub fn slug(prefix: &str, text: &str) -> Result<DecisionId, InvalidId> {
        let mut slug = String::new();
        for c in text.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        let slug: String = slug.trim_matches('-').chars().take(60).collect();
        let slug = slug.trim_end_matches('-');
        DecisionId::parse(&if slug.is_empty() { prefix.to_owned() } else { format!("{prefix}-{slug}") })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DecisionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Control characters shown escaped, long text cut, for error messages.
pub fn printable(text: &str) -> String {
    let shown: String = text.chars().take(60).flat_map(char::escape_debug).collect();
    if text.chars().count() > 60 { format!("{shown}...") } else { shown }
}
