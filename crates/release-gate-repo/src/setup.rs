//! Setting a repository up for signing, and checking the set-up: who may sign (`signers add`), and
//! `doctor`, which says what stands between the team and a signed GO before anyone tries.

use std::path::{Path, PathBuf};

use release_gate_core::signing::{
    AllowedSigners, CHECKPOINT_NAMESPACE, NAMESPACE, PublicKey, quote_principal,
};
use serde::Serialize;

use crate::workspace::{OpError, Workspace};

/// The allowed_signers line that trusts `key` for `principal` in both of release-gate's namespaces: the line
/// `keygen` prints and `signers add` writes (ssh-keygen's format).
pub fn signer_line(principal: &str, key: &PublicKey) -> String {
    format!(
        "{} namespaces=\"{NAMESPACE},{CHECKPOINT_NAMESPACE}\" {}",
        quote_principal(principal),
        key.to_openssh()
    )
}

/// What `signers add` did.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AddedSigner {
    /// The line written to `.release/allowed_signers`.
    pub line: String,
    /// The key's fingerprint.
    pub fingerprint: String,
    /// Other names this key was already trusted for (kept; each key should stand for one person).
    pub also_listed_as: Vec<String>,
}

/// One check of `doctor`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SetupCheck {
    /// A short name: `policy`, `allowed-signers`, `signers`, `signing-key`, `codex`, `records`.
    pub check: &'static str,
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// What to do, when not ok.
    pub fix: Option<String>,
}

/// Everything `doctor` checked.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Doctor {
    /// True when every check is ok.
    pub ok: bool,
    pub checks: Vec<SetupCheck>,
}

fn check(check: &'static str, ok: bool, detail: String, fix: Option<String>) -> SetupCheck {
    SetupCheck { check, ok, detail, fix: if ok { None } else { fix } }
}

impl Workspace {
    fn allowed_signers_path(&self) -> PathBuf {
        self.git.root().join(".release").join("allowed_signers")
    }

    /// Trusts `public_key` (an OpenSSH public key line, `ssh-ed25519 AAAA... [comment]`) for `name` in
    /// `.release/allowed_signers`, creating the file when needed. `name` is the person's name as decisions
    /// write it (owner, panel). A key already listed for the same name is refused.
    pub fn add_signer(&self, name: &str, public_key: &str) -> Result<AddedSigner, OpError> {
        let name = release_gate_core::value::tidy_line(name);
        if name.is_empty() || name.contains(['"', ',']) {
            return Err(OpError::Precondition(
                "name the signer as decisions write them (e.g. `Priya Shah`), without quotes or commas"
                    .into(),
            ));
        }
        let key = parse_public_key(public_key)?;
        let path = self.allowed_signers_path();
        let existing = match crate::fs::read_inside(self.git.root(), &path) {
            Ok(bytes) => String::from_utf8(bytes)
                .map_err(|_| OpError::File { path: path.clone(), reason: "not UTF-8".into() })?,
            Err(error) if error.is_not_found() => String::new(),
            Err(error) => return Err(OpError::File { path, reason: error.to_string() }),
        };
        let allowed = AllowedSigners::parse(&existing);
        let mut also_listed_as = Vec::new();
        for signer in allowed.signers.iter().filter(|signer| signer.key == key) {
            if signer.principals.iter().any(|p| p.eq_ignore_ascii_case(&name)) {
                return Err(OpError::Precondition(format!(
                    "the key {} is already trusted for {name} (line {})",
                    key.fingerprint(),
                    signer.line
                )));
            }
            also_listed_as.extend(signer.principals.iter().cloned());
        }
        let line = signer_line(&name, &key);
        let separator = if existing.is_empty() || existing.ends_with('\n') { "" } else { "\n" };
        let dir = self.git.root().join(".release");
        crate::fs::create_dir_inside(self.git.root(), &dir)
            .map_err(|error| OpError::File { path: dir.clone(), reason: error.to_string() })?;
        crate::fs::write_atomic(&path, format!("{existing}{separator}{line}\n").as_bytes()).map_err(
            |error| OpError::File { path: path.clone(), reason: format!("cannot write it: {error}") },
        )?;
        Ok(AddedSigner { line, fingerprint: key.fingerprint(), also_listed_as })
    }

