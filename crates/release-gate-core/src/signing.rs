//! Signed decisions: the in-toto Statement over a decision, DSSE envelopes, SSH signatures and trust.
//!
//! Everything here is pure: key material, texts and times come in as values. The formats are frozen and
//! versioned (see README "Signed decisions"): a statement's bytes are a deterministic function of the
//! decision, the commit, the decision id and the policy text, so a fixed key gives byte-identical
//! envelopes and signatures on every run (Ed25519 needs no randomness).

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::decision::{Decision, Layer};
use crate::value;

/// The in-toto Statement type this release-gate writes.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate type of a signed release decision; the trailing `v1` is the predicate's major version.
pub const PREDICATE_TYPE: &str = "https://release-gate.dev/decision/v1";
/// DSSE payload type of an in-toto Statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// SSHSIG namespace of statement signatures.
pub const NAMESPACE: &str = "release-gate";
/// SSHSIG namespace of ledger checkpoint signatures.
pub const CHECKPOINT_NAMESPACE: &str = "release-gate-checkpoint";

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Why signing or reading a signed artifact failed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("`{0}` is not a git commit id: expected 40 or 64 hexadecimal characters")]
    Commit(String),
    #[error(transparent)]
    Id(#[from] crate::value::InvalidId),
    #[error("the decision has no valid `Decision timestamp`; a signed decision needs `decidedAt`")]
    NoTimestamp,
    #[error("the private key is not an OpenSSH private key: {0}")]
    KeyFormat(String),
    #[error("the private key is protected by a passphrase and none was given")]
    PassphraseNeeded,
    #[error("the passphrase does not decrypt the private key")]
    Passphrase,
    #[error("the key is {0}; release-gate signs with Ed25519 keys only")]
    KeyType(String),
    #[error("the envelope is not a DSSE envelope: {0}")]
    Envelope(String),
    #[error("the existing envelope signs different statement bytes; refusing to add a signature to it")]
    EnvelopeMismatch,
    #[error("cannot make an SSH signature: {0}")]
    SshSig(String),
}

/// A git commit id: 40 (SHA-1) or 64 (SHA-256) lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GitCommit(String);

