//! Shared helpers: running the binary and reading test data.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn data(relative: &str) -> PathBuf {
    repo_root().join("tests/data").join(relative)
}

/// A home folder of the suite's own, made once per run.
pub fn home() -> &'static Path {
    static HOME: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    HOME.get_or_init(|| {
        let home = std::env::temp_dir().join(format!("release-gate-it-home-{}", std::process::id()));
        std::fs::create_dir_all(&home).unwrap();
        home
    })
}

/// Keeps a command from the machine's git configuration and home folder: no system or global git config,
/// a temporary HOME. Hostile configuration reaches a test only when the test writes it on purpose.
pub fn hermetic(command: &mut Command) -> &mut Command {
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", home())
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
}

/// The real binary, with a clean environment for colors and git.
pub fn release_gate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_release-gate"));
    command.env_remove("CLICOLOR_FORCE").env("NO_COLOR", "1");
    hermetic(&mut command);
    command
}

/// git, kept from the machine's configuration.
pub fn git_command() -> Command {
    let mut command = Command::new("git");
    hermetic(&mut command);
    command
}

/// The pinned Python with the MCP SDK and securesystemslib (`scripts/test.sh` makes it).
pub fn python() -> PathBuf {
    let path = std::env::var_os("RELEASE_GATE_PYTHON")
        .map_or_else(|| repo_root().join(".venv/bin/python"), PathBuf::from);
    assert!(
        path.exists(),
        "the pinned Python is not installed at {}: run `bash scripts/test.sh`, which makes .venv from \
         tests/requirements.txt",
        path.display()
    );
    path
}

/// `release-gate serve --http 127.0.0.1:0` on a root, stopped on drop; the address comes from its first
/// stderr line.
pub struct HttpServer {
    child: std::process::Child,
    pub url: String,
}

impl HttpServer {
    pub fn start(root: &Path, env: &[(&str, &str)]) -> HttpServer {
        use std::io::BufRead;
        let mut command = release_gate();
        command.args(["serve", "--http", "127.0.0.1:0", "--root"]).arg(root).stdin(Stdio::null());
        command.stdout(Stdio::null()).stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("serve --http did not say where it listens: {line:?}"))
            .to_owned();
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        HttpServer { child, url }
    }

    /// The server's process id (to read its memory, or lower its limits).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a test reaches the MCP server.
#[derive(Debug, Clone)]
pub enum Transport {
    /// `release-gate serve --root ROOT` on stdin/stdout, started by the client.
    Stdio,
    /// A running `serve --http`, with the bearer token if it needs one.
    Http { url: String, token: Option<String> },
}

/// Makes `calls` (each `{"tool": .., "arguments": ..}` or `{"resource": uri}`) with the Python SDK's client
/// in one session on `root`; one result per call (see `tests/python/tool_calls.py`).
pub fn mcp_calls(root: &Path, transport: &Transport, calls: &[serde_json::Value]) -> Vec<serde_json::Value> {
    mcp_session(root, transport, &[], None, calls)
}

/// [`mcp_calls`] with extra server environment (stdio only) and the person behind the client:
/// `Some((answer, name))` answers the server's questions (`"accept"` or `"decline"`), `None` declares no
/// elicitation at all.
pub fn mcp_session(
    root: &Path,
    transport: &Transport,
    server_env: &[(&str, &str)],
    person: Option<(&str, &str)>,
    calls: &[serde_json::Value],
) -> Vec<serde_json::Value> {
    let case = match transport {
        Transport::Stdio => {
            let env: serde_json::Map<String, serde_json::Value> = [
                ("GIT_CONFIG_NOSYSTEM", "1".to_owned()),
                ("GIT_CONFIG_GLOBAL", "/dev/null".to_owned()),
                ("HOME", home().display().to_string()),
                ("PATH", std::env::var("PATH").unwrap_or_default()),
            ]
            .into_iter()
            .chain(server_env.iter().map(|(k, v)| (*k, (*v).to_owned())))
            .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v)))
            .collect();
            serde_json::json!({"transport": "stdio", "command": env!("CARGO_BIN_EXE_release-gate"),
                "args": ["serve", "--root", root], "env": env, "calls": calls})
        }
        Transport::Http { url, token } => {
            serde_json::json!({"transport": "http", "url": url, "token": token, "calls": calls})
        }
    };
    let mut case = case;
    if let Some((answer, name)) = person {
        case["person"] = serde_json::json!({"answer": answer, "name": name});
    }
    let dir = TempDir::new("mcp-calls");
    let file = dir.path().join("case.json");
    std::fs::write(&file, case.to_string()).unwrap();
    let output = Command::new(python())
        .arg(repo_root().join("tests/python/tool_calls.py"))
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the MCP client failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The result of one run: exit code, stdout, stderr.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().expect("the binary was killed by a signal"),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// Runs with the given arguments in `dir` (the repository root when `None`).
pub fn run_in(dir: Option<&Path>, args: &[&str]) -> Run {
    let mut command = release_gate();
    command.args(args).current_dir(dir.unwrap_or(repo_root())).stdin(Stdio::null());
    command.output().expect("the binary runs").into()
}

/// The binary started in `dir` with its output captured, to wait for with [`wait_limited`].
pub fn spawn_in(dir: &Path, args: &[&str]) -> std::process::Child {
    release_gate()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// Waits for a child at most `limit`, then kills it and fails the test: a hang fails one test, not the
/// suite.
pub fn wait_limited(mut child: std::process::Child, limit: std::time::Duration) -> Run {
    let started = std::time::Instant::now();
    while child.try_wait().expect("the child can be waited for").is_none() {
        if started.elapsed() > limit {
            let pid = child.id();
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {pid} still ran after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.wait_with_output().expect("the child's output can be read").into()
}

pub fn run(args: &[&str]) -> Run {
    run_in(None, args)
}

/// Runs with `input` on stdin.
pub fn run_stdin(args: &[&str], input: &[u8]) -> Run {
    use std::io::Write;
    let mut child = release_gate()
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().unwrap();
    // The binary may stop reading early (size limit); a broken pipe here is expected then.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().unwrap().into()
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("release-gate-it-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
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

/// A real git repository in a temporary folder.
pub struct GitRepo {
    dir: TempDir,
}

impl GitRepo {
    /// A repository with one commit, tagged `v1` (the "last release").
    pub fn new(name: &str) -> GitRepo {
        let repo = GitRepo { dir: TempDir::new(name) };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Rel Eng"]);
        repo.git(&["config", "user.email", "releng@example.com"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo.commit(&[("src/lib.rs", "fn main() {}\n")], "initial");
        repo.git(&["tag", "v1"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git and returns its trimmed stdout; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let output = git_command().arg("-C").arg(self.path()).args(args).output().unwrap();
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// Writes files and commits them; returns the new commit id.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, content) in files {
            let full = self.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Runs release-gate in the repository.
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(Some(self.path()), args)
    }

    /// Runs release-gate and parses its JSON stdout.
    pub fn json(&self, args: &[&str]) -> (i32, serde_json::Value) {
        let out = self.run(args);
        let value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
        (out.code, value)
    }
}