    /// Checks the set-up a signed GO needs: the policy committed, allowed_signers readable, a signer for
    /// every owner and panel member of the open decisions, the signing key (when given) usable and trusted,
    /// a Codex server entry that passes the key to the server, and release-gate's records committed.
    pub fn doctor(&self, signing_key: Option<&Path>) -> Doctor {
        let root = self.git.root();
        let mut checks = Vec::new();

        let head = self.git.resolve("HEAD").ok();
        let committed = head
            .as_deref()
            .and_then(|head| self.git.committed_file(head, ".release/policy.toml").ok().flatten());
        let on_disk = crate::fs::read_inside(root, &root.join(".release/policy.toml")).ok();
        checks.push(match (&on_disk, &committed) {
            (None, _) => check(
                "policy",
                false,
                "no .release/policy.toml: the built-in policy applies, and nothing can be run".into(),
                Some("`release-gate init`, review the policy, then commit it".into()),
            ),
            (Some(_), None) => check(
                "policy",
                false,
                ".release/policy.toml is not committed: commands run only from the committed policy".into(),
                Some("commit .release/policy.toml".into()),
            ),
            (Some(disk), Some(commit)) => check(
                "policy",
                disk == commit,
                if disk == commit {
                    ".release/policy.toml is committed".into()
                } else {
                    ".release/policy.toml has uncommitted changes".into()
                },
                Some("commit (or revert) the policy change".into()),
            ),
        });

        let allowed = match crate::signoff::read_allowed_signers(root, None) {
            Ok((_, allowed)) => {
                let ignored = allowed.ignored.len();
                checks.push(check(
                    "allowed-signers",
                    ignored == 0 && !allowed.signers.is_empty(),
                    format!("{} signer line(s), {ignored} ignored", allowed.signers.len()),
                    Some("`release-gate signers add NAME PUBKEY` for each person who signs; fix or remove ignored lines".into()),
                ));
                Some(allowed)
            }
            Err(error) => {
                checks.push(check(
                    "allowed-signers",
                    false,
                    error.to_string(),
                    Some("`release-gate init`, then `release-gate signers add NAME PUBKEY`".into()),
                ));
                None
            }
        };

        // Every owner and panel member of an open decision can sign.
        let mut missing: Vec<String> = Vec::new();
        let mut people = 0;
        for id in self.store.ids().unwrap_or_default() {
            let Ok(decision) = self.store.load(&id) else { continue };
            if decision.closure().is_some() {
                continue;
            }
            for name in decision.decision_owner.iter().chain(decision.panel.iter()) {
                people += 1;
                let listed = allowed.as_ref().is_some_and(|allowed| {
                    allowed.signers.iter().any(|signer| {
                        signer
                            .principals
                            .iter()
                            .any(|p| release_gate_core::signing::principal_matches(p, name))
                    })
                });
                let person = release_gate_core::signing::person_name(name).to_owned();
                if !listed && !missing.contains(&person) {
                    missing.push(person);
                }
            }
        }
        checks.push(check(
            "signers",
            missing.is_empty(),
            if missing.is_empty() {
                format!("every owner and panel member of the open decisions can sign ({people} named)")
            } else {
                format!("no allowed_signers line names {}", missing.join(", "))
            },
            Some("each of them runs `release-gate keygen --out ~/.ssh/release_ed25519`, and the line it prints goes in with `release-gate signers add NAME PUBKEY` (the name exactly as the decision writes it)".into()),
        ));

        match signing_key {
            None => checks.push(check(
                "signing-key",
                true,
                "no signing key given (RELEASE_GATE_SIGNING_KEY is not set): fine unless this person signs through the MCP server".into(),
                None,
            )),
            Some(path) => checks.push(match crate::keys::load_signing_key(path, Some(root)) {
                Err(error) => check(
                    "signing-key",
                    false,
                    error.to_string(),
                    Some("point RELEASE_GATE_SIGNING_KEY at your private key (mode 0600, outside the repository)".into()),
                ),
                Ok(key) => {
                    let public = key.public();
                    let names: Vec<String> = allowed
                        .as_ref()
                        .map(|allowed| {
                            allowed
                                .signers
                                .iter()
                                .filter(|signer| signer.key == public)
                                .flat_map(|signer| signer.principals.iter().cloned())
                                .collect()
                        })
                        .unwrap_or_default();
                    check(
                        "signing-key",
                        !names.is_empty(),
                        if names.is_empty() {
                            format!("the key {} is not in allowed_signers", public.fingerprint())
                        } else {
                            format!("the key {} signs as {}", public.fingerprint(), names.join(", "))
                        },
                        Some("`release-gate signers add \"YOUR NAME\" \"$(cat KEY.pub)\"`, then commit".into()),
                    )
                }
            }),
        }

        if let Some(codex) = codex_server_entry(root) {
            let passes_key = codex.contains("RELEASE_GATE_SIGNING_KEY");
            checks.push(check(
                "codex",
                passes_key,
                if passes_key {
                    ".codex/config.toml passes RELEASE_GATE_SIGNING_KEY to the server".into()
                } else {
                    ".codex/config.toml starts the server without RELEASE_GATE_SIGNING_KEY in its `env` table: Codex passes only that table, so the server cannot sign".into()
                },
                Some("add `env = { RELEASE_GATE_SIGNING_KEY = \"/home/you/.ssh/release_ed25519\" }` to [mcp_servers.release_gate] (in your user config if the path is personal)".into()),
            ));
        }

        let uncommitted = self.git.uncommitted_release_files().unwrap_or_default();
        checks.push(check(
            "records",
            uncommitted.is_empty(),
            if uncommitted.is_empty() {
                "release-gate's records under .release/ are committed".into()
            } else {
                let shown: Vec<&str> = uncommitted.iter().take(5).map(String::as_str).collect();
                format!("not committed yet: {}", shown.join(", "))
            },
            Some("commit .release/ so the team and CI see the decisions and signatures".into()),
        ));

        let ok = checks.iter().all(|check| check.ok);
        Doctor { ok, checks }
    }
}

