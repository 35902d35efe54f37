//! `release-gate keygen`: a new OpenSSH Ed25519 key pair, and the allowed_signers line that trusts it.

use std::io::Write;

use release_gate_core::signing::{CHECKPOINT_NAMESPACE, NAMESPACE, quote_principal};
use release_gate_repo::keys;

use crate::Outcome;
use crate::attest;
use crate::cli::KeygenArgs;

pub fn run(args: &KeygenArgs) -> anyhow::Result<Outcome> {
    let root = attest::repo_root()?;
    let principal = args.principal.clone().unwrap_or_else(|| "release-signer".to_owned());
    let public = keys::generate(&args.out, &principal, root.as_deref())?;
    let mut out = std::io::stdout().lock();
    // The line to add to .release/allowed_signers: the same file `ssh-keygen -Y verify` reads.
    writeln!(
        out,
        "{} namespaces=\"{NAMESPACE},{CHECKPOINT_NAMESPACE}\" {}",
        quote_principal(&principal),
        public.to_openssh()
    )?;
    out.flush()?;
    Ok(Outcome::Success)
}
