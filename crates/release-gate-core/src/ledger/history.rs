//! The decision log as a git history: one commit per entry on its own branch, an RFC 6962 Merkle root
//! over the entries, a signed checkpoint in every commit, and the checks `log verify` makes.
//!
//! Pure: the repository crate reads the commits (ids, parent counts, the names in each tree and the three
//! files' bytes) and passes them in as values. Each commit's tree holds exactly `entry` (the log line's
//! bytes, without a newline), `checkpoint` (origin, size and base64 Merkle root, C2SP tlog-checkpoint's
//! body) and `checkpoint.sig` (an SSH signature under `release-gate-checkpoint`). Entry `k` lives in the
//! `k`-th commit from the root, so a fast-forward push can only add entries: changing an old one means
//! rewriting history, which the chain, the signed checkpoints and a pinned checkpoint each catch.

use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::{Chain, Entry, GENESIS, check_line};
use crate::signing::{
    AllowedSigners, CHECKPOINT_NAMESPACE, PublicKey, SshSigError, SshSignature, Verifiers, sha256_hex,
};

/// The origin line of a checkpoint of the log on its branch (`v1` pinned the last line's hash).
pub const CHECKPOINT_ORIGIN_V2: &str = "release-gate.dev/ledger/v2";

/// The files of an entry commit, in git's tree order.
pub const TREE_NAMES: [&str; 3] = ["checkpoint", "checkpoint.sig", "entry"];

/// Bounds on what is read from the log branch (untrusted input).
pub const MAX_ENTRY_BYTES: usize = 1024 * 1024;
pub const MAX_CHECKPOINT_BYTES: usize = 4096;
pub const MAX_SIGNATURE_BYTES: usize = 16 * 1024;
/// The longest log read: a million entries.
pub const MAX_ENTRIES: usize = 1_000_000;
/// How many problems of one code a report keeps (the rest are counted).
const MAX_PER_CODE: usize = 5;

/// RFC 6962 leaf hash: SHA-256(0x00 || entry).
pub fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(entry);
    hasher.finalize().into()
}

/// RFC 6962 interior node hash: SHA-256(0x01 || left || right).
pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The Merkle tree head of a growing log, kept as the roots of its perfect subtrees (a compact range):
/// appending costs O(1) amortized, the root of the current size O(log n).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Merkle {
    /// (height, hash) of each perfect subtree, largest first.
    stack: Vec<(u32, [u8; 32])>,
    size: u64,
}

impl Merkle {
    pub fn push(&mut self, entry: &[u8]) {
        let mut node = (0u32, leaf_hash(entry));
        while let Some(&(height, left)) = self.stack.last() {
            if height != node.0 {
                break;
            }
            self.stack.pop();
            node = (height + 1, node_hash(&left, &node.1));
        }
        self.stack.push(node);
        self.size += 1;
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// RFC 6962 MTH of the entries so far (SHA-256 of the empty string for none).
    pub fn root(&self) -> [u8; 32] {
        let mut iter = self.stack.iter().rev();
        let Some(&(_, mut hash)) = iter.next() else { return Sha256::digest(b"").into() };
        for (_, left) in iter {
            hash = node_hash(left, &hash);
        }
        hash
    }
}

/// The checkpoint text of a log of `size` entries with Merkle root `root`.
pub fn checkpoint_v2_text(size: u64, root: &[u8; 32]) -> String {
    let root = base64::engine::general_purpose::STANDARD.encode(root);
    format!("{CHECKPOINT_ORIGIN_V2}\n{size}\n{root}\n")
}

/// A checkpoint someone kept (a CI artifact, a release note, an auditor's last run): what `log verify
/// --since-checkpoint` proves the log still extends. Both formats are read: `v2` (Merkle root) and the
/// `v1` checkpoint of the log file the branch replaced (the last line's SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    V1 { size: u64, head: String },
    V2 { size: u64, root: [u8; 32] },
}

impl Pin {
    pub fn size(&self) -> u64 {
        match self {
            Pin::V1 { size, .. } | Pin::V2 { size, .. } => *size,
        }
    }
}

