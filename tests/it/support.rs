//! Shared helpers: running the binary and reading test data.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn data(relative: &str) -> PathBuf {
    repo_root().join("tests/data").join(relative)
}

/// The real binary, with a clean environment for colors.
pub fn release_gate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_release-gate"));
    command.env_remove("CLICOLOR_FORCE").env("NO_COLOR", "1");
    command
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
        let output = Command::new("git").arg("-C").arg(self.path()).args(args).output().unwrap();
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
