//! Data-driven tests over the decision corpus in `tests/data/decisions`, and property tests of the
//! Markdown <-> JSON round trip.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::decision::{ChecklistItem, Communication, Decision, Gates, Layer, Rehearsal};
use crate::{Policy, markdown, read_document, validate};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/decisions")
}

fn now() -> jiff::Timestamp {
    "2026-11-28T12:00:00Z".parse().unwrap()
}

/// The `.expected` form of a report: the header lines, then findings sorted (compared as a multiset).
fn render_expected(report: &crate::Report) -> String {
    let risk = report.risk_class.map_or("null", |class| class.as_str());
    let call = report.decision.map_or("null", |call| call.as_str());
    let verdict = match report.verdict {
        crate::Verdict::Pass => "pass",
        crate::Verdict::Fail => "fail",
    };
    let mut findings: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{} {} {}", f.severity, f.code, f.line.map_or("-".to_owned(), |l| l.to_string())))
        .collect();
    findings.sort();
    let mut out = format!("verdict: {verdict}\nrisk_class: {risk}\ndecision: {call}\n");
    for finding in findings {
        out.push_str(&finding);
        out.push('\n');
    }
    out
}

fn normalize_expected(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let findings = lines.split_off(3.min(lines.len()));
    let mut findings: Vec<&str> = findings;
    findings.sort();
    lines.extend(findings);
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn decision_corpus() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "md") && path.with_extension("expected").exists()
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 40, "the corpus has only {} cases", cases.len());
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    for case in &cases {
        let input = std::fs::read(case).unwrap();
        let document = read_document(&input).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let report = validate(&document, &Policy::default(), now());
        let actual = render_expected(&report);
        let expected_path = case.with_extension("expected");
        let expected = normalize_expected(&std::fs::read_to_string(&expected_path).unwrap());
        if actual != expected {
            if update {
                std::fs::write(&expected_path, &actual).unwrap();
            }
            failures.push(format!("--- {}\nexpected:\n{expected}actual:\n{actual}", case.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every case also survives Markdown -> JSON -> Markdown -> JSON unchanged after the first trip,
/// and validates to the same verdict and codes from JSON as from Markdown.
#[test]
fn corpus_round_trips() {
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "md") || !path.with_extension("expected").exists() {
            continue;
        }
        let parsed = markdown::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let json = parsed.decision.to_json();
        let from_json = Decision::from_json(&json).unwrap();
        assert_eq!(from_json, parsed.decision, "{}", path.display());
        let rendered = markdown::render(&from_json);
        let reparsed = markdown::parse(&rendered).unwrap();
        assert_eq!(reparsed.decision, parsed.decision, "{}\n{rendered}", path.display());
        assert_eq!(markdown::render(&reparsed.decision), rendered, "{}", path.display());

        let from_md = validate(&crate::Document::from_markdown(parsed), &Policy::default(), now());
        let from_record = validate(&crate::Document::from_record(from_json), &Policy::default(), now());
        let codes = |report: &crate::Report| {
            let mut codes: Vec<_> = report
                .findings
                .iter()
                .filter(|f| {
                    !matches!(f.code.as_str(), "field-unknown" | "field-duplicate" | "multiple-decisions")
                })
                .map(|f| (f.code, f.severity))
                .collect();
            codes.sort();
            codes
        };
        assert_eq!(codes(&from_md), codes(&from_record), "{}", path.display());
        assert_eq!(from_md.risk_class, from_record.risk_class);
        assert_eq!(from_md.decision, from_record.decision);
    }
}

/// One line of text as a person might write it in a field: no line breaks, no leading list markers
/// or check boxes, no HTML comments; anything else goes, unicode included.
fn line() -> impl Strategy<Value = String> {
    "[A-Za-z0-9À-ÿ가-힣 _.,;:!?()#%&/<>|=+*'\"`@$-]{1,40}".prop_filter_map("a field value", |text| {
        let text = crate::value::tidy_line(&text);
        let starts_like_markup = text.starts_with(['-', '*', '+', '#', '[', '`', '~', '>', '='])
            || text.chars().next().is_some_and(|c| c.is_ascii_digit())
            || text.contains("<!--");
        (!text.is_empty() && !starts_like_markup).then_some(text)
    })
}

fn text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(proptest::collection::vec(line(), 1..3).prop_map(|lines| lines.join("\n")))
}

/// Values for fields whose name ends at the first colon: no colon in the first line's name part
/// matters only for named sub-fields, so those values are one line.
fn one_line() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(line())
}

