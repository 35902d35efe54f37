//! Signing a decision and verifying a signed one, as operations both shells call: the decision from a
//! file or the store, the policy and its bytes, trusted keys, the commit, then the attestation step.
//!
//! A decision that does not validate, or a signer who is neither its final owner nor on its panel, is a
//! refusal (a value, with reasons), not an error.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use release_gate_core::signing::verify::{self, Verification, required_panel_signatures, roles_of};
use release_gate_core::signing::{
    AllowedSigners, GitCommit, NAMESPACE, StatementInput, check_id, person_name, predicate, statement_bytes,
};
use release_gate_core::{Finding, Severity, Verdict};
use serde::Serialize;

use crate::attestation::{self, Files, SignRequest};
use crate::keys;
use crate::ledger::Ledger;
use crate::ledger::branch::{self, BranchLog};
use crate::store::Id;
use crate::workspace::{OpError, Workspace};
use release_gate_core::ledger::history::HistoryCheck;
use release_gate_core::value::short_commit;

/// Which decision to sign.
#[derive(Debug, Clone)]
pub enum Target {
    /// A Markdown or JSON file; its name without the extension is the decision id.
    File(PathBuf),
    /// A decision in the store; validated with its history and evidence against the commit.
    Stored(Id),
}

/// A signing request.
#[derive(Debug, Clone)]
pub struct SignDecision<'a> {
    pub target: Target,
    /// The signer's OpenSSH Ed25519 private key.
    pub key: &'a Path,
    /// The commit being released.
    pub commit: &'a str,
    /// Which of the key's principals signs, when it has several.
    pub principal: Option<&'a str>,
    pub now: jiff::Timestamp,
    /// The remote whose log to publish to (default `origin`, when it exists).
    pub remote: Option<&'a str>,
    /// Push the log entry to the remote (else it stays in this clone until `log push`).
    pub publish: bool,
}

/// What a signature did.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SignedDecision {
    pub id: String,
    pub commit: String,
    /// The roles the signer signed in: the final decision owner's and panel members' names.
    pub roles: Vec<String>,
    pub envelope: String,
    pub ssh_signature: String,
    pub log_entry: u64,
    /// Whether the remote's log holds the entry; absent when the clone has no remote (a local log).
    pub published: Option<bool>,
    /// Why the entry is not published, when it is not.
    pub publish_note: Option<String>,
    /// False when this key had signed the same statement before (the log keeps its one entry for it).
    pub added: bool,
    pub signatures: usize,
    pub panel_signatures: usize,
    pub required_panel_signatures: u32,
}

/// The answer to a signing request.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum SignOutcome {
    Signed(SignedDecision),
    /// Nothing was written.
    Refused {
        reason: String,
        findings: Vec<Finding>,
    },
}

fn refused(reason: String) -> SignOutcome {
    SignOutcome::Refused { reason, findings: Vec::new() }
}

impl Workspace {
    fn release_dir(&self) -> PathBuf {
        self.git.root().join(".release")
    }

    /// The trusted keys in `.release/allowed_signers` (or the given file).
    pub fn allowed_signers(&self, explicit: Option<&Path>) -> Result<AllowedSigners, OpError> {
        read_allowed_signers(self.git.root(), explicit).map(|(_, allowed)| allowed)
    }

    fn full_commit(&self, rev: &str) -> Result<GitCommit, OpError> {
        let sha = self.git.resolve(rev)?;
        Ok(GitCommit::parse(&sha)?)
    }

