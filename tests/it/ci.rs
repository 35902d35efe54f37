//! CI end to end: `ci pr-check` and `verify` under a fake GitHub Actions runner (its environment files and
//! a recorded pull-request event), the platform limits, JUnit and Code Quality reports checked by tools
//! this project did not write, the composite action run against a local release folder, and the action,
//! the README's workflows and the GitLab template validated against the platforms' published schemas.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{GitRepo, Run, TempDir, data, git_command, release_gate, repo_root};

/// The runner's files in a temporary folder, as GitHub sets them up for one step.
struct FakeRunner {
    dir: TempDir,
}

impl FakeRunner {
    fn new(name: &str) -> FakeRunner {
        let runner = FakeRunner { dir: TempDir::new(&format!("runner-{name}")) };
        for file in ["summary.md", "output", "env", "path"] {
            std::fs::write(runner.dir.path().join(file), "").unwrap();
        }
        runner
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The recorded pull-request event with this repository's base commit and this description.
    fn event(&self, base: &str, head: &str, body: Option<&str>) -> PathBuf {
        let mut event: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(data("ci/pull_request.json")).unwrap()).unwrap();
        event["pull_request"]["base"]["sha"] = base.into();
        event["pull_request"]["head"]["sha"] = head.into();
        if let Some(body) = body {
            event["pull_request"]["body"] = body.into();
        }
        let path = self.file("event.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&event).unwrap()).unwrap();
        path
    }

    fn run(&self, dir: &Path, args: &[&str]) -> Run {
        release_gate()
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", self.file("summary.md"))
            .env("GITHUB_OUTPUT", self.file("output"))
            .env("GITHUB_ENV", self.file("env"))
            .env("GITHUB_PATH", self.file("path"))
            .env("GITHUB_EVENT_PATH", self.file("event.json"))
            .output()
            .unwrap()
            .into()
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(self.file("summary.md")).unwrap()
    }

    /// The step outputs, read as the runner reads them (`name=value` and `name<<DELIMITER` blocks).
    fn outputs(&self) -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(self.file("output")).unwrap();
        let mut outputs = BTreeMap::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if let Some((name, delimiter)) = line.split_once("<<") {
                let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
                outputs.insert(name.to_owned(), value.join("\n"));
            } else if let Some((name, value)) = line.split_once('=') {
                outputs.insert(name.to_owned(), value.to_owned());
            }
        }
        outputs
    }
}

/// A pull request on top of `v1`: billing code (high), a doc (low) and a test (medium).
fn pull_request_repo(name: &str) -> (GitRepo, String, String) {
    let repo = GitRepo::new(name);
    let base = repo.git(&["rev-parse", "v1"]);
    let head = repo.commit(
        &[
            ("src/billing/round.rs", "pub fn round() {}\n"),
            ("docs/rounding.md", "# Rounding\n"),
            ("tests/round_test.rs", "#[test] fn t() {}\n"),
        ],
        "invoice rounding",
    );
    (repo, base, head)
}

fn short(commit: &str) -> &str {
    &commit[..12]
}

const NOW: &str = "2026-11-27T15:00:00Z";

#[test]
fn pr_check_annotates_the_description_and_summarises_the_diff() {
    let (repo, base, head) = pull_request_repo("pr-check");
    let runner = FakeRunner::new("pr-check");
    runner.event(&base, &head, None);
    let out = runner.run(repo.path(), &["ci", "pr-check", "--format", "github", "--now", NOW]);
    assert_eq!(out.code, 1, "{out:?}");
    // Every annotation is about the description: none names a file or a line of the diff.
    let annotations: Vec<&str> = out.stdout.lines().collect();
    assert!(!annotations.is_empty(), "{out:?}");
    for annotation in &annotations {
        assert!(
            annotation.starts_with("::error title=") || annotation.starts_with("::warning title="),
            "{annotation}"
        );
        assert!(!annotation.contains("file=") && !annotation.contains("line="), "{annotation}");
    }
    assert!(out.stdout.contains("title=risk-below-suggested"), "{out:?}");
    assert!(out.stdout.contains("(description line "), "a finding's line is the description's: {out:?}");
    let outputs = runner.outputs();
    assert_eq!(outputs["verdict"], "fail");
    assert_eq!(outputs["risk"], "medium");
    assert_eq!(outputs["suggested_risk"], "high");
    assert_eq!(outputs["files"], "3");
    assert_eq!(
        outputs["errors"],
        annotations.iter().filter(|a| a.starts_with("::error")).count().to_string()
    );
    let summary = runner.summary().replace(short(&base), "<base>").replace(short(&head), "<head>");
    insta::assert_snapshot!("pr_check_summary", summary);
}

