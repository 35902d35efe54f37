//! `release-gate render`: a decision as the Markdown template or as the canonical JSON record.

use std::io::Write;

use crate::Outcome;
use crate::cli::{RenderArgs, RenderTarget};
use crate::input;

pub fn run(args: &RenderArgs) -> anyhow::Result<Outcome> {
    let decision = input::decision(&args.input.file)?;
    let text = match args.to {
        RenderTarget::Markdown => release_gate_core::markdown::render(&decision),
        RenderTarget::Json => decision.to_json(),
        RenderTarget::ReleaseNote => release_gate_core::note::release_note(&decision),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(Outcome::Success)
}
