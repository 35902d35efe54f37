//! Runs that outlive the call that started them: a code gate, drill or rehearsal that takes longer than
//! the server's wait returns a run handle; `run_status` shows its progress and, once done, its result,
//! and cancels it on request. Clients abort tool calls after a fixed time (Codex after 300 s by default),
//! so a real test suite or rehearsal cannot finish inside one call.
//!
//! A run is bound to its decision (one at a time per decision) and to this server process, not to the
//! session: it goes on when the call returns, and ends with the process (`Runs::cancel_all`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use release_gate_repo::evidence::Progress;
use release_gate_repo::run::Cancel;
use rmcp::RoleServer;
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::Peer;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::input::ToolError;
use crate::repo::{Meter, Update};

/// How long a run tool waits for its run before answering with a handle, unless the server is told
/// otherwise ([`RUN_WAIT_ENV`]): well under any client's tool-call limit.
pub const DEFAULT_RUN_WAIT: Duration = Duration::from_secs(5);

/// The environment variable setting that wait in milliseconds (`serve`; e.g. for a client whose
/// `tool_timeout_sec` is shorter than the default wait).
pub const RUN_WAIT_ENV: &str = "RELEASE_GATE_RUN_WAIT_MS";

/// Finished runs kept for `run_status`; the oldest go first.
const KEEP_FINISHED: usize = 64;

/// The server's runs, shared by every session (clones share them).
#[derive(Debug, Clone)]
pub struct Runs {
    entries: Arc<Mutex<HashMap<String, Arc<Entry>>>>,
    wait: Duration,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl Default for Runs {
    fn default() -> Runs {
        Runs::new(DEFAULT_RUN_WAIT)
    }
}

#[derive(Debug)]
struct Entry {
    handle: String,
    id: String,
    tool: &'static str,
    started: Instant,
    cancel: Cancel,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The latest progress message.
    message: Option<String>,
    /// The run's answer once it has one: the tool's result, or what went wrong.
    outcome: Option<Result<Value, String>>,
    finished: Option<Instant>,
}

impl Entry {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means a panic mid-update; the state is still readable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn done(&self) -> bool {
        self.state().outcome.is_some()
    }
}

/// Where a run stands, as `run_status` (and a run tool that answers before its run is done) reports it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunStatus {
    /// The run handle: pass it to `run_status`.
    pub run: String,
    /// The decision the run is for.
    pub id: String,
    /// The tool that started it.
    pub tool: String,
    /// `running`, `done` (see `result`), `failed` (see `error`) or `cancelled` (nothing was recorded).
    pub state: String,
    /// Time since the run started, in milliseconds.
    pub elapsed_ms: u64,
    /// The latest progress message, e.g. which check runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// When `done`: what the tool returns when it finishes within the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// When `failed` or `cancelled`: what happened and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What to do next.
    pub next: String,
}

/// A run tool's answer: the run's result when it finished within the wait, else `run` with a handle.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunReply<T: JsonSchema> {
    #[serde(flatten)]
    pub result: Option<T>,
    /// Present when the run goes on after this answer: call `run_status` with `run.run` until it is done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunStatus>,
}

/// Raises a run's cancellation when dropped before it is disarmed: a call dropped while it waits (its
/// session ended) leaves nobody to read the run.
struct CancelOnDrop(Option<Cancel>);

impl CancelOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(cancel) = &self.0 {
            cancel.cancel();
        }
    }
}

/// What a run tool passes to [`Runs::start`].
pub struct Start<C> {
    pub tool: &'static str,
    pub id: String,
    pub peer: Peer<RoleServer>,
    pub token: Option<ProgressToken>,
    /// Completes when the call is cancelled (`notifications/cancelled`, the session ending).
    pub cancelled: C,
}

impl<C> std::fmt::Debug for Start<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Start").field("tool", &self.tool).field("id", &self.id).finish_non_exhaustive()
    }
}

impl Runs {
    pub fn new(wait: Duration) -> Runs {
        Runs { entries: Arc::default(), wait, next: Arc::default() }
    }

