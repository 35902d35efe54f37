//! Asking git: the repository root, commits, the diff between two commits and its digest, and whether the
//! work tree is exactly a commit.
//!
//! Every call goes through one builder, [`GitCommand`]: options are fixed strings, revisions come after
//! `--end-of-options` (so a revision can never be read as an option), paths after `--`. The repository's own
//! configuration is not trusted: git runs with replace objects, fsmonitor, hooks, external diff, textconv
//! and signature display off, so nothing the repository configures runs while release-gate asks it
//! questions. Whether the work tree is clean is decided against a private index built from the commit
//! itself, so index flags (`--skip-worktree`, `--assume-unchanged`), a doctored stat cache and the
//! repository's filter drivers cannot hide a change.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

/// Why git could not answer.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{dir} is not inside a git repository: run release-gate from within one (or `git init` first)")]
    NotARepository { dir: String },
    #[error("`{rev}` is not a commit in this repository")]
    UnknownRevision { rev: String },
    #[error("cannot run git: {0} (is git installed and on PATH?)")]
    Spawn(#[source] std::io::Error),
    #[error("git {args} failed: {stderr}")]
    Failed { args: String, stderr: String },
    #[error("cannot prepare a private index to compare the work tree with its commit: {0}")]
    Scratch(#[source] std::io::Error),
}

/// release-gate's own records: never part of the change a decision is about, so committing a decision or
/// an attestation does not change the diff, its digest, or the suggested risk class.
pub const EXCLUDE_RELEASE: &str = ":(exclude).release";

/// Settings that keep the repository's configuration from running anything or changing what git reports.
/// Given with `-c`, they outrank every configuration file, the repository's own included.
const HARDENING: &[&str] = &[
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.quotepath=false",
    "core.pager=cat",
    "diff.external=",
    "log.showSignature=false",
    "gc.auto=0",
    "maintenance.auto=false",
    // Objects and refs release-gate writes (the log's commits) reach the disk before it reports success.
    "core.fsync=committed",
];

/// A git work tree.
#[derive(Debug, Clone)]
pub struct Git {
    root: PathBuf,
}

/// What changed between two commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// Changed paths, renames shown as a deletion and an addition.
    pub paths: Vec<String>,
    /// `sha256:<hex>` of git's raw diff (paths, modes, blob ids), independent of diff algorithms.
    pub digest: String,
}

/// Where a git command runs.
enum Location<'a> {
    /// `git -C <dir>`: discovery from a folder.
    Dir(&'a Path),
    /// A private git directory over a work tree (see [`Git::dirty_paths`]).
    Scratch { git_dir: &'a Path, work_tree: &'a Path },
}

/// One git invocation, hardened. Its shape is fixed: options (fixed strings only), then revisions after
/// `--end-of-options`, then paths after `--`.
#[derive(Debug)]
pub struct GitCommand {
    command: Command,
    /// The subcommand and its arguments, for error messages.
    shown: Vec<String>,
    revisions_started: bool,
    paths_started: bool,
}

impl GitCommand {
    fn new(location: Location<'_>, subcommand: &'static str) -> GitCommand {
        GitCommand::configured(location, subcommand, &[])
    }

    /// A command with extra `-c` settings, built by this module from checked values (a remote's name, the
    /// user's own credential helpers), never from the repository.
    fn configured(location: Location<'_>, subcommand: &'static str, settings: &[String]) -> GitCommand {
        let mut command = Command::new("git");
        match location {
            Location::Dir(dir) => {
                command.arg("-C").arg(dir);
            }
            Location::Scratch { git_dir, work_tree } => {
                let mut dir = OsString::from("--git-dir=");
                dir.push(git_dir);
                let mut tree = OsString::from("--work-tree=");
                tree.push(work_tree);
                command.arg(dir).arg(tree);
            }
        }
        command.arg("--no-replace-objects");
        for setting in HARDENING {
            command.args(["-c", setting]);
        }
        for setting in settings {
            command.arg("-c").arg(setting);
        }
        command
            .arg(subcommand)
            .env("GIT_NO_REPLACE_OBJECTS", "1")
            // Read-only questions never take the index lock or rewrite the index.
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_EXTERNAL_DIFF")
            .stdin(Stdio::null());
        GitCommand {
            command,
            shown: vec![subcommand.to_owned()],
            revisions_started: false,
            paths_started: false,
        }
    }

