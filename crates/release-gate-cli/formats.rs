//! The machine formats every command that reports findings shares (`--format github|junit|gitlab`): one
//! list of diagnostics, three renderings, so the same finding reads the same on every CI platform.
//!
//! A diagnostic names a file (and a line) only when it is about that file: a finding about a pull
//! request's description has neither, so no platform pins it to a line of the diff it does not belong to.

use std::io::Write;

use release_gate_core::Severity;

/// GitHub shows at most this many error annotations, and as many warnings, per step; the rest are dropped
/// silently, so release-gate stops one short and says how many more there are.
pub const GITHUB_ANNOTATIONS_PER_SEVERITY: usize = 10;

/// One finding, failure or input error, wherever it came from.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The stable kebab-case code (a finding code, a verify failure code, `input-error`).
    pub code: String,
    /// What is wrong and what to do about it.
    pub message: String,
    /// The repository file it is about, relative to the root; `None` for anything that is not a file (a
    /// pull request's description, a signed decision as a whole).
    pub file: Option<String>,
    /// The 1-based line in `file`.
    pub line: Option<u32>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: &str, message: &str) -> Diagnostic {
        Diagnostic { severity, code: code.to_owned(), message: message.to_owned(), file: None, line: None }
    }

    /// The findings of a report, attached to `file` (and their lines) when the report read a file.
    pub fn from_findings(findings: &[release_gate_core::Finding], file: Option<&str>) -> Vec<Diagnostic> {
        findings
            .iter()
            .map(|finding| Diagnostic {
                severity: finding.severity,
                code: finding.code.as_str().to_owned(),
                message: finding.message.clone(),
                file: file.map(str::to_owned),
                line: file.and(finding.line),
            })
            .collect()
    }
}

/// What a run checked, for the formats that report a whole run (JUnit's suite, a summary).
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// The JUnit suite's name: what was checked, e.g. `validate rel.md` or `verify 2026-11-27-search`.
    pub name: &'a str,
    /// Where a diagnostic with no file is said to be (Code Quality needs a path): e.g.
    /// `pull request description`.
    pub subject: &'a str,
    pub passed: bool,
}

/// How many annotations of each severity were left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Omitted {
    pub errors: usize,
    pub warnings: usize,
}

impl Omitted {
    pub fn any(self) -> bool {
        self.errors > 0 || self.warnings > 0
    }
}

/// GitHub workflow commands, errors first, at most [`GITHUB_ANNOTATIONS_PER_SEVERITY`] of each severity:
/// past that, the last one shown says how many more there are and where to read them.
pub fn github(out: &mut impl Write, diagnostics: &[Diagnostic], more_in: &str) -> std::io::Result<Omitted> {
    let mut omitted = Omitted::default();
    for severity in [Severity::Error, Severity::Warning] {
        let of: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.severity == severity).collect();
        let shown = if of.len() > GITHUB_ANNOTATIONS_PER_SEVERITY {
            GITHUB_ANNOTATIONS_PER_SEVERITY - 1
        } else {
            of.len()
        };
        for diagnostic in of.iter().take(shown) {
            annotation(out, diagnostic)?;
        }
        let left = of.len() - shown;
        if left > 0 {
            let noun = match severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let message = format!(
                "{left} more {noun}{} not shown as annotations (GitHub shows {GITHUB_ANNOTATIONS_PER_SEVERITY} per step): {more_in}",
                if left == 1 { "" } else { "s" }
            );
            annotation(out, &Diagnostic::new(severity, "more-findings", &message))?;
            match severity {
                Severity::Error => omitted.errors = left,
                Severity::Warning => omitted.warnings = left,
            }
        }
    }
    out.flush()?;
    Ok(omitted)
}

fn annotation(out: &mut impl Write, diagnostic: &Diagnostic) -> std::io::Result<()> {
    let mut properties = Vec::new();
    if let Some(file) = &diagnostic.file {
        properties.push(format!("file={}", crate::output::github_property(file)));
        if let Some(line) = diagnostic.line {
            properties.push(format!("line={line}"));
        }
    }
    properties.push(format!("title={}", crate::output::github_property(&diagnostic.code)));
    writeln!(
        out,
        "::{} {}::{}",
        diagnostic.severity,
        properties.join(","),
        crate::output::github_data(&diagnostic.message)
    )
}

