//! `release-gate doctor`: what stands between the team and a signed GO, checked before anyone tries.

use std::io::Write;

use crate::Outcome;
use crate::cli::{DoctorArgs, PlainFormat};
use crate::input;
use crate::output::{self, DIM, ERROR, GOOD};

pub fn run(args: &DoctorArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let key = args.key.clone().or_else(|| {
        std::env::var_os(release_gate_mcp::SIGNING_KEY_ENV).filter(|v| !v.is_empty()).map(Into::into)
    });
    let doctor = workspace.doctor(key.as_deref());
    if args.format == PlainFormat::Json {
        output::json(&doctor)?;
    } else {
        let mut out = output::stdout();
        for check in &doctor.checks {
            let mark = if check.ok { format!("{GOOD}ok{GOOD:#}  ") } else { format!("{ERROR}fix{ERROR:#} ") };
            writeln!(out, "{mark} {:<16} {}", check.check, check.detail)?;
            if let Some(fix) = &check.fix {
                writeln!(out, "     {:<16} {DIM}{fix}{DIM:#}", "")?;
            }
        }
    }
    Ok(if doctor.ok { Outcome::Success } else { Outcome::Failure })
}
