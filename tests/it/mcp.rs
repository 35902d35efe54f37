//! The real `release-gate serve` over stdio: hostile input gets an error and the session goes on.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{TempDir, release_gate, repo_root};

/// A temporary repository root with two decisions and a symbolic link that leads out of it.
pub fn fixture_root(name: &str) -> TempDir {
    let root = TempDir::new(name);
    std::fs::create_dir_all(root.path().join("docs")).unwrap();
    std::fs::copy(repo_root().join("examples/release-decision.md"), root.path().join("docs/release.md"))
        .unwrap();
    std::fs::copy(repo_root().join("examples/draft.md"), root.path().join("docs/draft.md")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.path().join("docs/escape.md")).unwrap();
    root
}

/// One `release-gate serve` process spoken to line by line.
pub struct Session {
    pub child: Child,
    /// `None` once closed (`close_stdin`): the client went away.
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Session {
    /// The server started and initialized.
    pub fn start(root: &Path) -> Session {
        let mut session = Session::spawn(root);
        session.initialize();
        session
    }

    /// The server started, nothing sent yet.
    pub fn spawn(root: &Path) -> Session {
        let mut child = release_gate()
            .args(["serve", "--root"])
            .arg(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                if sender.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        Session { child, stdin: Some(stdin), lines }
    }

    pub fn initialize(&mut self) {
        let session = self;
        let init = session.request(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "it", "version": "1"}}}));
        assert_eq!(init["result"]["serverInfo"]["name"], "release-gate", "{init}");
        session.send_line(
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string().as_bytes(),
        );
    }

    pub fn send_line(&mut self, line: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(line).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Closes the server's stdin, as a client that goes away does.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The next line the server writes, as text.
    pub fn receive_line(&mut self) -> String {
        self.lines.recv_timeout(Duration::from_secs(30)).expect("the server answers within 30 s")
    }

    pub fn receive(&mut self) -> Value {
        let line = self.receive_line();
        serde_json::from_str(&line)
            .unwrap_or_else(|error| panic!("stdout carried a non-JSON line ({error}): {line}"))
    }

    pub fn request(&mut self, message: &Value) -> Value {
        self.send_line(message.to_string().as_bytes());
        self.receive()
    }

    pub fn call(&mut self, id: u64, tool: &str, arguments: Value) -> Value {
        self.request(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments}}))
    }

    /// The session still works: a real tool call gets its real answer.
    pub fn still_works(&mut self, id: u64) {
        let answer = self.call(
            id,
            "validate_decision",
            json!({"path": "docs/release.md", "now": "2026-11-28T12:00:00Z"}),
        );
        assert_eq!(answer["id"], id, "{answer}");
        assert_eq!(answer["result"]["structuredContent"]["verdict"], "pass", "{answer}");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn assert_error(answer: &Value, id: Value, code: i64) {
    assert_eq!(answer["id"], id, "{answer}");
    assert_eq!(answer["error"]["code"], code, "{answer}");
}

/// Arguments a tool refused (SEP-1303): a result with `isError: true`, never a JSON-RPC error.
fn assert_invalid_arguments(answer: &Value, id: Value, contains: &str) {
    assert_eq!(answer["id"], id, "{answer}");
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    let text = answer["result"]["content"][0]["text"].as_str().unwrap_or_default();
    assert!(text.starts_with("invalid arguments:"), "{answer}");
    assert!(text.contains("Correct the arguments and call again."), "{answer}");
    assert!(text.contains(contains), "{contains:?} not in {answer}");
}

#[test]
fn hostile_input_gets_errors_and_the_session_goes_on() {
    let root = fixture_root("mcp-hostile");
    let mut session = Session::start(root.path());
    session.still_works(1);

    // Cut short, but its id is readable: answered with it.
    session.send_line(b"{\"jsonrpc\": \"2.0\", \"id\": 2, \"method\": ");
    assert_error(&session.receive(), json!(2), -32700);
    session.still_works(3);

    session.send_line(b"[1, 2, 3]");
    assert_error(&session.receive(), Value::Null, -32600);
    session.still_works(4);

    assert_error(
        &session.request(&json!({"jsonrpc": "2.0", "id": 5, "method": "no/such/method"})),
        json!(5),
        -32601,
    );
    session.still_works(6);

    // Arguments a tool refuses are tool results with `isError: true` that say how to correct the call.
    let wrong_type = session.call(7, "validate_decision", json!({"content": ["not", "text"]}));
    assert_invalid_arguments(&wrong_type, json!(7), "invalid type");
    let wrong_variant = session.call(8, "render_decision", json!({"path": "docs/release.md", "to": 3}));
    assert_invalid_arguments(&wrong_variant, json!(8), "input schema of `render_decision`");
    session.still_works(9);

    for (id, path) in [(10, "../x"), (11, "/etc/passwd"), (12, "docs/escape.md"), (13, "docs/../../x")] {
        let answer = session.call(id, "validate_decision", json!({"path": path}));
        assert_invalid_arguments(&answer, json!(id), "outside the repository root");
    }
    // An unknown tool and a request that is not a tool call stay JSON-RPC errors.
    let unknown = session.call(19, "no_such_tool", json!({}));
    assert_error(&unknown, json!(19), -32602);
    let malformed =
        session.request(&json!({"jsonrpc": "2.0", "id": 20, "method": "tools/call", "params": {"name": 5}}));
    assert_eq!(malformed["id"], 20, "{malformed}");
    assert!(malformed["error"]["code"].is_i64() && malformed.get("result").is_none(), "{malformed}");
    session.still_works(14);

    // 20 MB in one argument: over the line limit, refused with an error that names the request.
    let huge = session.call(15, "validate_decision", json!({"content": "x".repeat(20_000_000)}));
    assert_error(&huge, json!(15), -32600);
    assert!(huge["error"]["message"].as_str().unwrap().contains("10 MiB"), "{huge}");
    session.still_works(16);

    // Between the content limit and the line limit: the tool runs and says what to do.
    let big = session.call(17, "validate_decision", json!({"content": "x".repeat(11 * 1024 * 1024)}));
    assert_eq!(big["result"]["isError"], true, "{big}");
    session.still_works(18);
}

#[test]
fn stdout_carries_only_the_protocol() {
    let root = fixture_root("mcp-stdout");
    let mut child = release_gate()
        .args(["serve", "--root"])
        .arg(root.path())
        .env("RELEASE_GATE_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for message in [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
            "capabilities": {}, "clientInfo": {"name": "it", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "no/such/method"}),
    ] {
        writeln!(stdin, "{message}").unwrap();
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let ids: Vec<Value> =
        stdout.lines().map(|line| serde_json::from_str::<Value>(line).unwrap()["id"].clone()).collect();
    assert_eq!(ids, [json!(1), json!(2), json!(3)], "{stdout}");
    assert!(!output.stderr.is_empty(), "trace logs go to stderr");
}

#[test]
fn http_refuses_a_public_address_without_a_token() {
    let out = Command::new(env!("CARGO_BIN_EXE_release-gate"))
        .args(["serve", "--http", "0.0.0.0:0"])
        .env_remove(release_gate_mcp::TOKEN_ENV)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("RELEASE_GATE_HTTP_TOKEN"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn ten_mib_of_unknown_bullets_gives_a_bounded_answer_and_the_server_keeps_answering() {
    let root = fixture_root("mcp-amplify");
    let mut session = Session::start(root.path());
    let (text, lines) = crate::cli::dash_a_attack();
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "validate_decision", "arguments": {"content": text, "now": "2026-11-28T12:00:00Z"}}});
    session.send_line(request.to_string().as_bytes());
    // Sent while the validation runs: answered first, since the tool's work is off the async thread.
    session.send_line(json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}).to_string().as_bytes());
    let first = session.receive();
    assert_eq!(first["id"], 2, "the ping waited for the validation: {first}");
    assert!(first["result"].is_object(), "{first}");
    let line = session.lines.recv_timeout(Duration::from_secs(60)).expect("the validation is answered");
    assert!(line.len() < 32 * 1024, "a {} byte answer", line.len());
    let answer: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(answer["id"], 1, "{answer}");
    let findings = answer["result"]["structuredContent"]["findings"].as_array().unwrap();
    let unknown: Vec<&Value> = findings.iter().filter(|f| f["code"] == "field-unknown").collect();
    assert_eq!(unknown.len(), 6, "{answer}");
    let summary = unknown[5]["message"].as_str().unwrap();
    assert!(summary.starts_with(&format!("{} more `field-unknown` findings", lines - 5)), "{summary}");

    // The same document through the other tools that read `content`.
    for (id, tool, extra) in [(3, "audit_decision", json!({})), (4, "render_decision", json!({"to": "json"}))]
    {
        let mut arguments = json!({"content": text});
        arguments.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let answer = session.call(id, tool, arguments);
        assert_eq!(answer["id"], id, "{answer}");
        assert!(answer["result"]["isError"] != true, "{answer}");
        assert!(answer.to_string().len() < 32 * 1024, "{tool}: {} bytes", answer.to_string().len());
    }
    session.still_works(5);
}
