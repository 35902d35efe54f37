//! `release-gate watch`: the decision's rollback triggers watched on the metrics server after a deploy,
//! with the committed rollback run when one fires; or, with `--to prometheus-rule`, the same conditions
//! written out as a Prometheus alerting rule.
//!
//! Exit codes: 0 passed, 1 rolled back, 2 usage or input error, 3 inconclusive (no data or query errors),
//! 4 a trigger fired and the rollback failed.

use std::io::Write;

use release_gate_core::signals::WatchOutcome;
use release_gate_repo::evidence::Clock;
use release_gate_repo::run::Cancel;
use release_gate_repo::watch::WatchProgress;

use crate::Outcome;
use crate::cli::{PlainFormat, WatchArgs, WatchExport};
use crate::input;
use crate::output::{self, ERROR, GOOD};

pub fn run(args: &WatchArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let id = input::id(&args.id)?;
    if let Some(WatchExport::PrometheusRule) = args.to {
        let decision = workspace.load(&id)?;
        let head = workspace.resolve("HEAD")?;
        let policy = workspace.committed_policy(&head)?;
        let conditions = release_gate_repo::watch::watched_conditions(&decision, &policy)?.ok_or_else(|| {
            anyhow::anyhow!(
                "the committed policy maps no [[signals]]: add one per rollback trigger (name, query, unit) to .release/policy.toml and commit it"
            )
        })?;
        let rules = release_gate_core::signals::alert_rules("release-gate", id.as_str(), &conditions);
        write!(output::stdout(), "{rules}")?;
        return Ok(Outcome::Success);
    }
    let Some(duration) = args.duration.as_deref() else {
        anyhow::bail!(
            "say how long to watch: `--for 30m` (s, m, h), or export the rule with `--to prometheus-rule`"
        );
    };
    let duration = release_gate_core::policy::parse_age(duration)
        .ok_or_else(|| anyhow::anyhow!("`{duration}` is not a duration such as `90s`, `30m` or `2h`"))?
        .unsigned_abs();
    let actor = input::actor(&workspace, args.actor.actor.as_deref());
    let mut report = |event: WatchProgress| {
        let mut err = anstream::stderr();
        let _ = match event {
            WatchProgress::Polled { poll, states } => writeln!(err, "poll {poll}: {}", states.join(", ")),
            WatchProgress::Fired { condition } => writeln!(err, "fired: {condition}; rolling back"),
        };
    };
    let run = workspace.watch(&id, duration, &actor, Clock(None), &mut report, &Cancel::new())?;
    if args.format == PlainFormat::Json {
        output::json(&run)?;
    } else {
        let mut out = output::stdout();
        match run.outcome {
            WatchOutcome::Passed => {
                writeln!(out, "{GOOD}watch passed{GOOD:#}: no rollback trigger fired in {} polls", run.polls)?
            }
            WatchOutcome::RolledBack => writeln!(
                out,
                "{ERROR}rolled back{ERROR:#}: `{}` fired; the committed rollback ran and succeeded",
                run.fired.as_deref().unwrap_or("inconclusive")
            )?,
            WatchOutcome::RollbackFailed => writeln!(
                out,
                "{ERROR}rollback failed{ERROR:#}: `{}` fired and the committed rollback failed: roll back by hand now",
                run.fired.as_deref().unwrap_or("inconclusive")
            )?,
            WatchOutcome::Inconclusive => writeln!(
                out,
                "{ERROR}watch inconclusive{ERROR:#}: {}; no automatic rollback (the policy's `rollback_on_inconclusive` is off)",
                run.reason.as_deref().unwrap_or("no data")
            )?,
        }
    }
    Ok(match run.outcome {
        WatchOutcome::Passed => Outcome::Success,
        WatchOutcome::RolledBack => Outcome::Failure,
        WatchOutcome::Inconclusive => Outcome::Exit(3),
        WatchOutcome::RollbackFailed => Outcome::Exit(4),
    })
}
