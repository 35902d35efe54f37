//! `release-gate render`: a decision as the Markdown template or as the canonical JSON record.

use std::io::Write;

use crate::Outcome;
use crate::cli::{RenderArgs, RenderTarget};
use crate::input;

pub fn run(args: &RenderArgs) -> anyhow::Result<Outcome> {
    let decision = input::decision(&args.input.file)?;
    let text = match args.to {
        RenderTarget::Markdown => release_gate_core::markdown::render(&decision),
        // Written as it is serialized (the same bytes as `Decision::to_json`): JSON escapes can make the
        // record several times the size of its text, and none of it needs to be held at once.
        RenderTarget::Json => {
            crate::output::json(&decision)?;
            return Ok(Outcome::Success);
        }
        RenderTarget::ReleaseNote => {
            // The version: a tag on the head the stored decision covers, when one names it.
            let version = decision.binding.as_ref().and_then(|binding| {
                input::workspace(None).ok().and_then(|workspace| workspace.version_at(&binding.head))
            });
            release_gate_core::note::release_note_with(
                &decision,
                &release_gate_core::note::NoteFacts { version },
            )
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(Outcome::Success)
}
