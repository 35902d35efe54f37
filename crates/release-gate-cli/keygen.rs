//! `release-gate keygen`: a new OpenSSH Ed25519 key pair, and the allowed_signers line that trusts it.

use std::io::Write;

use anyhow::Context;
use release_gate_repo::keys;

use crate::Outcome;
use crate::cli::KeygenArgs;

pub fn run(args: &KeygenArgs) -> anyhow::Result<Outcome> {
    let root = crate::input::key_guard_root()?;
    // The principal is the person's name as decisions write it: git's user.name unless given.
    let principal = match &args.principal {
        Some(principal) => principal.clone(),
        None => git_user_name().context(
            "no --principal and no git user.name: pass your name exactly as decisions write it, e.g. --principal \"Priya Shah\"",
        )?,
    };
    let public = keys::generate(&args.out, &principal, root.as_deref())?;
    let mut out = std::io::stdout().lock();
    // The line for .release/allowed_signers: the same file `ssh-keygen -Y verify` reads.
    writeln!(out, "{}", release_gate_repo::setup::signer_line(&principal, &public))?;
    out.flush()?;
    crate::output::note(&format!(
        "to trust it: release-gate signers add {} \"$(cat {}.pub)\", then commit .release/allowed_signers",
        release_gate_core::signing::quote_principal(&principal),
        args.out.display()
    ));
    Ok(Outcome::Success)
}

/// git's `user.name` where the command runs, if set.
fn git_user_name() -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    release_gate_repo::git::Git::discover(&cwd).ok()?.user_name()
}