/// Reads a checkpoint text of either version. Strict: exactly three lines, each ending in a newline.
pub fn parse_pin(text: &[u8]) -> Result<Pin, String> {
    let text = std::str::from_utf8(text).map_err(|_| "a checkpoint is UTF-8 text".to_owned())?;
    let lines: Vec<&str> = text.split('\n').collect();
    let [origin, size, third, ""] = lines.as_slice() else {
        return Err("a checkpoint has exactly three lines, each ending in a newline".into());
    };
    let size: u64 = size
        .parse()
        .ok()
        .filter(|_| !size.starts_with('+') && (size.len() == 1 || !size.starts_with('0')))
        .ok_or("the second line is not a number of entries")?;
    match *origin {
        super::CHECKPOINT_ORIGIN => {
            if third.len() != 64 || !third.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
                return Err("the third line is not a lowercase hex SHA-256".into());
            }
            Ok(Pin::V1 { size, head: (*third).to_owned() })
        }
        CHECKPOINT_ORIGIN_V2 => {
            let root = base64::engine::general_purpose::STANDARD
                .decode(third)
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or("the third line is not a base64 SHA-256 Merkle root")?;
            if checkpoint_v2_text(size, &root) != text {
                return Err("the checkpoint is not in its exact form".into());
            }
            Ok(Pin::V2 { size, root })
        }
        other => Err(format!(
            "origin is `{other}`, expected `{CHECKPOINT_ORIGIN_V2}` (or `{}`)",
            super::CHECKPOINT_ORIGIN
        )),
    }
}

macro_rules! log_codes {
    ($( $variant:ident = $code:literal, $meaning:literal; )*) => {
        /// What `log verify` found. Stable kebab-case names, like finding codes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema)]
        pub enum LogCode {
            $( #[serde(rename = $code)] $variant, )*
        }

        impl LogCode {
            pub const ALL: &'static [LogCode] = &[$( LogCode::$variant, )*];

            pub fn as_str(self) -> &'static str {
                match self { $( LogCode::$variant => $code, )* }
            }

            pub fn meaning(self) -> &'static str {
                match self { $( LogCode::$variant => $meaning, )* }
            }
        }
    };
}

log_codes! {
    Incomplete = "ledger-incomplete", "the history is cut short (a shallow clone) or objects are missing";
    NotLinear = "ledger-not-linear", "a merge commit on the log branch";
    EntryRewritten = "ledger-entry-rewritten", "an entry was edited, removed or reordered after it was logged";
    EntryInvalid = "ledger-entry-invalid", "a commit is not an entry commit (other files, an unreadable entry)";
    CheckpointInvalid = "ledger-checkpoint-invalid", "a checkpoint is missing, malformed, or not signed by a trusted key";
    RolledBack = "ledger-rolled-back", "the log is shorter than a checkpoint pinned earlier: entries were removed";
    Forked = "ledger-forked", "the log does not extend a checkpoint pinned earlier: history was rewritten";
    Unpublished = "ledger-unpublished", "local entries the remote log does not have yet";
    Legacy = "ledger-legacy", "a log file on the working branch that was not migrated to the log branch";
}

/// One problem with the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LogProblem {
    pub code: LogCode,
    pub message: String,
}

/// One commit of the log branch, as read from git (all of it untrusted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitRecord {
    pub id: String,
    /// How many parents the commit has (more than one: a merge).
    pub parents: usize,
    /// The names in the commit's tree, with whether each is a regular, non-executable file.
    pub names: Vec<(String, bool)>,
    pub entry: Option<Vec<u8>>,
    pub checkpoint: Option<Vec<u8>>,
    pub checkpoint_sig: Option<Vec<u8>>,
}

impl CommitRecord {
    /// The bytes of its files and names (for bounding how much is held at once).
    pub fn size(&self) -> usize {
        let files = [&self.entry, &self.checkpoint, &self.checkpoint_sig];
        files.iter().map(|file| file.as_ref().map_or(0, Vec::len)).sum::<usize>()
            + self.names.iter().map(|(name, _)| name.len()).sum::<usize>()
            + self.id.len()
    }
}

