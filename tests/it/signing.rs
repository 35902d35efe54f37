//! Signed decisions end to end: real git repositories, real `ssh-keygen -Y verify`, real Python
//! securesystemslib, tampering, a torn log, concurrent signers and signers killed mid-append.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{Run, TempDir, data, release_gate, repo_root};

/// The Python of `scripts/test.sh`'s virtual environment, with securesystemslib installed. Missing is a
/// failure, never a skip.
fn python() -> PathBuf {
    let python = repo_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash scripts/test.sh`, which creates .venv and installs tests/requirements.txt",
        python.display()
    );
    python
}

fn tool(name: &str) -> PathBuf {
    repo_root().join("tests/tools").join(name)
}

fn sh(dir: &Path, program: &str, args: &[&str]) -> Run {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("{program} must be installed: {error}"));
    output.into()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let mut all =
        vec!["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"];
    all.extend_from_slice(args);
    let out = sh(dir, "git", &all);
    assert_eq!(out.code, 0, "git {args:?}: {out:?}");
    out.stdout.trim().to_owned()
}

/// A git repository with a decision, a keys folder outside it, and two trusted panel keys.
struct Fixture {
    _temp: TempDir,
    repo: PathBuf,
    keys: PathBuf,
    head: String,
}

/// One allowed_signers entry: (principal, key file name, options).
type Trusted<'a> = (&'a str, &'a str, &'a str);

const PRIYA: &str = "test-only-priya-ed25519";
const LEE: &str = "test-only-lee-ed25519";

impl Fixture {
    fn new(name: &str) -> Fixture {
        let temp = TempDir::new(&format!("sign-{name}"));
        let repo = temp.path().join("repo");
        let keys = temp.path().join("keys");
        std::fs::create_dir_all(repo.join(".release")).unwrap();
        std::fs::create_dir_all(&keys).unwrap();
        git(&repo, &["init", "-q"]);
        // The golden decision, decided a minute ago: a GO stands for its class's `go_valid_for` only.
        let decided = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(1);
        let decided = decided.round(jiff::Unit::Second).unwrap().to_string();
        let text = std::fs::read_to_string(data("signing/decision.md")).unwrap();
        std::fs::write(repo.join("rel.md"), text.replace("2026-11-27T14:05:00Z", &decided)).unwrap();
        git(&repo, &["add", "rel.md"]);
        git(&repo, &["commit", "-q", "-m", "release candidate"]);
        let head = git(&repo, &["rev-parse", "HEAD"]);
        for key in [PRIYA, LEE] {
            let path = keys.join(key);
            std::fs::copy(data(&format!("signing/{key}")), &path).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::fs::copy(data(&format!("signing/{key}.pub")), keys.join(format!("{key}.pub"))).unwrap();
        }
        let fixture = Fixture { _temp: temp, repo, keys, head };
        fixture.trust(&[("Priya Shah", PRIYA, ""), ("Lee Park", LEE, "")]);
        fixture
    }

    fn public(&self, key: &str) -> String {
        let text = std::fs::read_to_string(self.keys.join(format!("{key}.pub"))).unwrap();
        text.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
    }

    /// allowed_signers text for (principal, key, options).
    fn signers_text(&self, entries: &[(&str, &str, &str)]) -> String {
        entries
            .iter()
            .map(|(principal, key, options)| format!("\"{principal}\" {options} {}\n", self.public(key)))
            .collect()
    }

    fn trust(&self, entries: &[(&str, &str, &str)]) {
        std::fs::write(self.repo.join(".release/allowed_signers"), self.signers_text(entries)).unwrap();
    }

    fn key(&self, name: &str) -> String {
        self.keys.join(name).display().to_string()
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = release_gate();
        command
            .args(args)
            .current_dir(&self.repo)
            .stdin(Stdio::null())
            .env_remove("RELEASE_GATE_KEY_PASSPHRASE");
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().unwrap().into()
    }

    fn sign(&self, file: &str, key: &str) -> Run {
        self.run(&["sign", file, "--key", &self.key(key), "--commit", "HEAD"])
    }

    fn attestation(&self, name: &str) -> PathBuf {
        self.repo.join(".release/attestations").join(name)
    }

    fn verify(&self, extra: &[&str]) -> Run {
        let envelope = self.attestation("rel.dsse.json").display().to_string();
        let mut args = vec!["verify", envelope.as_str(), "--commit", self.head.as_str(), "--format", "json"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn signed_by_both(name: &str) -> Fixture {
        let fixture = Fixture::new(name);
        for key in [PRIYA, LEE] {
            let out = fixture.sign("rel.md", key);
            assert_eq!(out.code, 0, "{out:?}");
        }
        fixture
    }
}

/// The failure codes of a `verify --format json` run (which must have failed).
#[track_caller]
fn failure_codes(out: &Run) -> Vec<String> {
    assert_eq!(out.code, 1, "{out:?}");
    let result: Value = serde_json::from_str(&out.stdout).unwrap();
    result["failures"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn signed_decision_verifies_here_and_with_independent_tools() {
    let fx = Fixture::signed_by_both("tools");
    let out = fx.verify(&[]);
    assert_eq!(out.code, 0, "{out:?}");
    let result: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(result["commit"], fx.head.as_str());
    assert_eq!(result["signers"].as_array().unwrap().len(), 2);

    let attestations = fx.repo.join(".release/attestations");
    let statement = std::fs::read(attestations.join("rel.statement.json")).unwrap();
    let parsed: Value = serde_json::from_slice(&statement).unwrap();
    assert_eq!(parsed["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(parsed["predicateType"], "https://release-gate.dev/decision/v1");
    assert_eq!(parsed["subject"][0]["digest"]["gitCommit"], fx.head.as_str());

    // ssh-keygen, on each signer's SSH signature, at the decision time.
    for (sig, principal) in
        [("rel.statement.json.sig", "Priya Shah"), ("rel.statement.json.2.sig", "Lee Park")]
    {
        let mut command = Command::new("ssh-keygen");
        command
            .args(["-Y", "verify", "-f", "../allowed_signers", "-I", principal, "-n", "release-gate"])
            .args(["-O", "verify-time=20261127140500", "-s", sig])
            .current_dir(&attestations)
            .stdin(std::fs::File::open(attestations.join("rel.statement.json")).unwrap());
        let out: Run = command.output().unwrap().into();
        assert_eq!(out.code, 0, "ssh-keygen -Y verify {sig}: {out:?}");
        assert!(out.stdout.contains(&format!("Good \"release-gate\" signature for {principal}")), "{out:?}");
    }

    // securesystemslib, on the envelope, with a threshold of both keys.
    let priya_pub = fx.keys.join(format!("{PRIYA}.pub")).display().to_string();
    let lee_pub = fx.keys.join(format!("{LEE}.pub")).display().to_string();
    let envelope = attestations.join("rel.dsse.json").display().to_string();
    let verify_dsse = tool("verify_dsse.py").display().to_string();
    let python = python().display().to_string();
    let out = sh(&fx.repo, &python, &[&verify_dsse, &envelope, "2", &priya_pub, &lee_pub]);
    assert_eq!(out.code, 0, "securesystemslib: {out:?}");
    assert_eq!(out.stdout.as_bytes(), statement.as_slice());

    // jq + sha256sum on the log, ssh-keygen on its checkpoint.
    let out = sh(&fx.repo, "bash", &[&tool("verify_log.sh").display().to_string()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("chain of 2 entries verified"), "{out:?}");
    let out = fx.run(&["log", "verify"]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn one_key_listed_for_two_panel_members_counts_once() {
    // The attack: allowed_signers gives one key both panel members' names; one signature must not make two.
    let fx = Fixture::new("one-key-two-names");
    fx.trust(&[("Priya Shah,Lee Park", PRIYA, "")]);
    let out = fx.sign("rel.md", PRIYA);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("panel signatures 1 of 2"), "{out:?}");
    assert_eq!(failure_codes(&fx.verify(&[])), ["signatures-missing"]);
    // securesystemslib agrees at the same threshold: one key is one signature, whatever names it carries.
    let envelope = fx.attestation("rel.dsse.json").display().to_string();
    let priya_pub = fx.keys.join(format!("{PRIYA}.pub")).display().to_string();
    let verify_dsse = tool("verify_dsse.py").display().to_string();
    let out = sh(&fx.repo, &python().display().to_string(), &[&verify_dsse, &envelope, "2", &priya_pub]);
    assert_eq!(out.code, 1, "securesystemslib counted one key twice: {out:?}");
    // The second person's own key, trusted under their name, makes the second signature.
    fx.trust(&[("Priya Shah,Lee Park", PRIYA, ""), ("Lee Park", LEE, "")]);
    assert_eq!(fx.sign("rel.md", LEE).code, 0);
    let out = fx.verify(&[]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn golden_vectors_verify_with_ssh_keygen_and_securesystemslib() {
    let dir = data("signing");
    let temp = TempDir::new("golden-tools");
    let signers = temp.path().join("allowed_signers");
    let line = |principal: &str, key: &str| {
        let text = std::fs::read_to_string(dir.join(format!("{key}.pub"))).unwrap();
        format!("\"{principal}\" {}\n", text.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
    };
    std::fs::write(&signers, line("Priya Shah", PRIYA) + &line("Lee Park", LEE)).unwrap();
    for (sig, principal) in
        [("expected.statement.json.sig", "Priya Shah"), ("expected.statement.json.2.sig", "Lee Park")]
    {
        let out: Run = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-f"])
            .arg(&signers)
            .args(["-I", principal, "-n", "release-gate", "-s"])
            .arg(dir.join(sig))
            .stdin(std::fs::File::open(dir.join("expected.statement.json")).unwrap())
            .output()
            .unwrap()
            .into();
        assert_eq!(out.code, 0, "{sig}: {out:?}");
    }
    // The log's frozen v2 checkpoint: Lee's signature under the checkpoint namespace, and an RFC 6962 root
    // over the two frozen entries, recomputed here with Python's hashlib.
    let out: Run = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(&signers)
        .args(["-I", "Lee Park", "-n", "release-gate-checkpoint", "-s"])
        .arg(dir.join("expected.log.checkpoint.sig"))
        .stdin(std::fs::File::open(dir.join("expected.log.checkpoint")).unwrap())
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{out:?}");
    let script = "import base64, hashlib, sys\n\
                  leaf = lambda p: hashlib.sha256(b'\\0' + open(p, 'rb').read()).digest()\n\
                  root = hashlib.sha256(b'\\1' + leaf(sys.argv[1]) + leaf(sys.argv[2])).digest()\n\
                  print('release-gate.dev/ledger/v2', 2, base64.b64encode(root).decode(), sep='\\n')";
    let out: Run = Command::new(python())
        .args(["-c", script])
        .arg(dir.join("expected.log.entry.1"))
        .arg(dir.join("expected.log.entry.2"))
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, std::fs::read_to_string(dir.join("expected.log.checkpoint")).unwrap());
    // ssh-keygen itself, signing the golden statement with the same key, writes the same bytes.
    let key = temp.path().join(PRIYA);
    std::fs::copy(dir.join(PRIYA), &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let statement = temp.path().join("statement.json");
    std::fs::copy(dir.join("expected.statement.json"), &statement).unwrap();
    let out: Run = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", "release-gate", "-f"])
        .arg(&key)
        .arg(&statement)
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        std::fs::read(temp.path().join("statement.json.sig")).unwrap(),
        std::fs::read(dir.join("expected.statement.json.sig")).unwrap(),
        "release-gate's SSH signature differs from ssh-keygen's for the same key and bytes"
    );

    let python = python().display().to_string();
    let args = [
        tool("verify_dsse.py").display().to_string(),
        dir.join("expected.dsse.json").display().to_string(),
        "2".into(),
        dir.join(format!("{PRIYA}.pub")).display().to_string(),
        dir.join(format!("{LEE}.pub")).display().to_string(),
    ];
    let out = sh(temp.path(), &python, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.as_bytes(), std::fs::read(dir.join("expected.statement.json")).unwrap());
}

#[test]
fn sign_refuses_what_must_not_be_signed() {
    let fx = Fixture::new("refuse");
    // A decision that does not validate: exit 1 with its findings.
    std::fs::copy(repo_root().join("examples/draft.md"), fx.repo.join("draft.md")).unwrap();
    let out = fx.sign("draft.md", PRIYA);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("error[decision-missing]") && out.stdout.contains("refused"), "{out:?}");

    let cases: [(&str, &[Trusted], &str); 4] = [
        ("a signer who is not owner or panel", &[("Mallory", PRIYA, "")], "neither the final decision owner"),
        ("a key outside allowed_signers", &[("Lee Park", LEE, "")], "not in allowed_signers"),
        ("an expired key", &[("Priya Shah", PRIYA, "valid-before=\"20260101Z\"")], "valid-before"),
        ("the wrong namespace", &[("Priya Shah", PRIYA, "namespaces=\"git\"")], "namespace"),
    ];
    for (what, trusted, reason) in cases {
        fx.trust(trusted);
        let out = fx.sign("rel.md", PRIYA);
        assert_eq!(out.code, 1, "{what}: {out:?}");
        assert!(out.stdout.contains(reason), "{what}: {out:?}");
    }
    assert!(
        !fx.repo.join(".release/ledger.jsonl").exists()
            || std::fs::read(fx.repo.join(".release/ledger.jsonl")).unwrap().is_empty()
    );

    // A file whose name is no decision id (the store's rule: at most 100 characters, never `..`): an
    // input error naming the rule, and nothing written for it.
    fx.trust(&[("Priya Shah", PRIYA, "")]);
    let long = format!("{}.md", "a".repeat(101));
    for (name, reason) in [("v2..3.md", "cannot contain `..`"), (long.as_str(), "at most 100 characters")] {
        std::fs::copy(fx.repo.join("rel.md"), fx.repo.join(name)).unwrap();
        let out = fx.sign(name, PRIYA);
        assert_eq!(out.code, 2, "{name}: {out:?}");
        assert!(out.stderr.contains(reason) && out.stderr.contains("rename the file"), "{name}: {out:?}");
        let stem = name.trim_end_matches(".md");
        let written = std::fs::read_dir(fx.repo.join(".release"))
            .into_iter()
            .flatten()
            .chain(std::fs::read_dir(fx.repo.join(".release/attestations")).into_iter().flatten())
            .flatten()
            .any(|entry| entry.file_name().to_string_lossy().starts_with(stem));
        assert!(!written, "{name}: something was written for it");
        std::fs::remove_file(fx.repo.join(name)).unwrap();
    }

    // A key readable by others, and a key inside the repository: input errors naming the fix.
    std::fs::set_permissions(fx.keys.join(PRIYA), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = fx.sign("rel.md", PRIYA);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("chmod 600"), "{out:?}");
    let inside = fx.repo.join("signer-key");
    std::fs::copy(fx.keys.join(PRIYA), &inside).unwrap();
    std::fs::set_permissions(&inside, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = fx.run(&["sign", "rel.md", "--key", "signer-key", "--commit", "HEAD"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("inside the repository"), "{out:?}");
    // No key material in any message.
    let secret = std::fs::read_to_string(fx.keys.join(PRIYA)).unwrap();
    let body = secret.lines().nth(2).unwrap();
    assert!(!out.stderr.contains(body) && !out.stdout.contains(body));
}

#[test]
fn passphrase_protected_keys_and_keygen() {
    let fx = Fixture::new("passphrase");
    let key = fx.keys.join("protected");
    let out: Run = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "correct horse", "-C", "", "-f"])
        .arg(&key)
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{out:?}");
    fx.trust(&[("Priya Shah", "protected", "")]);
    let args = ["sign", "rel.md", "--key", key.to_str().unwrap(), "--commit", "HEAD"];
    let out = fx.run(&args);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("RELEASE_GATE_KEY_PASSPHRASE"), "{out:?}");
    let out = fx.run_env(&args, &[("RELEASE_GATE_KEY_PASSPHRASE", "wrong")]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(!out.stderr.contains("wrong\n"), "{out:?}");
    let out = fx.run_env(&args, &[("RELEASE_GATE_KEY_PASSPHRASE", "correct horse")]);
    assert_eq!(out.code, 0, "{out:?}");

    // keygen: 0600 key, a line ssh-keygen accepts, and the key signs.
    let new_key = fx.keys.join("lee-new").display().to_string();
    let out = fx.run(&["keygen", "--out", &new_key, "--principal", "Lee Park"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .starts_with("\"Lee Park\" namespaces=\"release-gate,release-gate-checkpoint\" ssh-ed25519 ")
    );
    let mode = std::fs::metadata(&new_key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let mut signers = std::fs::read_to_string(fx.repo.join(".release/allowed_signers")).unwrap();
    signers.push_str(&out.stdout);
    std::fs::write(fx.repo.join(".release/allowed_signers"), signers).unwrap();
    let out = fx.run(&["sign", "rel.md", "--key", &new_key, "--commit", "HEAD"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = fx.verify(&[]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = fx.run(&["keygen", "--out", "inside-key"]);
    assert_eq!(out.code, 2, "{out:?}");
}

fn flip(path: &Path, at: usize) -> Vec<u8> {
    let original = std::fs::read(path).unwrap();
    let mut changed = original.clone();
    let at = at % changed.len();
    changed[at] ^= 0x01;
    std::fs::write(path, &changed).unwrap();
    original
}

#[test]
fn any_changed_byte_fails_verification() {
    let fx = Fixture::signed_by_both("tamper");
    assert_eq!(fx.verify(&[]).code, 0);
    let files = [
        fx.attestation("rel.statement.json"),
        fx.attestation("rel.dsse.json"),
        fx.attestation("rel.statement.json.sig"),
        fx.attestation("rel.statement.json.2.sig"),
    ];
    // A spread of positions per file (the core's tests change every byte).
    for file in &files {
        let len = std::fs::read(file).unwrap().len();
        for step in 0..8 {
            let at = step * len / 8 + 3;
            let original = flip(file, at);
            let out = fx.verify(&[]);
            assert_eq!(out.code, 1, "byte {at} of {} changed, still verified: {out:?}", file.display());
            std::fs::write(file, original).unwrap();
        }
    }
    assert_eq!(fx.verify(&[]).code, 0);
}

#[test]
fn swapped_commit_replay_and_removed_signature_fail() {
    let fx = Fixture::signed_by_both("swap");
    // Another commit.
    std::fs::write(fx.repo.join("more.txt"), "x").unwrap();
    git(&fx.repo, &["add", "more.txt"]);
    git(&fx.repo, &["commit", "-q", "-m", "after the decision"]);
    let envelope = fx.attestation("rel.dsse.json").display().to_string();
    let out = fx.run(&["verify", &envelope, "--commit", "HEAD", "--format", "json"]);
    assert_eq!(failure_codes(&out), ["commit-mismatch"]);

    // Replay: the envelope and its files copied to another decision's names.
    for (from, to) in [
        ("rel.dsse.json", "other.dsse.json"),
        ("rel.statement.json", "other.statement.json"),
        ("rel.statement.json.sig", "other.statement.json.sig"),
    ] {
        std::fs::copy(fx.attestation(from), fx.attestation(to)).unwrap();
    }
    let other = fx.attestation("other.dsse.json").display().to_string();
    let codes = failure_codes(&fx.run(&["verify", &other, "--commit", &fx.head, "--format", "json"]));
    assert!(
        codes.contains(&"subject-mismatch".into()) && codes.contains(&"log-entry-missing".into()),
        "{codes:?}"
    );

    // A panel signature removed from the envelope.
    let path = fx.attestation("rel.dsse.json");
    let mut value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    value["signatures"].as_array_mut().unwrap().pop();
    std::fs::write(&path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    let codes = failure_codes(&fx.verify(&[]));
    assert!(codes.contains(&"signatures-missing".into()), "{codes:?}");
}

#[test]
fn untrusted_expired_and_wrong_namespace_signers_fail() {
    let fx = Fixture::signed_by_both("trust");
    let alt = fx.repo.join("alt_signers");
    let alt_arg = alt.display().to_string();
    let cases: [(&[Trusted], &str); 3] = [
        (&[("Lee Park", LEE, "")], "signature-invalid"),
        (&[("Priya Shah", PRIYA, "valid-before=\"20261101Z\""), ("Lee Park", LEE, "")], "signer-untrusted"),
        (&[("Priya Shah", PRIYA, "namespaces=\"git\""), ("Lee Park", LEE, "")], "signer-untrusted"),
    ];
    for (trusted, code) in cases {
        std::fs::write(&alt, fx.signers_text(trusted)).unwrap();
        let codes = failure_codes(&fx.verify(&["--allowed-signers", &alt_arg]));
        assert!(codes.contains(&code.to_owned()), "{trusted:?}: {codes:?}");
    }
    // An SSH signature made under another namespace by a trusted key (real ssh-keygen).
    let sig = fx.attestation("rel.statement.json.sig");
    std::fs::remove_file(&sig).unwrap();
    let statement = fx.attestation("rel.statement.json");
    let out: Run = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-f", &fx.key(PRIYA), "-n", "git"])
        .arg(&statement)
        .output()
        .unwrap()
        .into();
    assert_eq!(out.code, 0, "{out:?}");
    let codes = failure_codes(&fx.verify(&[]));
    assert!(codes.contains(&"sshsig-invalid".into()), "{codes:?}");
}

#[test]
fn torn_log_is_reported_repaired_and_exported() {
    // A repository the previous release left with its log in a file: a torn tail, and its repair.
    let fx = Fixture::signed_by_both("torn");
    crate::ledger::to_log_file(&fx.repo, &fx.keys.join(LEE));
    let log = fx.repo.join(".release/ledger.jsonl");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend_from_slice(b"{\"seq\":3,\"prev\":\"ab");
    std::fs::write(&log, &bytes).unwrap();
    let out = fx.run(&["log", "verify"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("torn last line"), "{out:?}");
    let out = fx.sign("rel.md", PRIYA);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("log migrate"), "{out:?}");
    let out = fx.run(&["log", "repair", "--key", &fx.key(LEE)]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("entry 3"), "{out:?}");
    assert_eq!(fx.run(&["log", "verify"]).code, 0);
    assert_eq!(fx.verify(&[]).code, 0, "the decision's entry survives the repair");

    let out = fx.run(&["log", "export", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let entries: Value = serde_json::from_str(&out.stdout).unwrap();
    let kinds: Vec<&str> = entries.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["sign", "sign", "repair"]);
    assert_eq!(entries[2]["truncated_bytes"], 19);
    let out = fx.run(&["log", "export", "--format", "csv"]);
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("seq,time,kind,decision,commit,signers"));
    assert!(lines[2].contains(",sign,rel,") && lines[2].contains("Priya Shah; Lee Park"), "{}", lines[2]);

    // An edited line in the middle: the first broken line is named.
    let text = std::fs::read_to_string(&log).unwrap().replacen("\"rel\"", "\"REL\"", 1);
    std::fs::write(&log, text).unwrap();
    let out = fx.run(&["log", "verify", "--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["broken_line"], 2);
}

fn copies(fx: &Fixture, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let name = format!("rel-{i}.md");
            std::fs::copy(fx.repo.join("rel.md"), fx.repo.join(&name)).unwrap();
            name
        })
        .collect()
}

fn entries(fx: &Fixture) -> Vec<Value> {
    let out = fx.run(&["log", "export", "--format", "json"]);
    serde_json::from_str::<Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

#[test]
fn concurrent_signers_leave_a_valid_chain() {
    let fx = Fixture::new("concurrent");
    let names = copies(&fx, 8);
    let mut children = Vec::new();
    for name in &names {
        for key in [PRIYA, LEE] {
            let child = release_gate()
                .args(["sign", name, "--key", &fx.key(key), "--commit", "HEAD"])
                .current_dir(&fx.repo)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            children.push(child);
        }
    }
    for child in children {
        let out: Run = child.wait_with_output().unwrap().into();
        assert_eq!(out.code, 0, "{out:?}");
    }
    let out = fx.run(&["log", "verify"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(entries(&fx).len(), 16);
    // Both signatures reached every envelope: no lost update.
    for name in &names {
        let id = name.trim_end_matches(".md");
        let envelope = fx.attestation(&format!("{id}.dsse.json")).display().to_string();
        let out = fx.run(&["verify", &envelope, "--commit", &fx.head]);
        assert_eq!(out.code, 0, "{id}: {out:?}");
    }
}

#[test]
fn killed_signers_never_corrupt_the_log_or_lose_a_reported_entry() {
    let fx = Fixture::new("killed");
    let names = copies(&fx, 40);
    let mut reported = Vec::new();
    // A fixed pseudo-random sequence of kill delays, 0 to 13 ms (a signature takes about 10 ms), so kills
    // land before, during and after the append; every fifth run gets time to finish even on a busy machine.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for (i, name) in names.iter().enumerate() {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let delay = if i % 5 == 4 { 2_000 } else { (state >> 33) % 14 };
        let mut child = release_gate()
            .args(["sign", name, "--key", &fx.key(PRIYA), "--commit", "HEAD"])
            .current_dir(&fx.repo)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(delay);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() >= deadline {
                let _ = child.kill();
                break child.wait().unwrap();
            }
            std::thread::sleep(std::time::Duration::from_micros(500));
        };
        if status.success() {
            reported.push(name.trim_end_matches(".md").to_owned());
        }
        // The log verifies, or says exactly what is wrong: never a wrong "verified".
        let out = fx.run(&["log", "verify", "--format", "json"]);
        let report: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(report["broken_line"], Value::Null, "{out:?}");
        if out.code != 0 {
            assert_eq!(fx.run(&["log", "repair", "--key", &fx.key(PRIYA)]).code, 0);
        }
    }
    let out = fx.run(&["log", "verify"]);
    assert_eq!(out.code, 0, "{out:?}");
    let logged: Vec<String> =
        entries(&fx).iter().filter_map(|e| e["decision"].as_str().map(str::to_owned)).collect();
    for id in &reported {
        assert!(logged.contains(id), "{id} was reported signed but is not in the log");
    }
    assert!(
        !reported.is_empty() && reported.len() < names.len(),
        "the delays should both kill and spare: {reported:?}"
    );
}

#[test]
fn a_checkpoint_left_half_written_is_reported_and_resigned_by_an_explicit_repair() {
    let fx = Fixture::signed_by_both("checkpoint");
    crate::ledger::to_log_file(&fx.repo, &fx.keys.join(LEE));
    // A crash between the checkpoint's two files: the signature is new, the text still the old one.
    let checkpoint = fx.repo.join(".release/ledger.checkpoint");
    let text = std::fs::read_to_string(&checkpoint).unwrap();
    let log = std::fs::read_to_string(fx.repo.join(".release/ledger.jsonl")).unwrap();
    let first_line = log.lines().next().unwrap();
    let old = format!(
        "release-gate.dev/ledger/v1\n1\n{}\n",
        sh(&fx.repo, "bash", &["-c", &format!("printf '%s' '{first_line}' | sha256sum | cut -d' ' -f1")])
            .stdout
            .trim()
    );
    assert_ne!(text, old);
    std::fs::write(&checkpoint, old).unwrap();
    let out = fx.run(&["log", "verify"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("checkpoint"), "{out:?}");
    assert_eq!(fx.run(&["log", "repair"]).code, 0, "without a key nothing is re-signed");
    assert_eq!(fx.run(&["log", "verify"]).code, 1);
    let out = fx.run(&["log", "repair", "--key", &fx.key(PRIYA)]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("re-signed it over the intact chain, logged as entry 3"), "{out:?}");
    assert_eq!(fx.run(&["log", "verify"]).code, 0);
    let logged = entries(&fx);
    assert_eq!(logged[2]["reason"], "checkpoint");
    assert_eq!(fx.verify(&[]).code, 0);
}

#[test]
fn every_verify_failure_code_is_documented() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    for code in release_gate_core::signing::verify::FailureCode::ALL {
        assert!(
            readme.contains(&format!("| `{}` |", code.as_str())),
            "README.md does not document `{}`",
            code.as_str()
        );
    }
}

#[test]
fn a_stored_decision_is_signed_by_id_and_verifies_until_the_code_moves() {
    let fx = Fixture::new("stored");
    git(&fx.repo, &["tag", "v0"]);
    std::fs::create_dir_all(fx.repo.join("src")).unwrap();
    std::fs::write(fx.repo.join("src/search.rs"), "fn search() {}\n").unwrap();
    git(&fx.repo, &["add", "-A"]);
    git(&fx.repo, &["commit", "-q", "-m", "search"]);
    let signed_commit = git(&fx.repo, &["rev-parse", "HEAD"]);
    for args in [
        vec!["draft", "--scope", "search", "--risk", "medium", "--id", "rel-7", "--base", "v0"],
        vec!["gate", "rel-7", "code", "pass", "--evidence", "CI #7"],
        vec!["gate", "rel-7", "review", "pass", "--evidence", "PR #3 approved by Lee Park"],
        vec!["gate", "rel-7", "operational", "n/a"],
        vec!["gate", "rel-7", "communication", "n/a"],
        vec!["set", "rel-7", "residual-risks", "none"],
        vec!["set", "rel-7", "rollback-trigger", "search error rate > 1% for 5 minutes"],
        vec!["set", "rel-7", "rollback-owner", "Lee Park"],
    ] {
        let out = fx.run(&args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
    }
    // Not decided yet: refused, nothing written.
    let out = fx.run(&["sign", "rel-7", "--key", &fx.key(PRIYA)]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("does not validate"), "{}", out.stdout);
    assert!(!fx.attestation("rel-7.dsse.json").exists());

    assert_eq!(fx.run(&["decide", "rel-7", "--go", "--owner", "Priya Shah"]).code, 0);
    // Lee is the rollback owner, not the decision owner or on a panel: refused.
    let out = fx.run(&["sign", "rel-7", "--key", &fx.key(LEE)]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("neither the final decision owner nor a go/no-go panel member"),
        "{}",
        out.stdout
    );
    let out = fx.run(&["sign", "rel-7", "--key", &fx.key(PRIYA)]);
    assert_eq!(out.code, 0, "{out:?}");
    let statement: Value =
        serde_json::from_slice(&std::fs::read(fx.attestation("rel-7.statement.json")).unwrap()).unwrap();
    assert_eq!(statement["subject"][0]["digest"]["gitCommit"], signed_commit.as_str());
    assert_eq!(statement["predicate"]["decisionId"], "rel-7");
    // Gate evidence digests come from the recorded evidence events, not from the result text.
    let code_gate =
        statement["predicate"]["gates"].as_array().unwrap().iter().find(|g| g["layer"] == "code").unwrap();
    let text_digest = {
        use std::io::Write;
        let mut child =
            Command::new("sha256sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(code_gate["result"].as_str().unwrap().as_bytes()).unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    assert!(!text_digest.starts_with(code_gate["evidence"]["sha256"].as_str().unwrap()));

    // Verify by id on HEAD; committing the attestation changes only .release/, which still counts.
    let out = fx.run(&["verify", "rel-7", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    git(&fx.repo, &["add", "-A"]);
    git(&fx.repo, &["commit", "-q", "-m", "release decision rel-7"]);
    let out = fx.run(&["verify", "rel-7", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("differs from the signed commit only under .release/"), "{}", out.stdout);

    // New code on top: the GO no longer verifies for HEAD, but does for the commit it was signed for.
    std::fs::write(fx.repo.join("src/search.rs"), "fn search() { changed() }\n").unwrap();
    git(&fx.repo, &["commit", "-q", "-am", "late change"]);
    let out = fx.run(&["verify", "rel-7", "--format", "json"]);
    assert!(failure_codes(&out).contains(&"commit-mismatch".to_owned()), "{}", out.stdout);
    let out = fx.run(&["verify", "rel-7", "--commit", &signed_commit, "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
}
