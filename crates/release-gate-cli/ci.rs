//! CI faces of release-gate: `ci pr-check` (the Release Decision in a pull request's description, against
//! the pull request's diff) and the deploy gate's job summary and step outputs that `verify` writes under
//! GitHub Actions.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use release_gate_core::classify::Classification;
use release_gate_core::history::Change;
use release_gate_core::ledger::history::HistoryCheck;
use release_gate_core::signing::verify::Verification;
use release_gate_core::signing::{DecisionPredicate, Statement};
use release_gate_core::value::short_commit;
use release_gate_core::{Report, Severity, Verdict};
use release_gate_repo::workspace::Workspace;

use crate::Outcome;
use crate::cli::{CiArgs, CiCommand, PrCheckArgs, ReportFormat};
use crate::formats::{self, Diagnostic};
use crate::github::{Runner, cell, code};
use crate::input;
use crate::output::{self, BOLD, DIM};

/// How many files a summary lists by name before it only counts them.
const SUMMARY_FILES: usize = 20_000;

pub fn run(args: &CiArgs) -> anyhow::Result<Outcome> {
    match &args.command {
        CiCommand::PrCheck(args) => pr_check(args),
    }
}

/// What the pull request says about itself.
#[derive(Debug, Default)]
struct PullRequest {
    number: Option<u64>,
    body: String,
    base: Option<String>,
}

impl PullRequest {
    /// The pull request's description, for people and as the Code Quality location of its findings.
    fn subject(&self) -> String {
        match self.number {
            Some(number) => format!("pull request #{number} description"),
            None => "pull request description".to_owned(),
        }
    }
}

/// The pull request from `--body-file`, else from the event payload (`--event`, else `GITHUB_EVENT_PATH`).
fn pull_request(args: &PrCheckArgs) -> anyhow::Result<PullRequest> {
    if let Some(path) = &args.body_file {
        let bytes = input::read_bytes(path)?;
        let body = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("{} is not UTF-8", input::display_name(path)))?;
        return Ok(PullRequest { body, ..PullRequest::default() });
    }
    let path = match &args.event {
        Some(path) => path.clone(),
        None => std::env::var_os("GITHUB_EVENT_PATH").filter(|path| !path.is_empty()).map(Into::into).context(
            "no pull request to check: run under GitHub Actions on a `pull_request` event (GITHUB_EVENT_PATH), \
             or pass --event FILE, or --body-file FILE with --base REV",
        )?,
    };
    let bytes = release_gate_repo::fs::read_limited(&path)
        .with_context(|| format!("cannot read the event payload {}", path.display()))?;
    let event: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("the event payload {} is not JSON", path.display()))?;
    let pr = event.get("pull_request").filter(|pr| pr.is_object()).with_context(|| {
        format!(
            "the event payload {} has no `pull_request`: run the check `on: pull_request` (or pull_request_target)",
            path.display()
        )
    })?;
    Ok(PullRequest {
        number: pr.get("number").and_then(serde_json::Value::as_u64),
        // GitHub sends `null` for an empty description.
        body: pr.get("body").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned(),
        base: pr.pointer("/base/sha").and_then(serde_json::Value::as_str).map(str::to_owned),
    })
}

/// What the check found: the report on the description (or why it could not be read) and the diff.
struct PrCheck {
    pr: PullRequest,
    /// The description's report; `Err`: the description could not be read as a decision.
    report: Result<Report, String>,
    classification: Classification,
}

impl PrCheck {
    fn passed(&self) -> bool {
        matches!(&self.report, Ok(report) if report.verdict == Verdict::Pass)
    }

    /// Every diagnostic, none of them on a file: they are all about the description. A finding's line is
    /// the description's line, so it goes in the message.
    fn diagnostics(&self) -> Vec<Diagnostic> {
        match &self.report {
            Ok(report) => report
                .findings
                .iter()
                .map(|finding| {
                    let message = match finding.line {
                        Some(line) => format!("{} (description line {line})", finding.message),
                        None => finding.message.clone(),
                    };
                    Diagnostic::new(finding.severity, finding.code.as_str(), &message)
                })
                .collect(),
            Err(why) => vec![Diagnostic::new(Severity::Error, "input-error", why)],
        }
    }
}

