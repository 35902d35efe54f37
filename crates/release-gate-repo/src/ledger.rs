//! The decision log. Since the log moved to its own branch ([`branch`]), this file's `Ledger` is the log
//! file of before, `.release/ledger.jsonl` on the working branch: read for `log migrate`, verification of
//! repositories not migrated yet, and explicit repair of a torn tail; export works on both.
//!
//! Append recipe (crash-safe): open with append+read, take an exclusive `flock`, re-read the file under
//! the lock, refuse to append after a torn or broken line, write the whole line with one `write_all`,
//! `sync_data`, and fsync the directory when the file was just created. A command reports success only
//! after that, so an entry whose command succeeded is never lost; a crash leaves at most a torn last line
//! that no command reported, which `release-gate log repair` cuts (and logs).

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use release_gate_core::ledger::{self, Chain, Entry, LogEvent, RepairEvent};
use release_gate_core::signing::{
    AllowedSigners, CHECKPOINT_NAMESPACE, SigningKey, SshSignature, Verifiers, sha256_hex,
};

use crate::fs::{
    ReadError, check_inside, create_dir_inside, open_append, open_regular, read_inside, sync_dir,
    write_atomic,
};

pub mod branch;

/// Why the log could not be read or appended to.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Git(crate::git::GitError),
    #[error("{0}")]
    Remote(String),
    #[error("{0}")]
    Offline(String),
    #[error("{0}")]
    Rewritten(String),
    #[error(
        "the decision log does not verify, so nothing is added to it: {0}. Run `release-gate log verify`"
    )]
    Invalid(String),
    #[error(
        "local log entries must be put on top of the remote's, which re-signs their checkpoints: pass --key"
    )]
    NeedKey,
    #[error(
        "this repository still keeps its decision log in .release/ledger.jsonl: run `release-gate log migrate --key PATH` \
         once to move it to the log branch, then sign"
    )]
    Legacy,
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "the decision log {path} ends in a torn line ({bytes} bytes after the last newline, from an interrupted write); \
         run `release-gate log repair` to cut it (the repair is itself logged)"
    )]
    Torn { path: PathBuf, bytes: usize },
    #[error("the decision log {path} is broken at {broken}; restore it from version control")]
    Broken { path: PathBuf, broken: ledger::Broken },
    #[error("cannot sign the checkpoint: {0}")]
    Checkpoint(String),
}

/// The files of the log under a `.release/` directory.
#[derive(Debug, Clone)]
pub struct Ledger {
    /// The repository the log belongs to: no file of the log may lead out of it.
    root: PathBuf,
    pub path: PathBuf,
    pub checkpoint: PathBuf,
    pub checkpoint_sig: PathBuf,
}

impl Ledger {
    /// The log of the `.release/` directory `release_dir`.
    pub fn new(release_dir: &Path) -> Ledger {
        Ledger {
            root: release_dir.parent().unwrap_or(release_dir).to_path_buf(),
            path: release_dir.join("ledger.jsonl"),
            checkpoint: release_dir.join("ledger.checkpoint"),
            checkpoint_sig: release_dir.join("ledger.checkpoint.sig"),
        }
    }

    fn io(&self, source: std::io::Error) -> LedgerError {
        LedgerError::Io { path: self.path.clone(), source }
    }

    fn read_error(&self, error: ReadError) -> LedgerError {
        match error {
            ReadError::Io(source) => self.io(source),
            other => self.io(std::io::Error::other(other)),
        }
    }

