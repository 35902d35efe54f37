//! Tests of the signing formats: the DSSE spec vector, golden vectors, allowed_signers, verification.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::verify::{Context, FailureCode, SignedBytes, Verification, verify};
use super::*;
use crate::ledger::{self, Entry, LogEvent, SignEvent, Signer};
use crate::policy::Policy;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/signing").join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).unwrap()
}

fn key(name: &str) -> SigningKey {
    SigningKey::from_openssh(&read(name), None).unwrap()
}

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const TIME: &str = "2026-11-27T14:10:00Z";

/// The golden vectors' policy: the defaults, in a fixed file.
fn policy_text() -> Vec<u8> {
    read("policy.toml")
}

fn decision() -> crate::Decision {
    crate::read_document(&read("decision.md")).unwrap().decision
}

fn golden_statement() -> Vec<u8> {
    let decision = decision();
    let commit = GitCommit::parse(COMMIT).unwrap();
    statement_bytes(StatementInput {
        id: "golden",
        decision: &decision,
        commit: &commit,
        policy_text: &policy_text(),
    })
    .unwrap()
}

/// Compares with the committed expectation; `UPDATE_EXPECT=1` rewrites it so the diff can be read.
#[track_caller]
fn check_golden(name: &str, actual: &[u8]) {
    let path = data(name);
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{name} differs from the golden file; run with UPDATE_EXPECT=1 and read the diff"
    );
}

