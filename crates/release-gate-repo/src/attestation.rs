//! Attestation files under `.release/attestations/`: writing a signature (statement, DSSE envelope, SSH
//! signature, log entry, checkpoint) as one locked step, and reading them back for verification.
//!
//! Files for decision `<id>`: `<id>.statement.json` (the in-toto statement), `<id>.dsse.json` (the DSSE
//! envelope, one signature per signer), and one SSH signature per signer: `<id>.statement.json.sig` for
//! the first, `<id>.statement.json.<n>.sig` for the n-th (n = 2, 3, ...).

use std::path::{Path, PathBuf};

use release_gate_core::ledger::{Entry, LogEvent, SignEvent, Signer};
use release_gate_core::signing::{
    AllowedSigners, Envelope, NAMESPACE, SigningError, SigningKey, SshSignature, sha256_hex,
};

use crate::fs::{ReadError, create_dir_inside, read_inside, read_limited, write_atomic};
use crate::ledger::LedgerError;
use crate::ledger::branch::BranchLog;

/// Why signing could not complete.
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "{path} signs a different statement (the decision, its commit or the policy changed since it was signed); \
         move the old attestation files away to start a new signature round"
    )]
    Mismatch { path: PathBuf },
    #[error("the signature just made does not verify with the key's own public key; nothing was written")]
    SelfCheck,
    #[error("{path}: {source}")]
    Envelope { path: PathBuf, source: SigningError },
}

/// The files of one decision's attestation.
#[derive(Debug, Clone)]
pub struct Files {
    pub dir: PathBuf,
    pub id: String,
    /// The repository the files belong to, when they are its own (`.release/attestations/`): then no file
    /// may lead out of it. `None` for files a person named elsewhere.
    pub root: Option<PathBuf>,
}

impl Files {
    /// The files of decision `id` in the repository at `root`.
    pub fn new(root: &Path, attestations_dir: &Path, id: &str) -> Files {
        Files { dir: attestations_dir.to_path_buf(), id: id.to_owned(), root: Some(root.to_path_buf()) }
    }

    /// The files of an envelope path `<dir>/<id>.dsse.json`, if it is named that way.
    pub fn from_envelope_path(path: &Path) -> Option<Files> {
        let name = path.file_name()?.to_str()?;
        let id = name.strip_suffix(".dsse.json")?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Some(Files { dir, id: id.to_owned(), root: None })
    }

    /// Reads one of the files: bounded, a regular file, and inside the repository when they are its own.
    pub fn read(&self, path: &Path) -> Result<Vec<u8>, ReadError> {
        match &self.root {
            Some(root) => read_inside(root, path),
            None => read_limited(path),
        }
    }

    pub fn statement(&self) -> PathBuf {
        self.dir.join(format!("{}.statement.json", self.id))
    }

    pub fn envelope(&self) -> PathBuf {
        self.dir.join(format!("{}.dsse.json", self.id))
    }

    /// The SSH signature file name of the n-th signer (1-based).
    pub fn sshsig_name(&self, n: usize) -> String {
        if n <= 1 {
            format!("{}.statement.json.sig", self.id)
        } else {
            format!("{}.statement.json.{n}.sig", self.id)
        }
    }

    /// The SSH signature files present, in signer order: (file name, bytes). Stops at the first gap.
    pub fn read_sshsigs(&self) -> Result<Vec<(String, Vec<u8>)>, AttestError> {
        let mut out = Vec::new();
        for n in 1.. {
            let name = self.sshsig_name(n);
            let path = self.dir.join(&name);
            match self.read(&path) {
                Ok(bytes) => out.push((name, bytes)),
                Err(error) if error.is_not_found() => break,
                Err(error) => return Err(read_error(&path, error)),
            }
        }
        Ok(out)
    }
}

/// One signing request.
#[derive(Debug)]
pub struct SignRequest<'a> {
    pub files: &'a Files,
    pub log: &'a BranchLog,
    /// The log file of before, `.release/ledger.jsonl`: while it exists and no log branch does, signing
    /// waits for `log migrate`.
    pub legacy_log: &'a Path,
    /// Push the entry to the remote's log (else it stays in this clone until `log push`).
    pub publish: bool,
    /// Where the decision came from, for the log (a path relative to the repository root, or a store id).
    pub source: &'a str,
    pub commit: &'a str,
    pub statement: &'a [u8],
    pub key: &'a SigningKey,
    pub allowed: &'a AllowedSigners,
    /// When the signers' principals are looked up (the decision's `decidedAt`).
    pub decided_at: jiff::Timestamp,
    pub now: jiff::Timestamp,
}

/// What signing did.
#[derive(Debug)]
pub struct Signed {
    pub envelope: Envelope,
    /// Whether this key's signature is new (false: it had signed before; the log still records the step).
    pub added: bool,
    pub sshsig: String,
    pub entry: Entry,
    /// Whether the remote's log holds the entry (`None`: the clone has no remote).
    pub published: Option<bool>,
    /// Why it is not published, when it is not.
    pub note: Option<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AttestError + '_ {
    move |source| AttestError::Io { path: path.to_path_buf(), source }
}

