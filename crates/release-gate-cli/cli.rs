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
    /// Set up `.release/` (policy, allowed signers); with --codex also the skill, the MCP server and AGENTS.md.
    Init(InitArgs),
    /// Suggest a risk class from the paths a diff changes.
    Classify(ClassifyArgs),
    /// Start a decision in this repository, bound to a git range; prints its id.
    Draft(DraftArgs),
    /// Show where a stored decision stands: gates, evidence, findings, next steps.
    Status(StatusArgs),
    /// Record a gate layer's result with the evidence a person supplies.
    Gate(GateArgs),
    /// Run the code gate's checks from the committed policy and record the result.
    Gates(GatesArgs),
    /// Run the pre-release drill's commands and record a person's confirmations.
    Drill(DrillArgs),
    /// Run the timed rollback rehearsal from the committed policy.
    Rehearse(RehearseArgs),
    /// Watch the rollback triggers on the metrics server after a deploy and run the committed rollback when
    /// one fires (exit 0 passed, 1 rolled back, 3 inconclusive, 4 rollback failed); or export them as a
    /// Prometheus alerting rule (`--to prometheus-rule`).
    Watch(WatchArgs),
    /// Fill in the communication package (pre-filled from the changelog or commit log and the decision) and mark
    /// the communication gate once it is complete.
    Comms(CommsArgs),
    /// Record operational facts: rollback path, on-call and backup owners, release window (shown in the release note).
    Ops(OpsArgs),
    /// Declare or change a stored decision's risk class.
    Risk(RiskArgs),
    /// Set a field of a stored decision (scope, residual risks, rollback trigger and owner, owner, panel).
    Set(SetArgs),
    /// Move a decision to a new head on the same base (new commits, a hotfix); earlier evidence turns stale.
    Rebind(RebindArgs),
    /// Record the GO / NO-GO call; a GO is refused unless the decision validates.
    Decide(DecideArgs),
    /// End a decision's life: deployed, rolled back or abandoned.
    Close(CloseArgs),
    /// Show the protocol's quick checklist with each item's state.
    Checklist(ChecklistArgs),
    /// Sign a validated decision for a commit: in-toto statement, DSSE envelope, SSH signature, log entry.
    Sign(SignArgs),
    /// Verify a signed decision: signatures, trust, commit, GO, signer rules, thresholds and the log.
    Verify(VerifyArgs),
    /// List the stored decisions.
    List(ListArgs),
    /// Validate a decision (Markdown or JSON) against the risk policy.
    Validate(ValidateArgs),
    /// Answer the protocol's five-question fast audit for a decision (the same rules and answer as `validate`).
    Audit(AuditArgs),
    /// Convert a decision between Markdown and JSON, or write its release note.
    Render(RenderArgs),
    /// Print a JSON Schema.
    Schema(SchemaArgs),
    /// List every finding code with its meaning and fix.
    Rules(RulesArgs),
    /// The decision log: verify its chain and checkpoint, repair a torn tail, export it.
    Log(LogArgs),
    /// Generate an OpenSSH Ed25519 signing key pair and print its allowed_signers line.
    Keygen(KeygenArgs),
    /// Trust a person's public key for signing: write their line in `.release/allowed_signers`.
    Signers(SignersArgs),
    /// Check the set-up a signed GO needs: policy, signers for every owner and panel member, the key, Codex.
    Doctor(DoctorArgs),
    /// Run the MCP server for coding agents (stdio by default, or Streamable HTTP with `--http`).
    Serve(ServeArgs),
    /// Checks for CI: the Release Decision in a pull request's description, against its diff.
    Ci(CiArgs),
}

#[derive(Debug, Args)]
pub struct GatesArgs {
    #[command(subcommand)]
    pub command: GatesCommand,
}

#[derive(Debug, Subcommand)]
pub enum GatesCommand {
    /// Run every `[[code_gates]]` check of the committed policy on HEAD (clean work tree required).
    Run(GatesRunArgs),
}

#[derive(Debug, Args)]
pub struct GatesRunArgs {
    pub id: String,
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
    #[command(flatten)]
    pub actor: ActorArgs,
}

#[derive(Debug, Args)]
pub struct DrillArgs {
    pub id: String,
    /// Confirm an item a person checks, with what was checked: `ITEM:EVIDENCE`, where ITEM is
    /// dashboards, pager, or a runnable item the policy has no command for. Repeat for several.
    #[arg(long, value_name = "ITEM:EVIDENCE")]
    pub confirm: Vec<String>,
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
    #[command(flatten)]
    pub actor: ActorArgs,
}

