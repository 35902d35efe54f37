//! The CLI's contract: exit codes, JSON output, annotations, hostile input, init, render.

use serde_json::Value;

use crate::support::{TempDir, data, run, run_in, run_stdin};

const NOW: &str = "2026-11-28T12:00:00Z";

#[test]
fn valid_decision_passes_with_exit_0() {
    let out = run(&["validate", "examples/release-decision.md", "--now", NOW]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("pass: examples/release-decision.md (risk high, decision GO"),
        "{}",
        out.stdout
    );
}

#[test]
fn failing_decision_exits_1_with_json_report() {
    let out = run(&["validate", "examples/draft.md", "--now", NOW, "--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["risk_class"], "medium");
    assert_eq!(report["decision"], Value::Null);
    let findings = report["findings"].as_array().unwrap();
    let codes: Vec<(&str, &str, u64)> = findings
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["severity"].as_str().unwrap(), f["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [
            // review gates left as `pass | fail`; operational n/a is allowed for medium risk.
            ("gate-unmarked", "error", 7),
            ("gate-unmarked", "error", 9),
            ("gate-unmarked", "error", 10),
            ("residual-risks-missing", "error", 11),
            ("rollback-trigger-vague", "error", 14),
            ("rollback-owner-missing", "error", 15),
            ("decision-missing", "error", 19),
            ("timestamp-missing", "error", 21),
        ]
    );
    for finding in findings {
        assert_eq!(finding.as_object().unwrap().len(), 4, "exactly code, severity, message, line: {finding}");
        assert!(finding["message"].as_str().unwrap().contains(':'), "messages say what to do: {finding}");
    }
}

#[test]
fn json_record_validates_like_markdown_with_null_lines() {
    let json = run(&["render", "examples/draft.md", "--to", "json"]);
    assert_eq!(json.code, 0, "{json:?}");
    let out = run_stdin(&["validate", "-", "--now", NOW, "--format", "json"], json.stdout.as_bytes());
    assert_eq!(out.code, 1, "{out:?}");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 8);
    assert!(report["findings"].as_array().unwrap().iter().all(|f| f["line"].is_null()));
}

#[test]
fn github_format_prints_annotations() {
    let out = run(&["validate", "examples/draft.md", "--now", NOW, "--format", "github"]);
    assert_eq!(out.code, 1);
    let first = out.stdout.lines().next().unwrap();
    assert!(
        first.starts_with(
            "::error file=examples/draft.md,line=7,title=gate-unmarked::The review gate is not marked"
        ),
        "{first}"
    );
    assert_eq!(out.stdout.lines().count(), 8);
}

#[test]
fn audit_answers_five_questions() {
    let out = run(&["audit", "examples/draft.md", "--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let audit: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(audit["ready"], false);
    let answers: Vec<(&str, bool)> = audit["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap(), a["yes"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        answers,
        [
            ("risk-class-declared", true),
            ("gate-layers-marked", false),
            ("decision-owner-named", true),
            ("rollback-trigger-concrete", false),
            // A draft's package is asked for only with a GO: the audit reads the validator's report.
            ("communication-prepared", true),
        ]
    );
    let ready = run(&["audit", "examples/release-decision.md"]);
    assert_eq!(ready.code, 0, "{ready:?}");
    assert_eq!(ready.stdout.matches("yes  ").count(), 5, "{}", ready.stdout);
}

#[test]
fn render_round_trips_through_the_binary() {
    let markdown = run(&["render", "examples/release-decision.md", "--to", "markdown"]);
    assert_eq!(markdown.code, 0);
    let json = run_stdin(&["render", "-", "--to", "json"], markdown.stdout.as_bytes());
    let again = run_stdin(&["render", "-", "--to", "markdown"], json.stdout.as_bytes());
    assert_eq!(again.stdout, markdown.stdout);
    assert!(
        markdown.stdout.starts_with("### Release Decision\n\n- Release scope: billing-api, invoice-worker\n")
    );
    let record: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(record["risk_class"], "high (touches billing)");
    assert_eq!(record["rehearsal"]["recovery_time"], "4m 10s");
}

#[test]
fn schema_is_a_reviewed_surface() {
    for kind in ["decision", "report", "audit"] {
        let out = run(&["schema", kind]);
        assert_eq!(out.code, 0);
        let schema: Value = serde_json::from_str(&out.stdout).unwrap();
        insta::assert_json_snapshot!(format!("schema_{kind}"), schema);
    }
}

#[test]
fn rules_lists_every_code() {
    let out = run(&["rules", "--format", "json"]);
    assert_eq!(out.code, 0);
    let rules: Value = serde_json::from_str(&out.stdout).unwrap();
    let codes: Vec<&str> = rules.as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    insta::assert_json_snapshot!("rule_codes", codes);
}

#[test]
fn policy_overrides_change_the_verdict() {
    let dir = TempDir::new("policy");
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[findings]\n\"rollback-trigger-vague\" = \"warning\"\n").unwrap();
    let decision = data("decisions/rule_rollback_trigger_vague_inline.md");
    let args = |policy: Option<&str>| {
        let mut args = vec!["validate", decision.to_str().unwrap(), "--now", NOW, "--format", "json"];
        if let Some(policy) = policy {
            args.extend(["--policy", policy]);
        }
        run(&args)
    };
    assert_eq!(args(None).code, 1);
    let relaxed = args(Some(policy.to_str().unwrap()));
    assert_eq!(relaxed.code, 0, "{relaxed:?}");
    assert!(relaxed.stdout.contains("\"severity\": \"warning\""));

    std::fs::write(&policy, "version = 1\n\n[classes.high]\npanel = \"two\"\n").unwrap();
    let bad = args(Some(policy.to_str().unwrap()));
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("line 4"), "{}", bad.stderr);
    assert!(bad.stdout.is_empty());
}

