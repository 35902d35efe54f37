//! JSON-RPC hygiene of `release-gate serve` over stdio: every request gets exactly one answer, with its id
//! exactly as sent whenever the id can be read; notifications before `initialize` are ignored; memory
//! comes back after an oversized line.

use serde_json::{Value, json};

use crate::mcp::{Session, fixture_root};

/// The answer's error code, after checking the answer's id is `id` (compared as raw text).
fn error_with_raw_id(line: &str, id: &str) -> i64 {
    assert!(line.starts_with(&format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},")), "expected id {id}: {line}");
    let answer: Value = serde_json::from_str(line).unwrap();
    answer["error"]["code"].as_i64().unwrap_or_else(|| panic!("not an error: {line}"))
}

#[test]
fn readable_ids_are_answered_exactly_and_every_request_is_answered() {
    let root = fixture_root("jsonrpc-ids");
    let mut session = Session::start(root.path());
    let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
    // Lines that are not JSON (nesting over serde's 128 levels, a raw NUL, invalid UTF-8), with the id
    // before or after the part that breaks them.
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            format!(r#"{{"jsonrpc":"2.0","id":41,"method":"ping","params":{{"x":{deep}}}}}"#).into_bytes(),
            "41",
        ),
        (
            format!(r#"{{"params":{{"x":{deep}}},"method":"ping","jsonrpc":"2.0","id":"late"}}"#)
                .into_bytes(),
            "\"late\"",
        ),
        (b"{\"jsonrpc\":\"2.0\",\"id\":43,\"method\":\"ping\",\"params\":{\"s\":\"a\0b\"}}".to_vec(), "43"),
        (
            b"{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":{\"s\":\"\xff\xfe\"},\"id\":44}".to_vec(),
            "44",
        ),
    ];
    for (line, id) in cases {
        session.send_line(&line);
        assert_eq!(error_with_raw_id(&session.receive_line(), id), -32700);
    }
    // Ids of a type JSON-RPC does not allow: answered, with a null id.
    for id in ["null", "{\"a\":1}", "[1]", "true"] {
        session.send_line(format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#).as_bytes());
        assert_eq!(error_with_raw_id(&session.receive_line(), "null"), -32600, "id {id}");
    }
    // Integer ids beyond 64 bits, and fractions: every digit comes back.
    for id in ["123456789012345678901234567890", "18446744073709551615", "-9223372036854775809", "1.5"] {
        session.send_line(format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#).as_bytes());
        assert_eq!(error_with_raw_id(&session.receive_line(), id), -32600, "id {id}");
    }
    // Two requests with one id in flight together: both are answered, one of them by an error that says why.
    let call =
        json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "validate_decision",
        "arguments": {"path": "docs/release.md", "now": "2026-11-28T12:00:00Z"}}})
        .to_string();
    session.send_line(format!("{call}\n{call}").as_bytes());
    let answers = [session.receive(), session.receive()];
    assert!(answers.iter().all(|answer| answer["id"] == 5), "{answers:?}");
    assert!(
        answers.iter().any(|answer| answer["result"]["structuredContent"]["verdict"] == "pass"),
        "{answers:?}"
    );
    // The id is free again once answered.
    session.still_works(5);
}

#[test]
fn notifications_before_initialize_are_ignored() {
    let root = fixture_root("jsonrpc-early");
    let mut session = Session::spawn(root.path());
    session.send_line(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    session.send_line(br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}"#);
    session.send_line(br#"{"jsonrpc":"2.0","method":"notifications/unknown"}"#);
    session.initialize();
    session.still_works(1);
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn memory_comes_back_after_an_oversized_line() {
    let root = fixture_root("jsonrpc-memory");
    let mut session = Session::start(root.path());
    session.still_works(1);
    let before = rss_kib(session.child.id());
    let mut line = br#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"validate_decision","arguments":{"content":""#.to_vec();
    line.resize(line.len() + 20 * 1024 * 1024, b'a');
    line.extend_from_slice(br#""}}}"#);
    session.send_line(&line);
    assert_eq!(error_with_raw_id(&session.receive_line(), "2"), -32600);
    session.still_works(3);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let after = rss_kib(session.child.id());
    assert!(after <= before + 8 * 1024, "RSS {after} KiB after a 20 MB line, {before} KiB before");
}