#[derive(Debug, Args)]
pub struct RehearseArgs {
    pub id: String,
    /// A friction point: what was slow or confusing. Repeat for several.
    #[arg(long, value_name = "TEXT")]
    pub friction: Vec<String>,
    /// Only add the friction notes; do not run the rehearsal.
    #[arg(long, requires = "friction")]
    pub no_run: bool,
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
    #[command(flatten)]
    pub actor: ActorArgs,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    pub id: String,
    /// How long to watch, e.g. `30m` (s, m, h).
    #[arg(long = "for", value_name = "DURATION", required_unless_present = "to")]
    pub duration: Option<String>,
    /// Print the conditions in another form instead of watching.
    #[arg(long, value_enum, value_name = "FORM")]
    pub to: Option<WatchExport>,
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// The forms `watch --to` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WatchExport {
    /// A Prometheus rule file: one alerting rule per condition (`promtool check rules` accepts it).
    PrometheusRule,
}

#[derive(Debug, Args)]
pub struct CommsArgs {
    pub id: String,
    /// What changed, user-facing and internal: one item per use (repeat for several). Default: the
    /// CHANGELOG section of the release when one matches, else the commit subjects, grouped and deduplicated.
    #[arg(long, value_name = "TEXT")]
    pub what_changed: Vec<String>,
    /// Known limitations of the release (repeat for several; `none` is an answer).
    #[arg(long, value_name = "TEXT")]
    pub known_limitations: Vec<String>,
    /// What to watch in the first 30-60 minutes (repeat for several).
    #[arg(long, value_name = "TEXT")]
    pub monitoring_focus: Vec<String>,
    /// The conditions that trigger a rollback (repeat for several; default: the decision's rollback trigger).
    #[arg(long, value_name = "TEXT")]
    pub rollback_trigger_conditions: Vec<String>,
    /// Escalation channel and owner, e.g. "#billing-oncall, Dana Ruiz" (repeat for several).
    #[arg(long, value_name = "TEXT")]
    pub escalation: Vec<String>,
    /// Do not pre-fill "what changed" from the changelog or the commit log, nor the trigger conditions from
    /// the decision.
    #[arg(long)]
    pub no_prefill: bool,
    #[command(flatten)]
    pub actor: ActorArgs,
}

#[derive(Debug, Args)]
pub struct OpsArgs {
    /// The stored decision's id.
    pub id: String,
    /// How the release is rolled back, e.g. "redeploy v1.4.0 with ./deploy previous".
    #[arg(long, value_name = "TEXT")]
    pub rollback_path: Option<String>,
    /// Who is on call during and after the release.
    #[arg(long, value_name = "NAME")]
    pub on_call: Option<String>,
    /// Who takes over when the rollback owner or on-call person cannot.
    #[arg(long, value_name = "NAME")]
    pub backup_owner: Option<String>,
    /// When the release goes out, e.g. "2026-11-28 14:00-15:00 UTC".
    #[arg(long, value_name = "TEXT")]
    pub release_window: Option<String>,
    #[command(flatten)]
    pub actor: ActorArgs,
}

#[derive(Debug, Args)]
pub struct ChecklistArgs {
    #[command(flatten)]
    pub input: InputArg,
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
}

/// Options shared by commands that change a stored decision. Records are always stamped with the system
/// clock: a recorded time cannot be chosen, so evidence cannot be backdated or postdated.
#[derive(Debug, Args)]
pub struct ActorArgs {
    /// Who makes the change (default: git's user.name, else $USER).
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,
}

#[derive(Debug, Args)]
pub struct DraftArgs {
    /// The release scope: services, modules or features.
    #[arg(long)]
    pub scope: String,
    /// The risk class, declared now, before any gate is recorded.
    #[arg(long, value_enum)]
    pub risk: Option<RiskArg>,
    /// Why the risk class is lower than the diff suggests, if it is.
    #[arg(long, value_name = "TEXT")]
    pub justification: Option<String>,
    /// The last released commit (default: the latest tag reachable from head).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// The commit to release (default: HEAD).
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,
    /// The decision's id (default: the date and the scope).
    #[arg(long)]
    pub id: Option<String>,
    #[command(flatten)]
    pub actor: ActorArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RiskArg {
    Low,
    Medium,
    High,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    pub id: String,
    /// The commit being released (default: HEAD).
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub commit: String,
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
    /// Judge as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayerArg {
    Code,
    Review,
    Operational,
    Communication,
    Decision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MarkArg {
    Pass,
    Fail,
    #[value(name = "n/a", alias = "na")]
    NotApplicable,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    pub id: String,
    #[arg(value_enum)]
    pub layer: LayerArg,
    #[arg(value_enum)]
    pub result: MarkArg,
    /// What shows the result: a link, an approval, a note. Repeat for several.
    #[arg(long, value_name = "TEXT")]
    pub evidence: Vec<String>,
    /// The commit the evidence was gathered on (default: HEAD).
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub commit: String,
    /// Type a result for a gate whose evidence the committed policy runs (`gates run`): a person's explicit
    /// override, recorded and reported as `evidence-overridden`. Needs --justification.
    #[arg(long, requires = "justification")]
    pub r#override: bool,
    /// Why the override is right, in your words (recorded).
    #[arg(long, value_name = "TEXT", requires = "override")]
    pub justification: Option<String>,
    #[command(flatten)]
    pub actor: ActorArgs,
}

#[derive(Debug, Args)]
pub struct RebindArgs {
    pub id: String,
    /// The new head (default: HEAD). It must contain the decision's base.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub head: String,
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
    #[command(flatten)]
    pub actor: ActorArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("outcome").required(true).args(["deployed", "rolled_back", "abandoned"])))]