fn read_error(path: &Path, error: ReadError) -> AttestError {
    let source = match error {
        ReadError::Io(source) => source,
        other => std::io::Error::other(other),
    };
    AttestError::Io { path: path.to_path_buf(), source }
}

/// Signs under the log's lock: envelope and signature files first, then the log entry commit, then the push.
pub fn sign(request: &SignRequest<'_>) -> Result<Signed, AttestError> {
    let files = request.files;
    let lock = request.log.lock()?;
    if std::fs::symlink_metadata(request.legacy_log).is_ok() && !request.log.exists() {
        return Err(LedgerError::Legacy.into());
    }
    match &files.root {
        Some(root) => create_dir_inside(root, &files.dir).map_err(|error| read_error(&files.dir, error))?,
        None => std::fs::create_dir_all(&files.dir).map_err(io(&files.dir))?,
    }
    crate::fs::remove_stale_temps(&files.dir);
    let envelope_path = files.envelope();
    let existing = match files.read(&envelope_path) {
        Ok(bytes) => Some(
            Envelope::from_json(&bytes)
                .map_err(|source| AttestError::Envelope { path: envelope_path.clone(), source })?,
        ),
        Err(error) if error.is_not_found() => None,
        Err(error) => return Err(read_error(&envelope_path, error)),
    };
    let mut sshsigs = files.read_sshsigs()?;
    let (envelope, added) = match existing {
        Some(mut envelope) => {
            let added = envelope
                .cosign(request.statement, request.key)
                .map_err(|_| AttestError::Mismatch { path: envelope_path.clone() })?;
            (envelope, added)
        }
        None => {
            // SSH signatures left by an interrupted first signature belong to no envelope.
            for (name, _) in sshsigs.drain(..) {
                let path = files.dir.join(name);
                std::fs::remove_file(&path).map_err(io(&path))?;
            }
            (Envelope::sign(request.statement, request.key), true)
        }
    };
    // This key's SSH signature file: the one it wrote before, else the next free number.
    let public = request.key.public();
    let position =
        sshsigs.iter().position(|(_, bytes)| SshSignature::parse(bytes).is_ok_and(|sig| sig.key() == public));
    let armored = request
        .key
        .sshsig(NAMESPACE, request.statement)
        .map_err(|source| AttestError::Envelope { path: envelope_path.clone(), source })?;
    let name = match position {
        Some(index) => sshsigs.get(index).map(|(name, _)| name.clone()).unwrap_or_default(),
        None => files.sshsig_name(sshsigs.len() + 1),
    };
    match sshsigs.iter_mut().find(|(existing, _)| *existing == name) {
        Some(slot) => slot.1 = armored.clone().into_bytes(),
        None => sshsigs.push((name.clone(), armored.clone().into_bytes())),
    }
    // Re-verify what was just made before anything is written (a bad key or a bug stops here).
    let pae = release_gate_core::signing::pae(&envelope.payload_type, request.statement);
    let ours_verify = envelope.signatures.iter().any(|signature| {
        release_gate_core::signing::decode_base64(&signature.sig)
            .is_some_and(|sig| public.verify_raw(&pae, &sig))
    });
    if !ours_verify || public.verify_sshsig(NAMESPACE, request.statement, armored.as_bytes()).is_err() {
        return Err(AttestError::SelfCheck);
    }
    let statement_path = files.statement();
    write_atomic(&statement_path, request.statement).map_err(io(&statement_path))?;
    let sig_path = files.dir.join(&name);
    write_atomic(&sig_path, armored.as_bytes()).map_err(io(&sig_path))?;
    let envelope_bytes = envelope.to_bytes();
    write_atomic(&envelope_path, &envelope_bytes).map_err(io(&envelope_path))?;

    let signers = sshsigs
        .iter()
        .map(|(name, bytes)| {
            let key = SshSignature::parse(bytes).ok().map(|sig| sig.key());
            Signer {
                principals: key
                    .and_then(|key| request.allowed.principals(&key, NAMESPACE, request.decided_at).ok())
                    .map(|set| set.into_iter().collect())
                    .unwrap_or_default(),
                key: key.map(|key| key.fingerprint()).unwrap_or_default(),
                sshsig: name.clone(),
                sshsig_sha256: sha256_hex(bytes),
            }
        })
        .collect();
    let event = LogEvent::Sign(SignEvent {
        decision: files.id.clone(),
        source: request.source.to_owned(),
        commit: request.commit.to_owned(),
        statement: sha256_hex(request.statement),
        envelope: sha256_hex(&envelope_bytes),
        signers,
    });
    let appended = request.log.append_held(
        &lock,
        Some(event),
        Some(request.key),
        request.allowed,
        request.now,
        request.publish,
    )?;
    let entry = appended
        .entry
        .ok_or_else(|| LedgerError::Invalid("the new entry is not in the log after writing it".into()))?;
    Ok(Signed { envelope, added, sshsig: name, entry, published: appended.published, note: appended.note })
}