impl GitCommit {
    pub fn parse(text: &str) -> Result<GitCommit, SigningError> {
        let text = text.trim();
        if (text.len() == 40 || text.len() == 64) && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(GitCommit(text.to_ascii_lowercase()))
        } else {
            Err(SigningError::Commit(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GitCommit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a decision id: it names files under `.release/attestations/`, so it must be a safe file name.
pub fn check_id(id: &str) -> Result<(), SigningError> {
    crate::value::DecisionId::parse(id)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The statement
// ---------------------------------------------------------------------------------------------

/// An in-toto Statement v1 as read back (unknown fields ignored, as the spec asks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement<P> {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: P,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    pub digest: SubjectDigest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectDigest {
    #[serde(rename = "gitCommit")]
    pub git_commit: String,
}

/// A SHA-256 digest, as in-toto's DigestSet: `{"sha256": "<hex>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sha256Digest {
    pub sha256: String,
}

impl Sha256Digest {
    pub fn of(bytes: &[u8]) -> Sha256Digest {
        Sha256Digest { sha256: sha256_hex(bytes) }
    }
}

/// The predicate of `https://release-gate.dev/decision/v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionPredicate {
    /// The decision id; equal to the subject's name.
    pub decision_id: String,
    pub scope: Option<String>,
    /// The declared risk class's keyword (`low`, `medium`, `high`), or the text as written when invalid.
    pub risk_class: Option<String>,
    /// One entry per gate layer with a recorded result, in the protocol's order.
    pub gates: Vec<GateEntry>,
    pub owners: Owners,
    /// `GO` or `NO-GO` (the keyword), or the text as written when invalid.
    pub decision: Option<String>,
    /// The decision timestamp, normalized to RFC 3339 UTC.
    pub decided_at: String,
    /// SHA-256 of the policy file's bytes (or of the built-in default policy text).
    pub policy: Sha256Digest,
    /// SHA-256 of the decision's canonical JSON record (`release-gate render --to json`).
    pub record: Sha256Digest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateEntry {
    pub layer: String,
    /// The recorded result as written, e.g. `pass (CI #4411)`.
    pub result: String,
    /// The evidence digest: for a decision kept in a repository, SHA-256 of the JSON of the gate's latest
    /// `gate-recorded` event (who, when, which commit and diff, the checks run with their output digests);
    /// otherwise SHA-256 of the recorded result text (UTF-8).
    pub evidence: Sha256Digest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owners {
    pub decision: Option<String>,
    pub rollback: Option<String>,
    pub panel: Vec<String>,
}

/// What a statement is made from.
#[derive(Debug, Clone, Copy)]
pub struct StatementInput<'a> {
    pub id: &'a str,
    pub decision: &'a Decision,
    pub commit: &'a GitCommit,
    /// The bytes of the policy file in force (or [`crate::policy::DEFAULT_POLICY_TOML`]).
    pub policy_text: &'a [u8],
}

fn keyword(raw: Option<&str>) -> Option<String> {
    value::meaningful(raw).map(|text| {
        let word = value::first_word(text);
        if word.is_empty() { text.to_owned() } else { word.to_owned() }
    })
}

/// SHA-256 of the JSON of the gate's latest `gate-recorded` event, for decisions with a history.
fn gate_evidence_digest(decision: &Decision, layer: Layer) -> Option<Sha256Digest> {
    decision.history.iter().rev().find_map(|event| match &event.change {
        crate::history::Change::GateRecorded { layer: recorded, .. } if *recorded == layer => {
            serde_json::to_vec(event).ok().map(|bytes| Sha256Digest::of(&bytes))
        }
        _ => None,
    })
}

/// Builds the predicate of a decision.
pub fn predicate(input: StatementInput<'_>) -> Result<DecisionPredicate, SigningError> {
    check_id(input.id)?;
    let decision = input.decision;
    let decided_at = value::meaningful(decision.decided_at.as_deref())
        .and_then(|text| value::parse_timestamp(value::first_word(text)))
        .ok_or(SigningError::NoTimestamp)?;
    let gates = Layer::ALL
        .into_iter()
        .filter_map(|layer| {
            decision.gates.get(layer).map(|result| GateEntry {
                layer: layer.as_str().to_owned(),
                result: result.to_owned(),
                evidence: gate_evidence_digest(decision, layer)
                    .unwrap_or_else(|| Sha256Digest::of(result.as_bytes())),
            })
        })
        .collect();
    let risk_class = keyword(decision.risk_class.as_deref()).map(|word| word.to_ascii_lowercase());
    let call = keyword(decision.decision.as_deref()).map(|word| word.to_ascii_uppercase());
    Ok(DecisionPredicate {
        decision_id: input.id.to_owned(),
        scope: decision.scope.clone(),
        risk_class,
        gates,
        owners: Owners {
            decision: decision.decision_owner.clone(),
            rollback: decision.rollback_owner.clone(),
            panel: decision.panel.clone(),
        },
        decision: call,
        decided_at: decided_at.to_string(),
        policy: Sha256Digest::of(input.policy_text),
        record: Sha256Digest::of(decision.to_json().as_bytes()),
    })
}

/// The statement's exact bytes: pretty JSON in a fixed key order, with a trailing newline.
pub fn statement_bytes(input: StatementInput<'_>) -> Result<Vec<u8>, SigningError> {
    let statement = Statement {
        statement_type: STATEMENT_TYPE.to_owned(),
        subject: vec![Subject {
            name: input.id.to_owned(),
            digest: SubjectDigest { git_commit: input.commit.as_str().to_owned() },
        }],
        predicate_type: PREDICATE_TYPE.to_owned(),
        predicate: predicate(input)?,
    };
    let mut bytes =
        serde_json::to_vec_pretty(&statement).map_err(|e| SigningError::Envelope(e.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// A name as the matching rule reads it: trimmed, without a trailing parenthetical comment.
pub fn person_name(text: &str) -> &str {
    let text = text.trim();
    match text.find(" (") {
        Some(at) if text.ends_with(')') => text.get(..at).unwrap_or(text).trim(),
        _ => text,
    }
}

/// Whether `principal` names `person` (case-insensitive, comments in parentheses ignored).
pub fn principal_matches(principal: &str, person: &str) -> bool {
    let name = person_name(person);
    !name.is_empty() && principal.trim().eq_ignore_ascii_case(name)
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

/// An Ed25519 signing key. Its secret never appears in Debug, Display or errors.
pub struct SigningKey {
    key: ssh_key::PrivateKey,
    dalek: ed25519_dalek::SigningKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("public", &self.public().fingerprint()).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads an OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`), decrypting it if needed.
    pub fn from_openssh(text: &[u8], passphrase: Option<&[u8]>) -> Result<SigningKey, SigningError> {
        let key = ssh_key::PrivateKey::from_openssh(text)
            .map_err(|error| SigningError::KeyFormat(error.to_string()))?;
        let key = if key.is_encrypted() {
            let passphrase = passphrase.ok_or(SigningError::PassphraseNeeded)?;
            key.decrypt(passphrase).map_err(|_| SigningError::Passphrase)?
        } else {
            key
        };
        SigningKey::from_private(key)
    }

    /// A key from its 32-byte Ed25519 seed (key generation passes fresh random bytes in).
    pub fn from_seed(seed: &[u8; 32], comment: &str) -> Result<SigningKey, SigningError> {
        let keypair = ssh_key::private::Ed25519Keypair::from_seed(seed);
        let key = ssh_key::PrivateKey::new(ssh_key::private::KeypairData::Ed25519(keypair), comment)
            .map_err(|error| SigningError::KeyFormat(error.to_string()))?;
        SigningKey::from_private(key)
    }

    fn from_private(key: ssh_key::PrivateKey) -> Result<SigningKey, SigningError> {
        let ssh_key::private::KeypairData::Ed25519(pair) = key.key_data() else {
            return Err(SigningError::KeyType(key.algorithm().to_string()));
        };
        let dalek = ed25519_dalek::SigningKey::from_bytes(&pair.private.to_bytes());
        Ok(SigningKey { key, dalek })
    }

    pub fn public(&self) -> PublicKey {
        PublicKey { raw: self.dalek.verifying_key().to_bytes() }
    }

    /// The private key in OpenSSH format, for `keygen` to write (to a 0600 file only).
    pub fn to_openssh(&self) -> Result<zeroize::Zeroizing<String>, SigningError> {
        self.key
            .to_openssh(ssh_key::LineEnding::LF)
            .map_err(|error| SigningError::KeyFormat(error.to_string()))
    }

    /// The underlying OpenSSH key, e.g. to encrypt it with a passphrase.
    pub fn openssh_key(&self) -> &ssh_key::PrivateKey {
        &self.key
    }

    /// An armored SSH signature (SSHSIG, SHA-512) over `message`, as `ssh-keygen -Y sign -n NAMESPACE` makes.
    pub fn sshsig(&self, namespace: &str, message: &[u8]) -> Result<String, SigningError> {
        let signature = self
            .key
            .sign(namespace, ssh_key::HashAlg::Sha512, message)
            .map_err(|error| SigningError::SshSig(error.to_string()))?;
        signature.to_pem(ssh_key::LineEnding::LF).map_err(|error| SigningError::SshSig(error.to_string()))
    }

    /// A raw Ed25519 signature over `message`.
    pub fn sign_raw(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer as _;
        self.dalek.sign(message).to_bytes()
    }
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey {
    raw: [u8; 32],
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fingerprint())
    }
}

impl PublicKey {
    pub fn from_raw(raw: [u8; 32]) -> PublicKey {
        PublicKey { raw }
    }

    pub fn raw(&self) -> &[u8; 32] {
        &self.raw
    }

    fn ssh(&self) -> ssh_key::PublicKey {
        ssh_key::PublicKey::new(
            ssh_key::public::KeyData::Ed25519(ssh_key::public::Ed25519PublicKey(self.raw)),
            "",
        )
    }

    /// `ssh-ed25519 AAAA...` (no comment).
    pub fn to_openssh(&self) -> String {
        self.ssh().to_openssh().unwrap_or_default()
    }

    /// `SHA256:...`, as ssh-keygen prints it.
    pub fn fingerprint(&self) -> String {
        self.ssh().fingerprint(ssh_key::HashAlg::Sha256).to_string()
    }

    /// securesystemslib's default keyid for this key: hex SHA-256 of its canonical JSON key dict.
    pub fn keyid(&self) -> String {
        let canonical = format!(
            "{{\"keytype\":\"ed25519\",\"keyval\":{{\"public\":\"{}\"}},\"scheme\":\"ed25519\"}}",
            hex(&self.raw)
        );
        sha256_hex(canonical.as_bytes())
    }

    /// Verifies a raw Ed25519 signature (strict: no malleable encodings).
    pub fn verify_raw(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&self.raw) else { return false };
        let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else { return false };
        key.verify_strict(message, &signature).is_ok()
    }

    /// Verifies an armored SSH signature over `message` under `namespace`, made by this key.
    pub fn verify_sshsig(&self, namespace: &str, message: &[u8], armored: &[u8]) -> Result<(), SshSigError> {
        let signature = SshSignature::parse(armored)?;
        if signature.key != *self {
            return Err(SshSigError::OtherKey);
        }
        signature.verify(namespace, message, &mut Verifiers::default())
    }
}

/// Why an SSH signature does not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshSigError {
    /// Not an armored SSHSIG (the armor, base64 or blob does not read).
    #[error("{0}")]
    Unreadable(String),
    #[error("a {0} key; release-gate trusts Ed25519 keys only")]
    NotEd25519(String),
    #[error("a {0} signature by an Ed25519 key")]
    Algorithm(String),
    #[error("namespace is `{found}`, expected `{expected}`")]
    Namespace { found: String, expected: String },
    #[error("made by another key")]
    OtherKey,
    #[error("the key is not a valid Ed25519 point")]
    BadKey,
    /// The bytes do not verify: another message, or altered.
    #[error("signature verification failed")]
    Invalid,
}

/// An armored SSH signature (SSHSIG) by an Ed25519 key, parsed once: who it claims to be by and in which
/// namespace (unverified until [`SshSignature::verify`]).
#[derive(Debug, Clone)]
pub struct SshSignature {
    key: PublicKey,
    inner: ssh_key::SshSig,
}

impl SshSignature {
    pub fn parse(armored: &[u8]) -> Result<SshSignature, SshSigError> {
        let inner =
            ssh_key::SshSig::from_pem(armored).map_err(|error| SshSigError::Unreadable(error.to_string()))?;
        match inner.public_key() {
            ssh_key::public::KeyData::Ed25519(key) => {
                Ok(SshSignature { key: PublicKey::from_raw(key.0), inner })
            }
            other => Err(SshSigError::NotEd25519(other.algorithm().to_string())),
        }
    }

    /// The key it claims to be made by.
    pub fn key(&self) -> PublicKey {
        self.key
    }

    pub fn namespace(&self) -> &str {
        self.inner.namespace()
    }

    /// Checks it over `message` under `namespace` with the key it names, as `ssh-keygen -Y verify` does
    /// (the same Ed25519 check ssh-key makes); `keys` keeps keys already decoded.
    pub fn verify(&self, namespace: &str, message: &[u8], keys: &mut Verifiers) -> Result<(), SshSigError> {
        use ed25519_dalek::Verifier as _;
        if self.inner.namespace() != namespace {
            return Err(SshSigError::Namespace {
                found: self.inner.namespace().to_owned(),
                expected: namespace.to_owned(),
            });
        }
        if self.inner.signature().algorithm() != ssh_key::Algorithm::Ed25519 {
            return Err(SshSigError::Algorithm(self.inner.signature().algorithm().to_string()));
        }
        let signed = ssh_key::SshSig::signed_data(namespace, self.inner.hash_alg(), message)
            .map_err(|error| SshSigError::Unreadable(error.to_string()))?;
        let signature = ed25519_dalek::Signature::from_slice(self.inner.signature_bytes())
            .map_err(|_| SshSigError::Algorithm("malformed Ed25519".into()))?;
        let key = keys.get(&self.key).ok_or(SshSigError::BadKey)?;
        key.verify(&signed, &signature).map_err(|_| SshSigError::Invalid)
    }
}

/// Ed25519 keys already decoded from their bytes (decoding is a square root, a tenth of a check), for
/// checking many signatures by the same few keys.
#[derive(Debug, Default)]
pub struct Verifiers(Vec<(PublicKey, Option<ed25519_dalek::VerifyingKey>)>);

impl Verifiers {
    /// How many keys are kept; a log is signed by a handful.
    const KEEP: usize = 16;

    fn get(&mut self, key: &PublicKey) -> Option<&ed25519_dalek::VerifyingKey> {
        let index = match self.0.iter().position(|(known, _)| known == key) {
            Some(index) => index,
            None => {
                if self.0.len() == Self::KEEP {
                    self.0.remove(0);
                }
                self.0.push((*key, ed25519_dalek::VerifyingKey::from_bytes(&key.raw).ok()));
                self.0.len() - 1
            }
        };
        self.0.get(index).and_then(|(_, verifier)| verifier.as_ref())
    }
}

// ---------------------------------------------------------------------------------------------
// DSSE
// ---------------------------------------------------------------------------------------------

/// DSSE's Pre-Authentication Encoding: `DSSEv1 SP len(type) SP type SP len(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// An unauthenticated hint (securesystemslib's keyid); never used for trust.
    #[serde(default)]
    pub keyid: String,
    pub sig: String,
}

/// Decodes base64 in any of the forms DSSE verifiers must accept: standard or URL-safe, padded or not.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD].iter().find_map(|engine| engine.decode(text).ok())
}

fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl Envelope {
    /// A new envelope over `payload`, signed by `key`.
    pub fn sign(payload: &[u8], key: &SigningKey) -> Envelope {
        let mut envelope = Envelope {
            payload_type: PAYLOAD_TYPE.to_owned(),
            payload: encode_base64(payload),
            signatures: vec![],
        };
        envelope.add_signature(payload, key);
        envelope
    }

    /// Adds `key`'s signature over `payload` unless the envelope already has it. Returns whether it added one.
    pub fn add_signature(&mut self, payload: &[u8], key: &SigningKey) -> bool {
        let sig = encode_base64(&key.sign_raw(&pae(PAYLOAD_TYPE, payload)));
        if self.signatures.iter().any(|existing| existing.sig == sig) {
            return false;
        }
        self.signatures.push(EnvelopeSignature { keyid: key.public().keyid(), sig });
        true
    }

    /// Reads an envelope (bounded by the caller) from JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Envelope, SigningError> {
        if bytes.len() > crate::MAX_INPUT_BYTES {
            return Err(SigningError::Envelope("larger than 10 MiB".into()));
        }
        serde_json::from_slice(bytes).map_err(|error| SigningError::Envelope(error.to_string()))
    }

    /// The envelope's exact file bytes: pretty JSON, fixed key order, trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The payload's bytes.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, SigningError> {
        decode_base64(&self.payload).ok_or_else(|| SigningError::Envelope("the payload is not base64".into()))
    }

    /// Adds `key`'s signature to an existing envelope only if it signs exactly `payload`.
    pub fn cosign(&mut self, payload: &[u8], key: &SigningKey) -> Result<bool, SigningError> {
        if self.payload_type != PAYLOAD_TYPE || self.payload_bytes()? != payload {
            return Err(SigningError::EnvelopeMismatch);
        }
        Ok(self.add_signature(payload, key))
    }
}

// ---------------------------------------------------------------------------------------------
// allowed_signers
// ---------------------------------------------------------------------------------------------

/// One usable line of an `allowed_signers` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedSigner {
    pub line: usize,
    pub principals: Vec<String>,
    /// `None`: every namespace.
    pub namespaces: Option<Vec<String>>,
    pub valid_after: Option<jiff::Timestamp>,
    pub valid_before: Option<jiff::Timestamp>,
    pub key: PublicKey,
}

/// A line that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredLine {
    pub line: usize,
    pub reason: String,
}

/// A parsed `allowed_signers` file (ssh-keygen(1) "ALLOWED SIGNERS").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedSigners {
    pub signers: Vec<AllowedSigner>,
    pub ignored: Vec<IgnoredLine>,
}

/// Why a key is not trusted for a namespace at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Untrusted {
    /// No line has this key.
    UnknownKey,
    /// Lines have the key, but none allows the namespace.
    Namespace,
    /// Lines have the key for the namespace, but not at that time.
    Expired,
    NotYetValid,
}

impl fmt::Display for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Untrusted::UnknownKey => "the key is not in allowed_signers",
            Untrusted::Namespace => "allowed_signers does not allow this key for the namespace",
            Untrusted::Expired => "the key's valid-before in allowed_signers is before the time checked",
            Untrusted::NotYetValid => "the key's valid-after in allowed_signers is after the time checked",
        })
    }
}

