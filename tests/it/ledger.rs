//! The decision log on its branch, for a team: release branches that sign and merge, clones that sign at
//! once against one bare remote, lost acknowledgements, refusing and unreachable remotes, rewrites (an
//! edited or deleted entry, a merge, a force-pushed rewind, a fork, a shallow clone), an auditor's fresh
//! clone with public tools, signers killed mid-sign, and the migration of a log file.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    Run, TempDir, data, git_command, python, release_gate, repo_root, spawn_in, wait_limited,
};

const PRIYA: &str = "test-only-priya-ed25519";
const LEE: &str = "test-only-lee-ed25519";

/// A bare remote, keys outside every clone, and a seed history every clone starts from.
struct Team {
    temp: TempDir,
    remote: PathBuf,
    keys: PathBuf,
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out: Run = git_command()
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "git {args:?} in {}: {out:?}", dir.display());
    out.stdout.trim().to_owned()
}

fn run(dir: &Path, args: &[&str]) -> Run {
    release_gate().args(args).current_dir(dir).stdin(Stdio::null()).output().unwrap().into()
}

impl Team {
    fn new(name: &str) -> Team {
        let temp = TempDir::new(&format!("ledger-{name}"));
        let remote = temp.path().join("remote.git");
        let keys = temp.path().join("keys");
        std::fs::create_dir_all(&keys).unwrap();
        git(temp.path(), &["init", "-q", "--bare", "-b", "main", remote.to_str().unwrap()]);
        for key in [PRIYA, LEE] {
            let path = keys.join(key);
            std::fs::copy(data(&format!("signing/{key}")), &path).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::fs::copy(data(&format!("signing/{key}.pub")), keys.join(format!("{key}.pub"))).unwrap();
        }
        let team = Team { temp, remote, keys };
        let seed = team.temp.path().join("seed");
        git(team.temp.path(), &["init", "-q", "-b", "main", seed.to_str().unwrap()]);
        std::fs::create_dir_all(seed.join(".release")).unwrap();
        std::fs::write(
            seed.join(".release/allowed_signers"),
            team.signers(&[("Priya Shah", PRIYA), ("Lee Park", LEE)]),
        )
        .unwrap();
        std::fs::write(seed.join("README"), "a product\n").unwrap();
        git(&seed, &["add", "-A"]);
        git(&seed, &["commit", "-q", "-m", "seed"]);
        git(&seed, &["push", "-q", team.remote.to_str().unwrap(), "main"]);
        team
    }

