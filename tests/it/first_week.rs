//! What a new team meets in its first week, on real repositories: classification of dependency manifests and
//! tests, empty releases, the base a command used, decision files judged against the diff, `validate` and
//! `audit` agreeing, triggers, freeze exceptions, the communication package, messages and annotations.

use serde_json::Value;

use crate::support::{GitRepo, run, run_stdin};

fn codes(report: &Value) -> Vec<String> {
    report["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_owned()).collect()
}

/// A medium-risk GO decision, written by hand, that passes on its own.
const MEDIUM_GO: &str = "### Release Decision

- Release scope: search service
- Risk class: Medium
- Gate results:
  - code gates: pass (CI #7)
  - review gates: pass (PR #12)
  - operational gates: n/a
  - communication gates: n/a
  - decision gate: pass
- Residual risks: none
- Rollback trigger:
  - search error rate > 1% for 5 minutes
- Rollback owner: Dana Ruiz
- Final decision owner: Priya Shah
- Decision: GO
- Decision timestamp: 2026-11-27T14:05:00Z
";

const NOW: &str = "2026-11-27T15:00:00Z";

#[test]
fn a_framework_upgrade_in_requirements_txt_is_high_and_says_why() {
    let repo = GitRepo::new("deps");
    repo.commit(&[("requirements.txt", "Django==6.0\nrequests==2.32\n")], "deps");
    repo.git(&["tag", "v2"]);
    repo.commit(&[("requirements.txt", "Django==6.1\nrequests==2.32\n")], "Upgrade to Django 6.1");
    let (code, json) = repo.json(&["classify", "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(json["suggested"], "high", "{json}");
    assert_eq!(json["files"][0]["rule"], "dependency django", "{json}");
    assert_eq!(json["base_from"], "latest tag v2", "{json}");
    assert_eq!(json["base"].as_str().unwrap(), repo.git(&["rev-parse", "v2"]));
    assert_eq!(json["head"].as_str().unwrap(), repo.git(&["rev-parse", "HEAD"]));
    // A dependency that is neither framework nor security library: medium, never low as a `*.txt`.
    repo.commit(
        &[("requirements.txt", "Django==6.1\nrequests==2.33\n"), ("docs/requirements.txt", "sphinx==8\n")],
        "bump",
    );
    let (_, json) = repo.json(&["classify", "--base", "HEAD~1", "--format", "json"]);
    assert_eq!(json["suggested"], "medium", "{json}");
    let rules: Vec<&str> =
        json["files"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["requirements*.txt", "requirements*.txt"], "{json}");
    // The text output names the base, the files that set the class and how to tune it.
    let text = repo.run(&["classify", "--base", "v2"]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(text.stdout.contains("latest tag") || text.stdout.contains("v2"), "{}", text.stdout);
    assert!(text.stdout.contains("suggested risk class: high"), "{}", text.stdout);
    assert!(text.stdout.contains("set by requirements.txt"), "{}", text.stdout);
    assert!(
        text.stdout.contains("[dependencies]") && text.stdout.contains("[paths] tests"),
        "{}",
        text.stdout
    );
}

#[test]
fn tests_of_an_area_do_not_weigh_like_the_area() {
    let repo = GitRepo::new("tests-weigh");
    repo.commit(&[("tests/test_auth.py", "def test_login(): pass\n"), ("app/views.py", "x = 1\n")], "tests");
    let (_, json) = repo.json(&["classify", "--format", "json"]);
    assert_eq!(json["suggested"], "medium", "{json}");
    let auth = &json["files"].as_array().unwrap().iter().find(|f| f["path"] == "tests/test_auth.py").unwrap();
    assert_eq!((auth["class"].as_str(), auth["rule"].as_str()), (Some("medium"), Some("**/tests/**")));
    // The policy can weigh tests like any other file.
    repo.commit(&[(".release/policy.toml", "[paths]\ntests = []\n")], "policy");
    let (_, json) = repo.json(&["classify", "--base", "v1", "--format", "json"]);
    assert_eq!(json["suggested"], "high", "{json}");
}

#[test]
fn an_empty_release_is_clearly_warned_and_draft_names_its_base() {
    let repo = GitRepo::new("empty");
    // The tag is on HEAD: nothing to release, said plainly.
    let draft = repo.run(&["draft", "--scope", "api", "--risk", "low", "--id", "empty"]);
    assert_eq!(draft.code, 0, "{draft:?}");
    assert!(
        draft.stderr.contains("nothing to release") && draft.stderr.contains("the latest tag is on HEAD"),
        "{}",
        draft.stderr
    );
    let classify = repo.run(&["classify"]);
    assert_eq!(classify.code, 0);
    assert!(classify.stdout.contains("nothing to release"), "{}", classify.stdout);
    // With changes, draft says which base it used and warns about a class below the suggestion.
    repo.commit(&[("src/auth/login.rs", "fn login() {}\n")], "login");
    let draft = repo.run(&["draft", "--scope", "api", "--risk", "low", "--id", "rel-1"]);
    assert_eq!(draft.code, 0, "{draft:?}");
    assert!(draft.stderr.contains("covering latest tag v1"), "{}", draft.stderr);
    assert!(
        draft.stderr.contains("below the high the diff suggests")
            && draft.stderr.contains("src/auth/login.rs"),
        "{}",
        draft.stderr
    );
}

#[test]
fn a_markdown_decision_in_a_repository_gets_the_diff_rules_and_audit_agrees() {
    let repo = GitRepo::new("markdown-diff");
    repo.commit(&[("src/auth/session.rs", "fn session() {}\n")], "session");
    std::fs::write(repo.path().join("release.md"), MEDIUM_GO).unwrap();
    let (code, report) = repo.json(&["validate", "release.md", "--format", "json", "--now", NOW]);
    assert_eq!(code, 1, "{report}");
    assert!(codes(&report).contains(&"risk-below-suggested".to_owned()), "{report}");
    let validate = repo.run(&["validate", "release.md", "--now", NOW]);
    assert!(validate.stderr.contains("compared with the diff latest tag v1"), "{}", validate.stderr);
    // The same document, the same answer.
    let (code, audit) = repo.json(&["audit", "release.md", "--format", "json", "--now", NOW]);
    assert_eq!(code, 1, "{audit}");
    assert_eq!(audit["ready"], false);
    assert_eq!(audit["answers"][0]["yes"], false, "{audit}");
    // An explicit base with only a low-risk change: both pass.
    repo.commit(&[("README.md", "# x\n")], "readme");
    let (code, _) =
        repo.json(&["validate", "release.md", "--base", "HEAD~1", "--format", "json", "--now", NOW]);
    assert_eq!(code, 0);
    let (code, audit) =
        repo.json(&["audit", "release.md", "--base", "HEAD~1", "--format", "json", "--now", NOW]);
    assert_eq!(code, 0, "{audit}");
    assert_eq!(audit["ready"], true);
}

#[test]
fn validate_and_audit_give_one_answer_outside_a_repository() {
    // A low-risk GO with no communication package: a warning for validate, so audit is ready too.
    let low = MEDIUM_GO.replace("Risk class: Medium", "Risk class: low");
    let validate = run_stdin(&["validate", "-", "--now", NOW], low.as_bytes());
    let audit = run_stdin(&["audit", "-", "--now", NOW], low.as_bytes());
    assert_eq!((validate.code, audit.code), (0, 0), "{validate:?}\n{audit:?}");
    // A high-risk GO without a panel: both refuse; audit names it under `other`.
    let high = MEDIUM_GO.replace("Risk class: Medium", "Risk class: high");
    let audit = run_stdin(&["audit", "-", "--format", "json", "--now", NOW], high.as_bytes());
    let validate = run_stdin(&["validate", "-", "--format", "json", "--now", NOW], high.as_bytes());
    assert_eq!((validate.code, audit.code), (1, 1));
    let audit: Value = serde_json::from_str(&audit.stdout).unwrap();
    assert!(audit["other"].as_array().unwrap().iter().any(|f| f["code"] == "panel-missing"), "{audit}");
}

#[test]
fn audit_takes_a_stored_decisions_id() {
    let repo = GitRepo::new("audit-id");
    repo.commit(&[("src/search.rs", "fn q() {}\n")], "search");
    assert_eq!(repo.run(&["draft", "--scope", "search", "--risk", "medium", "--id", "rel-1"]).code, 0);
    let (code, audit) = repo.json(&["audit", "rel-1", "--format", "json"]);
    assert_eq!(code, 1, "{audit}");
    assert_eq!(audit["ready"], false);
    let (_, report) = repo.json(&["validate", "rel-1", "--format", "json"]);
    assert_eq!(report["verdict"], "fail");
}

#[test]
fn triggers_are_kept_flagged_and_stored_structured() {
    let repo = GitRepo::new("triggers");
    repo.commit(&[("src/search.rs", "fn q() {}\n")], "search");
    assert_eq!(repo.run(&["draft", "--scope", "search", "--risk", "medium", "--id", "rel-1"]).code, 0);
    let set = repo.run(&[
        "set",
        "rel-1",
        "rollback-trigger",
        "5xx rate over 1% over 10m",
        "error rate more than double the 7-day baseline",
        "if things look bad",
    ]);
    assert_eq!(set.code, 0, "{set:?}");
    // The stored record carries the structured conditions, window kept.
    let stored: Value = serde_json::from_str(
        &std::fs::read_to_string(repo.path().join(".release/decisions/rel-1.json")).unwrap(),
    )
    .unwrap();
    let conditions = stored["rollback_conditions"].as_array().unwrap();
    assert_eq!(conditions.len(), 1, "{stored}");
    assert_eq!(conditions[0]["window_seconds"], 600);
    // Every vague trigger is reported, the relative one as relative.
    let (_, report) = repo.json(&["validate", "rel-1", "--format", "json"]);
    let vague: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "rollback-trigger-vague")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(vague.len(), 2, "{report}");
    assert!(vague[0].contains("baseline"), "{vague:?}");
}

#[test]
fn a_freeze_exception_is_recorded_in_the_policy_and_shown() {
    let freeze = "[[freeze]]\nname = \"year-end\"\nzone = \"UTC\"\nstart = \"2026-11-27T00:00\"\nend = \"2026-11-28T00:00\"\n";
    let dir = crate::support::TempDir::new("freeze");
    let policy = dir.path().join("policy.toml");
    let decision = dir.path().join("release.md");
    std::fs::write(&decision, MEDIUM_GO).unwrap();
    std::fs::write(&policy, freeze).unwrap();
    let args = [
        "validate",
        decision.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "json",
        "--now",
        NOW,
    ];
    let out = run(&args);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("freeze-window") && out.stdout.contains("[[freeze_exception]]"),
        "{}",
        out.stdout
    );
    std::fs::write(
        &policy,
        format!("{freeze}[[freeze_exception]]\nwindow = \"year-end\"\napproved_by = \"Priya Shah\"\nreason = \"CVE-2026-1234 fix\"\nuntil = \"2026-11-27T18:00Z\"\n"),
    )
    .unwrap();
    let out = run(&args);
    assert_eq!(out.code, 0, "{out:?}");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let finding =
        report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "freeze-exception").unwrap();
    assert_eq!(
        (finding["code"].as_str(), finding["severity"].as_str()),
        (Some("freeze-exception"), Some("warning"))
    );
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("Priya Shah")
            && message.contains("CVE-2026-1234")
            && message.contains("2026-11-27T18:00:00Z"),
        "{message}"
    );
}

#[test]
fn comms_prefills_from_the_changelog_marks_the_gate_and_the_note_is_honest() {
    let repo = GitRepo::new("comms");
    repo.commit(&[("CHANGELOG.md", "# Changelog\n\n## Unreleased\n\n- Faster search\n- New export\n\n## 1.0 - 2026-10-01\n\n- First\n")], "changelog");
    repo.commit(&[("src/search.rs", "fn q() {}\n")], "feat: faster search");
    repo.commit(&[("src/search.rs", "fn q() { }\n")], "feat: faster search");
    assert_eq!(repo.run(&["draft", "--scope", "search", "--risk", "medium", "--id", "rel-1"]).code, 0);
    let partial = repo.run(&[
        "comms",
        "rel-1",
        "--known-limitations",
        "none",
        "--known-limitations",
        "exports are CSV only",
    ]);
    assert_eq!(partial.code, 0, "{partial:?}");
    assert!(partial.stdout.contains("what changed: Faster search"), "{}", partial.stdout);
    assert!(
        partial.stdout.contains("communication gate not marked")
            && partial.stdout.contains("monitoring focus"),
        "{}",
        partial.stdout
    );
    let stored = std::fs::read_to_string(repo.path().join(".release/decisions/rel-1.json")).unwrap();
    assert!(stored.contains("none\\nexports are CSV only"), "{stored}");
    let full = repo.run(&[
        "comms",
        "rel-1",
        "--monitoring-focus",
        "search p99",
        "--rollback-trigger-conditions",
        "search error rate > 1% for 5 minutes",
        "--escalation",
        "#search-oncall, Dana",
    ]);
    assert!(full.stdout.contains("communication gate: pass"), "{}", full.stdout);
    let (_, status) = repo.json(&["status", "rel-1", "--format", "json"]);
    let gate =
        status["gates"].as_array().unwrap().iter().find(|g| g["layer"] == "communication").unwrap().clone();
    assert!(gate["result"].as_str().unwrap().starts_with("pass"), "{gate}");
    // The note: the commit range, a draft said plainly, nobody "Decided by" yet, the operational facts.
    assert_eq!(repo.run(&["ops", "rel-1", "--on-call", "Dana Ruiz"]).code, 0);
    let note = repo.run(&["render", "rel-1", "--to", "release-note"]);
    assert!(note.stdout.contains("- **Commit:**"), "{}", note.stdout);
    assert!(
        note.stdout.contains("not made yet (draft)") && !note.stdout.contains("Decided by"),
        "{}",
        note.stdout
    );
    assert!(note.stdout.contains("- **On-call owner:** Dana Ruiz"), "{}", note.stdout);
}

#[test]
fn what_changed_without_a_changelog_is_grouped_and_deduplicated() {
    let repo = GitRepo::new("subjects");
    for (n, subject) in
        ["fix: rounding", "fix: rounding", "Merge branch 'x'", "feat: export"].iter().enumerate()
    {
        repo.commit(&[("src/a.rs", &format!("// {n}\n"))], subject);
    }
    assert_eq!(repo.run(&["draft", "--scope", "billing", "--risk", "high", "--id", "rel-1"]).code, 0);
    let out = repo.run(&["comms", "rel-1"]);
    assert!(out.stdout.contains("what changed: Features (1): export"), "{}", out.stdout);
    assert!(out.stdout.contains("  Fixes (1): rounding"), "{}", out.stdout);
    assert!(!out.stdout.contains("Merge"), "{}", out.stdout);
}

#[test]
fn messages_quote_in_full_accept_minutes_and_name_the_key() {
    let doc = MEDIUM_GO.replace("2026-11-27T14:05:00Z", "2026-11-27 14:05 UTC (after standup)");
    let out = run_stdin(&["validate", "-", "--format", "json", "--now", NOW], doc.as_bytes());
    assert!(out.stdout.contains("`2026-11-27 14:05 UTC (after standup)`"), "{}", out.stdout);
    let doc = MEDIUM_GO.replace("2026-11-27T14:05:00Z", "2026-11-27T14:05Z");
    let out = run_stdin(&["validate", "-", "--now", NOW], doc.as_bytes());
    assert_eq!(out.code, 0, "{out:?}");
    let dir = crate::support::TempDir::new("policy-key");
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[classes.high]\npanel = 2\npanel = 3\n").unwrap();
    let out = run_stdin(&["validate", "-", "--policy", policy.to_str().unwrap()], MEDIUM_GO.as_bytes());
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("line 3: `classes.high.panel`"), "{}", out.stderr);
    std::fs::write(
        &policy,
        "[[freeze]]\nname = \"x\"\nzone = \"UTC\"\ndays = [\"monkey\"]\nfrom = \"00:00\"\nto = \"01:00\"\n",
    )
    .unwrap();
    let out = run_stdin(&["validate", "-", "--policy", policy.to_str().unwrap()], MEDIUM_GO.as_bytes());
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("`monkey` is not a weekday"), "{}", out.stderr);
}

