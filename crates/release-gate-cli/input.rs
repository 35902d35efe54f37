//! Reading decisions and policies from files or stdin, within the size limit, with errors that name the file.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use release_gate_core::{Document, MAX_INPUT_BYTES, Policy};
use release_gate_repo::fs::ReadError;
use release_gate_repo::store::Id;
use release_gate_repo::workspace::Workspace;

/// Where input came from, for messages and annotations.
pub fn display_name(path: &Path) -> String {
    if path == Path::new("-") { "<stdin>".to_owned() } else { path.display().to_string() }
}

const TOO_LARGE: &str = "is larger than 10 MiB; release-gate reads decisions and policies of at most 10 MiB";

/// Whether a command-line argument names a file rather than a stored decision's id: `-`, an existing path,
/// a path with a folder, or a decision file's extension.
pub fn looks_like_file(path: &Path) -> bool {
    path == Path::new("-")
        || path.exists()
        || path.components().count() > 1
        || path
            .extension()
            .is_some_and(|ext| ["md", "markdown", "json", "txt"].iter().any(|known| ext == *known))
}

/// Reads at most the size limit from a file or `-` (stdin); a larger input is refused without reading it all.
pub fn read_bytes(path: &Path) -> anyhow::Result<Vec<u8>> {
    let name = display_name(path);
    let limit = u64::try_from(MAX_INPUT_BYTES).unwrap_or(u64::MAX) + 1;
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes).context("cannot read standard input")?;
    } else {
        bytes = match release_gate_repo::fs::read_limited(path) {
            Ok(bytes) => bytes,
            Err(ReadError::Directory) => bail!("{name} is a directory, not a decision file"),
            Err(ReadError::NotRegular) => {
                bail!("{name} is not a regular file (a pipe or device); pass a file, or `-` for stdin")
            }
            Err(ReadError::TooLarge) => bail!("{name} {TOO_LARGE}"),
            Err(ReadError::Io(error)) => return Err(error).with_context(|| format!("cannot open {name}")),
            Err(outside @ ReadError::Outside { .. }) => bail!("{name} {outside}"),
        };
    }
    if bytes.len() > MAX_INPUT_BYTES {
        bail!("{name} {TOO_LARGE}");
    }
    Ok(bytes)
}

/// Reads a decision in either form.
pub fn read_document(path: &Path) -> anyhow::Result<Document> {
    let bytes = read_bytes(path)?;
    release_gate_core::read_document(&bytes)
        .with_context(|| format!("cannot read a decision from {}", display_name(path)))
}

/// The policy to use: the given file, else the enclosing repository's `.release/policy.toml`, else the default.
pub fn load_policy(explicit: Option<&Path>) -> anyhow::Result<Policy> {
    let root = if explicit.is_some() { None } else { repo_root()? };
    Ok(release_gate_repo::workspace::load_policy(explicit, root.as_deref())?)
}

/// The repository enclosing the current directory, with its store and policy.
pub fn workspace(policy: Option<&Path>) -> anyhow::Result<Workspace> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(Workspace::open(&cwd, policy)?)
}

/// A stored decision's id, refusing unsafe ones.
pub fn id(text: &str) -> anyhow::Result<Id> {
    Ok(Id::parse(text)?)
}

/// `--actor`, else the workspace's default.
pub fn actor(workspace: &Workspace, explicit: Option<&str>) -> String {
    explicit.map(str::to_owned).unwrap_or_else(|| workspace.default_actor())
}

/// A decision from a file, `-`, or the id of a stored decision.
pub fn decision(path: &Path) -> anyhow::Result<release_gate_core::Decision> {
    if looks_like_file(path) {
        return Ok(read_document(path)?.decision);
    }
    let text = path.to_string_lossy();
    let id = id(&text).with_context(|| format!("{text} is neither a file nor a stored decision"))?;
    Ok(workspace(None)?.load(&id)?)
}

/// The repository enclosing the current directory, as git sees it (the repository crate's rule). A `.git`
/// above that git does not accept (not a repository, or one git refuses as unsafe) lends nothing, and the
/// person is told, so a refused checkout is never judged by the built-in policy in silence.
pub fn repo_root() -> anyhow::Result<Option<PathBuf>> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let root = release_gate_repo::git::Git::enclosing_root(&cwd);
    if root.is_none()
        && let Some(dir) = dot_git_above(&cwd)
    {
        crate::output::note(&format!(
            "{} has a `.git` that git does not accept as a repository here (`git status` there says why, e.g. \
             another owner: `git config --global --add safe.directory DIR`); release-gate treats this folder \
             as outside any repository: the built-in policy, no stored decisions",
            dir.display()
        ));
    }
    Ok(root)
}

/// The nearest folder at or above `dir` with a `.git` entry, whether or not git accepts it.
fn dot_git_above(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|dir| dir.join(".git").exists()).map(Path::to_path_buf)
}

/// The folder a new private key must stay out of: git's repository, or, when git accepts none, any folder
/// with a `.git` above (the stricter of the two readings: a key must never land in a work tree).
pub fn key_guard_root() -> anyhow::Result<Option<PathBuf>> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(release_gate_repo::git::Git::enclosing_root(&cwd).or_else(|| dot_git_above(&cwd)))
}

/// The root to set up: the repository enclosing the current directory, else the current directory.
pub fn repo_root_or_cwd() -> anyhow::Result<PathBuf> {
    match repo_root()? {
        Some(root) => Ok(root),
        None => std::env::current_dir().context("cannot read the current directory"),
    }
}

/// `--now`, or the system clock.
pub fn now(explicit: Option<&str>) -> anyhow::Result<jiff::Timestamp> {
    match explicit {
        // Whole seconds: records and messages stay readable.
        None => Ok(release_gate_repo::evidence::Clock(None).now()),
        Some(text) => release_gate_core::value::parse_timestamp(text).with_context(|| {
            format!("--now `{text}` is not an RFC 3339 date-time with an offset, e.g. 2026-11-27T14:05:00Z")
        }),
    }
}
