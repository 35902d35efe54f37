//! `release-gate serve --http` under load and abuse: more connections than the file limit, thousands of
//! sessions, bearer tokens as clients send them; each followed by a normal call that must work.

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::mcp::fixture_root;
use crate::support::{HttpServer, Transport, mcp_calls, python, release_gate, repo_root};

/// A normal `validate_decision` call through the Python SDK client; it must give the report.
fn normal_call(server: &HttpServer, token: Option<&str>) {
    let decision = std::fs::read_to_string(repo_root().join("examples/release-decision.md")).unwrap();
    let transport = Transport::Http { url: server.url.clone(), token: token.map(str::to_owned) };
    let results = mcp_calls(
        std::path::Path::new("/"),
        &transport,
        &[json!({"tool": "validate_decision", "arguments": {"content": decision}})],
    );
    assert_eq!(results[0]["is_error"], false, "{results:?}");
    assert!(results[0]["structured"]["verdict"].is_string(), "{results:?}");
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn more_connections_than_the_file_limit_leave_the_server_serving() {
    let root = fixture_root("http-files");
    let server = HttpServer::start(root.path(), &[]);
    normal_call(&server, None);
    // Lower the running server's file limit below what the attack opens: `accept` then fails with EMFILE.
    let status = Command::new("prlimit")
        .arg(format!("--pid={}", server.pid()))
        .arg("--nofile=128:128")
        .status()
        .unwrap();
    assert!(status.success(), "prlimit (util-linux) lowers the server's file limit");
    let addr = server.url.trim_start_matches("http://").trim_end_matches("/mcp").to_owned();
    let idle: Vec<TcpStream> = (0..300)
        .map(|_| {
            let stream = TcpStream::connect(&addr).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            stream
        })
        .collect();
    normal_call(&server, None);
    // The oldest idle connections gave way (closed by the server, so a read ends at once).
    let mut first = &idle[0];
    let mut buffer = [0u8; 16];
    let read = std::io::Read::read(&mut first, &mut buffer);
    assert!(matches!(read, Ok(0) | Err(_)), "the oldest idle connection is closed: {read:?}");
    drop(idle);
    normal_call(&server, None);
}

#[test]
fn three_thousand_sessions_end_and_give_their_memory_back() {
    let root = fixture_root("http-sessions");
    let server = HttpServer::start(root.path(), &[]);
    normal_call(&server, None);
    std::thread::sleep(Duration::from_millis(300));
    let idle = rss_kib(server.pid());
    let output = Command::new(python())
        .arg(repo_root().join("tests/python/http_sessions.py"))
        .arg(&server.url)
        .arg("3000")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let counts: Value = serde_json::from_slice(&output.stdout).unwrap();
    let admitted = counts["admitted"].as_u64().unwrap();
    // The server holds at most its cap of live sessions and refuses the rest with 503 and Retry-After.
    assert!((1..=64).contains(&admitted), "{counts}");
    assert_eq!(counts["refused"].as_u64().unwrap() + admitted, 3000, "{counts}");
    assert_eq!(counts["retry_after"], "30", "{counts}");
    assert_eq!(counts["other"], json!([]), "{counts}");
    assert_eq!(counts["deleted"].as_u64().unwrap(), admitted, "{counts}");
    std::thread::sleep(Duration::from_millis(300));
    let after = rss_kib(server.pid());
    assert!(after <= idle + 10 * 1024, "RSS {after} KiB after the sessions ended, {idle} KiB idle before");
    normal_call(&server, None);
}

#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let root = fixture_root("http-bearer");
    let token = "a-token-of-at-least-sixteen";
    let server = HttpServer::start(root.path(), &[("RELEASE_GATE_HTTP_TOKEN", token)]);
    let addr = server.url.trim_start_matches("http://").trim_end_matches("/mcp").to_owned();
    for (scheme, expected) in [("bearer", "200"), ("BEARER", "200"), ("Bearer", "200"), ("Basic", "401")] {
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
        let request = format!(
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {scheme} {token}\r\nContent-Type: \
             application/json\r\nAccept: application/json, text/event-stream\r\nConnection: close\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut stream = TcpStream::connect(&addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = std::io::Read::read_to_string(&mut stream, &mut answer);
        assert!(answer.starts_with(&format!("HTTP/1.1 {expected}")), "{scheme}: {answer}");
    }
    normal_call(&server, Some(token));
}

#[test]
fn a_token_that_cannot_be_sent_as_a_header_is_refused_at_start_up() {
    let root = fixture_root("http-token");
    for token in ["caf\u{e9}-caf\u{e9}-caf\u{e9}-caf\u{e9}", "a token with spaces in it"] {
        let output = release_gate()
            .args(["serve", "--http", "127.0.0.1:0", "--root"])
            .arg(root.path())
            .env("RELEASE_GATE_HTTP_TOKEN", token)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{token:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("cannot be sent in an HTTP header"), "{stderr}");
    }
}
