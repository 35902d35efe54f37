//! Codex integration with the real Codex CLI: `init --codex`, the skill and AGENTS.md section reaching the
//! model, and scripted tool calls through `mcp__release_gate`, against a fake model server written here.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::support::{GitRepo, TempDir, repo_root};

/// The Codex CLI installed by the test command (pinned in tests/node/package.json).
fn codex_bin() -> PathBuf {
    let dir = std::env::var_os("RELEASE_GATE_NODE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("tests/node"));
    let bin = dir.join("node_modules/.bin/codex");
    assert!(
        bin.exists(),
        "the Codex CLI is not installed at {}: run `bash scripts/test.sh`, which installs the pinned test clients",
        bin.display()
    );
    bin
}

/// What the scripted model answers to each request, in order.
#[derive(Debug, Clone)]
enum Reply {
    /// Call one tool of the release-gate server.
    Call { tool: &'static str, arguments: Value },
    /// Say something and end the turn.
    Say(&'static str),
}

/// A fake Responses API: answers `POST /v1/responses` from a script and keeps every request body.
struct FakeModel {
    port: u16,
    requests: Arc<Mutex<Vec<Value>>>,
}

impl FakeModel {
    fn start(script: Vec<Reply>) -> FakeModel {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            let mut script = script.into_iter().enumerate();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let Some(body) = read_request(&mut stream) else { continue };
                let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                seen.lock().unwrap().push(parsed);
                let reply = script.next();
                let events = match reply {
                    Some((n, Reply::Call { tool, arguments })) => vec![
                        (
                            "response.output_item.done",
                            json!({"type": "response.output_item.done", "item": {
                            "type": "function_call", "call_id": format!("call-{n}"), "namespace": "mcp__release_gate",
                            "name": tool, "arguments": arguments.to_string()}}),
                        ),
                        (
                            "response.completed",
                            json!({"type": "response.completed", "response": {"id": format!("r{n}")}}),
                        ),
                    ],
                    Some((n, Reply::Say(text))) => vec![
                        (
                            "response.output_item.done",
                            json!({"type": "response.output_item.done", "item": {
                            "type": "message", "role": "assistant", "id": format!("m{n}"),
                            "content": [{"type": "output_text", "text": text}]}}),
                        ),
                        (
                            "response.completed",
                            json!({"type": "response.completed", "response": {"id": format!("r{n}")}}),
                        ),
                    ],
                    None => vec![(
                        "response.completed",
                        json!({"type": "response.completed", "response": {"id": "end"}}),
                    )],
                };
                let mut body = String::new();
                for (event, data) in events {
                    body.push_str(&format!("event: {event}\ndata: {data}\n\n"));
                }
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.flush();
            }
        });
        FakeModel { port, requests }
    }

    fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }
}

/// Reads one HTTP request and returns its body (content-length or chunked).
fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = None;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse::<usize>().ok();
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            if size == 0 {
                let mut end = String::new();
                let _ = reader.read_line(&mut end);
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            chunk.truncate(size);
            body.extend(chunk);
        }
    } else {
        body.resize(length.unwrap_or(0), 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some(body)
}

/// A CODEX_HOME that talks to the fake model and trusts the project.
fn codex_home(model_port: u16, project: &Path, extra: &str) -> TempDir {
    let home = TempDir::new("codex-home");
    let config = format!(
        r#"model = "scripted"
model_provider = "fake"
approval_policy = "never"
sandbox_mode = "read-only"
mcp_optional_startup_grace_ms = 20000

[model_providers.fake]
name = "fake"
base_url = "http://127.0.0.1:{model_port}/v1"
wire_api = "responses"
env_key = "FAKE_API_KEY"
request_max_retries = 0
stream_max_retries = 0

[projects."{project}"]
trust_level = "trusted"
{extra}"#,
        project = project.display()
    );
    std::fs::write(home.path().join("config.toml"), config).unwrap();
    home
}

fn codex(home: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(codex_bin())
        .args(args)
        .current_dir(dir)
        .env("CODEX_HOME", home)
        .env("FAKE_API_KEY", "x")
        .env_remove("OPENAI_API_KEY")
        .stdin(Stdio::null())
        .output()
        .expect("the Codex CLI starts")
}

/// A repository set up with `release-gate init --codex`, the server being the binary under test.
fn initialized_repo(name: &str) -> GitRepo {
    let repo = GitRepo::new(name);
    let out = repo.run(&["init", "--codex", "--server-command", env!("CARGO_BIN_EXE_release-gate")]);
    assert_eq!(out.code, 0, "{out:?}");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "release-gate init --codex"]);
    repo
}