fn pr_check(args: &PrCheckArgs) -> anyhow::Result<Outcome> {
    let now = input::now(args.now.as_deref())?;
    let pr = pull_request(args)?;
    let workspace = input::workspace(args.policy.as_deref())?;
    let base = args.base.clone().or_else(|| pr.base.clone()).context(
        "no base to compare with: the event payload has no `pull_request.base.sha`; pass --base REV",
    )?;
    let head = args.head.as_deref().unwrap_or("HEAD");
    let classification = workspace.classify(Some(&base), Some(head)).with_context(|| {
        format!(
            "cannot diff the pull request's base {base} with {head}: check out its history (`actions/checkout` with \
             `fetch-depth: 0`)"
        )
    })?;
    if let (Some(base), Some(head)) = (&classification.base, &classification.head)
        && !workspace.is_ancestor(base, head)
    {
        output::note(&format!(
            "the base {} is not an ancestor of {head}: the diff also undoes the base's newer commits; check out the \
             pull request's merge commit (the default of `actions/checkout` on `pull_request`)",
            short_commit(base)
        ));
    }
    let report = match release_gate_core::read_document(pr.body.as_bytes()) {
        Ok(document) => {
            let facts = workspace.document_facts(Some(&base), head)?.map(|(_, facts)| facts);
            Ok(release_gate_core::validate_release(&document, &workspace.policy, now, facts.as_ref()))
        }
        Err(error) => Err(format!(
            "the {} holds no Release Decision that can be read ({error}): write the decision in the description \
             (`release-gate render --to markdown` prints the template)",
            pr.subject()
        )),
    };
    let check = PrCheck { pr, report, classification };
    let diagnostics = check.diagnostics();
    let subject = check.pr.subject();
    let run = formats::Run {
        name: &format!("release-gate pr-check: {subject}"),
        subject: &subject,
        passed: check.passed(),
    };
    let more_in = "the job summary lists them all";
    match args.format {
        ReportFormat::Text => pr_text(&check)?,
        ReportFormat::Json => output::json(&serde_json::json!({
            "subject": subject,
            "verdict": verdict(&check),
            "report": check.report.as_ref().ok(),
            "input_error": check.report.as_ref().err(),
            "classification": check.classification,
        }))?,
        ReportFormat::Github => {
            formats::github(&mut std::io::stdout().lock(), &diagnostics, more_in)?;
        }
        ReportFormat::Junit => formats::junit(&mut std::io::stdout().lock(), run, &diagnostics)?,
        ReportFormat::Gitlab => formats::gitlab(&mut std::io::stdout().lock(), run, &diagnostics)?,
    }
    if let Some(runner) = Runner::detect() {
        runner.summary(
            &pr_summary(&check, &diagnostics),
            "the full report: `release-gate ci pr-check --format json`",
        )?;
        let report = check.report.as_ref().ok();
        runner.outputs(&[
            ("verdict", verdict(&check).to_owned()),
            ("risk", report.and_then(|r| r.risk_class).map_or(String::new(), |class| class.to_string())),
            (
                "suggested_risk",
                check.classification.suggested.map_or(String::new(), |class| class.to_string()),
            ),
            ("decision", report.and_then(|r| r.decision).map_or(String::new(), |call| call.to_string())),
            ("errors", diagnostics.iter().filter(|d| d.severity == Severity::Error).count().to_string()),
            ("warnings", diagnostics.iter().filter(|d| d.severity == Severity::Warning).count().to_string()),
            ("files", check.classification.files.len().to_string()),
        ])?;
    }
    Ok(match &check.report {
        Ok(_) if check.passed() => Outcome::Success,
        Ok(_) => Outcome::Failure,
        // The contract: an input that cannot be read is exit 2, after the CI surfaces said why.
        Err(why) => return Err(anyhow::anyhow!("{why}")),
    })
}

fn verdict(check: &PrCheck) -> &'static str {
    match &check.report {
        Ok(report) if report.verdict == Verdict::Pass => "pass",
        Ok(_) => "fail",
        Err(_) => "error",
    }
}

fn pr_text(check: &PrCheck) -> anyhow::Result<()> {
    let subject = check.pr.subject();
    match &check.report {
        Ok(report) => crate::validate::text(report, &subject)?,
        Err(why) => output::note(why),
    }
    let mut out = output::stdout();
    let classification = &check.classification;
    match classification.suggested {
        Some(class) => {
            let deciding: Vec<&str> =
                classification.deciding().map(|file| file.path.as_str()).take(5).collect();
            let more = classification.deciding().count().saturating_sub(deciding.len());
            let more = if more > 0 { format!(" and {more} more") } else { String::new() };
            writeln!(
                out,
                "{BOLD}the diff suggests risk class {class}{BOLD:#} ({} files), set by {}{more}",
                classification.files.len(),
                deciding.join(", ")
            )?;
        }
        None => writeln!(out, "{DIM}the pull request changes no files{DIM:#}")?,
    }
    out.flush()?;
    Ok(())
}

