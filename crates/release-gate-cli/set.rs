//! `release-gate set`: set a field of a stored decision.

use std::io::Write;

use crate::Outcome;
use crate::cli::SetArgs;
use crate::input;
use crate::output::{self, GOOD};

pub fn run(args: &SetArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let now = input::now(None)?;
    let id = input::id(&args.id)?;
    let actor = input::actor(&workspace, args.actor.actor.as_deref());
    let field: release_gate_core::history::SettableField = args.field.into();
    workspace.set_field(&id, field, args.values.clone(), &actor, now)?;
    writeln!(output::stdout(), "{GOOD}set{GOOD:#} {id}: {}", field.as_str())?;
    Ok(Outcome::Success)
}
