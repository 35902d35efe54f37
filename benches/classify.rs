//! Benchmark: `release-gate classify` on a 100,000-file monorepo diff, against its floor, `git diff
//! --name-only` on the same diff (classify has to ask git for the same list, then match every path).
//!
//! Run: `cargo bench --bench classify`. Prints medians of several runs and the ratio.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FILES: usize = 100_000;
const RUNS: usize = 7;

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git").arg("-C").arg(dir).args(args).output().expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A monorepo-like path: services, libraries, docs, a few auth and migration folders.
fn path(n: usize) -> String {
    let service = n % 400;
    match n % 50 {
        0 => format!("services/svc{service}/auth/handler_{n}.rs"),
        1 => format!("db/migrations/{n:06}_change.sql"),
        2..=6 => format!("docs/svc{service}/page_{n}.md"),
        _ => format!("services/svc{service}/src/module_{}/file_{n}.rs", n % 37),
    }
}

/// Builds base (one file) and head (base plus 100,000 files) with `git fast-import`.
fn build_repo(dir: &Path) -> (String, String) {
    git(dir, &["init", "-q", "-b", "main"]);
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import runs");
    let mut stream = std::io::BufWriter::new(child.stdin.take().expect("stdin"));
    let author = "committer Bench <bench@example.com> 1700000000 +0000\n";
    write!(stream, "blob\nmark :1\ndata 6\nhello\n").unwrap();
    write!(stream, "commit refs/heads/main\nmark :2\n{author}data 4\nbase\nM 100644 :1 README.md\n\n")
        .unwrap();
    write!(stream, "commit refs/heads/main\nmark :3\n{author}data 4\nhead\nfrom :2\n").unwrap();
    for n in 0..FILES {
        let content = format!("file {n}\n");
        write!(stream, "M 100644 inline {}\ndata {}\n{content}", path(n), content.len()).unwrap();
    }
    writeln!(stream).unwrap();
    drop(stream);
    assert!(child.wait().unwrap().success());
    (git(dir, &["rev-parse", "main~1"]), git(dir, &["rev-parse", "main"]))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time(dir: &Path, program: &str, args: &[&str]) -> Duration {
    let times = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let status = Command::new(program)
                .args(args)
                .current_dir(dir)
                .stdout(Stdio::null())
                .status()
                .expect("the command runs");
            let elapsed = start.elapsed();
            assert!(status.success(), "{program} {args:?}");
            elapsed
        })
        .collect();
    median(times)
}

fn main() {
    let dir = std::env::temp_dir().join(format!("release-gate-bench-classify-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let started = Instant::now();
    let (base, head) = build_repo(&dir);
    eprintln!("built a {FILES}-file diff in {:.1?}", started.elapsed());

    let floor = time(&dir, "git", &["diff", "--name-only", "-z", &base, &head]);
    let classify = time(
        &dir,
        env!("CARGO_BIN_EXE_release-gate"),
        &["classify", "--base", &base, "--head", &head, "--format", "json"],
    );
    // The matching alone, in process, without git.
    let paths: Vec<String> = (0..FILES).map(path).collect();
    let policy = release_gate_core::Policy::default();
    let in_process = median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                let result = release_gate_core::classify::classify(policy.paths(), &paths);
                assert_eq!(result.files.len(), FILES);
                start.elapsed()
            })
            .collect(),
    );
    println!("classify of a {FILES}-file diff (median of {RUNS} runs):");
    println!("  git diff --name-only (floor)       {:>9.1?}", floor);
    println!("  release-gate classify --format json {:>9.1?}", classify);
    println!("  ratio                               {:>9.2}x", classify.as_secs_f64() / floor.as_secs_f64());
    println!("  path matching alone, in process     {:>9.1?}", in_process);
    let _ = std::fs::remove_dir_all(&dir);
}
