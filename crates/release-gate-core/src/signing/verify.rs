//! Verifying a signed decision: every check, every failure named, nothing trusted from the envelope itself.
//!
//! Trust comes only from `allowed_signers` (keyids are hints and ignored), the commit the caller expects,
//! the policy in force and the decision log. The result is a value listing every failure, never an `Err`.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{
    AllowedSigners, DecisionPredicate, Envelope, GitCommit, NAMESPACE, PAYLOAD_TYPE, PREDICATE_TYPE,
    PublicKey, STATEMENT_TYPE, SshSignature, Statement, Verifiers, pae, person_name, principal_matches,
    sha256_hex,
};
use crate::decision::RiskClass;
use crate::ledger::{Chain, LogEvent, SignEvent};
use crate::policy::Policy;

macro_rules! failure_codes {
    ($( $variant:ident = $code:literal, $meaning:literal; )*) => {
        /// Why a signed decision does not verify. Stable kebab-case names, like finding codes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema)]
        pub enum FailureCode {
            $( #[serde(rename = $code)] $variant, )*
        }

        impl FailureCode {
            pub const ALL: &'static [FailureCode] = &[$( FailureCode::$variant, )*];

            pub fn as_str(self) -> &'static str {
                match self { $( FailureCode::$variant => $code, )* }
            }

            pub fn meaning(self) -> &'static str {
                match self { $( FailureCode::$variant => $meaning, )* }
            }
        }
    };
}

failure_codes! {
    EnvelopeInvalid = "envelope-invalid", "the envelope is not a DSSE envelope of an in-toto statement";
    StatementInvalid = "statement-invalid", "the payload is not an in-toto Statement v1 of a release decision";
    PredicateType = "predicate-type", "the statement's predicateType is not release-gate's decision v1";
    SubjectMismatch = "subject-mismatch", "the statement is about another decision (a replayed envelope)";
    CommitMismatch = "commit-mismatch", "the statement signs another commit than the one being released";
    NotGo = "not-go", "the signed decision is not GO";
    SignatureInvalid = "signature-invalid", "a signature verifies with no key in allowed_signers";
    SignerUntrusted = "signer-untrusted", "a signing key is not allowed for the namespace or at decidedAt";
    SignerNotAuthorized = "signer-not-authorized", "a signer is neither the final decision owner nor on the panel";
    SignaturesMissing = "signatures-missing", "fewer distinct panel signatures than the policy asks";
    StatementMismatch = "statement-mismatch", "the statement file is missing or differs from the signed payload";
    SshsigInvalid = "sshsig-invalid", "an SSH signature file does not verify for the statement";
    PolicyChanged = "policy-changed", "the policy in force is not the one the decision was signed under";
    LogBroken = "log-broken", "the decision log's chain or checkpoint does not verify";
    LogEntryMissing = "log-entry-missing", "the decision log has no entry for exactly this envelope";
    LogEntryMismatch = "log-entry-mismatch", "the log entry disagrees with the files (statement, commit, SSH signatures)";
    DecisionExpired = "decision-expired", "the GO is older than the policy's go_valid_for for its risk class";
    NotSigned = "not-signed", "the decision has no signature envelope: nobody signed it yet";
    LogEntryUnpublished = "log-entry-unpublished", "the decision's log entry is not in the remote's (published) log";
}

/// One reason a signed decision does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Failure {
    pub code: FailureCode,
    pub message: String,
}

/// A signature that verified against a trusted key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct VerifiedSigner {
    /// 0-based index in the envelope's `signatures`.
    pub index: usize,
    pub key: String,
    pub principals: Vec<String>,
    /// The roles this signer signed in: `final decision owner` and/or `panel member`.
    pub roles: Vec<String>,
}

/// The signed decision's files, as read (their bytes; where they live is the repository crate's `attestation::Files`).
#[derive(Debug, Clone, Copy)]
pub struct SignedBytes<'a> {
    /// The decision id the caller asked about (from the file name or the store).
    pub id: &'a str,
    pub envelope: &'a [u8],
    /// `<id>.statement.json`, if present.
    pub statement: Option<&'a [u8]>,
    /// The SSH signature files: (file name, bytes).
    pub sshsigs: &'a [(String, Vec<u8>)],
}

