//! `release-gate risk`: declare or change a stored decision's risk class.

use std::io::Write;

use crate::Outcome;
use crate::cli::RiskArgs;
use crate::input;
use crate::output::{self, GOOD};

pub fn run(args: &RiskArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let now = input::now(None)?;
    let id = input::id(&args.id)?;
    let actor = input::actor(&workspace, args.actor.actor.as_deref());
    let class = args.class.into();
    workspace.declare_risk(&id, class, args.justification.clone(), &actor, now)?;
    writeln!(output::stdout(), "{GOOD}declared{GOOD:#} {id}: risk class {class}")?;
    Ok(Outcome::Success)
}
