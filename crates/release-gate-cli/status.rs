//! `release-gate status`: where a stored decision stands and what to do next.

use std::io::Write;

use release_gate_core::Verdict;

use crate::Outcome;
use crate::cli::{PlainFormat, StatusArgs};
use crate::input;
use crate::output::{self, BOLD, DIM, ERROR, GOOD, WARNING};
use release_gate_core::value::short_commit;

pub fn run(args: &StatusArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let now = input::now(args.now.as_deref())?;
    let id = input::id(&args.id)?;
    let status = workspace.status(&id, &args.commit, now)?;
    let outcome = if status.report.verdict == Verdict::Pass { Outcome::Success } else { Outcome::Failure };
    if args.format == PlainFormat::Json {
        output::json(&status)?;
        return Ok(outcome);
    }
    let mut out = output::stdout();
    let risk = status.risk_class.map_or("undeclared".to_owned(), |c| c.to_string());
    let call = status.decision.map_or("not made".to_owned(), |c| c.to_string());
    writeln!(out, "{BOLD}{}{BOLD:#}: {}", status.id, status.scope.as_deref().unwrap_or("(no scope)"))?;
    writeln!(out, "  risk {risk}, decision {call}, releasing {}", short_commit(&status.release_commit))?;
    if let Some(binding) = &status.binding {
        writeln!(
            out,
            "  {DIM}covers {}..{} of {}{DIM:#}",
            short_commit(&binding.base),
            short_commit(&binding.head),
            binding.repository
        )?;
    }
    writeln!(out)?;
    for gate in &status.gates {
        let need = match (gate.layer, gate.required) {
            (release_gate_core::Layer::Decision, _) => "set by `decide`".to_owned(),
            (_, true) => "required".to_owned(),
            (_, false) => format!("not required for {risk} risk"),
        };
        let result = gate.result.as_deref().unwrap_or("not marked");
        writeln!(out, "  {:<14} {result} {DIM}({need}){DIM:#}", gate.layer.as_str())?;
        if let Some(evidence) = &gate.evidence {
            let state = match (evidence.fresh, evidence.expired) {
                (true, false) => format!("{GOOD}fresh{GOOD:#}"),
                (false, _) => format!("{ERROR}stale{ERROR:#}"),
                (true, true) => format!("{WARNING}expired{WARNING:#}"),
            };
            writeln!(
                out,
                "  {:<14} {DIM}by {} at {} on {}{DIM:#} {state}",
                "",
                evidence.actor,
                evidence.at,
                short_commit(&evidence.commit)
            )?;
        }
    }
    writeln!(out)?;
    crate::validate::text(&status.report, &workspace.record_path(&id).display().to_string())?;
    if !status.go_needs.is_empty() {
        writeln!(out, "\n{BOLD}to record GO you still need{BOLD:#}:")?;
        for finding in &status.go_needs {
            writeln!(out, "  - {ERROR}{}{ERROR:#}: {}", finding.code, finding.message)?;
        }
    }
    if !status.steps.is_empty() {
        writeln!(out, "\n{BOLD}next{BOLD:#}:")?;
        for step in &status.steps {
            let who = match step.who {
                release_gate_repo::next::Who::Person => "[person] ",
                release_gate_repo::next::Who::Agent => "",
            };
            let blocker = if step.blocker { format!("{ERROR}blocker{ERROR:#}: ") } else { String::new() };
            writeln!(out, "  - {blocker}{who}{}", step.what)?;
            if let Some(command) = &step.command {
                writeln!(out, "      {DIM}${DIM:#} {command}")?;
            }
        }
    }
    out.flush()?;
    Ok(outcome)
}