/// The pull request check's job summary: verdict, classes, findings, and the files behind the class.
fn pr_summary(check: &PrCheck, diagnostics: &[Diagnostic]) -> String {
    let mut md = String::new();
    let subject = check.pr.subject();
    let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    let counts = format!("{errors} error{}, {warnings} warning{}", plural(errors), plural(warnings));
    let heading = match &check.report {
        Ok(report) if report.verdict == Verdict::Pass => {
            format!(":white_check_mark: Release decision: ready ({counts})")
        }
        Ok(_) => format!(":x: Release decision: not ready ({counts})"),
        Err(_) => ":x: Release decision: none could be read".to_owned(),
    };
    let _ = writeln!(md, "## {heading}\n");
    let classification = &check.classification;
    let report = check.report.as_ref().ok();
    let declared =
        report.and_then(|r| r.risk_class).map_or("undeclared".to_owned(), |class| class.to_string());
    let suggested =
        classification.suggested.map_or("none (no files changed)".to_owned(), |class| class.to_string());
    let call = report.and_then(|r| r.decision).map_or("none yet".to_owned(), |call| call.to_string());
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(md, "| Checked | the {} |", cell(&subject));
    let _ = writeln!(md, "| Declared risk class | {declared} |");
    let _ = writeln!(md, "| Suggested by the diff | {suggested} ({} files) |", classification.files.len());
    let _ = writeln!(md, "| Decision | {call} |");
    if let (Some(base), Some(head)) = (&classification.base, &classification.head) {
        let _ = writeln!(md, "| Diff | `{}..{}` |", short_commit(base), short_commit(head));
    }
    let _ = writeln!(md);
    if !diagnostics.is_empty() {
        let _ = writeln!(md, "### Findings\n\n| | Code | What to do |\n|---|---|---|");
        for severity in [Severity::Error, Severity::Warning] {
            for diagnostic in diagnostics.iter().filter(|d| d.severity == severity) {
                let _ = writeln!(
                    md,
                    "| {} | `{}` | {} |",
                    severity_icon(severity),
                    code(&diagnostic.code),
                    cell(&diagnostic.message)
                );
            }
        }
        let _ = writeln!(md);
    }
    if let Some(class) = classification.suggested {
        let deciding: Vec<_> = classification.deciding().collect();
        let _ = writeln!(md, "### Why the diff suggests {class}\n");
        let _ = writeln!(md, "{} of {} files set the class:\n", deciding.len(), classification.files.len());
        for file in deciding.iter().take(SUMMARY_FILES) {
            let _ = writeln!(md, "- `{}` (`{}`)", code(&file.path), code(&file.rule));
        }
        if deciding.len() > SUMMARY_FILES {
            let _ = writeln!(md, "- and {} more", deciding.len() - SUMMARY_FILES);
        }
        let others: Vec<_> =
            classification.files.iter().filter(|file| Some(file.class) != classification.suggested).collect();
        if !others.is_empty() {
            let _ = writeln!(md, "\n<details><summary>The other {} files</summary>\n", others.len());
            for file in others.iter().take(SUMMARY_FILES) {
                let _ =
                    writeln!(md, "- {} `{}` (`{}`)", file.class.as_str(), code(&file.path), code(&file.rule));
            }
            if others.len() > SUMMARY_FILES {
                let _ = writeln!(md, "- and {} more", others.len() - SUMMARY_FILES);
            }
            let _ = writeln!(md, "\n</details>");
        }
    }
    md
}

fn severity_icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => ":x: error",
        Severity::Warning => ":warning: warning",
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// The verify failures as diagnostics: about the signed decision as a whole, never a file's line.
pub fn verify_diagnostics(result: &Verification) -> Vec<Diagnostic> {
    result
        .failures
        .iter()
        .map(|failure| Diagnostic::new(Severity::Error, failure.code.as_str(), &failure.message))
        .collect()
}

