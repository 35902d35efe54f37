//! `release-gate`: the command-line face of release-gate, for people and CI.
//!
//! `main` parses arguments, calls one `run`, and maps the outcome to the exit-code contract:
//! 0 pass / ready, 1 fail / not ready, 2 usage or input error.

mod attest;
mod audit;
mod cli;
mod init;
mod input;
mod keygen;
mod log;
mod output;
mod render;
mod rules;
mod schema;
mod sign;
mod validate;
mod verify;

use std::process::ExitCode;

use clap::Parser;

/// What a command concluded, before it becomes an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Pass, ready, or a command that simply succeeded.
    Success,
    /// Fail or not ready: a normal answer, not an error.
    Failure,
}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match run(args) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failure) => ExitCode::from(1),
        Err(error) if output::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            output::error(&error);
            ExitCode::from(2)
        }
    }
}

fn run(args: cli::Cli) -> anyhow::Result<Outcome> {
    match args.command {
        cli::Command::Validate(args) => validate::run(&args),
        cli::Command::Audit(args) => audit::run(&args),
        cli::Command::Render(args) => render::run(&args),
        cli::Command::Schema(args) => schema::run(&args),
        cli::Command::Init(args) => init::run(&args),
        cli::Command::Rules(args) => rules::run(&args),
        cli::Command::Keygen(args) => keygen::run(&args),
        cli::Command::Sign(args) => sign::run(&args),
        cli::Command::Verify(args) => verify::run(&args),
        cli::Command::Log(args) => log::run(&args),
    }
}