/// How deep `verify_history` looks.
#[derive(Debug, Clone, Copy)]
pub struct HistoryCheck<'a> {
    pub allowed: &'a AllowedSigners,
    /// Check every commit's checkpoint signature (`log verify`), or only the tip's (`verify` of one
    /// decision, `sign` before building on the log: the tip's trusted signer vouches for every entry).
    pub every_checkpoint: bool,
    pub pin: Option<&'a Pin>,
    /// The repository is a shallow clone whose boundary cuts this history.
    pub shallow: bool,
}

/// The verdict on a log history.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The entries and their line hashes, in order (those that parse; `broken` stays empty: problems
    /// say what is wrong).
    pub chain: Chain,
    pub commits: Vec<String>,
    /// RFC 6962 root over every entry's bytes.
    pub merkle: Merkle,
    pub problems: Vec<LogProblem>,
    /// Warnings that do not fail the log (entry times out of order).
    pub notes: Vec<String>,
    /// Who signed the tip's checkpoint (principals), when it verified.
    pub tip_signers: Vec<String>,
    /// Problems left out after `MAX_PER_CODE` of a code.
    omitted: usize,
}

impl History {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn size(&self) -> u64 {
        self.merkle.size()
    }

    pub fn checkpoint_text(&self) -> String {
        checkpoint_v2_text(self.merkle.size(), &self.merkle.root())
    }

    fn problem(&mut self, code: LogCode, message: String) {
        let kept = self.problems.iter().filter(|p| p.code == code).count();
        if kept < MAX_PER_CODE {
            self.problems.push(LogProblem { code, message });
        } else {
            self.omitted += 1;
        }
    }

    fn finish(&mut self) {
        if self.omitted > 0 {
            let omitted = self.omitted;
            self.notes.push(format!("{omitted} more problems of the same codes were left out"));
        }
    }
}

/// Verifies a log history, oldest commit first: structure, chain, Merkle roots, checkpoint signatures and
/// consistency with a pinned checkpoint. Gathers every problem (a few of each code).
pub fn verify_history(commits: &[CommitRecord], check: HistoryCheck<'_>) -> History {
    verify_history_stream(commits, commits.len(), check)
}

/// From how many commits `log verify` checks signatures on a second thread.
const PARALLEL_FROM: usize = 64;

/// [`verify_history`] over commits as they are read (`total` of them), so checking overlaps reading; a
/// stream that ends early is reported as an incomplete history. Checking every checkpoint of a long
/// log, the signatures (each on its own: does it verify with the key it names) are checked on a second
/// thread ahead of this one, which checks everything that depends on order.
pub fn verify_history_stream<C, I>(commits: I, total: usize, check: HistoryCheck<'_>) -> History
where
    C: std::borrow::Borrow<CommitRecord> + Send,
    I: IntoIterator<Item = C>,
    I::IntoIter: Send,
{
    let wanted = move |number: usize| check.every_checkpoint || number == total;
    if !check.every_checkpoint || total < PARALLEL_FROM {
        let mut verifiers = Verifiers::default();
        let checked = commits.into_iter().enumerate().map(|(index, commit)| {
            let signature = if wanted(index + 1) {
                check_signature(commit.borrow(), &mut verifiers)
            } else {
                Signature::NotChecked
            };
            (commit, signature)
        });
        return check_commits(checked, total, check);
    }
    let commits = commits.into_iter();
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<(C, Signature)>>(QUEUED_BATCHES);
        scope.spawn(move || {
            let mut verifiers = Verifiers::default();
            let mut batcher = Batcher::default();
            for commit in commits {
                let signature = check_signature(commit.borrow(), &mut verifiers);
                let size = commit.borrow().size();
                if let Some(batch) = batcher.push((commit, signature), size)
                    && sender.send(batch).is_err()
                {
                    return;
                }
            }
            if let Some(batch) = batcher.finish() {
                let _ = sender.send(batch);
            }
        });
        check_commits(receiver.into_iter().flatten(), total, check)
    })
}

