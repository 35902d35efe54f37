//! `release-gate classify`: the risk class a diff suggests, with the rule behind each file.

use std::io::Write;

use crate::Outcome;
use crate::cli::{ClassifyArgs, PlainFormat};
use crate::input;
use crate::output::{self, BOLD, DIM};

pub fn run(args: &ClassifyArgs) -> anyhow::Result<Outcome> {
    let workspace = input::workspace(None)?;
    let classification = workspace.classify(args.base.as_deref(), args.head.as_deref())?;
    if args.format == PlainFormat::Json {
        // Compact: a monorepo diff has many files.
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        serde_json::to_writer(&mut out, &classification)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(Outcome::Success);
    }
    let mut out = std::io::BufWriter::new(output::stdout());
    for file in &classification.files {
        writeln!(out, "{:<6} {}  {DIM}({}){DIM:#}", file.class.as_str(), file.path, file.rule)?;
    }
    match classification.suggested {
        Some(class) => writeln!(
            out,
            "\n{BOLD}suggested risk class: {class}{BOLD:#} ({} files)",
            classification.files.len()
        )?,
        None => writeln!(out, "no files changed")?,
    }
    out.flush()?;
    Ok(Outcome::Success)
}
