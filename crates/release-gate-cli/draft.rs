//! `release-gate draft`: start a decision bound to a git range.

use std::io::Write;

use release_gate_repo::workspace::DraftRequest;

use crate::Outcome;
use crate::cli::DraftArgs;
use crate::input;
use crate::output::{self, DIM, GOOD};

pub fn run(args: &DraftArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let now = input::now(None)?;
    let request = DraftRequest {
        id: args.id.clone(),
        scope: args.scope.clone(),
        risk: args.risk.map(Into::into),
        justification: args.justification.clone(),
        base: args.base.clone(),
        head: args.head.clone(),
        actor: input::actor(&workspace, args.actor.actor.as_deref()),
    };
    let drafted = workspace.draft_release(request, now)?;
    let id = &drafted.id;
    let mut out = output::stdout();
    writeln!(out, "{id}")?;
    let mut err = anstream::stderr();
    let suggested = drafted.suggested.map_or("none".to_owned(), |class| class.to_string());
    writeln!(
        err,
        "{GOOD}drafted{GOOD:#} {} covering {} ({} files, the diff suggests {suggested})",
        workspace.record_path(id).display(),
        drafted.range.describe(),
        drafted.files,
    )?;
    for warning in &drafted.warnings {
        output::note(warning);
    }
    writeln!(err, "{DIM}next: `release-gate status {id}`{DIM:#}")?;
    Ok(Outcome::Success)
}
