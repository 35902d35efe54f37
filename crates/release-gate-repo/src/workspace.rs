//! The operations both shells offer on a repository: draft, record a gate, declare risk, set a field,
//! decide, validate, status, list, classify. The CLI and the MCP server are thin faces of these.

use std::path::{Path, PathBuf};

use release_gate_core::classify::{self, Classification};
use release_gate_core::decision::GateResult;
use release_gate_core::decision::{Call, Layer, RiskClass};
use release_gate_core::history::{Binding, Change, Closure, DeltaFile, Event, SettableField};
use release_gate_core::value::short_commit;
use release_gate_core::{
    Code, Decision, Document, Finding, Policy, PolicyErrors, ReleaseFacts, Report, Severity, Verdict,
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
    Policy { path: String, error: PolicyErrors },
    /// The policy file could not be read (missing, a folder, a link out, too large, not UTF-8).
    #[error("policy {path}: {reason}")]
    PolicyUnreadable { path: String, reason: String },
    /// The repository, the decision or a file is not in the state the operation needs; the message says
    /// what to do.
    #[error("{0}")]
    Precondition(String),
    /// A file the operation reads or writes cannot be used.
    #[error("{}: {reason}", path.display())]
    File { path: PathBuf, reason: String },
    #[error(transparent)]
    Signing(#[from] release_gate_core::signing::SigningError),
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
    #[error(transparent)]
    Attest(#[from] crate::attestation::AttestError),
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    /// No base given and no tag marks the last release.
    #[error(
        "no tag marks the last release, so there is no default base: pass the base revision, the last release (e.g. `--base v1.4.0` or `--base main`)"
    )]
    NoBase,

    /// A GO that does not validate: nothing was recorded.
    #[error("GO refused: the decision does not validate ({} error(s))", .0.errors().count())]
    Refused(Box<Report>),
    /// A typed result for a gate whose evidence the committed policy runs.
    #[error(
        "the committed policy runs the {layer} gate's evidence ({how}), so a typed result does not count; run it, \
         or, as a person taking responsibility, override with a justification (`--override --justification TEXT`)"
    )]
    RunEvidence { layer: Layer, how: &'static str },
    /// A pass with nothing to show for it.
    #[error("a pass for the {layer} gate needs evidence: say what shows it (a CI run, an approval, a link)")]
    EvidenceRequired { layer: Layer },
    /// The decision gate is the call itself.
    #[error(
        "the decision gate is recorded by `decide` (GO or NO-GO by the final decision owner), not by hand"
    )]
    DecisionGate,
    /// A decision whose life has ended takes no more changes.
    #[error("decision `{id}` is closed ({outcome}); draft a new decision for another release")]
    Closed { id: String, outcome: &'static str },
    /// `decide` by someone other than the named decision owner.
    #[error(
        "the final decision owner of this decision is {recorded}, not {given}: only they record the call \
         (change the owner explicitly with `set ID decision-owner NAME` if the ownership really moved)"
    )]
    OwnerMismatch { recorded: String, given: String },
    /// A run stopped by its caller before it finished: its commands were killed and nothing recorded.
    #[error(
        "the run was cancelled: its commands were stopped and nothing was recorded; run it again when ready"
    )]
    Cancelled,
}

impl From<release_gate_core::value::InvalidId> for OpError {
    fn from(error: release_gate_core::value::InvalidId) -> OpError {
        OpError::Store(StoreError::InvalidId(error))
    }
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
    let error = |reason: String| OpError::PolicyUnreadable { path: path.display().to_string(), reason };
    let bytes = read.map_err(|e| match e {
        crate::fs::ReadError::Io(io) => error(format!("cannot open it: {io}")),
        other => error(other.to_string()),
    })?;
    let text = String::from_utf8(bytes).map_err(|_| error("not valid UTF-8".into()))?;
    Ok(Some((path, text)))
}

