//! `release-gate classify`: the risk class a diff suggests, with the rule behind each file.

use std::io::Write;

use crate::Outcome;
use crate::cli::{ClassifyArgs, PlainFormat};
use crate::input;
use crate::output::{self, BOLD, DIM, WARNING};

pub fn run(args: &ClassifyArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let classification = workspace.classify(args.base.as_deref(), args.head.as_deref())?;
    if args.format == PlainFormat::Json {
        // Compact: a monorepo diff has many files.
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        serde_json::to_writer(&mut out, &classification)?;
        writeln!(out)?;
        out.flush()?;
        if classification.files.is_empty() {
            output::note(
                "the range changes no files: there is nothing to release (is the latest tag on HEAD?)",
            );
        }
        return Ok(Outcome::Success);
    }
    let mut out = std::io::BufWriter::new(output::stdout());
    let short = |commit: &Option<String>| {
        commit.as_deref().map_or("", release_gate_core::value::short_commit).to_owned()
    };
    writeln!(
        out,
        "{DIM}base {} {} (from {}), head {}{DIM:#}",
        args.base.as_deref().unwrap_or("(latest tag)"),
        short(&classification.base),
        classification.base_from.as_deref().unwrap_or("?"),
        short(&classification.head),
    )?;
    for file in &classification.files {
        writeln!(out, "{:<6} {}  {DIM}({}){DIM:#}", file.class.as_str(), file.path, file.rule)?;
    }
    match classification.suggested {
        Some(class) => {
            let deciding: Vec<&str> = classification.deciding().map(|file| file.path.as_str()).collect();
            let shown: Vec<&str> = deciding.iter().take(5).copied().collect();
            let more =
                if deciding.len() > 5 { format!(" and {} more", deciding.len() - 5) } else { String::new() };
            writeln!(
                out,
                "\n{BOLD}suggested risk class: {class}{BOLD:#} ({} files), set by {}{more}",
                classification.files.len(),
                shown.join(", ")
            )?;
            writeln!(
                out,
                "{DIM}tune it in .release/policy.toml (`release-gate init` writes it): [paths] high/medium/low patterns, \
                 [paths] tests for test files (at most medium), [dependencies] for manifests and the packages that make \
                 them high{DIM:#}"
            )?;
        }
        None => writeln!(
            out,
            "{WARNING}no files changed{WARNING:#}: there is nothing to release between these commits (is the latest tag \
             on HEAD?); pass the last released revision with --base"
        )?,
    }
    out.flush()?;
    Ok(Outcome::Success)
}
