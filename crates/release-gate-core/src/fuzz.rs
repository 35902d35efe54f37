//! Structure-aware fuzzing of every parser in the core, on stable Rust with proptest.
//!
//! Inputs are mutations of valid seed documents (the decision corpus, the signing golden files, a log and
//! a checkpoint built here): lines and keys duplicated, dropped, swapped and repeated, values replaced with
//! hostile ones (`--output=/x`, `../`, NUL, huge numbers, invalid UTF-8), deep nesting and very long
//! lines. Each target checks that its parser never panics, that what it returns stays bounded, and that
//! the forms that promise a round trip keep it.
//!
//! `cargo test` runs a few hundred cases per target. `scripts/fuzz.sh` runs longer campaigns through two
//! variables: `RELEASE_GATE_FUZZ_CASES` (cases per round) and `RELEASE_GATE_FUZZ_SECONDS` (rounds go on
//! until that many seconds have passed for each target, and a failure is counted instead of ending the
//! run). Each target prints one line: executions, time, crashes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::decision::Decision;
use crate::finding::{Code, MAX_PER_CODE};
use crate::{Policy, ledger, markdown, signing};

/// One change to a seed document.
#[derive(Debug, Clone)]
enum Mutation {
    Duplicate(Index),
    Drop(Index),
    Swap(Index, Index),
    Repeat(Index, usize),
    Insert(Index, Vec<u8>),
    /// Replaces what follows the line's first `:` (a field's or a key's value).
    Value(Index, Vec<u8>),
    /// Puts bytes at a place inside a line.
    Splice(Index, Index, Vec<u8>),
    Truncate(Index),
    Indent(Index, usize),
    /// Nests a line `depth` levels deep: bullets for Markdown, arrays for JSON.
    Nest(Index, usize),
    /// Makes a line very long.
    Long(Index, usize),
}

/// Values and fragments that have broken parsers before, in this project or elsewhere.
fn hostile() -> impl Strategy<Value = Vec<u8>> {
    let atoms: Vec<&'static [u8]> = vec![
        b"--output=/x",
        b"-o/etc/passwd",
        b"../../../etc/passwd",
        b"..",
        b"\0",
        b"a\0b",
        b"\xff\xfe",
        b"\xc0\x80",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"\xe2\x80\xae",
        b"\xef\xbb\xbf",
        b"18446744073709551616",
        b"-9223372036854775809",
        b"1e309",
        b"-0",
        b"NaN",
        b"9999-12-31T23:59:59Z",
        b"2026-02-30T25:61:61+99:99",
        b"null",
        b"true",
        b"{}",
        b"[]",
        b"{\"a\":",
        b"\"",
        b"\\",
        b"\\u0000",
        b"\\ud800",
        b"<!--",
        b"-->",
        b"```",
        b"~~~",
        b"###",
        b"### Release Decision",
        b"===",
        b"---",
        b"- ",
        b"  - ",
        b"1. ",
        b"[x] ",
        b"\t",
        b"\r",
        b"\r\n",
        b" > 2% for 5 minutes",
        b"\xe2\x89\xa5",
        b"=",
        b":",
        b",",
        b"#",
        b"$(id)",
        b"${HOME}",
        b"%s%n",
        b"ssh-ed25519",
        b"namespaces=\"release-gate\"",
        b"valid-after=\"20260101\"",
        b"cert-authority",
        b"*",
        b"!",
        b"sha256:",
        b"AAAAC3NzaC1lZDI1NTE5AAAAI",
        b"\xf0\x9f\x98\x80",
    ];
    prop_oneof![
        4 => proptest::sample::select(atoms).prop_map(<[u8]>::to_vec),
        2 => vec(proptest::sample::select(b" -:#[]{}\",\\\n\t<>!*=0123456789ax\xff".to_vec()), 0..24),
        1 => vec(any::<u8>(), 0..16),
        1 => "\\PC{0,24}".prop_map(String::into_bytes),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => any::<Index>().prop_map(Mutation::Duplicate),
        3 => any::<Index>().prop_map(Mutation::Drop),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        1 => (any::<Index>(), 2..3_000usize).prop_map(|(at, times)| Mutation::Repeat(at, times)),
        3 => (any::<Index>(), hostile()).prop_map(|(at, line)| Mutation::Insert(at, line)),
        5 => (any::<Index>(), hostile()).prop_map(|(at, value)| Mutation::Value(at, value)),
        4 => (any::<Index>(), any::<Index>(), hostile()).prop_map(|(at, place, bytes)| Mutation::Splice(at, place, bytes)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), 0..40usize).prop_map(|(at, indent)| Mutation::Indent(at, indent)),
        1 => (any::<Index>(), 1..3_000usize).prop_map(|(at, depth)| Mutation::Nest(at, depth)),
        1 => (any::<Index>(), 1_000..200_000usize).prop_map(|(at, len)| Mutation::Long(at, len)),
    ]
}