/// How many batches a channel between two stages of the log's reading and checking holds.
pub const QUEUED_BATCHES: usize = 8;

/// Commit records grouped for handing from one thread to the next: at most [`Batcher::ITEMS`], fewer
/// once their files reach [`Batcher::BYTES`], with at most [`QUEUED_BATCHES`] batches waiting. One
/// wake-up serves many small entries and a log of large ones cannot pile up in memory: the one batching
/// rule of the log's reader and checker.
#[derive(Debug)]
pub struct Batcher<T> {
    items: Vec<T>,
    bytes: usize,
}

impl<T> Default for Batcher<T> {
    fn default() -> Self {
        Batcher { items: Vec::with_capacity(Self::ITEMS), bytes: 0 }
    }
}

impl<T> Batcher<T> {
    pub const ITEMS: usize = 32;
    /// A log's entries are a few hundred bytes each.
    pub const BYTES: usize = 256 * 1024;

    /// Adds an item of `bytes`; the batch, when this one filled it.
    pub fn push(&mut self, item: T, bytes: usize) -> Option<Vec<T>> {
        self.items.push(item);
        self.bytes += bytes;
        (self.items.len() >= Self::ITEMS || self.bytes >= Self::BYTES).then(|| {
            self.bytes = 0;
            std::mem::replace(&mut self.items, Vec::with_capacity(Self::ITEMS))
        })
    }

    /// The items left, if any.
    pub fn finish(self) -> Option<Vec<T>> {
        (!self.items.is_empty()).then_some(self.items)
    }
}

/// A checkpoint signature checked on its own, before the order-dependent checks.
enum Signature {
    NotChecked,
    Missing,
    NotSshSig(SshSigError),
    Fails(SshSigError),
    /// It verifies with the key it names.
    By(PublicKey),
}

fn check_signature(commit: &CommitRecord, verifiers: &mut Verifiers) -> Signature {
    let (Some(text), Some(sig)) = (commit.checkpoint.as_deref(), commit.checkpoint_sig.as_deref()) else {
        return Signature::Missing;
    };
    let signature = match SshSignature::parse(sig) {
        Ok(signature) => signature,
        Err(reason) => return Signature::NotSshSig(reason),
    };
    match signature.verify(CHECKPOINT_NAMESPACE, text, verifiers) {
        Ok(()) => Signature::By(signature.key()),
        Err(reason) => Signature::Fails(reason),
    }
}

