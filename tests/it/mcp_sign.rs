//! Only a person signs: `sign_decision` on the real binary, called by the Python SDK's client over stdio, over
//! Streamable HTTP on 127.0.0.1 without a token and over HTTP with a token; by a client that confirms, one
//! that declines and one that cannot ask (no elicitation), each on the 2025 protocol (the server asks through
//! elicitation) and on 2026-07-28 (the server answers with an input-required result and a sealed request
//! state); with `RELEASE_GATE_CONFIRM` unset and `=client`.
//!
//! Each refusal is checked on disk, not only in its message: the call created, changed or removed no file
//! under `.release/` (no envelope, no statement, no `.sig`, no log line, `ledger.jsonl` byte for byte the
//! same), and at the end no attestation file and no log entry names the decision. Each signature verifies.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{TempDir, repo_root};

const BINARY: &str = env!("CARGO_BIN_EXE_release-gate");

/// The bearer token of the guarded HTTP server (16 characters at least).
const TOKEN: &str = "only-the-signers-client-knows-this";

/// How long a server may take to say where it listens, and the Python client to run every case.
const START: Duration = Duration::from_secs(10);
const CLIENT: Duration = Duration::from_secs(90);

/// The clients, each with its protocol and the decision it is asked to sign.
const CLIENTS: [(&str, &str, &str); 6] = [
    ("accept", "legacy", "rel-accept"),
    ("decline", "legacy", "rel-decline"),
    ("none", "legacy", "rel-none"),
    ("accept", "2026-07-28", "rel-accept-2026"),
    ("decline", "2026-07-28", "rel-decline-2026"),
    ("none", "2026-07-28", "rel-none-2026"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Stdio,
    /// Streamable HTTP on 127.0.0.1; `token`: started with `RELEASE_GATE_HTTP_TOKEN` and sent by the client.
    Http {
        token: bool,
    },
}

/// The environment of every process that runs git here: no system or global git configuration, a fresh HOME.
fn isolate<'a>(command: &'a mut Command, home: &Path) -> &'a mut Command {
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", home)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove(release_gate_repo::keys::PASSPHRASE_ENV)
        .stdin(Stdio::null())
}