#[test]
fn repository_policy_is_found_from_a_subdirectory() {
    let dir = TempDir::new("repo-policy");
    // A repository as git sees it (an empty `.git` folder is none: `attack::a_planted_dot_git_...`).
    assert_eq!(
        crate::support::git_command().arg("init").arg("-q").arg(dir.path()).status().unwrap().code(),
        Some(0)
    );
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    let init = run_in(Some(dir.path()), &["init"]);
    assert_eq!(init.code, 0, "{init:?}");
    let policy_path = dir.path().join(".release/policy.toml");
    std::fs::write(&policy_path, "[classes.medium]\nrollback_owner = \"optional\"\n").unwrap();
    let decision = data("decisions/rule_rollback_owner_missing_medium.md");
    let out = run_in(
        Some(&dir.path().join("a/b")),
        &["validate", decision.to_str().unwrap(), "--now", NOW, "--format", "json"],
    );
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn init_writes_the_default_policy_once() {
    let dir = TempDir::new("init");
    let first = run(&["init", "--root", dir.path().to_str().unwrap()]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains("created"));
    let policy = dir.path().join(".release/policy.toml");
    let written = std::fs::read_to_string(&policy).unwrap();
    assert_eq!(written, release_gate_core::policy::DEFAULT_POLICY_TOML);
    std::fs::write(&policy, "# edited\n").unwrap();
    let second = run(&["init", "--root", dir.path().to_str().unwrap()]);
    assert_eq!(second.code, 0);
    assert!(second.stdout.contains("kept"));
    assert_eq!(std::fs::read_to_string(&policy).unwrap(), "# edited\n");
}

#[track_caller]
fn assert_input_error(out: &crate::support::Run, needle: &str) {
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.is_empty(), "nothing on stdout: {out:?}");
    assert!(out.stderr.starts_with("error: "), "{out:?}");
    assert!(out.stderr.contains(needle), "expected {needle:?} in {}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn bad_input_is_a_clear_error_with_exit_2() {
    assert_input_error(&run_stdin(&["validate", "-"], b""), "no `Release Decision` heading");
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    assert_input_error(&run_stdin(&["validate", "-"], &garbage), "not valid UTF-8");
    assert_input_error(
        &run_stdin(&["validate", "-"], b"### Release Decision\n- Scope: \xff\xfe\n"),
        "offset 30",
    );
    assert_input_error(&run_stdin(&["validate", "-"], b"{\"scope\": 3}"), "invalid type");
    assert_input_error(&run_stdin(&["validate", "-"], b"{\"scope\": \"x\", \"colour\": 1}"), "unknown field");
    assert_input_error(&run_stdin(&["validate", "-"], b"{\"version\": 9}"), "version 9");
    assert_input_error(&run_stdin(&["validate", "-"], b"{\"scope\": \"x"), "EOF");
    assert_input_error(&run(&["validate", "no/such/file.md"]), "cannot open no/such/file.md");
    assert_input_error(&run(&["validate", "tests"]), "is a directory");
    assert_input_error(&run(&["validate", "examples/draft.md", "--now", "tomorrow"]), "--now `tomorrow`");
    assert_input_error(
        &run(&["validate", "examples/draft.md", "--policy", "nope.toml"]),
        "policy nope.toml: cannot open it",
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&[]).code, 2);
    assert_eq!(run(&["validate"]).code, 2);
    assert_eq!(run(&["validate", "x.md", "--format", "yaml"]).code, 2);
    assert_eq!(run(&["render", "x.md"]).code, 2);
}

#[test]
fn a_50_mb_file_is_refused_without_reading_it_all() {
    let dir = TempDir::new("huge");
    let path = dir.path().join("huge.md");
    let mut text = String::from("### Release Decision\n");
    let line = "- Residual risks: this line repeats to make the file very large indeed\n";
    while text.len() < 50 * 1024 * 1024 {
        text.push_str(line);
    }
    std::fs::write(&path, &text).unwrap();
    assert_input_error(&run(&["validate", path.to_str().unwrap()]), "larger than 10 MiB");
    assert_input_error(&run_stdin(&["validate", "-"], text.as_bytes()), "larger than 10 MiB");
}

