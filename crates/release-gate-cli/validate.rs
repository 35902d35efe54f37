//! `release-gate validate`: a decision against the policy, as text, JSON or GitHub annotations.

use std::io::Write;

use anyhow::Context;

use release_gate_core::{Report, Severity, Verdict};

use crate::Outcome;
use crate::cli::{JudgeArgs, ReportFormat, ValidateArgs};
use crate::formats::{self, Diagnostic};
use crate::input;
use crate::output::{self, BOLD, ERROR, GOOD, WARNING};

pub fn run(args: &ValidateArgs) -> anyhow::Result<Outcome> {
    let path = &args.input.file;
    let stdin = path == std::path::Path::new("-");
    let (report, source) = match judge(path, &args.judge) {
        Ok(judged) => judged,
        Err(error) if args.format == ReportFormat::Github => {
            // CI shows annotations, not a log line: an input error is one too, on the file (never on a line
            // it cannot point at), or on none for stdin (a pull-request description).
            let file = (!stdin && input::looks_like_file(path)).then(|| input::display_name(path));
            github_error(file.as_deref(), &error)?;
            return Err(error);
        }
        Err(error) => return Err(error),
    };
    match args.format {
        ReportFormat::Json => output::json(&report)?,
        ReportFormat::Text => text(&report, &source)?,
        ReportFormat::Github | ReportFormat::Junit | ReportFormat::Gitlab => {
            ci_formats(args.format, &report, &source, stdin)?;
        }
    }
    Ok(match report.verdict {
        Verdict::Pass => Outcome::Success,
        Verdict::Fail => Outcome::Failure,
    })
}

/// Judges a decision file, `-` or a stored decision's id, the one way `validate` and `audit` share: a file
/// inside a repository with a base (given, or the latest tag) also gets the diff rules a stored decision
/// gets. Returns the report and the name of the source for messages.
pub fn judge(path: &std::path::Path, args: &JudgeArgs) -> anyhow::Result<(Report, String)> {
    let now = input::now(args.now.as_deref())?;
    if !input::looks_like_file(path) {
        // Not a file: a stored decision's id.
        let text = path.to_string_lossy();
        let id =
            input::id(&text).with_context(|| format!("{text} is neither a file nor a stored decision"))?;
        let workspace = input::workspace(args.policy.as_deref())?;
        let (_, report) = workspace.validate(&id, &args.commit, now)?;
        let file = workspace.record_path(&id);
        let shown = file.strip_prefix(std::env::current_dir()?).unwrap_or(&file).display().to_string();
        return Ok((report, shown));
    }
    // A decision written by hand has no binding of its own: the repository around it says what is released.
    // The workspace reads the policy once; outside a repository (or when it cannot open) the policy is read
    // on its own, so a policy error is reported as one.
    match input::workspace(args.policy.as_deref()) {
        Ok(workspace) => judge_text(path, &workspace.policy, Some(&workspace), args, now),
        Err(error) => {
            let policy = input::load_policy(args.policy.as_deref())?;
            if args.base.is_some() {
                return Err(error.context("--base needs a git repository"));
            }
            judge_text(path, &policy, None, args, now)
        }
    }
}

/// Judges a decision file under `policy`, with the diff of the repository around it when there is one.
fn judge_text(
    path: &std::path::Path,
    policy: &release_gate_core::Policy,
    workspace: Option<&release_gate_repo::workspace::Workspace>,
    args: &JudgeArgs,
    now: jiff::Timestamp,
) -> anyhow::Result<(Report, String)> {
    let document = input::read_document(path)?;
    let source = input::display_name(path);
    let facts = match workspace {
        Some(workspace) if document.decision.binding.is_none() => {
            workspace.document_facts(args.base.as_deref(), &args.commit)?
        }
        _ => None,
    };
    let report = match &facts {
        Some((range, facts)) => {
            output::note(&format!("{source} is compared with the diff {}", range.describe()));
            release_gate_core::validate_release(&document, policy, now, Some(facts))
        }
        None => {
            if workspace.is_some() && document.decision.binding.is_none() {
                output::note(&format!(
                    "no tag marks the last release, so {source} is judged as written, without the diff: pass --base REV to compare it with the release's changes"
                ));
            }
            release_gate_core::validate(&document, policy, now)
        }
    };
    Ok((report, source))
}

/// An input error as a GitHub workflow annotation.
fn github_error(file: Option<&str>, error: &anyhow::Error) -> std::io::Result<()> {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        message.push_str(": ");
        message.push_str(&cause.to_string());
    }
    let mut properties = Vec::new();
    if let Some(file) = file {
        properties.push(format!("file={}", output::github_property(file)));
    }
    properties.push("title=input-error".to_owned());
    let mut out = std::io::stdout().lock();
    writeln!(out, "::error {}::{}", properties.join(","), output::github_data(&message))?;
    out.flush()
}

pub fn text(report: &Report, source: &str) -> std::io::Result<()> {
    let mut out = output::stdout();
    let errors = report.errors().count();
    let warnings = report.findings.len() - errors;
    for severity in [Severity::Error, Severity::Warning] {
        for finding in report.findings.iter().filter(|f| f.severity == severity) {
            output::finding(&mut out, "", finding, source)?;
        }
    }
    if !report.findings.is_empty() {
        writeln!(out)?;
    }
    let risk = report.risk_class.map_or("undeclared".to_owned(), |class| class.to_string());
    let call = report.decision.map_or("none".to_owned(), |call| call.to_string());
    let counts = format!("{errors} error{}, {warnings} warning{}", plural(errors), plural(warnings));
    match report.verdict {
        Verdict::Pass => {
            writeln!(out, "{GOOD}pass{GOOD:#}: {source} (risk {risk}, decision {call}; {counts})")
        }
        Verdict::Fail => writeln!(
            out,
            "{ERROR}fail{ERROR:#}: {source} is not ready (risk {risk}, decision {call}; {BOLD}{counts}{BOLD:#})"
        ),
    }?;
    if warnings > 0 && errors == 0 {
        writeln!(out, "{WARNING}note{WARNING:#}: warnings do not block the release, but read them.")?;
    }
    out.flush()
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// The CI formats, through the formatter every command shares: findings on the file and its lines, or on
/// nothing for stdin (a pull request's description is not a file of the repository).
fn ci_formats(format: ReportFormat, report: &Report, source: &str, stdin: bool) -> std::io::Result<()> {
    let diagnostics = Diagnostic::from_findings(&report.findings, (!stdin).then_some(source));
    let run = formats::Run {
        name: &format!("validate {source}"),
        subject: if stdin { "decision (stdin)" } else { source },
        passed: report.verdict == Verdict::Pass,
    };
    let mut out = std::io::stdout().lock();
    match format {
        ReportFormat::Junit => formats::junit(&mut out, run, &diagnostics),
        ReportFormat::Gitlab => formats::gitlab(&mut out, run, &diagnostics),
        _ => formats::github(
            &mut out,
            &diagnostics,
            "run `release-gate validate` with --format text for all of them",
        )
        .map(|_| ()),
    }
}
