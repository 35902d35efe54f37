//! Tool inputs: a decision given as text or as a path confined to the server's root, the policy, `now`.

use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use release_gate_core::{Document, MAX_INPUT_BYTES, Policy};
use rmcp::ErrorData;

/// Why a tool call did not produce its answer.
///
/// Both are tool results with `isError: true` (MCP 2025-11-25, SEP-1303: input validation errors are tool
/// execution errors, so the model reads the message and corrects its call). `Invalid` is the caller's
/// mistake in the arguments themselves; its text begins with [`INVALID_ARGUMENTS`] and says how to correct
/// the call. `Failed` is a tool that ran and could not finish, with what to do about it.
#[derive(Debug)]
pub enum ToolError {
    Invalid(String),
    Failed(String),
}

/// How the text of a result for arguments a tool refused begins.
pub const INVALID_ARGUMENTS: &str = "invalid arguments:";

impl ToolError {
    pub fn invalid(message: impl Into<String>) -> ToolError {
        ToolError::Invalid(message.into())
    }

    /// The text of the tool result.
    pub fn message(&self) -> String {
        match self {
            ToolError::Invalid(message) => format!(
                "{INVALID_ARGUMENTS} {}. Correct the arguments and call again.",
                message.trim_end_matches('.')
            ),
            ToolError::Failed(message) => message.clone(),
        }
    }

    /// As a JSON-RPC error, for requests other than tool calls (resources, prompts): there a malformed
    /// argument is `invalid_params` and a failure an internal error.
    pub fn into_error_data(self) -> ErrorData {
        match self {
            ToolError::Invalid(message) => ErrorData::invalid_params(message, None),
            ToolError::Failed(message) => ErrorData::internal_error(message, None),
        }
    }
}

impl rmcp::handler::server::tool::IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<rmcp::model::CallToolResponse, ErrorData> {
        Ok(rmcp::model::CallToolResult::error(vec![rmcp::model::ContentBlock::text(self.message())]).into())
    }
}

/// The server's root: every `path` argument must stay inside it. Canonical, so prefix checks are sound.
///
/// It keeps the parsed policy: compiling the policy's path rules costs more than validating a decision,
/// so the policy is parsed once and again only when `.release/policy.toml` changes (its modification
/// time, size, inode or change time) or appears or goes away. Clones share the cache.
#[derive(Debug, Clone)]
pub struct Root {
    dir: PathBuf,
    policy: Arc<Mutex<Option<CachedPolicy>>>,
}

/// The policy parsed for one state of the policy file.
#[derive(Debug)]
struct CachedPolicy {
    stamp: Option<Stamp>,
    policy: Arc<Policy>,
}

/// What tells one state of a file from another without reading it; `None` is "no policy file".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
    changed: (i64, i64),
}

impl Stamp {
    fn of(metadata: &std::fs::Metadata) -> Stamp {
        Stamp {
            modified: metadata.modified().ok(),
            len: metadata.len(),
            inode: metadata.ino(),
            changed: (metadata.ctime(), metadata.ctime_nsec()),
        }
    }
}

impl Root {
    /// Canonicalizes `dir`; fails when it does not exist or is not a directory.
    pub fn new(dir: &Path) -> std::io::Result<Root> {
        let dir = dir.canonicalize()?;
        if !dir.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is not a directory", dir.display()),
            ));
        }
        Ok(Root { dir, policy: Arc::new(Mutex::new(None)) })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Resolves a `path` argument to a file inside the root.
    ///
    /// A path that names something outside the root (a `..` component, an absolute path elsewhere, a
    /// symbolic link leading out) is a malformed argument; a path inside the root that cannot be read
    /// is a tool failure the agent can fix.
    pub fn resolve(&self, raw: &str) -> Result<PathBuf, ToolError> {
        let outside = || {
            ToolError::invalid(format!(
                "`path` {raw:?} is outside the repository root {}; pass a path relative to the root \
                 (no `..`), or pass the decision's text as `content`",
                self.dir.display()
            ))
        };
        if raw.trim().is_empty() {
            return Err(ToolError::invalid(
                "`path` is empty; pass a file path relative to the repository root",
            ));
        }
        if raw.contains('\0') {
            return Err(ToolError::invalid("`path` contains a NUL byte"));
        }
        let given = Path::new(raw);
        if given.components().any(|component| component == Component::ParentDir) {
            return Err(outside());
        }
        let joined = if given.is_absolute() {
            if !given.starts_with(&self.dir) {
                return Err(outside());
            }
            given.to_path_buf()
        } else {
            self.dir.join(given)
        };
        let resolved = match joined.canonicalize() {
            Ok(resolved) => resolved,
            Err(error) => {
                return Err(ToolError::Failed(format!(
                    "cannot open `{raw}` in {}: {error}. Check the path (relative to the repository root), \
                     or pass the decision's text as `content`.",
                    self.dir.display()
                )));
            }
        };
        if !resolved.starts_with(&self.dir) {
            return Err(outside());
        }
        Ok(resolved)
    }

    /// Reads a file inside the root, at most the size limit.
    pub fn read(&self, raw: &str) -> Result<Vec<u8>, ToolError> {
        let path = self.resolve(raw)?;
        read_limited(&path).map_err(|message| ToolError::Failed(format!("`{raw}` {message}")))
    }

    fn policy_path(&self) -> PathBuf {
        self.dir.join(".release").join("policy.toml")
    }

    /// The state of the policy file: `None` when there is no regular file.
    fn policy_stamp(&self) -> Option<Stamp> {
        std::fs::metadata(self.policy_path()).ok().filter(std::fs::Metadata::is_file).map(|m| Stamp::of(&m))
    }

    /// The policy as last parsed, when the file has not changed since (one `stat`, and no waiting for a
    /// call that is parsing it): what the async thread may use without reading or parsing anything.
    pub fn cached_policy(&self) -> Option<Arc<Policy>> {
        let stamp = self.policy_stamp();
        let cache = self.policy.try_lock().ok()?;
        cache.as_ref().filter(|cached| cached.stamp == stamp).map(|cached| Arc::clone(&cached.policy))
    }

    /// The root's policy: `.release/policy.toml` when present, else the default policy. Parsed again only
    /// when the file changed since the last call.
    pub fn policy(&self) -> Result<Arc<Policy>, ToolError> {
        let stamp = self.policy_stamp();
        // A poisoned lock only means another call panicked mid-update; the cache is then just refilled.
        let mut cache = self.policy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(cached) = cache.as_ref()
            && cached.stamp == stamp
        {
            return Ok(Arc::clone(&cached.policy));
        }
        let policy = Arc::new(match self.policy_text()? {
            None => Policy::default(),
            Some(text) => Policy::from_toml(&text).map_err(|error| {
                ToolError::Failed(format!(
                    ".release/policy.toml is not a valid policy: {error}. Fix the policy file (the \
                     `release-gate://policy` resource shows the effective policy), then call again."
                ))
            })?,
        });
        // The stamp taken before reading: a change during the read makes the next call parse again.
        *cache = Some(CachedPolicy { stamp, policy: Arc::clone(&policy) });
        Ok(policy)
    }

    /// The text of `.release/policy.toml`, if the root has one (read as the CLI reads it: bounded, UTF-8,
    /// never through a link that leaves the repository).
    pub fn policy_text(&self) -> Result<Option<String>, ToolError> {
        release_gate_repo::workspace::read_policy_file(None, Some(&self.dir))
            .map(|found| found.map(|(_, text)| text))
            .map_err(|error| ToolError::Failed(format!("{error}. Fix the policy file, then call again.")))
    }
}

