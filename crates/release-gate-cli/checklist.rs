//! `release-gate checklist`: the protocol's quick checklist, each item with its state.

use std::io::Write;

use crate::Outcome;
use crate::cli::{ChecklistArgs, PlainFormat};
use crate::input;
use crate::output::{self, BOLD, DIM, ERROR, GOOD};

pub fn run(args: &ChecklistArgs) -> anyhow::Result<Outcome> {
    let decision = input::decision(&args.input.file)?;
    let checklist = release_gate_core::checklist::checklist(&decision);
    // For a stored decision, also what a GO will still need (the GO-only rules as a preview).
    let go_needs = match input::looks_like_file(&args.input.file) {
        true => Vec::new(),
        false => {
            let id = input::id(&args.input.file.to_string_lossy())?;
            input::workspace(None)?.status(&id, "HEAD", input::now(None)?)?.go_needs
        }
    };
    if args.format == PlainFormat::Json {
        #[derive(serde::Serialize)]
        struct WithPreview<'a> {
            #[serde(flatten)]
            checklist: &'a release_gate_core::checklist::Checklist,
            go_needs: &'a [release_gate_core::Finding],
        }
        output::json(&WithPreview { checklist: &checklist, go_needs: &go_needs })?;
    } else {
        let mut out = output::stdout();
        for (title, items) in [
            ("Before go/no-go", &checklist.before_go_no_go),
            ("Before production deploy", &checklist.before_production_deploy),
        ] {
            writeln!(out, "{BOLD}{title}{BOLD:#}")?;
            for item in items {
                match &item.missing {
                    None => writeln!(out, "  {GOOD}[x]{GOOD:#} {}", item.item)?,
                    Some(missing) => {
                        writeln!(out, "  {ERROR}[ ]{ERROR:#} {} {DIM}({missing}){DIM:#}", item.item)?
                    }
                }
            }
        }
        if !go_needs.is_empty() {
            writeln!(out, "{BOLD}To record GO you still need{BOLD:#}")?;
            for finding in &go_needs {
                writeln!(out, "  {ERROR}[ ]{ERROR:#} {} {DIM}({}){DIM:#}", finding.message, finding.code)?;
            }
        }
    }
    Ok(if checklist.complete() && go_needs.is_empty() { Outcome::Success } else { Outcome::Failure })
}