/// Splits off the next field: white-space separated, `"..."` quoted (quotes removed).
fn next_field(text: &str) -> Option<(String, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return None;
    }
    if let Some(rest) = text.strip_prefix('"') {
        let end = rest.find('"')?;
        let field = rest.get(..end)?.to_owned();
        return Some((field, rest.get(end + 1..).unwrap_or("")));
    }
    // An unquoted field may hold quoted parts (`namespaces="a,b"`), which may contain no spaces here.
    let mut in_quotes = false;
    let mut end = text.len();
    for (at, ch) in text.char_indices() {
        if ch == '"' {
            in_quotes = !in_quotes;
        } else if ch.is_whitespace() && !in_quotes {
            end = at;
            break;
        }
    }
    Some((text.get(..end)?.to_owned(), text.get(end..).unwrap_or("")))
}

/// Splits an option list on commas outside quotes.
fn split_options(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    for ch in text.chars() {
        match ch {
            '"' => {
                in_quotes = !in_quotes;
                current.push(ch);
            }
            ',' if !in_quotes => out.push(std::mem::take(&mut current)),
            _ => current.push(ch),
        }
    }
    out.push(current);
    out
}

fn unquote(text: &str) -> &str {
    text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text)
}

/// `YYYYMMDD[HHMM[SS]][Z]`, read as UTC (write `Z` to say so; ssh-keygen reads times without `Z` as local).
fn parse_ssh_time(text: &str) -> Option<jiff::Timestamp> {
    let digits = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')).unwrap_or(text);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let field = |range: std::ops::Range<usize>| digits.get(range).and_then(|s| s.parse::<i16>().ok());
    let (year, month, day) = (field(0..4)?, field(4..6)?, field(6..8)?);
    let (hour, minute, second) = match digits.len() {
        8 => (0, 0, 0),
        12 => (field(8..10)?, field(10..12)?, 0),
        14 => (field(8..10)?, field(10..12)?, field(12..14)?),
        _ => return None,
    };
    let text = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z");
    text.parse::<jiff::Timestamp>().ok()
}

