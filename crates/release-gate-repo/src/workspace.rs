//! The operations both shells offer on a repository: draft, record a gate, declare risk, set a field,
//! decide, validate, status, list, classify. The CLI and the MCP server are thin faces of these.

use std::path::{Path, PathBuf};

use release_gate_core::classify::{self, Classification};
use release_gate_core::decision::{Call, Layer, RiskClass};
use release_gate_core::history::{Binding, Change, Event, Mark, SettableField};
use release_gate_core::{
    Code, Decision, Document, Policy, PolicyError, ReleaseFacts, Report, Severity, Verdict,
};
use serde::Serialize;

use crate::git::{Git, GitError};
use crate::store::{Id, Store, StoreError};

/// Why an operation could not run. A decision that is not ready is not an error.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("policy {path}: {error}")]
    Policy { path: String, error: PolicyError },
    #[error("{0}")]
    Invalid(String),
    /// A GO that does not validate: nothing was recorded.
    #[error("GO refused: the decision does not validate ({} error(s))", .0.errors().count())]
    Refused(Box<Report>),
}

/// Where the policy comes from: the given file, else `<root>/.release/policy.toml`, else the default.
pub fn load_policy(explicit: Option<&Path>, root: Option<&Path>) -> Result<Policy, OpError> {
    load_policy_with_bytes(explicit, root).map(|(policy, _)| policy)
}

/// The policy and its exact bytes (the built-in default's text when there is no file).
pub fn load_policy_with_bytes(
    explicit: Option<&Path>,
    root: Option<&Path>,
) -> Result<(Policy, Vec<u8>), OpError> {
    let Some((path, text)) = read_policy_file(explicit, root)? else {
        return Ok((Policy::default(), release_gate_core::policy::DEFAULT_POLICY_TOML.as_bytes().to_vec()));
    };
    let policy = Policy::from_toml(&text)
        .map_err(|error| OpError::Policy { path: path.display().to_string(), error })?;
    Ok((policy, text.into_bytes()))
}

/// The policy file and its text: the given file, else `<root>/.release/policy.toml`, which must be the
/// repository's own file (a link that leads out of the repository is refused); `None` when there is none.
/// Bounded, regular-only and UTF-8 either way: the one reader of policy files.
pub fn read_policy_file(
    explicit: Option<&Path>,
    root: Option<&Path>,
) -> Result<Option<(PathBuf, String)>, OpError> {
    let (path, read) = match (explicit, root) {
        (Some(path), _) => (path.to_path_buf(), crate::fs::read_limited(path)),
        (None, Some(root)) => {
            let path = root.join(".release").join("policy.toml");
            let read = crate::fs::read_inside(root, &path);
            if read.as_ref().is_err_and(crate::fs::ReadError::is_not_found) {
                return Ok(None);
            }
            (path, read)
        }
        (None, None) => return Ok(None),
    };
    let error = |message: String| OpError::Policy {
        path: path.display().to_string(),
        error: PolicyError { line: None, key: None, message },
    };
    let bytes = read.map_err(|e| match e {
        crate::fs::ReadError::Io(io) => error(format!("cannot read it: {io}")),
        other => error(other.to_string()),
    })?;
    let text = String::from_utf8(bytes).map_err(|_| error("not valid UTF-8".into()))?;
    Ok(Some((path, text)))
}

/// A repository with its store and policy.
#[derive(Debug)]
pub struct Workspace {
    pub git: Git,
    pub store: Store,
    pub policy: Policy,
    /// The policy file's exact bytes (the built-in default's text when there is none), for its digest.
    pub policy_bytes: Vec<u8>,
}

/// What `draft` needs.
#[derive(Debug, Clone, Default)]
pub struct DraftRequest {
    /// The id to use; generated from the date and scope when absent.
    pub id: Option<String>,
    pub scope: String,
    pub risk: Option<RiskClass>,
    pub justification: Option<String>,
    /// Base revision; defaults to the latest tag reachable from head.
    pub base: Option<String>,
    /// Head revision; defaults to HEAD.
    pub head: Option<String>,
    pub actor: String,
}

/// The state of one gate, for `status`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GateStatus {
    pub layer: Layer,
    /// As recorded: `pass`, `fail`, `n/a` with any comment; `null` when not marked.
    pub result: Option<String>,
    /// Whether the risk class requires this layer.
    pub required: bool,
    pub evidence: Option<EvidenceStatus>,
}

/// The latest evidence of a gate and whether it still counts.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EvidenceStatus {
    pub actor: String,
    pub at: String,
    pub commit: String,
    pub items: Vec<String>,
    /// Gathered on the commit being released, for the same diff.
    pub fresh: bool,
    /// Older than the class's maximum evidence age.
    pub expired: bool,
}