    /// Takes the log's exclusive lock (creating the file and its directory if needed) and reads it.
    pub fn lock(&self) -> Result<Locked, LedgerError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_dir_inside(&self.root, dir).map_err(|e| self.read_error(e))?;
        let existed = std::fs::symlink_metadata(&self.path).is_ok();
        // Never through a link: a committed link must not make signing write elsewhere.
        let mut file = open_append(&self.path).map_err(|e| self.io(e))?;
        crate::fs::remove_stale_temps(dir);
        file.lock().map_err(|e| self.io(e))?;
        if !existed {
            sync_dir(dir).map_err(|e| self.io(e))?;
        }
        let bytes = read_all(&mut file).map_err(|e| self.io(e))?;
        let chain = ledger::read_chain(&bytes);
        Ok(Locked { ledger: self.clone(), file, chain })
    }

    /// Reads the log under a shared lock (an empty chain when there is no log yet).
    pub fn read(&self) -> Result<Chain, LedgerError> {
        let opened = check_inside(&self.root, &self.path).and_then(|()| open_regular(&self.path));
        let mut file = match opened {
            Ok(file) => file,
            Err(error) if error.is_not_found() => return Ok(Chain::default()),
            Err(error) => return Err(self.read_error(error)),
        };
        file.lock_shared().map_err(|e| self.io(e))?;
        let bytes = read_all(&mut file).map_err(|e| self.io(e))?;
        Ok(ledger::read_chain(&bytes))
    }

    /// Checks the signed checkpoint against `chain`: present (for a non-empty log), signed under
    /// [`CHECKPOINT_NAMESPACE`] by a key allowed_signers trusts at the pinned entry's time, pinning a prefix.
    pub fn check_checkpoint(&self, chain: &Chain, allowed: &AllowedSigners) -> Result<String, String> {
        let text = match read_inside(&self.root, &self.checkpoint) {
            Ok(text) => text,
            Err(error) if error.is_not_found() => {
                return if chain.entries.is_empty() {
                    Ok("no entries and no checkpoint".into())
                } else {
                    Err(format!("{} is missing", self.checkpoint.display()))
                };
            }
            Err(error) => return Err(format!("{}: {error}", self.checkpoint.display())),
        };
        let sig = read_inside(&self.root, &self.checkpoint_sig)
            .map_err(|error| format!("{}: {error}", self.checkpoint_sig.display()))?;
        let signature = SshSignature::parse(&sig)
            .map_err(|error| format!("{} is not an SSH signature: {error}", self.checkpoint_sig.display()))?;
        let key = signature.key();
        signature
            .verify(CHECKPOINT_NAMESPACE, &text, &mut Verifiers::default())
            .map_err(|error| format!("the checkpoint signature does not verify: {error}"))?;
        let parsed = ledger::parse_checkpoint(std::str::from_utf8(&text).map_err(|e| e.to_string())?)?;
        let pinned_time = parsed
            .size
            .checked_sub(1)
            .and_then(|index| chain.entries.get(index))
            .and_then(|entry| entry.time.parse::<jiff::Timestamp>().ok());
        if let Some(at) = pinned_time {
            let principals = allowed
                .principals(&key, CHECKPOINT_NAMESPACE, at)
                .map_err(|why| format!("the checkpoint's signer {}: {why}", key.fingerprint()))?;
            ledger::check_checkpoint(chain, &parsed)?;
            let signers: Vec<String> = principals.into_iter().collect();
            return Ok(format!(
                "checkpoint pins {} of {} entries, signed by {}",
                parsed.size,
                chain.entries.len(),
                signers.join(", ")
            ));
        }
        ledger::check_checkpoint(chain, &parsed)?;
        Ok(format!("checkpoint pins {} entries", parsed.size))
    }
}