#[test]
fn pae_matches_the_dsse_spec_vector() {
    assert_eq!(
        pae("http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
    assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
}

#[test]
fn golden_vectors_are_byte_identical_across_runs() {
    let statement = golden_statement();
    assert_eq!(statement, golden_statement());
    let priya = key("test-only-priya-ed25519");
    let lee = key("test-only-lee-ed25519");
    let mut envelope = Envelope::sign(&statement, &priya);
    check_golden("expected.dsse.1.json", &envelope.to_bytes());
    assert!(envelope.cosign(&statement, &lee).unwrap());
    assert!(!envelope.cosign(&statement, &lee).unwrap(), "the same key signs once");
    check_golden("expected.statement.json", &statement);
    check_golden("expected.dsse.json", &envelope.to_bytes());
    check_golden("expected.statement.json.sig", priya.sshsig(NAMESPACE, &statement).unwrap().as_bytes());
    check_golden("expected.statement.json.2.sig", lee.sshsig(NAMESPACE, &statement).unwrap().as_bytes());
    // The statement carries what the format promises.
    let parsed = verify::read_statement(&statement).unwrap();
    assert_eq!(parsed.subject[0].digest.git_commit, COMMIT);
    assert_eq!(parsed.predicate.decided_at, "2026-11-27T14:05:00Z");
    assert_eq!(parsed.predicate.gates.len(), 5);
    assert_eq!(parsed.predicate.gates[0].evidence.sha256, sha256_hex(b"pass (CI #4411)"));
    assert_eq!(parsed.predicate.policy.sha256, sha256_hex(&policy_text()));
    assert_eq!(parsed.predicate.risk_class.as_deref(), Some("high"));
    assert_eq!(parsed.predicate.decision.as_deref(), Some("GO"));
}

#[test]
fn keyid_follows_securesystemslib() {
    // The canonical key dict of an all-zero public key, hashed by hand with `sha256sum`.
    let key = PublicKey::from_raw([0; 32]);
    let expected = sha256_hex(
        b"{\"keytype\":\"ed25519\",\"keyval\":{\"public\":\"0000000000000000000000000000000000000000000000000000000000000000\"},\"scheme\":\"ed25519\"}",
    );
    assert_eq!(key.keyid(), expected);
}

#[test]
fn secrets_stay_out_of_debug_and_errors() {
    let text = read("test-only-priya-ed25519");
    let priya = key("test-only-priya-ed25519");
    let debug = format!("{priya:?}");
    assert!(debug.starts_with("SigningKey { public: \"SHA256:"), "{debug}");
    let pem_body: String = String::from_utf8(text.clone()).unwrap().lines().nth(1).unwrap().to_owned();
    assert!(!debug.contains(&pem_body[..20]));
    let mut broken = text.clone();
    broken[60] ^= 1;
    let error = SigningKey::from_openssh(&broken, None).unwrap_err().to_string();
    assert!(!error.contains(&pem_body[..20]), "{error}");
}

#[test]
fn commits_and_ids_are_checked() {
    assert!(GitCommit::parse(&"A".repeat(40)).is_ok());
    assert_eq!(GitCommit::parse(&"A".repeat(64)).unwrap().as_str(), "a".repeat(64));
    assert!(GitCommit::parse("HEAD").is_err());
    assert!(GitCommit::parse(&"g".repeat(40)).is_err());
    assert!(check_id("release-2026.11.3_a").is_ok());
    assert!(check_id(&"a".repeat(100)).is_ok());
    // The store's rule, the stricter of the two that were: at most 100 characters, never `..`.
    let long = "a".repeat(101);
    for bad in ["", "../x", ".hidden", "a/b", "a b", "v2..3", long.as_str()] {
        assert!(check_id(bad).is_err(), "{bad}");
    }
}

#[test]
fn names_match_principals_case_insensitively() {
    assert!(principal_matches("priya shah", "Priya Shah"));
    assert!(principal_matches("Dana Ruiz", "Dana Ruiz (billing on-call)"));
    assert!(!principal_matches("Priya", "Priya Shah"));
    assert!(!principal_matches("", ""));
}

fn allowed(priya_options: &str) -> AllowedSigners {
    let priya = key("test-only-priya-ed25519").public().to_openssh();
    let lee = key("test-only-lee-ed25519").public().to_openssh();
    AllowedSigners::parse(&format!(
        "# trusted signers\n\n\"Priya Shah\" {priya_options} {priya} priya\n\"Lee Park,lee@example.com\" namespaces=\"release-gate,release-gate-checkpoint\" {lee}\n"
    ))
}

fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

#[test]
fn allowed_signers_options_and_times() {
    let signers =
        allowed("namespaces=\"git,release-gate\",valid-after=\"20260101Z\",valid-before=\"202612010000Z\"");
    assert!(signers.ignored.is_empty(), "{:?}", signers.ignored);
    assert_eq!(signers.signers.len(), 2);
    assert_eq!(signers.signers[1].principals, ["Lee Park", "lee@example.com"]);
    let priya = key("test-only-priya-ed25519").public();
    let ok = signers.principals(&priya, NAMESPACE, at("2026-11-27T14:05:00Z")).unwrap();
    assert_eq!(ok.into_iter().collect::<Vec<_>>(), ["Priya Shah"]);
    assert_eq!(signers.principals(&priya, "file", at("2026-11-27T14:05:00Z")), Err(Untrusted::Namespace));
    assert_eq!(signers.principals(&priya, NAMESPACE, at("2026-12-01T00:00:00Z")), Err(Untrusted::Expired));
    assert_eq!(
        signers.principals(&priya, NAMESPACE, at("2025-12-31T23:59:59Z")),
        Err(Untrusted::NotYetValid)
    );
    let stranger = PublicKey::from_raw([7; 32]);
    assert_eq!(signers.principals(&stranger, NAMESPACE, at(TIME)), Err(Untrusted::UnknownKey));
}

#[test]
fn allowed_signers_lines_that_cannot_be_used_say_why() {
    let lee = key("test-only-lee-ed25519").public().to_openssh();
    let signers = AllowedSigners::parse(&format!(
        "ca@example.com cert-authority {lee}\nx ssh-rsa AAAAB3NzaC1yc2E\ny valid-before=\"tomorrow\" {lee}\nz frobnicate {lee}\nw ssh-ed25519 !!!\nonly-a-name\n"
    ));
    assert!(signers.signers.is_empty());
    let reasons: Vec<&str> = signers.ignored.iter().map(|i| i.reason.as_str()).collect();
    assert_eq!(reasons.len(), 6, "{reasons:?}");
    assert!(reasons[0].contains("cert-authority"));
    assert!(reasons[1].contains("Ed25519"));
    assert!(reasons[2].contains("tomorrow"));
    assert!(reasons[3].contains("frobnicate"));
    assert!(reasons[4].contains("decode"));
    assert!(reasons[5].contains("no key"));
}

#[test]
fn sshsig_round_trip_and_namespace() {
    let priya = key("test-only-priya-ed25519");
    let sig = priya.sshsig(NAMESPACE, b"statement").unwrap();
    assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
    assert_eq!(priya.public().verify_sshsig(NAMESPACE, b"statement", sig.as_bytes()), Ok(()));
    assert_eq!(
        priya.public().verify_sshsig(NAMESPACE, b"statemenT", sig.as_bytes()),
        Err(SshSigError::Invalid)
    );
    let other = priya.sshsig("git", b"statement").unwrap();
    let namespace = priya.public().verify_sshsig(NAMESPACE, b"statement", other.as_bytes()).unwrap_err();
    assert_eq!(namespace, SshSigError::Namespace { found: "git".into(), expected: NAMESPACE.into() });
    assert!(namespace.to_string().contains("namespace"), "{namespace}");
    let lee = key("test-only-lee-ed25519");
    assert_eq!(
        lee.public().verify_sshsig(NAMESPACE, b"statement", sig.as_bytes()),
        Err(SshSigError::OtherKey)
    );
    assert!(matches!(
        priya.public().verify_sshsig(NAMESPACE, b"statement", b"-----BEGIN SSH SIGNATURE-----\nx\n"),
        Err(SshSigError::Unreadable(_))
    ));
}

/// A fully signed golden decision with its log, as `release-gate sign` would leave it.
struct Signed {
    envelope: Vec<u8>,
    statement: Vec<u8>,
    sshsigs: Vec<(String, Vec<u8>)>,
    ledger: Vec<u8>,
}

fn signed() -> Signed {
    let statement = read("expected.statement.json");
    let envelope = read("expected.dsse.json");
    let sshsigs = vec![
        ("golden.statement.json.sig".to_owned(), read("expected.statement.json.sig")),
        ("golden.statement.json.2.sig".to_owned(), read("expected.statement.json.2.sig")),
    ];
    let signers = sshsigs
        .iter()
        .map(|(name, bytes)| Signer {
            principals: vec![],
            key: String::new(),
            sshsig: name.clone(),
            sshsig_sha256: sha256_hex(bytes),
        })
        .collect();
    let entry = Entry {
        seq: 1,
        prev: ledger::GENESIS.into(),
        event: LogEvent::Sign(SignEvent {
            decision: "golden".into(),
            source: "decision.md".into(),
            commit: COMMIT.into(),
            statement: sha256_hex(&statement),
            envelope: sha256_hex(&envelope),
            signers,
        }),
        time: TIME.into(),
    };
    let mut ledger = entry.to_line();
    ledger.push(b'\n');
    Signed { envelope, statement, sshsigs, ledger }
}

fn run(signed: &Signed, signers: &AllowedSigners, commit: Option<&str>, id: &str) -> Verification {
    run_at(signed, signers, commit, id, None)
}

fn run_at(
    signed: &Signed,
    signers: &AllowedSigners,
    commit: Option<&str>,
    id: &str,
    now: Option<jiff::Timestamp>,
) -> Verification {
    let commit = commit.map(|c| GitCommit::parse(c).unwrap());
    let chain = ledger::read_chain(&signed.ledger);
    // The checkpoint pins the log as signing left it.
    let pinned = ledger::read_chain(&self::signed().ledger);
    let checkpoint = ledger::parse_checkpoint(&ledger::checkpoint_text(1, &pinned.head())).unwrap();
    let checkpoint = ledger::check_checkpoint(&chain, &checkpoint);
    verify(
        SignedBytes {
            id,
            envelope: &signed.envelope,
            statement: Some(&signed.statement),
            sshsigs: &signed.sshsigs,
        },
        Context {
            allowed_signers: signers,
            commit: commit.as_ref(),
            policy: &Policy::from_toml(std::str::from_utf8(&policy_text()).unwrap()).unwrap(),
            policy_text: &policy_text(),
            ledger: &chain,
            checkpoint: checkpoint.as_ref().map(|_| ()).map_err(String::as_str),
            now,
            published: None,
            require_published: false,
        },
    )
}

fn codes(verification: &Verification) -> Vec<FailureCode> {
    verification.failures.iter().map(|f| f.code).collect()
}

#[test]
fn a_signed_golden_decision_verifies() {
    let result = run(&signed(), &allowed(""), Some(COMMIT), "golden");
    assert!(result.ok(), "{:#?}", result.failures);
    assert_eq!(result.signers.len(), 2);
    // Roles, not the names again (those are the principals).
    assert_eq!(result.signers[0].principals, ["Priya Shah"]);
    assert_eq!(result.signers[0].roles, ["final decision owner", "panel member"]);
    assert_eq!(result.signers[1].roles, ["panel member"]);
}

#[test]
fn a_go_older_than_its_class_allows_has_expired() {
    // The golden decision is a high-risk GO made at 2026-11-27T14:05:00Z; high risk stands for 24 hours.
    let within = run_at(&signed(), &allowed(""), Some(COMMIT), "golden", Some(at("2026-11-28T14:00:00Z")));
    assert!(within.ok(), "{:#?}", within.failures);
    let after = run_at(&signed(), &allowed(""), Some(COMMIT), "golden", Some(at("2026-11-28T14:06:00Z")));
    assert_eq!(codes(&after), [FailureCode::DecisionExpired], "{:#?}", after.failures);
    let unchecked = run(&signed(), &allowed(""), Some(COMMIT), "golden");
    assert!(unchecked.ok() && unchecked.notes.iter().any(|n| n.contains("age was not checked")));
}

#[test]
fn every_single_byte_change_fails_verification() {
    let original = signed();
    let signers = allowed("");
    let check = |mutate: &dyn Fn(&mut Signed, usize), len: usize, what: &str| {
        for at in 0..len {
            let mut copy = signed();
            mutate(&mut copy, at);
            let result = run(&copy, &signers, Some(COMMIT), "golden");
            assert!(!result.ok(), "changing byte {at} of the {what} went unnoticed");
        }
    };
    check(&|s, at| s.envelope[at] ^= 0x01, original.envelope.len(), "envelope");
    check(&|s, at| s.statement[at] ^= 0x01, original.statement.len(), "statement");
    check(&|s, at| s.sshsigs[1].1[at] ^= 0x01, original.sshsigs[1].1.len(), "SSH signature");
    check(&|s, at| s.ledger[at] ^= 0x01, original.ledger.len(), "log");
}

#[test]
fn swapped_commit_replay_and_removed_signature_fail_with_reasons() {
    let other = "fedcba9876543210fedcba9876543210fedcba98";
    assert_eq!(codes(&run(&signed(), &allowed(""), Some(other), "golden")), [FailureCode::CommitMismatch]);
    let replay = codes(&run(&signed(), &allowed(""), Some(COMMIT), "other-decision"));
    assert!(
        replay.contains(&FailureCode::SubjectMismatch) && replay.contains(&FailureCode::LogEntryMissing),
        "{replay:?}"
    );

    // Drop Lee's signature (envelope and SSH signature) and re-record it in the log: the threshold fails.
    let one = priya_only();
    assert_eq!(one.envelope, read("expected.dsse.1.json"));
    let result = run(&one, &allowed(""), Some(COMMIT), "golden");
    // Rewriting the log to match is caught by the checkpoint; the threshold fails on its own.
    assert_eq!(
        codes(&result),
        [FailureCode::SignaturesMissing, FailureCode::LogBroken],
        "{:#?}",
        result.failures
    );
    assert!(result.failures[0].message.contains("2 distinct panel signatures"));
}

/// Priya's signature alone, re-recorded in the log (the checkpoint then says the log was rewritten).
fn priya_only() -> Signed {
    let mut one = signed();
    let mut envelope = Envelope::from_json(&one.envelope).unwrap();
    envelope.signatures.pop();
    one.envelope = envelope.to_bytes();
    one.sshsigs.pop();
    let chain = ledger::read_chain(&one.ledger);
    let mut entry = chain.entries[0].clone();
    if let LogEvent::Sign(sign) = &mut entry.event {
        sign.envelope = sha256_hex(&one.envelope);
        sign.signers.pop();
    }
    one.ledger = [entry.to_line(), b"\n".to_vec()].concat();
    one
}

#[test]
fn one_key_listed_for_two_panel_members_is_one_signer() {
    // The attack: allowed_signers gives Priya's key both panel members' names.
    let priya = key("test-only-priya-ed25519").public().to_openssh();
    let lee = key("test-only-lee-ed25519").public().to_openssh();
    let both_names = AllowedSigners::parse(&format!("\"Priya Shah,Lee Park\" {priya}\n\"Lee Park\" {lee}\n"));
    let result = run(&priya_only(), &both_names, Some(COMMIT), "golden");
    assert!(codes(&result).contains(&FailureCode::SignaturesMissing), "{:#?}", result.failures);
    assert!(result.failures.iter().any(|f| f.message.contains("1 verified")), "{:#?}", result.failures);
    // Both keys sign: two people, whatever names the first key also carries.
    let both = run(&signed(), &both_names, Some(COMMIT), "golden");
    assert!(both.ok(), "{:#?}", both.failures);
}

#[test]
fn panel_signers_are_a_matching_of_keys_to_members() {
    use super::verify::count_panel_signers;
    let predicate = |panel: &[&str]| {
        let mut decision = decision();
        decision.panel = panel.iter().map(|name| (*name).to_owned()).collect();
        let commit = GitCommit::parse(COMMIT).unwrap();
        predicate(StatementInput { id: "golden", decision: &decision, commit: &commit, policy_text: b"" })
            .unwrap()
    };
    let keys = |sets: &[&[&str]]| -> Vec<BTreeSet<String>> {
        sets.iter().map(|set| set.iter().map(|name| (*name).to_owned()).collect()).collect()
    };
    let panel = predicate(&["Priya Shah", "Lee Park", "Dana Ruiz"]);
    let count = |sets: &[&[&str]]| count_panel_signers(&keys(sets), &panel);
    // One key, any number of names: one person.
    assert_eq!(count(&[&["Priya Shah", "Lee Park", "Dana Ruiz"]]), 1);
    // Two keys of one person: one person.
    assert_eq!(count(&[&["Lee Park"], &["lee park"]]), 1);
    // Two keys that could both be either: two people.
    assert_eq!(count(&[&["Priya Shah", "Lee Park"], &["Priya Shah", "Lee Park"]]), 2);
    // The matching finds the assignment a greedy count would miss.
    assert_eq!(count(&[&["Priya Shah", "Lee Park"], &["Priya Shah"]]), 2);
    assert_eq!(count(&[&["Priya Shah", "Lee Park"], &["Priya Shah"], &["Lee Park", "Dana Ruiz"]]), 3);
    // Names outside the panel count for nothing; a panel written twice is one member.
    assert_eq!(count(&[&["Mallory"], &[]]), 0);
    let doubled = predicate(&["Priya Shah", "priya shah"]);
    assert_eq!(count_panel_signers(&keys(&[&["Priya Shah"], &["priya shah"]]), &doubled), 1);
}

#[test]
fn untrusted_keys_fail_with_reasons() {
    let expired = run(&signed(), &allowed("valid-before=\"20261101Z\""), Some(COMMIT), "golden");
    let codes_expired = codes(&expired);
    assert!(codes_expired.contains(&FailureCode::SignerUntrusted), "{codes_expired:?}");
    assert!(expired.failures.iter().any(|f| f.message.contains("valid-before")));
    let namespace = codes(&run(&signed(), &allowed("namespaces=\"git\""), Some(COMMIT), "golden"));
    assert!(
        namespace.contains(&FailureCode::SignerUntrusted)
            && namespace.contains(&FailureCode::SignaturesMissing)
    );
    // Priya's key is not in this file: her signature verifies with no trusted key.
    let lee = key("test-only-lee-ed25519").public().to_openssh();
    let only_lee = AllowedSigners::parse(&format!("\"Lee Park\" {lee}\n"));
    let unknown = codes(&run(&signed(), &only_lee, Some(COMMIT), "golden"));
    assert!(unknown.contains(&FailureCode::SignatureInvalid), "{unknown:?}");
    // A key that is trusted but names nobody in the decision.
    let priya = key("test-only-priya-ed25519").public().to_openssh();
    let stranger = AllowedSigners::parse(&format!("mallory {priya}\n\"Lee Park\" {lee}\n"));
    let unauthorized = codes(&run(&signed(), &stranger, Some(COMMIT), "golden"));
    assert!(unauthorized.contains(&FailureCode::SignerNotAuthorized), "{unauthorized:?}");
}

#[test]
fn urlsafe_base64_is_accepted() {
    let mut copy = signed();
    let mut envelope = Envelope::from_json(&copy.envelope).unwrap();
    for signature in &mut envelope.signatures {
        signature.sig = signature.sig.replace('+', "-").replace('/', "_").trim_end_matches('=').to_owned();
        signature.keyid = "not-trusted-anyway".into();
    }
    envelope.payload = envelope.payload.replace('+', "-").replace('/', "_");
    copy.envelope = envelope.to_bytes();
    let result = run(&copy, &allowed(""), Some(COMMIT), "golden");
    // Only the log's envelope digest differs: the signatures themselves verify.
    assert_eq!(codes(&result), [FailureCode::LogEntryMissing], "{:#?}", result.failures);
    assert_eq!(result.signers.len(), 2);
}

#[test]
fn other_statement_types_and_no_go_fail_with_reasons() {
    let statement = read("expected.statement.json");
    let text = String::from_utf8(statement).unwrap();
    let other = text.replace(PREDICATE_TYPE, "https://release-gate.dev/decision/v2");
    assert_eq!(verify::read_statement(other.as_bytes()).unwrap_err().0, FailureCode::PredicateType);
    let not_in_toto = text.replace(STATEMENT_TYPE, "https://in-toto.io/Statement/v0.1");
    assert_eq!(verify::read_statement(not_in_toto.as_bytes()).unwrap_err().0, FailureCode::StatementInvalid);
    assert_eq!(verify::read_statement(b"[]").unwrap_err().0, FailureCode::StatementInvalid);

    // A NO-GO, properly signed and logged, still does not verify as a release.
    let mut decision = decision();
    decision.decision = Some("NO-GO".into());
    let commit = GitCommit::parse(COMMIT).unwrap();
    let input =
        StatementInput { id: "golden", decision: &decision, commit: &commit, policy_text: &policy_text() };
    let statement = statement_bytes(input).unwrap();
    let mut envelope = Envelope::sign(&statement, &key("test-only-priya-ed25519"));
    envelope.cosign(&statement, &key("test-only-lee-ed25519")).unwrap();
    let mut nogo = signed();
    nogo.envelope = envelope.to_bytes();
    nogo.statement = statement;
    nogo.sshsigs.clear();
    let result = run(&nogo, &allowed(""), Some(COMMIT), "golden");
    assert!(codes(&result).contains(&FailureCode::NotGo), "{:#?}", result.failures);
    // An envelope over other bytes is never co-signed.
    assert!(matches!(
        envelope.cosign(b"other", &key("test-only-lee-ed25519")),
        Err(SigningError::EnvelopeMismatch)
    ));
}

/// The log on its branch (checkpoint origin v2): two entries, each commit's checkpoint signed by Lee. The
/// entry lines, the last checkpoint and its SSH signature are frozen like the statement and envelope.
fn golden_log() -> Vec<crate::ledger::history::CommitRecord> {
    let first = signed().ledger.strip_suffix(b"\n").unwrap().to_vec();
    let second = repair_entry(2, &sha256_hex(&first));
    let lee = key("test-only-lee-ed25519");
    entry_commits(vec![first, second], |_| &lee, |index| format!("{index:040x}"))
}

/// The line of a checkpoint-repair entry (the simplest event) at `seq` after `prev`.
fn repair_entry(seq: u64, prev: &str) -> Vec<u8> {
    Entry {
        seq,
        prev: prev.to_owned(),
        event: LogEvent::Repair(ledger::RepairEvent {
            reason: "checkpoint".into(),
            truncated_bytes: 0,
            truncated_sha256: sha256_hex(b""),
        }),
        time: "2026-11-27T14:20:00Z".into(),
    }
    .to_line()
}

/// Entry commits as release-gate writes them: each entry with the checkpoint of the log up to it, signed
/// by `signer(seq)`, in a commit named `id(index)`.
fn entry_commits<'k>(
    entries: Vec<Vec<u8>>,
    signer: impl Fn(u64) -> &'k SigningKey,
    id: impl Fn(usize) -> String,
) -> Vec<crate::ledger::history::CommitRecord> {
    use crate::ledger::history::{CommitRecord, Merkle, TREE_NAMES, checkpoint_v2_text};
    let mut merkle = Merkle::default();
    entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            merkle.push(&entry);
            let checkpoint = checkpoint_v2_text(merkle.size(), &merkle.root());
            let sig = signer(merkle.size()).sshsig(CHECKPOINT_NAMESPACE, checkpoint.as_bytes()).unwrap();
            CommitRecord {
                id: id(index),
                parents: usize::from(index > 0),
                names: TREE_NAMES.iter().map(|name| ((*name).to_owned(), true)).collect(),
                entry: Some(entry),
                checkpoint: Some(checkpoint.into_bytes()),
                checkpoint_sig: Some(sig.into_bytes()),
            }
        })
        .collect()
}

