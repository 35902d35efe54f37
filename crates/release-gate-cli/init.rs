//! `release-gate init`: sets up `.release/` in a repository with the default policy written out.

use std::io::Write;

use anyhow::Context;
use release_gate_core::policy::DEFAULT_POLICY_TOML;

use crate::Outcome;
use crate::cli::InitArgs;
use crate::input;
use crate::output::{self, GOOD};

pub fn run(args: &InitArgs) -> anyhow::Result<Outcome> {
    let root = match &args.root {
        Some(root) => root.clone(),
        None => input::repo_root_or_cwd()?,
    };
    let dir = root.join(".release");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let policy = dir.join("policy.toml");
    let mut out = output::stdout();
    // `create_new` never overwrites a policy someone already edited.
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&policy) {
        Ok(mut file) => {
            file.write_all(DEFAULT_POLICY_TOML.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write {}", policy.display()))?;
            writeln!(out, "{GOOD}created{GOOD:#} {}", policy.display())?;
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            writeln!(out, "kept {} (already there)", policy.display())?;
        }
        Err(error) => return Err(error).with_context(|| format!("cannot create {}", policy.display())),
    }
    out.flush()?;
    Ok(Outcome::Success)
}
