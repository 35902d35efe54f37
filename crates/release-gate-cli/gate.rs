//! `release-gate gate`: record a gate layer's result with evidence a person supplies.

use std::io::Write;

use crate::Outcome;
use crate::cli::GateArgs;
use crate::input;
use crate::output::{self, GOOD};

pub fn run(args: &GateArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let now = input::now(None)?;
    let id = input::id(&args.id)?;
    let actor = input::actor(&workspace, args.actor.actor.as_deref());
    let layer = args.layer.into();
    let decision = workspace.record_gate(
        &id,
        layer,
        args.result.into(),
        args.evidence.clone(),
        &actor,
        &args.commit,
        now,
    )?;
    let mut out = output::stdout();
    let shown = decision.gates.get(layer).unwrap_or("");
    writeln!(out, "{GOOD}recorded{GOOD:#} {id}: {layer} gate {shown}")?;
    Ok(Outcome::Success)
}