#[test]
fn pr_check_passes_a_ready_decision_and_reads_a_description_from_a_file() {
    let (repo, base, head) = pull_request_repo("pr-check-pass");
    let body = std::fs::read_to_string(repo_root().join("examples/release-decision.md")).unwrap();
    let runner = FakeRunner::new("pr-check-pass");
    runner.event(&base, &head, Some(&body));
    let out = runner.run(repo.path(), &["ci", "pr-check", "--now", NOW]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("the diff suggests risk class high (3 files), set by src/billing/round.rs"),
        "{out:?}"
    );
    let outputs = runner.outputs();
    assert_eq!((outputs["verdict"].as_str(), outputs["risk"].as_str()), ("pass", "high"));
    assert!(
        runner.summary().starts_with("## :white_check_mark: Release decision: ready"),
        "{}",
        runner.summary()
    );
    // GitLab's way in: the description from a file (stdin here), the base given; no runner files.
    let mut child = release_gate()
        .args(["ci", "pr-check", "--body-file", "-", "--base", &base, "--format", "json", "--now", NOW])
        .current_dir(repo.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), body.as_bytes()).unwrap();
    let out: Run = child.wait_with_output().unwrap().into();
    assert_eq!(out.code, 0, "{out:?}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["verdict"], "pass");
    assert_eq!(json["classification"]["suggested"], "high");
}

