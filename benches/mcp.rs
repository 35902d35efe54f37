//! Benchmark of the MCP server over stdio: `validate_decision` round trip against a floor, start-up, memory.
//!
//! Run: `cargo bench --bench mcp`. Not a timed test: it prints figures for README.md.
//! The floor is this same binary started with `RELEASE_GATE_BENCH_FLOOR=<file>`: a loop that reads a line
//! from stdin and writes the canned answer from the file, over the same kind of pipes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const FLOOR_ENV: &str = "RELEASE_GATE_BENCH_FLOOR";
const PINNED_ENV: &str = "RELEASE_GATE_BENCH_PINNED";
const ROUND_TRIPS: usize = 3000;
const STARTS: usize = 30;

fn main() {
    if let Some(canned) = std::env::var_os(FLOOR_ENV) {
        floor(&std::fs::read(canned).unwrap());
        return;
    }
    if std::env::var_os(PINNED_ENV).is_some() {
        round_trips("one CPU: client, server and floor pinned to CPU 0 with taskset");
        return;
    }
    round_trips("any CPU: the kernel places client and server");
    // The same measure with every process on one CPU: the cross-CPU wake-up, which in a VM costs tens of
    // microseconds and lands on the floor and the server by chance, is then out of both.
    let status = Command::new("taskset")
        .args(["-c", "0"])
        .arg(std::env::current_exe().unwrap())
        .env(PINNED_ENV, "1")
        .status()
        .expect("taskset (util-linux) runs the pinned measure");
    assert!(status.success());
    start_up_and_memory();
}