    fn signers(&self, entries: &[(&str, &str)]) -> String {
        entries
            .iter()
            .map(|(principal, key)| {
                let text = std::fs::read_to_string(self.keys.join(format!("{key}.pub"))).unwrap();
                format!("\"{principal}\" {}\n", text.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            })
            .collect()
    }

    fn key(&self, name: &str) -> String {
        self.keys.join(name).display().to_string()
    }

    fn clone(&self, name: &str) -> PathBuf {
        let dir = self.temp.path().join(name);
        git(self.temp.path(), &["clone", "-q", self.remote.to_str().unwrap(), dir.to_str().unwrap()]);
        dir
    }

    /// Commits a low-risk GO decision `<id>.md` (the golden one, decided a minute ago; one signature
    /// makes it verify) and returns the commit.
    fn decision(&self, clone: &Path, id: &str) -> String {
        let decided = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(1);
        let decided = decided.round(jiff::Unit::Second).unwrap().to_string();
        let text = std::fs::read_to_string(data("signing/decision.md")).unwrap();
        let text = text
            .replace("2026-11-27T14:05:00Z", &decided)
            .replace("Risk class: high (touches billing)", "Risk class: low");
        std::fs::write(clone.join(format!("{id}.md")), text).unwrap();
        git(clone, &["add", &format!("{id}.md")]);
        git(clone, &["commit", "-q", "-m", &format!("release candidate {id}")]);
        git(clone, &["rev-parse", "HEAD"])
    }

    fn sign(&self, clone: &Path, id: &str, key: &str, extra: &[&str]) -> Run {
        let file = format!("{id}.md");
        let key = self.key(key);
        let mut args = vec!["sign", file.as_str(), "--key", key.as_str(), "--commit", "HEAD"];
        args.extend_from_slice(extra);
        run(clone, &args)
    }

    /// The remote's log, oldest first: the `decision` of each entry.
    fn remote_decisions(&self) -> Vec<String> {
        log_decisions(&self.remote, "release-gate-ledger")
    }
}

/// The decisions of a log branch's entries, oldest first, read with git alone.
fn log_decisions(dir: &Path, reference: &str) -> Vec<String> {
    let commits = git(dir, &["rev-list", "--reverse", "--first-parent", reference]);
    commits
        .lines()
        .map(|commit| {
            let entry: Value =
                serde_json::from_str(&git(dir, &["cat-file", "blob", &format!("{commit}:entry")])).unwrap();
            entry["decision"].as_str().unwrap_or("(repair)").to_owned()
        })
        .collect()
}

#[track_caller]
fn problem_codes(out: &Run) -> Vec<String> {
    assert_eq!(out.code, 1, "{out:?}");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    report["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn release_branches_sign_and_merge_in_any_order_without_conflict() {
    let team = Team::new("branches");
    let clone = team.clone("work");
    let mut signed = Vec::new();
    for branch in ["rel-a", "rel-b", "rel-c"] {
        git(&clone, &["checkout", "-q", "-b", branch, "main"]);
        let commit = team.decision(&clone, branch);
        let out = team.sign(&clone, branch, PRIYA, &[]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.contains("published"), "{out:?}");
        git(&clone, &["add", ".release"]);
        git(&clone, &["commit", "-q", "-m", &format!("sign {branch}")]);
        signed.push((branch, commit));
    }
    git(&clone, &["checkout", "-q", "main"]);
    for branch in ["rel-c", "rel-a", "rel-b"] {
        // No conflict under .release/: every decision has its own attestation files, the log is elsewhere.
        git(&clone, &["merge", "-q", "--no-edit", branch]);
    }
    assert!(git(&clone, &["status", "--porcelain"]).is_empty());
    for (id, commit) in &signed {
        let out = run(&clone, &["verify", id, "--commit", commit, "--require-published", "--format", "json"]);
        assert_eq!(out.code, 0, "{id}: {out:?}");
    }
    let mut logged = team.remote_decisions();
    logged.sort();
    assert_eq!(logged, ["rel-a", "rel-b", "rel-c"], "each decision exactly once");
    assert_eq!(run(&clone, &["log", "verify"]).code, 0);
}

#[test]
fn clones_signing_at_once_all_land_once_on_a_linear_log() {
    let team = Team::new("clones");
    let clones: Vec<(PathBuf, String)> = (0..6)
        .map(|i| {
            let clone = team.clone(&format!("clone-{i}"));
            let id = format!("rel-{i}");
            team.decision(&clone, &id);
            (clone, id)
        })
        .collect();
    let children: Vec<(String, Child)> = clones
        .iter()
        .map(|(clone, id)| {
            let file = format!("{id}.md");
            let key = team.key(if id.ends_with(['0', '2', '4']) { PRIYA } else { LEE });
            (id.clone(), spawn_in(clone, &["sign", &file, "--key", &key, "--commit", "HEAD"]))
        })
        .collect();
    for (id, child) in children {
        let out = wait_limited(child, Duration::from_secs(120));
        assert_eq!(out.code, 0, "{id}: {out:?}");
        assert!(out.stdout.contains(", published"), "{id}: {out:?}");
    }
    let mut logged = team.remote_decisions();
    assert_eq!(logged.len(), 6, "{logged:?}");
    logged.sort();
    logged.dedup();
    assert_eq!(logged.len(), 6, "a decision was logged twice");
    assert!(git(&team.remote, &["rev-list", "--merges", "release-gate-ledger"]).is_empty());
    for (clone, id) in &clones {
        assert_eq!(run(clone, &["log", "fetch"]).code, 0);
        let out = run(clone, &["verify", id, "--require-published", "--format", "json"]);
        assert_eq!(out.code, 0, "{id}: {out:?}");
    }
    let out = run(&clones[0].0, &["log", "verify", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn a_push_whose_acknowledgement_is_lost_writes_no_duplicate() {
    let team = Team::new("lost-ack");
    // The remote updates its ref, then its receive-pack dies before it can answer: the push "fails".
    let hook = team.remote.join("hooks/reference-transaction");
    std::fs::write(
        &hook,
        "#!/bin/sh\nif [ \"$1\" = committed ] && [ ! -e \"$GIT_DIR/acked\" ]; then touch \"$GIT_DIR/acked\"; kill -9 $PPID; fi\nexit 0\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let clone = team.clone("writer");
    team.decision(&clone, "rel");
    let out = team.sign(&clone, "rel", PRIYA, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(team.remote.join("acked").exists(), "the hook did not cut the acknowledgement");
    assert!(out.stdout.contains(", published"), "the entry found upstream counts as published: {out:?}");
    // Signing again (a person unsure it worked) adds nothing either.
    let out = team.sign(&clone, "rel", PRIYA, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("already signed") && out.stdout.contains("log entry: 1 "), "{out:?}");
    assert_eq!(team.remote_decisions(), ["rel"]);
}

#[test]
fn an_unreachable_remote_keeps_the_entry_local_until_log_push() {
    let team = Team::new("offline");
    let writer = team.clone("writer");
    let other = team.clone("other");
    team.decision(&writer, "rel-w");
    team.decision(&other, "rel-o");
    let away = team.temp.path().join("remote-away.git");
    std::fs::rename(&team.remote, &away).unwrap();
    let out = team.sign(&writer, "rel-w", PRIYA, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("NOT published") && out.stdout.contains("cannot be reached"), "{out:?}");
    let out = run(&writer, &["verify", "rel-w", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("only in this clone"), "{out:?}");
    let out = run(&writer, &["verify", "rel-w", "--require-published", "--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("\"log-entry-unpublished\""), "{out:?}");
    // Meanwhile another clone publishes first: the writer's entry must go on top of it.
    std::fs::rename(&away, &team.remote).unwrap();
    assert_eq!(team.sign(&other, "rel-o", LEE, &[]).code, 0);
    let out = run(&writer, &["log", "push"]);
    assert_eq!(out.code, 2, "moving entries re-signs checkpoints, which needs a key: {out:?}");
    assert!(out.stderr.contains("--key"), "{out:?}");
    let out = run(&writer, &["log", "push", "--key", &team.key(PRIYA)]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(team.remote_decisions(), ["rel-o", "rel-w"]);
    let out = run(&writer, &["verify", "rel-w", "--require-published", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(run(&writer, &["log", "verify"]).code, 0);
}

#[test]
fn a_remote_that_refuses_gets_no_retry_loop_and_a_clear_message() {
    for (hook, script, says) in [
        ("pre-receive", "#!/bin/sh\necho 'this repository is read-only' >&2\nexit 1\n", "read-only"),
        (
            "update",
            "#!/bin/sh\ncase \"$1\" in refs/heads/release-gate-ledger) echo 'protected branch: ask an admin' >&2; exit 1;; esac\nexit 0\n",
            "protected branch",
        ),
    ] {
        let team = Team::new(&format!("refuse-{hook}"));
        let path = team.remote.join("hooks").join(hook);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let clone = team.clone("writer");
        team.decision(&clone, "rel");
        let out = team.sign(&clone, "rel", PRIYA, &[]);
        assert_eq!(out.code, 0, "{hook}: {out:?}");
        assert!(out.stdout.contains("NOT published") && out.stdout.contains("refused"), "{hook}: {out:?}");
        assert!(out.stdout.contains(says) || out.stderr.contains(says), "{hook}: {out:?}");
        let out = run(&clone, &["log", "push"]);
        assert_eq!(out.code, 1, "{hook}: {out:?}");
        assert!(git(&team.remote, &["for-each-ref", "refs/heads/release-gate-ledger"]).is_empty());
        // Once the remote accepts, the kept entry is published.
        std::fs::remove_file(&path).unwrap();
        assert_eq!(run(&clone, &["log", "push"]).code, 0);
        assert_eq!(team.remote_decisions(), ["rel"]);
    }
}

/// Replays commits of a log branch with `change` applied to the entry of the commit at `index` (`None`:
/// dropped), keeping every other commit's tree. Returns the new tip.
fn rewrite(dir: &Path, reference: &str, index: usize, change: Option<&dyn Fn(String) -> String>) -> String {
    let commits: Vec<String> =
        git(dir, &["rev-list", "--reverse", reference]).lines().map(str::to_owned).collect();
    let mut parent: Option<String> = None;
    for (i, commit) in commits.iter().enumerate() {
        let mut tree = git(dir, &["rev-parse", &format!("{commit}^{{tree}}")]);
        if i == index {
            let Some(change) = change else { continue };
            let entry = change(git(dir, &["cat-file", "blob", &format!("{commit}:entry")]));
            let blob = pipe(dir, &["hash-object", "-w", "--stdin"], entry.as_bytes());
            let listing = git(dir, &["ls-tree", &tree]);
            let listing: String = listing
                .lines()
                .map(|line| {
                    if line.ends_with("\tentry") {
                        format!("100644 blob {blob}\tentry\n")
                    } else {
                        format!("{line}\n")
                    }
                })
                .collect();
            tree = pipe(dir, &["mktree"], listing.as_bytes());
        }
        let mut args = vec!["commit-tree".to_owned(), tree, "-m".into(), "rewritten".into()];
        if let Some(parent) = &parent {
            args.extend(["-p".to_owned(), parent.clone()]);
        }
        parent = Some(git(dir, &args.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    parent.unwrap()
}

fn pipe(dir: &Path, args: &[&str], input: &[u8]) -> String {
    use std::io::Write;
    let mut child = git_command()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn rewrites_merges_rewinds_forks_and_shallow_clones_are_caught() {
    let team = Team::new("rewrites");
    let clone = team.clone("writer");
    for id in ["rel-1", "rel-2", "rel-3"] {
        team.decision(&clone, id);
        assert_eq!(team.sign(&clone, id, PRIYA, &[]).code, 0);
    }
    let out = run(&clone, &["log", "checkpoint"]);
    assert_eq!(out.code, 0, "{out:?}");
    let pin = team.temp.path().join("pin.txt");
    std::fs::write(&pin, &out.stdout).unwrap();
    assert!(out.stdout.starts_with("release-gate.dev/ledger/v2\n3\n"), "{out:?}");
    let pin_arg = pin.display().to_string();
    let verify = |reference: &str, extra: &[&str]| {
        let mut args = vec!["log", "verify", "--ref", reference, "--format", "json"];
        args.extend_from_slice(extra);
        run(&clone, &args)
    };
    assert_eq!(verify("release-gate-ledger", &["--since-checkpoint", &pin_arg]).code, 0);

    // An old entry edited, or deleted, in a rewritten history.
    let edited =
        rewrite(&clone, "release-gate-ledger", 1, Some(&|entry: String| entry.replace("rel-2", "rel-9")));
    assert!(problem_codes(&verify(&edited, &[])).contains(&"ledger-entry-rewritten".to_owned()));
    let deleted = rewrite(&clone, "release-gate-ledger", 1, None);
    assert!(problem_codes(&verify(&deleted, &[])).contains(&"ledger-entry-rewritten".to_owned()));

    // A merge commit on the log.
    let tip = git(&clone, &["rev-parse", "release-gate-ledger"]);
    let first = git(&clone, &["rev-list", "--max-parents=0", "release-gate-ledger"]);
    let merge =
        git(&clone, &["commit-tree", &format!("{tip}^{{tree}}"), "-p", &tip, "-p", &first, "-m", "merge"]);
    assert!(problem_codes(&verify(&merge, &[])).contains(&"ledger-not-linear".to_owned()));

    // A force-pushed rewind: a prefix is a valid log, so only a pin catches it, and the writer refuses it.
    let second = git(&clone, &["rev-parse", "release-gate-ledger~1"]);
    git(&team.remote, &["update-ref", "refs/heads/release-gate-ledger", &second]);
    let auditor = team.clone("auditor");
    assert_eq!(run(&auditor, &["log", "verify"]).code, 0, "without a pin a rewind looks like a shorter log");
    let out = run(&auditor, &["log", "verify", "--since-checkpoint", &pin_arg, "--format", "json"]);
    assert_eq!(problem_codes(&out), ["ledger-rolled-back"]);
    let out = run(&clone, &["log", "fetch"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("rewound or rewritten"), "{out:?}");
    team.decision(&clone, "rel-4");
    let out = team.sign(&clone, "rel-4", PRIYA, &[]);
    assert_eq!(out.code, 2, "nothing is built on a rewound remote: {out:?}");

    // A fork: another third entry, signed by a trusted key, differs from the pinned one.
    team.decision(&auditor, "rel-x");
    assert_eq!(team.sign(&auditor, "rel-x", LEE, &[]).code, 0);
    let out = run(&auditor, &["log", "verify", "--since-checkpoint", &pin_arg, "--format", "json"]);
    assert_eq!(problem_codes(&out), ["ledger-forked"]);
    // The same fork by a key the repository does not trust.
    let stranger = team.temp.path().join("keys/stranger");
    let out: Run = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "", "-f"])
        .arg(&stranger)
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{out:?}");
    let trusted = std::fs::read_to_string(auditor.join(".release/allowed_signers")).unwrap();
    let public = std::fs::read_to_string(format!("{}.pub", stranger.display())).unwrap();
    let with_stranger = format!(
        "{trusted}\"Lee Park\" {}\n",
        public.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
    );
    std::fs::write(auditor.join(".release/allowed_signers"), with_stranger).unwrap();
    team.decision(&auditor, "rel-y");
    let out = run(&auditor, &["sign", "rel-y.md", "--key", stranger.to_str().unwrap(), "--no-push"]);
    assert_eq!(out.code, 0, "{out:?}");
    let original = team.temp.path().join("allowed_signers");
    std::fs::write(&original, trusted).unwrap();
    let out = run(
        &auditor,
        &["log", "verify", "--allowed-signers", original.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(problem_codes(&out), ["ledger-checkpoint-invalid"]);

    // A shallow clone is incomplete, never "ok".
    let shallow = team.temp.path().join("shallow");
    let url = format!("file://{}", team.remote.display());
    git(
        team.temp.path(),
        &["clone", "-q", "--depth", "1", "--no-single-branch", &url, shallow.to_str().unwrap()],
    );
    let out = run(&shallow, &["log", "verify", "--format", "json"]);
    assert!(problem_codes(&out).contains(&"ledger-incomplete".to_owned()), "{out:?}");
    let out = run(&shallow, &["log", "checkpoint"]);
    assert_eq!(out.code, 1, "{out:?}");
}

#[test]
fn an_auditor_verifies_a_fresh_clone_with_release_gate_and_with_public_tools() {
    let team = Team::new("auditor");
    let clone = team.clone("writer");
    let commit = team.decision(&clone, "rel");
    for key in [PRIYA, LEE] {
        assert_eq!(team.sign(&clone, "rel", key, &[]).code, 0);
    }
    git(&clone, &["add", ".release"]);
    git(&clone, &["commit", "-q", "-m", "sign rel"]);
    git(&clone, &["push", "-q", "origin", "main"]);

    // A fresh clone, offline from here on: the log is the fetched branch, origin/release-gate-ledger.
    let auditor = team.clone("auditor");
    let out = run(&auditor, &["log", "verify", "--ref", "origin/release-gate-ledger", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["entries"], 2);
    let out = run(&auditor, &["verify", "rel", "--commit", &commit, "--require-published"]);
    assert_eq!(out.code, 0, "{out:?}");

    // With git, sha256sum, jq, ssh-keygen and a few lines of Python.
    let tool = repo_root().join("tests/tools/verify_log_branch.py");
    let out: Run = Command::new(python())
        .arg(&tool)
        .arg("origin/release-gate-ledger")
        .current_dir(&auditor)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("2 entries") && out.stdout.contains("Good \"release-gate-checkpoint\" signature"),
        "{out:?}"
    );
    let shell = repo_root().join("tests/tools/verify_log.sh");
    let out: Run =
        git_command_for(&auditor, "bash", &[shell.to_str().unwrap(), "origin/release-gate-ledger"]);
    assert_eq!(out.code, 0, "{out:?}");
    // The same Python refuses a rewritten log.
    let edited = rewrite(
        &auditor,
        "origin/release-gate-ledger",
        0,
        Some(&|entry: String| entry.replace("\"rel\"", "\"REL\"")),
    );
    let out: Run =
        Command::new(python()).arg(&tool).arg(&edited).current_dir(&auditor).output().unwrap().into();
    assert_eq!(out.code, 1, "{out:?}");
}

fn git_command_for(dir: &Path, program: &str, args: &[&str]) -> Run {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
        .into()
}

#[test]
fn signers_killed_at_any_point_leave_a_log_that_verifies_and_completes() {
    let team = Team::new("killed");
    let clone = team.clone("writer");
    let ids: Vec<String> = (0..16).map(|i| format!("rel-{i}")).collect();
    for id in &ids {
        team.decision(&clone, id);
    }
    let mut reported = Vec::new();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for (i, id) in ids.iter().enumerate() {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        // 0 to 79 ms: a sign with its push takes tens of milliseconds, so kills land in every step.
        let delay = if i % 4 == 3 { 60_000 } else { (state >> 33) % 80 };
        let file = format!("{id}.md");
        let mut child = release_gate()
            .args(["sign", &file, "--key", &team.key(PRIYA), "--commit", "HEAD"])
            .current_dir(&clone)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_millis(delay);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                break child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_micros(500));
        };
        if status.success() {
            reported.push(id.clone());
        }
        // Whatever the kill left, the log verifies: never a broken log, never a wrong "verified".
        let out = run(&clone, &["log", "verify", "--format", "json"]);
        if out.stdout.contains("\"entries\"") {
            assert_eq!(out.code, 0, "after killing {id} at {delay} ms: {out:?}");
        }
    }
    let local = log_decisions(&clone, "release-gate-ledger");
    for id in &reported {
        assert!(local.contains(id), "{id} was reported signed but is not in the log");
    }
    // The next commands complete what the kills left: each decision signed again ends up exactly once.
    for id in &ids {
        let out = team.sign(&clone, id, PRIYA, &[]);
        assert_eq!(out.code, 0, "{id}: {out:?}");
    }
    assert_eq!(run(&clone, &["log", "push"]).code, 0);
    let mut logged = team.remote_decisions();
    assert_eq!(logged.len(), ids.len(), "{logged:?}");
    logged.sort();
    logged.dedup();
    assert_eq!(logged.len(), ids.len(), "a decision was logged twice");
    assert!(
        !reported.is_empty() && reported.len() < ids.len(),
        "the delays should both kill and spare: {reported:?}"
    );
    assert_eq!(run(&clone, &["log", "verify"]).code, 0);
}

/// Turns a clone's log branch into the log file of before (`.release/ledger.jsonl`, a `v1` checkpoint
/// signed with ssh-keygen) and removes the branch: a repository as the previous release left it.
pub fn to_log_file(repo: &Path, key: &Path) -> Vec<u8> {
    let commits = git(repo, &["rev-list", "--reverse", "release-gate-ledger"]);
    let mut bytes = Vec::new();
    let mut last = String::new();
    for commit in commits.lines() {
        let line = git(repo, &["cat-file", "blob", &format!("{commit}:entry")]);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        last = line;
    }
    let n = commits.lines().count();
    let head = release_gate_core::signing::sha256_hex(last.as_bytes());
    std::fs::write(repo.join(".release/ledger.jsonl"), &bytes).unwrap();
    std::fs::write(
        repo.join(".release/ledger.checkpoint"),
        format!("release-gate.dev/ledger/v1\n{n}\n{head}\n"),
    )
    .unwrap();
    let out: Run = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", "release-gate-checkpoint", "-f"])
        .arg(key)
        .arg(repo.join(".release/ledger.checkpoint"))
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{out:?}");
    git(repo, &["update-ref", "-d", "refs/heads/release-gate-ledger"]);
    for remote_ref in git(repo, &["for-each-ref", "--format=%(refname)", "refs/remotes"]).lines() {
        if remote_ref.ends_with("/release-gate-ledger") {
            git(repo, &["update-ref", "-d", remote_ref]);
        }
    }
    bytes
}

#[test]
fn a_log_file_migrates_byte_for_byte_and_its_old_checkpoint_stays_checkable() {
    let team = Team::new("migrate");
    // The previous release's state: the log file on the working branch, nothing on the remote.
    let clone = team.temp.path().join("writer");
    git(team.temp.path(), &["clone", "-q", team.remote.to_str().unwrap(), clone.to_str().unwrap()]);
    git(&clone, &["remote", "rename", "origin", "upstream"]);
    let commit = team.decision(&clone, "rel");
    for key in [PRIYA, LEE] {
        assert_eq!(team.sign(&clone, "rel", key, &[]).code, 0);
    }
    let file = to_log_file(&clone, &team.keys.join(LEE));
    git(&clone, &["remote", "rename", "upstream", "origin"]);
    assert_eq!(run(&clone, &["verify", "rel", "--commit", &commit]).code, 0, "the log file still verifies");
    team.decision(&clone, "rel-2");
    let out = team.sign(&clone, "rel-2", PRIYA, &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("log migrate"), "{out:?}");

    let out = run(&clone, &["log", "migrate", "--key", &team.key(PRIYA)]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("migrated") && out.stdout.contains("published"), "{out:?}");
    let mut migrated = Vec::new();
    for commit in git(&team.remote, &["rev-list", "--reverse", "release-gate-ledger"]).lines() {
        migrated.extend_from_slice(
            git(&team.remote, &["cat-file", "blob", &format!("{commit}:entry")]).as_bytes(),
        );
        migrated.push(b'\n');
    }
    assert_eq!(migrated, file, "the entries are the file's lines, byte for byte");
    let out = run(&clone, &["log", "verify", "--since-checkpoint", ".release/ledger.checkpoint"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("ledger-legacy"), "{out:?}");
    // The old checkpoint and its signature, with OpenSSH as before.
    let out: Run = Command::new("ssh-keygen")
        .args([
            "-Y",
            "verify",
            "-f",
            ".release/allowed_signers",
            "-I",
            "Lee Park",
            "-n",
            "release-gate-checkpoint",
        ])
        .args(["-s", ".release/ledger.checkpoint.sig"])
        .current_dir(&clone)
        .stdin(std::fs::File::open(clone.join(".release/ledger.checkpoint")).unwrap())
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(run(&clone, &["verify", "rel", "--commit", &commit, "--require-published"]).code, 0);
    assert_eq!(team.sign(&clone, "rel-2", PRIYA, &[]).code, 0);
    let out = run(&clone, &["log", "migrate", "--key", &team.key(PRIYA)]);
    assert_eq!(out.code, 2, "a second migration is refused: {out:?}");
    // A log file edited before the migration is refused, not imported.
    let other = team.clone("other");
    std::fs::write(other.join(".release/ledger.jsonl"), b"{\"seq\":1}\n").unwrap();
    git(&other, &["update-ref", "-d", "refs/remotes/origin/release-gate-ledger"]);
    let out = run(&other, &["log", "migrate", "--key", &team.key(PRIYA), "--no-push"]);
    assert_eq!(out.code, 2, "{out:?}");
}

/// The reader asks git for each tree's files by id: trees that are not what release-gate writes (an
/// extra file, the entry executable, a link, a folder, missing, a blob that is not in the repository)
/// are each reported as invalid entries, and reading never hangs or fails.
#[test]
fn entry_commits_with_odd_trees_are_reported_not_read_as_entries() {
    let team = Team::new("odd-trees");
    let clone = team.clone("writer");
    for id in ["rel-1", "rel-2"] {
        team.decision(&clone, id);
        assert_eq!(team.sign(&clone, id, PRIYA, &[]).code, 0);
    }
    let tip = git(&clone, &["rev-parse", "release-gate-ledger"]);
    let parent = git(&clone, &["rev-parse", "release-gate-ledger~1"]);
    let listing = git(&clone, &["ls-tree", &format!("{tip}^{{tree}}")]);
    let line =
        |name: &str| listing.lines().find(|line| line.ends_with(&format!("\t{name}"))).unwrap().to_owned();
    let (checkpoint, signature, entry) = (line("checkpoint"), line("checkpoint.sig"), line("entry"));
    let entry_blob = entry.split_whitespace().nth(2).unwrap().to_owned();
    let subtree = pipe(&clone, &["mktree"], format!("{entry}\n").as_bytes());
    let absent = "0123456789abcdef0123456789abcdef01234567";
    let cases = [
        ("an extra file", format!("{checkpoint}\n{signature}\n{entry}\n100644 blob {entry_blob}\textra\n")),
        ("an executable entry", format!("{checkpoint}\n{signature}\n100755 blob {entry_blob}\tentry\n")),
        ("a link as entry", format!("{checkpoint}\n{signature}\n120000 blob {entry_blob}\tentry\n")),
        ("a folder as entry", format!("{checkpoint}\n{signature}\n040000 tree {subtree}\tentry\n")),
        ("no entry", format!("{checkpoint}\n{signature}\n")),
        (
            "an entry that is not in the repository",
            format!("{checkpoint}\n{signature}\n100644 blob {absent}\tentry\n"),
        ),
    ];
    for (what, listing) in cases {
        let tree = pipe(&clone, &["mktree", "--missing"], listing.as_bytes());
        let commit = git(&clone, &["commit-tree", &tree, "-p", &parent, "-m", what]);
        let out = run(&clone, &["log", "verify", "--ref", &commit, "--format", "json"]);
        let codes = problem_codes(&out);
        assert!(
            codes.contains(&"ledger-entry-invalid".to_owned())
                || codes.contains(&"ledger-incomplete".to_owned()),
            "{what}: {out:?}"
        );
        // The first entry, untouched, still verifies on its own.
        assert_eq!(run(&clone, &["log", "verify", "--ref", &parent]).code, 0, "{what}");
    }
}

/// A damaged object store stops git part way through the log: `log verify` fails with what to do, in
/// bounded time, never "ok" and never "is git installed?".
#[test]
fn a_damaged_object_is_an_error_that_points_at_git_fsck() {
    let team = Team::new("damaged");
    let clone = team.clone("writer");
    for id in ["rel-1", "rel-2"] {
        team.decision(&clone, id);
        assert_eq!(team.sign(&clone, id, PRIYA, &[]).code, 0);
    }
    // The newest entry was written here, as a loose object: replace it with bytes that do not inflate.
    let blob = git(&clone, &["rev-parse", "release-gate-ledger:entry"]);
    let loose = clone.join(".git/objects").join(&blob[..2]).join(&blob[2..]);
    assert!(loose.exists(), "the entry is a loose object");
    let mut permissions = std::fs::metadata(&loose).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o644);
    std::fs::set_permissions(&loose, permissions).unwrap();
    std::fs::write(&loose, b"not a zlib stream").unwrap();
    let out = wait_limited(spawn_in(&clone, &["log", "verify"]), Duration::from_secs(60));
    assert_ne!(out.code, 0, "{out:?}");
    assert!(!out.stdout.starts_with("verified:"), "{out:?}");
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(said.contains("git fsck"), "{out:?}");
    assert!(!said.contains("is git installed"), "{out:?}");
}

/// Thousands of commits whose trees ask git for no file (empty trees, pushed on top of a real entry)
/// never stall the reader: `log verify` answers in bounded time with what is wrong.
#[test]
fn thousands_of_commits_without_files_do_not_stall_the_reader() {
    use std::io::Write as _;
    let team = Team::new("empty-trees");
    let clone = team.clone("writer");
    team.decision(&clone, "rel-1");
    assert_eq!(team.sign(&clone, "rel-1", PRIYA, &[]).code, 0);
    let tip = git(&clone, &["rev-parse", "release-gate-ledger"]);
    let mut import = git_command()
        .args(["fast-import", "--quiet"])
        .current_dir(&clone)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = std::io::BufWriter::new(import.stdin.take().unwrap());
    writeln!(stdin, "reset refs/heads/hostile\nfrom {tip}\n").unwrap();
    for n in 0..5000 {
        let message = format!("empty {n}\n");
        write!(
            stdin,
            "commit refs/heads/hostile\ncommitter x <x@example.com> 1795788602 +0000\ndata {}\n{message}deleteall\n\n",
            message.len()
        )
        .unwrap();
    }
    drop(stdin);
    assert!(import.wait().unwrap().success());
    let out = wait_limited(
        spawn_in(&clone, &["log", "verify", "--ref", "hostile", "--format", "json"]),
        Duration::from_secs(60),
    );
    assert!(problem_codes(&out).contains(&"ledger-entry-invalid".to_owned()), "{out:?}");
}

/// Peak resident memory of a child, polled from `/proc` until it exits (kB).
fn peak_rss_kb(mut child: std::process::Child, limit: Duration) -> (Run, u64) {
    let pid = child.id();
    let started = Instant::now();
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < limit, "process {pid} still ran after {limit:?}");
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(line) = status.lines().find(|line| line.starts_with("VmHWM:"))
        {
            peak = peak.max(line.split_whitespace().nth(1).unwrap().parse().unwrap());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    (child.wait_with_output().unwrap().into(), peak)
}

/// A log whose entries are each just under the 1 MiB bound (a few KB pushed, as they compress) cannot make
/// `log verify` hold them all at once: what waits between its threads is bounded by bytes.
#[test]
fn large_entries_are_checked_in_bounded_memory() {
    use std::io::Write as _;
    let team = Team::new("large-entries");
    let clone = team.clone("writer");
    team.decision(&clone, "rel-1");
    assert_eq!(team.sign(&clone, "rel-1", PRIYA, &[]).code, 0);
    let tip = git(&clone, &["rev-parse", "release-gate-ledger"]);
    let mut import = git_command()
        .args(["fast-import", "--quiet"])
        .current_dir(&clone)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = std::io::BufWriter::new(import.stdin.take().unwrap());
    writeln!(stdin, "reset refs/heads/large\nfrom {tip}\n").unwrap();
    let size = 1000 * 1000;
    for n in 0..400 {
        let message = format!("large {n}\n");
        write!(
            stdin,
            "commit refs/heads/large\ncommitter x <x@example.com> 1795788602 +0000\ndata {}\n{message}",
            message.len()
        )
        .unwrap();
        let entry = format!("{n:08}{}", "x".repeat(size - 8));
        write!(stdin, "M 100644 inline entry\ndata {}\n{entry}\n\n", entry.len()).unwrap();
    }
    drop(stdin);
    assert!(import.wait().unwrap().success());
    let child = spawn_in(&clone, &["log", "verify", "--ref", "large", "--format", "json"]);
    let (out, peak_kb) = peak_rss_kb(child, Duration::from_secs(120));
    assert!(problem_codes(&out).contains(&"ledger-entry-invalid".to_owned()), "{out:?}");
    // 400 MB of entries went through; a few dozen of them at most may be held at once (about 36 MB here;
    // 131 MB with batches bounded only by count).
    assert!(peak_kb < 70 * 1024, "log verify peaked at {peak_kb} kB");
}