#[test]
fn pr_check_without_a_decision_is_an_input_error_on_no_file() {
    let (repo, base, head) = pull_request_repo("pr-check-empty");
    let runner = FakeRunner::new("pr-check-empty");
    let event = runner.event(&base, &head, None);
    let mut payload: serde_json::Value = serde_json::from_slice(&std::fs::read(&event).unwrap()).unwrap();
    payload["pull_request"]["body"] = serde_json::Value::Null;
    std::fs::write(&event, payload.to_string()).unwrap();
    let out = runner.run(repo.path(), &["ci", "pr-check", "--format", "github", "--now", NOW]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stdout.starts_with(
            "::error title=input-error::the pull request #42 description holds no Release Decision"
        ),
        "{out:?}"
    );
    assert_eq!(runner.outputs()["verdict"], "error");
    assert!(runner.summary().contains("none could be read"), "{}", runner.summary());
    // Not a pull request event at all: said, exit 2.
    std::fs::write(&event, r#"{"ref": "refs/heads/main"}"#).unwrap();
    let out = runner.run(repo.path(), &["ci", "pr-check"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("has no `pull_request`"), "{out:?}");
}

#[test]
fn annotations_stop_at_ten_per_severity_and_the_summary_lists_every_finding() {
    let (repo, base, head) = pull_request_repo("pr-check-many");
    let runner = FakeRunner::new("pr-check-many");
    // A description that is only the heading: every field is missing.
    runner.event(&base, &head, Some("### Release Decision\n\n- Release scope:\n"));
    let json = runner.run(repo.path(), &["ci", "pr-check", "--format", "json", "--now", NOW]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let errors =
        report["report"]["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error").count();
    assert!(errors > 10, "the case needs more than ten errors: {errors}");
    std::fs::write(runner.file("summary.md"), "").unwrap();
    let out = runner.run(repo.path(), &["ci", "pr-check", "--format", "github", "--now", NOW]);
    assert_eq!(out.code, 1, "{out:?}");
    let shown: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(shown.len(), 10, "{out:?}");
    assert!(
        shown[9].contains(&format!(
            "{} more errors not shown as annotations (GitHub shows 10 per step)",
            errors - 9
        )),
        "{}",
        shown[9]
    );
    assert_eq!(runner.summary().matches("| :x: error |").count(), errors, "{}", runner.summary());
}

#[test]
fn the_summary_stays_under_one_mebibyte_per_step_and_says_where_it_was_cut() {
    let repo = GitRepo::new("pr-check-large");
    let base = repo.git(&["rev-parse", "v1"]);
    let long = "x".repeat(200);
    let names: Vec<String> = (0..5000).map(|n| format!("src/billing/{n:05}-{long}.rs")).collect();
    let files: Vec<(&str, &str)> = names.iter().map(|name| (name.as_str(), "fn f() {}\n")).collect();
    let head = repo.commit(&files, "a large diff");
    let runner = FakeRunner::new("pr-check-large");
    let body = std::fs::read_to_string(repo_root().join("examples/release-decision.md")).unwrap();
    runner.event(&base, &head, Some(&body));
    // The step wrote to its summary before: that counts against the same 1 MiB.
    std::fs::write(runner.file("summary.md"), "earlier step output\n".repeat(1000)).unwrap();
    let out = runner.run(repo.path(), &["ci", "pr-check", "--now", NOW]);
    assert_eq!(out.code, 0, "{out:?}");
    let summary = runner.summary();
    assert!(summary.len() <= 1024 * 1024, "{}", summary.len());
    assert!(summary.len() > 1024 * 1024 - 4096, "cut close to the limit: {}", summary.len());
    assert!(summary.contains("> This summary was cut after"), "{}", &summary[summary.len() - 400..]);
    assert!(out.stderr.contains("the job summary was cut to GitHub's limit"), "{out:?}");
    assert_eq!(runner.outputs()["files"], "5000");
}

/// Runs a tool from the test environment (`scripts/test.sh` installs it); missing fails the test.
fn venv_tool(name: &str) -> PathBuf {
    let path = repo_root().join(".venv/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `bash scripts/test.sh`, which installs tests/requirements.txt",
        path.display()
    );
    path
}

fn check_with(program: &Path, args: &[&str]) -> Run {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null());
    command.output().unwrap_or_else(|error| panic!("{}: {error}", program.display())).into()
}

#[test]
fn junit_and_code_quality_reports_validate_and_put_the_description_on_no_file() {
    let (repo, base, head) = pull_request_repo("pr-check-reports");
    let runner = FakeRunner::new("pr-check-reports");
    runner.event(&base, &head, None);
    let reports = TempDir::new("ci-reports");
    let junit = runner.run(repo.path(), &["ci", "pr-check", "--format", "junit", "--now", NOW]);
    assert_eq!(junit.code, 1, "{junit:?}");
    let junit_file = reports.path().join("junit.xml");
    std::fs::write(&junit_file, &junit.stdout).unwrap();
    let checked = check_with(
        &venv_tool("python"),
        &[repo_root().join("tests/tools/check_junit.py").to_str().unwrap(), junit_file.to_str().unwrap()],
    );
    assert_eq!(checked.code, 0, "{checked:?}");
    let parsed: serde_json::Value = serde_json::from_str(&checked.stdout).unwrap();
    assert!(
        parsed["failures"].as_array().unwrap().iter().any(|f| f["type"] == "risk-below-suggested"),
        "{parsed}"
    );
    assert!(parsed["cases"].as_array().unwrap().iter().all(|case| case["file"].is_null()), "{parsed}");

    let gitlab = runner.run(repo.path(), &["ci", "pr-check", "--format", "gitlab", "--now", NOW]);
    assert_eq!(gitlab.code, 1, "{gitlab:?}");
    let gitlab_file = reports.path().join("gl-code-quality-report.json");
    std::fs::write(&gitlab_file, &gitlab.stdout).unwrap();
    let schema = data("ci/codequality.schema.json");
    let checked = check_with(
        &venv_tool("check-jsonschema"),
        &["--schemafile", schema.to_str().unwrap(), gitlab_file.to_str().unwrap()],
    );
    assert_eq!(checked.code, 0, "{checked:?}");
    let issues: serde_json::Value = serde_json::from_str(&gitlab.stdout).unwrap();
    let issues = issues.as_array().unwrap();
    assert!(
        issues.iter().all(|issue| issue["location"]["path"] == "pull request #42 description"),
        "{issues:?}"
    );
    let fingerprints: std::collections::BTreeSet<&str> =
        issues.iter().map(|i| i["fingerprint"].as_str().unwrap()).collect();
    assert_eq!(fingerprints.len(), issues.len(), "fingerprints are unique");

    // A file's findings keep the file and line, in all three formats.
    let decision = repo.path().join("decision.md");
    std::fs::write(&decision, "### Release Decision\n\n- Release scope: billing\n- Risk class: maybe\n")
        .unwrap();
    let out = repo.run(&["validate", "decision.md", "--format", "gitlab", "--base", "v1"]);
    assert_eq!(out.code, 1, "{out:?}");
    std::fs::write(&gitlab_file, &out.stdout).unwrap();
    let checked = check_with(
        &venv_tool("check-jsonschema"),
        &["--schemafile", schema.to_str().unwrap(), gitlab_file.to_str().unwrap()],
    );
    assert_eq!(checked.code, 0, "{checked:?}");
    let issues: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        issues
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["location"]["path"] == "decision.md" && i["location"]["lines"]["begin"] == 4),
        "{issues}"
    );
    let out = repo.run(&["validate", "decision.md", "--format", "junit", "--base", "v1"]);
    std::fs::write(&junit_file, &out.stdout).unwrap();
    let checked = check_with(
        &venv_tool("python"),
        &[repo_root().join("tests/tools/check_junit.py").to_str().unwrap(), junit_file.to_str().unwrap()],
    );
    assert_eq!(checked.code, 0, "{checked:?}");
    assert!(checked.stdout.contains("\"file\": \"decision.md\""), "{checked:?}");

    // A schema check that cannot fail proves nothing: a report without a location is refused.
    std::fs::write(
        &gitlab_file,
        r#"[{"description": "x", "check_name": "x", "fingerprint": "x", "severity": "major"}]"#,
    )
    .unwrap();
    let checked = check_with(
        &venv_tool("check-jsonschema"),
        &["--schemafile", schema.to_str().unwrap(), gitlab_file.to_str().unwrap()],
    );
    assert_eq!(checked.code, 1, "{checked:?}");
}

