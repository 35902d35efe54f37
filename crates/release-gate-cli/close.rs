//! `release-gate close`: end a decision's life (deployed, rolled back, abandoned).

use std::io::Write;

use release_gate_core::history::Closure;

use crate::Outcome;
use crate::cli::CloseArgs;
use crate::input;
use crate::output::{self, GOOD};

pub fn run(args: &CloseArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let now = input::now(None)?;
    let id = input::id(&args.id)?;
    let actor = input::actor(&workspace, args.actor.actor.as_deref());
    let outcome = if args.deployed {
        Closure::Deployed
    } else if args.rolled_back {
        Closure::RolledBack
    } else {
        Closure::Abandoned
    };
    workspace.close(&id, outcome, args.reason.clone(), &actor, now)?;
    writeln!(output::stdout(), "{GOOD}closed{GOOD:#} {id}: {}", outcome.as_str())?;
    Ok(Outcome::Success)
}
