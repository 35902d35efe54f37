//! Evidence that is run, not typed: the code gate's checks, the pre-release drill, the timed rollback
//! rehearsal; and the facts people add beside them (communication package, operational facts).
//!
//! Commands come only from the policy as committed at the commit being checked, never from an argument,
//! and run only in a clean work tree, so what ran is what was reviewed.

use std::time::{Duration, Instant};

use release_gate_core::decision::GateResult;
use release_gate_core::decision::{Communication, Layer, Operations};
use release_gate_core::history::{Change, CheckResult, DrillItem, Event};
use release_gate_core::policy::Check;
use release_gate_core::value::short_commit;
use release_gate_core::{Decision, Policy};

use crate::run::{Cancel, run_check};
use crate::store::Id;
use crate::workspace::{OpError, Workspace};

/// What a long run reports as it goes.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// A check starts: its position, the total, its name.
    Started { index: usize, total: usize, name: &'a str },
    /// A check is still running.
    Running { name: &'a str, elapsed: Duration },
    /// A check finished.
    Finished { result: &'a CheckResult },
    /// The rehearsal polls its recovery check.
    Polling { attempt: u32, since_rollback: Duration },
}

/// A clock for records: the given time, or the system clock when the record is written, in whole seconds.
/// The one place the system clock is read: both shells take their "now" from it, and operations that
/// record one event take that time while runs read the clock as each step ends.
#[derive(Debug, Clone, Copy)]
pub struct Clock(pub Option<jiff::Timestamp>);

impl Clock {
    pub fn now(self) -> jiff::Timestamp {
        self.0.unwrap_or_else(|| {
            jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        })
    }
}

/// The result of running the code gate.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct GateRun {
    pub commit: String,
    pub passed: bool,
    pub checks: Vec<CheckResult>,
}

/// The result of a rehearsal.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct RehearsalOutcome {
    pub commit: String,
    pub passed: bool,
    pub steps: Vec<CheckResult>,
    /// Trigger end to the check's first failure; `None`: the trigger was not observed.
    pub detection_ms: Option<u64>,
    pub recovery_ms: Option<u64>,
    pub max_recovery_ms: u64,
    pub polls: u32,
    /// What the metrics server showed of each rollback trigger, when the policy maps them to signals.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<release_gate_core::signals::Observation>,
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Workspace {
    /// The policy as committed at `commit`: the only source of commands.
    pub fn committed_policy(&self, commit: &str) -> Result<Policy, OpError> {
        let bytes = self.git.committed_file(commit, ".release/policy.toml")?.ok_or_else(|| {
            OpError::Precondition(format!(
                "commit {} has no .release/policy.toml: commands run only from the committed policy; commit it first",
                short_commit(commit)
            ))
        })?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| OpError::Precondition("the committed .release/policy.toml is not UTF-8".into()))?;
        Policy::from_toml(text).map_err(|error| OpError::Policy {
            path: format!("{}:.release/policy.toml", short_commit(commit)),
            error,
        })
    }

    /// HEAD, refusing a work tree with uncommitted changes (outside release-gate's own records).
    pub(crate) fn clean_head(&self) -> Result<String, OpError> {
        let head = self.git.resolve("HEAD")?;
        let dirty = self.git.dirty_paths(&head)?;
        if !dirty.is_empty() {
            let shown: Vec<&str> = dirty.iter().take(5).map(String::as_str).collect();
            let more = if dirty.len() > 5 { format!(" and {} more", dirty.len() - 5) } else { String::new() };
            return Err(OpError::Precondition(format!(
                "the work tree has uncommitted changes ({}{more}): commit or stash them, so the evidence is for a commit",
                shown.join(", ")
            )));
        }
        Ok(head)
    }

    /// Runs the checks in order; stops at a cancellation (`OpError::Cancelled`, nothing to record).
    fn run_all(
        &self,
        checks: &[Check],
        progress: &mut dyn FnMut(Progress<'_>),
        cancel: &Cancel,
    ) -> Result<Vec<CheckResult>, OpError> {
        let total = checks.len();
        let mut results = Vec::with_capacity(total);
        for (index, check) in checks.iter().enumerate() {
            let result = self.run_one(check, index, total, progress, cancel)?;
            results.push(result);
        }
        Ok(results)
    }

    /// Runs one check with its progress events; a cancelled check is `OpError::Cancelled`, never a result.
    fn run_one(
        &self,
        check: &Check,
        index: usize,
        total: usize,
        progress: &mut dyn FnMut(Progress<'_>),
        cancel: &Cancel,
    ) -> Result<CheckResult, OpError> {
        if cancel.is_cancelled() {
            return Err(OpError::Cancelled);
        }
        progress(Progress::Started { index, total, name: &check.name });
        let result = run_check(
            check,
            self.git.root(),
            &mut |elapsed| progress(Progress::Running { name: &check.name, elapsed }),
            cancel,
        );
        if cancel.is_cancelled() {
            return Err(OpError::Cancelled);
        }
        progress(Progress::Finished { result: &result });
        Ok(result)
    }

    /// One poll of the rehearsal's recovery check (no progress of its own).
    fn poll_once(&self, check: &Check, cancel: &Cancel) -> Result<CheckResult, OpError> {
        let result = run_check(check, self.git.root(), &mut |_| {}, cancel);
        if cancel.is_cancelled() { Err(OpError::Cancelled) } else { Ok(result) }
    }

    /// Runs the committed policy's code-gate checks on HEAD and records the code gate: pass only when
    /// every check passes. Cancelled (`cancel`) before the end, it kills the running check and records
    /// nothing (`OpError::Cancelled`).
    pub fn run_code_gates(
        &self,
        id: &Id,
        actor: &str,
        clock: Clock,
        progress: &mut dyn FnMut(Progress<'_>),
        cancel: &Cancel,
    ) -> Result<GateRun, OpError> {
        self.store.load(id)?;
        let commit = self.clean_head()?;
        let policy = self.committed_policy(&commit)?;
        if policy.code_gates().is_empty() {
            return Err(OpError::Precondition(
                "the committed policy lists no [[code_gates]]: add the checks (name, command) to .release/policy.toml".into(),
            ));
        }
        let checks = self.run_all(policy.code_gates(), progress, cancel)?;
        // A check that could not start (its program is missing) says nothing about the code: an error to fix
        // in the environment or the policy, never a failing gate.
        if let Some(check) = checks.iter().find(|check| check.error.is_some()) {
            let program = check.command.first().map_or("", String::as_str);
            return Err(OpError::Precondition(format!(
                "the check `{}` could not run: {}. Install `{program}` (or put it on PATH), or fix its `command` in .release/policy.toml and commit it; nothing was recorded",
                check.name,
                check.error.as_deref().unwrap_or("it could not start")
            )));
        }
        let passed = checks.iter().all(|check| check.passed);
        self.store.update(id, |decision| {
            let diff_digest = self.diff_digest(decision, &commit)?;
            decision.record(Event {
                at: clock.now(),
                actor: actor.to_owned(),
                confirmed: None,
                change: Change::GateRecorded {
                    layer: Layer::Code,
                    result: if passed { GateResult::Pass } else { GateResult::Fail },
                    evidence: Vec::new(),
                    commit: commit.clone(),
                    diff_digest,
                    checks: checks.clone(),
                    override_justification: None,
                },
            });
            Ok::<_, OpError>(())
        })?;
        Ok(GateRun { commit, passed, checks })
    }

    fn diff_digest(&self, decision: &Decision, commit: &str) -> Result<Option<String>, OpError> {
        Ok(match &decision.binding {
            Some(binding) => Some(self.git.diff(&binding.base, commit)?.digest),
            None => None,
        })
    }

    /// Runs the drill items the committed policy has commands for, and records the confirmations a
    /// person gives for the others. An item with a command cannot be confirmed by hand. Cancelled, it
    /// records nothing, not even the confirmations.
    pub fn run_drill(
        &self,
        id: &Id,
        confirmations: &[(DrillItem, Vec<String>)],
        actor: &str,
        clock: Clock,
        progress: &mut dyn FnMut(Progress<'_>),
        cancel: &Cancel,
    ) -> Result<Decision, OpError> {
        self.store.load(id)?;
        let commit = self.clean_head()?;
        let policy = self.committed_policy(&commit)?;
        let drill = policy.drill();
        let command_for = |item: DrillItem| match item {
            DrillItem::CriticalCommands => drill.critical_commands.as_ref(),
            DrillItem::FeatureFlags => drill.feature_flags.as_ref(),
            DrillItem::RollbackCommand => drill.rollback_command.as_ref(),
            DrillItem::Dashboards | DrillItem::Pager => None,
        };
        for (item, evidence) in confirmations {
            if command_for(*item).is_some() {
                return Err(OpError::Precondition(format!(
                    "the drill item `{}` has a command in the policy: it is run, not confirmed by hand",
                    item.as_str()
                )));
            }
            if evidence.iter().all(|e| e.trim().is_empty()) {
                return Err(OpError::Precondition(format!(
                    "confirming `{}` needs evidence: what you checked, e.g. a dashboard link or the pager schedule",
                    item.as_str()
                )));
            }
        }
        let runnable: Vec<(DrillItem, &Check)> = DrillItem::ALL
            .into_iter()
            .filter_map(|item| command_for(item).map(|check| (item, check)))
            .collect();
        let checks: Vec<Check> = runnable.iter().map(|(_, check)| (*check).clone()).collect();
        let results = self.run_all(&checks, progress, cancel)?;
        self.store.update(id, |decision| {
            for ((item, _), result) in runnable.iter().zip(results) {
                decision.record(Event {
                    at: clock.now(),
                    actor: actor.to_owned(),
                    confirmed: None,
                    change: Change::DrillItemRecorded {
                        item: *item,
                        passed: result.passed,
                        evidence: Vec::new(),
                        check: Some(result),
                        commit: commit.clone(),
                    },
                });
            }
            for (item, evidence) in confirmations {
                decision.record(Event {
                    at: clock.now(),
                    actor: actor.to_owned(),
                    confirmed: None,
                    change: Change::DrillItemRecorded {
                        item: *item,
                        passed: true,
                        evidence: evidence
                            .iter()
                            .map(|e| e.trim().to_owned())
                            .filter(|e| !e.is_empty())
                            .collect(),
                        check: None,
                        commit: commit.clone(),
                    },
                });
            }
            Ok::<_, OpError>(decision.clone())
        })
    }

    /// Runs the rollback rehearsal: apply, trigger, rollback, then polls the recovery check. Recovery
    /// time runs from the rollback's start to the check's first success. Cancelled, it stops where it
    /// is (the rollback does not run: cancelling means stop now) and records nothing.
    pub fn rehearse(
        &self,
        id: &Id,
        friction: &[String],
        actor: &str,
        clock: Clock,
        progress: &mut dyn FnMut(Progress<'_>),
        cancel: &Cancel,
    ) -> Result<RehearsalOutcome, OpError> {
        let decision = self.store.load(id)?;
        let commit = self.clean_head()?;
        let policy = self.committed_policy(&commit)?;
        let plan = policy.rehearsal().ok_or_else(|| {
            OpError::Precondition(
                "the committed policy has no [rehearsal]: name the apply, trigger, rollback and check commands".into(),
            )
        })?;
        // When the policy maps the triggers to signals, the rehearsal watches them on the metrics server:
        // clear before the trigger, firing after it, clear again after the rollback.
        let mut observer = match crate::watch::watched_conditions(&decision, &policy)? {
            Some(conditions) => Some(crate::watch::Observer::new(
                crate::metrics::Prometheus::from_settings(policy.metrics())?,
                conditions,
                "",
            )),
            None => None,
        };
        let max_recovery_ms = u64::try_from(plan.max_recovery.as_millis()).unwrap_or(u64::MAX);
        let mut steps = Vec::new();
        let mut recovery_ms = None;
        let mut detection_ms = None;
        let mut polls = 0;
        let interval = plan.poll_interval.unsigned_abs();
        let steps_ok = 'steps: {
            for (index, check) in [&plan.apply, &plan.trigger].into_iter().enumerate() {
                if index == 1
                    && let Some(observer) = observer.as_mut()
                    && !crate::watch::baseline(observer, interval, cancel)?
                {
                    break 'steps false;
                }
                let result = self.run_one(check, index, 5, progress, cancel)?;
                let ok = result.passed;
                steps.push(result);
                if !ok {
                    break 'steps false;
                }
            }
            // The trigger must be seen: the recovery check has to fail (the service broken) within the
            // policy's `detect_within`, or the trigger proved nothing.
            progress(Progress::Started { index: 2, total: 5, name: "detect" });
            let triggered = Instant::now();
            let detect_within = plan.detect_within.unsigned_abs();
            let last = loop {
                polls += 1;
                progress(Progress::Polling { attempt: polls, since_rollback: triggered.elapsed() });
                let result = self.poll_once(&plan.check, cancel)?;
                // With metrics, detection is the condition firing on the server, not the check failing.
                if let Some(observer) = observer.as_mut() {
                    let states = observer.poll(crate::watch::now_ms());
                    let elapsed = millis(triggered.elapsed());
                    if crate::watch::mark_detected(observer, &states, elapsed) {
                        detection_ms = Some(elapsed);
                        break result;
                    }
                    if triggered.elapsed() + interval > detect_within.max(observer.settle_time()) {
                        break result;
                    }
                    if cancel.sleep(interval) {
                        return Err(OpError::Cancelled);
                    }
                    continue;
                }
                if !result.passed {
                    detection_ms = Some(millis(triggered.elapsed()));
                    break result;
                }
                if triggered.elapsed() + interval > detect_within {
                    break result;
                }
                if cancel.sleep(interval) {
                    return Err(OpError::Cancelled);
                }
            };
            progress(Progress::Finished { result: &last });
            let mut seen = last;
            seen.name = "detect".to_owned();
            steps.push(seen);
            // The rollback runs either way, so the environment is left as it was found.
            let rollback_started = Instant::now();
            let result = self.run_one(&plan.rollback, 3, 5, progress, cancel)?;
            let ok = result.passed;
            steps.push(result);
            if !ok {
                break 'steps false;
            }
            progress(Progress::Started { index: 4, total: 5, name: &plan.check.name });
            let limit = plan.poll_limit.unsigned_abs();
            let last = loop {
                polls += 1;
                progress(Progress::Polling { attempt: polls, since_rollback: rollback_started.elapsed() });
                let result = self.poll_once(&plan.check, cancel)?;
                // Recovered when the check passes and, with metrics, every condition has cleared.
                let metrics_clear = match observer.as_mut() {
                    None => true,
                    Some(observer) => {
                        let states = observer.poll(crate::watch::now_ms());
                        crate::watch::mark_cleared(observer, &states, millis(rollback_started.elapsed()))
                    }
                };
                if result.passed && metrics_clear {
                    recovery_ms = Some(millis(rollback_started.elapsed()));
                    break result;
                }
                if rollback_started.elapsed() + interval > limit {
                    break result;
                }
                if cancel.sleep(interval) {
                    return Err(OpError::Cancelled);
                }
            };
            progress(Progress::Finished { result: &last });
            steps.push(last);
            true
        };
        let metrics = observer.map(crate::watch::Observer::finish).unwrap_or_default();
        let passed = steps_ok
            && detection_ms.is_some()
            && recovery_ms.is_some_and(|ms| ms <= max_recovery_ms)
            && metrics.iter().all(|observation| observation.problem.is_none());
        self.store.update(id, |decision| {
            let at = clock.now();
            decision.record(Event {
                at,
                actor: actor.to_owned(),
                confirmed: None,
                change: Change::RehearsalRun {
                    steps: steps.clone(),
                    recovery_ms,
                    max_recovery_ms,
                    detection_ms,
                    passed,
                    commit: commit.clone(),
                    metrics: metrics.clone(),
                },
            });
            for note in friction.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
                decision.record(Event {
                    at,
                    actor: actor.to_owned(),
                    confirmed: None,
                    change: Change::FrictionNoted { note: note.to_owned() },
                });
            }
            Ok::<_, OpError>(())
        })?;
        Ok(RehearsalOutcome {
            commit,
            passed,
            steps,
            detection_ms,
            recovery_ms,
            max_recovery_ms,
            polls,
            metrics,
        })
    }

    /// Adds friction notes to the rehearsal without running it.
    pub fn note_friction(
        &self,
        id: &Id,
        notes: &[String],
        actor: &str,
        clock: Clock,
    ) -> Result<Decision, OpError> {
        self.store.update(id, |decision| {
            for note in notes.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
                decision.record(Event {
                    at: clock.now(),
                    actor: actor.to_owned(),
                    confirmed: None,
                    change: Change::FrictionNoted { note: note.to_owned() },
                });
            }
            Ok::<_, OpError>(decision.clone())
        })
    }

    /// Sets elements of the communication package. With `prefill`, "what changed" comes from the commit
    /// subjects of base..head and "rollback trigger conditions" from the decision, when not given and not
    /// already set.
    pub fn set_communication(
        &self,
        id: &Id,
        mut package: Communication,
        prefill: bool,
        actor: &str,
        clock: Clock,
    ) -> Result<Decision, OpError> {
        // The commit the package is checked on, for the communication gate it marks once complete.
        let head = self.git.resolve("HEAD")?;
        self.store.update(id, |decision| {
            let current = decision.communication.clone().unwrap_or_default();
            if prefill {
                if package.what_changed.is_none()
                    && current.what_changed.is_none()
                    && let Some(binding) = &decision.binding
                {
                    package.what_changed = self.what_changed(&binding.base, &binding.head)?;
                }
                if package.rollback_trigger_conditions.is_none()
                    && current.rollback_trigger_conditions.is_none()
                    && !decision.rollback_trigger.is_empty()
                {
                    package.rollback_trigger_conditions = Some(decision.rollback_trigger.join("\n"));
                }
            }
            let package = Decision { communication: Some(package), ..Decision::default() }
                .normalized()
                .communication
                .unwrap_or_default();
            let at = clock.now();
            decision.record(Event {
                at,
                actor: actor.to_owned(),
                confirmed: None,
                change: Change::CommunicationSet { package },
            });
            if communication_gate(decision) == CommunicationGate::Mark {
                let diff_digest = match &decision.binding {
                    Some(binding) => Some(self.git.diff(&binding.base, &head)?.digest),
                    None => None,
                };
                decision.record(Event {
                    at,
                    actor: actor.to_owned(),
                    confirmed: None,
                    change: Change::GateRecorded {
                        layer: Layer::Communication,
                        result: GateResult::Pass,
                        evidence: vec!["communication package complete (release-gate comms)".to_owned()],
                        commit: head.clone(),
                        diff_digest,
                        checks: Vec::new(),
                        override_justification: None,
                    },
                });
            }
            Ok::<_, OpError>(decision.clone())
        })
    }

    /// "What changed" for base..head: the changelog's section for the release when one matches, else the
    /// commit subjects, grouped and deduplicated.
    fn what_changed(&self, base: &str, head: &str) -> Result<Option<String>, OpError> {
        let version = self.version_at(head);
        let base_version = self.version_at(base);
        for name in ["CHANGELOG.md", "CHANGELOG", "CHANGES.md", "CHANGELOG.rst", "HISTORY.md", "NEWS.md"] {
            let Some(bytes) = self.git.committed_file(head, name)? else { continue };
            let text = String::from_utf8_lossy(&bytes);
            if let Some(section) =
                release_gate_core::note::changelog_section(&text, version.as_deref(), base_version.as_deref())
            {
                return Ok(Some(section));
            }
        }
        let subjects = self.git.log_subjects(base, head)?;
        Ok(release_gate_core::note::summarize_subjects(&subjects))
    }

    /// The tag that names exactly `commit`, if one does (the version it is).
    pub fn version_at(&self, commit: &str) -> Option<String> {
        let tag = self.git.latest_tag(commit)?;
        (self.git.resolve(&tag).ok()? == commit).then_some(tag)
    }

    /// Sets operational facts: rollback path, on-call and backup owners, release window.
    pub fn set_operations(
        &self,
        id: &Id,
        operations: Operations,
        actor: &str,
        clock: Clock,
    ) -> Result<Decision, OpError> {
        let operations = Decision { operations: Some(operations), ..Decision::default() }
            .normalized()
            .operations
            .unwrap_or_default();
        self.store.update(id, |decision| {
            decision.record(Event {
                at: clock.now(),
                actor: actor.to_owned(),
                confirmed: None,
                change: Change::OperationsSet { operations },
            });
            Ok::<_, OpError>(decision.clone())
        })
    }
}

/// What `comms` does with the communication gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommunicationGate {
    /// The package is complete: the gate is marked pass, with the package as its evidence.
    Mark,
    /// The package misses elements: the gate is left as it is.
    Incomplete,
    /// A person marked the gate failed: their call stands.
    MarkedFailed,
}

/// Whether `comms` marks the communication gate, and why not.
pub fn communication_gate(decision: &Decision) -> CommunicationGate {
    if !decision.communication_missing().is_empty() {
        return CommunicationGate::Incomplete;
    }
    let failed_by_person = decision.history.iter().rev().find_map(|event| match &event.change {
        Change::GateRecorded { layer: Layer::Communication, result, .. } => Some(*result == GateResult::Fail),
        _ => None,
    });
    if failed_by_person == Some(true) { CommunicationGate::MarkedFailed } else { CommunicationGate::Mark }
}