    /// Signs a decision that validates, for a commit, as its final owner or a panel member.
    pub fn sign(&self, request: &SignDecision<'_>) -> Result<SignOutcome, OpError> {
        let commit = self.full_commit(request.commit)?;
        let (id, decision, report, source) = match &request.target {
            Target::File(path) => {
                let bytes = read_limited(path)?;
                let document = release_gate_core::read_document(&bytes)
                    .map_err(|error| OpError::File { path: path.clone(), reason: error.to_string() })?;
                let id = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
                check_id(&id).map_err(|error| {
                    OpError::Precondition(format!(
                        "{} cannot name a decision ({error}); rename the file",
                        path.display()
                    ))
                })?;
                let report = release_gate_core::validate(&document, &self.policy, request.now);
                let source = path.strip_prefix(self.git.root()).unwrap_or(path).display().to_string();
                (id, document.decision, report, source)
            }
            Target::Stored(id) => {
                let (decision, report) = self.validate(id, commit.as_str(), request.now)?;
                let source = format!(".release/decisions/{id}.json");
                (id.to_string(), decision, report, source)
            }
        };
        if report.verdict == Verdict::Fail {
            let findings: Vec<Finding> =
                report.findings.into_iter().filter(|f| f.severity == Severity::Error).collect();
            return Ok(SignOutcome::Refused {
                reason: format!("{source} does not validate; a decision is signed only when it passes"),
                findings,
            });
        }
        let allowed = self.allowed_signers(None)?;
        let key = keys::load_signing_key(request.key, Some(self.git.root()))?;
        let input =
            StatementInput { id: &id, decision: &decision, commit: &commit, policy_text: &self.policy_bytes };
        let predicate = predicate(input)?;
        let decided_at: jiff::Timestamp = predicate
            .decided_at
            .parse()
            .map_err(|_| OpError::Precondition("the decision timestamp does not read back".into()))?;
        let public = key.public();
        let mut principals = match allowed.principals(&public, NAMESPACE, decided_at) {
            Ok(principals) => principals,
            Err(why) => {
                return Ok(refused(format!(
                    "the key {} cannot sign: {why} (namespace `{NAMESPACE}`, at the decision time {decided_at})",
                    public.fingerprint()
                )));
            }
        };
        if let Some(wanted) = request.principal {
            principals.retain(|p| p.eq_ignore_ascii_case(wanted));
            if principals.is_empty() {
                return Ok(refused(format!(
                    "allowed_signers does not give the key {} the principal `{wanted}`",
                    public.fingerprint()
                )));
            }
        }
        let roles = roles_of(&principals, &predicate);
        if roles.is_empty() {
            let names: Vec<&str> = predicate
                .owners
                .decision
                .iter()
                .chain(&predicate.owners.panel)
                .map(|n| person_name(n))
                .collect();
            return Ok(refused(format!(
                "the signer ({}) is neither the final decision owner nor a go/no-go panel member ({}); only they may sign this decision",
                principals.iter().cloned().collect::<Vec<_>>().join(", "),
                names.join(", ")
            )));
        }
        let statement = statement_bytes(input)?;
        let files = Files::new(self.git.root(), &self.release_dir().join("attestations"), &id);
        let log = BranchLog::open(&self.git, request.remote)?;
        let legacy = self.release_dir().join("ledger.jsonl");
        let signed = attestation::sign(&SignRequest {
            files: &files,
            log: &log,
            legacy_log: &legacy,
            publish: request.publish,
            source: &source,
            commit: commit.as_str(),
            statement: &statement,
            key: &key,
            allowed: &allowed,
            decided_at,
            now: request.now,
        })?;
        // Counted as `verify` counts: distinct keys, each for one distinct panel member.
        let panel = match &signed.entry.event {
            release_gate_core::ledger::LogEvent::Sign(sign) => {
                let keys: Vec<BTreeSet<String>> = sign
                    .signers
                    .iter()
                    .fold(Vec::<(&str, BTreeSet<String>)>::new(), |mut keys, signer| {
                        if !keys.iter().any(|(key, _)| *key == signer.key) {
                            keys.push((&signer.key, signer.principals.iter().cloned().collect()));
                        }
                        keys
                    })
                    .into_iter()
                    .map(|(_, principals)| principals)
                    .collect();
                verify::count_panel_signers(&keys, &predicate)
            }
            release_gate_core::ledger::LogEvent::Repair(_) => 0,
        };
        let shown = |path: PathBuf| path.strip_prefix(self.git.root()).unwrap_or(&path).display().to_string();
        Ok(SignOutcome::Signed(SignedDecision {
            id,
            commit: commit.as_str().to_owned(),
            roles,
            envelope: shown(files.envelope()),
            ssh_signature: shown(files.dir.join(&signed.sshsig)),
            log_entry: signed.entry.seq,
            published: signed.published,
            publish_note: signed.note,
            added: signed.added,
            signatures: signed.envelope.signatures.len(),
            panel_signatures: panel,
            required_panel_signatures: required_panel_signatures(&predicate, &self.policy),
        }))
    }