// ---------------------------------------------------------------------------------------------
// The deploy gate
// ---------------------------------------------------------------------------------------------

const PRIYA: &str = "test-only-priya-ed25519";
const LEE: &str = "test-only-lee-ed25519";

/// A repository whose decision `rel` was signed by both panel keys a minute ago.
struct Signed {
    _temp: TempDir,
    repo: PathBuf,
    head: String,
    decided: String,
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_command()
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn signed(name: &str) -> Signed {
    let temp = TempDir::new(&format!("deploy-{name}"));
    let repo = temp.path().join("repo");
    let keys = temp.path().join("keys");
    std::fs::create_dir_all(repo.join(".release")).unwrap();
    std::fs::create_dir_all(&keys).unwrap();
    git(&repo, &["init", "-q"]);
    let decided = (jiff::Timestamp::now() - jiff::SignedDuration::from_mins(1))
        .round(jiff::Unit::Second)
        .unwrap()
        .to_string();
    let text = std::fs::read_to_string(data("signing/decision.md")).unwrap();
    std::fs::write(repo.join("rel.md"), text.replace("2026-11-27T14:05:00Z", &decided)).unwrap();
    git(&repo, &["add", "rel.md"]);
    git(&repo, &["commit", "-q", "-m", "release candidate"]);
    let head = git(&repo, &["rev-parse", "HEAD"]);
    let mut signers = String::new();
    for (principal, key) in [("Priya Shah", PRIYA), ("Lee Park", LEE)] {
        let path = keys.join(key);
        std::fs::copy(data(&format!("signing/{key}")), &path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let public = std::fs::read_to_string(data(&format!("signing/{key}.pub"))).unwrap();
        let public: Vec<&str> = public.split_whitespace().take(2).collect();
        signers.push_str(&format!("\"{principal}\" {}\n", public.join(" ")));
    }
    std::fs::write(repo.join(".release/allowed_signers"), signers).unwrap();
    for key in [PRIYA, LEE] {
        let out: Run = release_gate()
            .args(["sign", "rel.md", "--key", keys.join(key).to_str().unwrap(), "--commit", "HEAD"])
            .current_dir(&repo)
            .stdin(Stdio::null())
            .env_remove("RELEASE_GATE_KEY_PASSPHRASE")
            .output()
            .unwrap()
            .into();
        assert_eq!(out.code, 0, "{out:?}");
    }
    Signed { _temp: temp, repo, head, decided }
}

#[test]
fn the_deploy_gate_passes_a_signed_go_for_exactly_this_commit() {
    let fx = signed("pass");
    let runner = FakeRunner::new("deploy-pass");
    let out = runner.run(&fx.repo, &["verify", "rel", "--commit", &fx.head, "--format", "github"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "", "no failure, no annotation");
    let outputs = runner.outputs();
    assert_eq!(outputs["verdict"], "pass");
    assert_eq!(outputs["decision_id"], "rel");
    assert_eq!(outputs["risk"], "high");
    assert_eq!(outputs["decision"], "GO");
    assert_eq!(outputs["commit"], fx.head);
    assert_eq!(outputs["signers"], "Priya Shah, Lee Park");
    assert_eq!(outputs["log_entries"], "2");
    // The checkpoint in the summary and outputs is the one `log checkpoint` prints: an outside pin.
    let checkpoint = release_gate().args(["log", "checkpoint"]).current_dir(&fx.repo).output().unwrap();
    let checkpoint = String::from_utf8(checkpoint.stdout).unwrap();
    assert_eq!(format!("{}\n", outputs["checkpoint"]), checkpoint);
    let summary = runner.summary();
    assert!(summary.contains(&format!("```text\n{checkpoint}```")), "{summary}");
    let summary = summary
        .replace(&checkpoint, "<checkpoint>\n")
        .replace(&fx.head, "<commit>")
        .replace(short(&fx.head), "<commit>")
        .replace(&fx.decided, "<decided>");
    // The policy's digest changes with every edit of the default policy's text; the summary shows one.
    let summary =
        summary
            .lines()
            .map(|line| {
                if line.starts_with("| Policy | `sha256:") { "| Policy | `sha256:<policy>` |" } else { line }
            })
            .map(|line| format!("{line}\n"))
            .collect::<String>();
    insta::assert_snapshot!("deploy_gate_summary", summary);
}

#[test]
fn the_deploy_gate_fails_another_commit_and_an_unpublished_entry() {
    let fx = signed("fail");
    git(&fx.repo, &["commit", "-q", "--allow-empty", "-m", "a later commit"]);
    let later = git(&fx.repo, &["rev-parse", "HEAD"]);
    let runner = FakeRunner::new("deploy-fail");
    let out = runner
        .run(&fx.repo, &["verify", "rel", "--commit", &later, "--require-published", "--format", "github"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("::error title=commit-mismatch::"), "{out:?}");
    assert!(!out.stdout.contains("file="), "a signed decision's failure is on no file: {out:?}");
    let outputs = runner.outputs();
    assert_eq!(outputs["verdict"], "fail");
    assert!(outputs["failures"].split(',').any(|code| code == "commit-mismatch"), "{outputs:?}");
    let summary = runner.summary();
    assert!(summary.starts_with("## :x: Deploy gate: `rel` does not verify for"), "{summary}");
    assert!(summary.contains("What follows is what the statement claims; it did not verify."), "{summary}");
    // JUnit for GitLab: one failing case per failure.
    let out = runner.run(&fx.repo, &["verify", "rel", "--commit", &later, "--format", "junit"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains(r#"<failure type="commit-mismatch""#), "{out:?}");
}

// ---------------------------------------------------------------------------------------------
// The action and the templates
// ---------------------------------------------------------------------------------------------

/// A release folder as the action downloads it: the real binary in its archive, and the archive's `.sha256`.
fn release_folder(dir: &Path) -> (PathBuf, String) {
    let machine = String::from_utf8(Command::new("uname").arg("-m").output().unwrap().stdout).unwrap();
    let target = format!("{}-unknown-linux-gnu", machine.trim());
    let version = env!("CARGO_PKG_VERSION");
    let asset = format!("release-gate-{version}-{target}.tar.gz");
    let folder = dir.join(format!("v{version}"));
    std::fs::create_dir_all(&folder).unwrap();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_release-gate"));
    let status = Command::new("tar")
        .args([
            "-czf",
            folder.join(&asset).to_str().unwrap(),
            "-C",
            binary.parent().unwrap().to_str().unwrap(),
            "release-gate",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let sum = Command::new("sha256sum").arg(&asset).current_dir(&folder).output().unwrap();
    let sum = String::from_utf8(sum.stdout).unwrap();
    std::fs::write(folder.join(format!("{asset}.sha256")), &sum).unwrap();
    (folder, sum.split_whitespace().next().unwrap().to_owned())
}

fn run_action(workdir: &Path, inputs: &[String]) -> (i32, serde_json::Value) {
    let mut command = Command::new(venv_tool("python"));
    command
        .arg(repo_root().join("tests/tools/run_action.py"))
        .arg(repo_root().join("action.yml"))
        .arg(workdir)
        .args(inputs)
        .stdin(Stdio::null())
        .env_remove("GITHUB_ACTIONS");
    crate::support::hermetic(&mut command);
    let out: Run = command.output().unwrap().into();
    let report = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    (out.code, report)
}

#[test]
fn the_action_installs_a_checksum_verified_binary_and_runs_the_command() {
    let temp = TempDir::new("action");
    let (folder, sum) = release_folder(temp.path());
    let (repo, base, head) = pull_request_repo("action");
    let runner = FakeRunner::new("action");
    let event = runner.event(&base, &head, None);
    let url = format!("release-url=file://{}", folder.parent().unwrap().join("v{version}").display());
    let version = format!("version={}", env!("CARGO_PKG_VERSION"));
    let args = format!("args=ci pr-check --event {} --format github --now {NOW}", event.display());
    let (code, report) =
        run_action(repo.path(), &[version.clone(), url.clone(), "install=binary".into(), args.clone()]);
    let steps = report["steps"].as_array().unwrap();
    assert_eq!(steps[0]["outcome"], "success", "{report:#}");
    assert!(steps[0]["stdout"].as_str().unwrap().contains(&format!("SHA-256 {sum} verified")), "{report:#}");
    // The command ran from PATH and failed the step as the check does, with its annotations and outputs.
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(steps[1]["code"], 1, "{report:#}");
    assert!(steps[1]["stdout"].as_str().unwrap().contains("title=risk-below-suggested"), "{report:#}");
    assert_eq!(steps[1]["outputs"]["suggested_risk"], "high", "{report:#}");

    // A pinned checksum that matches installs too; only installing (no args) skips the run step.
    let (code, report) = run_action(repo.path(), &[version.clone(), url.clone(), format!("sha256={sum}")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["steps"][1]["outcome"], "skipped", "{report:#}");
    assert!(
        report["path"][0]
            .as_str()
            .unwrap()
            .ends_with(&format!("release-gate/{}/bin", env!("CARGO_PKG_VERSION")))
    );

    // A wrong checksum is refused: nothing installed, nothing run, even in auto mode (no cargo fallback).
    let wrong = "0".repeat(64);
    for inputs in [vec![version.clone(), url.clone(), format!("sha256={wrong}"), args.clone()], {
        let asset = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "sha256"))
            .unwrap();
        std::fs::write(&asset, format!("{wrong}  release-gate.tar.gz\n")).unwrap();
        vec![version.clone(), url.clone(), "install=auto".into(), args.clone()]
    }] {
        let (code, report) = run_action(repo.path(), &inputs);
        assert_eq!(code, 1, "{report:#}");
        let steps = report["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 1, "the run step never starts: {report:#}");
        let stdout = steps[0]["stdout"].as_str().unwrap();
        assert!(
            stdout.contains(&format!(
                "::error title=release-gate checksum mismatch::release-gate-{}",
                env!("CARGO_PKG_VERSION")
            )),
            "{report:#}"
        );
        assert!(stdout.contains(&format!("expected {wrong}: refusing to install it")), "{report:#}");
        assert!(!stdout.contains("cargo install"), "{report:#}");
    }
}

/// The fenced blocks of README.md that hold workflows using the action, and GitLab configuration.
fn readme_blocks(marker: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("\n```").map(|(block, _)| format!("{block}\n")))
        .filter(|block| block.contains(marker))
        .collect()
}

fn check_schema(builtin: &str, file: &Path) {
    let out =
        check_with(&venv_tool("check-jsonschema"), &["--builtin-schema", builtin, file.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{} against {builtin}: {out:?}", file.display());
}

#[test]
fn the_action_the_readme_workflows_and_the_gitlab_template_validate_against_the_published_schemas() {
    check_schema("vendor.github-actions", &repo_root().join("action.yml"));
    let temp = TempDir::new("schemas");
    let workflows = readme_blocks("uses: release-gate/release-gate@");
    assert_eq!(workflows.len(), 2, "the README has the pull-request check and the deploy gate");
    for (n, workflow) in workflows.iter().enumerate() {
        let file = temp.path().join(format!("workflow-{n}.yml"));
        std::fs::write(&file, workflow).unwrap();
        check_schema("vendor.github-workflows", &file);
    }
    // A component file is two documents: its `spec` header and its jobs; each is checked.
    let template = std::fs::read_to_string(repo_root().join("templates/release-gate.yml")).unwrap();
    let (spec, jobs) = template.split_once("\n---\n").unwrap();
    assert!(spec.contains("spec:\n  inputs:"), "{spec}");
    for (name, text) in [("spec.yml", spec), ("jobs.yml", jobs)] {
        let file = temp.path().join(name);
        std::fs::write(&file, text).unwrap();
        check_schema("vendor.gitlab-ci", &file);
    }
    for (n, block) in readme_blocks("component: ").iter().enumerate() {
        let file = temp.path().join(format!("gitlab-{n}.yml"));
        std::fs::write(&file, block).unwrap();
        check_schema("vendor.gitlab-ci", &file);
    }
    // The validator refuses what the platform would: an action step without a shell.
    let broken = std::fs::read_to_string(repo_root().join("action.yml")).unwrap().replacen(
        "      shell: bash\n",
        "",
        1,
    );
    let file = temp.path().join("broken-action.yml");
    std::fs::write(&file, broken).unwrap();
    let out = check_with(
        &venv_tool("check-jsonschema"),
        &["--builtin-schema", "vendor.github-actions", file.to_str().unwrap()],
    );
    assert_eq!(out.code, 1, "{out:?}");
}