/// What the signed decision is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub allowed_signers: &'a AllowedSigners,
    /// The commit being released; `None` skips that one check (the report says so).
    pub commit: Option<&'a GitCommit>,
    pub policy: &'a Policy,
    pub policy_text: &'a [u8],
    pub ledger: &'a Chain,
    /// The checkpoint's verdict, checked by the caller (it needs the checkpoint file and its signature).
    pub checkpoint: Result<(), &'a str>,
    /// The time of the deploy being gated: a GO older than its class's `go_valid_for` then fails with
    /// `decision-expired`. `None` skips that one check (the report says so).
    pub now: Option<jiff::Timestamp>,
    /// How many leading entries of `ledger` the remote's log holds (as last fetched); `None`: no remote.
    pub published: Option<u64>,
    /// Fail with `log-entry-unpublished` unless the decision's entry is published (else a note).
    pub require_published: bool,
}

/// The outcome: every failure, and what verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Verification {
    pub id: String,
    pub commit: Option<String>,
    pub decided_at: Option<String>,
    pub risk_class: Option<String>,
    pub signers: Vec<VerifiedSigner>,
    /// Checks not made, and why (e.g. no `--commit`).
    pub notes: Vec<String>,
    pub failures: Vec<Failure>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }

    fn fail(&mut self, code: FailureCode, message: impl Into<String>) {
        self.failures.push(Failure { code, message: message.into() });
    }
}

impl Verification {
    /// The answer for a decision nobody signed yet: one `not-signed` failure saying who signs and how.
    pub fn not_signed(id: &str, envelope: &str) -> Verification {
        Verification {
            id: id.to_owned(),
            commit: None,
            decided_at: None,
            risk_class: None,
            signers: Vec::new(),
            notes: Vec::new(),
            failures: vec![Failure {
                code: FailureCode::NotSigned,
                message: format!(
                    "decision `{id}` is not signed (no {envelope}): the final decision owner and the panel sign it \
                     (`sign_decision`, or `release-gate sign ID --key PATH`)"
                ),
            }],
        }
    }
}

/// The names in a decision a signature may stand for: the final decision owner and the panel.
pub fn eligible_names(predicate: &DecisionPredicate) -> Vec<String> {
    let mut names: Vec<String> = predicate.owners.decision.iter().cloned().collect();
    names.extend(predicate.owners.panel.iter().cloned());
    names
}

/// The decision names (owner, panel members) any of `principals` matches, case-insensitively.
pub fn roles_of(principals: &BTreeSet<String>, predicate: &DecisionPredicate) -> Vec<String> {
    let mut roles = Vec::new();
    for name in eligible_names(predicate) {
        let clean = person_name(&name).to_owned();
        if principals.iter().any(|p| principal_matches(p, &name)) && !roles.contains(&clean) {
            roles.push(clean);
        }
    }
    roles
}

/// The roles `principals` sign in, as roles rather than names: `final decision owner` and/or `panel member`
/// (the names are the signer's principals already).
pub fn role_labels(principals: &BTreeSet<String>, predicate: &DecisionPredicate) -> Vec<String> {
    let matches = |name: &String| principals.iter().any(|p| principal_matches(p, name));
    let mut labels = Vec::new();
    if predicate.owners.decision.iter().any(matches) {
        labels.push("final decision owner".to_owned());
    }
    if predicate.owners.panel.iter().any(matches) {
        labels.push("panel member".to_owned());
    }
    labels
}