/// Where a decision stands.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Status {
    pub id: String,
    pub scope: Option<String>,
    pub risk_class: Option<RiskClass>,
    pub decision: Option<Call>,
    pub binding: Option<Binding>,
    /// The commit judged as the one being released.
    pub release_commit: String,
    pub gates: Vec<GateStatus>,
    pub report: Report,
    /// What to do next, most important first.
    pub next: Vec<String>,
}

/// One line of `list`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub id: String,
    pub scope: Option<String>,
    pub risk_class: Option<RiskClass>,
    pub decision: Option<Call>,
    /// Against the given commit; `null` when the record cannot be read.
    pub verdict: Option<Verdict>,
    /// When the record last changed.
    pub updated: Option<String>,
    /// Why the record cannot be read, if it cannot.
    pub error: Option<String>,
}

impl Workspace {
    /// The repository enclosing `dir`, with its policy (or the explicit one).
    pub fn open(dir: &Path, policy: Option<&Path>) -> Result<Workspace, OpError> {
        let git = Git::discover(dir)?;
        let (policy, policy_bytes) = load_policy_with_bytes(policy, Some(git.root()))?;
        let store = Store::open(git.root());
        Ok(Workspace { git, store, policy, policy_bytes })
    }

    /// Who is acting when nobody says: git's `user.name`, else `$USER`.
    pub fn default_actor(&self) -> String {
        self.git.user_name().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".to_owned())
    }

    /// Creates a decision bound to base..head; returns its id.
    pub fn draft(&self, request: DraftRequest, now: jiff::Timestamp) -> Result<Id, OpError> {
        let scope = release_gate_core::value::tidy_multiline(&request.scope);
        if scope.is_empty() {
            return Err(OpError::Invalid(
                "the release scope is empty: name the services, modules or features".into(),
            ));
        }
        let head = self.git.resolve(request.head.as_deref().unwrap_or("HEAD"))?;
        let base = match &request.base {
            Some(base) => self.git.resolve(base)?,
            None => {
                let tag = self.git.latest_tag(&head).ok_or_else(|| {
                    OpError::Invalid(
                        "no tag marks the last release, so there is no default base: pass the base revision (e.g. --base main)".into(),
                    )
                })?;
                self.git.resolve(&tag)?
            }
        };
        let diff = self.git.diff(&base, &head)?;
        let mut decision = Decision {
            binding: Some(Binding {
                repository: self.git.repository_name(),
                base: base.clone(),
                head: head.clone(),
                diff_digest: diff.digest.clone(),
            }),
            ..Decision::default()
        };
        let event = |change| Event { at: now, actor: request.actor.clone(), change };
        decision.record(event(Change::Drafted { base, head, diff_digest: diff.digest }));
        decision.record(event(Change::FieldSet {
            field: SettableField::Scope,
            value: scope.lines().map(str::to_owned).collect(),
        }));
        if let Some(risk_class) = request.risk {
            decision.record(event(Change::RiskDeclared {
                risk_class,
                justification: request.justification.clone(),
            }));
        }
        match &request.id {
            Some(id) => {
                let id = Id::parse(id)?;
                self.store.create(&id, &decision)?;
                Ok(id)
            }
            None => {
                let date = now.strftime("%Y-%m-%d").to_string();
                let base_id = Id::slug(&date, &scope)?;
                for n in 1..1000 {
                    let id = if n == 1 { base_id.clone() } else { Id::parse(&format!("{base_id}-{n}"))? };
                    match self.store.create(&id, &decision) {
                        Ok(()) => return Ok(id),
                        Err(StoreError::Exists { .. }) => continue,
                        Err(error) => return Err(error.into()),
                    }
                }
                Err(OpError::Invalid(format!("too many decisions named {base_id}: pass an id")))
            }
        }
    }

    /// Git facts about releasing `commit` for a stored decision, or `None` for an unbound record.
    pub fn release_facts(&self, decision: &Decision, commit: &str) -> Result<Option<ReleaseFacts>, OpError> {
        let Some(binding) = &decision.binding else { return Ok(None) };
        let diff = self.git.diff(&binding.base, commit)?;
        // Evidence commits whose code is the released commit's: only release-gate's records differ.
        let mut same_code: Vec<String> = Vec::new();
        for event in &decision.history {
            let evidence_commit = match &event.change {
                Change::GateRecorded { commit, .. } => commit,
                _ => continue,
            };
            if evidence_commit != commit
                && !same_code.contains(evidence_commit)
                && self.git.same_code(evidence_commit, commit)
            {
                same_code.push(evidence_commit.clone());
            }
        }
        Ok(Some(ReleaseFacts {
            commit: commit.to_owned(),
            diff_digest: diff.digest,
            changed_paths: diff.paths,
            same_code,
        }))
    }