#[test]
fn init_codex_sets_up_a_repository_once() {
    let repo = GitRepo::new("init-codex");
    std::fs::write(repo.path().join("AGENTS.md"), "# Contributing\n\nRun `make test`.\n").unwrap();
    std::fs::create_dir_all(repo.path().join(".codex")).unwrap();
    std::fs::write(repo.path().join(".codex/config.toml"), "model = \"o3\"\n").unwrap();
    let first = repo.run(&["init", "--codex"]);
    assert_eq!(first.code, 0, "{first:?}");
    let agents = std::fs::read_to_string(repo.path().join("AGENTS.md")).unwrap();
    assert!(
        agents.starts_with("# Contributing\n\nRun `make test`.\n\n<!-- release-gate:begin -->\n"),
        "{agents}"
    );
    assert!(agents.ends_with("<!-- release-gate:end -->\n"));
    let config: toml::Table =
        toml::from_str(&std::fs::read_to_string(repo.path().join(".codex/config.toml")).unwrap()).unwrap();
    assert_eq!(config["model"].as_str(), Some("o3"));
    assert_eq!(config["mcp_servers"]["release_gate"]["command"].as_str(), Some("release-gate"));
    assert_eq!(config["mcp_servers"]["release_gate"]["tool_timeout_sec"].as_integer(), Some(120));
    assert_eq!(config["mcp_servers"]["release_gate"]["env"]["RELEASE_GATE_SIGNING_KEY"].as_str(), Some(""));
    let skill =
        std::fs::read_to_string(repo.path().join(".agents/skills/release-readiness/SKILL.md")).unwrap();
    assert_eq!(
        skill,
        std::fs::read_to_string(repo_root().join("skills/release-readiness/SKILL.md")).unwrap()
    );
    assert!(repo.path().join(".agents/skills/release-readiness/reference/findings.md").is_file());
    assert!(repo.path().join(".release/allowed_signers").is_file());

    let snapshot = |repo: &GitRepo| {
        let mut files = Vec::new();
        for path in [
            "AGENTS.md",
            ".codex/config.toml",
            ".release/policy.toml",
            ".release/allowed_signers",
            ".agents/skills/release-readiness/SKILL.md",
            ".agents/skills/release-readiness/reference/findings.md",
        ] {
            files.push(std::fs::read(repo.path().join(path)).unwrap());
        }
        files
    };
    let before = snapshot(&repo);
    let second = repo.run(&["init", "--codex"]);
    assert_eq!(second.code, 0);
    assert!(!second.stdout.contains("created") && !second.stdout.contains("updated"), "{}", second.stdout);
    assert_eq!(snapshot(&repo), before, "running init twice changes nothing");

    // The section is replaced in place when it changes; the rest of AGENTS.md stays.
    let edited =
        std::fs::read_to_string(repo.path().join("AGENTS.md")).unwrap().replace("Classify the diff", "OLD");
    std::fs::write(repo.path().join("AGENTS.md"), format!("{edited}\n## More\n\nkeep me\n")).unwrap();
    assert_eq!(repo.run(&["init", "--codex"]).code, 0);
    let agents = std::fs::read_to_string(repo.path().join("AGENTS.md")).unwrap();
    assert!(agents.contains("Classify the diff") && !agents.contains("OLD"));
    assert!(agents.ends_with("## More\n\nkeep me\n"), "{agents}");

    // User configuration instead of the project's: the exact command to run.
    let fresh = GitRepo::new("init-codex-user");
    let out = fresh.run(&["init", "--codex", "--user-config"]);
    assert!(out.stdout.contains("codex mcp add release_gate -- release-gate serve"), "{}", out.stdout);
    assert!(!fresh.path().join(".codex/config.toml").exists());
}

