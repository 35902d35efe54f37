//! Writing to the terminal: styled text for people (plain when not a terminal), JSON for machines.
//! stdout carries results only; errors go to stderr.

use std::io::Write;

use anstyle::{AnsiColor, Style};
use release_gate_core::{Finding, Severity};

pub const ERROR: Style = AnsiColor::Red.on_default().bold();
pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
pub const GOOD: Style = AnsiColor::Green.on_default().bold();
pub const DIM: Style = Style::new().dimmed();
pub const BOLD: Style = Style::new().bold();

/// stdout, with styles stripped when it is not a terminal (or NO_COLOR is set).
pub fn stdout() -> anstream::AutoStream<std::io::StdoutLock<'static>> {
    anstream::AutoStream::auto(std::io::stdout().lock())
}

/// Prints a value as pretty JSON with a trailing newline.
pub fn json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Prints an error and its causes to stderr.
pub fn error(error: &anyhow::Error) {
    let mut err = anstream::stderr().lock();
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        message.push_str(": ");
        message.push_str(&cause.to_string());
    }
    // Nothing sensible is left to do if stderr itself fails.
    let _ = writeln!(err, "{ERROR}error{ERROR:#}: {message}");
}

/// A note for people on stderr (stdout stays for results).
pub fn note(message: &str) {
    let mut err = anstream::stderr().lock();
    let _ = writeln!(err, "{WARNING}note{WARNING:#}: {message}");
}

pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause.downcast_ref::<serde_json::Error>().and_then(|json| json.io_error_kind())
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// `error[code]: message` with `--> file:line` under it, the way compilers show diagnostics.
pub fn finding(out: &mut impl Write, indent: &str, finding: &Finding, source: &str) -> std::io::Result<()> {
    let (style, label) = match finding.severity {
        Severity::Error => (ERROR, "error"),
        Severity::Warning => (WARNING, "warning"),
    };
    writeln!(out, "{indent}{style}{label}[{}]{style:#}: {}", finding.code, finding.message)?;
    match finding.line {
        Some(line) => writeln!(out, "{indent}  {DIM}-->{DIM:#} {source}:{line}"),
        None => writeln!(out, "{indent}  {DIM}-->{DIM:#} {source}"),
    }
}

/// Escapes a GitHub workflow command's message.
pub fn github_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a GitHub workflow command's property value.
pub fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}
