//! The GitHub Actions runner's files: the job summary (`GITHUB_STEP_SUMMARY`) and step outputs
//! (`GITHUB_OUTPUT`), written only when `GITHUB_ACTIONS=true`, within the runner's limits.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

/// GitHub keeps at most 1 MiB of job summary per step and refuses a step that writes more; release-gate
/// stays under it, counting what the step wrote before, and says where it cut.
pub const SUMMARY_LIMIT: u64 = 1024 * 1024;

/// The runner's files, when running under GitHub Actions.
#[derive(Debug, Clone)]
pub struct Runner {
    summary: Option<PathBuf>,
    output: Option<PathBuf>,
}

impl Runner {
    /// The runner, when `GITHUB_ACTIONS` is `true`; a file whose variable is unset or empty is skipped.
    pub fn detect() -> Option<Runner> {
        if std::env::var_os("GITHUB_ACTIONS").is_none_or(|value| value != "true") {
            return None;
        }
        let file = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from);
        Some(Runner { summary: file("GITHUB_STEP_SUMMARY"), output: file("GITHUB_OUTPUT") })
    }

    /// Appends Markdown to the job summary, cut at a line so the step's summary stays within
    /// [`SUMMARY_LIMIT`]; a cut summary ends with a note saying so and where the full report is.
    pub fn summary(&self, markdown: &str, full_report: &str) -> anyhow::Result<()> {
        let Some(path) = &self.summary else { return Ok(()) };
        let written = std::fs::metadata(path).map_or(0, |meta| meta.len());
        let budget = usize::try_from(SUMMARY_LIMIT.saturating_sub(written)).unwrap_or(usize::MAX);
        let text = match fit(markdown, budget, full_report) {
            Some(text) => text,
            None => {
                crate::output::note(&format!(
                    "the job summary is full ({written} bytes of GitHub's {SUMMARY_LIMIT} per step): nothing added; {full_report}"
                ));
                return Ok(());
            }
        };
        if text.len() < markdown.len() {
            crate::output::note(&format!(
                "the job summary was cut to GitHub's limit of {SUMMARY_LIMIT} bytes per step; {full_report}"
            ));
        }
        append(path, text.as_bytes())
            .with_context(|| format!("cannot write the job summary {}", path.display()))
    }

    /// Sets step outputs; a value with a line break uses the runner's delimiter form.
    pub fn outputs(&self, pairs: &[(&str, String)]) -> anyhow::Result<()> {
        let Some(path) = &self.output else { return Ok(()) };
        let mut text = String::new();
        for (name, value) in pairs {
            if value.contains(['\n', '\r']) {
                let mut delimiter = String::from("RELEASE_GATE_EOF");
                while value.contains(&delimiter) {
                    delimiter.push('_');
                }
                text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
            } else {
                text.push_str(&format!("{name}={value}\n"));
            }
        }
        append(path, text.as_bytes())
            .with_context(|| format!("cannot write the step outputs {}", path.display()))
    }
}

fn append(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().append(true).create(true).open(path)?;
    file.write_all(bytes)?;
    file.flush()
}

/// `markdown` whole when it fits in `budget` bytes, else cut after a whole line with a note at the end
/// saying so; `None` when not even the note fits.
fn fit(markdown: &str, budget: usize, full_report: &str) -> Option<String> {
    if markdown.len() <= budget {
        return Some(markdown.to_owned());
    }
    let note = |kept: usize| {
        format!(
            "\n> [!WARNING]\n> This summary was cut after {kept} of its {} bytes: GitHub keeps at most 1 MiB of job \
             summary per step. {full_report}\n",
            markdown.len()
        )
    };
    // The note's length grows with the digits of `kept`; the widest it can be is with `markdown.len()`.
    let room = budget.checked_sub(note(markdown.len()).len())?;
    let mut cut = room.min(markdown.len());
    while !markdown.is_char_boundary(cut) {
        cut -= 1;
    }
    let kept = markdown.get(..cut).and_then(|head| head.rfind('\n')).map_or(0, |newline| newline + 1);
    let mut text = markdown.get(..kept).unwrap_or_default().to_owned();
    text.push_str(&note(kept));
    Some(text)
}

/// Text for a Markdown table cell or a line: `|`, HTML and line breaks cannot end the cell or inject markup.
pub fn cell(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '|' => escaped.push_str("\\|"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '`' => escaped.push('\''),
            '*' | '_' | '[' | ']' | '~' | '\\' => {
                escaped.push('\\');
                escaped.push(ch);
            }
            '\n' | '\r' => escaped.push(' '),
            _ => escaped.push(ch),
        }
    }
    escaped
}

/// Text for a Markdown code span in a table: it cannot end the span, the cell or the line.
pub fn code(text: &str) -> String {
    text.replace('`', "'").replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_after_a_whole_line_and_says_so() {
        let markdown = "line one\nline two\nline three\n".repeat(100);
        let fitted = fit(&markdown, 500, "run with --format json").unwrap();
        assert!(fitted.len() <= 500, "{}", fitted.len());
        let (kept, note) = fitted.split_once("\n> [!WARNING]").unwrap();
        assert!(markdown.starts_with(kept) && kept.ends_with('\n'));
        assert!(note.contains(&format!("cut after {} of its {} bytes", kept.len(), markdown.len())));
        assert_eq!(fit("short\n", 500, "x").as_deref(), Some("short\n"));
        assert_eq!(fit(&markdown, 10, "x"), None);
    }

    #[test]
    fn cells_cannot_break_the_table_or_add_markup() {
        assert_eq!(cell("a|b\n<img src=x>&`c`"), "a\\|b &lt;img src=x&gt;&amp;'c'");
        assert_eq!(cell("**/*billing*/** [x](y)"), "\\*\\*/\\*billing\\*/\\*\\* \\[x\\](y)");
        assert_eq!(code("a`b|c\nd"), "a'b\\|c d");
    }
}
