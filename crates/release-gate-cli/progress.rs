//! Showing long runs: a live line on a terminal (which check, elapsed time), plain lines otherwise.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use release_gate_repo::evidence::Progress;

use crate::output::{DIM, ERROR, GOOD};

/// Reports progress on stderr, so stdout stays for results.
#[derive(Debug)]
pub struct Reporter {
    live: bool,
    last_draw: Option<Duration>,
}

impl Reporter {
    pub fn new() -> Reporter {
        Reporter { live: std::io::stderr().is_terminal(), last_draw: None }
    }

    pub fn report(&mut self, event: Progress<'_>) {
        let mut err = anstream::stderr();
        // Progress is a courtesy: a failed write to stderr must not stop the run.
        let _ = match event {
            Progress::Started { index, total, name } => {
                self.last_draw = None;
                if self.live {
                    write!(err, "\r\x1b[2K[{}/{total}] {name} ...", index + 1)
                } else {
                    writeln!(err, "[{}/{total}] {name}: running", index + 1)
                }
            }
            Progress::Running { name, elapsed } => {
                let due = self
                    .last_draw
                    .is_none_or(|last| elapsed.saturating_sub(last) >= Duration::from_millis(200));
                if self.live && due {
                    self.last_draw = Some(elapsed);
                    write!(err, "\r\x1b[2K{name} {DIM}{:.1}s{DIM:#}", elapsed.as_secs_f64())
                } else {
                    Ok(())
                }
            }
            Progress::Finished { result } => {
                let clear = if self.live { "\r\x1b[2K" } else { "" };
                if result.passed {
                    writeln!(err, "{clear}{GOOD}pass{GOOD:#} {}: {}", result.name, result.summary())
                } else {
                    writeln!(err, "{clear}{ERROR}fail{ERROR:#} {}: {}", result.name, result.summary())
                }
            }
            Progress::Polling { attempt, since_rollback } => {
                if self.live {
                    write!(
                        err,
                        "\r\x1b[2Kwaiting for recovery: check #{attempt}, {:.1}s since rollback",
                        since_rollback.as_secs_f64()
                    )
                } else {
                    writeln!(
                        err,
                        "recovery check #{attempt} at {:.1}s since rollback",
                        since_rollback.as_secs_f64()
                    )
                }
            }
        };
        let _ = err.flush();
    }
}