/// A seed with a few mutations applied.
fn mutate(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let json = seed.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'{');
    let mut lines: Vec<Vec<u8>> = seed.split(|byte| *byte == b'\n').map(<[u8]>::to_vec).collect();
    for mutation in mutations {
        if lines.is_empty() {
            lines.push(Vec::new());
        }
        let len = lines.len();
        match mutation {
            Mutation::Duplicate(at) => {
                let line = lines[at.index(len)].clone();
                lines.insert(at.index(len), line);
            }
            Mutation::Drop(at) => {
                lines.remove(at.index(len));
            }
            Mutation::Swap(a, b) => lines.swap(a.index(len), b.index(len)),
            Mutation::Repeat(at, times) => {
                let line = lines[at.index(len)].clone();
                let place = at.index(len);
                lines.splice(place..place, std::iter::repeat_n(line, *times));
            }
            Mutation::Insert(at, line) => lines.insert(at.index(len + 1), line.clone()),
            Mutation::Value(at, value) => {
                let line = &mut lines[at.index(len)];
                let start = line.iter().position(|byte| *byte == b':').map_or(line.len(), |colon| colon + 1);
                line.truncate(start);
                line.push(b' ');
                line.extend_from_slice(value);
            }
            Mutation::Splice(at, place, bytes) => {
                let line = &mut lines[at.index(len)];
                let place = place.index(line.len() + 1);
                line.splice(place..place, bytes.iter().copied());
            }
            Mutation::Truncate(at) => lines.truncate(at.index(len)),
            Mutation::Indent(at, indent) => {
                let line = &mut lines[at.index(len)];
                line.splice(0..0, std::iter::repeat_n(b' ', *indent));
            }
            Mutation::Nest(at, depth) => {
                let line = &mut lines[at.index(len)];
                if json {
                    let mut nested = b"[".repeat(*depth);
                    nested.extend_from_slice(line);
                    nested.extend_from_slice(&b"]".repeat(*depth));
                    *line = nested;
                } else {
                    line.splice(0..0, b"- ".repeat(*depth));
                }
            }
            Mutation::Long(at, target) => {
                let line = &mut lines[at.index(len)];
                let filler = if line.is_empty() { b"x".to_vec() } else { line.clone() };
                while line.len() < *target {
                    line.extend_from_slice(&filler);
                }
            }
        }
    }
    let mut out = lines.join(&b'\n');
    out.truncate(crate::MAX_INPUT_BYTES + 16);
    out
}

/// The properties one parser's output must have, checked on one input.
type Check = fn(&[u8]) -> Result<(), TestCaseError>;

/// A parser under test: its seeds and the properties its output must have.
struct Target {
    name: &'static str,
    seeds: Vec<Vec<u8>>,
    check: Check,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files(dir: &str, extension: &str) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo_root().join(dir))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .collect();
    paths.sort();
    paths.iter().map(|path| std::fs::read(path).unwrap()).collect()
}

fn file(relative: &str) -> Vec<u8> {
    std::fs::read(repo_root().join(relative)).unwrap()
}

fn decision_seeds() -> Vec<Vec<u8>> {
    let mut seeds = files("tests/data/decisions", "md");
    seeds.extend(files("examples", "md"));
    seeds.push(file("tests/data/signing/decision.md"));
    seeds
}

/// The JSON records of the Markdown seeds.
fn record_seeds() -> Vec<Vec<u8>> {
    decision_seeds()
        .iter()
        .filter_map(|seed| crate::read_document(seed).ok())
        .map(|document| document.decision.to_json().into_bytes())
        .collect()
}

fn allowed_signers_seeds() -> Vec<Vec<u8>> {
    let lee = String::from_utf8(file("tests/data/signing/test-only-lee-ed25519.pub")).unwrap();
    let priya = String::from_utf8(file("tests/data/signing/test-only-priya-ed25519.pub")).unwrap();
    vec![
        format!(
            "# people who may sign\nlee@example.com,\"Lee Park\" namespaces=\"release-gate\" {lee}\
             priya@example.com valid-after=\"20260101\",valid-before=\"20301231\" {priya}"
        )
        .into_bytes(),
        format!("* namespaces=\"git,release-gate\" {lee}").into_bytes(),
    ]
}

