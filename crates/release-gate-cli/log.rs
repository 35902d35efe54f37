//! `release-gate log`: verify the decision log's chain and checkpoint, repair a torn tail, export it.

use std::io::Write;

use release_gate_repo::keys;
use release_gate_repo::ledger::{self, Ledger};

use crate::Outcome;
use crate::attest;
use crate::cli::{ExportFormat, LogAction, LogArgs, PlainFormat};
use crate::output::{self, ERROR, GOOD};

pub fn run(args: &LogArgs) -> anyhow::Result<Outcome> {
    let release_dir = attest::release_dir()?;
    let log = Ledger::new(&release_dir);
    match &args.action {
        LogAction::Verify { allowed_signers, format } => {
            let allowed = attest::allowed_signers(allowed_signers.as_deref(), &release_dir)?;
            let chain = log.read()?;
            let mut problems = Vec::new();
            if let Some(broken) = &chain.broken {
                problems.push(format!("broken at {broken}"));
            }
            if let Some(torn) = &chain.torn {
                problems.push(format!(
                    "torn last line at byte {} ({} bytes, from an interrupted write): run `release-gate log repair`",
                    torn.offset,
                    torn.bytes.len()
                ));
            }
            let checkpoint = log.check_checkpoint(&chain, &allowed);
            if let Err(reason) = &checkpoint {
                problems.push(format!("checkpoint: {reason}"));
            }
            let ok = problems.is_empty();
            match format {
                PlainFormat::Json => output::json(&serde_json::json!({
                    "ok": ok,
                    "entries": chain.entries.len(),
                    "head": chain.head(),
                    "broken_line": chain.broken.as_ref().map(|b| b.line),
                    "torn_bytes": chain.torn.as_ref().map(|t| t.bytes.len()),
                    "checkpoint": checkpoint.as_ref().ok(),
                    "problems": problems,
                }))?,
                PlainFormat::Text => {
                    let mut out = output::stdout();
                    for problem in &problems {
                        writeln!(out, "{ERROR}error{ERROR:#}: {}: {problem}", log.path.display())?;
                    }
                    if ok {
                        writeln!(
                            out,
                            "{GOOD}verified{GOOD:#}: {} entries, head {}; {}",
                            chain.entries.len(),
                            chain.head(),
                            checkpoint.as_deref().unwrap_or_default()
                        )?;
                    }
                    out.flush()?;
                }
            }
            Ok(if ok { Outcome::Success } else { Outcome::Failure })
        }
        LogAction::Repair { key } => {
            let root = attest::repo_root()?;
            let key = key.as_deref().map(|path| keys::load_signing_key(path, root.as_deref())).transpose()?;
            let mut locked = log.lock()?;
            let now = jiff::Timestamp::now();
            let repaired = locked.repair(now)?;
            let mut out = output::stdout();
            match &repaired {
                Some(entry) => writeln!(
                    out,
                    "{GOOD}repaired{GOOD:#}: cut the torn last line; logged as entry {}",
                    entry.seq
                )?,
                None => writeln!(out, "the log ends in a complete line; nothing to cut")?,
            }
            if let Some(key) = &key {
                let allowed = attest::allowed_signers(None, &release_dir)?;
                if repaired.is_some() {
                    locked.write_checkpoint(key)?;
                    writeln!(out, "re-signed the checkpoint")?;
                } else if let Err(reason) = log.check_checkpoint(locked.chain(), &allowed) {
                    let entry = locked.resign_checkpoint(key, now)?;
                    writeln!(
                        out,
                        "{GOOD}repaired{GOOD:#}: the checkpoint did not verify ({reason}); re-signed it over the \
                         intact chain, logged as entry {}",
                        entry.seq
                    )?;
                }
            }
            out.flush()?;
            Ok(Outcome::Success)
        }
        LogAction::Export { format } => {
            let chain = log.read()?;
            if let Some(broken) = &chain.broken {
                output::note(&format!("the log is broken at {broken}; exporting the entries before it"));
            }
            match format {
                ExportFormat::Json => output::json(&ledger::export_json(&chain))?,
                ExportFormat::Csv => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(ledger::export_csv(&chain).as_bytes())?;
                    out.flush()?;
                }
            }
            Ok(if chain.broken.is_none() { Outcome::Success } else { Outcome::Failure })
        }
    }
}