/// Reads at most `MAX_INPUT_BYTES` (plus one, to tell a larger file), refusing directories.
fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    use release_gate_repo::fs::ReadError;
    release_gate_repo::fs::read_limited(path).map_err(|error| match error {
        ReadError::Directory | ReadError::NotRegular => {
            "is not a regular file; pass the path of a decision file".to_owned()
        }
        ReadError::TooLarge => {
            "is larger than 10 MiB; release-gate reads decisions of at most 10 MiB".to_owned()
        }
        ReadError::Io(error) => format!("cannot be read: {error}"),
        outside @ ReadError::Outside { .. } => outside.to_string(),
    })
}

/// Where a tool's decision comes from: text it was given (`content` or `path`), or a stored decision.
#[derive(Debug)]
pub enum Source {
    Text(Box<Document>),
    Stored(release_gate_repo::store::Id),
}

/// The decision source a tool was given: exactly one of `content`, `path` and `id`. Text is read and
/// parsed here; a stored decision is loaded by the caller (that needs the repository).
pub fn source(
    root: &Root,
    content: Option<&str>,
    path: Option<&str>,
    id: Option<&str>,
) -> Result<Source, ToolError> {
    match (content, path, id) {
        (_, _, Some(id)) if content.is_none() && path.is_none() => Ok(Source::Stored(crate::repo::id(id)?)),
        (Some(content), None, None) => {
            if content.len() > MAX_INPUT_BYTES {
                return Err(ToolError::Failed(format!(
                    "`content` is {} bytes; release-gate reads decisions of at most 10 MiB. Pass only the \
                     document that holds the Release Decision section.",
                    content.len()
                )));
            }
            parse(content.as_bytes(), "`content`").map(|d| Source::Text(Box::new(d)))
        }
        (None, Some(path), None) => {
            parse(&root.read(path)?, &format!("`{path}`")).map(|d| Source::Text(Box::new(d)))
        }
        (None, None, None) => Err(ToolError::invalid(
            "pass the decision as `content` (Markdown or JSON text), as `path` (a file relative to the \
             repository root) or as `id` (a stored decision)",
        )),
        _ => Err(ToolError::invalid("pass only one of `content`, `path` and `id`, not several")),
    }
}

/// Reads a decision document, turning an unreadable one into a tool failure that says what to do.
fn parse(bytes: &[u8], source: &str) -> Result<Document, ToolError> {
    release_gate_core::read_document(bytes).map_err(|error| {
        ToolError::Failed(format!(
            "cannot read a decision from {source}: {error}. Give a Markdown document with a \
             `### Release Decision` section (the `release-gate://template` resource has the template) or \
             the JSON record."
        ))
    })
}

/// The optional `now` argument, or the system clock.
pub fn now(explicit: Option<&str>) -> Result<jiff::Timestamp, ToolError> {
    match explicit {
        None => Ok(crate::repo::now()),
        Some(text) => release_gate_core::value::parse_timestamp(text).ok_or_else(|| {
            ToolError::invalid(format!(
                "`now` {text:?} is not an RFC 3339 date-time with an offset, e.g. 2026-11-27T14:05:00Z; \
                 omit it to use the current time"
            ))
        }),
    }
}
