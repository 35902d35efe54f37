//! Attacks on the promises behind a GO, replayed end to end on real repositories through every channel that
//! reads the same data (the CLI, MCP over stdio, MCP over HTTP). Each test asserts a side effect: a file
//! that must not be written, a marker that must not appear, outside content that must not come back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{GitRepo, HttpServer, Run, TempDir, Transport, mcp_calls, spawn_in, wait_limited};

/// Runs release-gate in `dir`, killed after `limit`: a hang fails the test instead of the suite.
fn run_limited(dir: &Path, args: &[&str], limit: Duration) -> Run {
    wait_limited(spawn_in(dir, args), limit)
}

/// One `tools/call` (`params`) to `release-gate serve` started in `dir` without `--root`, over stdio; the
/// JSON-RPC answer.
fn serve_once(dir: &Path, params: &Value) -> Value {
    use std::io::{BufRead as _, Write as _};
    let mut child = crate::support::release_gate()
        .arg("serve")
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for message in [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
            "capabilities": {}, "clientInfo": {"name": "attack", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": params}),
    ] {
        writeln!(stdin, "{message}").unwrap();
    }
    let stdout = child.stdout.take().unwrap();
    let (sender, answers) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let answer = loop {
        let line = answers.recv_timeout(Duration::from_secs(20)).expect("the server answers");
        let value: Value = serde_json::from_str(&line).unwrap();
        if value["id"] == 2 {
            break value;
        }
    };
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    answer
}

fn edit_record(repo: &GitRepo, id: &str, edit: impl FnOnce(&mut Value)) {
    let path = repo.path().join(format!(".release/decisions/{id}.json"));
    let mut record: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut record);
    std::fs::write(&path, serde_json::to_string_pretty(&record).unwrap()).unwrap();
}

/// Both MCP transports on `root`: stdio, and a `serve --http` on loopback (kept alive by the returned guard).
fn transports(root: &Path) -> (HttpServer, Vec<Transport>) {
    let server = HttpServer::start(root, &[]);
    let http = Transport::Http { url: server.url.clone(), token: None };
    (server, vec![Transport::Stdio, http])
}

