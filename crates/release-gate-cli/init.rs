//! `release-gate init`: sets up a repository in one step, and again without changing anything.
//!
//! Always: `.release/policy.toml` (the default policy written out) and `.release/allowed_signers`.
//! With `--codex`: the release-readiness skill (carried in the binary) under `.agents/skills/`, the MCP
//! server in `.codex/config.toml`, and a section of AGENTS.md between markers. Existing files keep
//! everything else they hold.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use release_gate_core::policy::DEFAULT_POLICY_TOML;

use crate::Outcome;
use crate::cli::InitArgs;
use crate::input;
use crate::output::{self, DIM, GOOD};

/// The skill's files, as shipped in this repository's `skills/release-readiness/`.
const SKILL_FILES: [(&str, &str); 2] = [
    ("SKILL.md", include_str!("../../skills/release-readiness/SKILL.md")),
    ("reference/findings.md", include_str!("../../skills/release-readiness/reference/findings.md")),
];

const ALLOWED_SIGNERS: &str = "# Trusted signers of release decisions, in OpenSSH's allowed_signers format:\n\
# principal[,principal] namespaces=\"release-gate,release-gate-checkpoint\" [valid-after=...] [valid-before=...] ssh-ed25519 KEY\n\
# (`release-gate` signs decisions, `release-gate-checkpoint` the decision log's checkpoint).\n\
# `release-gate keygen` prints a line to add here. The same file works with `ssh-keygen -Y verify`.\n";

/// The name Codex knows the server by; its tools appear as `mcp__release_gate`.
pub const SERVER_NAME: &str = "release_gate";

pub const AGENTS_BEGIN: &str = "<!-- release-gate:begin -->";
pub const AGENTS_END: &str = "<!-- release-gate:end -->";

/// The AGENTS.md section for repositories that use release-gate.
pub const AGENTS_SECTION: &str = "## Release readiness (release-gate)

This repository decides releases with release-gate. For release work, follow the release-readiness skill
(`.agents/skills/release-readiness/SKILL.md`); in short:

1. Classify the diff (`classify_risk`), say which files set the class, and draft the decision with the class
   declared first (`draft_decision`).
2. Gather the evidence: `run_code_gates` (the committed checks; never type a pass over a failed run),
   `record_gate` for review, operational and communication with their evidence, `run_drill`,
   `run_rehearsal` (it acts on an environment: ask the person first), `set_communication`.
3. Follow `decision_status`: its `steps` say what is left, who acts (you, or only the person) and which tool
   does it; `go_needs` lists what a GO will still need. After new commits, `rebind_decision` and re-run.
4. Ask the person, once, for everything only they can give: owners, panel, the rollback trigger, residual
   risks, a risk class below the suggestion, the GO / NO-GO call, signatures. `decide`, `run_rehearsal`,
   a lower class, naming owners or panel, and `sign_decision` make the server ask them to confirm; a
   decline means nothing happened. Never act, or give a name, on their behalf.
5. After a GO: each signer signs (`check_setup` first), commit `.release/`, and `verify_decision` for the
   commit being deployed. Report findings by code, errors first; a failed gate is a fix or a NO-GO.
";

/// What `init` did to one file.
enum Change {
    Created,
    Updated,
    Kept,
}

fn report(out: &mut impl Write, change: Change, path: &Path) -> std::io::Result<()> {
    match change {
        Change::Created => writeln!(out, "{GOOD}created{GOOD:#} {}", path.display()),
        Change::Updated => writeln!(out, "{GOOD}updated{GOOD:#} {}", path.display()),
        Change::Kept => writeln!(out, "{DIM}kept{DIM:#} {} {DIM}(already there){DIM:#}", path.display()),
    }
}

