//! Benchmark of the MCP server: `validate_decision` round trip over stdio against a floor, start-up, memory;
//! the same call over Streamable HTTP with 1, 8 and 32 concurrent clients, and memory after 3,000 sessions.
//!
//! Run: `cargo bench --bench mcp`. Not a timed test: it prints figures for README.md.
//! The HTTP client is a plain HTTP/1.1 client on `std::net` (keep-alive, `TCP_NODELAY`), so the client
//! costs little next to the server.
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
    let stdio_p50 = round_trips("any CPU: the kernel places client and server");
    http_round_trips(stdio_p50);
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

/// p50 round trips of the server (validate_decision, ping), the floor, and the core alone; returns the
/// server's validate_decision p50.
fn round_trips(placement: &str) -> Duration {
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
    server_p50
}

const HTTP_CALLS: usize = 6000;
const SESSIONS: usize = 3000;

/// `validate_decision` over Streamable HTTP: p50, p99 and calls per second with 1, 8 and 32 clients,
/// each in its own session on its own kept-alive connection; then resident memory around 3,000 sessions.
fn http_round_trips(stdio_p50: Duration) {
    let binary = env!("CARGO_BIN_EXE_release-gate");
    let root = std::env::temp_dir().join(format!("release-gate-bench-http-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let server = HttpProcess::spawn(binary, &root);
    std::thread::sleep(Duration::from_millis(300));
    let fresh = server.rss_kib();
    let body = call_request();
    let body = body.trim_end();
    println!("MCP Streamable HTTP, validate_decision (request {} bytes), any CPU", body.len());
    for clients in [1usize, 8, 32] {
        let calls_each = (HTTP_CALLS / clients).max(100);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(clients + 1));
        let threads: Vec<_> = (0..clients)
            .map(|_| {
                let barrier = std::sync::Arc::clone(&barrier);
                let addr = server.addr;
                let body = body.to_owned();
                std::thread::spawn(move || {
                    let mut client = HttpClient::connect(addr);
                    client.initialize();
                    for _ in 0..20 {
                        assert!(client.call(&body).contains("verdict"));
                    }
                    barrier.wait();
                    let times: Vec<Duration> = (0..calls_each)
                        .map(|_| {
                            let start = Instant::now();
                            let answer = client.call(&body);
                            let elapsed = start.elapsed();
                            assert!(answer.contains("verdict"), "{answer}");
                            elapsed
                        })
                        .collect();
                    client.end();
                    times
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let mut times: Vec<Duration> =
            threads.into_iter().flat_map(|thread| thread.join().unwrap()).collect();
        let wall = start.elapsed();
        times.sort();
        let p50 = times[times.len() / 2];
        let p99 = times[times.len() * 99 / 100];
        let rate = times.len() as f64 / wall.as_secs_f64();
        println!(
            "  {clients:>2} client(s): p50 {:>8.1} us  p99 {:>8.1} us  {:>7.0} calls/s  ({} calls)",
            micros(p50),
            micros(p99),
            rate,
            times.len()
        );
        if clients == 1 {
            println!(
                "      p50 / stdio p50 of the same call  {:>5.2} x   (target <= 3; stdio {:.1} us)",
                micros(p50) / micros(stdio_p50),
                micros(stdio_p50)
            );
        }
    }
    println!("  calls/s at 32 clients target: >= {} (4 x 722)", 4 * 722);

    // Memory: idle, then 3,000 sessions opened at once (the server admits up to its cap, refuses the rest)
    // and all ended, then 3,000 sessions one after another, each with one call.
    std::thread::sleep(Duration::from_millis(300));
    let idle = server.rss_kib();
    let mut client = HttpClient::connect(server.addr);
    let mut opened = Vec::new();
    let mut refused = 0;
    for _ in 0..SESSIONS {
        match client.try_initialize() {
            Some(session) => opened.push(session),
            None => refused += 1,
        }
    }
    let peak = server.rss_kib();
    for session in opened.drain(..) {
        client.session = Some(session);
        client.end();
    }
    std::thread::sleep(Duration::from_millis(300));
    let after_at_once = server.rss_kib();
    for _ in 0..SESSIONS {
        client.initialize();
        assert!(client.call(body).contains("verdict"));
        client.end();
    }
    std::thread::sleep(Duration::from_millis(300));
    let after_in_turn = server.rss_kib();
    println!("MCP Streamable HTTP sessions and memory (VmRSS)");
    println!("  fresh server, before any call         {:>7.1} MB", mib(fresh));
    println!("  idle after the calls above          {:>7.1} MB", mib(idle));
    println!(
        "  {SESSIONS} sessions opened at once          {:>7.1} MB  ({} admitted, {refused} refused at the cap)",
        mib(peak),
        SESSIONS - refused
    );
    println!(
        "  after they all ended                {:>7.1} MB  ({:+.1} MB over idle, {:+.1} MB over fresh; target within 10)",
        mib(after_at_once),
        mib(after_at_once) - mib(idle),
        mib(after_at_once) - mib(fresh)
    );
    println!(
        "  after {SESSIONS} more, one call each, ended {:>7.1} MB  ({:+.1} MB over idle)",
        mib(after_in_turn),
        mib(after_in_turn) - mib(idle)
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// `release-gate serve --http 127.0.0.1:0`, its address read from its first stderr line.
struct HttpProcess {
    child: Child,
    addr: std::net::SocketAddr,
}

impl HttpProcess {
    fn spawn(binary: &str, root: &std::path::Path) -> HttpProcess {
        let mut child = Command::new(binary)
            .args(["serve", "--http", "127.0.0.1:0", "--root"])
            .arg(root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let url = line.split_whitespace().find(|word| word.starts_with("http://")).unwrap();
        let addr = url.trim_start_matches("http://").trim_end_matches("/mcp").parse().unwrap();
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        HttpProcess { child, addr }
    }

    fn rss_kib(&self) -> u64 {
        rss_kib(self.child.id())
    }
}

impl Drop for HttpProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One MCP session over one kept-alive HTTP/1.1 connection.
struct HttpClient {
    addr: std::net::SocketAddr,
    stream: BufReader<std::net::TcpStream>,
    session: Option<String>,
}

impl HttpClient {
    fn connect(addr: std::net::SocketAddr) -> HttpClient {
        let stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        HttpClient { addr, stream: BufReader::new(stream), session: None }
    }

    fn initialize(&mut self) {
        let session = self.try_initialize().expect("the server opens a session");
        self.session = Some(session);
    }

    /// A new session's id, or `None` when the server refuses (503 at its session cap).
    fn try_initialize(&mut self) -> Option<String> {
        self.session = None;
        let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#;
        let (status, headers, _) = self.exchange("POST", init);
        if status == 503 {
            return None;
        }
        assert_eq!(status, 200);
        let session = header(&headers, "mcp-session-id").unwrap().to_owned();
        self.session = Some(session.clone());
        let (status, _, _) =
            self.exchange("POST", r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        assert_eq!(status, 202);
        Some(session)
    }

    /// A `tools/call` with `request`'s params; the answer's text.
    fn call(&mut self, request: &str) -> String {
        let (status, _, body) = self.exchange("POST", request);
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Ends the session (HTTP DELETE).
    fn end(&mut self) {
        let (status, _, _) = self.exchange("DELETE", "");
        assert!(status < 300, "DELETE answered {status}");
        self.session = None;
    }

    fn exchange(&mut self, method: &str, body: &str) -> (u16, String, String) {
        let session = self.session.as_ref().map(|id| format!("Mcp-Session-Id: {id}\r\n")).unwrap_or_default();
        let request = format!(
            "{method} /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-06-18\r\n{session}\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream.get_mut().write_all(request.as_bytes()).unwrap();
        let mut status_line = String::new();
        self.stream.read_line(&mut status_line).unwrap();
        let status: u16 = status_line.split_whitespace().nth(1).unwrap().parse().unwrap();
        let mut headers = String::new();
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            headers.push_str(&lowercase_name(&line));
        }
        let mut body = Vec::new();
        if header(&headers, "transfer-encoding").is_some_and(|value| value.contains("chunked")) {
            loop {
                let mut size = String::new();
                self.stream.read_line(&mut size).unwrap();
                let size = usize::from_str_radix(size.trim(), 16).unwrap();
                let mut chunk = vec![0; size + 2];
                std::io::Read::read_exact(&mut self.stream, &mut chunk).unwrap();
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(length) = header(&headers, "content-length") {
            body.resize(length.parse().unwrap(), 0);
            std::io::Read::read_exact(&mut self.stream, &mut body).unwrap();
        }
        if header(&headers, "connection") == Some("close") {
            let stream = std::net::TcpStream::connect(self.addr).unwrap();
            stream.set_nodelay(true).unwrap();
            self.stream = BufReader::new(stream);
        }
        (status, headers, String::from_utf8(body).unwrap())
    }
}

/// A header's value from `name: value` lines whose names are lowercase.
fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == name).then(|| value.trim())
    })
}

/// A header line with its name lowercased and its value kept.
fn lowercase_name(line: &str) -> String {
    match line.split_once(':') {
        Some((name, value)) => format!("{}:{value}", name.to_ascii_lowercase()),
        None => line.to_owned(),
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
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
        rss_kib(self.child.id())
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