    /// An option: a fixed string, never input.
    fn option(mut self, option: &'static str) -> GitCommand {
        debug_assert!(!self.revisions_started && !self.paths_started, "options come first");
        self.command.arg(option);
        self.shown.push(option.to_owned());
        self
    }

    fn options(self, options: &[&'static str]) -> GitCommand {
        options.iter().fold(self, |command, option| command.option(option))
    }

    /// A revision (or `rev:path`), placed after `--end-of-options` so it is never read as an option.
    fn revision(mut self, revision: &str) -> GitCommand {
        debug_assert!(!self.paths_started, "revisions come before paths");
        if !self.revisions_started {
            self.command.arg("--end-of-options");
            self.revisions_started = true;
        }
        self.command.arg(revision);
        self.shown.push(revision.to_owned());
        self
    }

    /// Pathspecs, after `--`.
    fn paths(mut self, paths: &[&str]) -> GitCommand {
        if !self.paths_started {
            self.command.arg("--");
            self.paths_started = true;
        }
        self.command.args(paths);
        self
    }

    fn output(mut self) -> Result<Vec<u8>, GitError> {
        let output = self.command.output().map_err(GitError::Spawn)?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(GitError::Failed {
                args: self.shown.join(" "),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            })
        }
    }

    fn text(self) -> Result<String, GitError> {
        Ok(String::from_utf8_lossy(&self.output()?).trim().to_owned())
    }

    /// An environment variable for git (fixed names; values built here, e.g. commit dates).
    fn env(mut self, name: &'static str, value: &str) -> GitCommand {
        self.command.env(name, value);
        self
    }

    /// Runs with `input` on stdin; stdout on success.
    fn input(mut self, input: &[u8]) -> Result<Vec<u8>, GitError> {
        use std::io::Write as _;
        self.command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.command.spawn().map_err(GitError::Spawn)?;
        let written = child.stdin.take().map(|mut stdin| stdin.write_all(input));
        let output = child.wait_with_output().map_err(GitError::Spawn)?;
        if output.status.success() && written.is_none_or(|result| result.is_ok()) {
            Ok(output.stdout)
        } else {
            Err(GitError::Failed {
                args: self.shown.join(" "),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            })
        }
    }

    /// Runs a command that talks to a remote, killed after `limit` so an unreachable remote cannot hang
    /// a signature. Returns the exit status's success, stdout and stderr.
    fn network(mut self, limit: std::time::Duration) -> Result<(bool, Vec<u8>, String), GitError> {
        use std::io::Read as _;
        self.command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.command.spawn().map_err(GitError::Spawn)?;
        let mut stdout = child.stdout.take();
        let mut stderr = child.stderr.take();
        let out_reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(pipe) = stdout.as_mut() {
                let _ = pipe.take(16 * 1024 * 1024).read_to_end(&mut bytes);
            }
            bytes
        });
        let err_reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(pipe) = stderr.as_mut() {
                let _ = pipe.take(1024 * 1024).read_to_end(&mut bytes);
            }
            bytes
        });
        let deadline = std::time::Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().map_err(GitError::Spawn)? {
                break Some(status);
            }
            if std::time::Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        };
        let stdout = out_reader.join().unwrap_or_default();
        let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).trim().to_owned();
        match status {
            Some(status) => Ok((status.success(), stdout, stderr)),
            None => Ok((
                false,
                stdout,
                format!("git {} did not finish within {}s", self.shown.join(" "), limit.as_secs()),
            )),
        }
    }
}

impl Git {
    /// The repository enclosing `dir`.
    pub fn discover(dir: &Path) -> Result<Git, GitError> {
        let root = GitCommand::new(Location::Dir(dir), "rev-parse")
            .option("--show-toplevel")
            .output()
            .map_err(|_| GitError::NotARepository { dir: dir.display().to_string() })?;
        let root = String::from_utf8_lossy(&root).trim_end_matches(['\n', '\r']).to_owned();
        Ok(Git { root: PathBuf::from(root) })
    }