fn decision() -> impl Strategy<Value = Decision> {
    let gates = (one_line(), one_line(), one_line(), one_line(), one_line()).prop_map(
        |(code, review, operational, communication, decision)| Gates {
            code,
            review,
            operational,
            communication,
            decision,
        },
    );
    let rehearsal =
        proptest::option::of((text(), text(), text(), text(), text(), text())).prop_map(|steps| {
            steps.map(|(a, b, c, d, e, f)| Rehearsal {
                apply_candidate_build: a,
                simulate_rollback_trigger: b,
                execute_rollback_path: c,
                confirm_recovery: d,
                recovery_time: e,
                friction_points: f,
            })
        });
    let communication = proptest::option::of((text(), text(), text(), text(), text())).prop_map(|parts| {
        parts.map(|(a, b, c, d, e)| Communication {
            what_changed: a,
            known_limitations: b,
            monitoring_focus: c,
            rollback_trigger_conditions: d,
            escalation: e,
        })
    });
    let lists = || proptest::collection::vec(line(), 0..4);
    let drill = proptest::collection::vec((any::<bool>(), line()), 0..7)
        .prop_map(|items| items.into_iter().map(|(checked, item)| ChecklistItem { checked, item }).collect());
    (
        (text(), one_line(), gates, lists(), lists()),
        (text(), text(), one_line(), one_line(), lists()),
        (drill, rehearsal, communication),
    )
        .prop_map(
            |(
                (scope, risk_class, gates, residual_risks, rollback_trigger),
                (rollback_owner, decision_owner, decision, decided_at, panel),
                (drill, rehearsal, communication),
            )| {
                Decision {
                    scope,
                    risk_class,
                    gates,
                    residual_risks,
                    rollback_trigger,
                    rollback_owner,
                    decision_owner,
                    decision,
                    decided_at,
                    panel,
                    drill,
                    rehearsal,
                    communication,
                    ..Decision::default()
                }
                .normalized()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// JSON -> Markdown -> JSON is the identity on normalized records, and Markdown -> JSON ->
    /// Markdown is stable.
    #[test]
    fn markdown_round_trip_is_stable(decision in decision()) {
        let rendered = markdown::render(&decision);
        let parsed = markdown::parse(&rendered).unwrap();
        prop_assert_eq!(&parsed.decision, &decision, "rendered:\n{}", rendered);
        prop_assert!(parsed.findings.is_empty(), "{:?}\n{}", parsed.findings, rendered);
        let json = parsed.decision.to_json();
        let again = markdown::render(&Decision::from_json(&json).unwrap());
        prop_assert_eq!(again, rendered);
    }

    /// The reader takes any text without panicking.
    #[test]
    fn reader_never_panics(text in "(?s).{0,400}") {
        let _ = markdown::parse(&text);
        let _ = read_document(text.as_bytes());
    }

    /// Structured-looking noise: bullets, headings, fences at random depths.
    #[test]
    fn reader_never_panics_on_markdownish(lines in proptest::collection::vec(
        "(\t| {0,6})(- |\\* |\\+ |1\\. |# |### |```|~~~|<!--|-->|\\[x\\] )?[a-zA-Z :<>|/-]{0,20}\r?", 0..40)) {
        let text = format!("## Release Decision\n{}", lines.join("\n"));
        let parsed = markdown::parse(&text).unwrap();
        let report = validate(&crate::Document::from_markdown(parsed), &Policy::default(), now());
        prop_assert_eq!(report.verdict == crate::Verdict::Fail, report.errors().next().is_some());
    }
}

#[test]
fn layers_render_in_template_order() {
    let names: Vec<&str> = Layer::ALL.iter().map(|layer| layer.template_name()).collect();
    assert_eq!(
        names,
        ["code gates", "review gates", "operational gates", "communication gates", "decision gate"]
    );
}

#[test]
fn a_report_stays_small_whatever_the_number_of_bad_lines() {
    // 100,000 unknown bullets, duplicate fields, extra sections and unknown gate layers.
    let mut text = String::from("### Release Decision\n- Gate results:\n");
    text.push_str(&"  - security: pass\n".repeat(9_000));
    text.push_str(&"- a\n".repeat(100_000));
    text.push_str(&"- Release scope: a\n".repeat(100_000));
    text.push_str(&"#### Release Decision\n".repeat(1_000));
    let document = read_document(text.as_bytes()).unwrap();
    let report = validate(&document, &Policy::default(), now());
    let count = |code: crate::Code| report.findings.iter().filter(|f| f.code == code).count();
    for code in [crate::Code::FieldUnknown, crate::Code::FieldDuplicate, crate::Code::MultipleDecisions] {
        assert_eq!(count(code), crate::finding::MAX_PER_CODE + 1, "{code}: {report:?}");
    }
    let unknown = report.findings.iter().rfind(|f| f.code == crate::Code::FieldUnknown).unwrap();
    assert!(unknown.message.starts_with("108995 more `field-unknown` findings"), "{}", unknown.message);
    assert_eq!(unknown.line, Some(8));
}

#[test]
fn quoted_input_is_cut_short_in_messages() {
    let word = "x".repeat(100_000);
    let text = format!("### Release Decision\n- Risk class: {word}\n- Decision: {word}\n- {word}\n");
    let report = validate(&read_document(text.as_bytes()).unwrap(), &Policy::default(), now());
    assert!(report.findings.iter().all(|f| f.message.len() < 400), "{report:?}");
}

#[test]
fn fields_and_records_beyond_their_bounds_are_input_errors() {
    let mut text = String::from("### Release Decision\n- Release scope: a\n- Residual risks:\n");
    text.push_str(&"  - a\n".repeat(markdown::MAX_FIELD_BULLETS - 1));
    assert!(read_document(text.as_bytes()).is_ok(), "a field of exactly the bound is read");
    text.push_str("    - one more\n");
    let error = read_document(text.as_bytes()).unwrap_err();
    assert!(
        matches!(error, crate::InputError::Markdown(markdown::MarkdownError::TooManyBullets { line: 3 })),
        "{error}"
    );
    let items = vec!["\"a,\""; crate::decision::MAX_RECORD_VALUES - 1].join(",");
    let record = format!("{{\"residual_risks\": [{items}]}}");
    assert!(read_document(record.as_bytes()).is_ok(), "commas inside strings are not separators");
    let record = format!("{{\"residual_risks\": [{items}, \"\\\\\", \"b\"]}}");
    let error = read_document(record.as_bytes()).unwrap_err();
    assert!(
        matches!(error, crate::InputError::Record(crate::decision::RecordError::TooManyValues)),
        "{error}"
    );
}
