//! `release-gate sign`: sign a validated decision (a file or a stored one) for a commit, and log it.
//!
//! Refuses (exit 1) a decision that does not validate, and a signer whose allowed_signers principals name
//! neither the final decision owner nor a go/no-go panel member (case-insensitive; see README).

use std::io::Write;
use std::path::Path;

use release_gate_repo::signoff::{SignDecision, SignOutcome, Target};

use crate::Outcome;
use crate::cli::SignArgs;
use crate::input;
use crate::output::{self, ERROR, GOOD};

/// A file when the argument names one (or looks like a path), else a stored decision's id.
pub fn target(text: &str) -> anyhow::Result<Target> {
    let path = Path::new(text);
    if input::looks_like_file(path) {
        return Ok(Target::File(path.to_path_buf()));
    }
    Ok(Target::Stored(input::id(text)?))
}

pub fn run(args: &SignArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(args.policy.as_deref())?;
    let request = SignDecision {
        target: target(&args.decision)?,
        key: &args.key,
        commit: &args.commit,
        principal: args.principal.as_deref(),
        now: crate::input::now(None)?,
        remote: args.remote.as_deref(),
        publish: !args.no_push,
    };
    let mut out = output::stdout();
    match workspace.sign(&request)? {
        SignOutcome::Refused { reason, findings } => {
            for finding in &findings {
                output::finding(&mut out, "", finding, &args.decision)?;
            }
            writeln!(out, "{ERROR}refused{ERROR:#}: {reason}")?;
            out.flush()?;
            Ok(Outcome::Failure)
        }
        SignOutcome::Signed(signed) => {
            let verb = if signed.added { "signed" } else { "already signed" };
            writeln!(
                out,
                "{GOOD}{verb}{GOOD:#}: {} for commit {} as {}",
                signed.id,
                signed.commit,
                signed.roles.join(", ")
            )?;
            writeln!(out, "  envelope: {}", signed.envelope)?;
            writeln!(out, "  ssh signature: {}", signed.ssh_signature)?;
            let published = match (signed.published, &signed.publish_note) {
                (None, _) => "in this clone's log (no remote)".to_owned(),
                (Some(true), _) => "published".to_owned(),
                (Some(false), Some(note)) => format!("NOT published: {note}"),
                (Some(false), None) => "NOT published: run `release-gate log push`".to_owned(),
            };
            writeln!(out, "  log entry: {} on release-gate-ledger, {published}", signed.log_entry)?;
            writeln!(
                out,
                "  signatures: {} in the envelope; panel signatures {} of {} the policy asks",
                signed.signatures, signed.panel_signatures, signed.required_panel_signatures
            )?;
            out.flush()?;
            Ok(Outcome::Success)
        }
    }
}