/// A repository with its store and policy.
#[derive(Debug)]
pub struct Workspace {
    pub(crate) git: Git,
    pub(crate) store: Store,
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
    /// Before a GO: the errors recording GO now would still meet (the GO-only rules, such as the panel,
    /// drill, rehearsal and communication package, evaluated as a preview). Empty once decided.
    pub go_needs: Vec<Finding>,
    /// What to do next, most important first, as CLI lines.
    pub next: Vec<String>,
    /// The same steps for an agent: who acts (the agent, or only the person), the MCP tool with its
    /// arguments, the CLI command; failed gates first as blockers; after a GO, the missing signatures.
    pub steps: Vec<crate::next::Step>,
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
    /// Where its life stands: `draft`, `go`, `no-go`, `deployed`, `rolled-back` or `abandoned`; `null` when
    /// the record cannot be read.
    pub state: Option<String>,
    /// Whether a signature (`.release/attestations/<id>.dsse.json`) exists; `verify` says whether it holds.
    pub signed: bool,
    /// When the record last changed.
    pub updated: Option<String>,
    /// Why the record cannot be read, if it cannot.
    pub error: Option<String>,
}

impl Workspace {
    /// The repository's root folder.
    pub fn root(&self) -> &Path {
        self.git.root()
    }

    /// A stored decision.
    pub fn load(&self, id: &Id) -> Result<Decision, OpError> {
        Ok(self.store.load(id)?)
    }

    /// The ids of the stored decisions.
    pub fn ids(&self) -> Result<Vec<Id>, OpError> {
        Ok(self.store.ids()?)
    }

    /// Where a stored decision's record lives.
    pub fn record_path(&self, id: &Id) -> PathBuf {
        self.store.path(id)
    }

    /// The commit a revision names.
    pub fn resolve(&self, revision: &str) -> Result<String, OpError> {
        Ok(self.git.resolve(revision)?)
    }

    /// Whether `ancestor` is an ancestor of (or the same commit as) `descendant`.
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> bool {
        self.git.is_ancestor(ancestor, descendant)
    }

    /// The repository's decision log (on its branch), publishing to `remote` or `origin`.
    pub fn log(&self, remote: Option<&str>) -> Result<crate::ledger::branch::BranchLog, OpError> {
        Ok(crate::ledger::branch::BranchLog::open(&self.git, remote)?)
    }