    /// The work tree enclosing `dir` as git sees it, `None` outside one: the one rule for "the repository"
    /// in every shell. A `.git` that git does not accept (a stray file, a folder another user planted in
    /// a parent, a repository git refuses as not safe) is no repository.
    pub fn enclosing_root(dir: &Path) -> Option<PathBuf> {
        Git::discover(dir).ok().map(|git| git.root)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn git(&self, subcommand: &'static str) -> GitCommand {
        GitCommand::new(Location::Dir(&self.root), subcommand)
    }

    /// The full id of the commit `rev` names.
    pub fn resolve(&self, rev: &str) -> Result<String, GitError> {
        let unknown = || GitError::UnknownRevision { rev: rev.to_owned() };
        if rev.is_empty() || rev.starts_with('-') || rev.contains(['\0', '\n']) {
            return Err(unknown());
        }
        self.git("rev-parse")
            .options(&["--verify", "--quiet"])
            .revision(&format!("{rev}^{{commit}}"))
            .text()
            .map_err(|_| unknown())
    }

    /// What changed from `base` to `head` (both full commit ids).
    pub fn diff(&self, base: &str, head: &str) -> Result<Diff, GitError> {
        let raw = self
            .git("diff")
            .options(&["--raw", "-z", "--no-renames", "--no-abbrev", "--no-ext-diff", "--no-textconv"])
            .revision(base)
            .revision(head)
            .paths(&[".", EXCLUDE_RELEASE])
            .output()?;
        let digest = format!("sha256:{}", hex(&Sha256::digest(&raw)));
        // Entries are `:meta\0path\0`: every other field is a path.
        let paths = raw
            .split(|byte| *byte == 0)
            .filter(|field| !field.is_empty())
            .skip(1)
            .step_by(2)
            .map(|path| String::from_utf8_lossy(path).into_owned())
            .collect();
        Ok(Diff { paths, digest })
    }

    /// Only the changed paths from `base` to `head`: what `classify` needs, at the cost of `git diff --name-only`.
    pub fn changed_paths(&self, base: &str, head: &str) -> Result<Vec<String>, GitError> {
        let raw = self
            .git("diff")
            .options(&["--name-only", "-z", "--no-renames", "--no-ext-diff", "--no-textconv"])
            .revision(base)
            .revision(head)
            .paths(&[".", EXCLUDE_RELEASE])
            .output()?;
        Ok(raw
            .split(|byte| *byte == 0)
            .filter(|field| !field.is_empty())
            .map(|path| String::from_utf8_lossy(path).into_owned())
            .collect())
    }

    /// Whether two commits have the same tree outside `.release/` (the same code, other records).
    pub fn same_code(&self, a: &str, b: &str) -> bool {
        a == b
            || self
                .git("diff")
                .options(&["--quiet", "--no-ext-diff", "--no-textconv"])
                .revision(a)
                .revision(b)
                .paths(&[".", EXCLUDE_RELEASE])
                .output()
                .is_ok()
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors (both full commit ids).
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> bool {
        ancestor == descendant
            || self
                .git("merge-base")
                .option("--is-ancestor")
                .revision(ancestor)
                .revision(descendant)
                .output()
                .is_ok()
    }

    /// A file's bytes as committed at `commit`, or `None` when the commit has no such file.
    pub fn committed_file(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let spec = format!("{commit}:{path}");
        if self.git("cat-file").option("-e").revision(&spec).output().is_err() {
            return Ok(None);
        }
        self.git("cat-file").option("blob").revision(&spec).output().map(Some)
    }

    /// Paths where the work tree differs from `commit` (untracked files included), except under `.release/`
    /// where release-gate keeps its own records.
    ///
    /// The comparison does not trust the repository's index or configuration: a private git directory
    /// borrows only the object database, an index is built from `commit` itself, and every file is hashed.
    /// So `--skip-worktree`, `--assume-unchanged`, a doctored stat cache, fsmonitor, hooks and the
    /// repository's filter drivers can neither hide a change nor run anything.
    pub fn dirty_paths(&self, commit: &str) -> Result<Vec<String>, GitError> {
        let scratch = Scratch::new(self, commit)?;
        let location = || Location::Scratch { git_dir: scratch.dir(), work_tree: &self.root };
        GitCommand::new(location(), "read-tree").revision(commit).output()?;
        let raw = GitCommand::new(location(), "status")
            .options(&["--porcelain=v1", "-z", "--untracked-files=all", "--ignore-submodules=dirty"])
            .paths(&[
                ".",
                ":(exclude).release/decisions",
                ":(exclude).release/.locks",
                ":(exclude).release/attestations",
                ":(exclude).release/ledger.jsonl",
                ":(exclude).release/ledger.checkpoint",
                ":(exclude).release/ledger.checkpoint.sig",
                // Temporary files of an interrupted atomic write: never part of a commit.
                ":(exclude,glob).release/**/.*.tmp",
            ])
            .output()?;
        Ok(status_paths(&raw))
    }

    /// release-gate's own files under `.release/` with uncommitted changes (untracked included).
    pub fn uncommitted_release_files(&self) -> Result<Vec<String>, GitError> {
        let raw = self
            .git("status")
            .options(&["--porcelain=v1", "-z", "--untracked-files=all"])
            .paths(&[".release", ":(exclude).release/.locks", ":(exclude,glob).release/**/.*.tmp"])
            .output()?;
        Ok(status_paths(&raw))
    }

    /// The subjects of the commits in base..head, oldest first.
    pub fn log_subjects(&self, base: &str, head: &str) -> Result<Vec<String>, GitError> {
        let text = self
            .git("log")
            .options(&["--reverse", "--no-merges", "--no-show-signature", "--format=%s"])
            .revision(&format!("{base}..{head}"))
            .paths(&[])
            .text()?;
        Ok(text.lines().map(str::to_owned).filter(|line| !line.is_empty()).collect())
    }

    /// The repository's name for records: the `origin` URL, else the work tree's folder name.
    pub fn repository_name(&self) -> String {
        match self.git("config").options(&["--get", "remote.origin.url"]).text() {
            Ok(url) if !url.is_empty() => url,
            _ => self
                .root
                .file_name()
                .map_or_else(|| "repository".to_owned(), |n| n.to_string_lossy().into_owned()),
        }
    }

    /// `user.name` from git's configuration.
    pub fn user_name(&self) -> Option<String> {
        self.git("config").options(&["--get", "user.name"]).text().ok().filter(|name| !name.is_empty())
    }

    /// The most recent tag reachable from `rev`: the last release, as a default base.
    pub fn latest_tag(&self, rev: &str) -> Option<String> {
        self.git("describe")
            .options(&["--tags", "--abbrev=0"])
            .revision(rev)
            .text()
            .ok()
            .filter(|t| !t.is_empty())
    }

    /// An absolute path inside the repository's (common) git directory, e.g. `objects`.
    fn git_path(&self, name: &'static str) -> Result<PathBuf, GitError> {
        let path = self.git("rev-parse").options(&["--path-format=absolute", "--git-path", name]).text()?;
        Ok(PathBuf::from(path))
    }
}

/// How long a fetch, push or remote listing may take before it is given up as unreachable.
const NETWORK_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Settings for commands that talk to a remote: the transports a remote may use (no `ext::`, no
/// `git://`, no remote helpers the repository names), no program the repository configures (ssh command,
/// askpass, upload-pack / receive-pack for the remote), ssh never prompts, objects received are checked.
const TRANSPORT: &[&str] = &[
    "protocol.allow=never",
    "protocol.file.allow=always",
    "protocol.ssh.allow=always",
    "protocol.https.allow=always",
    "core.sshCommand=ssh -o BatchMode=yes",
    "core.askPass=",
    "transfer.fsckObjects=true",
    "credential.helper=",
];

/// A git object id: 40 or 64 lowercase hex characters.
pub fn is_object_id(text: &str) -> bool {
    (text.len() == 40 || text.len() == 64)
        && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A remote's name release-gate will use: letters, digits, `.`, `_`, `-`, not starting with `-` or `.`.
pub fn is_remote_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with(['-', '.'])
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// The remote took the update (or already had it).
    Done,
    /// The remote's ref moved on since we read it: fetch, rebuild and try again.
    Retry(String),
    /// The remote refused for good (a hook, a protected branch, permissions) or could not be reached.
    Refused(String),
}

/// One object read by [`Git::object_stream`]: its type and bytes, `None` when missing or over the bound.
pub type Object = Option<(String, Vec<u8>)>;

/// A commit of a first-parent history: its id, its tree and how many parents it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryCommit {
    pub id: String,
    pub tree: String,
    pub parents: usize,
}

fn cat_file_failed(why: &str) -> GitError {
    GitError::Failed { args: "cat-file --batch".into(), stderr: why.to_owned() }
}

/// git stopped part way through an answer: a damaged object store (or a killed git), not a missing git.
fn cat_file_broke(error: &std::io::Error) -> GitError {
    cat_file_failed(&format!(
        "it stopped answering part way ({error}): the repository's objects may be damaged; run `git fsck`"
    ))
}

/// The asking half of [`Git::object_stream`]. Requests are buffered: they reach git when the buffer
/// fills, on [`ObjectRequests::flush`], or when this half is dropped (which also ends git's input).
#[derive(Debug)]
pub struct ObjectRequests(std::io::BufWriter<std::process::ChildStdin>);

impl ObjectRequests {
    /// Asks for one object. Names are object names, never options: a name with a line break is refused.
    pub fn request(&mut self, name: &str) -> Result<(), GitError> {
        use std::io::Write as _;
        if name.contains(['\n', '\r']) {
            return Err(cat_file_failed("an object name with a line break"));
        }
        self.0.write_all(name.as_bytes()).and_then(|()| self.0.write_all(b"\n")).map_err(GitError::Spawn)
    }

    pub fn flush(&mut self) -> Result<(), GitError> {
        use std::io::Write as _;
        self.0.flush().map_err(GitError::Spawn)
    }
}

/// The reading half of [`Git::object_stream`]; dropping it ends the process.
#[derive(Debug)]
pub struct ObjectAnswers {
    reader: std::io::BufReader<std::process::ChildStdout>,
    child: std::process::Child,
    header: String,
}

impl ObjectAnswers {
    /// The next object asked for: its type and bytes, `None` when it is missing or over `max` bytes (read
    /// past). An error when git stops answering.
    pub fn next(&mut self, max: usize) -> Result<Object, GitError> {
        use std::io::{BufRead as _, Read as _};
        self.header.clear();
        let read =
            (&mut self.reader).take(512).read_line(&mut self.header).map_err(|e| cat_file_broke(&e))?;
        if read == 0 || !self.header.ends_with('\n') {
            return Err(cat_file_broke(&std::io::ErrorKind::UnexpectedEof.into()));
        }
        let fields: Vec<&str> = self.header.trim_end().split(' ').collect();
        let [_, kind, size] = fields.as_slice() else {
            return Ok(None);
        };
        let kind = (*kind).to_owned();
        let size: usize = size.parse().map_err(|_| cat_file_failed("a malformed object header"))?;
        if size > max {
            let skip = u64::try_from(size).unwrap_or(u64::MAX).saturating_add(1);
            let skipped = std::io::copy(&mut (&mut self.reader).take(skip), &mut std::io::sink())
                .map_err(|e| cat_file_broke(&e))?;
            return if skipped == skip {
                Ok(None)
            } else {
                Err(cat_file_broke(&std::io::ErrorKind::UnexpectedEof.into()))
            };
        }
        let mut bytes = vec![0; size + 1];
        self.reader.read_exact(&mut bytes).map_err(|e| cat_file_broke(&e))?;
        bytes.pop();
        Ok(Some((kind, bytes)))
    }
}

impl Drop for ObjectAnswers {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Git {
    /// The repository's common git directory (shared by its work trees).
    pub fn common_dir(&self) -> Result<PathBuf, GitError> {
        let path = self.git("rev-parse").options(&["--path-format=absolute", "--git-common-dir"]).text()?;
        Ok(PathBuf::from(path))
    }

    /// The commits a shallow clone cut the history at (empty for a complete clone).
    pub fn shallow_commits(&self) -> Result<std::collections::HashSet<String>, GitError> {
        let path = self.git_path("shallow")?;
        match crate::fs::read_limited(&path) {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).lines().map(str::to_owned).collect()),
            Err(error) if error.is_not_found() => Ok(std::collections::HashSet::new()),
            Err(error) => Err(GitError::Spawn(std::io::Error::other(error))),
        }
    }

    /// The commit a full ref name points at, if it exists.
    pub fn ref_target(&self, name: &str) -> Option<String> {
        self.git("rev-parse")
            .options(&["--verify", "--quiet"])
            .revision(&format!("{name}^{{commit}}"))
            .text()
            .ok()
            .filter(|id| is_object_id(id))
    }

    /// The first-parent history of `tip`, oldest first. At most `max` commits.
    pub fn first_parent_history(&self, tip: &str, max: usize) -> Result<Vec<HistoryCommit>, GitError> {
        let raw = self
            .git("rev-list")
            .options(&["--first-parent", "--reverse", "--no-commit-header", "--format=%H %T %P"])
            .revision(tip)
            .paths(&[])
            .output()?;
        let malformed =
            || GitError::Failed { args: "rev-list".into(), stderr: "a malformed history line".into() };
        let mut out = Vec::new();
        for line in raw.split(|b| *b == b'\n').filter(|line| !line.is_empty()) {
            if out.len() >= max {
                return Err(GitError::Failed {
                    args: "rev-list".into(),
                    stderr: format!("the history has more than {max} commits"),
                });
            }
            let text = std::str::from_utf8(line).map_err(|_| malformed())?;
            let mut fields = text.split(' ');
            let (Some(id), Some(tree)) = (fields.next(), fields.next()) else { return Err(malformed()) };
            if !is_object_id(id) || !is_object_id(tree) {
                return Err(malformed());
            }
            out.push(HistoryCommit { id: id.to_owned(), tree: tree.to_owned(), parents: fields.count() });
        }
        Ok(out)
    }

    /// One `git cat-file --batch`, asked for objects by name (`<oid>`, `<oid>^{tree}`, ...) through
    /// [`ObjectRequests`] while [`ObjectAnswers`] reads them back in the same order, so one thread can
    /// ask while another reads and a long list costs one process.
    pub fn object_stream(&self) -> Result<(ObjectRequests, ObjectAnswers), GitError> {
        let mut command = self.git("cat-file").option("--batch");
        command.command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = command.command.spawn().map_err(GitError::Spawn)?;
        let stdin = child.stdin.take().ok_or_else(|| cat_file_failed("no input"))?;
        let stdout = child.stdout.take().ok_or_else(|| cat_file_failed("no output"))?;
        Ok((
            ObjectRequests(std::io::BufWriter::with_capacity(1 << 14, stdin)),
            ObjectAnswers {
                reader: std::io::BufReader::with_capacity(1 << 16, stdout),
                child,
                header: String::new(),
            },
        ))
    }

    /// Writes a blob; its id.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<String, GitError> {
        let id = self.git("hash-object").options(&["-w", "--no-filters", "--stdin"]).input(bytes)?;
        checked_id(&id)
    }

