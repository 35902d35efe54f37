//! What the MCP crate's test binaries share: a server and a client joined in process, tool calls, the
//! two shapes of a refused call, and hermetic git repositories in temporary folders.

#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use release_gate_mcp::{LineTransport, ReleaseGateServer};
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::{ClientHandler, ServiceExt};
use serde_json::Value;

/// `server` and `client` joined over `tokio::io::duplex`, the server on its own task.
pub async fn connect<C: ClientHandler>(
    server: ReleaseGateServer,
    client: C,
) -> RunningService<RoleClient, C> {
    let (server_end, client_end) = tokio::io::duplex(64 * 1024);
    let (read, write) = tokio::io::split(server_end);
    tokio::spawn(release_gate_mcp::serve_on(server, LineTransport::new(read, write)));
    client.serve(client_end).await.unwrap()
}

/// A `tools/call`; the result as JSON.
pub async fn call<C: ClientHandler>(
    client: &RunningService<RoleClient, C>,
    tool: &str,
    args: Value,
) -> Result<Value, ServiceError> {
    let params =
        CallToolRequestParams::new(tool.to_owned()).with_arguments(args.as_object().unwrap().clone());
    client.call_tool(params).await.map(|result| serde_json::to_value(result).unwrap())
}

/// Arguments a tool refused: a tool result with `isError: true` (SEP-1303) that says how to correct
/// the call, not a JSON-RPC error.
pub fn invalid_arguments(result: Result<Value, ServiceError>, contains: &str) {
    let result = result.unwrap_or_else(|error| panic!("expected an isError result, got {error:?}"));
    assert_eq!(result["isError"], true, "{result}");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("invalid arguments:"), "{text}");
    assert!(text.contains("Correct the arguments and call again."), "{text}");
    assert!(text.contains(contains), "{contains:?} not in {text}");
}

/// An operation that could not run: a tool result with `isError: true` whose text says `contains`.
pub fn tool_error(result: Result<Value, ServiceError>, contains: &str) {
    let result = result.unwrap();
    assert_eq!(result["isError"], true, "{result}");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.contains(contains), "{contains:?} not in {text}");
}

/// A temporary folder named for the test and this process, empty, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str, name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("{prefix}-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a program in `dir` and returns its trimmed output; git without the host's configuration (no
/// system or global file, a fresh HOME). Fails the test when the program fails.
pub fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let home = std::env::temp_dir().join(format!("release-gate-mcp-test-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", &home)
        .output()
        .unwrap();
    assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A new git repository in `dir` on `main`, with a committer and no signing.
pub fn git_init(dir: &Path) {
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["config", "user.name", "Rel Eng"],
        &["config", "user.email", "releng@example.com"],
        &["config", "commit.gpgsign", "false"],
    ] {
        run(dir, "git", args);
    }
}

/// A test client's declaration: form elicitation when it can ask its person, nothing else.
pub fn client_info(can_elicit: bool) -> rmcp::model::ClientConfig {
    use rmcp::model::{ClientCapabilities, ElicitationCapability, FormElicitationCapability};
    let mut capabilities = ClientCapabilities::default();
    if can_elicit {
        capabilities.elicitation =
            Some(ElicitationCapability::new().with_form(FormElicitationCapability::default()));
    }
    rmcp::model::ClientConfig::new(capabilities, rmcp::model::Implementation::new("test", "1"))
}
