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
    /// Generate an OpenSSH Ed25519 signing key pair and print its allowed_signers line.
    Keygen(KeygenArgs),
    /// Sign a validated decision for a commit: in-toto statement, DSSE envelope, SSH signature, log entry.
    Sign(SignArgs),
    /// Verify a signed decision: signatures, trust, commit, GO, signer rules, thresholds and the log.
    Verify(VerifyArgs),
    /// The decision log: verify its chain and checkpoint, repair a torn tail, export it.
    Log(LogArgs),
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
pub struct KeygenArgs {
    /// Where to write the private key (mode 0600); the public key goes to `PATH.pub`. Must be outside the repository.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// The principal (the person's name as the decision writes it) for the allowed_signers line.
    #[arg(long, value_name = "NAME")]
    pub principal: Option<String>,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The decision: a Markdown document with a `Release Decision` section or a JSON record. Its file
    /// name (without extension) is the decision id.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The signer's OpenSSH Ed25519 private key (outside the repository, mode 0600). A passphrase comes
    /// from RELEASE_GATE_KEY_PASSPHRASE.
    #[arg(long, value_name = "PATH")]
    pub key: PathBuf,
    /// The commit being released: a full commit id or anything `git rev-parse` resolves.
    #[arg(long, value_name = "REV")]
    pub commit: String,
    /// Which of the key's allowed_signers principals signs (default: any that names the owner or a panel member).
    #[arg(long, value_name = "NAME")]
    pub principal: Option<String>,
    /// Policy file (default: `.release/policy.toml` of the enclosing repository, else the built-in policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The DSSE envelope, `.release/attestations/<id>.dsse.json`.
    #[arg(value_name = "ENVELOPE")]
    pub envelope: PathBuf,
    /// The commit being released; the signed subject must be this commit.
    #[arg(long, value_name = "REV")]
    pub commit: Option<String>,
    /// Trusted keys (default: `.release/allowed_signers` of the repository).
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
    /// Policy file (default: `.release/policy.toml` of the repository, else the built-in policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(subcommand)]
    pub action: LogAction,
}

#[derive(Debug, Subcommand)]
pub enum LogAction {
    /// Recompute the hash chain and check the signed checkpoint.
    Verify {
        /// Trusted keys (default: `.release/allowed_signers` of the repository).
        #[arg(long, value_name = "FILE")]
        allowed_signers: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
        format: PlainFormat,
    },
    /// Cut a torn last line left by an interrupted write, and log the repair.
    Repair {
        /// Re-sign the checkpoint with this key after the repair.
        #[arg(long, value_name = "PATH")]
        key: Option<PathBuf>,
    },
    /// Write the history for an audit.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
}
