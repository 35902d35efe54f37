//! `release-gate audit`: the protocol's five-question fast audit, read from the same report as `validate`.

use std::io::Write;

use crate::Outcome;
use crate::cli::{AuditArgs, PlainFormat};
use crate::output::{self, ERROR, GOOD};

pub fn run(args: &AuditArgs) -> anyhow::Result<Outcome> {
    let (report, source) = crate::validate::judge(&args.input.file, &args.judge)?;
    let audit = release_gate_core::audit(&report);
    match args.format {
        PlainFormat::Json => output::json(&audit)?,
        PlainFormat::Text => {
            let mut out = output::stdout();
            for answer in &audit.answers {
                if answer.yes {
                    writeln!(out, "{GOOD}yes{GOOD:#}  {}", answer.question)?;
                } else {
                    writeln!(out, "{ERROR}no{ERROR:#}   {}", answer.question)?;
                }
                for finding in &answer.findings {
                    output::finding(&mut out, "     ", finding, &source)?;
                }
            }
            if !audit.other.is_empty() {
                writeln!(out, "\nalso in the way of a release:")?;
                for finding in &audit.other {
                    output::finding(&mut out, "     ", finding, &source)?;
                }
            }
            writeln!(out)?;
            if audit.ready {
                writeln!(out, "{GOOD}ready{GOOD:#}: every audit answer is yes.")?;
            } else {
                writeln!(
                    out,
                    "{ERROR}not ready{ERROR:#}: any \"no\", or any other error, means the release is not ready."
                )?;
            }
            out.flush()?;
        }
    }
    Ok(if audit.ready { Outcome::Success } else { Outcome::Failure })
}