#[test]
fn this_repository_shows_the_review_section_it_installs() {
    let repo = GitRepo::new("agents-example");
    assert_eq!(repo.run(&["init", "--codex"]).code, 0);
    let installed = std::fs::read_to_string(repo.path().join("AGENTS.md")).unwrap();
    let begin = installed.find("<!-- release-gate:begin -->").unwrap();
    let section = &installed[begin..];
    let ours = std::fs::read_to_string(repo_root().join("AGENTS.md")).unwrap();
    assert!(
        ours.contains(section),
        "AGENTS.md's example differs from what `init --codex` writes:\n{section}"
    );
}

#[test]
fn codex_lists_the_server_after_init() {
    let repo = initialized_repo("codex-mcp-list");
    let home = codex_home(1, repo.path(), "");
    let list = codex(home.path(), repo.path(), &["mcp", "list", "--json"]);
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    let servers: Value = serde_json::from_slice(&list.stdout).unwrap();
    let server = servers.as_array().unwrap().iter().find(|s| s["name"] == "release_gate").expect("listed");
    assert_eq!(server["transport"]["command"], env!("CARGO_BIN_EXE_release-gate"));
    assert_eq!(server["transport"]["args"], json!(["serve"]));
    let get = codex(home.path(), repo.path(), &["mcp", "get", "release_gate", "--json"]);
    assert!(get.status.success(), "{}", String::from_utf8_lossy(&get.stderr));
    let server: Value = serde_json::from_slice(&get.stdout).unwrap();
    assert_eq!(server["enabled"], true);
}

/// The tool's result in the `function_call_output` for a call, as Codex passes it to the model
/// (`Wall time: ...\nOutput:\n<structured content as JSON>`).
fn tool_output(request: &Value, call_id: &str) -> Option<String> {
    let text = request["input"].as_array()?.iter().find_map(|item| {
        (item["type"] == "function_call_output" && item["call_id"] == call_id).then(
            || match &item["output"] {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            },
        )
    })?;
    Some(text.split_once("Output:\n").map_or(text.clone(), |(_, output)| output.to_owned()))
}

