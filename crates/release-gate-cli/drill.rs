//! `release-gate drill`: the pre-release drill's runnable items, and a person's confirmations.

use std::io::Write;

use anyhow::bail;
use release_gate_core::history::DrillItem;
use release_gate_repo::evidence::Clock;
use release_gate_repo::run::Cancel;

use crate::Outcome;
use crate::cli::{DrillArgs, PlainFormat};
use crate::input;
use crate::output::{self, ERROR, GOOD};
use crate::progress::Reporter;

pub fn run(args: &DrillArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let clock = Clock(None);
    let id = input::id(&args.id)?;
    let actor = input::actor(&workspace, args.actor.actor.as_deref());
    let mut confirmations = Vec::new();
    for confirm in &args.confirm {
        let Some((name, evidence)) = confirm.split_once(':') else {
            bail!(
                "--confirm `{confirm}`: write ITEM:EVIDENCE, e.g. `pager:on-call schedule shows Dana and Lee`"
            );
        };
        let Some(item) = DrillItem::ALL.into_iter().find(|item| item.as_str() == name.trim()) else {
            let names: Vec<&str> = DrillItem::ALL.iter().map(|item| item.as_str()).collect();
            bail!("--confirm: `{}` is not a drill item; items are {}", name.trim(), names.join(", "));
        };
        confirmations.push((item, vec![evidence.trim().to_owned()]));
    }
    let mut reporter = Reporter::new();
    let decision = workspace.run_drill(
        &id,
        &confirmations,
        &actor,
        clock,
        &mut |e| reporter.report(e),
        &Cancel::new(),
    )?;
    let complete = decision.drill.len() >= 5 && decision.drill.iter().all(|item| item.checked);
    if args.format == PlainFormat::Json {
        output::json(&decision.drill)?;
    } else {
        let mut out = output::stdout();
        for item in &decision.drill {
            let mark =
                if item.checked { format!("{GOOD}[x]{GOOD:#}") } else { format!("{ERROR}[ ]{ERROR:#}") };
            writeln!(out, "{mark} {}", item.item)?;
        }
    }
    Ok(if complete { Outcome::Success } else { Outcome::Failure })
}