/// How many distinct people of the go/no-go panel a set of signing keys stands for. `keys` holds, for each
/// distinct key, the principals allowed_signers gives it. Each key counts for at most one panel member and
/// each member at most once: the size of a maximum matching between keys and the panel names their
/// principals match. So one key listed for two principals is one person, and one person with two keys is
/// one person. The one rule behind every panel threshold (`sign` and `verify` both count with it).
pub fn count_panel_signers<'a>(
    keys: impl IntoIterator<Item = &'a BTreeSet<String>>,
    predicate: &DecisionPredicate,
) -> usize {
    // The panel's distinct members, by name as the decision writes it, case-insensitively.
    let mut members: Vec<&str> = Vec::new();
    for name in &predicate.owners.panel {
        if !members.iter().any(|member| person_name(member).eq_ignore_ascii_case(person_name(name))) {
            members.push(name);
        }
    }
    // For each key, the members it may stand for.
    let edges: Vec<Vec<usize>> = keys
        .into_iter()
        .map(|principals| {
            (0..members.len())
                .filter(|&m| {
                    members.get(m).is_some_and(|name| principals.iter().any(|p| principal_matches(p, name)))
                })
                .collect()
        })
        .collect();
    maximum_matching(&edges, members.len())
}

/// The size of a maximum matching in a bipartite graph (`edges[left]` lists the right vertices of each left
/// vertex), by breadth-first augmenting paths: no recursion over input.
fn maximum_matching(edges: &[Vec<usize>], right_len: usize) -> usize {
    let mut right_match: Vec<Option<usize>> = vec![None; right_len];
    let mut left_match: Vec<Option<usize>> = vec![None; edges.len()];
    let mut size = 0;
    for start in 0..edges.len() {
        let mut reached_from: Vec<Option<usize>> = vec![None; right_len];
        let mut queue = std::collections::VecDeque::from([start]);
        let mut free = None;
        'search: while let Some(left) = queue.pop_front() {
            for &right in edges.get(left).map_or(&[][..], Vec::as_slice) {
                let Some(slot) = reached_from.get_mut(right) else { continue };
                if slot.is_some() {
                    continue;
                }
                *slot = Some(left);
                match right_match.get(right).copied().flatten() {
                    None => {
                        free = Some(right);
                        break 'search;
                    }
                    Some(next) => queue.push_back(next),
                }
            }
        }
        // Flip the path: each right vertex on it takes the left vertex that reached it.
        let mut right = free;
        while let Some(r) = right {
            let Some(left) = reached_from.get(r).copied().flatten() else { break };
            let previous = left_match.get(left).copied().flatten();
            if let (Some(rm), Some(lm)) = (right_match.get_mut(r), left_match.get_mut(left)) {
                *rm = Some(left);
                *lm = Some(r);
            }
            right = previous;
        }
        if free.is_some() {
            size += 1;
        }
    }
    size
}

/// How many distinct panel signatures the policy asks of this decision's risk class.
pub fn required_panel_signatures(predicate: &DecisionPredicate, policy: &Policy) -> u32 {
    predicate
        .risk_class
        .as_deref()
        .and_then(RiskClass::from_name)
        .map_or(0, |class| policy.class(class).signatures)
}

/// Parses and checks the statement's type, predicate type and shape.
pub fn read_statement(payload: &[u8]) -> Result<Statement<DecisionPredicate>, (FailureCode, String)> {
    let generic: Statement<serde_json::Value> = serde_json::from_slice(payload).map_err(|e| {
        (FailureCode::StatementInvalid, format!("the payload is not an in-toto statement: {e}"))
    })?;
    if generic.statement_type != STATEMENT_TYPE {
        return Err((
            FailureCode::StatementInvalid,
            format!("`_type` is `{}`, expected `{STATEMENT_TYPE}`", generic.statement_type),
        ));
    }
    if generic.predicate_type != PREDICATE_TYPE {
        return Err((
            FailureCode::PredicateType,
            format!("predicateType is `{}`, expected `{PREDICATE_TYPE}`", generic.predicate_type),
        ));
    }
    serde_json::from_slice(payload)
        .map_err(|e| (FailureCode::StatementInvalid, format!("the predicate is not a release decision: {e}")))
}