#[test]
fn codex_drives_release_gate_through_mcp() {
    let repo = initialized_repo("codex-e2e");
    repo.commit(&[("src/search/index.rs", "fn index() {}\n")], "search index");
    let decision = std::fs::read_to_string(repo_root().join("examples/release-decision.md")).unwrap();
    let model = FakeModel::start(vec![
        Reply::Call {
            tool: "validate_decision",
            arguments: json!({"content": decision, "now": "2026-11-28T12:00:00Z"}),
        },
        Reply::Call {
            tool: "validate_decision",
            arguments: json!({"content": "### Release Decision\n- Risk class: high\n"}),
        },
        Reply::Call {
            tool: "draft_decision",
            arguments: json!({"scope": "search", "risk_class": "medium", "actor": "codex for Dana", "id": "rel-9", "base": "v1"}),
        },
        Reply::Call { tool: "validate_decision", arguments: json!({"id": "rel-9"}) },
        Reply::Say("The example decision passes; the draft has errors."),
    ]);
    let home = codex_home(model.port, repo.path(), "");
    let last = home.path().join("last-message.txt");
    let out = codex(
        home.path(),
        repo.path(),
        &[
            "exec",
            "--skip-git-repo-check",
            "--ephemeral",
            "--json",
            "-o",
            last.to_str().unwrap(),
            "Check whether the release is ready.",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "codex failed:\n{stdout}\n{stderr}");
    let requests = model.requests();
    assert_eq!(requests.len(), 5, "{stdout}\n{stderr}");

    // The skill's name and description and the AGENTS.md section reach the model.
    let first = requests[0].to_string();
    assert!(first.contains("release-readiness"), "the skill's name is not in the model's input");
    assert!(first.contains("Use when preparing, reviewing or deciding a production release"));
    assert!(
        first.contains("Release readiness (release-gate)"),
        "the AGENTS.md section is not in the model's input"
    );
    // The namespace lists the server's tools.
    let tools = requests[0]["tools"].to_string();
    assert!(tools.contains("mcp__release_gate"), "{tools}");
    for tool in ["validate_decision", "draft_decision", "decision_status", "sign_decision", "verify_decision"]
    {
        assert!(tools.contains(tool), "{tool} missing from {tools}");
    }

    // The tool results come back to the model as structured JSON.
    let pass: Value =
        serde_json::from_str(&tool_output(&requests[1], "call-0").expect("output of call-0")).unwrap();
    assert_eq!(pass["verdict"], "pass");
    assert_eq!(pass["risk_class"], "high");
    let fail: Value =
        serde_json::from_str(&tool_output(&requests[2], "call-1").expect("output of call-1")).unwrap();
    assert_eq!(fail["verdict"], "fail");
    assert!(fail["findings"].as_array().unwrap().iter().any(|f| f["code"] == "scope-missing"));
    // A scripted draft, then its validation, through the same tools.
    let drafted: Value =
        serde_json::from_str(&tool_output(&requests[3], "call-2").expect("output of call-2")).unwrap();
    assert_eq!(drafted["id"], "rel-9", "{drafted}");
    let stored = std::fs::read_to_string(repo.path().join(".release/decisions/rel-9.json")).unwrap();
    assert!(stored.contains("codex for Dana"), "the actor is in the history");
    let draft: Value =
        serde_json::from_str(&tool_output(&requests[4], "call-3").expect("output of call-3")).unwrap();
    assert_eq!(draft["verdict"], "fail");
    assert_eq!(draft["risk_class"], "medium");
    assert!(draft["findings"].as_array().unwrap().iter().any(|f| f["code"] == "decision-missing"), "{draft}");
    assert_eq!(
        std::fs::read_to_string(&last).unwrap().trim(),
        "The example decision passes; the draft has errors."
    );
}

/// A repository with a medium-risk decision `rel-1` that Priya decided GO, and Priya's signing key.
/// A repository with a medium-risk decision ready for its call, not yet decided.
fn ready_repo(name: &str) -> GitRepo {
    let repo = initialized_repo(name);
    repo.commit(&[("src/search/index.rs", "fn index() {}\n")], "search index");
    for args in [
        vec!["draft", "--scope", "search", "--risk", "medium", "--id", "rel-1"],
        vec!["gate", "rel-1", "code", "pass", "--evidence", "CI #7"],
        vec!["gate", "rel-1", "review", "pass", "--evidence", "PR #3"],
        vec!["set", "rel-1", "residual-risks", "none"],
        vec!["set", "rel-1", "rollback-trigger", "search error rate > 1% for 5 minutes"],
        vec!["set", "rel-1", "rollback-owner", "Lee Park"],
        vec!["set", "rel-1", "decision-owner", "Priya Shah"],
    ] {
        let out = repo.run(&args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
    }
    repo
}

#[test]
fn headless_codex_records_a_go_only_when_the_person_confirmed_it() {
    let repo = ready_repo("codex-decide");
    let record = || -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(repo.path().join(".release/decisions/rel-1.json")).unwrap(),
        )
        .unwrap()
    };
    let call = json!({"id": "rel-1", "call": "GO", "owner": "Priya Shah", "actor": "codex for Priya Shah"});
    let approve = "\n[mcp_servers.release_gate.tools.decide]\napproval_mode = \"approve\"\n";
    // Pre-approved in Codex, but the server asks the person, which headless Codex declines: nothing recorded.
    let (requests, stdout) = codex_calls(&repo, approve, "decide", call.clone());
    let output = tool_output(&requests[1], "call-0").unwrap_or_else(|| panic!("no output: {stdout}"));
    assert!(output.contains("RELEASE_GATE_CONFIRM"), "{output}");
    assert_eq!(record()["decision"], Value::Null, "a GO nobody confirmed was recorded");
    // The person opted in for headless runs: the client's approval is the confirmation, and it is recorded.
    let env = "env = { RELEASE_GATE_CONFIRM = \"client\" }\n";
    let (requests, stdout) = codex_calls(&repo, &format!("{env}{approve}"), "decide", call);
    let output = tool_output(&requests[1], "call-0").unwrap_or_else(|| panic!("no output: {stdout}"));
    let result: Value = serde_json::from_str(&output).unwrap_or_else(|e| panic!("{e}: {output}"));
    assert_eq!(result["recorded"], true, "{result}");
    let stored = record();
    assert_eq!(stored["decision"], "GO");
    let decided = stored["history"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["change"]["type"] == "decided")
        .unwrap();
    assert_eq!(decided["confirmed"]["how"], "client-approval", "{decided}");
}