/// A file of the repository that init edits, when it exists: read like everything under `.release/`
/// (bounded, regular, no link out of the repository) and UTF-8.
fn read_existing(root: &Path, path: &Path) -> anyhow::Result<Option<String>> {
    match release_gate_repo::fs::read_inside(root, path) {
        Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| {
            anyhow::anyhow!("{} is not UTF-8 text; fix it, then run init again", path.display())
        }),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Creates a file that is missing; never overwrites one someone may have edited. Its folder must lie in
/// the repository: a committed link such as `.codex -> ~/.codex` is refused before anything is written.
fn create_once(root: &Path, path: &Path, content: &str) -> anyhow::Result<Change> {
    if let Some(parent) = path.parent() {
        release_gate_repo::fs::create_dir_inside(root, parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(mut file) => {
            file.write_all(content.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(Change::Created)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(Change::Kept),
        Err(error) => Err(error).with_context(|| format!("cannot create {}", path.display())),
    }
}

/// Writes a file release-gate owns when its content differs.
fn write_owned(root: &Path, path: &Path, content: &str) -> anyhow::Result<Change> {
    match read_existing(root, path)? {
        Some(existing) if existing == content => return Ok(Change::Kept),
        Some(_) => {}
        None => return create_once(root, path, content),
    }
    release_gate_repo::fs::write_atomic(path, content.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Change::Updated)
}

pub fn run(args: &InitArgs) -> anyhow::Result<Outcome> {
    let root = match &args.root {
        Some(root) => root.clone(),
        None => input::repo_root_or_cwd()?,
    };
    let mut out = output::stdout();
    let policy = root.join(".release/policy.toml");
    report(&mut out, create_once(&root, &policy, DEFAULT_POLICY_TOML)?, &policy)?;
    let signers = root.join(".release/allowed_signers");
    report(&mut out, create_once(&root, &signers, ALLOWED_SIGNERS)?, &signers)?;
    if args.codex {
        for (name, content) in SKILL_FILES {
            let path = root.join(".agents/skills/release-readiness").join(name);
            report(&mut out, write_owned(&root, &path, content)?, &path)?;
        }
        let agents = root.join("AGENTS.md");
        report(&mut out, agents_section(&root, &agents)?, &agents)?;
        if args.user_config {
            writeln!(
                out,
                "\nAdd the server to your Codex user configuration with:\n\n  codex mcp add {SERVER_NAME} -- {} serve\n",
                shell_word(&args.server_command)
            )?;
        } else {
            let config = root.join(".codex/config.toml");
            report(&mut out, codex_config(&root, &config, &args.server_command)?, &config)?;
            writeln!(
                out,
                "\nCodex reads a project's .codex/config.toml once you trust the project. `codex mcp list` shows the server."
            )?;
        }
    }
    writeln!(
        out,
        "\nCommit what init wrote (git add .release{}; git commit): release-gate reads the policy as committed.",
        match (args.codex, args.user_config) {
            (true, false) => " .agents AGENTS.md .codex",
            (true, true) => " .agents AGENTS.md",
            (false, _) => "",
        }
    )?;
    out.flush()?;
    Ok(Outcome::Success)
}

/// Puts the release-readiness section between its markers, keeping the rest of AGENTS.md.
fn agents_section(root: &Path, path: &Path) -> anyhow::Result<Change> {
    let block = format!("{AGENTS_BEGIN}\n{AGENTS_SECTION}{AGENTS_END}\n");
    let Some(existing) = read_existing(root, path)? else {
        return create_once(root, path, &format!("# AGENTS.md\n\n{block}"));
    };
    let updated = match (existing.find(AGENTS_BEGIN), existing.find(AGENTS_END)) {
        (Some(begin), Some(end)) if begin < end => {
            let after = end + AGENTS_END.len();
            let rest = existing.get(after..).unwrap_or("");
            let rest = rest.strip_prefix('\n').unwrap_or(rest);
            format!("{}{block}{rest}", existing.get(..begin).unwrap_or(""))
        }
        (None, None) => {
            let separator = if existing.is_empty() || existing.ends_with("\n\n") {
                ""
            } else if existing.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            format!("{existing}{separator}{block}")
        }
        _ => anyhow::bail!(
            "{} has only one of the markers {AGENTS_BEGIN} / {AGENTS_END}: fix or remove it, then run init again",
            path.display()
        ),
    };
    if updated == existing {
        return Ok(Change::Kept);
    }
    release_gate_repo::fs::write_atomic(path, updated.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Change::Updated)
}

/// The bound `init --codex` gives Codex for one tool call, in seconds.
const TOOL_TIMEOUT_SEC: u32 = 120;

/// Adds the MCP server to the project's Codex configuration unless it is there already.
fn codex_config(root: &Path, path: &Path, command: &str) -> anyhow::Result<Change> {
    // Codex aborts a tool call after `tool_timeout_sec`; the run tools answer within seconds (a longer run
    // goes on behind a handle that `run_status` follows), so this bound only has to cover one step. Codex
    // passes a stdio server only its entry's `env` table: the signer's key goes there, empty until set.
    let entry = format!(
        "# release-gate's MCP server: release-readiness tools for Codex (`release-gate serve`).\n\
         [mcp_servers.{SERVER_NAME}]\ncommand = {}\nargs = [\"serve\"]\ntool_timeout_sec = {TOOL_TIMEOUT_SEC}\n\
         # The person who signs sets the path of their OpenSSH Ed25519 key here (outside the repository).\n\
         env = {{ {SIGNING_KEY_ENV} = \"\" }}\n",
        toml_string(command),
        SIGNING_KEY_ENV = release_gate_mcp::SIGNING_KEY_ENV
    );
    let Some(existing) = read_existing(root, path)? else {
        return create_once(root, path, &entry);
    };
    let parsed: toml::Table = toml::from_str(&existing)
        .with_context(|| format!("{} is not valid TOML; fix it, then run init again", path.display()))?;
    let present = parsed
        .get("mcp_servers")
        .and_then(toml::Value::as_table)
        .is_some_and(|servers| servers.contains_key(SERVER_NAME));
    if present {
        return Ok(Change::Kept);
    }
    let separator = if existing.is_empty() || existing.ends_with("\n\n") {
        ""
    } else if existing.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    release_gate_repo::fs::write_atomic(path, format!("{existing}{separator}{entry}").as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Change::Updated)
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn shell_word(text: &str) -> String {
    if text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