/// A log of three lines and its checkpoint, built with the core's own functions.
fn ledger_seeds() -> Vec<Vec<u8>> {
    let mut log = Vec::new();
    let mut prev = ledger::GENESIS.to_owned();
    for seq in 1..=3 {
        let entry = ledger::Entry {
            seq,
            prev: prev.clone(),
            event: ledger::LogEvent::Sign(ledger::SignEvent {
                decision: format!("rel-{seq}"),
                source: "docs/release.md".into(),
                commit: "a".repeat(40),
                statement: "b".repeat(64),
                envelope: "c".repeat(64),
                signers: vec![ledger::Signer {
                    principals: vec!["lee@example.com".into()],
                    key: "SHA256:abc".into(),
                    sshsig: format!("rel-{seq}.sig"),
                    sshsig_sha256: "d".repeat(64),
                }],
            }),
            time: "2026-11-28T12:00:00Z".into(),
        };
        let line = entry.to_line();
        prev = signing::sha256_hex(&line);
        log.extend_from_slice(&line);
        log.push(b'\n');
    }
    let chain = ledger::read_chain(&log);
    let checkpoint = ledger::checkpoint_text(chain.entries.len(), &chain.head()).into_bytes();
    vec![log, checkpoint]
}

/// How many findings a report may hold at most: every code, each kept a few times plus its summary.
fn max_findings() -> usize {
    Code::ALL.len() * (MAX_PER_CODE + 1)
}

fn check_decision(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Ok(document) = crate::read_document(bytes) else { return Ok(()) };
    let now = jiff::Timestamp::from_second(1_795_000_000).unwrap();
    let report = crate::validate(&document, &Policy::default(), now);
    prop_assert!(report.findings.len() <= max_findings(), "{} findings", report.findings.len());
    let json = serde_json::to_string(&report).unwrap();
    prop_assert!(json.len() <= 64 * 1024, "a report of {} bytes", json.len());
    let audit =
        crate::audit(&crate::validate(&document, &crate::Policy::default(), jiff::Timestamp::UNIX_EPOCH));
    prop_assert!(audit.answers.iter().all(|answer| answer.findings.len() <= max_findings()));
    let rendered = markdown::render(&document.decision);
    prop_assert!(
        rendered.len() <= 2 * bytes.len() + 4096,
        "rendered {} from {}",
        rendered.len(),
        bytes.len()
    );
    let _ = crate::note::release_note(&document.decision);
    let _ = crate::checklist::checklist(&document.decision);
    check_record_round_trip(&document.decision)
}

/// The JSON form reads back to the same record.
fn check_record_round_trip(decision: &Decision) -> Result<(), TestCaseError> {
    let json = decision.to_json();
    let again = Decision::from_json(&json);
    prop_assert!(again.is_ok(), "{:?}\n{json}", again.err());
    let again = again.ok();
    prop_assert_eq!(again.as_ref(), Some(decision));
    Ok(())
}

fn check_record(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Ok(text) = std::str::from_utf8(bytes) else { return Ok(()) };
    match Decision::from_json(text) {
        Ok(decision) => check_record_round_trip(&decision),
        Err(_) => Ok(()),
    }
}

fn check_policy(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(policy) = Policy::from_toml(&String::from_utf8_lossy(bytes)) {
        let _ = crate::classify::classify(policy.paths(), &["src/auth/login.rs", "../x", ""]);
    }
    Ok(())
}

fn check_allowed_signers(bytes: &[u8]) -> Result<(), TestCaseError> {
    let signers = signing::AllowedSigners::parse(&String::from_utf8_lossy(bytes));
    for key in signers.keys() {
        let _ = key.fingerprint();
    }
    Ok(())
}

fn check_envelope(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(envelope) = signing::Envelope::from_json(bytes) {
        let again = signing::Envelope::from_json(&envelope.to_bytes());
        prop_assert!(again.is_ok(), "{:?}", again.err());
        let _ = envelope.payload_bytes().map(|payload| signing::verify::read_statement(&payload));
    }
    Ok(())
}

fn check_statement(bytes: &[u8]) -> Result<(), TestCaseError> {
    let _ = signing::verify::read_statement(bytes);
    Ok(())
}

fn check_ledger(bytes: &[u8]) -> Result<(), TestCaseError> {
    let chain = ledger::read_chain(bytes);
    if chain.is_intact() {
        let checkpoint = ledger::checkpoint_text(chain.entries.len(), &chain.head());
        let parsed = ledger::parse_checkpoint(&checkpoint);
        prop_assert!(parsed.is_ok(), "{checkpoint}");
        if let Ok(parsed) = parsed {
            prop_assert!(ledger::check_checkpoint(&chain, &parsed).is_ok());
        }
    }
    if let Ok(checkpoint) = ledger::parse_checkpoint(&String::from_utf8_lossy(bytes)) {
        let _ = ledger::check_checkpoint(&chain, &checkpoint);
    }
    Ok(())
}

