//! `release-gate rebind`: move a decision to a new head on the same base, after new commits.

use std::io::Write;

use crate::Outcome;
use crate::cli::{PlainFormat, RebindArgs};
use crate::input;
use crate::output::{self, DIM, GOOD, WARNING};
use release_gate_core::value::short_commit;

pub fn run(args: &RebindArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let now = input::now(None)?;
    let id = input::id(&args.id)?;
    let actor = input::actor(&workspace, args.actor.actor.as_deref());
    let rebind = workspace.rebind(&id, &args.head, &actor, now)?;
    if args.format == PlainFormat::Json {
        output::json(&rebind)?;
        return Ok(Outcome::Success);
    }
    let mut out = output::stdout();
    if !rebind.changed {
        writeln!(out, "{id} already covers {}: nothing to do", short_commit(&rebind.head))?;
        return Ok(Outcome::Success);
    }
    writeln!(
        out,
        "{GOOD}rebound{GOOD:#} {id}: {} -> {} ({} file(s) changed since)",
        short_commit(&rebind.previous_head),
        short_commit(&rebind.head),
        rebind.delta.len()
    )?;
    for file in &rebind.delta {
        writeln!(out, "  {:<6} {}  {DIM}({}){DIM:#}", file.class.as_str(), file.path, file.rule)?;
    }
    if !rebind.stale.is_empty() {
        let layers: Vec<&str> = rebind.stale.iter().map(|layer| layer.as_str()).collect();
        writeln!(
            out,
            "{WARNING}stale{WARNING:#}: the {} gate evidence is from the previous head; re-run or re-record it (`release-gate status {id}` shows what is left)",
            layers.join(", ")
        )?;
    }
    out.flush()?;
    Ok(Outcome::Success)
}
