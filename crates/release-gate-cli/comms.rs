//! `release-gate comms`: the communication package, pre-filled where the repository knows the answer.

use std::io::Write;

use release_gate_core::decision::Communication;
use release_gate_repo::evidence::Clock;

use crate::Outcome;
use crate::cli::CommsArgs;
use crate::input;
use crate::output::{self, DIM, GOOD, WARNING};

pub fn run(args: &CommsArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let clock = Clock(None);
    let id = input::id(&args.id)?;
    let actor = input::actor(&workspace, args.actor.actor.as_deref());
    let package = Communication {
        what_changed: args.what_changed.clone(),
        known_limitations: args.known_limitations.clone(),
        monitoring_focus: args.monitoring_focus.clone(),
        rollback_trigger_conditions: args.rollback_trigger_conditions.clone(),
        escalation: args.escalation.clone(),
    };
    let decision = workspace.set_communication(&id, package, !args.no_prefill, &actor, clock)?;
    let mut out = output::stdout();
    let package = decision.communication.unwrap_or_default();
    for (label, value) in package.fields() {
        match value {
            Some(text) => writeln!(out, "{GOOD}{label}{GOOD:#}: {}", text.replace('\n', "; "))?,
            None => writeln!(out, "{WARNING}{label}{WARNING:#}: {DIM}missing{DIM:#}")?,
        }
    }
    Ok(Outcome::Success)
}