    /// The same workspace, recording `confirmation` (how a person confirmed the act) on what it writes.
    #[must_use]
    pub fn confirmed(mut self, confirmation: Option<release_gate_core::history::Confirmation>) -> Workspace {
        self.store = self.store.confirmed(confirmation);
        self
    }

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
        self.draft_release(request, now).map(|drafted| drafted.id)
    }

    /// Creates a decision bound to base..head, and says what it covers: the range (with how its base was
    /// chosen), the diff's classification, and warnings for the person or agent who drafted it (a declared
    /// class below the suggestion, an empty release).
    pub fn draft_release(&self, request: DraftRequest, now: jiff::Timestamp) -> Result<Drafted, OpError> {
        let scope = release_gate_core::value::tidy_multiline(&request.scope);
        if scope.is_empty() {
            return Err(OpError::Precondition(
                "the release scope is empty: name the services, modules or features".into(),
            ));
        }
        let range = self.range(request.base.as_deref(), request.head.as_deref())?;
        let (base, head) = (range.base.clone(), range.head.clone());
        let diff = self.git.diff(&base, &head)?;
        let manifest_changes = self.manifest_changes(&base, &head, &diff.paths)?;
        let classification = classify::classify_with(self.policy.paths(), &diff.paths, |path| {
            manifest_changes.get(path).map_or(&[][..], Vec::as_slice)
        });
        let mut warnings = draft_warnings(&classification, request.risk, request.justification.as_deref());
        // An empty release (the latest tag on HEAD, or commits that change only release-gate's own records)
        // is drafted, so a team can prepare before its changes land, but never silently.
        if diff.paths.is_empty() {
            let why = if base == head {
                "is one commit (the latest tag is on HEAD)"
            } else {
                "changes no files outside .release/"
            };
            warnings.push(format!(
                "nothing to release: {} {why}; pass the last released revision with `--base`, or rebind the decision once the release's changes are committed (`release-gate rebind ID`)",
                range.describe()
            ));
        }
        let mut decision = Decision {
            binding: Some(Binding {
                repository: self.git.repository_name(),
                base: base.clone(),
                head: head.clone(),
                diff_digest: diff.digest.clone(),
            }),
            ..Decision::default()
        };
        let event = |change| Event { at: now, actor: request.actor.clone(), change, confirmed: None };
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
        let id = match &request.id {
            Some(id) => {
                let id = Id::parse(id)?;
                self.store.create(&id, &decision)?;
                id
            }
            None => self.create_numbered(&now.strftime("%Y-%m-%d").to_string(), &scope, &decision)?,
        };
        Ok(Drafted { id, range, files: diff.paths.len(), suggested: classification.suggested, warnings })
    }

    /// Stores a new decision under `<date>-<scope>`, or the first free `-2`, `-3`, ... after it.
    fn create_numbered(&self, date: &str, scope: &str, decision: &Decision) -> Result<Id, OpError> {
        let base_id = Id::slug(date, scope)?;
        for n in 1..1000 {
            let id = if n == 1 { base_id.clone() } else { Id::parse(&format!("{base_id}-{n}"))? };
            match self.store.create(&id, decision) {
                Ok(()) => return Ok(id),
                Err(StoreError::Exists { .. }) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(OpError::Precondition(format!("too many decisions named {base_id}: pass an id")))
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
        let manifest_changes = self.manifest_changes(&binding.base, commit, &diff.paths)?;
        Ok(Some(ReleaseFacts {
            commit: commit.to_owned(),
            diff_digest: diff.digest,
            changed_paths: diff.paths,
            same_code,
            manifest_changes,
        }))
    }

    /// Git facts about releasing `commit` for a written decision (Markdown or JSON without a binding): the
    /// diff from `base` (given, else the latest tag reachable from `commit`). `None` when no base is given
    /// and no tag marks the last release: the document is then judged without a diff.
    pub fn document_facts(
        &self,
        base: Option<&str>,
        commit: &str,
    ) -> Result<Option<(Range, ReleaseFacts)>, OpError> {
        let range = match self.range(base, Some(commit)) {
            Ok(range) => range,
            // Nothing to compare with: no tag to start from, or no commit at all yet (a new repository).
            Err(OpError::NoBase) if base.is_none() => return Ok(None),
            Err(_) if base.is_none() && commit == "HEAD" && self.git.resolve("HEAD").is_err() => {
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        let diff = self.git.diff(&range.base, &range.head)?;
        let manifest_changes = self.manifest_changes(&range.base, &range.head, &diff.paths)?;
        let facts = ReleaseFacts {
            commit: range.head.clone(),
            diff_digest: diff.digest,
            changed_paths: diff.paths,
            same_code: Vec::new(),
            manifest_changes,
        };
        Ok(Some((range, facts)))
    }

    /// The range a release covers: `base` (default: the latest tag reachable from head) to `head`
    /// (default: `HEAD`), resolved to commits, with how the base was chosen.
    pub fn range(&self, base: Option<&str>, head: Option<&str>) -> Result<Range, OpError> {
        let head_rev = head.unwrap_or("HEAD");
        let head = self.git.resolve(head_rev)?;
        let (base, base_from) = match base {
            Some(base) => (self.git.resolve(base)?, base.to_owned()),
            None => {
                let tag = self.git.latest_tag(&head).ok_or(OpError::NoBase)?;
                (self.git.resolve(&tag)?, format!("latest tag {tag}"))
            }
        };
        Ok(Range { base, head, base_from, head_from: head_rev.to_owned() })
    }

    /// The lines added or removed in each dependency manifest among `paths`, between two commits.
    fn manifest_changes(
        &self,
        base: &str,
        head: &str,
        paths: &[String],
    ) -> Result<std::collections::BTreeMap<String, Vec<String>>, OpError> {
        let mut changes = std::collections::BTreeMap::new();
        for path in paths.iter().filter(|path| self.policy.paths().is_manifest(path)) {
            let read = |commit: &str| -> Result<String, OpError> {
                Ok(self
                    .git
                    .committed_file(commit, path)?
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                    .unwrap_or_default())
            };
            let (before, after) = (read(base)?, read(head)?);
            let old: std::collections::HashSet<&str> = before.lines().map(str::trim).collect();
            let new: std::collections::HashSet<&str> = after.lines().map(str::trim).collect();
            let changed: Vec<String> = new
                .symmetric_difference(&old)
                .filter(|line| !line.is_empty())
                .map(|line| (*line).to_owned())
                .collect();
            changes.insert(path.clone(), changed);
        }
        Ok(changes)
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
        // Evidence age is judged at the time of a GO, as `validate` judges it.
        let judged_at = release_gate_core::validate::evidence_time(&decision, now);
        let gates = Layer::ALL
            .into_iter()
            .map(|layer| GateStatus {
                layer,
                result: decision.gates.get(layer).map(str::to_owned),
                required: class.is_some_and(|class| self.policy.class(class).gates.contains(&layer)),
                evidence: decision.gate_evidence(layer).map(|evidence| {
                    let max_age = class.map(|class| self.policy.class(class).evidence_max_age);
                    let judged = facts.as_ref().map(|facts| evidence.judge(facts, now, judged_at, max_age));
                    EvidenceStatus {
                        actor: evidence.actor.to_owned(),
                        at: evidence.at.to_string(),
                        commit: evidence.commit.to_owned(),
                        items: evidence.evidence.to_vec(),
                        fresh: judged.is_some_and(|j| j.stale.is_none() && !j.future),
                        expired: judged.is_some_and(|j| j.expired),
                    }
                }),
            })
            .collect();
        let go_needs = self.go_preview(&decision, &report, &commit, now);
        let next = next_steps(&report, &go_needs, &decision, id);
        let steps = self.steps(id, &decision, &report, &go_needs, now);
        Ok(Status {
            id: id.to_string(),
            scope: decision.scope.clone(),
            risk_class: class,
            decision: decision.call().valid(),
            binding: decision.binding.clone(),
            release_commit: commit,
            gates,
            report,
            go_needs,
            next,
            steps,
        })
    }

    /// The errors a GO recorded now would meet that the decision does not already show: what a GO will
    /// still need. Empty for a decided or closed decision.
    fn go_preview(
        &self,
        decision: &Decision,
        report: &Report,
        commit: &str,
        now: jiff::Timestamp,
    ) -> Vec<Finding> {
        if decision.call().valid().is_some() || decision.closure().is_some() {
            return Vec::new();
        }
        let owner = decision.decision_owner.clone().unwrap_or_else(|| "the final decision owner".to_owned());
        let preview = DecideRequest {
            call: Call::Go,
            owner,
            reason: None,
            actor: "preview".into(),
            commit: commit.to_owned(),
        };
        let Ok((candidate, facts)) = self.with_call(decision, &preview, now) else {
            return Vec::new();
        };
        self.judge(&candidate, facts.as_ref(), now)
            .findings
            .into_iter()
            .filter(|finding| {
                finding.severity == Severity::Error
                    && !report.findings.iter().any(|f| f.code == finding.code && f.message == finding.message)
            })
            .collect()
    }

    /// Marks a gate layer with evidence a person gives, gathered on the request's commit.
    ///
    /// Run evidence wins over a claim: when the committed policy runs the code gate's checks, only
    /// `gates run` sets that gate, unless a person overrides explicitly with a justification (recorded, and
    /// reported by `evidence-overridden`). The decision gate is set only by `decide`. A pass for a layer the
    /// class requires needs evidence.
    pub fn record_gate(
        &self,
        id: &Id,
        request: GateRequest,
        now: jiff::Timestamp,
    ) -> Result<Decision, OpError> {
        let GateRequest { layer, result, evidence, actor, commit: commit_rev, override_justification } =
            request;
        if layer == Layer::Decision {
            return Err(OpError::DecisionGate);
        }
        let commit = self.git.resolve(&commit_rev)?;
        let evidence: Vec<String> = evidence
            .iter()
            .map(|e| release_gate_core::value::tidy_line(e))
            .filter(|e| !e.is_empty())
            .collect();
        let override_justification =
            override_justification.map(|j| release_gate_core::value::tidy_line(&j)).filter(|j| !j.is_empty());
        let run_by_policy = self.runs_gate(layer, &commit)?;
        match (run_by_policy, &override_justification) {
            (Some(how), None) => return Err(OpError::RunEvidence { layer, how }),
            (None, Some(_)) => {
                return Err(OpError::Precondition(format!(
                    "nothing to override: the committed policy does not run the {layer} gate; record it without --override"
                )));
            }
            _ => {}
        }
        self.store.update(id, |decision| {
            refuse_closed(id, decision)?;
            let required = decision
                .risk_class()
                .valid()
                .is_none_or(|class| self.policy.class(class).gates.contains(&layer));
            if result == GateResult::Pass && required && evidence.is_empty() {
                return Err(OpError::EvidenceRequired { layer });
            }
            let diff_digest = match &decision.binding {
                Some(binding) => Some(self.git.diff(&binding.base, &commit)?.digest),
                None => None,
            };
            decision.record(Event {
                at: now,
                actor: actor.clone(),
                confirmed: None,
                change: Change::GateRecorded {
                    layer,
                    result,
                    evidence,
                    commit: commit.clone(),
                    diff_digest,
                    checks: Vec::new(),
                    override_justification,
                },
            });
            Ok::<_, OpError>(decision.clone())
        })
    }

    /// How the policy runs a gate's evidence, when it does: the work tree's policy or the one committed at
    /// `commit` (either is enough, so neither an uncommitted edit nor an old commit turns the runs off).
    fn runs_gate(&self, layer: Layer, commit: &str) -> Result<Option<&'static str>, OpError> {
        if layer != Layer::Code {
            return Ok(None);
        }
        let committed = match self.git.committed_file(commit, ".release/policy.toml")? {
            Some(bytes) => std::str::from_utf8(&bytes)
                .ok()
                .and_then(|text| Policy::from_toml(text).ok())
                .is_some_and(|policy| !policy.code_gates().is_empty()),
            None => false,
        };
        Ok((committed || !self.policy.code_gates().is_empty()).then_some("`release-gate gates run ID`"))
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
                confirmed: None,
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
                confirmed: None,
                change: Change::FieldSet { field, value },
            });
            Ok::<_, OpError>(decision.clone())
        })
    }

    /// Records the go/no-go call. A GO is refused (and nothing recorded) unless the decision, with the
    /// call made, validates for the request's commit; a NO-GO is always recorded. Only the named final
    /// decision owner makes the call: a different `owner` is refused (the first call names the owner when
    /// none is recorded).
    pub fn decide(
        &self,
        id: &Id,
        request: DecideRequest,
        now: jiff::Timestamp,
    ) -> Result<(Decision, Report), OpError> {
        let owner = release_gate_core::value::tidy_line(&request.owner);
        if owner.is_empty() {
            return Err(OpError::Precondition("name the final decision owner".into()));
        }
        let reason =
            request.reason.map(|r| release_gate_core::value::tidy_line(&r)).filter(|r| !r.is_empty());
        let commit = self.git.resolve(&request.commit)?;
        // The call as recorded: the owner and reason tidied, the commit resolved.
        let request = DecideRequest { owner, reason, commit, ..request };
        let (call, owner) = (request.call, request.owner.clone());
        self.store.update(id, |decision| {
            refuse_closed(id, decision)?;
            if let Some(recorded) = decision.decision_owner.as_deref()
                && !same_person(recorded, &owner)
            {
                return Err(OpError::OwnerMismatch { recorded: recorded.to_owned(), given: owner.clone() });
            }
            let (candidate, facts) = self.with_call(decision, &request, now)?;
            let report = self.judge(&candidate, facts.as_ref(), now);
            if call == Call::Go && report.verdict == Verdict::Fail {
                return Err(OpError::Refused(Box::new(report)));
            }
            *decision = candidate;
            Ok((decision.clone(), report))
        })
    }

    /// The decision with the call made (the decision gate and the `decided` event), and the release facts
    /// it is judged with. `call.commit` is a resolved commit.
    fn with_call(
        &self,
        decision: &Decision,
        call: &DecideRequest,
        now: jiff::Timestamp,
    ) -> Result<(Decision, Option<ReleaseFacts>), OpError> {
        let DecideRequest { call, owner, reason, actor, commit } = call;
        let (call, reason) = (*call, reason.clone());
        let facts = self.release_facts(decision, commit)?;
        let mut candidate = decision.clone();
        let (mark, word) = match call {
            Call::Go => (GateResult::Pass, "GO"),
            Call::NoGo => (GateResult::Fail, "NO-GO"),
        };
        let event = |change| Event { at: now, actor: actor.to_owned(), change, confirmed: None };
        candidate.record(event(Change::GateRecorded {
            layer: Layer::Decision,
            result: mark,
            evidence: vec![format!("{word} by {owner}")],
            commit: commit.to_owned(),
            diff_digest: facts.as_ref().map(|f| f.diff_digest.clone()),
            checks: Vec::new(),
            override_justification: None,
        }));
        candidate.record(event(Change::Decided { decision: call, owner: owner.to_owned(), reason }));
        Ok((candidate, facts))
    }

    /// Moves a decision to a new head on the same base (new commits after the draft, a hotfix). Records
    /// the old and new head, the new diff digest, and each file changed since the previous head with its
    /// suggested class. Evidence from before stays bound to its commit, so it is stale until re-run or
    /// re-recorded; owners, trigger, panel and communication carry over.
    pub fn rebind(
        &self,
        id: &Id,
        head_rev: &str,
        actor: &str,
        now: jiff::Timestamp,
    ) -> Result<Rebind, OpError> {
        let head = self.git.resolve(head_rev)?;
        self.store.update(id, |decision| {
            refuse_closed(id, decision)?;
            let Some(binding) = decision.binding.clone() else {
                return Err(OpError::Precondition("the decision is not bound to a git range; draft it in a repository".into()));
            };
            if binding.head == head {
                return Ok(Rebind { previous_head: head.clone(), head: head.clone(), delta: Vec::new(), stale: Vec::new(), changed: false });
            }
            if !self.git.is_ancestor(&binding.base, &head) {
                return Err(OpError::Precondition(format!(
                    "{} does not contain the decision's base {}: a decision follows new commits on the same base; draft a new decision for another range",
                    short_commit(&head),
                    short_commit(&binding.base)
                )));
            }
            let diff = self.git.diff(&binding.base, &head)?;
            let mut scratch = Vec::new();
            let delta: Vec<DeltaFile> = self
                .git
                .changed_paths(&binding.head, &head)?
                .into_iter()
                .map(|path| {
                    let (class, rule) = self.policy.paths().classify_path(&path, &mut scratch);
                    DeltaFile { path, class, rule: rule.to_owned() }
                })
                .collect();
            let stale: Vec<Layer> = Layer::ALL
                .into_iter()
                .filter(|layer| decision.gate_evidence(*layer).is_some_and(|e| e.commit != head && !self.git.same_code(e.commit, &head)))
                .collect();
            decision.record(Event {
                at: now,
                actor: actor.to_owned(),
                confirmed: None,
                change: Change::Rebound {
                    previous_head: binding.head.clone(),
                    head: head.clone(),
                    diff_digest: diff.digest,
                    delta: delta.clone(),
                },
            });
            Ok(Rebind { previous_head: binding.head, head: head.clone(), delta, stale, changed: true })
        })
    }

    /// Ends a decision's life: deployed (a GO), rolled back (a GO that shipped), or abandoned.
    pub fn close(
        &self,
        id: &Id,
        outcome: Closure,
        reason: Option<String>,
        actor: &str,
        now: jiff::Timestamp,
    ) -> Result<Decision, OpError> {
        let reason = reason.map(|r| release_gate_core::value::tidy_line(&r)).filter(|r| !r.is_empty());
        self.store.update(id, |decision| {
            refuse_closed(id, decision)?;
            let go = decision.call().valid() == Some(Call::Go);
            if matches!(outcome, Closure::Deployed | Closure::RolledBack) && !go {
                return Err(OpError::Precondition(format!(
                    "only a GO can be {}: record the call first (`decide`), or close the decision as abandoned",
                    outcome.as_str()
                )));
            }
            decision.record(Event { at: now, actor: actor.to_owned(), change: Change::Closed { outcome, reason }, confirmed: None });
            Ok::<_, OpError>(decision.clone())
        })
    }

    /// The stored decisions, judged against `commit_rev`; closed and abandoned ones only with `all`.
    pub fn list(&self, commit_rev: &str, now: jiff::Timestamp, all: bool) -> Result<Vec<Summary>, OpError> {
        // A repository without commits yet can still list its decisions, without verdicts.
        let commit = match self.git.resolve(commit_rev) {
            Ok(commit) => Some(commit),
            Err(GitError::UnknownRevision { .. }) if commit_rev == "HEAD" => None,
            Err(error) => return Err(error.into()),
        };
        let mut out = Vec::new();
        for id in self.store.ids()? {
            let summary = match self.store.load(&id) {
                Ok(decision) if decision.closure().is_some() && !all => continue,
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
                        state: Some(state(&decision).to_owned()),
                        signed: self.is_signed(&id),
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
                    state: None,
                    signed: self.is_signed(&id),
                    updated: None,
                    error: Some(error.to_string()),
                },
            };
            out.push(summary);
        }
        Ok(out)
    }

    /// Whether the decision has a signature envelope (present, not necessarily valid).
    pub fn is_signed(&self, id: &Id) -> bool {
        let envelope = self.git.root().join(".release/attestations").join(format!("{id}.dsse.json"));
        std::fs::symlink_metadata(envelope).is_ok_and(|m| m.is_file())
    }

    /// Suggests a risk class for base..head from the policy's path rules (and the changed lines of
    /// dependency manifests); the classification names the base and head it used.
    pub fn classify(&self, base: Option<&str>, head: Option<&str>) -> Result<Classification, OpError> {
        let range = self.range(base, head)?;
        let paths = self.git.changed_paths(&range.base, &range.head)?;
        let manifest_changes = self.manifest_changes(&range.base, &range.head, &paths)?;
        let mut classification = classify::classify_with(self.policy.paths(), &paths, |path| {
            manifest_changes.get(path).map_or(&[][..], Vec::as_slice)
        });
        classification.base = Some(range.base);
        classification.base_from = Some(range.base_from);
        classification.head = Some(range.head);
        Ok(classification)
    }
}