fn check_commits<C: std::borrow::Borrow<CommitRecord>>(
    commits: impl IntoIterator<Item = (C, Signature)>,
    total: usize,
    check: HistoryCheck<'_>,
) -> History {
    let mut out = History::default();
    if check.shallow {
        out.problem(
            LogCode::Incomplete,
            "the log's history is cut short by a shallow clone: fetch all of it (`git fetch --unshallow`, or \
             `git fetch origin +refs/heads/release-gate-ledger:refs/remotes/origin/release-gate-ledger` in a full clone)"
                .into(),
        );
    }
    let mut prev = GENESIS.to_owned();
    let mut last_time: Option<jiff::Timestamp> = None;
    let mut seen = 0;
    for (index, (commit, signature)) in commits.into_iter().enumerate() {
        let commit = commit.borrow();
        let number = index + 1;
        seen = number;
        let short = crate::value::short_commit(&commit.id).to_owned();
        out.commits.push(commit.id.clone());
        if commit.parents > 1 {
            out.problem(
                LogCode::NotLinear,
                format!(
                    "commit {short} merges {} histories: the log is one line of commits, never merged; \
                     reset the branch to its last linear commit and re-publish the lost entries",
                    commit.parents
                ),
            );
        }
        let names: Vec<&str> = commit.names.iter().map(|(name, _)| name.as_str()).collect();
        if names != TREE_NAMES || commit.names.iter().any(|(_, regular)| !regular) {
            out.problem(
                LogCode::EntryInvalid,
                format!(
                    "commit {short} (entry {number}) holds {names:?}, not exactly the files {TREE_NAMES:?}: \
                     it was not written by release-gate"
                ),
            );
        }
        let Some(entry) = commit.entry.as_deref() else {
            out.problem(
                LogCode::Incomplete,
                format!(
                    "commit {short} (entry {number}) has no readable entry: its object is missing or damaged; run \
                     `git fsck`, and fetch the log whole if this clone is shallow or partial"
                ),
            );
            continue;
        };
        match check_line(entry, &prev, number) {
            Ok(parsed) => {
                if let Ok(time) = parsed.time.parse::<jiff::Timestamp>() {
                    if last_time.is_some_and(|last| time < last) {
                        out.notes.push(format!(
                            "entry {number} is stamped {time}, earlier than the entry before it (clocks differ; \
                             the order is the chain's)"
                        ));
                    }
                    last_time = Some(time);
                }
                out.chain.entries.push(parsed);
            }
            Err(reason) if number == 1 && entry_seq(entry).is_some_and(|seq| seq > 1) => {
                out.problem(
                    LogCode::Incomplete,
                    format!(
                        "the oldest commit available ({short}) holds entry {}, not 1 ({reason}): the history \
                         is cut short (a shallow clone?); fetch all of it",
                        entry_seq(entry).unwrap_or_default()
                    ),
                );
            }
            Err(reason) => {
                let code = if serde_json::from_slice::<Entry>(entry).is_ok() {
                    LogCode::EntryRewritten
                } else {
                    LogCode::EntryInvalid
                };
                out.problem(code, format!("entry {number} (commit {short}): {reason}"));
            }
        }
        prev = sha256_hex(entry);
        out.chain.hashes.push(prev.clone());
        out.merkle.push(entry);
        if check.pin.is_some_and(|pin| pin.size() == out.merkle.size()) {
            check_pin(&mut out, check.pin, &prev);
        }
        let is_tip = number == total;
        if check.every_checkpoint || is_tip {
            check_checkpoint(&mut out, commit, signature, check, number, &short, is_tip);
        }
    }
    if seen < total {
        out.problem(
            LogCode::Incomplete,
            format!(
                "only {seen} of the log's {total} commits could be read; run `git fsck` and read it again"
            ),
        );
    }
    if let Some(pin) = check.pin
        && pin.size() > out.merkle.size()
    {
        out.problem(
            LogCode::RolledBack,
            format!(
                "the log has {} entries but a checkpoint pinned earlier has {}: entries were removed (a \
                 force-pushed rewind); restore the branch from a clone that has them",
                out.merkle.size(),
                pin.size()
            ),
        );
    }
    if let Some(Pin::V2 { size: 0, root }) = check.pin
        && *root != Merkle::default().root()
    {
        out.problem(
            LogCode::Forked,
            "the pinned empty checkpoint has a root other than the empty tree's".into(),
        );
    }
    out.finish();
    out
}

fn entry_seq(entry: &[u8]) -> Option<u64> {
    serde_json::from_slice::<serde_json::Value>(entry).ok()?.get("seq")?.as_u64()
}

fn check_pin(out: &mut History, pin: Option<&Pin>, head: &str) {
    let matches = match pin {
        Some(Pin::V1 { head: pinned, .. }) => pinned == head,
        Some(Pin::V2 { root, .. }) => *root == out.merkle.root(),
        None => true,
    };
    if !matches {
        let size = out.merkle.size();
        out.problem(
            LogCode::Forked,
            format!(
                "the first {size} entries differ from the checkpoint pinned earlier at that size: the history was \
                 rewritten (a fork); trust the pinned checkpoint and find who rewrote the branch"
            ),
        );
    }
}