#[test]
fn the_v2_log_golden_files_are_byte_identical_and_verify() {
    use crate::ledger::history::{HistoryCheck, LogCode, Pin, parse_pin, verify_history};
    let log = golden_log();
    assert_eq!(log, golden_log(), "the log's bytes are deterministic");
    let tip = &log[1];
    check_golden("expected.log.entry.1", log[0].entry.as_deref().unwrap());
    check_golden("expected.log.entry.2", tip.entry.as_deref().unwrap());
    check_golden("expected.log.checkpoint", tip.checkpoint.as_deref().unwrap());
    check_golden("expected.log.checkpoint.sig", tip.checkpoint_sig.as_deref().unwrap());
    let checkpoint = std::str::from_utf8(tip.checkpoint.as_deref().unwrap()).unwrap();
    assert!(checkpoint.starts_with("release-gate.dev/ledger/v2\n2\n"), "{checkpoint}");

    let signers = allowed("namespaces=\"release-gate\"");
    let signers = &signers;
    fn check<'a>(allowed: &'a AllowedSigners, pin: Option<&'a Pin>) -> HistoryCheck<'a> {
        HistoryCheck { allowed, every_checkpoint: true, pin, shallow: false }
    }
    let history = verify_history(&log, check(signers, None));
    assert!(history.ok(), "{:?}", history.problems);
    assert_eq!(history.checkpoint_text(), checkpoint);
    assert_eq!(history.tip_signers, ["Lee Park", "lee@example.com"]);
    // The frozen checkpoint, kept as a pin, still matches the log it came from.
    let pin = parse_pin(checkpoint.as_bytes()).unwrap();
    assert!(verify_history(&log, check(signers, Some(&pin))).ok());

    // A read that stops early (git failing part way) is an incomplete log, never a shorter valid one.
    let cut = crate::ledger::history::verify_history_stream(&log[..1], 2, check(signers, None));
    assert_eq!(cut.problems.iter().map(|p| p.code).collect::<Vec<_>>(), [LogCode::Incomplete]);
    // Each frozen part, changed by one byte, no longer verifies; Priya may not sign checkpoints.
    let codes = |log: &[crate::ledger::history::CommitRecord]| -> Vec<LogCode> {
        verify_history(log, check(signers, None)).problems.iter().map(|p| p.code).collect()
    };
    let mut edited = log.clone();
    edited[0].entry.as_mut().unwrap()[10] ^= 1;
    assert!(!codes(&edited).is_empty());
    let mut edited = log.clone();
    let last = edited[1].checkpoint.as_ref().unwrap().len() - 3;
    edited[1].checkpoint.as_mut().unwrap()[last] ^= 1;
    assert!(
        codes(&edited).contains(&LogCode::CheckpointInvalid)
            || codes(&edited).contains(&LogCode::EntryRewritten)
    );
    let mut edited = log.clone();
    let priya = key("test-only-priya-ed25519");
    edited[1].checkpoint_sig =
        Some(priya.sshsig(CHECKPOINT_NAMESPACE, checkpoint.as_bytes()).unwrap().into_bytes());
    assert_eq!(codes(&edited), [LogCode::CheckpointInvalid]);
}

