//! Decisions kept in a real git repository: draft, gates, evidence bound to commits, history rules,
//! risk from the diff, scope drift, concurrent writers, hostile ids.

use serde_json::Value;

use crate::support::{GitRepo, run_in};

fn codes(report: &Value) -> Vec<(String, String)> {
    let mut codes: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap().to_owned(), f["severity"].as_str().unwrap().to_owned()))
        .collect();
    codes.sort();
    codes
}

fn has(report: &Value, code: &str, severity: &str) -> bool {
    codes(report).contains(&(code.to_owned(), severity.to_owned()))
}

/// Drafts a medium-risk decision for v1..HEAD and fills every field a medium GO needs.
fn ready_medium(repo: &GitRepo) -> String {
    let draft = repo.run(&["draft", "--scope", "search service", "--risk", "medium", "--id", "rel-1"]);
    assert_eq!(draft.code, 0, "{draft:?}");
    assert_eq!(draft.stdout.trim(), "rel-1");
    for layer in ["code", "review"] {
        let out = repo.run(&[
            "gate",
            "rel-1",
            layer,
            "pass",
            "--evidence",
            "CI #7",
            "--evidence",
            "PR #12 approved",
        ]);
        assert_eq!(out.code, 0, "{out:?}");
    }
    for layer in ["operational", "communication"] {
        assert_eq!(repo.run(&["gate", "rel-1", layer, "n/a"]).code, 0);
    }
    for (field, values) in [
        ("residual-risks", vec!["none"]),
        ("rollback-trigger", vec!["search error rate > 1% for 5 minutes"]),
        ("rollback-owner", vec!["Dana Ruiz"]),
    ] {
        let mut args = vec!["set", "rel-1", field];
        args.extend(values);
        let out = repo.run(&args);
        assert_eq!(out.code, 0, "{out:?}");
    }
    "rel-1".to_owned()
}