#[test]
fn a_missing_program_in_a_code_gate_is_an_error_not_a_failing_gate() {
    let repo = GitRepo::new("missing-program");
    repo.commit(
        &[
            (
                ".release/policy.toml",
                "[[code_gates]]\nname = \"tests\"\ncommand = [\"no-such-program-release-gate\"]\n",
            ),
            ("src/search.rs", "fn q() {}\n"),
        ],
        "policy",
    );
    assert_eq!(repo.run(&["draft", "--scope", "search", "--risk", "medium", "--id", "rel-1"]).code, 0);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "decision"]);
    let out = repo.run(&["gates", "run", "rel-1"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("could not run") && out.stderr.contains("no-such-program-release-gate"),
        "{}",
        out.stderr
    );
    let stored = std::fs::read_to_string(repo.path().join(".release/decisions/rel-1.json")).unwrap();
    assert!(!stored.contains("gate-recorded"), "{stored}");
    // `next:` lines carry a command to run.
    let status = repo.run(&["status", "rel-1"]);
    assert!(status.stdout.contains("release-gate gates run rel-1"), "{}", status.stdout);
    assert!(status.stdout.contains("release-gate set rel-1 rollback-owner"), "{}", status.stdout);
}

#[test]
fn github_annotations_for_input_errors_never_point_at_a_line() {
    let out = run_stdin(&["validate", "-", "--format", "github"], b"no decision here\n");
    assert_eq!(out.code, 2);
    assert!(out.stdout.starts_with("::error title=input-error::"), "{}", out.stdout);
    assert!(!out.stdout.contains("file="), "{}", out.stdout);
    let dir = crate::support::TempDir::new("github");
    let file = dir.path().join("release.md");
    std::fs::write(&file, "# Notes\n").unwrap();
    let out = run(&["validate", file.to_str().unwrap(), "--format", "github"]);
    assert_eq!(out.code, 2);
    assert!(out.stdout.contains("::error file=") && !out.stdout.contains("line="), "{}", out.stdout);
    // A pull-request description on stdin: findings carry no file and no line.
    let out = run_stdin(
        &["validate", "-", "--format", "github", "--now", NOW],
        MEDIUM_GO.replace("Rollback owner: Dana Ruiz", "Rollback owner:").as_bytes(),
    );
    assert!(
        out.stdout.contains("title=rollback-owner-missing") && !out.stdout.contains("line="),
        "{}",
        out.stdout
    );
}

#[test]
fn init_says_to_commit_and_shows_both_namespaces() {
    let repo = GitRepo::new("init");
    let out = repo.run(&["init"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Commit what init wrote"), "{}", out.stdout);
    let signers = std::fs::read_to_string(repo.path().join(".release/allowed_signers")).unwrap();
    assert!(signers.contains("namespaces=\"release-gate,release-gate-checkpoint\""), "{signers}");
    let help = repo.run(&["ops", "--help"]);
    for option in ["--rollback-path", "--on-call", "--backup-owner", "--release-window"] {
        let line = help.stdout.lines().find(|line| line.trim_start().starts_with(option)).unwrap();
        assert!(
            line.split_whitespace().count() > 2 || help.stdout.contains("How the release is rolled back"),
            "{line}"
        );
    }
    assert!(help.stdout.contains("Who is on call"), "{}", help.stdout);
}
