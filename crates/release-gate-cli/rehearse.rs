//! `release-gate rehearse`: the timed rollback rehearsal, from the committed policy.

use std::io::Write;

use release_gate_core::history::format_ms;
use release_gate_repo::evidence::Clock;
use release_gate_repo::run::Cancel;

use crate::Outcome;
use crate::cli::{PlainFormat, RehearseArgs};
use crate::input;
use crate::output::{self, ERROR, GOOD};
use crate::progress::Reporter;

pub fn run(args: &RehearseArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let clock = Clock(None);
    let id = input::id(&args.id)?;
    let actor = input::actor(&workspace, args.actor.actor.as_deref());
    if args.no_run {
        workspace.note_friction(&id, &args.friction, &actor, clock)?;
        writeln!(output::stdout(), "{GOOD}noted{GOOD:#} {} friction point(s) for {id}", args.friction.len())?;
        return Ok(Outcome::Success);
    }
    let mut reporter = Reporter::new();
    let outcome = workspace.rehearse(
        &id,
        &args.friction,
        &actor,
        clock,
        &mut |e| reporter.report(e),
        &Cancel::new(),
    )?;
    if args.format == PlainFormat::Json {
        output::json(&outcome)?;
    } else {
        let mut out = output::stdout();
        let limit = format_ms(outcome.max_recovery_ms);
        match (outcome.passed, outcome.recovery_ms) {
            (true, Some(ms)) => writeln!(
                out,
                "{GOOD}rehearsal passed{GOOD:#}: recovered in {} (limit {limit})",
                format_ms(ms)
            )?,
            (false, Some(ms)) => writeln!(
                out,
                "{ERROR}rehearsal failed{ERROR:#}: recovered in {}, over the {limit} limit",
                format_ms(ms)
            )?,
            (_, None) => writeln!(
                out,
                "{ERROR}rehearsal failed{ERROR:#}: the service did not recover (or a step failed)"
            )?,
        }
    }
    Ok(if outcome.passed { Outcome::Success } else { Outcome::Failure })
}
