//! Running the commands a policy names: no shell, a timeout, output captured and digested, and the
//! whole process group killed when the time is up or the run is cancelled, so nothing is left running.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use release_gate_core::history::CheckResult;
use release_gate_core::policy::Check;
use sha2::{Digest, Sha256};

/// How much of a check's output is kept as its tail.
const TAIL_BYTES: usize = 4096;
const TAIL_LINES: usize = 40;

/// A run's cancellation signal, shared between the run and whoever may stop it (an MCP client's
/// `notifications/cancelled`, a client that went away, a person's cancel). Clones share the signal.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A signal nobody has raised yet.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks the run to stop: the running check's process group is killed and nothing is recorded.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps for `duration` unless cancelled first; true when cancelled.
    pub fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        while !self.is_cancelled() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            std::thread::sleep(left.min(POLL));
        }
        true
    }
}

/// How often a running check is looked at (exit, timeout, cancellation, progress).
const POLL: Duration = Duration::from_millis(25);

/// What a cancelled check says in its `error`; the operations record nothing for a cancelled run.
pub const CANCELLED: &str = "cancelled";

/// Runs one check in `dir`, calling `tick` with the elapsed time while it runs. When `cancel` is raised
/// the check's whole process group is killed at once and the result says `cancelled`.
pub fn run_check(check: &Check, dir: &Path, tick: &mut dyn FnMut(Duration), cancel: &Cancel) -> CheckResult {
    let started = Instant::now();
    let failed_to_start = |error: String| CheckResult {
        name: check.name.clone(),
        command: check.command.clone(),
        exit_code: None,
        timed_out: false,
        error: Some(error),
        duration_ms: 0,
        output_tail: String::new(),
        output_digest: format!("sha256:{}", crate::git::hex(&Sha256::digest(b""))),
        passed: false,
    };
    let Some((program, args)) = check.command.split_first() else {
        return failed_to_start("the command is empty".into());
    };
    let (reader, writer) = match std::io::pipe() {
        Ok(pipe) => pipe,
        Err(error) => return failed_to_start(format!("cannot create a pipe: {error}")),
    };
    let writer_for_stderr = match writer.try_clone() {
        Ok(clone) => clone,
        Err(error) => return failed_to_start(format!("cannot create a pipe: {error}")),
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer_for_stderr)
        // Its own process group, so a timeout kills everything it started.
        .process_group(0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => return failed_to_start(format!("cannot start `{program}`: {error}")),
    };
    // The parent's copies of the pipe's write end went into `command`; drop them so EOF can come.
    drop(command);
    let group = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap_or(0));
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(collect(reader));
    });

    let timeout = check.timeout.unsigned_abs();
    let mut timed_out = false;
    let mut cancelled = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(_) => break None,
        }
        let elapsed = started.elapsed();
        if elapsed >= timeout {
            timed_out = true;
            kill_group(group);
            break child.wait().ok();
        }
        if cancel.is_cancelled() {
            cancelled = true;
            kill_group(group);
            break child.wait().ok();
        }
        tick(elapsed);
        std::thread::sleep(POLL);
    };
    // Whatever the check left behind in its group goes too.
    kill_group(group);
    let duration = started.elapsed();
    let (digest, tail) = done_rx.recv_timeout(Duration::from_secs(5)).unwrap_or_else(|_| {
        (Sha256::new(), b"(output not collected: a process outside the check's group kept it open)".to_vec())
    });
    let exit_code = status.and_then(|status| status.code());
    CheckResult {
        name: check.name.clone(),
        command: check.command.clone(),
        exit_code,
        timed_out,
        error: cancelled.then(|| CANCELLED.to_owned()),
        duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        output_tail: tail_text(&tail),
        output_digest: format!("sha256:{}", crate::git::hex(&digest.finalize())),
        passed: !timed_out && !cancelled && exit_code == Some(0),
    }
}

fn kill_group(group: Option<rustix::process::Pid>) {
    if let Some(group) = group {
        // Already gone is fine.
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
}

/// Reads everything, hashing it all and keeping the last bytes.
fn collect(mut reader: std::io::PipeReader) -> (Sha256, Vec<u8>) {
    let mut digest = Sha256::new();
    let mut tail: Vec<u8> = Vec::with_capacity(TAIL_BYTES * 2);
    let mut buffer = [0u8; 8192];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let chunk = buffer.get(..n).unwrap_or_default();
                digest.update(chunk);
                tail.extend_from_slice(chunk);
                if tail.len() > TAIL_BYTES * 2 {
                    let excess = tail.len() - TAIL_BYTES;
                    tail.drain(..excess);
                }
            }
        }
    }
    (digest, tail)
}