/// A temporary folder with HOME, Priya's key, and a repository where three GO decisions wait for her
/// signature (`rel-accept`, `rel-decline`, `rel-none`), copied once per server.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let fixture = Fixture { dir: TempDir::new(name) };
        std::fs::create_dir_all(fixture.home()).unwrap();
        let key = fixture.key();
        std::fs::create_dir_all(key.parent().unwrap()).unwrap();
        fixture.ok(
            fixture.dir.path(),
            Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", "priya", "-f"]).arg(&key),
        );
        let repo = fixture.template();
        std::fs::create_dir_all(repo.join("src")).unwrap();
        let git = |args: &[&str]| fixture.ok(&repo, Command::new("git").args(args));
        git(&["init", "-q", "-b", "main"]);
        git(&["config", "user.name", "Rel Eng"]);
        git(&["config", "user.email", "releng@example.com"]);
        git(&["config", "commit.gpgsign", "false"]);
        std::fs::write(repo.join("src/lib.rs"), "fn search() {}\n").unwrap();
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "initial"]);
        git(&["tag", "v1"]);
        std::fs::write(repo.join("src/lib.rs"), "fn search_faster() {}\n").unwrap();
        git(&["commit", "-q", "-am", "faster search"]);
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        let public: Vec<&str> = public.split_whitespace().take(2).collect();
        std::fs::create_dir_all(repo.join(".release")).unwrap();
        std::fs::write(
            repo.join(".release/allowed_signers"),
            format!(
                "\"Priya Shah\" namespaces=\"release-gate,release-gate-checkpoint\" {}\n",
                public.join(" ")
            ),
        )
        .unwrap();
        for (_, _, id) in CLIENTS {
            for args in [
                vec!["draft", "--scope", "search", "--risk", "medium", "--base", "v1", "--id", id],
                vec!["gate", id, "code", "pass", "--evidence", "CI #7"],
                vec!["gate", id, "review", "pass", "--evidence", "PR #3"],
                vec!["gate", id, "operational", "n/a"],
                vec!["gate", id, "communication", "n/a"],
                vec!["set", id, "residual-risks", "none"],
                vec!["set", id, "rollback-trigger", "search error rate > 1% for 5 minutes"],
                vec!["set", id, "rollback-owner", "Lee Park"],
                vec!["decide", id, "--go", "--owner", "Priya Shah"],
            ] {
                fixture.ok(&repo, Command::new(BINARY).args(&args));
            }
        }
        fixture
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn key(&self) -> PathBuf {
        self.dir.path().join("keys/priya_ed25519")
    }

    fn template(&self) -> PathBuf {
        self.dir.path().join("template")
    }

    /// Runs a command, isolated, in `dir`; its stdout. Fails the test when it fails.
    fn ok(&self, dir: &Path, command: &mut Command) -> String {
        let output = isolate(command, &self.home()).current_dir(dir).output().unwrap();
        assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }

    /// A copy of the repository for one server.
    fn copy(&self, name: &str) -> PathBuf {
        let to = self.dir.path().join(name);
        let status = Command::new("cp").arg("-a").arg(self.template()).arg(&to).status().unwrap();
        assert!(status.success());
        to
    }

    /// The environment the person who starts the server sets: their key and, maybe, the confirmation.
    fn server_env(&self, confirm_client: bool) -> Vec<(&'static str, String)> {
        let mut env = vec![
            (release_gate_mcp::SIGNING_KEY_ENV, self.key().display().to_string()),
            ("GIT_CONFIG_NOSYSTEM", "1".to_owned()),
            ("GIT_CONFIG_GLOBAL", "/dev/null".to_owned()),
            ("HOME", self.home().display().to_string()),
        ];
        if confirm_client {
            env.push((release_gate_mcp::CONFIRM_ENV, "client".to_owned()));
        }
        env
    }
}

/// `release-gate serve --http 127.0.0.1:0`, killed on drop; the address comes from its first stderr line.
struct HttpServer {
    child: Child,
    url: String,
}

impl HttpServer {
    fn start(fixture: &Fixture, root: &Path, confirm_client: bool, token: bool) -> HttpServer {
        let mut command = Command::new(BINARY);
        isolate(&mut command, &fixture.home())
            .args(["serve", "--http", "127.0.0.1:0", "--root"])
            .arg(root)
            .env_remove(release_gate_mcp::SIGN_CONFIRM_ENV)
            .env_remove(release_gate_mcp::CONFIRM_ENV)
            .env_remove(release_gate_mcp::TOKEN_ENV)
            .envs(fixture.server_env(confirm_client))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if token {
            command.env(release_gate_mcp::TOKEN_ENV, TOKEN);
        }
        let mut child = command.spawn().unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (sender, lines) = channel();
        // Keeps reading stderr, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                let _ = sender.send(line);
            }
        });
        let mut server = HttpServer { child, url: String::new() };
        let line = lines.recv_timeout(START).unwrap_or_else(|e| panic!("serve --http said nothing: {e}"));
        let url = line.split_whitespace().find(|word| word.starts_with("http://127.0.0.1:"));
        server.url =
            url.unwrap_or_else(|| panic!("serve --http did not say where it listens: {line:?}")).to_owned();
        server
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command to its end within `limit`, killing it when it takes longer.
fn output_within(command: &mut Command, limit: Duration) -> Output {
    let mut child =
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{command:?} took longer than {limit:?}: {}",
                String::from_utf8_lossy(&err.join().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}

fn python() -> PathBuf {
    let python = std::env::var_os("RELEASE_GATE_PYTHON")
        .map_or_else(|| repo_root().join(".venv/bin/python"), PathBuf::from);
    assert!(
        python.exists(),
        "Python with the `mcp` package is not installed at {}: run `bash scripts/test.sh`, which installs the \
         pinned test clients (a venv at .venv from tests/requirements.txt)",
        python.display()
    );
    python
}

/// One server configuration: where it works and how the client reaches it.
struct Target {
    repo: PathBuf,
    confirm_client: bool,
    case: Value,
}

/// Runs every case in one Python process; its results, by case name.
fn call_all(fixture: &Fixture, cases: &[Value]) -> Vec<Value> {
    let file = fixture.dir.path().join("cases.json");
    std::fs::write(&file, serde_json::to_vec(cases).unwrap()).unwrap();
    let out = output_within(
        Command::new(python()).arg(repo_root().join("tests/python/sign_client.py")).arg(&file),
        CLIENT,
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), cases.len());
    results
}