fn is_key_type(field: &str) -> bool {
    field.starts_with("ssh-") || field.starts_with("ecdsa-") || field.starts_with("sk-")
}

impl AllowedSigners {
    /// Parses the file. Lines that cannot be used are kept in `ignored` with a reason, never silently dropped.
    pub fn parse(text: &str) -> AllowedSigners {
        let mut result = AllowedSigners::default();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            match parse_line(trimmed, line) {
                Ok(signer) => result.signers.push(signer),
                Err(reason) => result.ignored.push(IgnoredLine { line, reason }),
            }
        }
        result
    }

    /// The principals trusted for `key` under `namespace` at `at`, or why none are.
    pub fn principals(
        &self,
        key: &PublicKey,
        namespace: &str,
        at: jiff::Timestamp,
    ) -> Result<BTreeSet<String>, Untrusted> {
        let with_key: Vec<&AllowedSigner> = self.signers.iter().filter(|s| s.key == *key).collect();
        if with_key.is_empty() {
            return Err(Untrusted::UnknownKey);
        }
        let in_namespace: Vec<&AllowedSigner> = with_key
            .into_iter()
            .filter(|s| s.namespaces.as_ref().is_none_or(|list| list.iter().any(|n| n == namespace)))
            .collect();
        if in_namespace.is_empty() {
            return Err(Untrusted::Namespace);
        }
        let mut principals = BTreeSet::new();
        let mut expired = false;
        for signer in in_namespace {
            if signer.valid_before.is_some_and(|before| at >= before) {
                expired = true;
            } else if signer.valid_after.is_some_and(|after| at < after) {
            } else {
                principals.extend(signer.principals.iter().cloned());
            }
        }
        if principals.is_empty() {
            return Err(if expired { Untrusted::Expired } else { Untrusted::NotYetValid });
        }
        Ok(principals)
    }

    /// Every distinct key, for trying signatures against (keyids are never trusted).
    pub fn keys(&self) -> BTreeSet<PublicKey> {
        self.signers.iter().map(|s| s.key).collect()
    }
}

