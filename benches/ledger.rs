//! Benchmark: `release-gate log verify` on logs of 10,000 and 100,000 entries against its floor, a plain
//! loop that checks as many Ed25519 signatures (log verify checks one signed checkpoint per entry), and
//! the latency of `sign` with a local bare remote (fetch, build, push) and without pushing.
//!
//! Run: `cargo bench --bench ledger`. Prints medians and the ratio.

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

use release_gate_core::ledger::history::{Merkle, checkpoint_v2_text};
use release_gate_core::ledger::{Entry, GENESIS, LogEvent, SignEvent, Signer};
use release_gate_core::signing::{CHECKPOINT_NAMESPACE, SigningKey, sha256_hex};

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=Bench", "-c", "user.email=bench@example.com", "-c", "commit.gpgsign=false"])
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn key() -> SigningKey {
    let text =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/signing/test-only-priya-ed25519"))
            .unwrap();
    SigningKey::from_openssh(&text, None).unwrap()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// A repository whose `release-gate-ledger` holds `n` entries as release-gate writes them, made with
/// `git fast-import`. Returns the checkpoint texts (the messages the loop signs).
fn build_log(dir: &Path, key: &SigningKey, n: usize) -> Vec<Vec<u8>> {
    git(dir, &["init", "-q"]);
    std::fs::create_dir_all(dir.join(".release")).unwrap();
    let public = key.public().to_openssh();
    std::fs::write(dir.join(".release/allowed_signers"), format!("\"Priya Shah\" {public}\n")).unwrap();
    let mut import = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = std::io::BufWriter::new(import.stdin.take().unwrap());
    let mut merkle = Merkle::default();
    let mut prev = GENESIS.to_owned();
    let mut texts = Vec::with_capacity(n);
    for seq in 1..=n as u64 {
        let entry = Entry {
            seq,
            prev: prev.clone(),
            event: LogEvent::Sign(SignEvent {
                decision: format!("rel-{seq}"),
                source: format!("rel-{seq}.md"),
                commit: "a".repeat(40),
                statement: sha256_hex(&seq.to_le_bytes()),
                envelope: sha256_hex(&(seq + 1).to_le_bytes()),
                signers: vec![Signer {
                    principals: vec!["Priya Shah".into()],
                    key: key.public().fingerprint(),
                    sshsig: format!("rel-{seq}.statement.json.sig"),
                    sshsig_sha256: sha256_hex(b"sig"),
                }],
            }),
            time: "2026-11-27T14:10:02Z".into(),
        };
        let line = entry.to_line();
        prev = sha256_hex(&line);
        merkle.push(&line);
        let text = checkpoint_v2_text(merkle.size(), &merkle.root());
        let sig = key.sshsig(CHECKPOINT_NAMESPACE, text.as_bytes()).unwrap();
        let message = format!("release-gate log entry {seq}\n");
        write!(stdin, "commit refs/heads/release-gate-ledger\ncommitter release-gate <release-gate@localhost> 1795788602 +0000\n").unwrap();
        write!(stdin, "data {}\n{message}\n", message.len()).unwrap();
        for (name, bytes) in
            [("checkpoint", text.as_bytes()), ("checkpoint.sig", sig.as_bytes()), ("entry", &line[..])]
        {
            write!(stdin, "M 100644 inline {name}\ndata {}\n", bytes.len()).unwrap();
            stdin.write_all(bytes).unwrap();
            stdin.write_all(b"\n").unwrap();
        }
        stdin.write_all(b"\n").unwrap();
        texts.push(text.into_bytes());
    }
    drop(stdin);
    assert!(import.wait().unwrap().success());
    texts
}

fn log_verify(dir: &Path) -> Duration {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_release-gate"))
        .args(["log", "verify", "--ref", "release-gate-ledger"])
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    elapsed
}

fn signature_loop(key: &SigningKey, texts: &[Vec<u8>], sigs: &[[u8; 64]]) -> Duration {
    let public = key.public();
    let start = Instant::now();
    for (text, sig) in texts.iter().zip(sigs) {
        assert!(public.verify_raw(text, sig));
    }
    start.elapsed()
}

fn sign_latency(root: &Path, push: bool) -> Duration {
    let remote = root.join("remote.git");
    let work = root.join("work");
    git(root, &["init", "-q", "--bare", remote.to_str().unwrap()]);
    git(root, &["init", "-q", work.to_str().unwrap()]);
    let key = root.join("key");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/signing/test-only-priya-ed25519"), &key)
        .unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    std::fs::create_dir_all(work.join(".release")).unwrap();
    std::fs::write(
        work.join(".release/allowed_signers"),
        format!("\"Priya Shah\" {}\n", self::key().public().to_openssh()),
    )
    .unwrap();
    let decided =
        (jiff::Timestamp::now() - jiff::SignedDuration::from_mins(1)).round(jiff::Unit::Second).unwrap();
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/signing/decision.md"))
            .unwrap();
    let text = text
        .replace("2026-11-27T14:05:00Z", &decided.to_string())
        .replace("Risk class: high (touches billing)", "Risk class: low");
    const SIGNS: usize = 15;
    for i in 0..SIGNS {
        std::fs::write(work.join(format!("rel-{i}.md")), &text).unwrap();
    }
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "decisions"]);
    git(&work, &["remote", "add", "origin", remote.to_str().unwrap()]);
    let mut times = Vec::new();
    for i in 0..SIGNS {
        let file = format!("rel-{i}.md");
        let mut args = vec!["sign", file.as_str(), "--key", key.to_str().unwrap()];
        if !push {
            args.push("--no-push");
        }
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_release-gate"))
            .args(&args)
            .current_dir(&work)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        times.push(start.elapsed());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    }
    median(times)
}

fn main() {
    let key = key();
    let base = std::env::temp_dir().join(format!("release-gate-bench-ledger-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    for n in [10_000usize, 100_000] {
        let dir = base.join(format!("log-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        let texts = build_log(&dir, &key, n);
        let sigs: Vec<[u8; 64]> = texts.iter().map(|text| key.sign_raw(text)).collect();
        let runs = if n > 10_000 { 3 } else { 5 };
        let verify = median((0..runs).map(|_| log_verify(&dir)).collect());
        let plain = median((0..runs).map(|_| signature_loop(&key, &texts, &sigs)).collect());
        println!(
            "log verify, {n} entries: {:.2} s; plain loop of {n} Ed25519 verifications: {:.2} s; ratio {:.2}x",
            verify.as_secs_f64(),
            plain.as_secs_f64(),
            verify.as_secs_f64() / plain.as_secs_f64()
        );
    }
    for push in [true, false] {
        let dir = base.join(format!("sign-{push}"));
        std::fs::create_dir_all(&dir).unwrap();
        let latency = sign_latency(&dir, push);
        let how = if push { "with a local bare remote (fetch, build, push)" } else { "with --no-push" };
        println!("sign latency {how}: median {:.0} ms", latency.as_secs_f64() * 1000.0);
    }
    let _ = std::fs::remove_dir_all(&base);
}
