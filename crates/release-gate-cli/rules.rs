//! `release-gate rules`: the catalog of finding codes.

use std::io::Write;

use release_gate_core::Code;
use serde::Serialize;

use crate::Outcome;
use crate::cli::{PlainFormat, RulesArgs};
use crate::output::{self, BOLD, DIM};

#[derive(Serialize)]
struct Rule {
    code: &'static str,
    severity: &'static str,
    meaning: &'static str,
    fix: &'static str,
}

pub fn run(args: &RulesArgs) -> anyhow::Result<Outcome> {
    let rules: Vec<Rule> = Code::ALL
        .iter()
        .map(|code| Rule {
            code: code.as_str(),
            severity: code.default_severity().as_str(),
            meaning: code.meaning(),
            fix: code.fix(),
        })
        .collect();
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
