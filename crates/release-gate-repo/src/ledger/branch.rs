//! The decision log on its own branch, `release-gate-ledger`: reading its history, appending an entry
//! commit, and publishing to a shared remote with compare-and-swap and retry.
//!
//! Write path, under a lock in the git directory (one writer per clone at a time): ask the remote where
//! its log is and fetch it; refuse a remote that dropped entries it had published; put local entries the
//! remote does not have on top of its tip (re-signing their checkpoints); skip an entry the log already
//! holds (a push whose acknowledgement was lost); write the new commit with plumbing; move the local
//! branch from exactly the commit read (compare-and-swap); push without force, so the remote's own ref
//! update is the compare-and-swap between clones; on "fetch first" go round again. A crash before the
//! local branch moves leaves unreferenced objects and nothing else; after it, the entry is local and the
//! next command publishes it.

use std::path::PathBuf;

use release_gate_core::ledger::history::{
    self, Batcher, CommitRecord, History, HistoryCheck, LogCode, MAX_CHECKPOINT_BYTES, MAX_ENTRIES,
    MAX_ENTRY_BYTES, MAX_SIGNATURE_BYTES, Merkle, QUEUED_BATCHES, TREE_NAMES,
};
use release_gate_core::ledger::{Entry, LogEvent};
use release_gate_core::signing::{AllowedSigners, CHECKPOINT_NAMESPACE, SigningKey, hex, sha256_hex};

use crate::fs::Lock;
use crate::git::{Git, GitError, HistoryCommit, Pushed, is_remote_name};

use super::LedgerError;

/// The branch (a full ref name) that holds the log, in every clone and on the remote.
pub const LEDGER_BRANCH: &str = "refs/heads/release-gate-ledger";
/// The remote used when none is named and it exists.
pub const DEFAULT_REMOTE: &str = "origin";
/// How many times a writer goes round fetch-build-push when others keep winning.
const MAX_ATTEMPTS: u32 = 24;
/// Largest tree object an entry commit can have (three names).
const MAX_TREE_BYTES: usize = 4096;

/// What the planner asked for one commit: which of its three files (in [`TREE_NAMES`] order) will have
/// an answer.
struct Planned {
    id: String,
    parents: usize,
    names: Vec<(String, bool)>,
    asked: [bool; 3],
}

fn stopped() -> LedgerError {
    LedgerError::Git(GitError::Failed {
        args: "cat-file --batch".into(),
        stderr: "the log's reader stopped unexpectedly".into(),
    })
}

/// The log of one clone: its local branch and, when it has one, the remote it publishes to.
#[derive(Debug, Clone)]
pub struct BranchLog {
    git: Git,
    remote: Option<String>,
}

/// Which commit is the log, and what the remote is known to have.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// The commit read as the log (local, or the remote's when it is ahead).
    pub tip: Option<String>,
    pub local: Option<String>,
    /// The remote's log as last fetched.
    pub remote: Option<String>,
    /// Local and remote have both moved on since they last agreed.
    pub diverged: bool,
}

/// What an append or a push did.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The entry recording the event (new, or found in the log already).
    pub entry: Option<Entry>,
    /// Whether the log now in the remote holds every local entry. `None`: no remote.
    pub published: Option<bool>,
    /// Why not published, or how it went.
    pub note: Option<String>,
    /// Entries written by this call (the new one and local ones put on top of the remote's).
    pub written: usize,
    pub attempts: u32,
}

/// One thing to write on the log: an event, when it happened, and whether it is the caller's.
struct Pending {
    event: LogEvent,
    time: String,
}