pub struct CloseArgs {
    pub id: String,
    /// The GO was deployed.
    #[arg(long)]
    pub deployed: bool,
    /// The deployed release was rolled back.
    #[arg(long)]
    pub rolled_back: bool,
    /// The release will not ship under this decision.
    #[arg(long)]
    pub abandoned: bool,
    /// Why, in a sentence (recorded).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    #[command(flatten)]
    pub actor: ActorArgs,
}

#[derive(Debug, Args)]
pub struct RiskArgs {
    pub id: String,
    #[arg(value_enum)]
    pub class: RiskArg,
    /// Why this class is right when it is lower than the diff suggests.
    #[arg(long, value_name = "TEXT")]
    pub justification: Option<String>,
    #[command(flatten)]
    pub actor: ActorArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FieldArg {
    Scope,
    ResidualRisks,
    RollbackTrigger,
    RollbackOwner,
    DecisionOwner,
    Panel,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    pub id: String,
    #[arg(value_enum)]
    pub field: FieldArg,
    /// The value; several values make a list (residual risks, rollback trigger conditions, panel names).
    #[arg(required = true)]
    pub values: Vec<String>,
    #[command(flatten)]
    pub actor: ActorArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("call").required(true).args(["go", "no_go"])))]
pub struct DecideArgs {
    pub id: String,
    /// Record GO (refused unless the decision validates).
    #[arg(long)]
    pub go: bool,
    /// Record NO-GO (always recorded).
    #[arg(long)]
    pub no_go: bool,
    /// The final decision owner making the call (must be the recorded decision owner, if one is).
    #[arg(long, value_name = "NAME")]
    pub owner: String,
    /// Why, in the owner's words (above all for a NO-GO).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// The commit being released (default: HEAD).
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub commit: String,
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
    #[command(flatten)]
    pub actor: ActorArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The commit being released (default: HEAD).
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub commit: String,
    /// Also list closed (deployed, rolled back) and abandoned decisions.
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// The last released commit (default: the latest tag reachable from head).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// The commit to release (default: HEAD).
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
}

#[derive(Debug, Args)]
pub struct InputArg {
    /// The decision: a Markdown document with a `Release Decision` section, a JSON record, `-` for stdin,
    /// or the id of a decision stored in this repository.
    #[arg(value_name = "FILE|-|ID")]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For people: grouped, colored on a terminal.
    Text,
    /// One JSON object.
    Json,
    /// GitHub Actions workflow annotations (at most 10 errors and 10 warnings per step, the last one counting
    /// the rest).
    Github,
    /// A JUnit XML report (GitLab `artifacts:reports:junit`, Jenkins and most CI).
    Junit,
    /// A GitLab Code Quality report (`artifacts:reports:codequality`).
    Gitlab,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: InputArg,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub judge: JudgeArgs,
}

