//! What `sign`, `verify` and `log` share: the repository's `.release/` paths, trusted keys, the policy
//! with its bytes (for its digest), and resolving a commit.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use release_gate_core::Policy;
use release_gate_core::policy::DEFAULT_POLICY_TOML;
use release_gate_core::signing::{AllowedSigners, GitCommit};

use crate::input;

/// The `.release/` directory of the enclosing repository (or of the current directory).
pub fn release_dir() -> anyhow::Result<PathBuf> {
    Ok(input::repo_root_or_cwd()?.join(".release"))
}

/// The repository root, when the current directory is inside a git work tree.
pub fn repo_root() -> anyhow::Result<Option<PathBuf>> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(cwd.ancestors().find(|dir| dir.join(".git").exists()).map(Path::to_path_buf))
}

/// Reads allowed_signers (the given file, else `.release/allowed_signers`); notes unusable lines on stderr.
pub fn allowed_signers(explicit: Option<&Path>, release_dir: &Path) -> anyhow::Result<AllowedSigners> {
    let path = explicit.map_or_else(|| release_dir.join("allowed_signers"), Path::to_path_buf);
    let bytes = input::read_bytes(&path).with_context(|| {
        "release-gate trusts the keys in .release/allowed_signers (ssh-keygen's format); \
         add a line per signer, as `release-gate keygen` prints"
    })?;
    let text = std::str::from_utf8(&bytes).with_context(|| format!("{} is not UTF-8", path.display()))?;
    let allowed = AllowedSigners::parse(text);
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

/// The policy in force and its exact bytes (the default policy's text when there is no file).
pub fn policy(explicit: Option<&Path>) -> anyhow::Result<(Policy, Vec<u8>)> {
    let path = match explicit {
        Some(path) => Some(path.to_path_buf()),
        None => input::find_repo_policy()?,
    };
    let Some(path) = path else {
        return Ok((Policy::default(), DEFAULT_POLICY_TOML.as_bytes().to_vec()));
    };
    let bytes = input::read_bytes(&path)?;
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("policy {} is not valid UTF-8", path.display()))?;
    let policy =
        Policy::from_toml(text).map_err(|error| anyhow::anyhow!("policy {}: {error}", path.display()))?;
    Ok((policy, bytes))
}

/// A full commit id as given, else what `git rev-parse --verify REV^{commit}` says.
pub fn resolve_commit(rev: &str) -> anyhow::Result<GitCommit> {
    if let Ok(commit) = GitCommit::parse(rev) {
        return Ok(commit);
    }
    if rev.starts_with('-') {
        bail!("`{rev}` is not a revision");
    }
    let output = Command::new("git")
        .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
        .arg(format!("{rev}^{{commit}}"))
        .output()
        .context("cannot run git to resolve --commit")?;
    if !output.status.success() {
        bail!("`{rev}` does not name a commit in this repository (git rev-parse failed)");
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(GitCommit::parse(text.trim())?)
}
