//! release-gate's contact with the world, shared by the CLI and the MCP server: files under `.release/`,
//! git, file locks and atomic writes. Everything here does I/O; the decisions it makes stay in the core.

pub mod attestation;
pub mod evidence;
pub mod fs;
pub mod git;
pub mod keys;
pub mod ledger;
pub mod metrics;
pub mod next;
pub mod run;
pub mod setup;
pub mod signoff;
pub mod store;
pub mod watch;
pub mod workspace;
