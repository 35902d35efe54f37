//! Tool inputs: a decision given as text or as a path confined to the server's root, the policy, `now`.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use release_gate_core::{Document, MAX_INPUT_BYTES, Policy};
use rmcp::ErrorData;

/// Why a tool call did not produce its answer.
///
/// `Invalid` is the caller's mistake in the arguments themselves (a JSON-RPC `invalid_params` error);
/// `Failed` is a tool that ran and could not finish (a result with `isError: true` the agent can act on).
#[derive(Debug)]
pub enum ToolError {
    Invalid(ErrorData),
    Failed(String),
}

impl ToolError {
    pub fn invalid(message: impl Into<String>) -> ToolError {
        ToolError::Invalid(ErrorData::invalid_params(message.into(), None))
    }
}

impl rmcp::handler::server::tool::IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<rmcp::model::CallToolResponse, ErrorData> {
        match self {
            ToolError::Invalid(error) => Err(error),
            ToolError::Failed(message) => {
                Ok(rmcp::model::CallToolResult::error(vec![rmcp::model::ContentBlock::text(message)]).into())
            }
        }
    }
}

/// The server's root: every `path` argument must stay inside it. Canonical, so prefix checks are sound.
#[derive(Debug, Clone)]
pub struct Root {
    dir: PathBuf,
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
        Ok(Root { dir })
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

    /// The root's policy: `.release/policy.toml` when present, else the default policy.
    pub fn policy(&self) -> Result<Policy, ToolError> {
        match self.policy_text()? {
            None => Ok(Policy::default()),
            Some(text) => Policy::from_toml(&text).map_err(|error| {
                ToolError::Failed(format!(
                    ".release/policy.toml is not a valid policy: {error}. Fix the policy file (the \
                     `release-gate://policy` resource shows the effective policy), then call again."
                ))
            }),
        }
    }

    /// The text of `.release/policy.toml`, if the root has one.
    pub fn policy_text(&self) -> Result<Option<String>, ToolError> {
        let path = self.dir.join(".release").join("policy.toml");
        if !path.is_file() {
            return Ok(None);
        }
        let bytes = read_limited(&path)
            .map_err(|message| ToolError::Failed(format!(".release/policy.toml {message}")))?;
        String::from_utf8(bytes).map(Some).map_err(|_| {
            ToolError::Failed(".release/policy.toml is not valid UTF-8; fix the file.".to_owned())
        })
    }
}

/// Reads at most `MAX_INPUT_BYTES` (plus one, to tell a larger file), refusing directories.
fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|error| format!("cannot be opened: {error}"))?;
    let metadata = file.metadata().map_err(|error| format!("cannot be read: {error}"))?;
    if !metadata.is_file() {
        return Err("is not a regular file; pass the path of a decision file".to_owned());
    }
    let limit = u64::try_from(MAX_INPUT_BYTES).unwrap_or(u64::MAX).saturating_add(1);
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes).map_err(|error| format!("cannot be read: {error}"))?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err("is larger than 10 MiB; release-gate reads decisions of at most 10 MiB".to_owned());
    }
    Ok(bytes)
}

/// The decision source a tool was given: exactly one of `content` and `path`.
pub fn decision_bytes(root: &Root, content: Option<&str>, path: Option<&str>) -> Result<Vec<u8>, ToolError> {
    match (content, path) {
        (Some(content), None) => {
            if content.len() > MAX_INPUT_BYTES {
                return Err(ToolError::Failed(format!(
                    "`content` is {} bytes; release-gate reads decisions of at most 10 MiB. Pass only the \
                     document that holds the Release Decision section.",
                    content.len()
                )));
            }
            Ok(content.as_bytes().to_vec())
        }
        (None, Some(path)) => root.read(path),
        (Some(_), Some(_)) => Err(ToolError::invalid("pass either `content` or `path`, not both")),
        (None, None) => Err(ToolError::invalid(
            "pass the decision as `content` (Markdown or JSON text) or as `path` (a file relative to the repository root)",
        )),
    }
}

/// Reads a decision document, turning an unreadable one into a tool failure that says what to do.
pub fn document(root: &Root, content: Option<&str>, path: Option<&str>) -> Result<Document, ToolError> {
    let bytes = decision_bytes(root, content, path)?;
    let source = path.map_or_else(|| "`content`".to_owned(), |path| format!("`{path}`"));
    release_gate_core::read_document(&bytes).map_err(|error| {
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
        None => Ok(jiff::Timestamp::now()),
        Some(text) => release_gate_core::value::parse_timestamp(text).ok_or_else(|| {
            ToolError::invalid(format!(
                "`now` {text:?} is not an RFC 3339 date-time with an offset, e.g. 2026-11-27T14:05:00Z; \
                 omit it to use the current time"
            ))
        }),
    }
}