/// How `validate` and `audit` judge a decision: the same options, so they give the same answer.
#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// Policy file (default: `.release/policy.toml` of the enclosing repository, else the built-in policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Judge as of this time (RFC 3339 with offset, e.g. 2026-11-27T14:05:00Z) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// The commit being released (default: HEAD). A stored decision's evidence is checked against it; a
    /// decision file inside a repository is compared with the diff from the base to it.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub commit: String,
    /// For a decision file inside a repository: the last released revision (default: the latest tag reachable
    /// from the commit). The file then gets the same diff rules as a stored decision (risk below what the
    /// diff suggests, scope drift); without a base or a tag it is judged as written.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
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
    #[command(flatten)]
    pub judge: JudgeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderTarget {
    /// The protocol's Release Decision template, filled in.
    Markdown,
    /// The canonical JSON record.
    Json,
    /// The communication package as a release note, ready to post.
    ReleaseNote,
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
    /// Also set up Codex: the release-readiness skill under `.agents/skills/`, the MCP server in the
    /// project's `.codex/config.toml`, and a release-readiness section in AGENTS.md.
    #[arg(long)]
    pub codex: bool,
    /// With --codex: leave `.codex/config.toml` alone and print the `codex mcp add` command for your
    /// user configuration instead.
    #[arg(long, requires = "codex")]
    pub user_config: bool,
    /// With --codex: the command Codex starts for the MCP server (default: `release-gate`, from PATH).
    #[arg(long, requires = "codex", value_name = "PATH", default_value = "release-gate")]
    pub server_command: String,
    /// Directory to set up (default: the enclosing repository's root, else the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
}

impl From<RiskArg> for release_gate_core::RiskClass {
    fn from(arg: RiskArg) -> Self {
        match arg {
            RiskArg::Low => Self::Low,
            RiskArg::Medium => Self::Medium,
            RiskArg::High => Self::High,
        }
    }
}

impl From<LayerArg> for release_gate_core::Layer {
    fn from(arg: LayerArg) -> Self {
        match arg {
            LayerArg::Code => Self::Code,
            LayerArg::Review => Self::Review,
            LayerArg::Operational => Self::Operational,
            LayerArg::Communication => Self::Communication,
            LayerArg::Decision => Self::Decision,
        }
    }
}

impl From<MarkArg> for release_gate_core::decision::GateResult {
    fn from(arg: MarkArg) -> Self {
        match arg {
            MarkArg::Pass => Self::Pass,
            MarkArg::Fail => Self::Fail,
            MarkArg::NotApplicable => Self::NotApplicable,
        }
    }
}

impl From<FieldArg> for release_gate_core::history::SettableField {
    fn from(arg: FieldArg) -> Self {
        match arg {
            FieldArg::Scope => Self::Scope,
            FieldArg::ResidualRisks => Self::ResidualRisks,
            FieldArg::RollbackTrigger => Self::RollbackTrigger,
            FieldArg::RollbackOwner => Self::RollbackOwner,
            FieldArg::DecisionOwner => Self::DecisionOwner,
            FieldArg::Panel => Self::Panel,
        }
    }
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

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private key (mode 0600); the public key goes to `PATH.pub`. Must be outside the repository.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// The principal: the person's name exactly as decisions write it (owner, panel). Default: git's
    /// `user.name`.
    #[arg(long, value_name = "NAME")]
    pub principal: Option<String>,
}

#[derive(Debug, Args)]
pub struct SignersArgs {
    #[command(subcommand)]
    pub command: SignersCommand,
}

#[derive(Debug, Subcommand)]
pub enum SignersCommand {
    /// Trust PUBKEY for NAME in both of release-gate's namespaces (release-gate, release-gate-checkpoint).
    Add {
        /// The person's name exactly as decisions write it (the decision owner, a panel member).
        name: String,
        /// Their public key: the text of their `KEY.pub` (`ssh-ed25519 AAAA...`), or the path to that file.
        pubkey: String,
    },
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The signing key to check (default: RELEASE_GATE_SIGNING_KEY, as the MCP server reads it).
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
    pub format: PlainFormat,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The decision: the id of a stored decision, or a Markdown / JSON file whose name (without the
    /// extension) is the decision id.
    #[arg(value_name = "ID|FILE")]
    pub decision: String,
    /// The signer's OpenSSH Ed25519 private key (outside the repository, mode 0600). A passphrase comes
    /// from RELEASE_GATE_KEY_PASSPHRASE.
    #[arg(long, value_name = "PATH")]
    pub key: PathBuf,
    /// The commit being released: a full commit id or anything `git rev-parse` resolves.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub commit: String,
    /// Which of the key's allowed_signers principals signs (default: any that names the owner or a panel member).
    #[arg(long, value_name = "NAME")]
    pub principal: Option<String>,
    /// Policy file (default: `.release/policy.toml` of the enclosing repository, else the built-in policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The remote whose decision log to publish to (default: `origin`, when it exists).
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
    /// Keep the log entry in this clone; `release-gate log push` publishes it later.
    #[arg(long)]
    pub no_push: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The decision's id, or its DSSE envelope (`.release/attestations/<id>.dsse.json`).
    #[arg(value_name = "ID|ENVELOPE")]
    pub decision: String,
    /// The commit being released; the signed subject must be this commit. Default: HEAD, where a HEAD
    /// that differs from the signed commit only under `.release/` counts as the signed commit.
    #[arg(long, value_name = "REV")]
    pub commit: Option<String>,
    /// Trusted keys (default: `.release/allowed_signers` of the repository).
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
    /// Policy file (default: `.release/policy.toml` of the repository, else the built-in policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The deploy time the GO is judged at (RFC 3339 with offset; default: now): a GO older than its
    /// class's `go_valid_for` fails with `decision-expired`.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Fail (`log-entry-unpublished`) unless the decision's log entry is in the remote's log as last
    /// fetched (`release-gate log fetch` first).
    #[arg(long)]
    pub require_published: bool,
    /// The remote whose log counts as published (default: `origin`).
    #[arg(long, value_name = "NAME")]
    pub remote: Option<String>,
    /// Under GitHub Actions every format also writes the job summary and step outputs.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct CiArgs {
    #[command(subcommand)]
    pub command: CiCommand,
}

#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// Validate the Release Decision in a pull request's description against the pull request's diff, and
    /// say which class the diff suggests and which files set it. Under GitHub Actions also writes the job
    /// summary and step outputs.
    PrCheck(PrCheckArgs),
}

