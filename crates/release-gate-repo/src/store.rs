//! The decision store: `.release/decisions/<id>.json` in the user's repository.
//!
//! Records are written atomically (temp file, fsync, rename) under a per-decision lock, and every
//! update re-reads the record under the lock before applying its change, so concurrent writers never
//! lose an update and readers never see a torn file.

use std::path::{Path, PathBuf};

use release_gate_core::Decision;
use release_gate_core::history::Confirmation;

use crate::fs::{Lock, ReadError, create_dir_inside, read_inside, remove_stale_temps, write_atomic};

/// A decision id: a safe file name (the rule lives in the core, [`DecisionId`]).
pub use release_gate_core::value::DecisionId as Id;

/// The longest id accepted.
pub const MAX_ID_LEN: usize = Id::MAX_LEN;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    InvalidId(#[from] release_gate_core::value::InvalidId),
    #[error("no decision `{id}` in {dir}: `release-gate list` shows the decisions")]
    NotFound { id: String, dir: String },
    #[error(
        "a decision `{id}` already exists: after new commits, `release-gate rebind {id}` moves it to the new head; \
         pick another id for another release"
    )]
    Exists { id: String },
    #[error("{path} is not a readable decision record: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.display().to_string(), source }
}

/// The decisions of one repository.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    dir: PathBuf,
    locks: PathBuf,
    /// The person's confirmation of the act being written, stamped on every event it appends.
    confirmation: Option<Confirmation>,
}

impl Store {
    /// The store under `<root>/.release/`.
    pub fn open(root: &Path) -> Store {
        let release = root.join(".release");
        Store {
            root: root.to_path_buf(),
            dir: release.join("decisions"),
            locks: release.join(".locks"),
            confirmation: None,
        }
    }

    /// The same store, recording `confirmation` on every event its next writes append: how the person
    /// confirmed the act (a shell that asked them sets it; the operations stay unaware of it).
    #[must_use]
    pub fn confirmed(mut self, confirmation: Option<Confirmation>) -> Store {
        self.confirmation = confirmation;
        self
    }

    /// Stamps the confirmation on the events from `from` on.
    fn stamp(&self, decision: &mut Decision, from: usize) {
        if let Some(confirmation) = &self.confirmation {
            for event in decision.history.iter_mut().skip(from) {
                event.confirmed = Some(confirmation.clone());
            }
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, id: &Id) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Whether a record (or anything else) has the id's file name; a link counts, so it is never replaced.
    pub fn exists(&self, id: &Id) -> bool {
        std::fs::symlink_metadata(self.path(id)).is_ok()
    }

    fn ensure_dirs(&self) -> Result<(), StoreError> {
        // Neither folder may be a link out of the repository: records and locks stay inside it.
        for dir in [&self.dir, &self.locks] {
            create_dir_inside(&self.root, dir).map_err(|error| match error {
                ReadError::Io(source) => io(dir)(source),
                other => {
                    StoreError::Io { path: dir.display().to_string(), source: std::io::Error::other(other) }
                }
            })?;
        }
        // Lock files are local state, never part of the repository's history.
        let ignore = self.locks.join(".gitignore");
        if !ignore.exists() {
            write_atomic(&ignore, b"*\n").map_err(io(&ignore))?;
        }
        Ok(())
    }

    fn lock(&self, id: &Id) -> Result<Lock, StoreError> {
        self.ensure_dirs()?;
        let path = self.locks.join(format!("{id}.lock"));
        let lock = Lock::exclusive(&path).map_err(io(&path))?;
        remove_stale_temps(&self.dir);
        Ok(lock)
    }

    /// Reads a decision. A record arrives in pull requests, so it is checked as untrusted input: a regular
    /// file inside the repository, at most 10 MiB, the record format, and git facts that are full object
    /// ids and digests (a value such as `--output=FILE` never reaches git).
    pub fn load(&self, id: &Id) -> Result<Decision, StoreError> {
        let path = self.path(id);
        let corrupt = |reason: String| StoreError::Corrupt { path: path.display().to_string(), reason };
        let bytes = match read_inside(&self.root, &path) {
            Ok(bytes) => bytes,
            Err(error) if error.is_not_found() => {
                return Err(StoreError::NotFound { id: id.to_string(), dir: self.dir.display().to_string() });
            }
            Err(ReadError::Io(error)) => return Err(io(&path)(error)),
            Err(ReadError::TooLarge) => return Err(corrupt("larger than 10 MiB".into())),
            Err(other) => return Err(corrupt(other.to_string())),
        };
        let text = std::str::from_utf8(&bytes).map_err(|e| corrupt(format!("not UTF-8 ({e})")))?;
        let decision = Decision::from_json(text).map_err(|e| corrupt(e.to_string()))?;
        decision.check_stored().map_err(|e| corrupt(e.to_string()))?;
        Ok(decision)
    }

    /// Stores a new decision; refuses to replace an existing one.
    pub fn create(&self, id: &Id, decision: &Decision) -> Result<(), StoreError> {
        let _lock = self.lock(id)?;
        if self.exists(id) {
            return Err(StoreError::Exists { id: id.to_string() });
        }
        let path = self.path(id);
        let mut decision = decision.clone();
        self.stamp(&mut decision, 0);
        write_atomic(&path, decision.to_json().as_bytes()).map_err(io(&path))
    }

    /// Applies `change` to the current record under the decision's lock and writes the result. When
    /// `change` fails, nothing is written.
    pub fn update<T, E: From<StoreError>>(
        &self,
        id: &Id,
        change: impl FnOnce(&mut Decision) -> Result<T, E>,
    ) -> Result<T, E> {
        let _lock = self.lock(id)?;
        let mut decision = self.load(id)?;
        let before = decision.history.len();
        let result = change(&mut decision)?;
        self.stamp(&mut decision, before);
        let path = self.path(id);
        write_atomic(&path, decision.to_json().as_bytes()).map_err(io(&path))?;
        Ok(result)
    }

    /// Every stored decision id, sorted.
    pub fn ids(&self) -> Result<Vec<Id>, StoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io(&self.dir)(error)),
        };
        let mut ids: Vec<Id> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                Id::parse(name.strip_suffix(".json")?).ok()
            })
            .collect();
        ids.sort();
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_ids_are_refused() {
        for bad in
            ["", "../x", "..", "/etc/passwd", "a/b", "a\\b", "a\0b", "a\nb", ".hidden", "-rf", "a..b", "é"]
        {
            assert!(Id::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Id::parse(&"a".repeat(101)).is_err());
        for good in ["2026-11-28-billing-api", "r1", "v1.2.3_rc"] {
            assert_eq!(Id::parse(good).unwrap().as_str(), good);
        }
        let error = Id::parse("a\u{7}b").unwrap_err().to_string();
        assert!(error.contains("a\\u{7}b"), "{error}");
    }

    #[test]
    fn slugs() {
        assert_eq!(
            Id::slug("2026-11-28", "Billing API, invoice-worker!").unwrap().as_str(),
            "2026-11-28-billing-api-invoice-worker"
        );
        assert_eq!(Id::slug("2026-11-28", "日本").unwrap().as_str(), "2026-11-28");
    }
}