    /// Writes a tree of regular files (name, blob id), names given in git's order; its id.
    pub fn write_tree(&self, files: &[(&str, &str)]) -> Result<String, GitError> {
        let listing: String =
            files.iter().map(|(name, blob)| format!("100644 blob {blob}\t{name}\n")).collect();
        let id = self.git("mktree").input(listing.as_bytes())?;
        checked_id(&id)
    }

    /// Writes a commit of `tree` on `parent` with `message`, dated `unix_seconds`, by release-gate.
    pub fn write_commit(
        &self,
        tree: &str,
        parent: Option<&str>,
        message: &str,
        unix_seconds: i64,
    ) -> Result<String, GitError> {
        let date = format!("{unix_seconds} +0000");
        let mut command = self
            .git("commit-tree")
            .option("--no-gpg-sign")
            .env("GIT_AUTHOR_NAME", "release-gate")
            .env("GIT_AUTHOR_EMAIL", "release-gate@localhost")
            .env("GIT_COMMITTER_NAME", "release-gate")
            .env("GIT_COMMITTER_EMAIL", "release-gate@localhost")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
        if let Some(parent) = parent {
            if !is_object_id(parent) {
                return Err(GitError::UnknownRevision { rev: parent.to_owned() });
            }
            // A checked object id, stuck to its option: it cannot be read as another option.
            command.command.arg(format!("-p{parent}"));
        }
        let id = command.revision(tree).input(message.as_bytes())?;
        checked_id(&id)
    }

