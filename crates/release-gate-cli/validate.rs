//! `release-gate validate`: a decision against the policy, as text, JSON or GitHub annotations.

use std::io::Write;

use anyhow::Context;

use release_gate_core::{Report, Severity, Verdict};

use crate::Outcome;
use crate::cli::{ReportFormat, ValidateArgs};
use crate::input;
use crate::output::{self, BOLD, ERROR, GOOD, WARNING};

pub fn run(args: &ValidateArgs) -> anyhow::Result<Outcome> {
    let now = input::now(args.now.as_deref())?;
    let path = &args.input.file;
    let (report, source) = if input::looks_like_file(path) {
        let policy = input::load_policy(args.policy.as_deref())?;
        let document = input::read_document(path)?;
        (release_gate_core::validate(&document, &policy, now), input::display_name(path))
    } else {
        // Not a file: a stored decision's id.
        let text = path.to_string_lossy();
        let id =
            input::id(&text).with_context(|| format!("{text} is neither a file nor a stored decision"))?;
        let workspace = input::workspace(args.policy.as_deref())?;
        let (_, report) = workspace.validate(&id, &args.commit, now)?;
        let file = workspace.store.path(&id);
        let shown = file.strip_prefix(std::env::current_dir()?).unwrap_or(&file).display().to_string();
        (report, shown)
    };
    match args.format {
        ReportFormat::Json => output::json(&report)?,
        ReportFormat::Text => text(&report, &source)?,
        ReportFormat::Github => github(&report, &source, path == std::path::Path::new("-"))?,
    }
    Ok(match report.verdict {
        Verdict::Pass => Outcome::Success,
        Verdict::Fail => Outcome::Failure,
    })
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

fn github(report: &Report, source: &str, stdin: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let file = (!stdin).then(|| output::github_property(source));
    for finding in &report.findings {
        let mut properties = Vec::new();
        if let Some(file) = &file {
            properties.push(format!("file={file}"));
            if let Some(line) = finding.line {
                properties.push(format!("line={line}"));
            }
        }
        properties.push(format!("title={}", output::github_property(finding.code.as_str())));
        writeln!(
            out,
            "::{} {}::{}",
            finding.severity,
            properties.join(","),
            output::github_data(&finding.message)
        )?;
    }
    out.flush()
}