    /// The wait from [`RUN_WAIT_ENV`], else the default.
    pub fn from_env() -> Result<Runs, String> {
        match std::env::var(RUN_WAIT_ENV) {
            Err(_) => Ok(Runs::default()),
            Ok(text) => {
                text.trim().parse::<u64>().map(|ms| Runs::new(Duration::from_millis(ms))).map_err(|_| {
                    format!("{RUN_WAIT_ENV} is {text:?}; set it to a number of milliseconds, e.g. 5000")
                })
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Entry>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `operation` off the async thread. Answers with its result when it finishes within the wait,
    /// else with a run handle while it goes on. Cancelling the call while it waits cancels the run.
    pub async fn start<T, F, C>(&self, start: Start<C>, operation: F) -> Result<RunReply<T>, ToolError>
    where
        T: Serialize + JsonSchema + Send + 'static,
        F: FnOnce(&mut dyn FnMut(Progress<'_>), &Cancel) -> Result<T, ToolError> + Send + 'static,
        C: std::future::Future<Output = ()> + Send + 'static,
    {
        let entry = self.register(start.tool, &start.id)?;
        let guard = CancelOnDrop(Some(entry.cancel.clone()));
        let watcher = {
            let cancel = entry.cancel.clone();
            let cancelled = start.cancelled;
            tokio::spawn(async move {
                cancelled.await;
                cancel.cancel();
            })
        };
        let (sender, mut updates) = tokio::sync::mpsc::unbounded_channel::<Update>();
        let (answer, mut answered) = tokio::sync::oneshot::channel::<Result<T, ToolError>>();
        let running = Arc::clone(&entry);
        // Detached: the run goes on when the call answers with a handle. The sender lives in this closure,
        // so the progress channel closes only after the outcome is stored.
        drop(tokio::task::spawn_blocking(move || {
            let mut meter = Meter::default();
            let outcome = operation(
                &mut |event| {
                    if let Some(update) = meter.update(event) {
                        running.state().message = Some(update.message.clone());
                        // Nobody listens once the call has answered.
                        let _ = sender.send(update);
                    }
                },
                &running.cancel,
            );
            {
                let mut state = running.state();
                state.finished = Some(Instant::now());
                state.outcome = Some(match &outcome {
                    Ok(value) => serde_json::to_value(value)
                        .map_err(|error| format!("the result could not be written as JSON: {error}")),
                    Err(error) => Err(error.message()),
                });
            }
            // The call takes the typed answer if it still waits.
            let _ = answer.send(outcome);
        }));
        let deadline = tokio::time::Instant::now() + self.wait;
        // Ends when the run is done (its sender dropped) or the wait is over.
        while let Ok(Some(update)) = tokio::time::timeout_at(deadline, updates.recv()).await {
            if let Some(token) = start.token.clone() {
                notify(&start.peer, token, update).await;
            }
        }
        watcher.abort();
        guard.disarm();
        match answered.try_recv() {
            Ok(Ok(value)) => Ok(RunReply { result: Some(value), run: None }),
            Ok(Err(error)) => Err(error),
            Err(_) => Ok(RunReply { result: None, run: Some(self.status_of(&entry)) }),
        }
    }

    /// A new entry for a run of `tool` on decision `id`; refused while another run for it goes on.
    fn register(&self, tool: &'static str, id: &str) -> Result<Arc<Entry>, ToolError> {
        let mut entries = self.lock();
        if let Some(busy) = entries.values().find(|entry| entry.id == id && !entry.done()) {
            return Err(ToolError::Failed(format!(
                "`{}` is still running for decision `{id}` (run `{}`): call `run_status` with that run to follow \
                 it, or with `cancel: true` to stop it, before starting another run",
                busy.tool, busy.handle
            )));
        }
        let mut finished: Vec<(Instant, String)> = entries
            .values()
            .filter_map(|entry| entry.state().finished.map(|at| (at, entry.handle.clone())))
            .collect();
        if finished.len() >= KEEP_FINISHED {
            finished.sort();
            for (_, handle) in finished.iter().take(finished.len() + 1 - KEEP_FINISHED) {
                entries.remove(handle);
            }
        }
        let number = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed).saturating_add(1);
        let handle = format!("run-{number}-{tool}-{id}");
        let entry = Arc::new(Entry {
            handle: handle.clone(),
            id: id.to_owned(),
            tool,
            started: Instant::now(),
            cancel: Cancel::new(),
            state: Mutex::default(),
        });
        entries.insert(handle, Arc::clone(&entry));
        Ok(entry)
    }

    fn status_of(&self, entry: &Entry) -> RunStatus {
        let state = entry.state();
        let elapsed = state.finished.unwrap_or_else(Instant::now).duration_since(entry.started);
        let (label, result, error, next) = match &state.outcome {
            None if entry.cancel.is_cancelled() => (
                "running",
                None,
                None,
                "cancelling: call `run_status` again in a moment to see it end".to_owned(),
            ),
            None => (
                "running",
                None,
                None,
                format!(
                    "call `run_status` with run `{}` to follow it (it waits up to {} s for the end); \
                     `cancel: true` stops it and records nothing",
                    entry.handle,
                    self.wait.as_secs().max(1)
                ),
            ),
            Some(Ok(value)) => (
                "done",
                Some(value.clone()),
                None,
                "the run finished and was recorded: read `result`, then `decision_status`".to_owned(),
            ),
            Some(Err(message)) if entry.cancel.is_cancelled() => (
                "cancelled",
                None,
                Some(message.clone()),
                "nothing was recorded; start the run again when the person wants it".to_owned(),
            ),
            Some(Err(message)) => {
                ("failed", None, Some(message.clone()), "fix what `error` says, then run again".to_owned())
            }
        };
        RunStatus {
            run: entry.handle.clone(),
            id: entry.id.clone(),
            tool: entry.tool.to_owned(),
            state: label.to_owned(),
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            progress: state.message.clone(),
            result,
            error,
            next,
        }
    }

    /// Where run `handle` stands, waiting up to the server's wait for it to finish; with `cancel`, stops it
    /// first (its running command's process group is killed and nothing is recorded).
    pub async fn status(&self, handle: &str, cancel: bool) -> Result<RunStatus, ToolError> {
        let entry = self.lock().get(handle).cloned().ok_or_else(|| {
            ToolError::invalid(format!(
                "no run `{handle}` on this server: pass the `run` value a run tool returned (runs end with the \
                 server, and only the last {KEEP_FINISHED} finished runs are kept)"
            ))
        })?;
        if cancel {
            entry.cancel.cancel();
        }
        let deadline = tokio::time::Instant::now() + self.wait;
        while !entry.done() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Ok(self.status_of(&entry))
    }

    /// Cancels every run still going (the server is ending) and waits, at most `limit`, for them to stop.
    pub async fn cancel_all(&self, limit: Duration) {
        let running: Vec<Arc<Entry>> = self.lock().values().filter(|entry| !entry.done()).cloned().collect();
        for entry in &running {
            entry.cancel.cancel();
        }
        let deadline = tokio::time::Instant::now() + limit;
        while running.iter().any(|entry| !entry.done()) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn notify(peer: &Peer<RoleServer>, token: ProgressToken, update: Update) {
    let mut param = ProgressNotificationParam::new(token, update.progress).with_message(update.message);
    if let Some(total) = update.total {
        param = param.with_total(total);
    }
    if let Err(error) = peer.notify_progress(param).await {
        tracing::debug!("cannot send a progress notification: {error}");
    }
}

/// Arguments of `run_status`.
#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunStatusArgs {
    /// The run handle a run tool returned (`run.run`, e.g. `run-1-run_code_gates-search-v2`).
    pub run: String,
    /// Stop the run: its running command's process group is killed and nothing is recorded. Only when
    /// the person asks for it.
    #[serde(default)]
    pub cancel: bool,
}

#[rmcp::tool_router(router = run_tool_router, vis = "pub(crate)")]
impl crate::server::ReleaseGateServer {
    #[rmcp::tool(
        name = "run_status",
        description = "Follow a run that `run_code_gates`, `run_drill` or `run_rehearsal` handed back as `run` \
            because it takes longer than one call: waits a few seconds for it, then returns its `state` \
            (running, done, failed, cancelled), the latest `progress`, and when done the run's `result` (what \
            the run tool returns when it finishes within the call). Call it again while `state` is running. \
            `cancel: true` stops the run (only when the person asks): its commands are killed and nothing is \
            recorded.",
        annotations(
            title = "Follow or cancel a run",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn run_status(
        &self,
        rmcp::handler::server::wrapper::Parameters(args): rmcp::handler::server::wrapper::Parameters<
            RunStatusArgs,
        >,
    ) -> Result<rmcp::Json<RunStatus>, ToolError> {
        self.runs().status(args.run.trim(), args.cancel).await.map(rmcp::Json)
    }
}
