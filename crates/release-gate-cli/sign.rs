//! `release-gate sign`: sign a validated decision for a commit, add it to the decision log.
//!
//! Refuses (exit 1) a decision that does not validate, and a signer whose allowed_signers principals name
//! neither the final decision owner nor a go/no-go panel member (case-insensitive; see README).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use release_gate_core::signing::verify::{required_panel_signatures, roles_of};
use release_gate_core::signing::{
    NAMESPACE, StatementInput, check_id, person_name, predicate, statement_bytes,
};
use release_gate_core::{Severity, Verdict};
use release_gate_repo::attestation::{self, Files, SignRequest};
use release_gate_repo::keys;
use release_gate_repo::ledger::Ledger;

use crate::Outcome;
use crate::cli::SignArgs;
use crate::output::{self, ERROR, GOOD};
use crate::{attest, input};

pub fn run(args: &SignArgs) -> anyhow::Result<Outcome> {
    let (policy, policy_text) = attest::policy(args.policy.as_deref())?;
    let now = jiff::Timestamp::now();
    let document = input::read_document(&args.file)?;
    let source = input::display_name(&args.file);
    let report = release_gate_core::validate(&document, &policy, now);
    if report.verdict == Verdict::Fail {
        let mut out = output::stdout();
        for finding in report.findings.iter().filter(|f| f.severity == Severity::Error) {
            output::finding(&mut out, "", finding, &source)?;
        }
        writeln!(
            out,
            "{ERROR}refused{ERROR:#}: {source} does not validate; a decision is signed only when it passes"
        )?;
        return Ok(Outcome::Failure);
    }
    let id = decision_id(&args.file)?;
    let release_dir = attest::release_dir()?;
    let allowed = attest::allowed_signers(None, &release_dir)?;
    let root = attest::repo_root()?;
    let key = keys::load_signing_key(&args.key, root.as_deref())?;
    let commit = attest::resolve_commit(&args.commit)?;
    let input =
        StatementInput { id: &id, decision: &document.decision, commit: &commit, policy_text: &policy_text };
    let predicate = predicate(input)?;
    let decided_at: jiff::Timestamp =
        predicate.decided_at.parse().context("the decision timestamp does not read back")?;

    let public = key.public();
    let mut principals = match allowed.principals(&public, NAMESPACE, decided_at) {
        Ok(principals) => principals,
        Err(why) => {
            return refuse(&format!(
                "the key {} cannot sign: {why} (namespace `{NAMESPACE}`, at the decision time {decided_at})",
                public.fingerprint()
            ));
        }
    };
    if let Some(wanted) = &args.principal {
        principals.retain(|p| p.eq_ignore_ascii_case(wanted));
        if principals.is_empty() {
            return refuse(&format!(
                "allowed_signers does not give the key {} the principal `{wanted}`",
                public.fingerprint()
            ));
        }
    }
    let roles = roles_of(&principals, &predicate);
    if roles.is_empty() {
        let names: Vec<&str> =
            predicate.owners.decision.iter().chain(&predicate.owners.panel).map(|n| person_name(n)).collect();
        return refuse(&format!(
            "the signer ({}) is neither the final decision owner nor a go/no-go panel member ({}); \
             only they may sign this decision",
            principals.iter().cloned().collect::<Vec<_>>().join(", "),
            names.join(", ")
        ));
    }

    let statement = statement_bytes(input)?;
    let files = Files::new(&release_dir.join("attestations"), &id);
    let ledger = Ledger::new(&release_dir);
    let signed = attestation::sign(&SignRequest {
        files: &files,
        ledger: &ledger,
        source: &source,
        commit: commit.as_str(),
        statement: &statement,
        key: &key,
        allowed: &allowed,
        decided_at,
        now,
    })?;

    // Report the panel threshold as it stands after this signature.
    let panel: BTreeSet<String> = match &signed.entry.event {
        release_gate_core::ledger::Event::Sign(sign) => sign
            .signers
            .iter()
            .flat_map(|s| roles_of(&s.principals.iter().cloned().collect(), &predicate))
            .filter(|role| predicate.owners.panel.iter().any(|n| person_name(n).eq_ignore_ascii_case(role)))
            .map(|role| role.to_ascii_lowercase())
            .collect(),
        release_gate_core::ledger::Event::Repair(_) => BTreeSet::new(),
    };
    let required = required_panel_signatures(&predicate, &policy);
    let mut out = output::stdout();
    let verb = if signed.added { "signed" } else { "already signed; recorded again" };
    writeln!(out, "{GOOD}{verb}{GOOD:#}: {id} for commit {commit} as {}", roles.join(", "))?;
    writeln!(out, "  envelope: {}", files.envelope().display())?;
    writeln!(out, "  ssh signature: {}", files.dir.join(&signed.sshsig).display())?;
    writeln!(out, "  log entry: {} in {}", signed.entry.seq, ledger.path.display())?;
    writeln!(
        out,
        "  signatures: {} in the envelope; panel signatures {} of {required} the policy asks",
        signed.envelope.signatures.len(),
        panel.len()
    )?;
    out.flush()?;
    Ok(Outcome::Success)
}

fn refuse(message: &str) -> anyhow::Result<Outcome> {
    let mut out = output::stdout();
    writeln!(out, "{ERROR}refused{ERROR:#}: {message}")?;
    out.flush()?;
    Ok(Outcome::Failure)
}

/// The decision id of a file: its name without the extension (`docs/release-2026.11.3.md` -> `release-2026.11.3`).
fn decision_id(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        bail!("sign reads the decision from a file, whose name gives the decision id; not from stdin");
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
    check_id(&stem).with_context(|| format!("{} cannot name a decision; rename the file", path.display()))?;
    Ok(stem)
}
