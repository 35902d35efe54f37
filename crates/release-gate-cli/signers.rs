//! `release-gate signers add`: trust a person's public key for signing decisions.

use std::io::Write;

use crate::Outcome;
use crate::cli::{SignersArgs, SignersCommand};
use crate::input;
use crate::output::{self, GOOD};

pub fn run(args: &SignersArgs) -> anyhow::Result<Outcome> {
    let SignersCommand::Add { name, pubkey } = &args.command;
    let workspace = input::workspace(None)?;
    // A path to a `.pub` file, or the key text itself.
    let path = std::path::Path::new(pubkey);
    let text = if !pubkey.trim_start().starts_with("ssh-") && path.is_file() {
        String::from_utf8(input::read_bytes(path)?)?
    } else {
        pubkey.clone()
    };
    let added = workspace.add_signer(name, &text)?;
    let mut out = output::stdout();
    writeln!(out, "{GOOD}trusted{GOOD:#} {} for {name}: {}", added.fingerprint, added.line)?;
    if !added.also_listed_as.is_empty() {
        output::note(&format!(
            "this key is also listed as {}: one key should stand for one person (a panel threshold counts it once)",
            added.also_listed_as.join(", ")
        ));
    }
    output::note("commit .release/allowed_signers so verifiers trust the same keys");
    Ok(Outcome::Success)
}