#[test]
fn a_hostile_record_cannot_steer_git() {
    let repo = GitRepo::new("attack-record");
    repo.commit(&[("src/a.rs", "fn a() {}\n")], "change");
    for id in ["good", "base", "evidence"] {
        assert_eq!(repo.run(&["draft", "--scope", "api", "--risk", "low", "--id", id]).code, 0);
    }
    assert_eq!(repo.run(&["gate", "evidence", "review", "pass", "--evidence", "PR #1"]).code, 0);
    let outside = TempDir::new("attack-record-out");
    let pwned = |name: &str| outside.path().join(name);
    // What a pull request can carry: a revision that git would read as an option.
    let base_hostile = format!("--output={}", pwned("base").display());
    edit_record(&repo, "base", |record| record["binding"]["base"] = json!(base_hostile));
    let evidence_hostile = format!("--output={}", pwned("evidence").display());
    edit_record(&repo, "evidence", |record| {
        let history = record["history"].as_array_mut().unwrap();
        let gate = history.iter_mut().rev().find(|event| event["change"]["type"] == "gate-recorded").unwrap();
        gate["change"]["commit"] = json!(evidence_hostile);
    });
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "hostile records"]);

    // The CLI: every command that reads the records.
    for args in [
        &["list"][..],
        &["list", "--format", "json"],
        &["status", "base"],
        &["status", "evidence"],
        &["validate", "base"],
        &["validate", "evidence"],
        &["checklist", "base"],
        &["gate", "base", "review", "pass", "--evidence", "x"],
    ] {
        let out = run_limited(repo.path(), args, Duration::from_secs(30));
        assert!(
            !pwned("base").exists() && !pwned("evidence").exists(),
            "release-gate {args:?} ran git with it"
        );
        if args.first() == Some(&"validate") || args.first() == Some(&"status") {
            assert_eq!(out.code, 2, "{args:?}: {out:?}");
            let field = if args.get(1) == Some(&"base") { "`binding.base`" } else { ".change.commit`" };
            assert!(out.stderr.contains(field), "{args:?}: {out:?}");
            assert!(out.stderr.contains(&format!("{}.json", args[1])), "{args:?}: {out:?}");
        }
    }
    // A bad record does not hide the others.
    let (code, listed) = repo.json(&["list", "--format", "json"]);
    assert_eq!(code, 0, "{listed}");
    let rows = listed["decisions"].as_array().unwrap();
    let row = |id: &str| rows.iter().find(|row| row["id"] == id).unwrap().clone();
    assert_eq!(row("good")["error"], Value::Null, "{listed}");
    assert!(row("good")["verdict"].is_string(), "{listed}");
    assert!(row("base")["error"].as_str().unwrap().contains("binding.base"), "{listed}");
    assert!(row("evidence")["error"].as_str().unwrap().contains("commit"), "{listed}");

    // MCP over stdio and HTTP.
    let (_server, transports) = transports(repo.path());
    for transport in &transports {
        let results = mcp_calls(
            repo.path(),
            transport,
            &[
                json!({"tool": "list_decisions", "arguments": {}}),
                json!({"tool": "decision_status", "arguments": {"id": "base"}}),
                json!({"tool": "validate_decision", "arguments": {"id": "evidence"}}),
                json!({"tool": "record_gate", "arguments": {"id": "base", "layer": "review", "result": "pass",
                    "evidence": ["x"], "actor": "attacker"}}),
                json!({"resource": "release-gate://decisions/base"}),
            ],
        );
        assert!(!pwned("base").exists() && !pwned("evidence").exists(), "{transport:?} ran git with it");
        assert_eq!(results[0]["is_error"], false, "{transport:?}: {results:?}");
        assert!(results[0]["text"].as_str().unwrap().contains("good"), "{transport:?}: {results:?}");
        for (index, field) in [(1, "binding.base"), (2, "commit"), (3, "binding.base")] {
            assert_eq!(results[index]["is_error"], true, "{transport:?}: {results:?}");
            assert!(results[index]["text"].as_str().unwrap().contains(field), "{transport:?}: {results:?}");
        }
        assert!(results[4]["error"].as_str().is_some_and(|e| e.contains("binding.base")), "{results:?}");
    }
    // Nothing was recorded into the hostile record either.
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn links_under_release_never_lead_out_of_the_repository() {
    let repo = GitRepo::new("attack-links");
    repo.commit(&[("src/a.rs", "fn a() {}\n")], "change");
    assert_eq!(repo.run(&["draft", "--scope", "api", "--risk", "low", "--id", "real"]).code, 0);
    let outside = TempDir::new("attack-links-out");
    let secret = format!("TOP-SECRET-{}", std::process::id());
    std::fs::write(outside.path().join("secret.json"), format!("{{\"scope\": \"{secret}\"}}\n")).unwrap();
    let decisions = repo.path().join(".release/decisions");
    std::os::unix::fs::symlink(outside.path().join("secret.json"), decisions.join("x.json")).unwrap();
    // A committed lock file that points outside.
    std::fs::create_dir_all(repo.path().join(".release/.locks")).unwrap();
    let created = outside.path().join("created-by-lock");
    let _ = std::fs::remove_file(repo.path().join(".release/.locks/real.lock"));
    std::os::unix::fs::symlink(&created, repo.path().join(".release/.locks/real.lock")).unwrap();
    repo.git(&["add", "-f", "-A"]);
    repo.git(&["commit", "-q", "-m", "links"]);

    for args in [
        &["status", "x"][..],
        &["validate", "x"],
        &["list", "--format", "json"],
        &["gate", "x", "review", "pass", "--evidence", "e"],
        &["gate", "real", "review", "pass", "--evidence", "e"],
    ] {
        let out = run_limited(repo.path(), args, Duration::from_secs(30));
        assert!(!out.stdout.contains(&secret) && !out.stderr.contains(&secret), "{args:?} leaked: {out:?}");
        assert!(!created.exists(), "{args:?} created a file through the lock link");
    }
    assert_eq!(run_limited(repo.path(), &["validate", "x"], Duration::from_secs(30)).code, 2);
    let (_server, transports) = transports(repo.path());
    for transport in &transports {
        let results = mcp_calls(
            repo.path(),
            transport,
            &[
                json!({"resource": "release-gate://decisions/x"}),
                json!({"tool": "decision_status", "arguments": {"id": "x"}}),
                json!({"tool": "record_gate", "arguments": {"id": "x", "layer": "review", "result": "pass",
                    "evidence": ["x"], "actor": "attacker"}}),
                json!({"tool": "list_decisions", "arguments": {}}),
            ],
        );
        let shown = serde_json::to_string(&results).unwrap();
        assert!(!shown.contains(&secret), "{transport:?} leaked the outside file: {shown}");
        assert!(
            results[0]["error"].as_str().is_some_and(|e| e.contains("leads out of the repository")),
            "{shown}"
        );
        assert_eq!(results[1]["is_error"], true, "{shown}");
        assert_eq!(results[2]["is_error"], true, "{shown}");
        assert!(!created.exists());
    }
    // record_gate did not copy the outside file into the repository.
    let link = std::fs::symlink_metadata(decisions.join("x.json")).unwrap();
    assert!(link.file_type().is_symlink());
    assert!(!std::fs::read_dir(&decisions).unwrap().any(|entry| {
        let path = entry.unwrap().path();
        std::fs::symlink_metadata(&path).unwrap().is_file()
            && std::fs::read_to_string(&path).unwrap_or_default().contains(&secret)
    }));

    // A folder link: records are never written outside.
    let repo = GitRepo::new("attack-dir-link");
    repo.commit(&[("src/a.rs", "fn a() {}\n")], "change");
    std::fs::create_dir_all(repo.path().join(".release")).unwrap();
    let elsewhere = TempDir::new("attack-dir-link-out");
    std::os::unix::fs::symlink(elsewhere.path(), repo.path().join(".release/decisions")).unwrap();
    let out = repo.run(&["draft", "--scope", "api", "--risk", "low", "--id", "d"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("leads out of the repository"), "{out:?}");
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0, "a record was written outside");
}