/// A JUnit XML report (the shape GitLab, Jenkins and most CI read): one suite for the run, one failing
/// test case per error, one passing case with the text in `system-out` per warning (a warning does not
/// block a release), and one passing case for a run with no findings.
pub fn junit(out: &mut impl Write, run: Run<'_>, diagnostics: &[Diagnostic]) -> std::io::Result<()> {
    let failures = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let tests = diagnostics.len().max(1);
    let name = xml(run.name);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="release-gate" tests="{tests}" failures="{failures}" errors="0">"#)?;
    writeln!(
        out,
        r#"  <testsuite name="{name}" tests="{tests}" failures="{failures}" errors="0" skipped="0">"#
    )?;
    if diagnostics.is_empty() {
        let verdict = if run.passed { "passes" } else { "does not pass" };
        writeln!(out, r#"    <testcase classname="release-gate" name="{name} {verdict}"/>"#)?;
    }
    for diagnostic in diagnostics {
        let place = place(diagnostic, run.subject);
        let case_name = xml(&format!("{} at {place}", diagnostic.code));
        let file =
            diagnostic.file.as_deref().map(|file| format!(r#" file="{}""#, xml(file))).unwrap_or_default();
        let message = xml(&diagnostic.message);
        writeln!(
            out,
            r#"    <testcase classname="release-gate.{}" name="{case_name}"{file}>"#,
            xml(&diagnostic.code)
        )?;
        match diagnostic.severity {
            Severity::Error => writeln!(
                out,
                r#"      <failure type="{}" message="{message}">{}: {message}</failure>"#,
                xml(&diagnostic.code),
                xml(&place)
            )?,
            Severity::Warning => {
                writeln!(
                    out,
                    "      <system-out>warning[{}] {}: {message}</system-out>",
                    xml(&diagnostic.code),
                    xml(&place)
                )?;
            }
        }
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")?;
    out.flush()
}

/// Where a diagnostic is, for people: `file:line`, `file`, or the run's subject.
fn place(diagnostic: &Diagnostic, subject: &str) -> String {
    match (&diagnostic.file, diagnostic.line) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        (Some(file), None) => file.clone(),
        (None, _) => subject.to_owned(),
    }
}

/// Text made safe for XML 1.0: markup characters escaped, and the characters XML cannot hold at all
/// (most control characters) replaced, so hostile input cannot break the report.
fn xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' => escaped.push(ch),
            '\r' => escaped.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => escaped.push('\u{fffd}'),
            _ => escaped.push(ch),
        }
    }
    escaped
}

/// A GitLab Code Quality report: a JSON array of issues with a description, a check name, a fingerprint
/// unique within the report and stable across runs, a severity (`major` for an error, `minor` for a
/// warning) and a location. GitLab requires a path and a line; a diagnostic with no file is placed at line 1
/// of the run's subject (not a file of the repository), so the merge request lists it without pinning it
/// to a line of the diff.
pub fn gitlab(out: &mut impl Write, run: Run<'_>, diagnostics: &[Diagnostic]) -> std::io::Result<()> {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    let issues: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|diagnostic| {
            let path = diagnostic.file.as_deref().unwrap_or(run.subject);
            let line = diagnostic.file.as_ref().and(diagnostic.line).unwrap_or(1);
            let key = format!("{}\0{path}\0{line}\0{}", diagnostic.code, diagnostic.message);
            // Identical findings stay distinct: the n-th copy hashes its position among them.
            let copy = seen.entry(key.clone()).or_insert(0);
            *copy += 1;
            let fingerprint = release_gate_core::signing::sha256_hex(format!("{key}\0{copy}").as_bytes());
            serde_json::json!({
                "type": "issue",
                "description": format!("{}: {}", diagnostic.code, diagnostic.message),
                "check_name": diagnostic.code,
                "fingerprint": fingerprint,
                "severity": match diagnostic.severity {
                    Severity::Error => "major",
                    Severity::Warning => "minor",
                },
                "location": { "path": path, "lines": { "begin": line } },
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &issues)?;
    writeln!(out)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_replaces_what_xml_cannot_hold() {
        assert_eq!(xml(r#"<a href="x">&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;");
        assert_eq!(xml("a\u{0}b\u{1b}c\td\re"), "a\u{fffd}b\u{fffd}c\td&#13;e");
    }

    #[test]
    fn github_keeps_ten_of_each_severity_and_counts_the_rest() {
        let diagnostics: Vec<Diagnostic> =
            (0..25).map(|n| Diagnostic::new(Severity::Error, "scope-missing", &format!("e{n}"))).collect();
        let mut out = Vec::new();
        let omitted = github(&mut out, &diagnostics, "see the summary").unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 10);
        assert_eq!(omitted, Omitted { errors: 16, warnings: 0 });
        assert!(text.lines().last().unwrap().contains("16 more errors not shown"), "{text}");
    }
}
