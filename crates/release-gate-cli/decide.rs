//! `release-gate decide`: record the GO / NO-GO call. A GO that does not validate is refused.

use std::io::Write;

use release_gate_core::Call;
use release_gate_repo::workspace::{DecideRequest, OpError};

use crate::Outcome;
use crate::cli::{DecideArgs, PlainFormat};
use crate::input;
use crate::output::{self, ERROR, GOOD};

pub fn run(args: &DecideArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let now = input::now(None)?;
    let id = input::id(&args.id)?;
    let actor = input::actor(&workspace, args.actor.actor.as_deref());
    let call = if args.go { Call::Go } else { Call::NoGo };
    let source = workspace.record_path(&id).display().to_string();
    let request = DecideRequest {
        call,
        owner: args.owner.clone(),
        reason: args.reason.clone(),
        actor,
        commit: args.commit.clone(),
    };
    match workspace.decide(&id, request, now) {
        Ok((_, report)) => {
            if args.format == PlainFormat::Json {
                output::json(&report)?;
            } else {
                writeln!(output::stdout(), "{GOOD}recorded{GOOD:#} {id}: {call} by {}", args.owner)?;
            }
            Ok(Outcome::Success)
        }
        Err(OpError::Refused(report)) => {
            if args.format == PlainFormat::Json {
                output::json(&report)?;
            } else {
                let mut out = output::stdout();
                writeln!(
                    out,
                    "{ERROR}refused{ERROR:#}: GO is not recorded while the decision has errors.\n"
                )?;
                crate::validate::text(&report, &source)?;
            }
            Ok(Outcome::Failure)
        }
        Err(error) => Err(error.into()),
    }
}