impl BranchLog {
    /// The log of `git`'s repository, publishing to `remote` (which must exist), else to `origin` when
    /// there is one, else local only.
    pub fn open(git: &Git, remote: Option<&str>) -> Result<BranchLog, LedgerError> {
        let remote = match remote {
            Some(name) if !is_remote_name(name) || !git.has_remote(name) => {
                return Err(LedgerError::Remote(format!(
                    "`{name}` is not a remote of this repository (`git remote -v` lists them)"
                )));
            }
            Some(name) => Some(name.to_owned()),
            None => git.has_remote(DEFAULT_REMOTE).then(|| DEFAULT_REMOTE.to_owned()),
        };
        Ok(BranchLog { git: git.clone(), remote })
    }

    pub fn remote(&self) -> Option<&str> {
        self.remote.as_deref()
    }

    /// The remote-tracking ref that holds the remote's log as last fetched.
    pub fn tracking_ref(&self) -> Option<String> {
        self.remote.as_ref().map(|remote| format!("refs/remotes/{remote}/release-gate-ledger"))
    }

    /// Whether any log branch (local or fetched) exists.
    pub fn exists(&self) -> bool {
        self.view().is_ok_and(|view| view.tip.is_some())
    }

    /// The one writer of this clone's log at a time.
    pub fn lock(&self) -> Result<Lock, LedgerError> {
        let path = self.git.common_dir()?.join("release-gate-ledger.lock");
        Lock::exclusive(&path).map_err(|source| LedgerError::Io { path, source })
    }

    /// The local and fetched tips, and which one is the log: the local branch unless the remote's is
    /// ahead of it (a fresh clone has only the remote's).
    pub fn view(&self) -> Result<View, LedgerError> {
        let local = self.git.ref_target(LEDGER_BRANCH);
        let remote = self.tracking_ref().and_then(|name| self.git.ref_target(&name));
        let mut view = View { tip: None, local: local.clone(), remote: remote.clone(), diverged: false };
        view.tip = match (local, remote) {
            (None, remote) => remote,
            (local, None) => local,
            (Some(local), Some(remote)) => {
                if self.git.is_ancestor(&local, &remote) {
                    Some(remote)
                } else {
                    view.diverged = !self.git.is_ancestor(&remote, &local);
                    Some(local)
                }
            }
        };
        Ok(view)
    }

    /// Reads and checks the history ending at `tip` (all of it untrusted). Reading is a pipeline beside
    /// the checking: one `cat-file` reads the trees by id, a thread parses each and asks a second
    /// `cat-file` for its files by id (no path lookups), another collects them into records, and this
    /// thread checks them as they come, so the signature checks overlap git's reading.
    pub fn read(&self, tip: &str, check: HistoryCheck<'_>) -> Result<History, LedgerError> {
        let list = self.git.first_parent_history(tip, MAX_ENTRIES)?;
        let shallow = self.git.shallow_commits()?;
        let cut = list.iter().any(|commit| shallow.contains(&commit.id));
        let check = HistoryCheck { shallow: check.shallow || cut, ..check };
        let total = list.len();
        // Records travel in small batches (one wake-up of the checker per batch, not per commit), bounded
        // by count and by bytes, and only a few batches wait: memory stays bounded however large the
        // entries a hostile log carries.
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<CommitRecord>>(QUEUED_BATCHES);
        std::thread::scope(|scope| {
            let reader = scope.spawn(move || {
                let mut batcher = Batcher::default();
                let mut open = true;
                let result = self.commits(scope, list, |record| {
                    let size = record.size();
                    if let Some(batch) = batcher.push(record, size) {
                        open = open && sender.send(batch).is_ok();
                    }
                    open
                });
                if let Some(batch) = batcher.finish().filter(|_| open) {
                    let _ = sender.send(batch);
                }
                result
            });
            let history = history::verify_history_stream(receiver.into_iter().flatten(), total, check);
            match reader.join() {
                Ok(Ok(())) => Ok(history),
                Ok(Err(error)) => Err(error),
                Err(_) => Err(stopped()),
            }
        })
    }