/// Verifies a signed decision. Gathers every failure.
pub fn verify(files: SignedBytes<'_>, context: Context<'_>) -> Verification {
    let mut out = Verification {
        id: files.id.to_owned(),
        commit: None,
        decided_at: None,
        risk_class: None,
        signers: Vec::new(),
        notes: Vec::new(),
        failures: Vec::new(),
    };
    let envelope = match Envelope::from_json(files.envelope) {
        Ok(envelope) => envelope,
        Err(error) => {
            out.fail(FailureCode::EnvelopeInvalid, format!("{error}; re-sign the decision"));
            check_log(&mut out, files, context, None);
            return out;
        }
    };
    if envelope.payload_type != PAYLOAD_TYPE {
        out.fail(
            FailureCode::EnvelopeInvalid,
            format!("payloadType is `{}`, expected `{PAYLOAD_TYPE}`", envelope.payload_type),
        );
    }
    let Ok(payload) = envelope.payload_bytes() else {
        out.fail(FailureCode::EnvelopeInvalid, "the payload is not base64; re-sign the decision");
        check_log(&mut out, files, context, None);
        return out;
    };
    match files.statement {
        None => out.fail(
            FailureCode::StatementMismatch,
            format!("{}.statement.json is missing; restore it from version control", files.id),
        ),
        Some(bytes) if bytes != payload.as_slice() => out.fail(
            FailureCode::StatementMismatch,
            format!("{}.statement.json differs from the envelope's signed payload", files.id),
        ),
        Some(_) => {}
    }

    let statement = match read_statement(&payload) {
        Ok(statement) => Some(statement),
        Err((code, message)) => {
            out.fail(code, message);
            None
        }
    };
    let predicate = statement.as_ref().map(|s| &s.predicate);
    let decided_at = predicate.and_then(|p| crate::value::parse_timestamp(&p.decided_at));
    if let Some(statement) = &statement {
        check_statement(&mut out, files, context, statement);
        if decided_at.is_none() {
            out.fail(FailureCode::StatementInvalid, "decidedAt is not an RFC 3339 timestamp");
        }
    }
    if let (Some(predicate), Some(at)) = (predicate, decided_at) {
        check_expiry(&mut out, context, predicate, at);
    }

    // Signatures: each tried against every trusted key, never chosen by keyid.
    let pae_bytes = pae(&envelope.payload_type, &payload);
    let keys = context.allowed_signers.keys();
    if envelope.signatures.is_empty() {
        out.fail(FailureCode::SignaturesMissing, "the envelope has no signatures; sign the decision");
    }
    let mut seen_keys = BTreeSet::new();
    // The principals of each distinct trusted key that signed, for the panel count.
    let mut signing_keys: Vec<BTreeSet<String>> = Vec::new();
    for (index, signature) in envelope.signatures.iter().enumerate() {
        let label = format!("signature {} (keyid {})", index + 1, short(&signature.keyid));
        let Some(sig) = super::decode_base64(&signature.sig) else {
            out.fail(FailureCode::SignatureInvalid, format!("{label} is not base64"));
            continue;
        };
        let Some(key) = keys.iter().find(|key| key.verify_raw(&pae_bytes, &sig)) else {
            out.fail(
                FailureCode::SignatureInvalid,
                format!(
                    "{label} does not verify with any key in allowed_signers: unknown signer or altered bytes"
                ),
            );
            continue;
        };
        if !seen_keys.insert(*key) {
            out.fail(
                FailureCode::SignatureInvalid,
                format!("{label} repeats the signature of {}", key.fingerprint()),
            );
            continue;
        }
        let (Some(predicate), Some(at)) = (predicate, decided_at) else { continue };
        let principals = match context.allowed_signers.principals(key, NAMESPACE, at) {
            Ok(principals) => principals,
            Err(why) => {
                out.fail(
                    FailureCode::SignerUntrusted,
                    format!(
                        "{label} by {}: {why} (namespace `{NAMESPACE}`, at decidedAt {at})",
                        key.fingerprint()
                    ),
                );
                continue;
            }
        };
        let roles = roles_of(&principals, predicate);
        if roles.is_empty() {
            out.fail(
                FailureCode::SignerNotAuthorized,
                format!(
                    "{label} by {} ({}) matches neither the final decision owner nor a panel member",
                    key.fingerprint(),
                    principals.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
        }
        signing_keys.push(principals.clone());
        out.signers.push(VerifiedSigner {
            index,
            key: key.fingerprint(),
            roles: role_labels(&principals, predicate),
            principals: principals.into_iter().collect(),
        });
    }
    if let Some(predicate) = predicate {
        let required = required_panel_signatures(predicate, context.policy);
        let have = u32::try_from(count_panel_signers(&signing_keys, predicate)).unwrap_or(u32::MAX);
        if have < required {
            out.fail(
                FailureCode::SignaturesMissing,
                format!(
                    "the policy asks {required} distinct panel signatures for a {} risk GO; {have} verified \
                     (each key counts for one panel member, each member once): more panel members must sign",
                    predicate.risk_class.as_deref().unwrap_or("?")
                ),
            );
        }
    }

    check_sshsigs(&mut out, files, context, &payload, decided_at);
    check_log(&mut out, files, context, Some(&payload));
    out
}

/// A GO stands for `go_valid_for` of its class (the same rule `validate` applies): after that it must be
/// confirmed again, and signed again, before a deploy.
fn check_expiry(
    out: &mut Verification,
    context: Context<'_>,
    predicate: &DecisionPredicate,
    at: jiff::Timestamp,
) {
    let Some(now) = context.now else {
        out.notes.push("the GO's age was not checked: no deploy time given".into());
        return;
    };
    let Some(class) = predicate.risk_class.as_deref().and_then(RiskClass::from_name) else { return };
    let valid_for = context.policy.class(class).go_valid_for;
    if now.duration_since(at) > valid_for {
        out.fail(
            FailureCode::DecisionExpired,
            format!(
                "the GO was made at {at}, longer ago than the {valid_for:#} a {class}-risk GO stands: the final decision \
                 owner confirms it again (`release-gate decide ID --go`) and it is signed again"
            ),
        );
    }
}

fn short(keyid: &str) -> &str {
    keyid.get(..12).unwrap_or(keyid)
}

fn check_statement(
    out: &mut Verification,
    files: SignedBytes<'_>,
    context: Context<'_>,
    statement: &Statement<DecisionPredicate>,
) {
    let predicate = &statement.predicate;
    out.decided_at = Some(predicate.decided_at.clone());
    out.risk_class = predicate.risk_class.clone();
    let [subject] = statement.subject.as_slice() else {
        out.fail(FailureCode::StatementInvalid, "a decision statement has exactly one subject");
        return;
    };
    out.commit = Some(subject.digest.git_commit.clone());
    if subject.name != files.id || predicate.decision_id != files.id {
        out.fail(
            FailureCode::SubjectMismatch,
            format!(
                "the statement is about decision `{}`, not `{}`: an envelope was copied from another decision",
                subject.name, files.id
            ),
        );
    }
    match context.commit {
        Some(commit) if subject.digest.git_commit != commit.as_str() => out.fail(
            FailureCode::CommitMismatch,
            format!(
                "the decision was signed for commit {}, not {commit}: sign the decision for the commit being released",
                subject.digest.git_commit
            ),
        ),
        Some(_) => {}
        None => out.notes.push("the subject commit was not compared with a release commit: pass --commit".into()),
    }
    if predicate.decision.as_deref() != Some("GO") {
        out.fail(
            FailureCode::NotGo,
            format!("the signed decision is {}, not GO", predicate.decision.as_deref().unwrap_or("missing")),
        );
    }
    let policy_digest = sha256_hex(context.policy_text);
    if predicate.policy.sha256 != policy_digest {
        out.fail(
            FailureCode::PolicyChanged,
            format!(
                "the decision was signed under policy sha256 {} but the policy in force has sha256 {policy_digest}: \
                 re-sign under the current policy or verify with --policy",
                predicate.policy.sha256
            ),
        );
    }
}

fn check_sshsigs(
    out: &mut Verification,
    files: SignedBytes<'_>,
    context: Context<'_>,
    payload: &[u8],
    decided_at: Option<jiff::Timestamp>,
) {
    for (name, bytes) in files.sshsigs {
        let signature = match SshSignature::parse(bytes) {
            Ok(signature) => signature,
            Err(error) => {
                out.fail(FailureCode::SshsigInvalid, format!("{name}: not an SSH signature ({error})"));
                continue;
            }
        };
        let key: PublicKey = signature.key();
        if let Err(error) = signature.verify(NAMESPACE, payload, &mut Verifiers::default()) {
            out.fail(
                FailureCode::SshsigInvalid,
                format!("{name}: does not verify for the statement: {error}"),
            );
            continue;
        }
        if let Some(at) = decided_at
            && let Err(why) = context.allowed_signers.principals(&key, NAMESPACE, at)
        {
            out.fail(FailureCode::SshsigInvalid, format!("{name} by {}: {why}", key.fingerprint()));
        }
    }
}

fn check_log(out: &mut Verification, files: SignedBytes<'_>, context: Context<'_>, payload: Option<&[u8]>) {
    let chain = context.ledger;
    if let Some(broken) = &chain.broken {
        out.fail(
            FailureCode::LogBroken,
            format!("the decision log is broken at {broken}; run `release-gate log verify`"),
        );
    }
    if chain.torn.is_some() {
        out.fail(
            FailureCode::LogBroken,
            "the decision log ends in a torn line; run `release-gate log repair`",
        );
    }
    if let Err(reason) = context.checkpoint {
        out.fail(FailureCode::LogBroken, format!("the log checkpoint does not verify: {reason}"));
    }
    let latest: Option<(u64, &SignEvent)> = chain.entries.iter().rev().find_map(|entry| match &entry.event {
        LogEvent::Sign(sign) if sign.decision == files.id => Some((entry.seq, sign)),
        _ => None,
    });
    let envelope_digest = sha256_hex(files.envelope);
    let Some((seq, entry)) = latest else {
        out.fail(
            FailureCode::LogEntryMissing,
            format!(
                "the decision log has no entry for decision `{}`: sign it with `release-gate sign` (or fetch the \
                 log: `release-gate log fetch`)",
                files.id
            ),
        );
        return;
    };
    match context.published {
        Some(published) if seq <= published => {}
        Some(published) => {
            let message = format!(
                "the decision's log entry {seq} is only in this clone: the remote's log (as last fetched) has \
                 {published} entries; publish it with `release-gate log push` (and `release-gate log fetch` first \
                 to see the remote's latest)"
            );
            if context.require_published {
                out.fail(FailureCode::LogEntryUnpublished, message);
            } else {
                out.notes.push(message);
            }
        }
        None if context.require_published => out.fail(
            FailureCode::LogEntryUnpublished,
            "there is no remote log to compare with: this clone has no remote `origin` (or the one named), or \
             its log was never fetched (`release-gate log fetch`)",
        ),
        None => {}
    }
    if entry.envelope != envelope_digest {
        out.fail(
            FailureCode::LogEntryMissing,
            format!(
                "the latest log entry for `{}` records envelope sha256 {}, but this envelope has sha256 \
                 {envelope_digest}: the envelope was altered or is not the one the log recorded",
                files.id, entry.envelope
            ),
        );
    }
    if let Some(payload) = payload
        && entry.statement != sha256_hex(payload)
    {
        out.fail(FailureCode::LogEntryMismatch, "the log entry records another statement digest");
    }
    if let Some(commit) = &out.commit
        && entry.commit != *commit
    {
        out.fail(
            FailureCode::LogEntryMismatch,
            format!("the log entry records commit {}, not {commit}", entry.commit),
        );
    }
    for (name, bytes) in files.sshsigs {
        let digest = sha256_hex(bytes);
        if !entry.signers.iter().any(|s| s.sshsig == *name && s.sshsig_sha256 == digest) {
            out.fail(
                FailureCode::LogEntryMismatch,
                format!("{name} is not the SSH signature the log recorded (sha256 {digest})"),
            );
        }
    }
    for signer in &entry.signers {
        if !files.sshsigs.iter().any(|(name, _)| *name == signer.sshsig) {
            out.fail(
                FailureCode::LogEntryMismatch,
                format!("{} is missing; the log records it", signer.sshsig),
            );
        }
    }
}