fn parse_line(line: &str, number: usize) -> Result<AllowedSigner, String> {
    let (principals, rest) = next_field(line).ok_or("no principals")?;
    let (second, mut rest) = next_field(rest).ok_or("no key")?;
    let mut options = None;
    let key_type = if is_key_type(&second) {
        second
    } else {
        options = Some(second);
        let (key_type, after) = next_field(rest).ok_or("no key after the options")?;
        rest = after;
        key_type
    };
    let (key_base64, _comment) = next_field(rest).ok_or("no key data after the key type")?;
    if key_type != "ssh-ed25519" {
        return Err(format!("a {key_type} key; release-gate trusts Ed25519 keys only"));
    }
    let key = ssh_key::PublicKey::from_openssh(&format!("{key_type} {key_base64}"))
        .map_err(|error| format!("the key does not decode: {error}"))?;
    let ssh_key::public::KeyData::Ed25519(raw) = key.key_data() else {
        return Err("not an Ed25519 key".to_owned());
    };
    let mut signer = AllowedSigner {
        line: number,
        principals: principals.split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect(),
        namespaces: None,
        valid_after: None,
        valid_before: None,
        key: PublicKey::from_raw(raw.0),
    };
    if signer.principals.is_empty() {
        return Err("no principals".to_owned());
    }
    for option in options.as_deref().map(split_options).unwrap_or_default() {
        let (name, value) = match option.split_once('=') {
            Some((name, value)) => (name.trim().to_ascii_lowercase(), Some(unquote(value.trim()).to_owned())),
            None => (option.trim().to_ascii_lowercase(), None),
        };
        match (name.as_str(), value) {
            ("cert-authority", _) => {
                return Err(
                    "cert-authority lines are ignored: release-gate trusts plain keys only".to_owned()
                );
            }
            ("namespaces", Some(list)) => {
                signer.namespaces = Some(list.split(',').map(|n| n.trim().to_owned()).collect());
            }
            ("valid-after", Some(time)) => {
                signer.valid_after = Some(
                    parse_ssh_time(&time)
                        .ok_or(format!("valid-after `{time}` is not YYYYMMDD[HHMM[SS]][Z]"))?,
                );
            }
            ("valid-before", Some(time)) => {
                signer.valid_before = Some(
                    parse_ssh_time(&time)
                        .ok_or(format!("valid-before `{time}` is not YYYYMMDD[HHMM[SS]][Z]"))?,
                );
            }
            (other, _) => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(signer)
}

/// Quotes a principal for an allowed_signers line when it holds white space.
pub fn quote_principal(principal: &str) -> String {
    if principal.chars().any(char::is_whitespace) { format!("\"{principal}\"") } else { principal.to_owned() }
}

pub mod verify;

#[cfg(test)]
mod tests;