#[test]
fn pipes_devices_and_huge_files_under_release_are_refused_in_bounded_time() {
    let repo = GitRepo::new("attack-special");
    repo.commit(&[("src/a.rs", "fn a() {}\n")], "change");
    assert_eq!(repo.run(&["draft", "--scope", "api", "--risk", "low", "--id", "d"]).code, 0);
    let attestations = repo.path().join(".release/attestations");
    std::fs::create_dir_all(&attestations).unwrap();
    std::fs::write(repo.path().join(".release/allowed_signers"), "").unwrap();
    // A FIFO as the envelope would block an open forever; /dev/zero as the statement is endless.
    assert!(
        std::process::Command::new("mkfifo")
            .arg(attestations.join("d.dsse.json"))
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("/dev/zero", attestations.join("e.statement.json")).unwrap();
    std::fs::write(attestations.join("e.dsse.json"), "{}").unwrap();
    std::os::unix::fs::symlink("/dev/zero", repo.path().join(".release/ledger.checkpoint")).unwrap();
    // A record over 10 MiB.
    let huge = format!("{{\"scope\": \"{}\"}}", "a".repeat(11 * 1024 * 1024));
    std::fs::write(repo.path().join(".release/decisions/huge.json"), huge).unwrap();
    for args in [&["verify", "d"][..], &["verify", "e"], &["status", "huge"]] {
        let out = run_limited(repo.path(), args, Duration::from_secs(20));
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
    }
    let out = run_limited(repo.path(), &["log", "verify"], Duration::from_secs(20));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("leads out of the repository"), "{out:?}");
    let (_server, transports) = transports(repo.path());
    for transport in &transports {
        let results = mcp_calls(
            repo.path(),
            transport,
            &[
                json!({"tool": "verify_decision", "arguments": {"id": "d"}}),
                json!({"tool": "verify_decision", "arguments": {"id": "e"}}),
                json!({"tool": "decision_status", "arguments": {"id": "huge"}}),
            ],
        );
        for result in &results {
            assert_eq!(result["is_error"], true, "{transport:?}: {results:?}");
        }
    }
}

/// Writes an executable script.
fn script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A repository whose committed policy runs only `true`, and a decision `d` on it.
fn reviewed_repo(name: &str) -> GitRepo {
    let repo = GitRepo::new(name);
    repo.commit(
        &[
            (".release/policy.toml", "[[code_gates]]\nname = \"harmless\"\ncommand = [\"true\"]\n"),
            ("check.sh", "#!/bin/sh\nexit 0\n"),
        ],
        "reviewed policy",
    );
    assert_eq!(repo.run(&["draft", "--scope", "api", "--risk", "low", "--id", "d"]).code, 0);
    repo
}