#[test]
fn deeply_nested_bullets_do_not_crash() {
    // 10,000 levels on one line (`- - - ...`), the CommonMark way to nest without indentation.
    let mut one_line = String::from("### Release Decision\n");
    one_line.push_str(&"- ".repeat(10_000));
    one_line.push_str("Release scope: deep\n");
    let out = run_stdin(&["validate", "-", "--now", NOW, "--format", "json"], one_line.as_bytes());
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("field-unknown"));

    // 10,000 levels by indentation, one space deeper each line (about 50 MB): refused by size.
    let mut indented = String::from("### Release Decision\n- Release scope:\n");
    for depth in 1..=10_000 {
        indented.push_str(&" ".repeat(depth));
        indented.push_str("- x\n");
    }
    assert_input_error(&run_stdin(&["validate", "-"], indented.as_bytes()), "larger than 10 MiB");

    // 3,000 levels by indentation fit in the limit and are read.
    let mut fits = String::from("### Release Decision\n- Release scope:\n");
    for depth in 1..=3_000 {
        fits.push_str(&" ".repeat(depth + 1));
        fits.push_str("- nested\n");
    }
    let out = run_stdin(&["validate", "-", "--now", NOW, "--format", "json"], fits.as_bytes());
    assert_eq!(out.code, 1, "{out:?}");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(report["findings"].as_array().unwrap().iter().all(|f| f["code"] != "scope-missing"));
}

#[test]
fn crlf_and_bom_read_like_unix_text() {
    let unix =
        std::fs::read_to_string(crate::support::repo_root().join("examples/release-decision.md")).unwrap();
    let windows = format!("\u{feff}{}", unix.replace('\n', "\r\n"));
    let out = run_stdin(&["validate", "-", "--now", NOW], windows.as_bytes());
    assert_eq!(out.code, 0, "{out:?}");
}

/// The amplification attack: 10 MiB of `- a` lines, each an unknown bullet. The report lists five
/// `field-unknown` findings and one that counts the rest, instead of millions.
pub fn dash_a_attack() -> (String, u64) {
    let head = "### Release Decision\n";
    let lines = (10 * 1024 * 1024 - head.len()) / "- a\n".len();
    (format!("{head}{}", "- a\n".repeat(lines)), u64::try_from(lines).unwrap())
}

#[test]
fn ten_mib_of_unknown_bullets_gives_a_bounded_report() {
    let (text, lines) = dash_a_attack();
    let dir = TempDir::new("amplify");
    let path = dir.path().join("attack.md");
    std::fs::write(&path, &text).unwrap();
    let out = run(&["validate", path.to_str().unwrap(), "--now", NOW, "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.len() < 16 * 1024, "{} bytes of JSON", out.stdout.len());
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let unknown: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "field-unknown").collect();
    assert_eq!(unknown.len(), 6, "{report}");
    let summary = unknown[5]["message"].as_str().unwrap();
    assert!(summary.starts_with(&format!("{} more `field-unknown` findings", lines - 5)), "{summary}");
    assert!(summary.contains("left out"), "{summary}");
    assert_eq!(unknown[5]["line"], 7, "the first one left out is on line 7: {summary}");

    // The other commands read the same document within the same bounds.
    let audit = run(&["audit", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(audit.code, 1, "{}", audit.stderr);
    assert!(audit.stdout.len() < 16 * 1024, "{} bytes", audit.stdout.len());
    let text_report = run(&["validate", path.to_str().unwrap(), "--now", NOW]);
    assert_eq!(text_report.code, 1, "{}", text_report.stderr);
    assert!(text_report.stdout.len() < 16 * 1024, "{} bytes", text_report.stdout.len());
    let rendered = run(&["render", path.to_str().unwrap(), "--to", "json"]);
    assert_eq!(rendered.code, 0, "{}", rendered.stderr);
    assert!(rendered.stdout.len() < 4 * 1024, "{} bytes", rendered.stdout.len());
}

#[test]
fn a_field_of_more_than_ten_thousand_bullets_is_an_input_error() {
    let mut text = String::from("### Release Decision\n- Residual risks:\n");
    text.push_str(&"  - a\n".repeat(10_000));
    let out = run_stdin(&["validate", "-", "--format", "json"], text.as_bytes());
    assert_input_error(&out, "line 2 has more than 10000 nested bullets");
    let mut record = String::from("{\"residual_risks\": [\"a\"");
    record.push_str(&",\"a\"".repeat(100_000));
    record.push_str("]}");
    let out = run_stdin(&["validate", "-", "--format", "json"], record.as_bytes());
    assert_input_error(&out, "more than 100000 values");
}