    /// Sets `name` to `new` only if it is still `old` (`None`: only if it does not exist yet).
    pub fn update_ref(&self, name: &str, new: &str, old: Option<&str>) -> Result<(), GitError> {
        let zero = "0".repeat(new.len());
        self.git("update-ref")
            .options(&["-m", "release-gate log"])
            .revision(name)
            .revision(new)
            .revision(old.unwrap_or(&zero))
            .output()
            .map(drop)
    }

    /// The URL-free settings for talking to `remote`: the transport rules, and the user's own credential
    /// helpers (global and system configuration) in place of any the repository names.
    fn transport_settings(&self, remote: &str) -> Vec<String> {
        let mut settings: Vec<String> = TRANSPORT.iter().map(|s| (*s).to_owned()).collect();
        settings.push(format!("remote.{remote}.uploadpack=git-upload-pack"));
        settings.push(format!("remote.{remote}.receivepack=git-receive-pack"));
        for scope in ["--system", "--global"] {
            let helpers = GitCommand::new(Location::Dir(&self.root), "config")
                .options(&[scope, "--get-all", "credential.helper"])
                .text()
                .unwrap_or_default();
            settings
                .extend(helpers.lines().filter(|l| !l.is_empty()).map(|h| format!("credential.helper={h}")));
        }
        settings
    }

