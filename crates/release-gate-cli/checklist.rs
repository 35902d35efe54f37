//! `release-gate checklist`: the protocol's quick checklist, each item with its state.

use std::io::Write;

use crate::Outcome;
use crate::cli::{ChecklistArgs, PlainFormat};
use crate::input;
use crate::output::{self, BOLD, DIM, ERROR, GOOD};

pub fn run(args: &ChecklistArgs) -> anyhow::Result<Outcome> {
    let decision = input::decision(&args.input.file)?;
    let checklist = release_gate_core::checklist::checklist(&decision);
    if args.format == PlainFormat::Json {
        output::json(&checklist)?;
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
    }
    Ok(if checklist.complete() { Outcome::Success } else { Outcome::Failure })
}
