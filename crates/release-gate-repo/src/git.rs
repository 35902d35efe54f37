//! Asking git: the repository root, commits, the diff between two commits and its digest.
//!
//! Every call runs the `git` program with `-C <root>`; revisions from users are passed after
//! `--end-of-options`, so a revision can never be read as an option.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

/// Why git could not answer.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{dir} is not inside a git repository: run release-gate from within one (or `git init` first)")]
    NotARepository { dir: String },
    #[error("`{rev}` is not a commit in this repository")]
    UnknownRevision { rev: String },
    #[error("cannot run git: {0} (is git installed and on PATH?)")]
    Spawn(#[source] std::io::Error),
    #[error("git {args} failed: {stderr}")]
    Failed { args: String, stderr: String },
}

/// release-gate's own records: never part of the change a decision is about, so committing a decision or
/// an attestation does not change the diff, its digest, or the suggested risk class.
pub const EXCLUDE_RELEASE: &str = ":(exclude).release";

/// A git work tree.
#[derive(Debug, Clone)]
pub struct Git {
    root: PathBuf,
}

/// What changed between two commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// Changed paths, renames shown as a deletion and an addition.
    pub paths: Vec<String>,
    /// `sha256:<hex>` of git's raw diff (paths, modes, blob ids), independent of diff algorithms.
    pub digest: String,
}

impl Git {
    /// The repository enclosing `dir`.
    pub fn discover(dir: &Path) -> Result<Git, GitError> {
        let output = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "--show-toplevel"])
            .stdin(Stdio::null())
            .output()
            .map_err(GitError::Spawn)?;
        if !output.status.success() {
            return Err(GitError::NotARepository { dir: dir.display().to_string() });
        }
        let root = String::from_utf8_lossy(&output.stdout).trim_end_matches(['\n', '\r']).to_owned();
        Ok(Git { root: PathBuf::from(root) })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn run(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        let output = Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .args(["-c", "core.quotepath=false"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(GitError::Spawn)?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(GitError::Failed {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            })
        }
    }

    fn run_text(&self, args: &[&str]) -> Result<String, GitError> {
        Ok(String::from_utf8_lossy(&self.run(args)?).trim().to_owned())
    }

    /// The full id of the commit `rev` names.
    pub fn resolve(&self, rev: &str) -> Result<String, GitError> {
        let unknown = || GitError::UnknownRevision { rev: rev.to_owned() };
        if rev.is_empty() || rev.starts_with('-') || rev.contains(['\0', '\n']) {
            return Err(unknown());
        }
        let spec = format!("{rev}^{{commit}}");
        self.run_text(&["rev-parse", "--verify", "--quiet", "--end-of-options", &spec]).map_err(|_| unknown())
    }

    /// What changed from `base` to `head` (both full commit ids).
    pub fn diff(&self, base: &str, head: &str) -> Result<Diff, GitError> {
        let raw = self.run(&[
            "diff",
            "--raw",
            "-z",
            "--no-renames",
            "--no-abbrev",
            "--no-ext-diff",
            base,
            head,
            "--",
            ".",
            EXCLUDE_RELEASE,
        ])?;
        let digest = format!("sha256:{}", hex(&Sha256::digest(&raw)));
        // Entries are `:meta\0path\0`: every other field is a path.
        let paths = raw
            .split(|byte| *byte == 0)
            .filter(|field| !field.is_empty())
            .skip(1)
            .step_by(2)
            .map(|path| String::from_utf8_lossy(path).into_owned())
            .collect();
        Ok(Diff { paths, digest })
    }

    /// Only the changed paths from `base` to `head`: what `classify` needs, at the cost of `git diff --name-only`.
    pub fn changed_paths(&self, base: &str, head: &str) -> Result<Vec<String>, GitError> {
        let raw = self.run(&[
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            "--no-ext-diff",
            base,
            head,
            "--",
            ".",
            EXCLUDE_RELEASE,
        ])?;
        Ok(raw
            .split(|byte| *byte == 0)
            .filter(|field| !field.is_empty())
            .map(|path| String::from_utf8_lossy(path).into_owned())
            .collect())
    }

    /// Whether two commits have the same tree outside `.release/` (the same code, other records).
    pub fn same_code(&self, a: &str, b: &str) -> bool {
        a == b || self.run(&["diff", "--quiet", "--no-ext-diff", a, b, "--", ".", EXCLUDE_RELEASE]).is_ok()
    }

    /// A file's bytes as committed at `commit`, or `None` when the commit has no such file.
    pub fn committed_file(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let spec = format!("{commit}:{path}");
        if self.run(&["cat-file", "-e", "--end-of-options", &spec]).is_err() {
            return Ok(None);
        }
        self.run(&["cat-file", "blob", "--end-of-options", &spec]).map(Some)
    }

    /// Paths with uncommitted changes (untracked included), except under `.release/` where
    /// release-gate keeps its own records.
    pub fn dirty_paths(&self) -> Result<Vec<String>, GitError> {
        let raw = self.run(&[
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--",
            ".",
            ":(exclude).release/decisions",
            ":(exclude).release/.locks",
            ":(exclude).release/attestations",
            ":(exclude).release/ledger.jsonl",
        ])?;
        Ok(raw
            .split(|byte| *byte == 0)
            .filter(|entry| entry.len() > 3)
            .map(|entry| String::from_utf8_lossy(entry.get(3..).unwrap_or_default()).into_owned())
            .collect())
    }

    /// The subjects of the commits in base..head, oldest first.
    pub fn log_subjects(&self, base: &str, head: &str) -> Result<Vec<String>, GitError> {
        let range = format!("{base}..{head}");
        let text = self.run_text(&["log", "--reverse", "--no-merges", "--format=%s", &range, "--"])?;
        Ok(text.lines().map(str::to_owned).filter(|line| !line.is_empty()).collect())
    }

    /// The repository's name for records: the `origin` URL, else the work tree's folder name.
    pub fn repository_name(&self) -> String {
        match self.run_text(&["config", "--get", "remote.origin.url"]) {
            Ok(url) if !url.is_empty() => url,
            _ => self
                .root
                .file_name()
                .map_or_else(|| "repository".to_owned(), |n| n.to_string_lossy().into_owned()),
        }
    }

    /// `user.name` from git's configuration.
    pub fn user_name(&self) -> Option<String> {
        self.run_text(&["config", "--get", "user.name"]).ok().filter(|name| !name.is_empty())
    }

    /// The most recent tag reachable from `rev`: the last release, as a default base.
    pub fn latest_tag(&self, rev: &str) -> Option<String> {
        self.run_text(&["describe", "--tags", "--abbrev=0", "--end-of-options", rev])
            .ok()
            .filter(|t| !t.is_empty())
    }
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
