//! `release-gate ops`: operational facts of the release.

use std::io::Write;

use release_gate_core::decision::Operations;
use release_gate_repo::evidence::Clock;

use crate::Outcome;
use crate::cli::OpsArgs;
use crate::input;
use crate::output::{self, DIM, GOOD};

pub fn run(args: &OpsArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let clock = Clock(None);
    let id = input::id(&args.id)?;
    let actor = input::actor(&workspace, args.actor.actor.as_deref());
    let operations = Operations {
        rollback_path: args.rollback_path.clone(),
        on_call: args.on_call.clone(),
        backup_owner: args.backup_owner.clone(),
        release_window: args.release_window.clone(),
    };
    let decision = workspace.set_operations(&id, operations, &actor, clock)?;
    let mut out = output::stdout();
    for (label, value) in decision.operations.unwrap_or_default().fields() {
        writeln!(
            out,
            "{GOOD}{label}{GOOD:#}: {}",
            value.map_or(format!("{DIM}not recorded{DIM:#}"), str::to_owned)
        )?;
    }
    Ok(Outcome::Success)
}
