//! `release-gate comms`: the communication package, pre-filled where the repository knows the answer; marks
//! the communication gate once the package is complete.

use std::io::Write;

use release_gate_core::decision::Communication;
use release_gate_repo::evidence::{Clock, CommunicationGate, communication_gate};

use crate::Outcome;
use crate::cli::CommsArgs;
use crate::input;
use crate::output::{self, DIM, GOOD, WARNING};

pub fn run(args: &CommsArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let clock = Clock(None);
    let id = input::id(&args.id)?;
    let actor = input::actor(&workspace, args.actor.actor.as_deref());
    // A repeated option gives one item per line.
    let joined = |items: &[String]| (!items.is_empty()).then(|| items.join("\n"));
    let package = Communication {
        what_changed: joined(&args.what_changed),
        known_limitations: joined(&args.known_limitations),
        monitoring_focus: joined(&args.monitoring_focus),
        rollback_trigger_conditions: joined(&args.rollback_trigger_conditions),
        escalation: joined(&args.escalation),
    };
    let decision = workspace.set_communication(&id, package, !args.no_prefill, &actor, clock)?;
    let gate = communication_gate(&decision);
    let mut out = output::stdout();
    let package = decision.communication.unwrap_or_default();
    let mut missing = Vec::new();
    for (label, value) in package.fields() {
        match value {
            Some(text) => {
                let mut lines = text.lines();
                writeln!(out, "{GOOD}{label}{GOOD:#}: {}", lines.next().unwrap_or(""))?;
                for line in lines {
                    writeln!(out, "  {line}")?;
                }
            }
            None => {
                missing.push(label);
                writeln!(out, "{WARNING}{label}{WARNING:#}: {DIM}missing{DIM:#}")?;
            }
        }
    }
    writeln!(out)?;
    match gate {
        CommunicationGate::Mark => writeln!(
            out,
            "{GOOD}communication gate: pass{GOOD:#} (the package is complete; recorded as its evidence)"
        )?,
        CommunicationGate::Incomplete => writeln!(
            out,
            "communication gate not marked: the package misses {}. Add them, e.g. `release-gate comms {id} --known-limitations none --escalation \"#oncall, NAME\"`",
            missing.join(", ")
        )?,
        CommunicationGate::MarkedFailed => writeln!(
            out,
            "communication gate not marked: a person marked it failed; mark it again with `release-gate gate {id} communication pass --evidence TEXT` once the package is right"
        )?,
    }
    writeln!(out, "{DIM}next: `release-gate render {id} --to release-note`{DIM:#}")?;
    Ok(Outcome::Success)
}