/// The text of the `release_gate` server entry in the repository's `.codex/config.toml`, if there is one.
fn codex_server_entry(root: &Path) -> Option<String> {
    let bytes = crate::fs::read_inside(root, &root.join(".codex/config.toml")).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let start = text.find("[mcp_servers.release_gate")?;
    let rest = text.get(start..)?;
    // The entry and its sub-tables, up to the next unrelated table.
    let end = rest
        .match_indices("\n[")
        .find(|(at, _)| !rest.get(at + 2..).is_some_and(|t| t.starts_with("mcp_servers.release_gate")))
        .map_or(rest.len(), |(at, _)| at);
    rest.get(..end).map(str::to_owned)
}

/// One OpenSSH Ed25519 public key line, read with the allowed_signers parser (one reader of keys).
fn parse_public_key(text: &str) -> Result<PublicKey, OpError> {
    let line = text.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or_default();
    let parsed = AllowedSigners::parse(&format!("signer {line}\n"));
    match (parsed.signers.into_iter().next(), parsed.ignored.first()) {
        (Some(signer), _) => Ok(signer.key),
        (None, Some(ignored)) => {
            Err(OpError::Precondition(format!("not an OpenSSH Ed25519 public key: {}", ignored.reason)))
        }
        (None, None) => Err(OpError::Precondition(
            "give the public key: the text of KEY.pub (`ssh-ed25519 AAAA...`)".into(),
        )),
    }
}