fn tail_text(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(TAIL_BYTES);
    let text = String::from_utf8_lossy(bytes.get(start..).unwrap_or_default()).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let keep = lines.len().saturating_sub(TAIL_LINES);
    lines.get(keep..).unwrap_or_default().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(command: &[&str], timeout_ms: i64) -> Check {
        Check {
            name: "t".into(),
            command: command.iter().map(|s| (*s).to_owned()).collect(),
            timeout: jiff::SignedDuration::from_millis(timeout_ms),
        }
    }

    #[test]
    fn pass_fail_output_and_digest() {
        let dir = std::env::temp_dir();
        let ok = run_check(
            &check(&["sh", "-c", "echo out; echo err >&2"], 10_000),
            &dir,
            &mut |_| {},
            &Cancel::new(),
        );
        assert!(ok.passed, "{ok:?}");
        assert_eq!(ok.exit_code, Some(0));
        assert!(ok.output_tail.contains("out") && ok.output_tail.contains("err"), "{ok:?}");
        let bad = run_check(&check(&["sh", "-c", "exit 3"], 10_000), &dir, &mut |_| {}, &Cancel::new());
        assert!(!bad.passed);
        assert_eq!(bad.exit_code, Some(3));
        let missing = run_check(&check(&["no-such-program-here"], 10_000), &dir, &mut |_| {}, &Cancel::new());
        assert!(!missing.passed);
        assert!(missing.error.unwrap().contains("cannot start"));
    }

    /// Whether a process is still running (not gone, not a zombie waiting to be reaped).
    fn alive(pid: &str) -> bool {
        match crate::fs::read_limited(std::path::Path::new(&format!("/proc/{pid}/stat"))) {
            Ok(stat) => {
                !String::from_utf8_lossy(&stat).rsplit(')').next().unwrap_or("").trim_start().starts_with('Z')
            }
            Err(_) => false,
        }
    }

    #[test]
    fn a_hanging_check_is_killed_with_everything_it_started() {
        let dir = std::env::temp_dir().join(format!("release-gate-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let started = Instant::now();
        let result = run_check(
            &check(&["sh", "-c", "sleep 300 & echo $! > child.pid; echo started; sleep 300"], 500),
            &dir,
            &mut |_| {},
            &Cancel::new(),
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(result.timed_out && !result.passed, "{result:?}");
        assert_eq!(result.output_tail, "started");
        let pid = std::fs::read_to_string(dir.join("child.pid")).unwrap().trim().to_owned();
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(&pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(&pid), "the check's background child {pid} is still running");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_cancelled_check_is_killed_with_everything_it_started() {
        let dir = std::env::temp_dir().join(format!("release-gate-cancel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cancel = Cancel::new();
        let from_outside = cancel.clone();
        let mut ticks = 0;
        let result = run_check(
            &check(&["sh", "-c", "sleep 300 & echo $! > child.pid; sleep 300"], 600_000),
            &dir,
            &mut |_| {
                ticks += 1;
                // Once the background child has written its pid, cancel from "another thread's" handle.
                if dir.join("child.pid").exists() {
                    from_outside.cancel();
                }
            },
            &cancel,
        );
        assert!(ticks > 0);
        assert!(!result.passed && !result.timed_out, "{result:?}");
        assert_eq!(result.error.as_deref(), Some(CANCELLED), "{result:?}");
        let pid = std::fs::read_to_string(dir.join("child.pid")).unwrap().trim().to_owned();
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(&pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(&pid), "the cancelled check's background child {pid} is still running");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_cancelled_sleep_returns_early() {
        let cancel = Cancel::new();
        assert!(!cancel.sleep(Duration::from_millis(30)));
        cancel.cancel();
        let started = Instant::now();
        assert!(cancel.sleep(Duration::from_secs(300)));
        assert!(started.elapsed() < Duration::from_secs(60));
    }

    #[test]
    fn long_output_keeps_the_tail() {
        let dir = std::env::temp_dir();
        let result =
            run_check(&check(&["sh", "-c", "seq 1 100000"], 20_000), &dir, &mut |_| {}, &Cancel::new());
        assert!(result.passed);
        assert!(result.output_tail.ends_with("100000"), "{}", result.output_tail);
        assert!(result.output_tail.lines().count() <= TAIL_LINES);
        let all: String = (1..=100_000).map(|n| format!("{n}\n")).collect();
        assert_eq!(
            result.output_digest,
            format!("sha256:{}", crate::git::hex(&Sha256::digest(all.as_bytes())))
        );
    }
}
