//! What `log` needs: the repository's `.release/` paths and trusted keys (with notes on unusable lines).

use std::path::{Path, PathBuf};

use release_gate_core::signing::AllowedSigners;

use crate::input;

/// The `.release/` directory of the enclosing repository (or of the current directory).
pub fn release_dir() -> anyhow::Result<PathBuf> {
    Ok(input::repo_root_or_cwd()?.join(".release"))
}

/// Reads allowed_signers (the given file, else `.release/allowed_signers`); notes unusable lines on stderr.
pub fn allowed_signers(explicit: Option<&Path>, release_dir: &Path) -> anyhow::Result<AllowedSigners> {
    let root = release_dir.parent().unwrap_or(release_dir);
    let (path, allowed) = release_gate_repo::signoff::read_allowed_signers(root, explicit)?;
    for ignored in &allowed.ignored {
        crate::output::note(&format!(
            "{}:{}: line ignored: {}",
            path.display(),
            ignored.line,
            ignored.reason
        ));
    }
    Ok(allowed)
}
