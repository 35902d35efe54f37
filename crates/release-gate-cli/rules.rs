//! `release-gate rules`: the catalog of finding codes.

use std::io::Write;

use crate::Outcome;
use crate::cli::{PlainFormat, RulesArgs};
use crate::output::{self, BOLD, DIM};

pub fn run(args: &RulesArgs) -> anyhow::Result<Outcome> {
    let rules = release_gate_core::finding::catalog();
    match args.format {
        PlainFormat::Json => output::json(&rules)?,
        PlainFormat::Text => {
            let mut out = output::stdout();
            for rule in &rules {
                writeln!(out, "{BOLD}{}{BOLD:#} {DIM}({}){DIM:#}", rule.code, rule.severity)?;
                writeln!(out, "    {}", rule.meaning)?;
                writeln!(out, "    fix: {}", rule.fix)?;
            }
            out.flush()?;
        }
    }
    Ok(Outcome::Success)
}
