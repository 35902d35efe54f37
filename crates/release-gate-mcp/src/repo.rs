//! The repository tools' plumbing: opening the workspace, mapping its errors to what an agent can act on,
//! running blocking operations off the async thread, and turning run progress into MCP progress values.

use std::time::Duration;

use release_gate_repo::evidence::Progress;
use release_gate_repo::git::GitError;
use release_gate_repo::store::{Id, StoreError};
use release_gate_repo::workspace::{OpError, Workspace};

use crate::input::{Root, ToolError};

/// The repository enclosing the server's root, with its store and its policy.
pub fn workspace(root: &Root) -> Result<Workspace, ToolError> {
    Workspace::open(root.dir(), None).map_err(op_error)
}

/// A stored decision's id; an unsafe or malformed one (`../x`, empty) is an argument the tool refuses.
pub fn id(text: &str) -> Result<Id, ToolError> {
    Id::parse(text).map_err(|error| {
        ToolError::invalid(format!("`id`: {error}; `list_decisions` shows the stored decisions' ids"))
    })
}

/// The `actor` argument: who the change is recorded for. Required and not blank.
pub fn actor(text: &str) -> Result<String, ToolError> {
    let actor = release_gate_core::value::tidy_line(text);
    if actor.is_empty() {
        return Err(ToolError::invalid(
            "`actor` is empty: say who you act for, e.g. `codex for Dana Lee`; it is recorded in the \
             decision's history",
        ));
    }
    Ok(actor)
}

/// An operation that could not run, as a tool failure saying what to do (or, for an unsafe id, an
/// argument the tool refuses).
pub fn op_error(error: OpError) -> ToolError {
    match error {
        OpError::Store(StoreError::InvalidId { .. }) => ToolError::invalid(error.to_string()),
        OpError::Store(StoreError::NotFound { id, .. }) => ToolError::Failed(format!(
            "no stored decision `{id}`: call `list_decisions` for the ids, or `draft_decision` to start one"
        )),
        OpError::Store(StoreError::Exists { id }) => ToolError::Failed(format!(
            "a decision `{id}` already exists: after new commits, `rebind_decision` moves it to the new head; \
             for another release pick another `id`, or omit it to get a generated one"
        )),
        OpError::RunEvidence { layer, .. } => ToolError::Failed(format!(
            "the committed policy runs the {layer} gate's evidence, so a typed result does not count: call \
             `run_code_gates`. If it failed, fix the cause and run it again, or offer the person a NO-GO; only \
             the person may override, with the CLI (`release-gate gate ID {layer} pass --override --justification TEXT`)"
        )),
        OpError::EvidenceRequired { layer } => ToolError::Failed(format!(
            "a pass for the {layer} gate needs `evidence`: what shows it (a CI run, an approval, a link); ask the \
             person if you do not have it"
        )),
        OpError::DecisionGate => ToolError::Failed(
            "the decision gate is recorded by `decide` when the final decision owner makes the call; do not \
             record it with `record_gate`"
                .to_owned(),
        ),
        OpError::Git(GitError::NotARepository { dir }) => ToolError::Failed(format!(
            "{dir} is not inside a git repository: stored decisions live in a repository's `.release/`; \
             start the server inside the repository (or with `--root`), or pass the decision as `content`"
        )),
        OpError::Git(GitError::UnknownRevision { rev }) => ToolError::Failed(format!(
            "`{rev}` is not a commit in this repository: pass a branch, tag or commit hash that exists \
             (e.g. `HEAD`, `main`, `v1.4.0`)"
        )),
        OpError::Policy { .. } | OpError::PolicyUnreadable { .. } => ToolError::Failed(format!(
            "{error}. Fix the policy file (the `release-gate://policy` resource shows the effective policy), \
             then call again."
        )),
        OpError::Cancelled => ToolError::Failed(
            "the run was cancelled: its commands were stopped and nothing was recorded; run it again when the \
             person wants it"
                .to_owned(),
        ),
        OpError::Refused(report) => ToolError::Failed(format!(
            "refused: the decision does not validate ({} error(s)); call `decision_status` for the fixes",
            report.errors().count()
        )),
        other => ToolError::Failed(other.to_string()),
    }
}

/// The server's clock, in whole seconds as the CLI records and judges: the one time source of every tool
/// (a `now` argument, where a tool has one, judges as of another time; runs stamp each step as it ends).
pub(crate) fn now() -> jiff::Timestamp {
    release_gate_repo::evidence::Clock(None).now()
}