#[test]
fn the_repository_configuration_runs_nothing() {
    let repo = reviewed_repo("attack-config");
    let markers = TempDir::new("attack-config-markers");
    let marker = |name: &str| markers.path().join(name);
    // Markers go in `markers/`, the repository's programs in `bin/` and `hooks/` beside it.
    let bin = TempDir::new("attack-config-bin");
    let hooks = bin.path().join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    // git replace: a policy blob that runs something else.
    let evil_policy = format!(
        "[[code_gates]]\nname = \"harmless\"\ncommand = [\"sh\", \"-c\", \"touch {}\"]\n",
        marker("replace").display()
    );
    std::fs::write(markers.path().join("policy.toml"), &evil_policy).unwrap();
    let evil_blob =
        repo.git(&["hash-object", "-w", &markers.path().join("policy.toml").display().to_string()]);
    let real_blob = repo.git(&["rev-parse", "HEAD:.release/policy.toml"]);
    repo.git(&["replace", &real_blob, &evil_blob]);
    // A signed-looking commit, so that showing signatures would call the signature program.
    let tree = repo.git(&["rev-parse", "HEAD^{tree}"]);
    let parent = repo.git(&["rev-parse", "HEAD"]);
    let commit = format!(
        "tree {tree}\nparent {parent}\nauthor A <a@example.com> 1764400000 +0000\ncommitter A <a@example.com> 1764400000 +0000\n\
         gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEz\n -----END PGP SIGNATURE-----\n\nsigned-looking\n"
    );
    std::fs::write(markers.path().join("commit"), commit).unwrap();
    let signed = repo.git(&[
        "hash-object",
        "-t",
        "commit",
        "-w",
        "--literally",
        &markers.path().join("commit").display().to_string(),
    ]);
    repo.git(&["update-ref", "HEAD", &signed]);
    // Then the repository's configuration, written straight into `.git/config` after the test's own git
    // calls: fsmonitor, hooks, filters (from `.git/info/attributes`), an external diff, textconv, and a
    // signature program that showing signatures would call.
    script(&bin.path().join("fsmonitor"), &format!("touch {}", marker("fsmonitor").display()));
    for hook in ["post-index-change", "reference-transaction", "post-checkout"] {
        script(&hooks.join(hook), &format!("touch {}", marker(hook).display()));
    }
    script(&bin.path().join("gpg"), &format!("touch {}; exit 1", marker("gpg").display()));
    let hostile = format!(
        "[core]\n\tfsmonitor = {fsmonitor}\n\thooksPath = {hooks}\n\
         [filter \"evil\"]\n\tclean = sh -c 'touch {filter}; cat'\n\tprocess = sh -c 'touch {process}'\n\
         [diff]\n\texternal = sh -c 'touch {external}'\n\
         [diff \"evil\"]\n\ttextconv = sh -c 'touch {textconv}; cat'\n\
         [gpg]\n\tprogram = {gpg}\n[log]\n\tshowSignature = true\n",
        fsmonitor = bin.path().join("fsmonitor").display(),
        hooks = hooks.display(),
        filter = marker("filter").display(),
        process = marker("filter-process").display(),
        external = marker("ext-diff").display(),
        textconv = marker("textconv").display(),
        gpg = bin.path().join("gpg").display(),
    );
    let config = repo.path().join(".git/config");
    let existing = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{existing}{hostile}")).unwrap();
    std::fs::write(repo.path().join(".git/info/attributes"), "* filter=evil diff=evil\n").unwrap();
    // The index must not need a refresh by us: touch nothing, but make git think files changed.
    std::fs::write(repo.path().join("check.sh"), "#!/bin/sh\nexit 0\n").unwrap();
    let all = [
        "replace",
        "fsmonitor",
        "post-index-change",
        "reference-transaction",
        "post-checkout",
        "filter",
        "filter-process",
        "ext-diff",
        "textconv",
        "gpg",
    ];
    let none_ran = |what: &str| {
        for name in all {
            assert!(!marker(name).exists(), "{what}: the repository's `{name}` ran");
        }
    };

    none_ran("the test's own set-up");
    let (code, run) = repo.json(&["gates", "run", "d", "--format", "json"]);
    none_ran("gates run");
    assert_eq!(code, 0, "{run}");
    assert_eq!(run["checks"][0]["command"], json!(["true"]), "the replaced policy ran: {run}");
    for args in [
        &["comms", "d"][..],
        &["status", "d"],
        &["validate", "d"],
        &["list"],
        &["classify", "--base", "v1"],
        &["draft", "--scope", "api", "--risk", "low", "--id", "d2"],
        &["gate", "d", "review", "pass", "--evidence", "PR #2"],
    ] {
        let out = repo.run(args);
        none_ran(&format!("{args:?}"));
        assert_ne!(out.code, 2, "{args:?}: {out:?}");
    }
    let (_server, transports) = transports(repo.path());
    for transport in &transports {
        let results = mcp_calls(
            repo.path(),
            transport,
            &[
                json!({"tool": "run_code_gates", "arguments": {"id": "d", "actor": "ci"}}),
                json!({"tool": "set_communication", "arguments": {"id": "d", "prefill": true, "actor": "ci"}}),
                json!({"tool": "decision_status", "arguments": {"id": "d"}}),
                json!({"tool": "classify_risk", "arguments": {"base": "v1"}}),
            ],
        );
        none_ran(&format!("{transport:?}"));
        for result in &results {
            assert_eq!(result["is_error"], false, "{transport:?}: {results:?}");
        }
        assert!(results[0]["text"].as_str().unwrap().contains("\"true\""), "{results:?}");
    }
    // The attack was armed: plain git in the same repository runs what release-gate did not.
    let _ = crate::support::git_command().arg("-C").arg(repo.path()).args(["status"]).output().unwrap();
    let _ = crate::support::git_command().arg("-C").arg(repo.path()).args(["log", "-1"]).output().unwrap();
    assert!(marker("fsmonitor").exists() && marker("gpg").exists(), "the hostile configuration is not live");
    assert!(repo.git(&["cat-file", "-p", &real_blob]).contains("touch"), "the replace object is not live");
}

