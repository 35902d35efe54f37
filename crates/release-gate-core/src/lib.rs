//! The pure core of release-gate: the decision record, the risk policy and the validator.
//!
//! Nothing here touches the world: no files, no environment, no clock, no randomness, no printing.
//! File contents, the current time, git facts and key material come in as values, so every
//! verdict is a function of its inputs and the same on every surface (CLI, MCP server, tests).
//!
//! # Glossary
//!
//! - **Decision**: the record of one release's go/no-go call, in the shape of the protocol's
//!   "Release Decision" template ([`decision::Decision`]). Markdown and JSON are two forms of it.
//! - **Risk class**: low, medium or high, declared for the release; it sets the gate depth.
//! - **Gate layer** (or gate): one of the five layers of the release gate stack: code, review,
//!   operational, communication, decision. Each is marked pass, fail or n/a.
//! - **Policy**: which gates and artifacts each risk class requires, and how findings count.
//! - **Finding**: one thing the validator noticed, with a stable kebab-case code and a severity.
//! - **Verdict**: pass when a decision has no error findings, fail otherwise.
//! - **Rollback trigger**: the concrete, testable condition that starts a rollback.
//! - **Drill**: the pre-release checklist of five items. **Rehearsal**: a rollback practised in a
//!   non-production environment, with its recovery time.
//! - **Communication package**: what changed, known limitations, monitoring focus, rollback trigger
//!   conditions, escalation.

pub mod audit;
pub mod checklist;
pub mod classify;
pub mod decision;
pub mod finding;
pub mod freeze;
pub mod history;
pub mod ledger;
pub mod markdown;
pub mod note;
pub mod policy;
pub mod signals;
pub mod signing;
pub mod trigger;
pub mod validate;
pub mod value;

pub use audit::{Audit, audit};
pub use decision::{Call, Decision, Layer, RiskClass};
pub use finding::{Code, Finding, Severity};
pub use policy::{Policy, PolicyError, PolicyErrors};
pub use validate::{Document, ReleaseFacts, Report, Verdict, validate, validate_release};

/// The largest decision or policy input release-gate reads, in bytes (10 MiB).
pub const MAX_INPUT_BYTES: usize = 10 * 1024 * 1024;

/// Why a decision could not be read at all (as opposed to a decision that reads but does not pass).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(
        "the input is {size} bytes; release-gate reads decisions of at most {MAX_INPUT_BYTES} bytes (10 MiB)"
    )]
    TooLarge { size: usize },
    #[error("the input is not valid UTF-8 (first bad byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error(transparent)]
    Markdown(#[from] markdown::MarkdownError),
    #[error(transparent)]
    Record(#[from] decision::RecordError),
}

/// Which form a decision's text is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Markdown,
    Json,
}

impl Form {
    /// JSON when the text starts with `{` (after white space and a byte-order mark), else Markdown.
    pub fn detect(text: &str) -> Form {
        let start = text.trim_start_matches('\u{feff}').trim_start();
        if start.starts_with('{') { Form::Json } else { Form::Markdown }
    }
}

/// Reads a decision from raw bytes in either form, enforcing the size and encoding limits.
pub fn read_document(bytes: &[u8]) -> Result<Document, InputError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge { size: bytes.len() });
    }
    let text =
        std::str::from_utf8(bytes).map_err(|error| InputError::NotUtf8 { offset: error.valid_up_to() })?;
    match Form::detect(text) {
        Form::Json => Ok(Document::from_record(Decision::from_json(text.trim_start_matches('\u{feff}'))?)),
        Form::Markdown => Ok(Document::from_markdown(markdown::parse(text)?)),
    }
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