fn read_all(file: &mut File) -> std::io::Result<Vec<u8>> {
    file.seek(std::io::SeekFrom::Start(0))?;
    let mut bytes = Vec::new();
    file.take(u64::try_from(ledger::MAX_LEDGER_BYTES).unwrap_or(u64::MAX) + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The log, held under its exclusive lock. Dropping it releases the lock.
#[derive(Debug)]
pub struct Locked {
    ledger: Ledger,
    file: File,
    chain: Chain,
}

impl Locked {
    /// The chain as read under the lock.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    fn check_appendable(&self) -> Result<(), LedgerError> {
        if let Some(broken) = &self.chain.broken {
            return Err(LedgerError::Broken { path: self.ledger.path.clone(), broken: broken.clone() });
        }
        if let Some(torn) = &self.chain.torn {
            return Err(LedgerError::Torn { path: self.ledger.path.clone(), bytes: torn.bytes.len() });
        }
        Ok(())
    }

    /// Appends one entry: one `write_all` of the whole line, then `sync_data`. Refuses after a torn or broken line.
    pub fn append(&mut self, event: LogEvent, time: jiff::Timestamp) -> Result<Entry, LedgerError> {
        self.check_appendable()?;
        let entry =
            Entry { seq: self.chain.next_seq(), prev: self.chain.head(), event, time: time.to_string() };
        let mut line = entry.to_line();
        let hash = sha256_hex(&line);
        line.push(b'\n');
        self.file.write_all(&line).map_err(|e| self.ledger.io(e))?;
        self.file.sync_data().map_err(|e| self.ledger.io(e))?;
        self.chain.hashes.push(hash);
        self.chain.entries.push(entry.clone());
        Ok(entry)
    }

    /// Writes the checkpoint of the whole log and its SSH signature (namespace `release-gate-checkpoint`).
    pub fn write_checkpoint(&self, key: &SigningKey) -> Result<(), LedgerError> {
        let text = ledger::checkpoint_text(self.chain.entries.len(), &self.chain.head());
        let sig = key
            .sshsig(CHECKPOINT_NAMESPACE, text.as_bytes())
            .map_err(|e| LedgerError::Checkpoint(e.to_string()))?;
        // Signature first: a crash between the two leaves an old checkpoint with a new signature, which
        // fails verification loudly rather than pinning something unsigned.
        write_atomic(&self.ledger.checkpoint_sig, sig.as_bytes()).map_err(|e| self.ledger.io(e))?;
        write_atomic(&self.ledger.checkpoint, text.as_bytes()).map_err(|e| self.ledger.io(e))
    }

    /// Cuts a torn last line and logs the repair. Returns `None` when there was nothing to repair.
    pub fn repair(&mut self, time: jiff::Timestamp) -> Result<Option<Entry>, LedgerError> {
        if let Some(broken) = &self.chain.broken {
            return Err(LedgerError::Broken { path: self.ledger.path.clone(), broken: broken.clone() });
        }
        let Some(torn) = self.chain.torn.take() else { return Ok(None) };
        let offset = u64::try_from(torn.offset).unwrap_or(u64::MAX);
        self.file.set_len(offset).map_err(|e| self.ledger.io(e))?;
        self.file.sync_all().map_err(|e| self.ledger.io(e))?;
        let event = LogEvent::Repair(RepairEvent {
            reason: "torn-tail".into(),
            truncated_bytes: u64::try_from(torn.bytes.len()).unwrap_or(u64::MAX),
            truncated_sha256: sha256_hex(&torn.bytes),
        });
        self.append(event, time).map(Some)
    }
}

impl Locked {
    /// Logs a `checkpoint` repair and re-signs the checkpoint over the intact chain.
    pub fn resign_checkpoint(
        &mut self,
        key: &SigningKey,
        time: jiff::Timestamp,
    ) -> Result<Entry, LedgerError> {
        let event = LogEvent::Repair(RepairEvent {
            reason: "checkpoint".into(),
            truncated_bytes: 0,
            truncated_sha256: sha256_hex(b""),
        });
        let entry = self.append(event, time)?;
        self.write_checkpoint(key)?;
        Ok(entry)
    }
}

/// The log as JSON (an array of entries, each with its line's SHA-256).
pub fn export_json(chain: &Chain) -> serde_json::Value {
    let entries: Vec<serde_json::Value> = chain
        .entries
        .iter()
        .zip(&chain.hashes)
        .map(|(entry, hash)| {
            let mut value = serde_json::to_value(entry).unwrap_or_default();
            if let Some(object) = value.as_object_mut() {
                object.insert("sha256".into(), serde_json::Value::String(hash.clone()));
            }
            value
        })
        .collect();
    serde_json::Value::Array(entries)
}

/// The log as CSV, one row per entry (RFC 4180 quoting).
pub fn export_csv(chain: &Chain) -> String {
    let mut out =
        String::from("seq,time,kind,decision,commit,signers,statement_sha256,envelope_sha256,line_sha256\n");
    for (entry, hash) in chain.entries.iter().zip(&chain.hashes) {
        let (kind, decision, commit, signers, statement, envelope) = match &entry.event {
            LogEvent::Sign(sign) => (
                "sign",
                sign.decision.clone(),
                sign.commit.clone(),
                sign.signers.iter().map(|s| s.principals.join("|")).collect::<Vec<_>>().join("; "),
                sign.statement.clone(),
                sign.envelope.clone(),
            ),
            LogEvent::Repair(repair) => (
                "repair",
                String::new(),
                String::new(),
                String::new(),
                format!("{}: cut {} bytes", repair.reason, repair.truncated_bytes),
                String::new(),
            ),
        };
        let fields = [
            entry.seq.to_string(),
            entry.time.clone(),
            kind.into(),
            decision,
            commit,
            signers,
            statement,
            envelope,
            hash.clone(),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