    fn remote_command(&self, remote: &str, subcommand: &'static str) -> GitCommand {
        GitCommand::configured(Location::Dir(&self.root), subcommand, &self.transport_settings(remote))
    }

    /// Whether `remote` is configured (has a URL).
    pub fn has_remote(&self, remote: &str) -> bool {
        is_remote_name(remote)
            && self
                .git("config")
                .option("--get")
                .revision(&format!("remote.{remote}.url"))
                .text()
                .is_ok_and(|url| !url.is_empty())
    }

    /// Where `branch` points on `remote`: `Ok(None)` when the remote has no such branch, `Err` when the
    /// remote cannot be asked.
    pub fn remote_branch(&self, remote: &str, branch: &str) -> Result<Option<String>, String> {
        let (ok, stdout, stderr) = self
            .remote_command(remote, "ls-remote")
            .option("--refs")
            .revision(remote)
            .revision(branch)
            .network(NETWORK_LIMIT)
            .map_err(|error| error.to_string())?;
        if !ok {
            return Err(stderr);
        }
        let text = String::from_utf8_lossy(&stdout);
        Ok(text
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .find(|(_, name)| *name == branch)
            .map(|(id, _)| id.to_owned())
            .filter(|id| is_object_id(id)))
    }

    /// Fetches `branch` of `remote` into the ref `into` (forced: the caller compares old and new).
    pub fn fetch_branch(&self, remote: &str, branch: &str, into: &str) -> Result<(), String> {
        let (ok, _, stderr) = self
            .remote_command(remote, "fetch")
            .options(&["--no-tags", "--no-recurse-submodules", "--no-write-fetch-head", "--quiet"])
            .revision(remote)
            .revision(&format!("+{branch}:{into}"))
            .network(NETWORK_LIMIT)
            .map_err(|error| error.to_string())?;
        if ok { Ok(()) } else { Err(stderr) }
    }