/// The deploy gate under GitHub Actions: the job summary and step outputs of a `verify`.
pub fn deploy_gate(
    workspace: &Workspace,
    envelope: &Path,
    result: &Verification,
    now: jiff::Timestamp,
    omitted: formats::Omitted,
) -> anyhow::Result<()> {
    let Some(runner) = Runner::detect() else { return Ok(()) };
    let statement = read_statement(envelope);
    let log = log_checkpoint(workspace);
    let summary = deploy_summary(workspace, result, statement.as_ref(), log.as_ref(), now, omitted);
    runner.summary(&summary, "the full result: `release-gate verify ID --format json`")?;
    let predicate = statement.as_ref().map(|statement| &statement.predicate);
    let mut principals: Vec<&str> =
        result.signers.iter().flat_map(|signer| signer.principals.iter().map(String::as_str)).collect();
    principals.dedup();
    runner.outputs(&[
        ("verdict", if result.ok() { "pass" } else { "fail" }.to_owned()),
        ("decision_id", result.id.clone()),
        ("commit", result.commit.clone().unwrap_or_default()),
        ("risk", result.risk_class.clone().unwrap_or_default()),
        ("decision", predicate.and_then(|p| p.decision.clone()).unwrap_or_default()),
        ("decided_at", result.decided_at.clone().unwrap_or_default()),
        ("signers", principals.join(", ")),
        ("failures", result.failures.iter().map(|f| f.code.as_str()).collect::<Vec<_>>().join(",")),
        ("log_entries", log.as_ref().ok().map_or(String::new(), |(size, _)| size.to_string())),
        ("checkpoint", log.as_ref().ok().map_or(String::new(), |(_, text)| text.trim_end().to_owned())),
    ])
}

/// The statement next to an envelope, as signed (verification says whether to believe it).
fn read_statement(envelope: &Path) -> Option<Statement<DecisionPredicate>> {
    let name = envelope.file_name()?.to_str()?.strip_suffix(".dsse.json")?;
    let path = envelope.with_file_name(format!("{name}.statement.json"));
    let bytes = release_gate_repo::fs::read_limited(&path).ok()?;
    release_gate_core::signing::verify::read_statement(&bytes).ok()
}

/// The decision log's size and checkpoint text, after verifying the log; `Err`: why there is none.
fn log_checkpoint(workspace: &Workspace) -> Result<(u64, String), String> {
    let allowed = workspace.allowed_signers(None).map_err(|error| error.to_string())?;
    let log = workspace.log(None).map_err(|error| error.to_string())?;
    let view = log.view().map_err(|error| error.to_string())?;
    let tip = view.tip.ok_or_else(|| "this clone has no decision log branch".to_owned())?;
    let check = HistoryCheck { allowed: &allowed, every_checkpoint: false, pin: None, shallow: false };
    let history = log.read(&tip, check).map_err(|error| error.to_string())?;
    if !history.ok() {
        return Err(release_gate_repo::ledger::branch::describe(&history));
    }
    Ok((history.size(), history.checkpoint_text()))
}