/// What must happen for a transport, a confirmation setting and a client.
#[derive(Debug)]
enum Expect {
    /// Signed, confirmed this way.
    Signed(&'static str),
    /// `signed: false` with a reason that says this.
    Refused(&'static str),
    /// A tool error that says this.
    Error(&'static str),
}

fn expected(transport: Transport, confirm_client: bool, client: &str, mode: &str) -> Expect {
    match (transport, confirm_client, client) {
        (Transport::Http { token: false }, _, _) => Expect::Error("RELEASE_GATE_HTTP_TOKEN"),
        (_, true, _) => Expect::Signed("client-approval"),
        (_, false, "accept") if mode == "legacy" => Expect::Signed("elicitation"),
        (_, false, "accept") => Expect::Signed("input-request"),
        (_, false, _) => Expect::Refused("RELEASE_GATE_CONFIRM=client"),
    }
}

/// The whole row of the matrix for one transport: both confirmation settings, all three clients.
fn replay(transport: Transport) {
    let fixture = Fixture::new(&format!("mcp-sign-{transport:?}").replace([' ', '{', '}', ':'], ""));
    let mut servers = Vec::new();
    let mut targets = Vec::new();
    for confirm_client in [false, true] {
        let repo = fixture.copy(if confirm_client { "confirm-client" } else { "confirm-unset" });
        let case = match transport {
            Transport::Stdio => {
                let env: serde_json::Map<String, Value> = fixture
                    .server_env(confirm_client)
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), json!(v)))
                    .collect();
                json!({"transport": "stdio", "command": BINARY, "args": ["serve", "--root", repo], "env": env})
            }
            Transport::Http { token } => {
                let server = HttpServer::start(&fixture, &repo, confirm_client, token);
                let case = json!({"transport": "http", "url": server.url, "token": token.then_some(TOKEN)});
                servers.push(server);
                case
            }
        };
        targets.push(Target { repo, confirm_client, case });
    }
    let mut cases = Vec::new();
    for target in &targets {
        for (client, mode, id) in CLIENTS {
            let mut case = target.case.clone();
            case["name"] =
                json!(format!("{transport:?}, confirm client {}, {client}, {mode}", target.confirm_client));
            case["client"] = json!(client);
            case["mode"] = json!(mode);
            case["id"] = json!(id);
            case["release"] = json!(target.repo.join(".release"));
            cases.push(case);
        }
    }
    let results = call_all(&fixture, &cases);
    drop(servers);