    /// Pushes `commit` to `branch` of `remote`, fast-forward only (never forced): the remote's own ref
    /// update is the compare-and-swap. Classifies a refusal as worth retrying or final.
    pub fn push_branch(&self, remote: &str, commit: &str, branch: &str) -> Result<Pushed, GitError> {
        let (ok, stdout, stderr) = self
            .remote_command(remote, "push")
            .options(&["--porcelain", "--no-verify", "--quiet"])
            .revision(remote)
            .revision(&format!("{commit}:{branch}"))
            .network(NETWORK_LIMIT)?;
        let report = String::from_utf8_lossy(&stdout);
        let status = report.lines().find(|line| line.contains(&format!(":{branch}\t")));
        match status {
            Some(line) if ok && !line.starts_with('!') => Ok(Pushed::Done),
            Some(line) if line.starts_with('!') => {
                let reason = line.rsplit('\t').next().unwrap_or_default().to_owned();
                let retry = [
                    "fetch first",
                    "non-fast-forward",
                    "stale info",
                    "cannot lock ref",
                    "failed to update ref",
                    "incorrect old value",
                    "failed to lock",
                ]
                .iter()
                .any(|word| reason.contains(word));
                let why = if stderr.is_empty() { reason } else { format!("{reason}: {stderr}") };
                Ok(if retry { Pushed::Retry(why) } else { Pushed::Refused(why) })
            }
            _ if ok => Ok(Pushed::Done),
            _ => Ok(Pushed::Refused(if stderr.is_empty() { "the push failed".into() } else { stderr })),
        }
    }
}

