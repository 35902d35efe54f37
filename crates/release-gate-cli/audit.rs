//! `release-gate audit`: the protocol's five-question fast audit.

use std::io::Write;

use crate::Outcome;
use crate::cli::{AuditArgs, PlainFormat};
use crate::input;
use crate::output::{self, ERROR, GOOD};

pub fn run(args: &AuditArgs) -> anyhow::Result<Outcome> {
    let document = input::read_document(&args.input.file)?;
    let audit = release_gate_core::audit(&document);
    match args.format {
        PlainFormat::Json => output::json(&audit)?,
        PlainFormat::Text => {
            let source = input::display_name(&args.input.file);
            let mut out = output::stdout();
            for answer in &audit.answers {
                if answer.yes {
                    writeln!(out, "{GOOD}yes{GOOD:#}  {}", answer.question)?;
                } else {
                    writeln!(out, "{ERROR}no{ERROR:#}   {}", answer.question)?;
                    for finding in &answer.findings {
                        output::finding(&mut out, "     ", finding, &source)?;
                    }
                }
            }
            writeln!(out)?;
            if audit.ready {
                writeln!(out, "{GOOD}ready{GOOD:#}: every audit answer is yes.")?;
            } else {
                writeln!(out, "{ERROR}not ready{ERROR:#}: any \"no\" means the release is not ready.")?;
            }
            out.flush()?;
        }
    }
    Ok(if audit.ready { Outcome::Success } else { Outcome::Failure })
}
