//! `release-gate verify`: every check of a signed decision, each failure named; exit 0 only when all hold.

use std::io::Write;

use anyhow::Context;
use release_gate_core::signing::verify::{self, Context as VerifyContext, Files as VerifyFiles};
use release_gate_repo::attestation::Files;
use release_gate_repo::ledger::Ledger;

use crate::Outcome;
use crate::attest;
use crate::cli::{PlainFormat, VerifyArgs};
use crate::input;
use crate::output::{self, ERROR, GOOD, WARNING};

pub fn run(args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let files = Files::from_envelope_path(&args.envelope).with_context(|| {
        format!(
            "{} is not named `<id>.dsse.json`; pass the envelope `release-gate sign` wrote",
            args.envelope.display()
        )
    })?;
    // The envelope's own `.release/` when it sits in `.release/attestations/`, else the repository's.
    let release_dir = match files.dir.parent() {
        Some(parent) if files.dir.ends_with("attestations") && parent.ends_with(".release") => {
            parent.to_path_buf()
        }
        _ => attest::release_dir()?,
    };
    let allowed = attest::allowed_signers(args.allowed_signers.as_deref(), &release_dir)?;
    let (policy, policy_text) = attest::policy(args.policy.as_deref())?;
    let commit = args.commit.as_deref().map(attest::resolve_commit).transpose()?;
    let envelope = input::read_bytes(&args.envelope)?;
    let statement = match std::fs::read(files.statement()) {
        Ok(bytes) => Some(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read {}", files.statement().display()));
        }
    };
    let sshsigs = files.read_sshsigs()?;
    let ledger = Ledger::new(&release_dir);
    let chain = ledger.read()?;
    let checkpoint = ledger.check_checkpoint(&chain, &allowed);
    let result = verify::verify(
        VerifyFiles {
            id: &files.id,
            envelope: &envelope,
            statement: statement.as_deref(),
            sshsigs: &sshsigs,
        },
        VerifyContext {
            allowed_signers: &allowed,
            commit: commit.as_ref(),
            policy: &policy,
            policy_text: &policy_text,
            ledger: &chain,
            checkpoint: checkpoint.as_ref().map(|_| ()).map_err(String::as_str),
        },
    );
    match args.format {
        PlainFormat::Json => output::json(&result)?,
        PlainFormat::Text => {
            let mut out = output::stdout();
            for failure in &result.failures {
                writeln!(out, "{ERROR}error[{}]{ERROR:#}: {}", failure.code.as_str(), failure.message)?;
            }
            for note in &result.notes {
                writeln!(out, "{WARNING}note{WARNING:#}: {note}")?;
            }
            for signer in &result.signers {
                writeln!(
                    out,
                    "  signature {} by {} ({})",
                    signer.index + 1,
                    signer.roles.join(", "),
                    signer.key
                )?;
            }
            let commit = result.commit.as_deref().unwrap_or("?");
            if result.ok() {
                writeln!(out, "{GOOD}verified{GOOD:#}: {} is a signed GO for commit {commit}", result.id)?;
            } else {
                writeln!(
                    out,
                    "{ERROR}not verified{ERROR:#}: {} ({} failure{})",
                    result.id,
                    result.failures.len(),
                    if result.failures.len() == 1 { "" } else { "s" }
                )?;
            }
            out.flush()?;
        }
    }
    Ok(if result.ok() { Outcome::Success } else { Outcome::Failure })
}
