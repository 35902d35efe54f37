//! The decision log's format: hash-chained JSON Lines, chain verification, and the checkpoint text.
//!
//! Each line is one compact JSON object with `seq` (1, 2, ...) and `prev`, the lowercase hex SHA-256 of
//! the previous line's exact bytes (without its newline; 64 zeros for the first line). Hashing stored
//! bytes, not re-serialized JSON, lets anyone recompute the chain with `jq` and `sha256sum`. Pure: the
//! repository crate reads, locks and appends.

use serde::{Deserialize, Serialize};

use crate::signing::sha256_hex;

pub mod history;

/// `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The checkpoint's origin line: names the log format.
pub const CHECKPOINT_ORIGIN: &str = "release-gate.dev/ledger/v1";

/// The largest log release-gate reads (64 MiB): about 100,000 entries.
pub const MAX_LEDGER_BYTES: usize = 64 * 1024 * 1024;

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    pub prev: String,
    #[serde(flatten)]
    pub event: LogEvent,
    /// When the entry was appended, RFC 3339 UTC.
    pub time: String,
}

/// What an entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LogEvent {
    /// A signature was added to a decision's attestation.
    Sign(SignEvent),
    /// `release-gate log repair` cut a torn last line.
    Repair(RepairEvent),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignEvent {
    /// The decision id (the statement's subject name).
    pub decision: String,
    /// Where the decision was read from (a file path relative to the repository root, or a store id).
    pub source: String,
    pub commit: String,
    /// SHA-256 of the statement bytes (the DSSE payload).
    pub statement: String,
    /// SHA-256 of the envelope file after this signature was added.
    pub envelope: String,
    /// Every signer of the envelope after this signature, in envelope order.
    pub signers: Vec<Signer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// The principals allowed_signers gives the key.
    pub principals: Vec<String>,
    /// `SHA256:...` fingerprint of the key.
    pub key: String,
    /// The SSH signature file's name (in `.release/attestations/`) and SHA-256.
    pub sshsig: String,
    pub sshsig_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairEvent {
    /// `torn-tail`: a torn last line was cut. `checkpoint`: an unverifiable checkpoint (a crash between
    /// writing its two files, or tampering) was re-signed over the intact chain by the person repairing.
    pub reason: String,
    /// How many bytes were cut from the end of the file.
    pub truncated_bytes: u64,
    /// SHA-256 of the bytes that were cut.
    pub truncated_sha256: String,
}

impl Entry {
    /// The line's exact bytes, without the newline.
    pub fn to_line(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A line that breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct Broken {
    /// 1-based line number.
    pub line: usize,
    pub reason: String,
}

/// Bytes after the last newline: a write that did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// Byte offset where the torn line starts (the file's length after a repair).
    pub offset: usize,
    pub bytes: Vec<u8>,
}

/// A read of the log: the complete lines, the head, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chain {
    pub entries: Vec<Entry>,
    /// SHA-256 of each complete line's bytes, in order.
    pub hashes: Vec<String>,
    /// The first line that breaks the chain, if any; entries stop before it.
    pub broken: Option<Broken>,
    pub torn: Option<TornTail>,
}

impl Chain {
    /// `prev` for the next line.
    pub fn head(&self) -> String {
        self.hashes.last().cloned().unwrap_or_else(|| GENESIS.to_owned())
    }

    pub fn next_seq(&self) -> u64 {
        u64::try_from(self.hashes.len()).unwrap_or(u64::MAX).saturating_add(1)
    }

    /// Whether the chain is whole: no broken line and no torn tail.
    pub fn is_intact(&self) -> bool {
        self.broken.is_none() && self.torn.is_none()
    }
}

/// Reads and verifies the whole log. Never stops at a parse error: it reports the first broken line.
pub fn read_chain(bytes: &[u8]) -> Chain {
    let mut chain = Chain::default();
    if bytes.len() > MAX_LEDGER_BYTES {
        chain.broken = Some(Broken { line: 1, reason: "the log is larger than 64 MiB".into() });
        return chain;
    }
    let mut offset = 0;
    let mut line_number = 0;
    let mut prev = GENESIS.to_owned();
    while offset < bytes.len() {
        let rest = bytes.get(offset..).unwrap_or_default();
        let Some(end) = rest.iter().position(|b| *b == b'\n') else {
            chain.torn = Some(TornTail { offset, bytes: rest.to_vec() });
            break;
        };
        line_number += 1;
        let line = rest.get(..end).unwrap_or_default();
        offset += end + 1;
        if chain.broken.is_some() {
            continue;
        }
        match check_line(line, &prev, line_number) {
            Ok(entry) => {
                prev = sha256_hex(line);
                chain.hashes.push(prev.clone());
                chain.entries.push(entry);
            }
            Err(reason) => chain.broken = Some(Broken { line: line_number, reason }),
        }
    }
    chain
}

pub(crate) fn check_line(line: &[u8], prev: &str, number: usize) -> Result<Entry, String> {
    let entry: Entry = serde_json::from_slice(line).map_err(|error| format!("not a log entry ({error})"))?;
    if entry.prev != prev {
        return Err(format!(
            "`prev` is {} but the SHA-256 of the previous line is {prev}: the log was edited",
            entry.prev
        ));
    }
    let expected = u64::try_from(number).unwrap_or(u64::MAX);
    if entry.seq != expected {
        return Err(format!(
            "`seq` is {} where {expected} was expected: a line was removed or added",
            entry.seq
        ));
    }
    if entry.to_line() != line {
        return Err("the line is not in release-gate's exact form (extra or reordered fields)".into());
    }
    Ok(entry)
}

/// The checkpoint text: origin, number of entries, and the head's SHA-256, one per line.
pub fn checkpoint_text(size: usize, head: &str) -> String {
    format!("{CHECKPOINT_ORIGIN}\n{size}\n{head}\n")
}

/// A parsed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub size: usize,
    pub head: String,
}

