//! `release-gate gate`: record a gate layer's result with evidence a person supplies.

use std::io::Write;

use release_gate_repo::workspace::GateRequest;

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
    let request = GateRequest {
        layer,
        result: args.result.into(),
        evidence: args.evidence.clone(),
        actor,
        commit: args.commit.clone(),
        override_justification: if args.r#override { args.justification.clone() } else { None },
    };
    let decision = workspace.record_gate(&id, request, now)?;
    let mut out = output::stdout();
    let shown = decision.gates.get(layer).unwrap_or("");
    writeln!(out, "{GOOD}recorded{GOOD:#} {id}: {layer} gate {shown}")?;
    Ok(Outcome::Success)
}