    /// The envelope of a stored or signed decision: an id names `.release/attestations/<id>.dsse.json`.
    pub fn envelope_path(&self, id_or_path: &str) -> Result<PathBuf, OpError> {
        let path = Path::new(id_or_path);
        if id_or_path.ends_with(".dsse.json") || path.components().count() > 1 {
            return Ok(path.to_path_buf());
        }
        let id = Id::parse(id_or_path)?;
        Ok(self.release_dir().join("attestations").join(format!("{id}.dsse.json")))
    }

    /// Verifies a signed decision. `commit`: the commit being released; `None` means HEAD, where a HEAD
    /// that differs from the signed commit only under `.release/` (the attestation's own commit) counts
    /// as the signed commit.
    pub fn verify(
        &self,
        envelope_path: &Path,
        commit: Option<&str>,
        allowed_signers: Option<&Path>,
        now: jiff::Timestamp,
    ) -> Result<Verification, OpError> {
        self.verify_with(&VerifyDecision {
            envelope: envelope_path,
            commit,
            allowed_signers,
            now,
            remote: None,
            require_published: false,
        })
    }

    /// Verifies a signed decision with every option: the remote whose log counts as published, and
    /// whether the entry must be in it.
    pub fn verify_with(&self, request: &VerifyDecision<'_>) -> Result<Verification, OpError> {
        let (envelope_path, commit, allowed_signers, now) =
            (request.envelope, request.commit, request.allowed_signers, request.now);
        let mut files = Files::from_envelope_path(envelope_path).ok_or_else(|| {
            OpError::Precondition(format!(
                "{} is not named `<id>.dsse.json`; pass the envelope `release-gate sign` wrote, or the decision id",
                envelope_path.display()
            ))
        })?;
        // The repository's own attestations may not lead out of it; a file named elsewhere is the caller's.
        let absolute = std::path::absolute(envelope_path).unwrap_or_else(|_| envelope_path.to_path_buf());
        if absolute.starts_with(self.git.root()) {
            files.root = Some(self.git.root().to_path_buf());
        }
        let release_dir = match files.dir.parent() {
            Some(parent) if files.dir.ends_with("attestations") && parent.ends_with(".release") => {
                parent.to_path_buf()
            }
            _ => self.release_dir(),
        };
        let allowed = self.allowed_signers(allowed_signers)?;
        let envelope = files.read(envelope_path).map_err(|error| OpError::File {
            path: envelope_path.to_path_buf(),
            reason: error.to_string(),
        })?;
        let statement = match files.read(&files.statement()) {
            Ok(bytes) => Some(bytes),
            Err(error) if error.is_not_found() => None,
            Err(error) => {
                return Err(OpError::File {
                    path: files.statement(),
                    reason: format!("cannot read it: {error}"),
                });
            }
        };
        let sshsigs = files.read_sshsigs()?;
        let log = BranchLog::open(&self.git, request.remote)?;
        let view = log.view()?;
        let mut published = None;
        let (chain, checkpoint) = match &view.tip {
            Some(tip) => {
                let check =
                    HistoryCheck { allowed: &allowed, every_checkpoint: false, pin: None, shallow: false };
                let history = log.read(tip, check)?;
                published = log.published_size(&view, &history);
                let checkpoint =
                    if history.ok() { Ok(String::new()) } else { Err(branch::describe(&history)) };
                (history.chain, checkpoint)
            }
            None => {
                // A repository whose log file was not migrated to the log branch yet.
                let ledger = Ledger::new(&release_dir);
                let chain = ledger.read()?;
                let checkpoint = ledger.check_checkpoint(&chain, &allowed);
                (chain, checkpoint)
            }
        };
        let mut notes = Vec::new();
        let released = match commit {
            Some(rev) => self.full_commit(rev)?,
            None => {
                let head = self.full_commit("HEAD")?;
                match statement.as_deref().and_then(signed_commit) {
                    Some(signed)
                        if signed != head.as_str()
                            && self.only_release_files_differ(&signed, head.as_str()) =>
                    {
                        notes.push(format!(
                            "HEAD ({}) differs from the signed commit only under .release/; judged as the signed commit",
                            short_commit(head.as_str())
                        ));
                        GitCommit::parse(&signed).unwrap_or(head)
                    }
                    _ => head,
                }
            }
        };
        let mut result = verify::verify(
            verify::SignedBytes {
                id: &files.id,
                envelope: &envelope,
                statement: statement.as_deref(),
                sshsigs: &sshsigs,
            },
            verify::Context {
                allowed_signers: &allowed,
                commit: Some(&released),
                policy: &self.policy,
                policy_text: &self.policy_bytes,
                ledger: &chain,
                checkpoint: checkpoint.as_ref().map(|_| ()).map_err(String::as_str),
                now: Some(now),
                published,
                require_published: request.require_published,
            },
        );
        result.notes.extend(notes);
        Ok(result)
    }