fn target(name: &'static str) -> Target {
    let (seeds, check): (Vec<Vec<u8>>, Check) = match name {
        "decision" => (decision_seeds(), check_decision),
        "record" => (record_seeds(), check_record),
        "policy" => (
            vec![
                file("tests/data/signing/policy.toml"),
                crate::policy::DEFAULT_POLICY_TOML.as_bytes().to_vec(),
            ],
            check_policy,
        ),
        "allowed_signers" => (allowed_signers_seeds(), check_allowed_signers),
        "envelope" => (
            vec![
                file("tests/data/signing/expected.dsse.json"),
                file("tests/data/signing/expected.dsse.1.json"),
            ],
            check_envelope,
        ),
        "statement" => (vec![file("tests/data/signing/expected.statement.json")], check_statement),
        "ledger" => (ledger_seeds(), check_ledger),
        other => panic!("no fuzz target {other}"),
    };
    assert!(!seeds.is_empty(), "{name} has no seeds");
    Target { name, seeds, check }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name)
        .ok()
        .map(|value| value.parse().unwrap_or_else(|_| panic!("{name}={value} is not a number")))
}

/// Runs one target: a round of cases, or rounds until the time budget is spent. Panics when anything
/// failed, after printing each failure (proptest shrinks it first) and the counts.
fn campaign(name: &'static str) {
    let target = target(name);
    let cases = env_number("RELEASE_GATE_FUZZ_CASES").unwrap_or(256);
    let budget = env_number("RELEASE_GATE_FUZZ_SECONDS").map(Duration::from_secs);
    let seeds = target.seeds.clone();
    let strategy = (any::<Index>(), vec(mutation(), 0..6));
    let started = Instant::now();
    let (mut executions, mut crashes) = (0u64, 0u64);
    loop {
        let config = Config {
            cases: u32::try_from(cases).unwrap_or(u32::MAX),
            failure_persistence: None,
            max_shrink_iters: 2_000,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        let check = target.check;
        let result = runner.run(&strategy, |(seed, mutations)| {
            let input = mutate(&seeds[seed.index(seeds.len())], &mutations);
            check(&input)
        });
        executions += cases;
        if let Err(error) = result {
            crashes += 1;
            eprintln!("fuzz {}: FAILURE {error}", target.name);
        }
        if budget.is_none_or(|budget| started.elapsed() >= budget) {
            break;
        }
    }
    eprintln!(
        "fuzz {}: {executions} executions in {:.1} s, {crashes} crashes",
        target.name,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(crashes, 0, "fuzz {}: {crashes} failing inputs (printed above)", target.name);
}

#[test]
fn fuzz_decision() {
    campaign("decision");
}

#[test]
fn fuzz_record() {
    campaign("record");
}

#[test]
fn fuzz_policy() {
    campaign("policy");
}

#[test]
fn fuzz_allowed_signers() {
    campaign("allowed_signers");
}

#[test]
fn fuzz_envelope() {
    campaign("envelope");
}

#[test]
fn fuzz_statement() {
    campaign("statement");
}

#[test]
fn fuzz_ledger() {
    campaign("ledger");
}

#[test]
fn seeds_are_valid_and_mutations_change_them() {
    let seeds = decision_seeds();
    let valid = seeds.iter().filter(|document| crate::read_document(document).is_ok()).count();
    assert!(valid >= 40, "only {valid} of {} decision seeds read", seeds.len());
    for record in record_seeds() {
        assert!(Decision::from_json(std::str::from_utf8(&record).unwrap()).is_ok());
    }
    let [log, checkpoint] = <[Vec<u8>; 2]>::try_from(ledger_seeds()).unwrap();
    let chain = ledger::read_chain(&log);
    assert!(chain.is_intact() && chain.entries.len() == 3, "{chain:?}");
    let checkpoint = ledger::parse_checkpoint(std::str::from_utf8(&checkpoint).unwrap()).unwrap();
    assert!(ledger::check_checkpoint(&chain, &checkpoint).is_ok());
    let signers = allowed_signers_seeds();
    assert_eq!(signing::AllowedSigners::parse(std::str::from_utf8(&signers[0]).unwrap()).keys().len(), 2);

    let seed = b"### Release Decision\n- Release scope: a";
    assert_eq!(mutate(seed, &[]), seed.to_vec());
    let mut runner = TestRunner::deterministic();
    let changed = (0..100)
        .filter(|_| {
            let mutations = vec(mutation(), 1..4).new_tree(&mut runner).unwrap();
            let mutations = proptest::strategy::ValueTree::current(&mutations);
            mutate(seed, &mutations) != seed.to_vec()
        })
        .count();
    assert!(changed > 80, "only {changed} of 100 mutated inputs differ from the seed");
}