#[test]
fn index_flags_do_not_hide_an_edited_script() {
    for flag in ["--skip-worktree", "--assume-unchanged"] {
        let repo = reviewed_repo("attack-index");
        let markers = TempDir::new("attack-index-markers");
        let marker = markers.path().join("ran");
        // The committed policy runs the committed script; the script is edited and hidden from git status.
        repo.commit(
            &[(".release/policy.toml", "[[code_gates]]\nname = \"check\"\ncommand = [\"./check.sh\"]\n")],
            "run the check script",
        );
        repo.git(&["update-index", flag, "check.sh"]);
        std::fs::write(repo.path().join("check.sh"), format!("#!/bin/sh\ntouch {}\n", marker.display()))
            .unwrap();
        assert_eq!(repo.git(&["status", "--porcelain"]), "", "git itself is fooled by {flag}");
        let out = repo.run(&["gates", "run", "d"]);
        assert_eq!(out.code, 2, "{flag}: {out:?}");
        assert!(out.stderr.contains("check.sh"), "{flag}: {out:?}");
        assert!(!marker.exists(), "{flag}: the edited script ran");
        let (_server, transports) = transports(repo.path());
        for transport in &transports {
            let results = mcp_calls(
                repo.path(),
                transport,
                &[json!({"tool": "run_code_gates", "arguments": {"id": "d", "actor": "ci"}})],
            );
            assert_eq!(results[0]["is_error"], true, "{flag} {transport:?}: {results:?}");
            assert!(!marker.exists(), "{flag} {transport:?}: the edited script ran");
        }
    }
}

#[test]
fn leftovers_of_killed_writes_block_nothing() {
    let repo = reviewed_repo("attack-leftovers");
    // What killed `gate` and `sign` runs leave: temporary files of a process that no longer exists.
    let leftovers: Vec<PathBuf> =
        [".release/decisions/.d.json.4194304.tmp", ".release/.ledger.checkpoint.4194305.tmp"]
            .iter()
            .map(|path| repo.path().join(path))
            .collect();
    for path in &leftovers {
        std::fs::write(path, "half").unwrap();
    }
    let out = repo.run(&["gates", "run", "d"]);
    assert_eq!(out.code, 0, "{out:?}");
    // The decision store cleaned its own leftover under its lock.
    assert!(!leftovers[0].exists());
}