/// Reads a checkpoint text.
pub fn parse_checkpoint(text: &str) -> Result<Checkpoint, String> {
    let mut lines = text.split('\n');
    let origin = lines.next().unwrap_or_default();
    if origin != CHECKPOINT_ORIGIN {
        return Err(format!("origin is `{origin}`, expected `{CHECKPOINT_ORIGIN}`"));
    }
    let size = lines
        .next()
        .and_then(|size| size.parse::<usize>().ok())
        .ok_or("the second line is not a number of entries")?;
    let head = lines.next().unwrap_or_default().to_owned();
    if head.len() != 64 || !head.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("the third line is not a SHA-256 in hex".into());
    }
    if lines.next() != Some("") || lines.next().is_some() {
        return Err("a checkpoint has exactly three lines, each ending in a newline".into());
    }
    Ok(Checkpoint { size, head })
}

/// Checks a checkpoint against a chain: it must pin a prefix of the log (usually all of it).
pub fn check_checkpoint(chain: &Chain, checkpoint: &Checkpoint) -> Result<(), String> {
    if checkpoint.size == 0 {
        return if checkpoint.head == GENESIS {
            Ok(())
        } else {
            Err("an empty checkpoint must pin 64 zeros".into())
        };
    }
    let Some(hash) = chain.hashes.get(checkpoint.size - 1) else {
        return Err(format!(
            "the checkpoint pins {} entries but the log has {}: entries were removed",
            checkpoint.size,
            chain.hashes.len()
        ));
    };
    if *hash != checkpoint.head {
        return Err(format!(
            "entry {} has SHA-256 {hash} but the checkpoint pins {}: the log was rewritten",
            checkpoint.size, checkpoint.head
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn entry(seq: u64, prev: &str, decision: &str) -> Entry {
        Entry {
            seq,
            prev: prev.to_owned(),
            event: LogEvent::Sign(SignEvent {
                decision: decision.into(),
                source: "d.md".into(),
                commit: "a".repeat(40),
                statement: "b".repeat(64),
                envelope: "c".repeat(64),
                signers: vec![],
            }),
            time: "2026-11-28T00:00:00Z".into(),
        }
    }

    fn log(n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut prev = GENESIS.to_owned();
        for seq in 1..=n {
            let line = entry(seq, &prev, &format!("d{seq}")).to_line();
            prev = sha256_hex(&line);
            out.extend_from_slice(&line);
            out.push(b'\n');
        }
        out
    }

    #[test]
    fn a_written_chain_verifies() {
        let chain = read_chain(&log(3));
        assert!(chain.is_intact(), "{chain:?}");
        assert_eq!(chain.entries.len(), 3);
        assert_eq!(chain.next_seq(), 4);
        assert!(read_chain(b"").is_intact());
        assert_eq!(read_chain(b"").head(), GENESIS);
    }

    #[test]
    fn every_single_byte_change_is_caught_by_the_chain_or_the_checkpoint() {
        let bytes = log(3);
        let original = read_chain(&bytes);
        let checkpoint = parse_checkpoint(&checkpoint_text(3, &original.head())).unwrap();
        for at in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[at] ^= 0x01;
            let chain = read_chain(&changed);
            let caught = !chain.is_intact() || check_checkpoint(&chain, &checkpoint).is_err();
            assert!(caught, "byte {at} went unnoticed");
        }
    }

    #[test]
    fn first_broken_line_is_reported() {
        let bytes = log(3);
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let swapped = format!("{}\n{}\n{}\n", lines[0], lines[2], lines[1]);
        let chain = read_chain(swapped.as_bytes());
        assert_eq!(chain.broken.as_ref().unwrap().line, 2);
        assert_eq!(chain.entries.len(), 1);
        let dropped = format!("{}\n{}\n", lines[0], lines[2]);
        assert!(read_chain(dropped.as_bytes()).broken.unwrap().reason.contains("edited"));
    }

    #[test]
    fn torn_tail_is_detected_and_complete_lines_kept() {
        let mut bytes = log(2);
        let full = bytes.len();
        bytes.extend_from_slice(b"{\"seq\":3,\"pr");
        let chain = read_chain(&bytes);
        assert_eq!(chain.torn.as_ref().unwrap().offset, full);
        assert!(chain.broken.is_none());
        assert_eq!(chain.entries.len(), 2);
    }

    #[test]
    fn checkpoints_pin_a_prefix() {
        let chain = read_chain(&log(3));
        let text = checkpoint_text(3, &chain.head());
        let checkpoint = parse_checkpoint(&text).unwrap();
        assert_eq!(check_checkpoint(&chain, &checkpoint), Ok(()));
        let older = parse_checkpoint(&checkpoint_text(2, &chain.hashes[1])).unwrap();
        assert_eq!(check_checkpoint(&chain, &older), Ok(()));
        let shorter = read_chain(&log(2));
        assert!(check_checkpoint(&shorter, &checkpoint).unwrap_err().contains("removed"));
        let wrong = parse_checkpoint(&checkpoint_text(3, GENESIS)).unwrap();
        assert!(check_checkpoint(&chain, &wrong).unwrap_err().contains("rewritten"));
        assert!(parse_checkpoint("x\n1\nab\n").is_err());
        assert!(parse_checkpoint(&format!("{CHECKPOINT_ORIGIN}\n1\n{GENESIS}")).is_err());
    }
}