    fn judge(&self, decision: &Decision, facts: Option<&ReleaseFacts>, now: jiff::Timestamp) -> Report {
        release_gate_core::validate_release(
            &Document::from_record(decision.clone()),
            &self.policy,
            now,
            facts,
        )
    }

    /// Validates a stored decision for releasing `commit_rev`.
    pub fn validate(
        &self,
        id: &Id,
        commit_rev: &str,
        now: jiff::Timestamp,
    ) -> Result<(Decision, Report), OpError> {
        let decision = self.store.load(id)?;
        let commit = self.git.resolve(commit_rev)?;
        let facts = self.release_facts(&decision, &commit)?;
        let report = self.judge(&decision, facts.as_ref(), now);
        Ok((decision, report))
    }

    /// Where a decision stands: gates, evidence and freshness, findings, next steps.
    pub fn status(&self, id: &Id, commit_rev: &str, now: jiff::Timestamp) -> Result<Status, OpError> {
        let decision = self.store.load(id)?;
        let commit = self.git.resolve(commit_rev)?;
        let facts = self.release_facts(&decision, &commit)?;
        let report = self.judge(&decision, facts.as_ref(), now);
        let class = decision.risk_class().valid();
        let gates = Layer::ALL
            .into_iter()
            .map(|layer| GateStatus {
                layer,
                result: decision.gates.get(layer).map(str::to_owned),
                required: class.is_some_and(|class| self.policy.class(class).gates.contains(&layer)),
                evidence: decision.gate_evidence(layer).map(|evidence| EvidenceStatus {
                    actor: evidence.actor.to_owned(),
                    at: evidence.at.to_string(),
                    commit: evidence.commit.to_owned(),
                    items: evidence.evidence.to_vec(),
                    fresh: facts.as_ref().is_some_and(|facts| {
                        (evidence.commit == facts.commit
                            || facts.same_code.iter().any(|c| c == evidence.commit))
                            && evidence.diff_digest.is_none_or(|d| d == facts.diff_digest)
                            && evidence.at
                                <= now
                                    .checked_add(release_gate_core::validate::FUTURE_TOLERANCE)
                                    .unwrap_or(now)
                    }),
                    expired: class.is_some_and(|class| {
                        now.duration_since(evidence.at) > self.policy.class(class).evidence_max_age
                    }),
                }),
            })
            .collect();
        let next = next_steps(&report, &decision, id);
        Ok(Status {
            id: id.to_string(),
            scope: decision.scope.clone(),
            risk_class: class,
            decision: decision.call().valid(),
            binding: decision.binding.clone(),
            release_commit: commit,
            gates,
            report,
            next,
        })
    }

    /// Marks a gate layer with evidence gathered on `commit_rev`.
    #[allow(clippy::too_many_arguments)]
    pub fn record_gate(
        &self,
        id: &Id,
        layer: Layer,
        result: Mark,
        evidence: Vec<String>,
        actor: &str,
        commit_rev: &str,
        now: jiff::Timestamp,
    ) -> Result<Decision, OpError> {
        let commit = self.git.resolve(commit_rev)?;
        let evidence: Vec<String> = evidence
            .iter()
            .map(|e| release_gate_core::value::tidy_line(e))
            .filter(|e| !e.is_empty())
            .collect();
        self.store.update(id, |decision| {
            let diff_digest = match &decision.binding {
                Some(binding) => Some(self.git.diff(&binding.base, &commit)?.digest),
                None => None,
            };
            decision.record(Event {
                at: now,
                actor: actor.to_owned(),
                change: Change::GateRecorded {
                    layer,
                    result,
                    evidence,
                    commit: commit.clone(),
                    diff_digest,
                    checks: Vec::new(),
                },
            });
            Ok::<_, OpError>(decision.clone())
        })
    }

    /// Declares or changes the risk class.
    pub fn declare_risk(
        &self,
        id: &Id,
        risk_class: RiskClass,
        justification: Option<String>,
        actor: &str,
        now: jiff::Timestamp,
    ) -> Result<Decision, OpError> {
        let justification =
            justification.map(|j| release_gate_core::value::tidy_line(&j)).filter(|j| !j.is_empty());
        self.store.update(id, |decision| {
            decision.record(Event {
                at: now,
                actor: actor.to_owned(),
                change: Change::RiskDeclared { risk_class, justification },
            });
            Ok::<_, OpError>(decision.clone())
        })
    }

    /// Sets a template field.
    pub fn set_field(
        &self,
        id: &Id,
        field: SettableField,
        value: Vec<String>,
        actor: &str,
        now: jiff::Timestamp,
    ) -> Result<Decision, OpError> {
        let value: Vec<String> =
            value.iter().map(|v| release_gate_core::value::tidy_line(v)).filter(|v| !v.is_empty()).collect();
        self.store.update(id, |decision| {
            decision.record(Event {
                at: now,
                actor: actor.to_owned(),
                change: Change::FieldSet { field, value },
            });
            Ok::<_, OpError>(decision.clone())
        })
    }

