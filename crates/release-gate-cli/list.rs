//! `release-gate list`: the stored decisions and where each stands.

use std::io::Write;

use crate::Outcome;
use crate::cli::{ListArgs, PlainFormat};
use crate::input;
use crate::output::{self, DIM, ERROR, GOOD};

pub fn run(args: &ListArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let summaries = workspace.list(&args.commit, crate::input::now(None)?, args.all)?;
    if args.format == PlainFormat::Json {
        #[derive(serde::Serialize)]
        struct List<'a> {
            decisions: &'a [release_gate_repo::workspace::Summary],
        }
        output::json(&List { decisions: &summaries })?;
        return Ok(Outcome::Success);
    }
    let mut out = output::stdout();
    if summaries.is_empty() {
        writeln!(out, "no decisions yet: `release-gate draft --scope ...` starts one")?;
    }
    for summary in &summaries {
        if let Some(error) = &summary.error {
            writeln!(out, "{}  {ERROR}unreadable{ERROR:#}: {error}", summary.id)?;
            continue;
        }
        let verdict = match summary.verdict {
            Some(release_gate_core::Verdict::Pass) => format!("{GOOD}pass{GOOD:#}"),
            Some(release_gate_core::Verdict::Fail) => format!("{ERROR}fail{ERROR:#}"),
            None => "?".to_owned(),
        };
        writeln!(
            out,
            "{}  {}  {verdict}  risk {}{}  {DIM}{}{DIM:#}",
            summary.id,
            summary.state.as_deref().unwrap_or("-"),
            summary.risk_class.map_or("-".to_owned(), |c| c.to_string()),
            if summary.signed { "  signed" } else { "" },
            summary.scope.as_deref().unwrap_or("").replace('\n', ", ")
        )?;
    }
    out.flush()?;
    Ok(Outcome::Success)
}
