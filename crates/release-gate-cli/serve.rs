//! `release-gate serve`: the MCP server for coding agents, over stdio or Streamable HTTP.

use crate::Outcome;
use crate::cli::ServeArgs;
use crate::input;

pub fn run(args: &ServeArgs) -> anyhow::Result<Outcome> {
    let root = match &args.root {
        Some(root) => root.clone(),
        None => input::repo_root_or_cwd()?,
    };
    match args.http {
        None => release_gate_mcp::serve_stdio(&release_gate_mcp::ServeOptions { root })?,
        Some(addr) => {
            let token = std::env::var(release_gate_mcp::TOKEN_ENV).ok();
            release_gate_mcp::serve_http(&release_gate_mcp::HttpOptions { root, addr, token })?;
        }
    }
    Ok(Outcome::Success)
}