/// p50 round trips of the server (validate_decision, ping), the floor, and the core alone.
fn round_trips(placement: &str) {
    let binary = env!("CARGO_BIN_EXE_release-gate");
    let root = std::env::temp_dir().join(format!("release-gate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let request = call_request();

    // The server: p50 of a validate_decision round trip, and its answer for the floor to replay.
    let mut server = Process::spawn(Command::new(binary).args(["serve", "--root"]).arg(&root));
    server.initialize();
    let answer = server.round_trip(&request);
    assert!(answer.contains("\"verdict\""), "{answer}");
    let server_p50 = p50(&mut server, &request);
    let ping_p50 = p50(&mut server, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}\n");
    // The same call refused before anything is read (`content` and `path` together): rmcp's dispatch, the
    // 3 KB argument's JSON and an answer, with no tool work.
    let refused = refused_request();
    let refusal = server.round_trip(&refused);
    assert!(refusal.contains("only one of"), "{refusal}");
    let refused_p50 = p50(&mut server, &refused);
    drop(server);

    let canned = root.join("canned.json");
    std::fs::write(&canned, &answer).unwrap();
    let mut floor = Process::spawn(Command::new(std::env::current_exe().unwrap()).env(FLOOR_ENV, &canned));
    let floor_p50 = p50(&mut floor, &request);
    drop(floor);

    let core_p50 = core_p50(&request);

    println!(
        "MCP stdio round trips, {placement} ({ROUND_TRIPS} round trips, request {} bytes)",
        request.len()
    );
    println!("  tools/call validate_decision p50   {:>9.1} us", micros(server_p50));
    println!("  ping p50 (transport and dispatch)  {:>9.1} us", micros(ping_p50));
    println!(
        "  same call refused unread, p50      {:>9.1} us  ({:.2} x the floor: dispatch, no tool work)",
        micros(refused_p50),
        micros(refused_p50) / micros(floor_p50)
    );
    println!("  floor (canned bytes) p50          {:>9.1} us", micros(floor_p50));
    println!(
        "  ratio                             {:>9.2} x   (target <= 3)",
        micros(server_p50) / micros(floor_p50)
    );
    println!("  core read + validate + JSON, p50  {:>9.1} us  (in process, no MCP)", micros(core_p50));
    let _ = std::fs::remove_dir_all(&root);
}

/// Start-up to the `tools/list` answer, and resident memory once the server has answered and sits idle.
fn start_up_and_memory() {
    let binary = env!("CARGO_BIN_EXE_release-gate");
    let root = std::env::temp_dir().join(format!("release-gate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let mut starts: Vec<Duration> = (0..STARTS).map(|_| start_up(binary, &root)).collect();
    starts.sort();

    let request = call_request();
    let mut server = Process::spawn(Command::new(binary).args(["serve", "--root"]).arg(&root));
    server.initialize();
    server.round_trip("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}\n");
    for _ in 0..ROUND_TRIPS {
        server.round_trip(&request);
    }
    std::thread::sleep(Duration::from_millis(300));
    let rss_kib = server.rss_kib();
    drop(server);

    println!("MCP server start-up and memory ({STARTS} starts)");
    println!("  start-up to tools/list, median    {:>9.2} ms  (target <= 5)", millis(starts[STARTS / 2]));
    println!(
        "  idle RSS after {ROUND_TRIPS} calls          {:>9.1} MB  (target < 8)",
        rss_kib as f64 / 1024.0
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// The tool's own work in process: read the decision, validate it, serialize the report.
fn core_p50(request: &str) -> Duration {
    let value: serde_json::Value = serde_json::from_str(request).unwrap();
    let content = value["params"]["arguments"]["content"].as_str().unwrap().to_owned();
    let policy = release_gate_core::Policy::default();
    let now: jiff::Timestamp = "2026-11-28T12:00:00Z".parse().unwrap();
    let mut times: Vec<Duration> = (0..ROUND_TRIPS)
        .map(|_| {
            let start = Instant::now();
            let document = release_gate_core::read_document(content.as_bytes()).unwrap();
            let report = release_gate_core::validate(&document, &policy, now);
            let json = serde_json::to_string(&report).unwrap();
            std::hint::black_box(json);
            start.elapsed()
        })
        .collect();
    times.sort();
    times[ROUND_TRIPS / 2]
}

/// The floor: answer every line with the same bytes.
fn floor(canned: &[u8]) {
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        if line.is_err() {
            break;
        }
        stdout.write_all(canned).unwrap();
        stdout.flush().unwrap();
    }
}

/// A typical decision of about 3 KB: the example inside a pull-request description.
fn call_request() -> String {
    let example = include_str!("../examples/release-decision.md");
    let mut content = String::from("## Summary\n\n");
    while content.len() + example.len() < 3000 {
        content
            .push_str("Moves invoice totals to the new rounding service and adds retries to the worker.\n");
    }
    content.push('\n');
    content.push_str(example);
    let request = serde_json::json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
        "name": "validate_decision", "arguments": {"content": content, "now": "2026-11-28T12:00:00Z"}}});
    format!("{request}\n")
}

/// [`call_request`] with a `path` as well, which the tool refuses before reading anything.
fn refused_request() -> String {
    let mut request: serde_json::Value = serde_json::from_str(&call_request()).unwrap();
    request["params"]["arguments"]["path"] = serde_json::json!("docs/release.md");
    format!("{request}\n")
}

struct Process {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    line: String,
}

impl Process {
    fn spawn(command: &mut Command) -> Process {
        let mut child =
            command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Process { child, stdin, stdout, line: String::new() }
    }

    fn round_trip(&mut self, request: &str) -> String {
        self.stdin.write_all(request.as_bytes()).unwrap();
        self.stdin.flush().unwrap();
        self.line.clear();
        self.stdout.read_line(&mut self.line).unwrap();
        self.line.clone()
    }

    fn initialize(&mut self) {
        let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#;
        self.round_trip(&format!("{init}\n"));
        self.stdin.write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n").unwrap();
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn p50(process: &mut Process, request: &str) -> Duration {
    for _ in 0..200 {
        process.round_trip(request);
    }
    let mut times: Vec<Duration> = (0..ROUND_TRIPS)
        .map(|_| {
            let start = Instant::now();
            process.round_trip(request);
            start.elapsed()
        })
        .collect();
    times.sort();
    times[ROUND_TRIPS / 2]
}

/// From spawn to the `tools/list` answer, with the client's three messages written at once.
fn start_up(binary: &str, root: &std::path::Path) -> Duration {
    let start = Instant::now();
    let mut process = Process::spawn(Command::new(binary).args(["serve", "--root"]).arg(root));
    process.initialize();
    let list = process.round_trip("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}\n");
    let elapsed = start.elapsed();
    assert!(list.contains("validate_decision"), "{list}");
    elapsed
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
