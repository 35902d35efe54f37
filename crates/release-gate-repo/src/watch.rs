//! Rollback triggers watched against metrics: the observer that polls a decision's conditions on the
//! metrics server (shared by the rehearsal and the watch), and the post-deploy watch, which records a
//! firing before it runs the committed rollback and ends passed, rolled back or inconclusive.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use release_gate_core::Decision;
use release_gate_core::history::{Change, CheckResult, Event};
use release_gate_core::policy::Policy;
use release_gate_core::signals::{self, NoData, Observation, State, Tally, Verdict, WatchOutcome, Watched};
use sha2::{Digest, Sha256};

use crate::evidence::Clock;
use crate::metrics::Prometheus;
use crate::run::{Cancel, run_check};
use crate::store::Id;
use crate::workspace::{OpError, Workspace};

/// The decision's conditions on the metrics server, polled together; what each showed is kept as evidence.
#[derive(Debug)]
pub struct Observer {
    server: Prometheus,
    conditions: Vec<Watched>,
    observations: Vec<Observation>,
    hashers: Vec<Sha256>,
}

/// The conditions a decision's triggers map to under a policy: `None` when the policy maps no signal;
/// an error when a trigger cannot be watched (the validator names the finding).
pub fn watched_conditions(decision: &Decision, policy: &Policy) -> Result<Option<Vec<Watched>>, OpError> {
    if policy.signals().is_empty() {
        return Ok(None);
    }
    let (found, unresolved) = signals::watched(decision, policy.signals());
    if let Some((index, problem)) = unresolved.first() {
        let text = decision.rollback_conditions.get(*index).map_or("", |condition| condition.text.as_str());
        return Err(OpError::Precondition(format!(
            "the rollback trigger `{text}` cannot be watched ({problem:?}): `release-gate validate` names the fix (signal-unmapped, signal-unit-mismatch, trigger-window-unreadable)"
        )));
    }
    if found.is_empty() {
        return Err(OpError::Precondition(
            "the policy maps signals, but the decision has no structured rollback trigger to watch: write one such as `error rate > 2% for 5 minutes`".into(),
        ));
    }
    Ok(Some(found))
}

/// Milliseconds since the epoch, by the system clock (the metrics server's time base).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
}

impl Observer {
    /// Starts observing; asks the server for its build info (recorded with each observation).
    pub fn new(server: Prometheus, conditions: Vec<Watched>, baseline: &str) -> Observer {
        let info = server.build_info().unwrap_or_else(|error| format!("unknown ({error})"));
        let observations = conditions
            .iter()
            .map(|condition| Observation {
                condition: condition.text.clone(),
                signal: condition.signal.clone(),
                query: condition.query.clone(),
                threshold: signals::number(condition.threshold),
                server: info.clone(),
                baseline: baseline.to_owned(),
                detected_after_ms: None,
                cleared_after_ms: None,
                queries: 0,
                query_errors: 0,
                series: Vec::new(),
                digest: String::new(),
                problem: None,
            })
            .collect();
        let hashers = conditions.iter().map(|_| Sha256::new()).collect();
        Observer { server, conditions, observations, hashers }
    }

    pub fn conditions(&self) -> &[Watched] {
        &self.conditions
    }

    /// The shortest step of the conditions: the time between two polls.
    pub fn step(&self) -> Duration {
        self.conditions
            .iter()
            .map(|condition| condition.step.unsigned_abs())
            .min()
            .unwrap_or(Duration::from_secs(15))
    }

    /// The longest window plus a few steps: how long a condition may take to fire once the failure is there.
    pub fn settle_time(&self) -> Duration {
        let window =
            self.conditions.iter().map(|condition| condition.window.unsigned_abs()).max().unwrap_or_default();
        window + self.step() * 4
    }

    /// Queries every condition at `end_ms`; a failed query is an `error` state.
    pub fn poll(&mut self, end_ms: i64) -> Vec<(NoData, State)> {
        let mut states = Vec::with_capacity(self.conditions.len());
        for ((condition, observation), hasher) in
            self.conditions.iter().zip(self.observations.iter_mut()).zip(self.hashers.iter_mut())
        {
            let (start_ms, step_ms) = signals::grid(condition, end_ms);
            observation.queries = observation.queries.saturating_add(1);
            let state = match self.server.query_range(&condition.query, start_ms, end_ms, step_ms) {
                Ok(range) => {
                    hasher.update(&range.raw);
                    if !range.points.is_empty() {
                        observation.series = range.points;
                    }
                    let state = signals::evaluate(condition, &range.answer, end_ms);
                    if let (State::Error(error), None) = (&state, &observation.problem) {
                        observation.problem = Some(error.clone());
                    }
                    state
                }
                Err(error) => {
                    observation.query_errors = observation.query_errors.saturating_add(1);
                    State::Error(error.to_string())
                }
            };
            states.push((condition.no_data, state));
        }
        states
    }

