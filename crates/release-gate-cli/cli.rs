//! The command-line grammar.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "release-gate",
    version,
    about = "Decide, with evidence, whether a release may ship.",
    long_about = "Decide, with evidence, whether a release may ship.\n\n\
        A release is ready only when its declared risk class has had the gate layers it requires \
        evaluated, a concrete rollback trigger and owner exist, and a named owner made an explicit, \
        timestamped GO / NO-GO decision.\n\n\
        Exit codes: 0 pass / ready, 1 fail / not ready, 2 usage or input error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a decision (Markdown or JSON) against the risk policy.
    Validate(ValidateArgs),
    /// Answer the protocol's five-question fast audit for a decision.
    Audit(AuditArgs),
    /// Convert a decision between Markdown and JSON.
    Render(RenderArgs),
    /// Print a JSON Schema.
    Schema(SchemaArgs),
    /// Create `.release/policy.toml` with the default policy written out.
    Init(InitArgs),
    /// List every finding code with its meaning and fix.
    Rules(RulesArgs),
    /// Run the MCP server for coding agents (stdio by default, or Streamable HTTP with `--http`).
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct InputArg {
    /// The decision: a Markdown document with a `Release Decision` section, a JSON record, or `-` for stdin.
    #[arg(value_name = "FILE|-")]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For people: grouped, colored on a terminal.
    Text,
    /// One JSON object.
    Json,
    /// GitHub Actions workflow annotations.
    Github,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: InputArg,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Policy file (default: `.release/policy.toml` of the enclosing repository, else the built-in policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Validate as of this time (RFC 3339 with offset) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlainFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub input: InputArg,
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderTarget {
    /// The protocol's Release Decision template, filled in.
    Markdown,
    /// The canonical JSON record.
    Json,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub input: InputArg,
    #[arg(long, value_enum)]
    pub to: RenderTarget,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// The canonical decision record.
    Decision,
    /// The `validate --format json` report.
    Report,
    /// The `audit --format json` result.
    Audit,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[arg(value_enum, default_value_t = SchemaKind::Decision)]
    pub kind: SchemaKind,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to set up (default: the enclosing repository's root, else the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The repository the server works on; `path` arguments cannot leave it (default: the enclosing
    /// repository's root, else the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Serve Streamable HTTP at `http://ADDR/mcp` instead of stdio. An address other than loopback needs a
    /// bearer token in `RELEASE_GATE_HTTP_TOKEN`.
    #[arg(long, value_name = "ADDR:PORT")]
    pub http: Option<std::net::SocketAddr>,
}