fn check_checkpoint(
    out: &mut History,
    commit: &CommitRecord,
    signature: Signature,
    check: HistoryCheck<'_>,
    number: usize,
    short: &str,
    is_tip: bool,
) {
    let Some(text) = commit.checkpoint.as_deref().filter(|_| !matches!(signature, Signature::Missing)) else {
        out.problem(
            LogCode::CheckpointInvalid,
            format!("commit {short} (entry {number}) has no checkpoint or no checkpoint.sig"),
        );
        return;
    };
    let size = out.merkle.size();
    match parse_pin(text) {
        Ok(Pin::V2 { size: pinned, root }) if pinned == size && root == out.merkle.root() => {}
        Ok(Pin::V2 { size: pinned, .. }) if pinned == size => out.problem(
            LogCode::EntryRewritten,
            format!(
                "commit {short}'s checkpoint pins a Merkle root that entries 1 to {size} no longer have: an \
                 entry at or before {size} was rewritten after it was logged"
            ),
        ),
        Ok(pin) => out.problem(
            LogCode::CheckpointInvalid,
            format!("commit {short} (entry {number})'s checkpoint pins {} entries, not {size}", pin.size()),
        ),
        Err(reason) => out.problem(
            LogCode::CheckpointInvalid,
            format!("commit {short} (entry {number})'s checkpoint: {reason}"),
        ),
    }
    let key = match signature {
        Signature::By(key) => key,
        Signature::NotSshSig(reason) => {
            out.problem(
                LogCode::CheckpointInvalid,
                format!("commit {short}'s checkpoint.sig is not an SSH signature: {reason}"),
            );
            return;
        }
        Signature::Fails(reason) => {
            out.problem(
                LogCode::CheckpointInvalid,
                format!("commit {short}'s checkpoint signature does not verify: {reason}"),
            );
            return;
        }
        // Not reached (a checkpoint checked here always had its signature checked); fails closed.
        Signature::Missing | Signature::NotChecked => {
            out.problem(
                LogCode::CheckpointInvalid,
                format!("commit {short}'s checkpoint signature was not checked"),
            );
            return;
        }
    };
    let at = out.chain.entries.last().and_then(|entry| entry.time.parse::<jiff::Timestamp>().ok());
    let Some(at) = at.filter(|_| out.chain.entries.len() == number) else {
        return;
    };
    match check.allowed.principals(&key, CHECKPOINT_NAMESPACE, at) {
        Ok(principals) => {
            if is_tip {
                out.tip_signers = principals.into_iter().collect();
            }
        }
        Err(why) => out.problem(
            LogCode::CheckpointInvalid,
            format!(
                "commit {short}'s checkpoint is signed by {}: {why} (namespace `{CHECKPOINT_NAMESPACE}`, at the \
                 entry's time {at}); only keys in allowed_signers may extend the log",
                key.fingerprint()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// RFC 6962's recursive definition, to check the compact range against.
    fn mth(leaves: &[&[u8]]) -> [u8; 32] {
        match leaves.len() {
            0 => Sha256::digest(b"").into(),
            1 => leaf_hash(leaves[0]),
            n => {
                let k = n.next_power_of_two() / 2;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn the_compact_range_gives_rfc_6962_roots_for_every_size() {
        let data: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; usize::from(i)]).collect();
        let mut merkle = Merkle::default();
        assert_eq!(merkle.root(), mth(&[]));
        for n in 1..=data.len() {
            merkle.push(&data[n - 1]);
            let leaves: Vec<&[u8]> = data[..n].iter().map(Vec::as_slice).collect();
            assert_eq!(merkle.root(), mth(&leaves), "size {n}");
        }
        // RFC 6962's empty-tree hash (e3b0...) and a one-leaf tree.
        assert_eq!(crate::signing::hex(&Merkle::default().root())[..8], *"e3b0c442");
    }

    #[test]
    fn pins_of_both_versions_parse_strictly() {
        let root = [7u8; 32];
        let text = checkpoint_v2_text(12, &root);
        assert_eq!(parse_pin(text.as_bytes()).unwrap(), Pin::V2 { size: 12, root });
        let v1 = format!("{}\n3\n{}\n", super::super::CHECKPOINT_ORIGIN, "ab".repeat(32));
        assert_eq!(parse_pin(v1.as_bytes()).unwrap().size(), 3);
        for bad in [
            text.trim_end().to_owned(),
            text.replace("\n12\n", "\n012\n"),
            text.replace("\n12\n", "\n+12\n"),
            format!("{text}extra\n"),
            text.replace("v2", "v3"),
            v1.replace("ab", "AB"),
        ] {
            assert!(parse_pin(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }
}
