//! End-to-end tests: the real `release-gate` binary, run as a user or CI would run it.
//!
//! One test binary for the whole suite (see ARCHITECTURE.md); every file in this folder is a module here,
//! which `tidy::every_test_file_is_compiled` checks.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

mod agent;
mod attack;
mod ci;
mod cli;
mod codex;
mod evidence;
mod first_week;
mod ledger;
mod mcp;
mod mcp_cancel;
mod mcp_clients;
mod mcp_http;
mod mcp_jsonrpc;
mod mcp_sign;
mod metrics;
mod repo;
mod setup;
mod signing;
mod support;
mod tidy;
mod week;