#[test]
fn a_new_commit_makes_evidence_stale() {
    let repo = GitRepo::new("stale");
    repo.git(&["checkout", "-q", "-b", "release"]);
    repo.commit(&[("src/search.rs", "fn search() {}\n")], "search");
    let id = ready_medium(&repo);

    // A draft without its call is not ready, but nothing is stale yet.
    let (code, report) = repo.json(&["validate", &id, "--format", "json"]);
    assert_eq!(code, 1, "{report}");
    assert!(!has(&report, "evidence-stale", "error"), "{report}");

    repo.commit(&[("src/search.rs", "fn search() { todo() }\n")], "late change");
    let (code, report) = repo.json(&["validate", &id, "--format", "json"]);
    assert_eq!(code, 1, "{report}");
    let stale =
        report["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "evidence-stale").count();
    // The binding's diff changed, and each of the four gates' evidence is on the old commit.
    assert_eq!(stale, 5, "{report}");

    // Validating the commit the evidence was gathered on is still fine.
    let (_, report) = repo.json(&["validate", &id, "--format", "json", "--commit", "HEAD~1"]);
    assert!(!has(&report, "evidence-stale", "error"), "{report}");

    // Re-recording the gates on the new commit clears the gate findings, not the binding's.
    for layer in ["code", "review", "operational", "communication"] {
        let result = if matches!(layer, "code" | "review") { "pass" } else { "n/a" };
        assert_eq!(repo.run(&["gate", &id, layer, result, "--evidence", "CI #2"]).code, 0);
    }
    let (_, report) = repo.json(&["validate", &id, "--format", "json"]);
    let stale =
        report["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "evidence-stale").count();
    assert_eq!(stale, 1, "{report}");
}

#[test]
fn go_is_refused_until_the_decision_validates_and_no_go_is_always_recorded() {
    let repo = GitRepo::new("decide");
    repo.commit(&[("src/search.rs", "fn search() {}\n")], "search");
    let draft = repo.run(&["draft", "--scope", "search", "--risk", "medium", "--id", "r"]);
    assert_eq!(draft.code, 0, "{draft:?}");
    let before = std::fs::read(repo.path().join(".release/decisions/r.json")).unwrap();
    let (code, report) = repo.json(&["decide", "r", "--go", "--owner", "Priya", "--format", "json"]);
    assert_eq!(code, 1);
    assert!(has(&report, "gate-unmarked", "error"), "{report}");
    assert_eq!(
        std::fs::read(repo.path().join(".release/decisions/r.json")).unwrap(),
        before,
        "nothing recorded"
    );

    let out = repo.run(&["decide", "r", "--no-go", "--owner", "Priya"]);
    assert_eq!(out.code, 0, "{out:?}");
    let record: Value =
        serde_json::from_slice(&std::fs::read(repo.path().join(".release/decisions/r.json")).unwrap())
            .unwrap();
    assert_eq!(record["decision"], "NO-GO");
    assert_eq!(record["decision_owner"], "Priya");
    assert_eq!(record["gates"]["decision"], "fail (NO-GO by Priya)");

    let id = {
        let repo2 = GitRepo::new("decide-go");
        repo2.commit(&[("src/search.rs", "fn search() {}\n")], "search");
        let id = ready_medium(&repo2);
        let out = repo2.run(&["decide", &id, "--go", "--owner", "Priya Shah"]);
        assert_eq!(out.code, 0, "{out:?}");
        let (code, status) = repo2.json(&["status", &id, "--format", "json"]);
        assert_eq!(code, 0, "{status}");
        assert_eq!(status["decision"], "GO");
        assert_eq!(status["gates"][4]["result"], "pass (GO by Priya Shah)");
        let kinds: Vec<&str> =
            status["gates"].as_array().unwrap().iter().map(|g| g["layer"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["code", "review", "operational", "communication", "decision"]);
        let history = std::fs::read_to_string(repo2.path().join(".release/decisions/rel-1.json")).unwrap();
        let history: Value = serde_json::from_str(&history).unwrap();
        let types: Vec<&str> = history["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["change"]["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "drafted",
                "field-set",
                "risk-declared",
                "gate-recorded",
                "gate-recorded",
                "gate-recorded",
                "gate-recorded",
                "field-set",
                "field-set",
                "field-set",
                "gate-recorded",
                "decided"
            ]
        );
        assert!(history["history"].as_array().unwrap().iter().all(|e| e["actor"] == "Rel Eng"));
        id
    };
    assert_eq!(id, "rel-1");
}

#[test]
fn risk_declared_after_a_gate_is_late() {
    let repo = GitRepo::new("late");
    repo.commit(&[("src/search.rs", "fn search() {}\n")], "search");
    assert_eq!(repo.run(&["draft", "--scope", "search", "--id", "late"]).code, 0);
    assert_eq!(repo.run(&["gate", "late", "code", "pass", "--evidence", "CI #1"]).code, 0);
    assert_eq!(repo.run(&["risk", "late", "medium"]).code, 0);
    let (_, report) = repo.json(&["validate", "late", "--format", "json"]);
    assert!(has(&report, "risk-declared-late", "error"), "{report}");

    // Declared first, then lowered after a gate: late too. Raising is fine.
    assert_eq!(repo.run(&["draft", "--scope", "search", "--risk", "high", "--id", "lowered"]).code, 0);
    assert_eq!(repo.run(&["gate", "lowered", "code", "pass", "--evidence", "CI #1"]).code, 0);
    let (_, report) = repo.json(&["validate", "lowered", "--format", "json"]);
    assert!(!has(&report, "risk-declared-late", "error"), "{report}");
    assert_eq!(repo.run(&["risk", "lowered", "medium"]).code, 0);
    let (_, report) = repo.json(&["validate", "lowered", "--format", "json"]);
    assert!(has(&report, "risk-declared-late", "error"), "{report}");

    assert_eq!(repo.run(&["draft", "--scope", "search", "--risk", "low", "--id", "raised"]).code, 0);
    assert_eq!(repo.run(&["gate", "raised", "code", "pass", "--evidence", "CI #1"]).code, 0);
    assert_eq!(repo.run(&["risk", "raised", "medium"]).code, 0);
    let (_, report) = repo.json(&["validate", "raised", "--format", "json"]);
    assert!(!has(&report, "risk-declared-late", "error"), "{report}");

    // It clears once every gate recorded before the last risk change is recorded again after it: for a
    // late first declaration, and for a class lowered and then raised back.
    assert_eq!(repo.run(&["gate", "late", "code", "pass", "--evidence", "CI #2"]).code, 0);
    let (_, report) = repo.json(&["validate", "late", "--format", "json"]);
    assert!(!has(&report, "risk-declared-late", "error"), "{report}");
    assert_eq!(repo.run(&["risk", "lowered", "high"]).code, 0);
    let (_, report) = repo.json(&["validate", "lowered", "--format", "json"]);
    assert!(has(&report, "risk-declared-late", "error"), "raising back alone is not enough: {report}");
    assert_eq!(repo.run(&["gate", "lowered", "code", "pass", "--evidence", "CI #2"]).code, 0);
    let (_, report) = repo.json(&["validate", "lowered", "--format", "json"]);
    assert!(!has(&report, "risk-declared-late", "error"), "{report}");
    // A gate recorded before the change but not after keeps it.
    assert_eq!(repo.run(&["gate", "lowered", "review", "pass", "--evidence", "PR #3"]).code, 0);
    assert_eq!(repo.run(&["risk", "lowered", "low"]).code, 0);
    assert_eq!(repo.run(&["gate", "lowered", "code", "pass", "--evidence", "CI #3"]).code, 0);
    let (_, report) = repo.json(&["validate", "lowered", "--format", "json"]);
    assert!(has(&report, "risk-declared-late", "error"), "the review gate was not re-recorded: {report}");
}

#[test]
fn an_auth_change_is_classified_high_and_a_lower_class_needs_a_justification() {
    let repo = GitRepo::new("classify");
    repo.commit(&[("src/auth/session.rs", "fn login() {}\n"), ("docs/guide.md", "# Guide\n")], "auth");
    let (code, classification) = repo.json(&["classify", "--base", "v1", "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(
        classification,
        serde_json::json!({"suggested": "high", "base": repo.git(&["rev-parse", "v1"]), "base_from": "v1",
            "head": repo.git(&["rev-parse", "HEAD"]), "files": [
            {"path": "docs/guide.md", "class": "low", "rule": "*.md"},
            {"path": "src/auth/session.rs", "class": "high", "rule": "**/*auth*/**"},
        ]})
    );
    // Without --base, the latest tag is the base.
    let (_, default_base) = repo.json(&["classify", "--format", "json"]);
    assert_eq!(default_base["files"], classification["files"]);
    assert_eq!(default_base["base"], classification["base"]);
    assert_eq!(default_base["base_from"], "latest tag v1");

    assert_eq!(repo.run(&["draft", "--scope", "auth", "--risk", "medium", "--id", "a"]).code, 0);
    let (_, report) = repo.json(&["validate", "a", "--format", "json"]);
    assert!(has(&report, "risk-below-suggested", "error"), "{report}");
    assert_eq!(repo.run(&["risk", "a", "medium", "--justification", "session code only renamed"]).code, 0);
    let (_, report) = repo.json(&["validate", "a", "--format", "json"]);
    assert!(has(&report, "risk-below-suggested", "warning"), "{report}");
    assert!(!has(&report, "risk-below-suggested", "error"), "{report}");

    // Docs only: low.
    let docs = GitRepo::new("classify-docs");
    docs.commit(&[("docs/a.md", "a\n"), ("NOTES.txt", "b\n")], "docs");
    let (_, classification) = docs.json(&["classify", "--format", "json"]);
    assert_eq!(classification["suggested"], "low");
}

#[test]
fn evidence_older_than_the_class_allows_has_expired() {
    let repo = GitRepo::new("expired");
    repo.commit(&[("src/search.rs", "fn search() {}\n")], "search");
    assert_eq!(repo.run(&["draft", "--scope", "s", "--risk", "medium", "--id", "e"]).code, 0);
    // Records are stamped with the clock; a recorded time cannot be chosen.
    assert_eq!(
        repo.run(&["gate", "e", "code", "pass", "--evidence", "CI #1", "--now", "2026-01-01T00:00:00Z"]).code,
        2
    );
    assert_eq!(repo.run(&["gate", "e", "code", "pass", "--evidence", "CI #1"]).code, 0);
    let at = |days: i64| {
        let when = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(days * 24);
        when.round(jiff::Unit::Second).unwrap().to_string()
    };
    let has = |now: &str, code: &str| {
        let (_, report) = repo.json(&["validate", "e", "--format", "json", "--now", now]);
        report["findings"].as_array().unwrap().iter().any(|f| f["code"] == code)
    };
    // Medium risk allows 7 days.
    assert!(!has(&at(6), "evidence-expired"));
    assert!(has(&at(8), "evidence-expired"));
    // Judged as of a time before the evidence existed, it is dated in the future.
    assert!(has(&at(-1), "evidence-future"));
    assert!(!has(&at(0), "evidence-future"));
}

#[test]
fn changes_outside_the_declared_scope_drift() {
    let repo = GitRepo::new("scope");
    std::fs::create_dir_all(repo.path().join(".release")).unwrap();
    std::fs::write(
        repo.path().join(".release/policy.toml"),
        "[scopes]\nsearch = [\"src/search/**\"]\nbilling = [\"src/billing/**\"]\n",
    )
    .unwrap();
    repo.commit(&[("src/search/index.rs", "a\n"), ("src/other/x.rs", "b\n")], "change");
    assert_eq!(repo.run(&["draft", "--scope", "search", "--risk", "medium", "--id", "s"]).code, 0);
    let (_, report) = repo.json(&["validate", "s", "--format", "json"]);
    assert!(has(&report, "scope-drift", "warning"), "{report}");
    let drift = report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "scope-drift").unwrap();
    assert!(drift["message"].as_str().unwrap().contains("src/other/x.rs"), "{drift}");
    assert!(!drift["message"].as_str().unwrap().contains("src/search/index.rs"), "{drift}");

    assert_eq!(repo.run(&["risk", "s", "high"]).code, 0);
    let (_, report) = repo.json(&["validate", "s", "--format", "json"]);
    assert!(has(&report, "scope-drift", "error"), "{report}");

    assert_eq!(repo.run(&["set", "s", "scope", "search, payments"]).code, 0);
    let (_, report) = repo.json(&["validate", "s", "--format", "json"]);
    assert!(has(&report, "scope-unknown", "warning"), "{report}");
}

#[test]
fn two_processes_updating_one_decision_lose_nothing() {
    let repo = GitRepo::new("concurrent");
    assert_eq!(repo.run(&["draft", "--scope", "s", "--risk", "low", "--id", "c"]).code, 0);
    const PER_WRITER: usize = 150;
    let writers: Vec<_> = ["code", "review"]
        .into_iter()
        .map(|layer| {
            let dir = repo.path().to_path_buf();
            std::thread::spawn(move || {
                for n in 0..PER_WRITER {
                    let evidence = format!("{layer} run {n}");
                    let out = run_in(Some(&dir), &["gate", "c", layer, "pass", "--evidence", &evidence]);
                    assert_eq!(out.code, 0, "{out:?}");
                }
            })
        })
        .collect();
    // Meanwhile, a reader never sees a torn file.
    let path = repo.path().join(".release/decisions/c.json");
    let mut reads = 0;
    while writers.iter().any(|w| !w.is_finished()) {
        let text = std::fs::read_to_string(&path).unwrap();
        serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("torn read: {e}"));
        reads += 1;
    }
    for writer in writers {
        writer.join().unwrap();
    }
    assert!(reads > 0);
    let record: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let gates: Vec<String> = record["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["change"]["type"] == "gate-recorded")
        .map(|e| e["change"]["evidence"][0].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(gates.len(), 2 * PER_WRITER);
    for layer in ["code", "review"] {
        for n in 0..PER_WRITER {
            assert!(gates.contains(&format!("{layer} run {n}")), "lost {layer} run {n}");
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(repo.path().join(".release/decisions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "c.json")
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn hostile_ids_and_broken_records_get_clear_errors() {
    let repo = GitRepo::new("hostile");
    for id in ["../x", "/etc/passwd", "", "a\u{1}b", "..", "a/../../b"] {
        let out = repo.run(&["status", id]);
        assert_eq!(out.code, 2, "{id:?}: {out:?}");
        assert!(out.stderr.contains("is not a valid decision id"), "{id:?}: {}", out.stderr);
        let out = repo.run(&["draft", "--scope", "s", "--id", id, "--base", "v1"]);
        assert_eq!(out.code, 2, "{id:?}: {out:?}");
    }
    assert!(!repo.path().join("x.json").exists());
    // `validate` with something that is neither a file nor a valid id.
    let out = repo.run(&["validate", "no such thing"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("neither a file nor a stored decision"), "{}", out.stderr);
    let out = repo.run(&["validate", "../nowhere"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("cannot open ../nowhere"), "{}", out.stderr);

    let out = repo.run(&["status", "missing"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no decision `missing`"), "{}", out.stderr);

    assert_eq!(repo.run(&["draft", "--scope", "s", "--id", "t", "--base", "v1"]).code, 0);
    let path = repo.path().join(".release/decisions/t.json");
    let full = std::fs::read(&path).unwrap();
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();
    let out = repo.run(&["status", "t"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("t.json is not a readable decision record"), "{}", out.stderr);
    let out = repo.run(&["gate", "t", "code", "pass", "--evidence", "CI #1"]);
    assert_eq!(out.code, 2, "an update of a broken record fails");
    assert_eq!(std::fs::read(&path).unwrap(), &full[..full.len() / 2], "and leaves it as it was");
    std::fs::write(&path, b"\x00\xff garbage").unwrap();
    let out = repo.run(&["status", "t"]);
    assert!(out.stderr.contains("not UTF-8"), "{}", out.stderr);
    let (code, list) = repo.json(&["list", "--format", "json"]);
    assert_eq!(code, 0);
    assert!(list["decisions"][0]["error"].as_str().unwrap().contains("not a readable decision record"));

    // A hostile revision is not an option to git.
    let out = repo.run(&["classify", "--base=--output=/tmp/x"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("is not a commit"), "{}", out.stderr);
}

#[test]
fn commands_work_from_a_subdirectory_and_refuse_outside_a_repository() {
    let repo = GitRepo::new("subdir");
    repo.commit(&[("src/deep/er/x.rs", "x\n")], "deep");
    let sub = repo.path().join("src/deep/er");
    let out = run_in(Some(&sub), &["draft", "--scope", "deep", "--risk", "low", "--id", "d"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(repo.path().join(".release/decisions/d.json").is_file());
    let out = run_in(Some(&sub), &["list"]);
    assert!(out.stdout.starts_with("d  "), "{out:?}");

    let outside = crate::support::TempDir::new("not-a-repo");
    let out = run_in(Some(outside.path()), &["list"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("is not inside a git repository"), "{}", out.stderr);
    let out = run_in(Some(outside.path()), &["classify", "--base", "HEAD"]);
    assert_eq!(out.code, 2);

    // No tag and no --base: a clear error.
    let untagged = GitRepo::new("untagged");
    untagged.git(&["tag", "-d", "v1"]);
    let out = untagged.run(&["classify"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("pass the base revision"), "{}", out.stderr);
}

#[test]
fn committing_the_decision_itself_keeps_its_evidence_fresh() {
    let repo = GitRepo::new("commit-record");
    repo.commit(&[("docs/guide.md", "# Guide\n")], "docs");
    assert_eq!(repo.run(&["draft", "--scope", "docs", "--risk", "low", "--id", "d"]).code, 0);
    for layer in ["code", "review", "operational", "communication"] {
        assert_eq!(repo.run(&["gate", "d", layer, "pass", "--evidence", "CI #1"]).code, 0);
    }
    // CI sees the decision only once it is committed: that commit changes only `.release/`.
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "release decision d"]);
    let (_, report) = repo.json(&["validate", "d", "--format", "json"]);
    let codes: Vec<&str> =
        report["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    for code in ["evidence-stale", "risk-below-suggested"] {
        assert!(!codes.contains(&code), "{code} after committing the record: {report}");
    }
    let (_, status) = repo.json(&["status", "d", "--format", "json"]);
    assert!(status["gates"][0]["evidence"]["fresh"].as_bool().unwrap(), "{status}");
    let (_, classification) = repo.json(&["classify", "--format", "json"]);
    assert_eq!(
        classification["files"],
        serde_json::json!([{"path": "docs/guide.md", "class": "low", "rule": "*.md"}])
    );
    // A change to the code does make it stale.
    repo.commit(&[("src/lib.rs", "fn changed() {}\n")], "code");
    let (_, report) = repo.json(&["validate", "d", "--format", "json"]);
    assert!(report["findings"].as_array().unwrap().iter().any(|f| f["code"] == "evidence-stale"), "{report}");
}

#[test]
fn odd_repositories_and_files_get_clear_answers() {
    // No commits yet: the decisions are listed, without verdicts.
    let empty = crate::support::TempDir::new("unborn");
    crate::support::git_command().args(["init", "-q"]).current_dir(empty.path()).status().unwrap();
    let out = run_in(Some(empty.path()), &["list"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("no decisions yet"), "{out:?}");

    // A FIFO is refused at once instead of waiting for a writer.
    let repo = GitRepo::new("fifo");
    let fifo = repo.path().join("decision.md");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    let out = repo.run(&["validate", "decision.md"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("is not a regular file"), "{}", out.stderr);

    // A policy that is a link out of the repository is refused, not read.
    let outside = crate::support::TempDir::new("outside-policy");
    std::fs::write(outside.path().join("secret.toml"), "[findings]\n\"scope-missing\" = \"off\"\n").unwrap();
    std::fs::create_dir_all(repo.path().join(".release")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.toml"), repo.path().join(".release/policy.toml"))
        .unwrap();
    let decision = crate::support::data("decisions/rule_scope_missing.md");
    let out = repo.run(&["validate", decision.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("is a link that leads out of the repository"), "{}", out.stderr);

    // A JSON error says its position once.
    let out = crate::support::run_stdin(&["validate", "-"], b"{\"risk_class\": 5}");
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr.matches("line 1 column").count(), 1, "{}", out.stderr);
}