/// What `draft_release` made.
#[derive(Debug, Clone)]
pub struct Drafted {
    pub id: Id,
    /// The range the decision covers.
    pub range: Range,
    /// How many files the range changes.
    pub files: usize,
    /// The class the diff suggests.
    pub suggested: Option<RiskClass>,
    /// What the person or agent who drafted should know now (a class below the suggestion).
    pub warnings: Vec<String>,
}

/// Warnings at draft time: a declared class below what the diff suggests, with the files that set it.
fn draft_warnings(
    classification: &Classification,
    declared: Option<RiskClass>,
    justification: Option<&str>,
) -> Vec<String> {
    let (Some(suggested), Some(declared)) = (classification.suggested, declared) else { return Vec::new() };
    if declared >= suggested {
        return Vec::new();
    }
    let files: Vec<String> =
        classification.deciding().take(3).map(|file| format!("`{}` ({})", file.path, file.rule)).collect();
    let more = classification.deciding().count().saturating_sub(3);
    let more = if more > 0 { format!(" and {more} more") } else { String::new() };
    let consequence = match justification.map(str::trim).filter(|j| !j.is_empty()) {
        Some(_) => "the recorded justification makes `risk-below-suggested` a warning".to_owned(),
        None => "without a justification the decision fails with `risk-below-suggested`: raise the class (`release-gate risk ID CLASS`), or ask the person who owns the call why the lower class is right and record it (`--justification`)".to_owned(),
    };
    vec![format!(
        "the declared class {declared} is below the {suggested} the diff suggests ({}{more}); {consequence}",
        files.join(", ")
    )]
}