fn checked_id(output: &[u8]) -> Result<String, GitError> {
    let id = String::from_utf8_lossy(output).trim().to_owned();
    if is_object_id(&id) {
        Ok(id)
    } else {
        Err(GitError::Failed {
            args: "write".into(),
            stderr: format!("git answered `{id}`, not an object id"),
        })
    }
}

/// A private git directory for one comparison, removed when dropped: `HEAD` at the commit, no
/// configuration, hooks, attributes, refs or replace objects of the repository's; only its object database
/// (through `objects/info/alternates`) and its exclude patterns (ignore rules run nothing).
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(git: &Git, commit: &str) -> Result<Scratch, GitError> {
        let objects = git.git_path("objects")?;
        let exclude = git.git_path("info/exclude")?;
        let format = git.git("rev-parse").option("--show-object-format").text()?;
        let dir = unique_temp_dir().map_err(GitError::Scratch)?;
        let scratch = Scratch { dir };
        let config = if format == "sha256" {
            "[core]\n\trepositoryformatversion = 1\n\tbare = false\n[extensions]\n\tobjectformat = sha256\n"
        } else {
            "[core]\n\trepositoryformatversion = 0\n\tbare = false\n"
        };
        let write = |relative: &str, bytes: &[u8]| -> std::io::Result<()> {
            let path = scratch.dir.join(relative);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, bytes)
        };
        (|| {
            std::fs::create_dir_all(scratch.dir.join("refs"))?;
            write("config", config.as_bytes())?;
            write("HEAD", format!("{commit}\n").as_bytes())?;
            let mut alternates = objects.into_os_string().into_encoded_bytes();
            alternates.push(b'\n');
            write("objects/info/alternates", &alternates)?;
            // Only ignore patterns; a link or a special file here is skipped, not followed.
            if std::fs::symlink_metadata(&exclude).is_ok_and(|m| m.is_file())
                && let Ok(bytes) = crate::fs::read_limited(&exclude)
            {
                write("info/exclude", &bytes)?;
            }
            Ok(())
        })()
        .map_err(GitError::Scratch)?;
        Ok(scratch)
    }

    fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A new, empty folder of ours under the system's temporary folder (created, never reused).
fn unique_temp_dir() -> std::io::Result<PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let mut last = None;
    for _ in 0..16 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("release-gate-index-{}-{nanos:x}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary folder name")))
}

/// The paths of `git status --porcelain=v1 -z` output (`XY path` entries).
fn status_paths(raw: &[u8]) -> Vec<String> {
    raw.split(|byte| *byte == 0)
        .filter(|entry| entry.len() > 3)
        .map(|entry| String::from_utf8_lossy(entry.get(3..).unwrap_or_default()).into_owned())
        .collect()
}

/// Lowercase hex of bytes (the core's, one place).
pub use release_gate_core::signing::hex;