#[derive(Debug, Args)]
pub struct PrCheckArgs {
    /// The pull request event payload (default: GITHUB_EVENT_PATH); its `pull_request.body` is the
    /// description and `pull_request.base.sha` the base.
    #[arg(long, value_name = "FILE", conflicts_with = "body_file")]
    pub event: Option<PathBuf>,
    /// The description from a file or `-` (stdin) instead of an event payload, e.g. GitLab's
    /// CI_MERGE_REQUEST_DESCRIPTION; needs --base.
    #[arg(long, value_name = "FILE|-", requires = "base")]
    pub body_file: Option<PathBuf>,
    /// The pull request's base commit (default: the event's `pull_request.base.sha`).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// The commit checked (default: HEAD, the pull request's merge commit as `actions/checkout` checks it out).
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,
    /// Policy file (default: `.release/policy.toml` of the repository, else the built-in policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Judge as of this time (RFC 3339 with offset) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(subcommand)]
    pub action: LogAction,
}

#[derive(Debug, Subcommand)]
pub enum LogAction {
    /// Verify the whole log: one linear history, one entry per commit, the chain, every checkpoint's
    /// Merkle root and signature, and (with --since-checkpoint) that it extends a checkpoint kept earlier.
    Verify {
        /// Trusted keys (default: `.release/allowed_signers` of the repository).
        #[arg(long, value_name = "FILE")]
        allowed_signers: Option<PathBuf>,
        /// The log to verify, e.g. `origin/release-gate-ledger` (default: the local log branch, or the
        /// fetched one when it is ahead or the only one).
        #[arg(long = "ref", value_name = "REF")]
        reference: Option<String>,
        /// A checkpoint kept earlier (`log checkpoint` output, or the `.release/ledger.checkpoint` of before
        /// a migration): the log must still extend it (`ledger-rolled-back`, `ledger-forked`).
        #[arg(long, value_name = "FILE")]
        since_checkpoint: Option<PathBuf>,
        /// The remote whose log counts as published (default: `origin`).
        #[arg(long, value_name = "NAME")]
        remote: Option<String>,
        #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
        format: PlainFormat,
    },
    /// Print the log's current checkpoint (for a CI job summary or artifact), after verifying the log.
    Checkpoint {
        #[arg(long = "ref", value_name = "REF")]
        reference: Option<String>,
        #[arg(long, value_name = "NAME")]
        remote: Option<String>,
        #[arg(long, value_enum, default_value_t = PlainFormat::Text)]
        format: PlainFormat,
    },
    /// Fetch the remote's log (refusing a remote that dropped entries it had published).
    Fetch {
        #[arg(long, value_name = "NAME")]
        remote: Option<String>,
    },
    /// Publish entries kept in this clone; with --key, local entries are put on top of the remote's.
    Push {
        /// Signs the checkpoints of local entries moved on top of the remote's log.
        #[arg(long, value_name = "PATH")]
        key: Option<PathBuf>,
        #[arg(long, value_name = "NAME")]
        remote: Option<String>,
    },
    /// Move `.release/ledger.jsonl` to the log branch, byte for byte, one commit per line.
    Migrate {
        /// Signs the checkpoint of every migrated entry.
        #[arg(long, value_name = "PATH")]
        key: PathBuf,
        #[arg(long, value_name = "NAME")]
        remote: Option<String>,
        /// Keep the migrated log in this clone; `release-gate log push` publishes it later.
        #[arg(long)]
        no_push: bool,
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
