//! The repository crate's operations on real git repositories, below both shells: a decision from draft
//! to a recorded GO, refusals that record nothing, and the typed errors each shell turns into what to do.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::Command;

use release_gate_core::decision::GateResult;
use release_gate_core::decision::{Call, Layer, RiskClass};
use release_gate_core::history::SettableField;
use release_gate_repo::store::{Id, StoreError};
use release_gate_repo::workspace::{DecideRequest, DraftRequest, GateRequest, OpError, Workspace};

const ACTOR: &str = "Rel Eng";

/// A git repository in a temporary folder: `v1`, then one change to release. Removed when dropped.
struct Repo(PathBuf);

impl Repo {
    fn new(name: &str) -> Repo {
        let dir = std::env::temp_dir().join(format!("release-gate-repo-ops-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let repo = Repo(dir);
        for args in [
            &["init", "-q", "-b", "main"][..],
            &["config", "user.name", ACTOR],
            &["config", "user.email", "releng@example.com"],
            &["config", "commit.gpgsign", "false"],
        ] {
            repo.git(args);
        }
        repo.commit("src/lib.rs", "fn a() {}\n", "initial");
        repo.git(&["tag", "v1"]);
        repo.commit("src/lib.rs", "fn b() {}\n", "change");
        repo
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn git(&self, args: &[&str]) -> String {
        let output = Command::new("git")
            .args(args)
            .current_dir(&self.0)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    fn commit(&self, file: &str, content: &str, message: &str) {
        std::fs::write(self.0.join(file), content).unwrap();
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    fn workspace(&self) -> Workspace {
        Workspace::open(&self.0, None).unwrap()
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap()
}

fn draft(workspace: &Workspace, id: &str, risk: RiskClass) -> Id {
    let request = DraftRequest {
        id: Some(id.into()),
        scope: "search".into(),
        risk: Some(risk),
        base: Some("v1".into()),
        actor: ACTOR.into(),
        ..DraftRequest::default()
    };
    workspace.draft(request, now()).unwrap()
}

fn gate(layer: Layer, result: GateResult) -> GateRequest {
    GateRequest {
        layer,
        result,
        evidence: vec!["checked".into()],
        actor: ACTOR.into(),
        commit: "HEAD".into(),
        override_justification: None,
    }
}

fn call(call: Call, owner: &str) -> DecideRequest {
    DecideRequest { call, owner: owner.into(), reason: None, actor: ACTOR.into(), commit: "HEAD".into() }
}

fn record_bytes(repo: &Repo, id: &str) -> Vec<u8> {
    std::fs::read(repo.path().join(format!(".release/decisions/{id}.json"))).unwrap()
}

#[test]
fn a_decision_goes_from_draft_to_a_recorded_go() {
    let repo = Repo::new("go");
    let workspace = repo.workspace();
    let id = draft(&workspace, "rel-1", RiskClass::Medium);
    for (layer, mark) in [
        (Layer::Code, GateResult::Pass),
        (Layer::Review, GateResult::Pass),
        (Layer::Operational, GateResult::NotApplicable),
        (Layer::Communication, GateResult::NotApplicable),
    ] {
        workspace.record_gate(&id, gate(layer, mark), now()).unwrap();
    }
    for (field, value) in [
        (SettableField::ResidualRisks, "none"),
        (SettableField::RollbackTrigger, "error rate > 1% for 5 minutes"),
        (SettableField::RollbackOwner, "Lee Park"),
    ] {
        workspace.set_field(&id, field, vec![value.into()], ACTOR, now()).unwrap();
    }
    let before = workspace.status(&id, "HEAD", now()).unwrap();
    assert_eq!(before.decision, None);
    assert!(before.go_needs.is_empty(), "{:?}", before.go_needs);

    let (decision, report) = workspace.decide(&id, call(Call::Go, "Priya Shah"), now()).unwrap();
    assert_eq!(report.verdict, release_gate_core::Verdict::Pass, "{report:?}");
    assert_eq!(decision.decision_owner.as_deref(), Some("Priya Shah"));
    let status = workspace.status(&id, "HEAD", now()).unwrap();
    assert_eq!(status.decision, Some(Call::Go));
    assert_eq!(status.release_commit, repo.git(&["rev-parse", "HEAD"]));
    let listed = workspace.list("HEAD", now(), true).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(workspace.ids().unwrap(), [id]);
}

#[test]
fn refused_calls_record_nothing_and_say_why_in_types() {
    let repo = Repo::new("refused");
    let workspace = repo.workspace();
    let id = draft(&workspace, "rel-2", RiskClass::Medium);
    let before = record_bytes(&repo, "rel-2");
    // A GO on a decision with no gate evidence does not validate: refused with the report.
    match workspace.decide(&id, call(Call::Go, "Priya Shah"), now()) {
        Err(OpError::Refused(report)) => assert!(report.errors().count() > 0),
        other => panic!("expected a refused GO, got {other:?}"),
    }
    assert_eq!(record_bytes(&repo, "rel-2"), before, "a refused GO wrote to the record");

    // A NO-GO is always recorded; then only the named owner makes the next call (names compare loosely).
    workspace.decide(&id, call(Call::NoGo, "Priya Shah"), now()).unwrap();
    let after_no_go = record_bytes(&repo, "rel-2");
    match workspace.decide(&id, call(Call::NoGo, "Mallory"), now()) {
        Err(OpError::OwnerMismatch { recorded, given }) => {
            assert_eq!((recorded.as_str(), given.as_str()), ("Priya Shah", "Mallory"))
        }
        other => panic!("expected an owner mismatch, got {other:?}"),
    }
    assert_eq!(record_bytes(&repo, "rel-2"), after_no_go);
    workspace.decide(&id, call(Call::NoGo, "priya  shah"), now()).unwrap();

    // A pass needs evidence.
    let mut bare = gate(Layer::Review, GateResult::Pass);
    bare.evidence.clear();
    assert!(matches!(
        workspace.record_gate(&id, bare, now()),
        Err(OpError::EvidenceRequired { layer: Layer::Review })
    ));
}

#[test]
fn operation_errors_are_typed() {
    let repo = Repo::new("typed");
    let workspace = repo.workspace();
    let missing = Id::parse("no-such-decision").unwrap();
    assert!(matches!(workspace.load(&missing), Err(OpError::Store(StoreError::NotFound { .. }))));
    assert!(matches!(workspace.resolve("no-such-rev"), Err(OpError::Git(_))));
    assert!(Id::parse("../x").is_err());

    // A policy with two mistakes: both reported, each with its line.
    let policy = repo.path().join("bad-policy.toml");
    std::fs::write(&policy, "[classes.high]\npanel = 101\n\n[findings]\nno-such-code = \"off\"\n").unwrap();
    match Workspace::open(repo.path(), Some(&policy)) {
        Err(OpError::Policy { error, .. }) => {
            let lines: Vec<Option<usize>> = error.iter().map(|problem| problem.line).collect();
            assert_eq!(lines, [Some(2), Some(5)], "{error}");
        }
        other => panic!("expected policy errors, got {other:?}"),
    }
    // A policy that cannot be read at all is another error, naming the file.
    match Workspace::open(repo.path(), Some(repo.path())) {
        Err(OpError::PolicyUnreadable { path, .. }) => assert_eq!(Path::new(&path), repo.path()),
        other => panic!("expected an unreadable policy, got {other:?}"),
    }
    // allowed_signers that is not text: a file error naming it.
    std::fs::create_dir_all(repo.path().join(".release")).unwrap();
    std::fs::write(repo.path().join(".release/allowed_signers"), b"\xff\xfe").unwrap();
    match workspace.allowed_signers(None) {
        Err(OpError::File { path, reason }) => {
            assert!(path.ends_with(".release/allowed_signers"), "{path:?}");
            assert!(reason.contains("UTF-8"), "{reason}");
        }
        other => panic!("expected a file error, got {other:?}"),
    }
}