fn deploy_summary(
    workspace: &Workspace,
    result: &Verification,
    statement: Option<&Statement<DecisionPredicate>>,
    log: Result<&(u64, String), &String>,
    now: jiff::Timestamp,
    omitted: formats::Omitted,
) -> String {
    let mut md = String::new();
    let commit = result.commit.as_deref().unwrap_or("?");
    if result.ok() {
        let _ = writeln!(
            md,
            "## :white_check_mark: Deploy gate: `{}` is a signed GO for `{}`\n",
            code(&result.id),
            short_commit(commit)
        );
    } else {
        let count = result.failures.len();
        let _ = writeln!(
            md,
            "## :x: Deploy gate: `{}` does not verify for `{}` ({count} failure{})\n",
            code(&result.id),
            short_commit(commit),
            plural(count)
        );
        let _ = writeln!(md, "| Failure | What it means |\n|---|---|");
        for failure in &result.failures {
            let _ = writeln!(md, "| `{}` | {} |", failure.code.as_str(), cell(&failure.message));
        }
        if omitted.any() {
            let _ = writeln!(
                md,
                "\nThe annotations show the first {} failures; this table lists them all.",
                formats::GITHUB_ANNOTATIONS_PER_SEVERITY - 1
            );
        }
        let _ = writeln!(md);
    }
    let Some(statement) = statement else {
        let _ = writeln!(md, "The signed statement could not be read, so there is nothing more to show.");
        return md;
    };
    let predicate = &statement.predicate;
    if !result.ok() {
        let _ =
            writeln!(md, "> [!CAUTION]\n> What follows is what the statement claims; it did not verify.\n");
    }
    let field = |value: Option<&str>| value.map_or("(none)".to_owned(), cell);
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(
        md,
        "| Decision | {} at {} |",
        field(predicate.decision.as_deref()),
        cell(&predicate.decided_at)
    );
    let _ = writeln!(md, "| Risk class | {} |", field(predicate.risk_class.as_deref()));
    let _ = writeln!(md, "| Scope | {} |", field(predicate.scope.as_deref()));
    let _ = writeln!(md, "| Commit | `{commit}` |");
    let _ = writeln!(md, "| Policy | `sha256:{}` |", code(&predicate.policy.sha256));
    let _ = writeln!(md, "| Final decision owner | {} |", field(predicate.owners.decision.as_deref()));
    let _ = writeln!(md, "| Rollback owner | {} |", field(predicate.owners.rollback.as_deref()));
    let panel = if predicate.owners.panel.is_empty() {
        "(none)".to_owned()
    } else {
        cell(&predicate.owners.panel.join(", "))
    };
    let _ = writeln!(md, "| Go/no-go panel | {panel} |");
    let _ = writeln!(md);

    // The stored record counts only when it is the record that was signed.
    let record = release_gate_repo::store::Id::parse(&predicate.decision_id)
        .ok()
        .and_then(|id| workspace.load(&id).ok())
        .filter(|decision| {
            release_gate_core::signing::sha256_hex(decision.to_json().as_bytes()) == predicate.record.sha256
        });
    let _ = writeln!(md, "### Gates\n\n| Layer | Result | Evidence | Recorded |\n|---|---|---|---|");
    for gate in &predicate.gates {
        let recorded = record
            .as_ref()
            .and_then(|decision| {
                decision.history.iter().rev().find_map(|event| match &event.change {
                    Change::GateRecorded { layer, commit: evidence_commit, .. }
                        if layer.as_str() == gate.layer =>
                    {
                        let age = now.duration_since(event.at);
                        let hours = age.as_secs() / 3600;
                        let on = if evidence_commit == commit {
                            "this commit".to_owned()
                        } else {
                            format!("`{}`", short_commit(evidence_commit))
                        };
                        Some(format!(
                            "{} by {}, {hours} h before this check, on {on}",
                            event.at,
                            cell(&event.actor)
                        ))
                    }
                    _ => None,
                })
            })
            .unwrap_or_else(|| "as written in the decision".to_owned());
        let _ = writeln!(
            md,
            "| {} | {} | `sha256:{}` | {recorded} |",
            cell(&gate.layer),
            cell(&gate.result),
            code(gate.evidence.sha256.get(..16).unwrap_or(&gate.evidence.sha256))
        );
    }
    let _ = writeln!(md);
    let _ = writeln!(md, "### Rollback trigger\n");
    match &record {
        Some(decision) if !decision.rollback_trigger.is_empty() => {
            for condition in &decision.rollback_trigger {
                let _ = writeln!(md, "- {}", cell(condition));
            }
        }
        Some(_) => {
            let _ = writeln!(md, "The record names no rollback trigger.");
        }
        None => {
            let _ = writeln!(
                md,
                "The signed statement does not carry the trigger, and no stored record here matches the signed one (`.release/decisions/{}.json`).",
                code(&predicate.decision_id)
            );
        }
    }
    let _ = writeln!(md);
    let _ = writeln!(md, "### Signers\n");
    if result.signers.is_empty() {
        let _ = writeln!(md, "No signature verified.");
    } else {
        let _ = writeln!(md, "| # | Who | As | Key |\n|---|---|---|---|");
        for signer in &result.signers {
            let _ = writeln!(
                md,
                "| {} | {} | {} | `{}` |",
                signer.index + 1,
                cell(&signer.principals.join(", ")),
                cell(&signer.roles.join(" and ")),
                code(&signer.key)
            );
        }
    }
    let _ = writeln!(md);
    let _ = writeln!(md, "### Decision log\n");
    match log {
        Ok((size, text)) => {
            let _ = writeln!(
                md,
                "The log holds {size} entr{} and verifies. Its checkpoint, to keep outside the repository (a later \
                 `release-gate log verify --since-checkpoint FILE` proves the log still extends it):\n",
                if *size == 1 { "y" } else { "ies" }
            );
            let _ = writeln!(md, "```text\n{}```", text.replace("```", "'''"));
        }
        Err(why) => {
            let _ = writeln!(md, "No checkpoint to show: {}.", cell(why));
        }
    }
    for note in &result.notes {
        let _ = writeln!(md, "\n> [!NOTE]\n> {}", cell(note));
    }
    md
}