    /// Records the go/no-go call. A GO is refused (and nothing recorded) unless the decision, with the
    /// call made, validates for `commit_rev`; a NO-GO is always recorded.
    #[allow(clippy::too_many_arguments)]
    pub fn decide(
        &self,
        id: &Id,
        call: Call,
        owner: &str,
        actor: &str,
        commit_rev: &str,
        now: jiff::Timestamp,
    ) -> Result<(Decision, Report), OpError> {
        let owner = release_gate_core::value::tidy_line(owner);
        if owner.is_empty() {
            return Err(OpError::Invalid("name the final decision owner".into()));
        }
        let commit = self.git.resolve(commit_rev)?;
        self.store.update(id, |decision| {
            let facts = self.release_facts(decision, &commit)?;
            let mut candidate = decision.clone();
            let (mark, word) = match call {
                Call::Go => (Mark::Pass, "GO"),
                Call::NoGo => (Mark::Fail, "NO-GO"),
            };
            let event = |change| Event { at: now, actor: actor.to_owned(), change };
            candidate.record(event(Change::GateRecorded {
                layer: Layer::Decision,
                result: mark,
                evidence: vec![format!("{word} by {owner}")],
                commit: commit.clone(),
                diff_digest: facts.as_ref().map(|f| f.diff_digest.clone()),
                checks: Vec::new(),
            }));
            candidate.record(event(Change::Decided { decision: call, owner: owner.clone() }));
            let report = self.judge(&candidate, facts.as_ref(), now);
            if call == Call::Go && report.verdict == Verdict::Fail {
                return Err(OpError::Refused(Box::new(report)));
            }
            *decision = candidate;
            Ok((decision.clone(), report))
        })
    }

    /// Every stored decision, judged against `commit_rev`.
    pub fn list(&self, commit_rev: &str, now: jiff::Timestamp) -> Result<Vec<Summary>, OpError> {
        // A repository without commits yet can still list its decisions, without verdicts.
        let commit = match self.git.resolve(commit_rev) {
            Ok(commit) => Some(commit),
            Err(GitError::UnknownRevision { .. }) if commit_rev == "HEAD" => None,
            Err(error) => return Err(error.into()),
        };
        let mut out = Vec::new();
        for id in self.store.ids()? {
            let summary = match self.store.load(&id) {
                Ok(decision) => {
                    let verdict = commit
                        .as_deref()
                        .and_then(|commit| self.release_facts(&decision, commit).ok())
                        .map(|facts| self.judge(&decision, facts.as_ref(), now).verdict);
                    Summary {
                        id: id.to_string(),
                        scope: decision.scope.clone(),
                        risk_class: decision.risk_class().valid(),
                        decision: decision.call().valid(),
                        verdict,
                        updated: decision.history.last().map(|event| event.at.to_string()),
                        error: None,
                    }
                }
                Err(error) => Summary {
                    id: id.to_string(),
                    scope: None,
                    risk_class: None,
                    decision: None,
                    verdict: None,
                    updated: None,
                    error: Some(error.to_string()),
                },
            };
            out.push(summary);
        }
        Ok(out)
    }

    /// Suggests a risk class for base..head from the policy's path rules.
    pub fn classify(&self, base: Option<&str>, head: Option<&str>) -> Result<Classification, OpError> {
        let head = self.git.resolve(head.unwrap_or("HEAD"))?;
        let base = match base {
            Some(base) => self.git.resolve(base)?,
            None => {
                let tag = self.git.latest_tag(&head).ok_or_else(|| {
                    OpError::Invalid(
                        "no tag marks the last release: pass the base revision (e.g. --base main)".into(),
                    )
                })?;
                self.git.resolve(&tag)?
            }
        };
        let paths = self.git.changed_paths(&base, &head)?;
        Ok(classify::classify(self.policy.paths(), &paths))
    }
}

/// The fixes for the report's errors in protocol order, then what is left to decide.
fn next_steps(report: &Report, decision: &Decision, id: &Id) -> Vec<String> {
    let mut steps: Vec<String> = Vec::new();
    for code in Code::ALL {
        if report.findings.iter().any(|f| f.code == *code && f.severity == Severity::Error) {
            steps.push(format!("{}: {}", code, code.fix()));
        }
    }
    if decision.call().valid().is_none() {
        steps.push(format!(
            "When every gate is evaluated, the final decision owner records the call: `release-gate decide {id} --go|--no-go --owner NAME`."
        ));
    }
    steps
}
