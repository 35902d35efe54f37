//! `release-gate schema`: JSON Schemas of the decision record and of the JSON reports.

use crate::Outcome;
use crate::cli::{SchemaArgs, SchemaKind};
use crate::output;

pub fn run(args: &SchemaArgs) -> anyhow::Result<Outcome> {
    let schema = match args.kind {
        SchemaKind::Decision => schemars::schema_for!(release_gate_core::Decision),
        SchemaKind::Report => schemars::schema_for!(release_gate_core::Report),
        SchemaKind::Audit => schemars::schema_for!(release_gate_core::Audit),
    };
    output::json(&schema)?;
    Ok(Outcome::Success)
}