    let mut results = results.iter();
    for target in &targets {
        let ledger = log_lines(&target.repo);
        let mut signed = 0;
        for (client, mode, id) in CLIENTS {
            let result = results.next().unwrap();
            let expect = expected(transport, target.confirm_client, client, mode);
            let (name, structured, asked) = (&result["name"], &result["structured"], &result["asked"]);
            let written = [&result["created"], &result["changed"], &result["removed"]];
            let attestations = target.repo.join(".release/attestations");
            let ours: Vec<String> = std::fs::read_dir(&attestations)
                .map(|entries| {
                    entries
                        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                        .filter(|file| file.starts_with(&format!("{id}.")))
                        .collect()
                })
                .unwrap_or_default();
            let logged = ledger.lines().filter(|line| line.contains(&format!("\"{id}\""))).count();
            match expect {
                Expect::Signed(by) => {
                    signed += 1;
                    assert_eq!(result["is_error"], false, "{name}: {result}");
                    assert_eq!(structured["signed"], true, "{name}: {result}");
                    assert_eq!(structured["confirmed_by"], by, "{name}: {result}");
                    assert_eq!(structured["outcome"]["roles"], json!(["Priya Shah"]), "{name}: {result}");
                    let created = &result["created"];
                    for file in [
                        format!("attestations/{id}.dsse.json"),
                        format!("attestations/{id}.statement.json.sig"),
                    ] {
                        assert!(
                            created.as_array().unwrap().contains(&json!(file)),
                            "{name}: {file} in {result}"
                        );
                    }
                    assert!(ours.contains(&format!("{id}.dsse.json")), "{name}: {ours:?}");
                    assert_eq!(logged, 1, "{name}: one log entry names {id}:\n{ledger}");
                    let verified = fixture
                        .ok(&target.repo, Command::new(BINARY).args(["verify", id, "--format", "json"]));
                    let verified: Value = serde_json::from_str(&verified).unwrap();
                    assert_eq!(verified["failures"], json!([]), "{name}: {verified}");
                }
                Expect::Refused(says) | Expect::Error(says) => {
                    if let Expect::Refused(_) = expect {
                        assert_eq!(result["is_error"], false, "{name}: {result}");
                        assert_eq!(structured["signed"], false, "{name}: {result}");
                        assert_eq!(structured["outcome"]["outcome"], "refused", "{name}: {result}");
                        assert_eq!(
                            structured.get("confirmed_by"),
                            None,
                            "{name}: nobody confirmed: {result}"
                        );
                        let reason = structured["outcome"]["reason"].as_str().unwrap();
                        assert!(reason.contains(says), "{name}: {reason}");
                    } else {
                        assert_eq!(result["is_error"], true, "{name}: {result}");
                        assert!(result["text"].as_str().unwrap().contains(says), "{name}: {result}");
                    }
                    for files in written {
                        assert_eq!(
                            files,
                            &json!([]),
                            "{name}: a refused call wrote under .release/: {result}"
                        );
                    }
                    assert_eq!(ours, Vec::<String>::new(), "{name}: attestation files of {id}");
                    assert_eq!(logged, 0, "{name}: a log entry names {id}:\n{ledger}");
                }
            }
            // Asked only where the person must confirm in the client: elicitation on, a client that can ask,
            // and a transport that may sign at all.
            let asks =
                !target.confirm_client && client != "none" && transport != Transport::Http { token: false };
            assert_eq!(asked.as_array().unwrap().len(), usize::from(asks), "{name}: {result}");
            if asks {
                let question = &asked[0];
                let message = question["message"].as_str().unwrap();
                assert!(
                    message.contains(&format!("`{id}`")) && message.contains("as Priya Shah"),
                    "{name}: {message}"
                );
                let required = question["requested_schema"]["required"].as_array();
                assert!(
                    required.is_some_and(|r| !r.is_empty()),
                    "{name}: a form without a required property: {question}"
                );
            }
        }
        assert_eq!(ledger.lines().count(), signed, "{ledger}");
        if signed == 0 {
            assert!(!target.repo.join(".release/ledger.jsonl").exists());
            assert!(ledger.is_empty(), "{ledger}");
            assert!(!target.repo.join(".release/attestations").exists());
        }
    }
}

#[test]
fn over_stdio_only_a_person_or_the_opted_in_client_signs() {
    replay(Transport::Stdio);
}

#[test]
fn over_http_without_a_token_nothing_is_signed() {
    replay(Transport::Http { token: false });
}

#[test]
fn over_http_with_the_token_only_a_person_or_the_opted_in_client_signs() {
    replay(Transport::Http { token: true });
}

/// The decision log's entries (on its branch, `release-gate-ledger`), one line each, oldest first.
fn log_lines(repo: &Path) -> String {
    let git = |args: &[&str]| {
        let out = crate::support::git_command().arg("-C").arg(repo).args(args).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    git(&["rev-list", "--reverse", "release-gate-ledger", "--"])
        .lines()
        .map(|commit| git(&["cat-file", "blob", &format!("{commit}:entry")]) + "\n")
        .collect()
}