/// `init` edits files a cloned repository supplies (AGENTS.md, `.codex/config.toml`, the skill): a
/// committed link must not steer its writes out of the repository, and a pipe must not hang it.
#[test]
fn init_writes_nothing_through_committed_links_and_reads_no_pipe() {
    let outside = TempDir::new("attack-init-outside");
    let config = outside.path().join("config.toml");
    std::fs::write(&config, "# the person's own Codex configuration\n").unwrap();
    let listing = |dir: &Path| {
        let mut names: Vec<String> = walk(dir);
        names.sort();
        names
    };
    let before = listing(outside.path());
    for link in [".codex", ".agents", ".release"] {
        let repo = GitRepo::new("attack-init-link");
        let path = repo.path().join(link);
        let _ = std::fs::remove_dir_all(&path);
        std::os::unix::fs::symlink(outside.path(), &path).unwrap();
        let out = run_limited(
            repo.path(),
            &["init", "--codex", "--server-command", "release-gate"],
            Duration::from_secs(20),
        );
        assert_eq!(out.code, 2, "{link}: {out:?}");
        assert!(out.stderr.contains("leads out of the repository"), "{link}: {out:?}");
        assert_eq!(listing(outside.path()), before, "{link}: something was written outside");
        assert_eq!(
            std::fs::read_to_string(&config).unwrap(),
            "# the person's own Codex configuration\n",
            "{link}"
        );
    }
    // AGENTS.md as a FIFO would block a plain read forever; a link to an outside file is not read.
    let repo = GitRepo::new("attack-init-fifo");
    assert!(
        std::process::Command::new("mkfifo").arg(repo.path().join("AGENTS.md")).status().unwrap().success()
    );
    let out = run_limited(repo.path(), &["init", "--codex"], Duration::from_secs(20));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("not a regular file"), "{out:?}");
}

/// Every file and folder under `dir`, relative to it.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(dir).unwrap().display().to_string());
            if path.is_dir() && !path.is_symlink() {
                stack.push(path);
            }
        }
    }
    out
}

/// "The repository" is what git says it is, in every shell: a `.git` that git does not accept, planted in a
/// parent folder with a `.release/` of its own, neither lends its policy to a command run below it nor
/// receives what `init` writes.
#[test]
fn a_planted_dot_git_in_a_parent_folder_is_no_repository() {
    let outside = TempDir::new("attack-planted-git");
    let planted = outside.path();
    std::fs::write(planted.join(".git"), "gitdir: /nonexistent\n").unwrap();
    std::fs::create_dir_all(planted.join(".release")).unwrap();
    // A policy that would turn any decision into an input error if it were read.
    std::fs::write(planted.join(".release/policy.toml"), "this is = not [ a policy\n").unwrap();
    let work = planted.join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::copy(crate::support::repo_root().join("examples/release-decision.md"), work.join("rel.md"))
        .unwrap();

    let out =
        run_limited(&work, &["validate", "rel.md", "--now", "2026-11-28T12:00:00Z"], Duration::from_secs(20));
    assert_eq!(out.code, 0, "the planted policy was read: {out:?}");
    assert!(!out.stderr.contains("not a valid policy"), "{out:?}");
    // Not in silence: the person is told the `.git` above is not a repository to git.
    assert!(out.stderr.contains("does not accept as a repository"), "{out:?}");
    // The MCP server started there (no `--root`) does not take the planted folder as its root either.
    let text = std::fs::read_to_string(work.join("rel.md")).unwrap();
    let answer = serve_once(
        &work,
        &json!({"name": "validate_decision", "arguments": {"content": text, "now": "2026-11-28T12:00:00Z"}}),
    );
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    assert_eq!(answer["result"]["structuredContent"]["verdict"], "pass", "{answer}");
    // A private key is never written below a `.git`, accepted or not.
    let key = work.join("signing-key");
    let out = run_limited(
        &work,
        &["keygen", "--out", key.to_str().unwrap(), "--principal", "Priya Shah"],
        Duration::from_secs(20),
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(!key.exists(), "a private key was written inside a work tree");

    let before: Vec<_> =
        std::fs::read_dir(planted.join(".release")).unwrap().flatten().map(|e| e.file_name()).collect();
    let out = run_limited(&work, &["init"], Duration::from_secs(20));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(work.join(".release/policy.toml").exists(), "init sets up the folder it runs in: {out:?}");
    let after: Vec<_> =
        std::fs::read_dir(planted.join(".release")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(before, after, "init wrote into the planted parent");
    assert_eq!(
        std::fs::read_to_string(planted.join(".release/policy.toml")).unwrap(),
        "this is = not [ a policy\n"
    );
}