/// A release's git range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Range {
    pub base: String,
    /// How the base was chosen: the revision given, or `latest tag NAME`.
    pub base_from: String,
    pub head: String,
    /// The head revision as given (`HEAD` by default).
    pub head_from: String,
}

impl Range {
    /// `v1.4.0 (latest tag) 1a2b3c4d5e6f..HEAD 9f8e7d6c5b4a`, for people.
    pub fn describe(&self) -> String {
        format!(
            "{} {}..{} {}",
            self.base_from,
            short_commit(&self.base),
            self.head_from,
            short_commit(&self.head)
        )
    }
}

/// The fixes for the report's errors in protocol order, then what a GO will still need, then the call.
/// The call's own fields (the decision gate, GO / NO-GO, its time) are set by `decide`, so they are one
/// step, not three.
fn next_steps(report: &Report, go_needs: &[Finding], decision: &Decision, id: &Id) -> Vec<String> {
    let set_by_decide =
        |finding: &Finding| matches!(finding.code, Code::DecisionMissing | Code::TimestampMissing);
    let mut steps: Vec<String> = Vec::new();
    for code in Code::ALL {
        if report
            .findings
            .iter()
            .any(|f| f.code == *code && f.severity == Severity::Error && !set_by_decide(f))
        {
            steps.push(format!("{}: {}", code, code.fix()));
        }
    }
    for code in Code::ALL {
        if go_needs.iter().any(|f| f.code == *code)
            && !steps.iter().any(|step| step.starts_with(code.as_str()))
        {
            steps.push(format!("before GO, {}: {}", code, code.fix()));
        }
    }
    if decision.call().valid().is_none() && decision.closure().is_none() {
        steps.push(format!(
            "When every gate is evaluated, the final decision owner records the call, which also marks the decision gate and its time: `release-gate decide {id} --go|--no-go --owner NAME`."
        ));
    }
    steps
}

