//! `release-gate log`: verify the decision log (its branch, or the log file of before a migration), print
//! its checkpoint, fetch and publish it, migrate a log file to the branch, repair a torn file, export.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use release_gate_core::ledger::history::{self, HistoryCheck, LogCode, Pin};
use release_gate_repo::git::Git;
use release_gate_repo::keys;
use release_gate_repo::ledger::branch::{BranchLog, describe};
use release_gate_repo::ledger::{self, Ledger};

use crate::Outcome;
use crate::attest;
use crate::cli::{ExportFormat, LogAction, LogArgs, PlainFormat};
use crate::output::{self, ERROR, GOOD, WARNING};

fn open(remote: Option<&str>) -> anyhow::Result<(Git, BranchLog)> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let git = Git::discover(&cwd)?;
    let log = BranchLog::open(&git, remote)?;
    Ok((git, log))
}

/// The commit to read as the log: `--ref`, else the local or fetched branch.
fn tip(git: &Git, log: &BranchLog, reference: Option<&str>) -> anyhow::Result<Option<String>> {
    match reference {
        Some(rev) => Ok(Some(git.resolve(rev)?)),
        None => Ok(log.view()?.tip),
    }
}

fn read_pin(path: &Path) -> anyhow::Result<Pin> {
    let bytes = release_gate_repo::fs::read_limited(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    history::parse_pin(&bytes)
        .map_err(|why| anyhow::anyhow!("{} is not a log checkpoint: {why}", path.display()))
}

pub fn run(args: &LogArgs) -> anyhow::Result<Outcome> {
    let release_dir = attest::release_dir()?;
    let legacy = Ledger::new(&release_dir);
    match &args.action {
        LogAction::Verify { allowed_signers, reference, since_checkpoint, remote, format } => {
            let allowed = attest::allowed_signers(allowed_signers.as_deref(), &release_dir)?;
            let pin = since_checkpoint.as_deref().map(read_pin).transpose()?;
            let (git, log) = open(remote.as_deref())?;
            let Some(tip) = tip(&git, &log, reference.as_deref())? else {
                return verify_legacy(&legacy, &allowed, pin.as_ref(), *format);
            };
            let check =
                HistoryCheck { allowed: &allowed, every_checkpoint: true, pin: pin.as_ref(), shallow: false };
            let history = log.read(&tip, check)?;
            let mut notes = history.notes.clone();
            let view = log.view()?;
            let unpublished = if reference.is_none() {
                log.published_size(&view, &history).map(|published| history.size().saturating_sub(published))
            } else {
                None
            };
            if let Some(count) = unpublished.filter(|count| *count > 0) {
                notes.push(format!(
                    "{}: {count} entries are only in this clone; `release-gate log push` publishes them",
                    LogCode::Unpublished.as_str()
                ));
            }
            if std::fs::symlink_metadata(&legacy.path).is_ok() {
                notes.push(format!(
                    "{}: {} is still on the working branch; it was migrated, so remove it (`git rm`)",
                    LogCode::Legacy.as_str(),
                    legacy.path.display()
                ));
            }
            let ok = history.ok();
            match format {
                PlainFormat::Json => output::json(&serde_json::json!({
                    "ok": ok,
                    "commit": tip,
                    "entries": history.size(),
                    "head": history.chain.head(),
                    "checkpoint": history.checkpoint_text(),
                    "signed_by": history.tip_signers,
                    "unpublished": unpublished,
                    "problems": history.problems,
                    "notes": notes,
                }))?,
                PlainFormat::Text => {
                    let mut out = output::stdout();
                    for problem in &history.problems {
                        writeln!(
                            out,
                            "{ERROR}error[{}]{ERROR:#}: {}",
                            problem.code.as_str(),
                            problem.message
                        )?;
                    }
                    for note in &notes {
                        writeln!(out, "{WARNING}note{WARNING:#}: {note}")?;
                    }
                    if ok {
                        writeln!(
                            out,
                            "{GOOD}verified{GOOD:#}: {} entries on commit {tip}, every checkpoint signed by a trusted key; \
                             the latest by {}{}",
                            history.size(),
                            history.tip_signers.join(", "),
                            if pin.is_some() { "; it extends the pinned checkpoint" } else { "" }
                        )?;
                    } else {
                        let count = history.problems.len();
                        let noun = if count == 1 { "problem" } else { "problems" };
                        writeln!(out, "{ERROR}not verified{ERROR:#}: {count} {noun}")?;
                    }
                    out.flush()?;
                }
            }
            Ok(if ok { Outcome::Success } else { Outcome::Failure })
        }
        LogAction::Checkpoint { reference, remote, format } => {
            let allowed = attest::allowed_signers(None, &release_dir)?;
            let (git, log) = open(remote.as_deref())?;
            let tip = tip(&git, &log, reference.as_deref())?.context(
                "there is no decision log branch here yet (sign a decision, or `release-gate log fetch`)",
            )?;
            let check =
                HistoryCheck { allowed: &allowed, every_checkpoint: false, pin: None, shallow: false };
            let history = log.read(&tip, check)?;
            if !history.ok() {
                output::note(&format!("the log does not verify: {}", describe(&history)));
                return Ok(Outcome::Failure);
            }
            match format {
                PlainFormat::Json => output::json(&serde_json::json!({
                    "commit": tip,
                    "entries": history.size(),
                    "checkpoint": history.checkpoint_text(),
                    "signed_by": history.tip_signers,
                }))?,
                PlainFormat::Text => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(history.checkpoint_text().as_bytes())?;
                    out.flush()?;
                }
            }
            Ok(Outcome::Success)
        }
        LogAction::Fetch { remote } => {
            let (_, log) = open(remote.as_deref())?;
            let name =
                log.remote().context("this clone has no remote `origin`; name one with --remote")?.to_owned();
            let tip = log.fetch()?;
            let mut out = output::stdout();
            match tip {
                Some(tip) => writeln!(out, "{GOOD}fetched{GOOD:#}: the log on `{name}` is at commit {tip}")?,
                None => writeln!(out, "`{name}` has no decision log yet")?,
            }
            out.flush()?;
            Ok(Outcome::Success)
        }
        LogAction::Push { key, remote } => {
            let root = crate::input::repo_root()?;
            let key = key.as_deref().map(|path| keys::load_signing_key(path, root.as_deref())).transpose()?;
            let allowed = attest::allowed_signers(None, &release_dir)?;
            let (_, log) = open(remote.as_deref())?;
            let name =
                log.remote().context("this clone has no remote `origin`; name one with --remote")?.to_owned();
            let appended = log.append(None, key.as_ref(), &allowed, crate::input::now(None)?, true)?;
            let mut out = output::stdout();
            match appended.published {
                Some(true) => {
                    writeln!(out, "{GOOD}published{GOOD:#}: the log on `{name}` holds every local entry")?;
                    if appended.written > 0 {
                        writeln!(
                            out,
                            "  {} local entries were put on top of the remote's log",
                            appended.written
                        )?;
                    }
                    out.flush()?;
                    Ok(Outcome::Success)
                }
                _ => {
                    writeln!(
                        out,
                        "{ERROR}not published{ERROR:#}: {}",
                        appended.note.as_deref().unwrap_or("the remote did not take the log")
                    )?;
                    out.flush()?;
                    Ok(Outcome::Failure)
                }
            }
        }
        LogAction::Migrate { key, remote, no_push } => {
            let root = crate::input::repo_root()?;
            let key = keys::load_signing_key(key, root.as_deref())?;
            let allowed = attest::allowed_signers(None, &release_dir)?;
            let (_, log) = open(remote.as_deref())?;
            let bytes =
                release_gate_repo::fs::read_inside(root.as_deref().unwrap_or(Path::new(".")), &legacy.path)
                    .with_context(|| format!("cannot read {}", legacy.path.display()))?;
            let chain = ledger_core_chain(&bytes);
            if let Some(broken) = &chain.broken {
                anyhow::bail!(
                    "{} is broken at {broken}; restore it from version control first",
                    legacy.path.display()
                );
            }
            if chain.torn.is_some() {
                anyhow::bail!(
                    "{} ends in a torn line; run `release-gate log repair` first",
                    legacy.path.display()
                );
            }
            if let Err(reason) = legacy.check_checkpoint(&chain, &allowed) {
                anyhow::bail!("the checkpoint of {} does not verify: {reason}", legacy.path.display());
            }
            let lines: Vec<Vec<u8>> =
                bytes.split(|b| *b == b'\n').filter(|line| !line.is_empty()).map(<[u8]>::to_vec).collect();
            let tip = log.import(&lines, &key)?;
            let mut out = output::stdout();
            writeln!(
                out,
                "{GOOD}migrated{GOOD:#}: {} entries, byte for byte, to release-gate-ledger (commit {tip})",
                lines.len()
            )?;
            if log.remote().is_some() && !no_push {
                let appended = log.append(None, Some(&key), &allowed, crate::input::now(None)?, true)?;
                match appended.published {
                    Some(true) => writeln!(out, "  published to `{}`", log.remote().unwrap_or_default())?,
                    _ => writeln!(out, "  not published: {}", appended.note.unwrap_or_default())?,
                }
            }
            writeln!(
                out,
                "  the old checkpoint stays checkable: `release-gate log verify --since-checkpoint {}`\n  \
                 then remove the old files from the working branch: git rm {} {} {}",
                legacy.checkpoint.display(),
                legacy.path.display(),
                legacy.checkpoint.display(),
                legacy.checkpoint_sig.display()
            )?;
            out.flush()?;
            Ok(Outcome::Success)
        }
        LogAction::Repair { key } => repair(&legacy, &release_dir, key.as_deref()),
        LogAction::Export { format } => {
            let (_, log) = open(None)?;
            let view = log.view()?;
            let chain = match &view.tip {
                Some(tip) => {
                    let allowed = attest::allowed_signers(None, &release_dir)?;
                    let check = HistoryCheck {
                        allowed: &allowed,
                        every_checkpoint: false,
                        pin: None,
                        shallow: false,
                    };
                    let history = log.read(tip, check)?;
                    if !history.ok() {
                        output::note(&format!("the log does not verify: {}", describe(&history)));
                    }
                    history.chain
                }
                None => legacy.read()?,
            };
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

fn ledger_core_chain(bytes: &[u8]) -> release_gate_core::ledger::Chain {
    release_gate_core::ledger::read_chain(bytes)
}

/// `log verify` of a repository whose log is still the file `.release/ledger.jsonl`.
fn verify_legacy(
    log: &Ledger,
    allowed: &release_gate_core::signing::AllowedSigners,
    pin: Option<&Pin>,
    format: PlainFormat,
) -> anyhow::Result<Outcome> {
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
    let checkpoint = log.check_checkpoint(&chain, allowed);
    if let Err(reason) = &checkpoint {
        problems.push(format!("checkpoint: {reason}"));
    }
    if let Some(Pin::V1 { size, head }) = pin {
        let at = usize::try_from(*size)
            .ok()
            .and_then(|size| size.checked_sub(1))
            .and_then(|i| chain.hashes.get(i));
        match at {
            Some(hash) if hash == head => {}
            Some(_) => problems.push("the log does not extend the pinned checkpoint (forked)".into()),
            None => problems.push("the log is shorter than the pinned checkpoint (rolled back)".into()),
        }
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
            "notes": [format!("{}: the log is still the file {}; `release-gate log migrate` moves it to its branch", LogCode::Legacy.as_str(), log.path.display())],
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

fn repair(log: &Ledger, release_dir: &Path, key: Option<&Path>) -> anyhow::Result<Outcome> {
    let root = crate::input::repo_root()?;
    let key = key.map(|path| keys::load_signing_key(path, root.as_deref())).transpose()?;
    let mut locked = log.lock()?;
    let now = crate::input::now(None)?;
    let repaired = locked.repair(now)?;
    let mut out = output::stdout();
    match &repaired {
        Some(entry) => {
            writeln!(out, "{GOOD}repaired{GOOD:#}: cut the torn last line; logged as entry {}", entry.seq)?
        }
        None => writeln!(out, "the log ends in a complete line; nothing to cut")?,
    }
    if let Some(key) = &key {
        let allowed = attest::allowed_signers(None, release_dir)?;
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