/// A long log (checked with its signatures on a second thread) and its first 63 commits (checked on one)
/// report the same problems, in commit order, whichever key signed each checkpoint.
#[test]
fn a_long_log_reports_the_same_problems_in_order_as_a_short_one() {
    use crate::ledger::history::{CommitRecord, HistoryCheck, LogCode};
    let (lee, priya) = (key("test-only-lee-ed25519"), key("test-only-priya-ed25519"));
    let mut prev = ledger::GENESIS.to_owned();
    let entries: Vec<Vec<u8>> = (1..=100u64)
        .map(|seq| {
            let entry = repair_entry(seq, &prev);
            prev = sha256_hex(&entry);
            entry
        })
        .collect();
    // Priya may not sign checkpoints: the seventh is hers.
    let mut log = entry_commits(
        entries,
        |seq| if seq == 7 { &priya } else { &lee },
        |index| format!("{:03}{}", index + 1, "a".repeat(37)),
    );
    for commit in &mut log[1..] {
        commit.parents = 1;
    }
    log[9].checkpoint_sig =
        Some(b"-----BEGIN SSH SIGNATURE-----\nnot one\n-----END SSH SIGNATURE-----\n".to_vec());
    log[19].checkpoint_sig = None;
    let other = log[30].checkpoint.clone().unwrap();
    log[29].checkpoint_sig = Some(lee.sshsig(CHECKPOINT_NAMESPACE, &other).unwrap().into_bytes());
    log[39].checkpoint_sig =
        Some(lee.sshsig("git", log[39].checkpoint.as_deref().unwrap()).unwrap().into_bytes());
    log[49].parents = 2;
    let signers = allowed("namespaces=\"release-gate\"");
    let check = HistoryCheck { allowed: &signers, every_checkpoint: true, pin: None, shallow: false };
    let found = |log: &[CommitRecord]| -> Vec<(LogCode, String)> {
        let history = crate::ledger::history::verify_history(log, check);
        history.problems.iter().map(|p| (p.code, p.message.clone())).collect()
    };
    let long = found(&log);
    let short = found(&log[..63]);
    let hex_of = |seq: u64| format!("{seq:03}{}", "a".repeat(9));
    let expected_order: Vec<(LogCode, u64)> = vec![
        (LogCode::CheckpointInvalid, 7),
        (LogCode::CheckpointInvalid, 10),
        (LogCode::CheckpointInvalid, 20),
        (LogCode::CheckpointInvalid, 30),
        (LogCode::CheckpointInvalid, 40),
        (LogCode::NotLinear, 50),
    ];
    assert_eq!(long.len(), expected_order.len(), "{long:#?}");
    for (problem, (code, seq)) in long.iter().zip(&expected_order) {
        assert_eq!(problem.0, *code, "{long:#?}");
        assert!(problem.1.contains(&hex_of(*seq)), "entry {seq} first: {long:#?}");
    }
    assert!(long.iter().any(|(code, message)| *code == LogCode::NotLinear && message.contains(&hex_of(50))));
    assert!(
        long.iter().any(|(_, message)| message.contains(&hex_of(30)) && message.contains("does not verify"))
    );
    assert!(long.iter().any(|(_, message)| message.contains(&hex_of(40)) && message.contains("namespace")));
    assert!(!long.iter().any(|(_, message)| message.contains(&hex_of(1)) || message.contains(&hex_of(11))));
    // What the long log says of its first 63 commits is what the short one says, word for word.
    let within: Vec<_> = long
        .iter()
        .filter(|(_, message)| (1..=63).any(|seq| message.contains(&hex_of(seq))))
        .cloned()
        .collect();
    let short_within: Vec<_> = short
        .iter()
        .filter(|(_, message)| (1..=63).any(|seq| message.contains(&hex_of(seq))))
        .cloned()
        .collect();
    assert_eq!(within, short_within);
}