/// A tool's `commit` argument: omitted or blank is `HEAD`, in every tool.
pub(crate) fn commit(commit: Option<String>) -> String {
    given_commit(commit).unwrap_or_else(|| "HEAD".to_owned())
}

/// A `commit` argument that was really given (blank counts as omitted).
pub(crate) fn given_commit(commit: Option<String>) -> Option<String> {
    commit.filter(|commit| !commit.trim().is_empty())
}

/// Runs a blocking operation (it spawns git or the policy's commands) on tokio's blocking pool.
pub async fn blocking<T, F>(operation: F) -> Result<T, ToolError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ToolError> + Send + 'static,
{
    tokio::task::spawn_blocking(operation).await.map_err(|error| {
        ToolError::Failed(format!("the operation stopped unexpectedly: {error}; call again"))
    })?
}

/// Decision text up to this size is read and judged on the async thread: tens of microseconds, less than
/// handing it to another thread costs (and no pool thread, with its stack and allocator arena, is woken).
pub const INLINE_TEXT_BYTES: usize = 64 * 1024;

/// Runs `operation` on the async thread when `quick` (bounded work on text already in memory: no git,
/// no file read, no lock waited for), else on tokio's blocking pool like [`blocking`].
pub async fn quick_or_blocking<T, F>(quick: bool, operation: F) -> Result<T, ToolError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ToolError> + Send + 'static,
{
    if quick { operation() } else { blocking(operation).await }
}

/// The plumbing of a tool that changes a stored decision, in one place: the id and the actor checked (a bad
/// one is an argument to correct), the workspace opened, the operation run off the async thread with the
/// server's clock, and its errors said as the agent can act on them.
pub async fn change<T, F>(root: &Root, id: &str, actor: &str, operation: F) -> Result<T, ToolError>
where
    T: Send + 'static,
    F: FnOnce(&Workspace, &Id, &str, jiff::Timestamp) -> Result<T, OpError> + Send + 'static,
{
    let id = self::id(id)?;
    let actor = self::actor(actor)?;
    let root = root.clone();
    blocking(move || {
        let workspace = workspace(&root)?;
        operation(&workspace, &id, &actor, now()).map_err(op_error)
    })
    .await
}

/// One progress notification, owned so it can cross from the blocking thread.
pub(crate) struct Update {
    pub(crate) progress: f64,
    pub(crate) total: Option<f64>,
    pub(crate) message: String,
}

/// Turns the operation's progress events into MCP progress values that only ever increase: step `i`
/// of `n` starts at `i` and ends at `i + 1`; "still running" and polling move halfway to the next step.
#[derive(Default)]
pub(crate) struct Meter {
    step: usize,
    total: Option<usize>,
    /// The last value sent; `None` before the first.
    last: Option<f64>,
    /// Whole seconds already reported for the running step (a check ticks every 25 ms).
    reported_secs: u64,
}

impl Meter {
    pub(crate) fn update(&mut self, event: Progress<'_>) -> Option<Update> {
        let (progress, message) = match event {
            Progress::Started { index, total, name } => {
                self.step = index;
                self.total = Some(total);
                self.reported_secs = 0;
                (index as f64, format!("running `{name}` ({} of {total})", index.saturating_add(1)))
            }
            Progress::Running { name, elapsed } => {
                let secs = elapsed.as_secs();
                if secs <= self.reported_secs {
                    return None;
                }
                self.reported_secs = secs;
                (self.halfway(), format!("`{name}` still running after {}", seconds(elapsed)))
            }
            Progress::Finished { result } => {
                let done = self.step.saturating_add(1) as f64;
                (done, format!("`{}` {}", result.name, result.summary()))
            }
            Progress::Polling { attempt, since_rollback } => (
                self.halfway(),
                format!(
                    "recovery check, attempt {attempt}, {} after the rollback started",
                    seconds(since_rollback)
                ),
            ),
        };
        let progress = match self.last {
            Some(last) if progress <= last => self.halfway(),
            _ => progress,
        };
        self.last = Some(progress);
        Some(Update { progress, total: self.total.map(|total| total as f64), message })
    }

    /// Halfway between the last value and the end of the current step: always more than the last.
    fn halfway(&self) -> f64 {
        let end = self.step.saturating_add(1) as f64;
        let last = self.last.unwrap_or(self.step as f64);
        let next = last + (end - last) / 2.0;
        if next > last { next } else { last + f64::EPSILON.max(last * f64::EPSILON) }
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}