/// Where a decision's life stands, in one word.
fn state(decision: &Decision) -> &'static str {
    match (decision.closure(), decision.call().valid()) {
        (Some(outcome), _) => outcome.as_str(),
        (None, Some(Call::Go)) => "go",
        (None, Some(Call::NoGo)) => "no-go",
        (None, None) => "draft",
    }
}

/// What `rebind` did.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Rebind {
    pub previous_head: String,
    pub head: String,
    /// Files changed since the previous head, each with its suggested class and the rule that set it.
    pub delta: Vec<DeltaFile>,
    /// Gates whose evidence is now stale: re-run or re-record them on the new head.
    pub stale: Vec<Layer>,
    /// False when the decision was already at that head (nothing recorded).
    pub changed: bool,
}

/// A gate result a person records.
#[derive(Debug, Clone)]
pub struct GateRequest {
    pub layer: Layer,
    pub result: GateResult,
    pub evidence: Vec<String>,
    pub actor: String,
    /// The commit the evidence was gathered on (a revision).
    pub commit: String,
    /// Set to type a result over evidence the policy runs: why, in the person's words.
    pub override_justification: Option<String>,
}

/// A go/no-go call.
#[derive(Debug, Clone)]
pub struct DecideRequest {
    pub call: Call,
    /// The final decision owner making the call.
    pub owner: String,
    pub reason: Option<String>,
    pub actor: String,
    /// The commit being released (a revision).
    pub commit: String,
}

/// Refuses a change to a decision whose life has ended.
fn refuse_closed(id: &Id, decision: &Decision) -> Result<(), OpError> {
    match decision.closure() {
        Some(outcome) => Err(OpError::Closed { id: id.to_string(), outcome: outcome.as_str() }),
        None => Ok(()),
    }
}

/// Whether two names written in a decision are the same person (case and a trailing comment aside).
fn same_person(a: &str, b: &str) -> bool {
    let name = |text: &str| release_gate_core::signing::person_name(text).trim().to_ascii_lowercase();
    name(a) == name(b)
}