    pub fn observations_mut(&mut self) -> &mut [Observation] {
        &mut self.observations
    }

    /// The observations with their digests.
    pub fn finish(self) -> Vec<Observation> {
        self.observations
            .into_iter()
            .zip(self.hashers)
            .map(|(mut observation, hasher)| {
                observation.digest = format!("sha256:{}", crate::git::hex(&hasher.finalize()));
                observation
            })
            .collect()
    }
}

/// What a watch reports as it goes.
#[derive(Debug, Clone)]
pub enum WatchProgress {
    /// One poll: its number and each condition's state.
    Polled { poll: u32, states: Vec<String> },
    /// A condition fired; the rollback starts.
    Fired { condition: String },
}

/// How a watch ended.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct WatchRun {
    pub commit: String,
    pub outcome: WatchOutcome,
    /// Why it ended inconclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The condition that fired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fired: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<CheckResult>,
    pub polls: u32,
    pub observations: Vec<Observation>,
}

impl Workspace {
    /// Watches the decision's rollback triggers on the metrics server for `duration`. On firing it records
    /// the event, then runs the committed `[watch] rollback`. Only one watch per decision runs at a time.
    /// Cancelled before anything fired, it records nothing (`OpError::Cancelled`).
    pub fn watch(
        &self,
        id: &Id,
        duration: Duration,
        actor: &str,
        clock: Clock,
        progress: &mut dyn FnMut(WatchProgress),
        cancel: &Cancel,
    ) -> Result<WatchRun, OpError> {
        let decision = self.store.load(id)?;
        let commit = self.git.resolve("HEAD")?;
        let policy = self.committed_policy(&commit)?;
        let plan = policy.watch().cloned().ok_or_else(|| {
            OpError::Precondition(
                "the committed policy has no [watch]: name the production rollback (`rollback = [...]`) the watch runs when a trigger fires".into(),
            )
        })?;
        let conditions = watched_conditions(&decision, &policy)?.ok_or_else(|| {
            OpError::Precondition(
                "the committed policy maps no [[signals]]: add one per rollback trigger (name, query, unit) so the watch knows what to query".into(),
            )
        })?;
        let lock_path = self.store.dir().join(format!("{}.watch.lock", id.as_str()));
        let _lock = crate::fs::Lock::try_exclusive(&lock_path)
            .map_err(|error| OpError::File {
                path: lock_path.clone(),
                reason: format!("cannot take the watch lock: {error}"),
            })?
            .ok_or_else(|| {
                OpError::Precondition(format!(
                    "another watch of decision `{}` is running: one watcher per decision; wait for it to end",
                    id.as_str()
                ))
            })?;
        let server = Prometheus::from_settings(policy.metrics())?;
        let mut observer = Observer::new(server, conditions, "");
        let step = observer.step();
        let started = std::time::Instant::now();
        let mut tally = Tally::new(plan.error_limit);
        let mut polls = 0u32;
        let ending = loop {
            if cancel.is_cancelled() {
                return Err(OpError::Cancelled);
            }
            polls = polls.saturating_add(1);
            let states = observer.poll(now_ms());
            if polls == 1 {
                for (observation, (_, state)) in observer.observations_mut().iter_mut().zip(&states) {
                    observation.baseline = state.name().to_owned();
                }
            }
            progress(WatchProgress::Polled {
                poll: polls,
                states: states.iter().map(|(_, state)| state.name().to_owned()).collect(),
            });
            match tally.poll(&states) {
                Verdict::Fire(index) => break Ok(index),
                Verdict::Inconclusive(reason) => break Err(reason),
                Verdict::Continue => {}
            }
            if started.elapsed() + step > duration {
                break match tally.finish() {
                    Ok(()) => {
                        let observations = observer.finish();
                        return self.record_end(
                            id,
                            actor,
                            clock,
                            WatchRun {
                                commit,
                                outcome: WatchOutcome::Passed,
                                reason: None,
                                fired: None,
                                rollback: None,
                                polls,
                                observations,
                            },
                        );
                    }
                    Err(reason) => Err(reason),
                };
            }
            if cancel.sleep(step) {
                return Err(OpError::Cancelled);
            }
        };
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (fired, reason) = match ending {
            Ok(index) => (observer.conditions().get(index).map(|condition| condition.text.clone()), None),
            Err(reason) if plan.rollback_on_inconclusive => (None, Some(reason)),
            Err(reason) => {
                let observations = observer.finish();
                return self.record_end(
                    id,
                    actor,
                    clock,
                    WatchRun {
                        commit,
                        outcome: WatchOutcome::Inconclusive,
                        reason: Some(reason),
                        fired: None,
                        rollback: None,
                        polls,
                        observations,
                    },
                );
            }
        };
        let fired_text =
            fired.clone().unwrap_or_else(|| "inconclusive, and the policy rolls back on it".to_owned());
        // The firing goes on record before the rollback runs.
        let mut observations = observer.finish();
        for observation in
            observations.iter_mut().filter(|observation| Some(&observation.condition) == fired.as_ref())
        {
            observation.detected_after_ms = Some(elapsed_ms);
        }
        let observation = observations
            .iter()
            .find(|observation| Some(&observation.condition) == fired.as_ref())
            .or(observations.first())
            .cloned();
        if let Some(observation) = observation {
            self.store.update(id, |decision| {
                decision.record(Event {
                    at: clock.now(),
                    actor: actor.to_owned(),
                    change: Change::WatchFired { commit: commit.clone(), observation: observation.clone() },
                    confirmed: None,
                });
                Ok::<_, OpError>(())
            })?;
        }
        progress(WatchProgress::Fired { condition: fired_text });
        // The rollback runs to its end even if the watch is cancelled meanwhile: half a rollback is worse.
        let rollback = run_check(&plan.rollback, self.git.root(), &mut |_| {}, &Cancel::new());
        let outcome = if rollback.passed { WatchOutcome::RolledBack } else { WatchOutcome::RollbackFailed };
        self.record_end(
            id,
            actor,
            clock,
            WatchRun { commit, outcome, reason, fired, rollback: Some(rollback), polls, observations },
        )
    }

