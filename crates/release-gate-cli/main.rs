//! `release-gate`: the command-line face of release-gate, for people and CI.
//!
//! `main` parses arguments, calls one `run`, and maps the outcome to the exit-code contract:
//! 0 pass / ready, 1 fail / not ready, 2 usage or input error.

mod attest;
mod audit;
mod checklist;
mod ci;
mod classify;
mod cli;
mod close;
mod comms;
mod decide;
mod doctor;
mod draft;
mod drill;
mod formats;
mod gate;
mod gates;
mod github;
mod init;
mod input;
mod keygen;
mod list;
mod log;
mod ops;
mod output;
mod progress;
mod rebind;
mod rehearse;
mod render;
mod risk;
mod rules;
mod schema;
mod serve;
mod set;
mod sign;
mod signers;
mod status;
mod validate;
mod verify;
mod watch;

use std::process::ExitCode;

use clap::Parser;

/// What a command concluded, before it becomes an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Pass, ready, or a command that simply succeeded.
    Success,
    /// Fail or not ready: a normal answer, not an error.
    Failure,
    /// A command's own outcome beyond pass and fail (`watch`: 3 inconclusive, 4 rollback failed).
    Exit(u8),
}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match run(args) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failure) => ExitCode::from(1),
        Ok(Outcome::Exit(code)) => ExitCode::from(code),
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
        cli::Command::Draft(args) => draft::run(&args),
        cli::Command::Status(args) => status::run(&args),
        cli::Command::Gate(args) => gate::run(&args),
        cli::Command::Risk(args) => risk::run(&args),
        cli::Command::Set(args) => set::run(&args),
        cli::Command::Decide(args) => decide::run(&args),
        cli::Command::Rebind(args) => rebind::run(&args),
        cli::Command::Close(args) => close::run(&args),
        cli::Command::List(args) => list::run(&args),
        cli::Command::Classify(args) => classify::run(&args),
        cli::Command::Gates(args) => gates::run(&args),
        cli::Command::Drill(args) => drill::run(&args),
        cli::Command::Rehearse(args) => rehearse::run(&args),
        cli::Command::Comms(args) => comms::run(&args),
        cli::Command::Ops(args) => ops::run(&args),
        cli::Command::Checklist(args) => checklist::run(&args),
        cli::Command::Serve(args) => serve::run(&args),
        cli::Command::Keygen(args) => keygen::run(&args),
        cli::Command::Signers(args) => signers::run(&args),
        cli::Command::Doctor(args) => doctor::run(&args),
        cli::Command::Sign(args) => sign::run(&args),
        cli::Command::Verify(args) => verify::run(&args),
        cli::Command::Log(args) => log::run(&args),
        cli::Command::Watch(args) => watch::run(&args),
        cli::Command::Ci(args) => ci::run(&args),
    }
}