#[test]
fn a_code_gate_longer_than_the_tool_timeout_finishes_through_run_status() {
    let repo = initialized_repo("codex-long-run");
    repo.commit(
        &[(".release/policy.toml", "[[code_gates]]\nname = \"slow suite\"\ncommand = [\"sleep\", \"5\"]\n")],
        "a test suite slower than the client waits",
    );
    // Codex gives up on a tool call after 3 s here; the server answers a run tool after 1 s with a handle.
    let config_path = repo.path().join(".codex/config.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let config = config
        .lines()
        .map(|line| match line {
            _ if line.starts_with("tool_timeout_sec") => "tool_timeout_sec = 3".to_owned(),
            _ if line.starts_with("env = ") => "env = { RELEASE_GATE_RUN_WAIT_MS = \"1000\" }".to_owned(),
            _ => line.to_owned(),
        })
        .map(|line| format!("{line}\n"))
        .collect::<String>();
    std::fs::write(&config_path, config).unwrap();
    repo.git(&["commit", "-q", "-am", "client waits 3 s"]);
    assert_eq!(repo.run(&["draft", "--scope", "search", "--risk", "low", "--id", "rel-1"]).code, 0);

    let handle = "run-1-run_code_gates-rel-1";
    let mut script =
        vec![Reply::Call { tool: "run_code_gates", arguments: json!({"id": "rel-1", "actor": "codex"}) }];
    script.extend((0..10).map(|_| Reply::Call { tool: "run_status", arguments: json!({"run": handle}) }));
    script.push(Reply::Say("done"));
    let model = FakeModel::start(script);
    let home = codex_home(model.port, repo.path(), "");
    let out = codex(
        home.path(),
        repo.path(),
        &["exec", "--skip-git-repo-check", "--ephemeral", "--json", "Run the code gate of release rel-1."],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "codex failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let requests = model.requests();
    let first = tool_output(&requests[1], "call-0").expect("run_code_gates answered");
    assert!(first.contains(handle), "the run tool answered with a handle: {first}");
    let outputs: Vec<String> = (1..=10)
        .filter_map(|n| requests.get(n + 1).and_then(|r| tool_output(r, &format!("call-{n}"))))
        .collect();
    assert!(!outputs.iter().any(|o| o.contains("timed out")), "a call timed out: {outputs:?}");
    assert!(outputs.iter().any(|o| o.contains("\"done\"")), "the run never finished: {outputs:?}");
    let stored: Value = serde_json::from_str(
        &std::fs::read_to_string(repo.path().join(".release/decisions/rel-1.json")).unwrap(),
    )
    .unwrap();
    assert!(stored["gates"]["code"].as_str().unwrap().starts_with("pass"), "{}", stored["gates"]);
}

fn decided_repo(name: &str) -> (GitRepo, TempDir, PathBuf) {
    let repo = ready_repo(name);
    let out = repo.run(&["decide", "rel-1", "--go", "--owner", "Priya Shah"]);
    assert_eq!(out.code, 0, "{out:?}");
    let keys = TempDir::new("codex-keys");
    let key = keys.path().join("priya_ed25519");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "priya", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let public: Vec<&str> = public.split_whitespace().take(2).collect();
    std::fs::write(
        repo.path().join(".release/allowed_signers"),
        format!("\"Priya Shah\" namespaces=\"release-gate,release-gate-checkpoint\" {}\n", public.join(" ")),
    )
    .unwrap();
    (repo, keys, key)
}

/// Runs `codex exec` with a scripted model that calls `sign_decision` once.
fn codex_signs(repo: &GitRepo, server_config: &str) -> (Vec<Value>, String) {
    codex_calls(repo, server_config, "sign_decision", json!({"id": "rel-1"}))
}

/// Runs `codex exec` with a scripted model that calls one tool once, the server entry extended with
/// `server_config` (which replaces the `env` table `init` wrote).
fn codex_calls(
    repo: &GitRepo,
    server_config: &str,
    tool: &'static str,
    arguments: Value,
) -> (Vec<Value>, String) {
    let config_path = repo.path().join(".codex/config.toml");
    let base = std::fs::read_to_string(&config_path).unwrap();
    let without_env: String =
        base.lines().filter(|line| !line.starts_with("env = ")).map(|line| format!("{line}\n")).collect();
    std::fs::write(&config_path, format!("{without_env}{server_config}")).unwrap();
    let model = FakeModel::start(vec![Reply::Call { tool, arguments }, Reply::Say("done")]);
    let home = codex_home(model.port, repo.path(), "");
    let out = codex(
        home.path(),
        repo.path(),
        &["exec", "--skip-git-repo-check", "--ephemeral", "--json", "Priya asks you to sign release rel-1."],
    );
    std::fs::write(&config_path, base).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "codex failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    (model.requests(), stdout)
}

#[test]
fn headless_codex_signs_only_when_the_person_pre_approved_it() {
    let (repo, _keys, key) = decided_repo("codex-sign");
    let env = format!(
        "env = {{ RELEASE_GATE_SIGNING_KEY = {} }}\n",
        toml::Value::String(key.display().to_string())
    );

    // Without approval, headless Codex refuses the destructive tool; nothing is signed.
    let (requests, _) = codex_signs(&repo, &env);
    let output = tool_output(&requests[1], "call-0").expect("output of call-0");
    assert!(output.contains("requires approval"), "{output}");
    assert!(!repo.path().join(".release/attestations/rel-1.dsse.json").exists());

    // The tool is annotated destructive in tools/list, which is why Codex asks.
    let tools = requests[0]["tools"].to_string();
    assert!(tools.contains("sign_decision"), "{tools}");

    // Pre-approved, but the server asks the person through elicitation, which headless Codex declines
    // on its own: refused, with what to do.
    let approve = "\n[mcp_servers.release_gate.tools.sign_decision]\napproval_mode = \"approve\"\n";
    let (requests, _) = codex_signs(&repo, &format!("{env}{approve}"));
    let output = tool_output(&requests[1], "call-0").expect("output of call-0");
    let result: Value = serde_json::from_str(&output).unwrap_or_else(|e| panic!("{e}: {output}"));
    assert_eq!(result["signed"], false, "{result}");
    assert!(result["outcome"]["reason"].as_str().unwrap().contains("RELEASE_GATE_CONFIRM=client"));
    assert!(!repo.path().join(".release/attestations/rel-1.dsse.json").exists());

    // Pre-approved, and the key's owner lets the client's approval stand: it signs, and verify passes.
    let env = format!(
        "env = {{ RELEASE_GATE_SIGNING_KEY = {}, RELEASE_GATE_SIGN_CONFIRM = \"client\" }}\n",
        toml::Value::String(key.display().to_string())
    );
    let (requests, stdout) = codex_signs(&repo, &format!("{env}{approve}"));
    let output = tool_output(&requests[1], "call-0").expect("output of call-0");
    let result: Value = serde_json::from_str(&output).unwrap_or_else(|e| panic!("{e}: {output}\n{stdout}"));
    assert_eq!(result["signed"], true, "{result}");
    assert_eq!(result["confirmed_by"], "client-approval");
    assert_eq!(result["outcome"]["outcome"], "signed");
    assert_eq!(result["outcome"]["roles"], json!(["Priya Shah"]));
    let verify = repo.run(&["verify", "rel-1", "--format", "json"]);
    assert_eq!(verify.code, 0, "{verify:?}");
}
