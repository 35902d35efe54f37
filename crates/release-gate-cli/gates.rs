//! `release-gate gates run`: the code gate's checks, run from the committed policy.

use std::io::Write;

use release_gate_repo::evidence::Clock;
use release_gate_repo::run::Cancel;

use crate::Outcome;
use crate::cli::{GatesArgs, GatesCommand, PlainFormat};
use crate::input;
use crate::output::{self, ERROR, GOOD};
use crate::progress::Reporter;

pub fn run(args: &GatesArgs) -> anyhow::Result<Outcome> {
    let GatesCommand::Run(args) = &args.command;
    let workspace = input::workspace(None)?;
    let clock = Clock(None);
    let id = input::id(&args.id)?;
    let actor = input::actor(&workspace, args.actor.actor.as_deref());
    let mut reporter = Reporter::new();
    let run =
        workspace.run_code_gates(&id, &actor, clock, &mut |event| reporter.report(event), &Cancel::new())?;
    if args.format == PlainFormat::Json {
        output::json(&run)?;
    } else {
        let mut out = output::stdout();
        let passed = run.checks.iter().filter(|c| c.passed).count();
        if run.passed {
            writeln!(
                out,
                "{GOOD}code gate: pass{GOOD:#} ({passed}/{} checks) recorded for {id}",
                run.checks.len()
            )?;
        } else {
            writeln!(
                out,
                "{ERROR}code gate: fail{ERROR:#} ({passed}/{} checks passed) recorded for {id}",
                run.checks.len()
            )?;
            for check in run.checks.iter().filter(|c| !c.passed) {
                writeln!(out, "\n{}: {}\n{}", check.name, check.summary(), check.output_tail)?;
            }
        }
    }
    Ok(if run.passed { Outcome::Success } else { Outcome::Failure })
}