    /// The commits of `list` (oldest first), with their trees' names and files, handed to `each` as they
    /// are read; `each` returning false stops handing them (the reading still ends cleanly).
    fn commits<'scope>(
        &'scope self,
        scope: &'scope std::thread::Scope<'scope, '_>,
        list: Vec<HistoryCommit>,
        mut each: impl FnMut(CommitRecord) -> bool,
    ) -> Result<(), LedgerError> {
        let (mut tree_requests, mut trees) = self.git.object_stream()?;
        let (mut file_requests, mut files) = self.git.object_stream()?;
        let ids: Vec<String> = list.iter().map(|commit| commit.tree.clone()).collect();
        let (plan_sender, plans) = std::sync::mpsc::sync_channel::<Planned>(4096);
        // Asks for every tree; git answers as the next thread reads.
        let asker = scope.spawn(move || {
            for id in &ids {
                tree_requests.request(id)?;
            }
            tree_requests.flush()
        });
        // Reads each tree, asks for its files by id, and says which answers belong to which commit.
        let planner = scope.spawn(move || -> Result<(), GitError> {
            for commit in list {
                let (names, wanted) = match trees.next(MAX_TREE_BYTES)? {
                    Some((kind, bytes)) if kind == "tree" => tree_files(&bytes, commit.id.len() / 2),
                    _ => (vec![("(unreadable tree)".to_owned(), false)], [None, None, None]),
                };
                for blob in wanted.iter().flatten() {
                    file_requests.request(blob)?;
                }
                let asked = wanted.map(|blob| blob.is_some());
                let planned = Planned { id: commit.id, parents: commit.parents, names, asked };
                // Before waiting for room, hand git every buffered request: the reader may be waiting for
                // an answer to one of them (commits that ask for no files fill the queue without filling
                // the buffer).
                let planned = match plan_sender.try_send(planned) {
                    Ok(()) => continue,
                    Err(std::sync::mpsc::TrySendError::Full(planned)) => planned,
                    Err(std::sync::mpsc::TrySendError::Disconnected(_)) => break,
                };
                file_requests.flush()?;
                if plan_sender.send(planned).is_err() {
                    break;
                }
            }
            file_requests.flush()
        });
        let mut open = true;
        let mut result = Ok(());
        for planned in plans {
            let mut take = |asked: bool, bound: usize| -> Result<Option<Vec<u8>>, GitError> {
                if !asked {
                    return Ok(None);
                }
                Ok(match files.next(bound)? {
                    Some((kind, bytes)) if kind == "blob" => Some(bytes),
                    _ => None,
                })
            };
            let [checkpoint, signature, entry] = planned.asked;
            let record = (|| {
                Ok::<_, GitError>(CommitRecord {
                    checkpoint: take(checkpoint, MAX_CHECKPOINT_BYTES)?,
                    checkpoint_sig: take(signature, MAX_SIGNATURE_BYTES)?,
                    entry: take(entry, MAX_ENTRY_BYTES)?,
                    id: planned.id,
                    parents: planned.parents,
                    names: planned.names,
                })
            })();
            match record {
                Ok(record) => {
                    if open {
                        open = each(record);
                    }
                }
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
        }
        // After an error nobody reads the files' answers: end that git first, so a planner blocked on
        // asking it is let go.
        let files = if result.is_err() {
            drop(files);
            None
        } else {
            Some(files)
        };
        let planned = planner.join().map_err(|_| stopped())?;
        drop(files);
        let asked = asker.join().map_err(|_| stopped())?;
        result.and(planned).and(asked).map_err(LedgerError::Git)
    }

    /// Fetches the remote's log into the tracking ref and refuses a remote that no longer holds what it
    /// published before (a rewind or a rewrite). Returns the remote's tip; `Err(Offline)` when it cannot
    /// be reached.
    pub fn fetch(&self) -> Result<Option<String>, LedgerError> {
        let (Some(remote), Some(tracking)) = (self.remote.as_deref(), self.tracking_ref()) else {
            return Ok(None);
        };
        let before = self.git.ref_target(&tracking);
        let tip = self.git.remote_branch(remote, LEDGER_BRANCH).map_err(LedgerError::Offline)?;
        if let Some(tip) = &tip
            && before.as_deref() != Some(tip.as_str())
        {
            self.git.fetch_branch(remote, LEDGER_BRANCH, &tracking).map_err(LedgerError::Offline)?;
        }
        if let Some(before) = &before {
            let kept = tip.as_deref().is_some_and(|tip| self.git.is_ancestor(before, tip));
            if !kept {
                // Keep the last good state in the tracking ref: the alarm stays until a person acts.
                if let Some(tip) = &tip {
                    let _ = self.git.update_ref(&tracking, before, Some(tip));
                }
                return Err(LedgerError::Rewritten(format!(
                    "the log on `{remote}` no longer contains commit {before}, which it had published: its branch \
                     was rewound or rewritten (a force push or a deletion). Nothing was written. Find out who \
                     rewrote it, then restore it from a clone that has every entry (`git push {remote} \
                     {before}:{LEDGER_BRANCH}` from this one)"
                )));
            }
        }
        Ok(tip)
    }

    /// Appends `event` (when given) and publishes every local entry. `key` signs the new checkpoints; it
    /// is needed only when something must be written. `publish: false` keeps everything local.
    pub fn append(
        &self,
        event: Option<LogEvent>,
        key: Option<&SigningKey>,
        allowed: &AllowedSigners,
        now: jiff::Timestamp,
        publish: bool,
    ) -> Result<Appended, LedgerError> {
        let lock = self.lock()?;
        self.append_held(&lock, event, key, allowed, now, publish)
    }

    /// [`BranchLog::append`] for a caller that holds the lock already (signing writes the attestation
    /// files under it first).
    pub fn append_held(
        &self,
        _lock: &Lock,
        event: Option<LogEvent>,
        key: Option<&SigningKey>,
        allowed: &AllowedSigners,
        now: jiff::Timestamp,
        publish: bool,
    ) -> Result<Appended, LedgerError> {
        let mut written = 0;
        let mut backoff = std::time::Duration::from_millis(5);
        for attempt in 1..=MAX_ATTEMPTS {
            // 1. What the remote holds now.
            let mut offline = None;
            let remote_tip = match (publish, self.remote.is_some()) {
                (true, true) => match self.fetch() {
                    Ok(tip) => tip,
                    Err(LedgerError::Offline(why)) => {
                        offline = Some(why);
                        self.tracking_ref().and_then(|name| self.git.ref_target(&name))
                    }
                    Err(other) => return Err(other),
                },
                _ => self.tracking_ref().and_then(|name| self.git.ref_target(&name)),
            };
            // 2. Where to build: on the remote's tip, with local entries it lacks put on top.
            let local = self.git.ref_target(LEDGER_BRANCH);
            let (base, local_only) = match (&local, &remote_tip) {
                (None, None) => (None, Vec::new()),
                (Some(local), None) => (Some(local.clone()), Vec::new()),
                (None, Some(remote)) => (Some(remote.clone()), Vec::new()),
                (Some(local), Some(remote)) => {
                    if self.git.is_ancestor(local, remote) {
                        (Some(remote.clone()), Vec::new())
                    } else if self.git.is_ancestor(remote, local) {
                        (Some(local.clone()), Vec::new())
                    } else {
                        (Some(remote.clone()), self.entries_after_common(local, remote, allowed)?)
                    }
                }
            };
            let history = match &base {
                Some(tip) => {
                    let check = HistoryCheck { allowed, every_checkpoint: false, pin: None, shallow: false };
                    let history = self.read(tip, check)?;
                    if !history.ok() {
                        return Err(LedgerError::Invalid(describe(&history)));
                    }
                    history
                }
                None => History::default(),
            };
            // 3. What to write: local entries the remote lacks, then the event unless the log has it.
            let mut pending: Vec<Pending> = local_only
                .into_iter()
                .filter(|entry| !history.chain.entries.iter().any(|e| e.event == entry.event))
                .map(|entry| Pending { event: entry.event, time: entry.time })
                .collect();
            let logged = |log: &History, pending: &[Pending], event: &LogEvent| {
                log.chain.entries.iter().any(|e| e.event == *event)
                    || pending.iter().any(|p| p.event == *event)
            };
            if let Some(event) = &event
                && !logged(&history, &pending, event)
            {
                pending.push(Pending { event: event.clone(), time: now.to_string() });
            }
            let new_tip = if pending.is_empty() {
                base.clone()
            } else {
                let key = key.ok_or(LedgerError::NeedKey)?;
                written += pending.len();
                Some(self.build(base.as_deref(), &history, &pending, key)?)
            };
            // 4. Move the local branch from exactly what was read.
            if let Some(new_tip) = &new_tip
                && local.as_deref() != Some(new_tip.as_str())
            {
                self.git.update_ref(LEDGER_BRANCH, new_tip, local.as_deref()).map_err(|error| {
                    LedgerError::Remote(format!("another process moved the local log branch: {error}"))
                })?;
            }
            let found = |tip: &Option<String>| -> Result<Option<Entry>, LedgerError> {
                let (Some(event), Some(tip)) = (&event, tip) else { return Ok(None) };
                let check = HistoryCheck { allowed, every_checkpoint: false, pin: None, shallow: false };
                let log = self.read(tip, check)?;
                Ok(log.chain.entries.into_iter().rev().find(|entry| entry.event == *event))
            };
            let done = |published: Option<bool>, note: Option<String>| -> Result<Appended, LedgerError> {
                Ok(Appended { entry: found(&new_tip)?, published, note, written, attempts: attempt })
            };
            // 5. Publish.
            let (Some(remote), Some(new_tip)) = (self.remote.clone(), new_tip.clone()) else {
                return done(None, None);
            };
            if !publish {
                return done(
                    Some(remote_tip.as_deref() == Some(new_tip.as_str())),
                    Some("not pushed (--no-push)".into()),
                );
            }
            if let Some(why) = offline {
                return done(Some(false), Some(format!("the remote `{remote}` cannot be reached: {why}")));
            }
            if remote_tip.as_deref() == Some(new_tip.as_str()) {
                return done(Some(true), None);
            }
            match self.git.push_branch(&remote, &new_tip, LEDGER_BRANCH)? {
                Pushed::Done => {
                    if let Some(tracking) = self.tracking_ref() {
                        let _ = self.git.update_ref(&tracking, &new_tip, remote_tip.as_deref());
                    }
                    return done(Some(true), None);
                }
                Pushed::Retry(_) => {
                    std::thread::sleep(jitter(backoff));
                    backoff = (backoff * 2).min(std::time::Duration::from_millis(400));
                }
                Pushed::Refused(why) => {
                    // The acknowledgement may be what was lost: look before calling it a failure.
                    if let Ok(Some(tip)) = self.git.remote_branch(&remote, LEDGER_BRANCH)
                        && (tip == new_tip
                            || (self.git.ref_target(&tip).is_some() && self.git.is_ancestor(&new_tip, &tip)))
                    {
                        if let Some(tracking) = self.tracking_ref() {
                            let _ = self.git.update_ref(&tracking, &tip, remote_tip.as_deref());
                        }
                        return done(Some(true), None);
                    }
                    return done(
                        Some(false),
                        Some(format!(
                            "the remote `{remote}` refused the push ({why}); the entry is kept in this clone: `release-gate log push` publishes it once the remote accepts"
                        )),
                    );
                }
            }
        }
        let entry = match (&event, self.git.ref_target(LEDGER_BRANCH)) {
            (Some(event), Some(tip)) => {
                let check = HistoryCheck { allowed, every_checkpoint: false, pin: None, shallow: false };
                self.read(&tip, check)?.chain.entries.into_iter().rev().find(|entry| entry.event == *event)
            }
            _ => None,
        };
        Ok(Appended {
            entry,
            published: Some(false),
            note: Some(format!(
                "other writers kept winning the race for the remote after {MAX_ATTEMPTS} attempts; the entry is kept \
                 in this clone: run `release-gate log push`"
            )),
            written,
            attempts: MAX_ATTEMPTS,
        })
    }

    /// The entries of `local` after the last commit it shares with `remote`, oldest first.
    fn entries_after_common(
        &self,
        local: &str,
        remote: &str,
        allowed: &AllowedSigners,
    ) -> Result<Vec<Entry>, LedgerError> {
        let check = HistoryCheck { allowed, every_checkpoint: false, pin: None, shallow: false };
        let log = self.read(local, check)?;
        if !log.ok() {
            return Err(LedgerError::Invalid(describe(&log)));
        }
        let shared = log.commits.iter().take_while(|commit| self.git.is_ancestor(commit, remote)).count();
        Ok(log.chain.entries.into_iter().skip(shared).collect())
    }

    /// Writes one commit per pending event on top of `base`; returns the new tip.
    fn build(
        &self,
        base: Option<&str>,
        history: &History,
        pending: &[Pending],
        key: &SigningKey,
    ) -> Result<String, LedgerError> {
        let mut merkle: Merkle = history.merkle.clone();
        let mut prev = history.chain.head();
        let mut parent = base.map(str::to_owned);
        for item in pending {
            let entry = Entry {
                seq: merkle.size() + 1,
                prev: prev.clone(),
                event: item.event.clone(),
                time: item.time.clone(),
            };
            let line = entry.to_line();
            merkle.push(&line);
            prev = sha256_hex(&line);
            parent = Some(self.write_entry(parent.as_deref(), &entry, &line, &merkle, key)?);
        }
        parent.ok_or(LedgerError::NeedKey)
    }

    /// Writes the commit of one entry: its line, the checkpoint over the log up to it, and the signature.
    fn write_entry(
        &self,
        parent: Option<&str>,
        entry: &Entry,
        line: &[u8],
        merkle: &Merkle,
        key: &SigningKey,
    ) -> Result<String, LedgerError> {
        let text = history::checkpoint_v2_text(merkle.size(), &merkle.root());
        let sig = key
            .sshsig(CHECKPOINT_NAMESPACE, text.as_bytes())
            .map_err(|error| LedgerError::Checkpoint(error.to_string()))?;
        let checkpoint = self.git.write_blob(text.as_bytes())?;
        let signature = self.git.write_blob(sig.as_bytes())?;
        let blob = self.git.write_blob(line)?;
        let tree = self.git.write_tree(&[
            ("checkpoint", checkpoint.as_str()),
            ("checkpoint.sig", signature.as_str()),
            ("entry", blob.as_str()),
        ])?;
        let what = match &entry.event {
            LogEvent::Sign(sign) => format!("sign {}", sign.decision),
            LogEvent::Repair(repair) => format!("repair {}", repair.reason),
        };
        let message = format!("release-gate log entry {}: {what}\n", entry.seq);
        let time = entry.time.parse::<jiff::Timestamp>().map_or(0, |t| t.as_second());
        Ok(self.git.write_commit(&tree, parent, &message, time)?)
    }

    /// Imports the lines of a log file as entries 1..n, byte for byte, each commit with its checkpoint
    /// signed by `key`; the branch must not exist yet.
    pub fn import(&self, lines: &[Vec<u8>], key: &SigningKey) -> Result<String, LedgerError> {
        let _lock = self.lock()?;
        if self.git.ref_target(LEDGER_BRANCH).is_some()
            || self.tracking_ref().and_then(|name| self.git.ref_target(&name)).is_some()
        {
            return Err(LedgerError::Remote(
                "the log branch exists already: the log was migrated before".into(),
            ));
        }
        let mut merkle = Merkle::default();
        let mut parent: Option<String> = None;
        for line in lines {
            let entry: Entry = serde_json::from_slice(line).map_err(|error| {
                LedgerError::Invalid(format!("a line does not read as an entry: {error}"))
            })?;
            merkle.push(line);
            parent = Some(self.write_entry(parent.as_deref(), &entry, line, &merkle, key)?);
        }
        let tip = parent.ok_or_else(|| LedgerError::Invalid("the log file has no entries".into()))?;
        self.git.update_ref(LEDGER_BRANCH, &tip, None)?;
        Ok(tip)
    }

    /// How many leading entries of the log at `view.tip` the remote holds (as last fetched).
    /// `None` when the clone has no remote; 0 when the remote's log was never fetched (or is empty).
    pub fn published_size(&self, view: &View, history: &History) -> Option<u64> {
        self.remote.as_ref()?;
        let Some(remote) = view.remote.as_deref() else { return Some(0) };
        // Ancestry along one first-parent line is monotone: search for the last shared commit.
        let (mut low, mut high) = (0usize, history.commits.len());
        while low < high {
            let middle = low + (high - low) / 2;
            let shared =
                history.commits.get(middle).is_some_and(|commit| self.git.is_ancestor(commit, remote));
            if shared {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        u64::try_from(low).ok()
    }

    /// Where the local git directory keeps the lock (for messages).
    pub fn lock_path(&self) -> Option<PathBuf> {
        self.git.common_dir().ok().map(|dir| dir.join("release-gate-ledger.lock"))
    }
}

impl From<GitError> for LedgerError {
    fn from(error: GitError) -> LedgerError {
        LedgerError::Git(error)
    }
}

/// The names in a raw tree object (`<mode> <name>\0<id>`), each with whether it is a plain file.
/// The names of a tree's entries (with whether each is a regular file) and the blob ids of the log's
/// three files where the tree has them as files, in [`TREE_NAMES`] order. Stops at 16 entries: a tree
/// of the log has three.
fn tree_files(bytes: &[u8], hash_len: usize) -> (Vec<(String, bool)>, [Option<String>; 3]) {
    let mut names = Vec::new();
    let mut wanted = [None, None, None];
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some(space) = rest.iter().position(|b| *b == b' ') else { break };
        let Some(nul) = rest.iter().position(|b| *b == 0) else { break };
        if nul < space {
            break;
        }
        let mode = rest.get(..space).unwrap_or_default();
        let name = String::from_utf8_lossy(rest.get(space + 1..nul).unwrap_or_default()).into_owned();
        let Some(id) = rest.get(nul + 1..nul + 1 + hash_len) else { break };
        let is_file = matches!(mode, b"100644" | b"100755" | b"120000");
        if let Some(slot) = TREE_NAMES.iter().position(|wanted| *wanted == name)
            && is_file
            && let Some(place) = wanted.get_mut(slot)
        {
            *place = Some(hex(id));
        }
        names.push((name, mode == b"100644"));
        rest = rest.get(nul + 1 + hash_len..).unwrap_or_default();
        if names.len() > 16 {
            break;
        }
    }
    (names, wanted)
}

/// The problems of a log, one line each.
pub fn describe(history: &History) -> String {
    history
        .problems
        .iter()
        .map(|problem| format!("{}: {}", problem.code.as_str(), problem.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether a history's problems are only that it is cut short.
pub fn only_incomplete(history: &History) -> bool {
    history.problems.iter().all(|problem| problem.code == LogCode::Incomplete)
}

/// A delay around `base` that differs between processes, so racing writers spread out.
fn jitter(base: std::time::Duration) -> std::time::Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let spread = u64::from(nanos ^ std::process::id().wrapping_mul(2_654_435_761)) % 1000;
    base + base.mul_f64(spread as f64 / 1000.0)
}