    fn only_release_files_differ(&self, signed: &str, head: &str) -> bool {
        match (self.git.resolve(signed), self.git.resolve(head)) {
            (Ok(signed), Ok(head)) => self.git.same_code(&signed, &head),
            _ => false,
        }
    }
}

/// A verification request.
#[derive(Debug, Clone, Copy)]
pub struct VerifyDecision<'a> {
    pub envelope: &'a Path,
    /// The commit being released; `None`: HEAD (see [`Workspace::verify`]).
    pub commit: Option<&'a str>,
    pub allowed_signers: Option<&'a Path>,
    pub now: jiff::Timestamp,
    /// The remote whose log counts as published (default `origin`).
    pub remote: Option<&'a str>,
    /// Fail unless the decision's entry is in the remote's log as last fetched.
    pub require_published: bool,
}

/// The trusted keys and the file they came from: `explicit`, else `<root>/.release/allowed_signers`, which
/// may not lead out of the repository. Bounded and regular-only either way.
pub fn read_allowed_signers(
    root: &Path,
    explicit: Option<&Path>,
) -> Result<(PathBuf, AllowedSigners), OpError> {
    let path = explicit.map_or_else(|| root.join(".release").join("allowed_signers"), Path::to_path_buf);
    let read = match explicit {
        Some(path) => crate::fs::read_limited(path),
        None => crate::fs::read_inside(root, &path),
    };
    let bytes = read.map_err(|error| {
        OpError::Precondition(format!(
            "cannot read {}: {error}. release-gate trusts the keys in .release/allowed_signers (ssh-keygen's format); add a line per signer, as `release-gate keygen` prints",
            path.display()
        ))
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| OpError::File { path: path.clone(), reason: "not UTF-8".into() })?;
    Ok((path, AllowedSigners::parse(text)))
}

/// The commit a statement's subject names, read without trusting it (verification checks it after).
fn signed_commit(statement: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(statement).ok()?;
    value.pointer("/subject/0/digest/gitCommit")?.as_str().map(str::to_owned)
}

fn read_limited(path: &Path) -> Result<Vec<u8>, OpError> {
    crate::fs::read_limited(path)
        .map_err(|error| OpError::File { path: path.to_path_buf(), reason: error.to_string() })
}