    /// Records how a watch ended (`watch-ended`) and hands the run back.
    fn record_end(&self, id: &Id, actor: &str, clock: Clock, run: WatchRun) -> Result<WatchRun, OpError> {
        self.store.update(id, |decision| {
            decision.record(Event {
                at: clock.now(),
                actor: actor.to_owned(),
                change: Change::WatchEnded {
                    outcome: run.outcome,
                    commit: run.commit.clone(),
                    rollback: run.rollback.clone(),
                    reason: run.reason.clone(),
                    observations: run.observations.clone(),
                },
                confirmed: None,
            });
            Ok::<_, OpError>(())
        })?;
        Ok(run)
    }
}

/// A rehearsal's baseline: before the trigger, every watched condition must have data and be clear. Polls
/// for up to the conditions' settle time (a fresh deploy may need a scrape or two); true when clear.
pub fn baseline(observer: &mut Observer, interval: Duration, cancel: &Cancel) -> Result<bool, OpError> {
    let started = std::time::Instant::now();
    loop {
        let states = observer.poll(now_ms());
        for (observation, (_, state)) in observer.observations_mut().iter_mut().zip(&states) {
            observation.baseline = state.name().to_owned();
        }
        if states.iter().all(|(_, state)| *state == State::Clear) {
            return Ok(true);
        }
        if started.elapsed() + interval > observer.settle_time() {
            return Ok(false);
        }
        if cancel.sleep(interval) {
            return Err(OpError::Cancelled);
        }
    }
}

/// Marks the conditions that fire in `states` as detected `elapsed_ms` after the trigger; true if any did.
pub fn mark_detected(observer: &mut Observer, states: &[(NoData, State)], elapsed_ms: u64) -> bool {
    let mut any = false;
    for (observation, (_, state)) in observer.observations_mut().iter_mut().zip(states) {
        if *state == State::Firing {
            any = true;
            observation.detected_after_ms.get_or_insert(elapsed_ms);
        }
    }
    any
}

/// Marks the conditions that are clear in `states` as cleared `elapsed_ms` after the rollback started;
/// true when every condition has cleared.
pub fn mark_cleared(observer: &mut Observer, states: &[(NoData, State)], elapsed_ms: u64) -> bool {
    for (observation, (_, state)) in observer.observations_mut().iter_mut().zip(states) {
        match state {
            State::Clear => {
                observation.cleared_after_ms.get_or_insert(elapsed_ms);
            }
            // Firing again after a clear: not recovered yet.
            State::Firing | State::Pending => observation.cleared_after_ms = None,
            State::NoData(_) | State::Error(_) => {}
        }
    }
    observer.observations_mut().iter().all(|observation| observation.cleared_after_ms.is_some())
}
