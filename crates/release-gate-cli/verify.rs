//! `release-gate verify`: every check of a signed decision, each failure named; exit 0 only when all hold.
//! In a deploy job it is the deploy gate: under GitHub Actions it also writes the job summary and step outputs.

use std::io::Write;

use crate::Outcome;
use crate::cli::{ReportFormat, VerifyArgs};
use crate::input;
use crate::output::{self, ERROR, GOOD, WARNING};

pub fn run(args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(args.policy.as_deref())?;
    let envelope = workspace.envelope_path(&args.decision)?;
    let now = input::now(args.now.as_deref())?;
    let result = workspace.verify_with(&release_gate_repo::signoff::VerifyDecision {
        envelope: &envelope,
        commit: args.commit.as_deref(),
        allowed_signers: args.allowed_signers.as_deref(),
        now,
        remote: args.remote.as_deref(),
        require_published: args.require_published,
    })?;
    let diagnostics = crate::ci::verify_diagnostics(&result);
    let run = crate::formats::Run {
        name: &format!("verify {}", result.id),
        subject: &result.id,
        passed: result.ok(),
    };
    let mut omitted = crate::formats::Omitted::default();
    match args.format {
        ReportFormat::Json => output::json(&result)?,
        ReportFormat::Github => {
            omitted = crate::formats::github(
                &mut std::io::stdout().lock(),
                &diagnostics,
                "the job summary lists them all",
            )?;
        }
        ReportFormat::Junit => crate::formats::junit(&mut std::io::stdout().lock(), run, &diagnostics)?,
        ReportFormat::Gitlab => crate::formats::gitlab(&mut std::io::stdout().lock(), run, &diagnostics)?,
        ReportFormat::Text => {
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
                    "  signature {} by {} as {} ({})",
                    signer.index + 1,
                    signer.principals.join(", "),
                    signer.roles.join(" and "),
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
    crate::ci::deploy_gate(&workspace, &envelope, &result, now, omitted)?;
    Ok(if result.ok() { Outcome::Success } else { Outcome::Failure })
}
