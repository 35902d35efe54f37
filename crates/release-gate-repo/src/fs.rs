//! File primitives for what release-gate reads and writes: bounded reads of regular files, reads that stay
//! inside the repository, atomic whole-file writes, and advisory locks that never follow a link.
//!
//! Everything under `.release/` arrives in pull requests, so it is read as hostile: a link that leaves the
//! repository, a FIFO (which would block an `open` forever), a device such as `/dev/zero` and a file over
//! 10 MiB are each refused with a reason, before any byte is trusted.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rustix::fs::OFlags;

/// Open flags as `OpenOptionsExt::custom_flags` takes them.
fn flags(flags: OFlags) -> i32 {
    // The flags used here are small constants; the conversion cannot lose bits.
    i32::try_from(flags.bits()).unwrap_or(i32::MAX)
}

/// Writes `bytes` to `path` atomically: a new temporary file in the same directory (never through a link),
/// `sync_all`, rename, then fsync of the directory. Readers see the old content or the new, never a torn
/// file. A temporary file left by a killed writer is named `.<name>.<pid>.tmp` and removed by
/// [`remove_stale_temps`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = parent(path);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    // A leftover of this same process id (a reused pid) is ours to replace.
    let _ = std::fs::remove_file(&temp);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(flags(OFlags::NOFOLLOW | OFlags::CLOEXEC))
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        sync_dir(&dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Removes the temporary files (`.<name>.<pid>.tmp`) that writers killed mid-write left in `dir`; a file of
/// a process still running is left alone.
pub fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(pid) = temp_owner(name) else { continue };
        let running = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .is_some_and(|pid| rustix::process::test_kill_process(pid).is_ok());
        if !running && entry.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The process id in a temporary file name `.<name>.<pid>.tmp`.
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (_, pid) = rest.rsplit_once('.')?;
    pid.parse().ok()
}

/// Flushes a directory's entries (a new or renamed file) to disk.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Why a bounded read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("is a directory")]
    Directory,
    #[error("is not a regular file (a pipe or device)")]
    NotRegular,
    #[error("is larger than 10 MiB")]
    TooLarge,
    #[error("is a link that leads out of the repository ({}); replace it with the file itself", target.display())]
    Outside { target: PathBuf },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl ReadError {
    /// Whether the file is simply not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(error) if error.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Reads a regular file of at most [`release_gate_core::MAX_INPUT_BYTES`], without reading more than one
/// byte past the limit. Opened without waiting (a FIFO would wait for a writer forever) and checked on the
/// opened file, so nothing can be swapped in between the check and the read.
pub fn read_limited(path: &Path) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let file = open_regular(path)?;
    let limit = u64::try_from(release_gate_core::MAX_INPUT_BYTES).unwrap_or(u64::MAX).saturating_add(1);
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    if bytes.len() > release_gate_core::MAX_INPUT_BYTES {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

/// Opens a regular file for reading without waiting (a FIFO would block `open` until a writer comes) and
/// checks the opened file, so nothing can be swapped in between the check and the read.
pub fn open_regular(path: &Path) -> Result<File, ReadError> {
    let file =
        OpenOptions::new().read(true).custom_flags(flags(OFlags::NONBLOCK | OFlags::CLOEXEC)).open(path)?;
    let metadata = file.metadata()?;
    if metadata.is_dir() {
        return Err(ReadError::Directory);
    }
    if !metadata.is_file() {
        return Err(ReadError::NotRegular);
    }
    Ok(file)
}

/// Checks that `path` (which exists) really lies inside `root`: no link on the way, its own name included,
/// leads out of the repository.
pub fn check_inside(root: &Path, path: &Path) -> Result<(), ReadError> {
    let real_root = std::fs::canonicalize(root)?;
    let real = std::fs::canonicalize(path)?;
    if real.starts_with(&real_root) { Ok(()) } else { Err(ReadError::Outside { target: real }) }
}

/// [`read_limited`] for a file of the repository at `root` (anything under `.release/`): a link that leads
/// out of the repository is refused.
pub fn read_inside(root: &Path, path: &Path) -> Result<Vec<u8>, ReadError> {
    check_inside(root, path)?;
    read_limited(path)
}

/// Creates `dir` and its parents when missing, and checks that it lies inside `root`: a committed link such
/// as `.release/decisions -> /elsewhere` is refused before anything is written through it.
pub fn create_dir_inside(root: &Path, dir: &Path) -> Result<(), ReadError> {
    // The deepest folder that exists is checked first, so no folder is created through a link that leads
    // out; the whole path again after, in case a link was swapped in meanwhile.
    let existing = dir.ancestors().find(|ancestor| ancestor.exists()).unwrap_or(root);
    check_inside(root, existing)?;
    std::fs::create_dir_all(dir)?;
    check_inside(root, dir)
}

/// An exclusive advisory lock on a lock file, held until dropped.
#[derive(Debug)]
pub struct Lock {
    file: File,
}

impl Lock {
    /// Blocks until the lock on `path` (created if needed) is held. A link at `path` is refused, never
    /// followed, so a committed link cannot make release-gate create or truncate a file elsewhere.
    pub fn exclusive(path: &Path) -> std::io::Result<Lock> {
        let file =
            open_no_follow(path, OpenOptions::new().read(true).write(true).create(true).truncate(false))?;
        file.lock()?;
        Ok(Lock { file })
    }
}

impl Lock {
    /// The lock on `path` if nobody holds it, else `None` (one post-deploy watch per decision).
    pub fn try_exclusive(path: &Path) -> std::io::Result<Option<Lock>> {
        let file =
            open_no_follow(path, OpenOptions::new().read(true).write(true).create(true).truncate(false))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Lock { file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(error)) => Err(error),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Opens a file for appending (created if needed) without following a link at `path`.
pub fn open_append(path: &Path) -> std::io::Result<File> {
    open_no_follow(path, OpenOptions::new().read(true).append(true).create(true))
}

/// Opens `path` as `options` say, refusing a link at `path` (never followed) and anything but a regular
/// file; without waiting, so a FIFO cannot block the open.
fn open_no_follow(path: &Path, options: &mut OpenOptions) -> std::io::Result<File> {
    let file =
        options.custom_flags(flags(OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC)).open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other(format!("{} is not a regular file", path.display())));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("release-gate-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn atomic_write_replaces_content_and_leaves_no_temp_file() {
        let dir = temp_dir("atomic");
        let path = dir.join("a.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["a.json"]);
        let _lock = Lock::exclusive(&dir.join("a.lock")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn links_pipes_and_devices_are_refused() {
        let root = temp_dir("hostile");
        let outside = temp_dir("hostile-outside");
        std::fs::write(outside.join("secret"), b"secret").unwrap();
        let link = root.join("x.json");
        std::os::unix::fs::symlink(outside.join("secret"), &link).unwrap();
        assert!(matches!(read_inside(&root, &link), Err(ReadError::Outside { .. })));
        // A lock through a link is refused and creates nothing at the link's target.
        let lock_link = root.join("y.lock");
        std::os::unix::fs::symlink(outside.join("created"), &lock_link).unwrap();
        assert!(Lock::exclusive(&lock_link).is_err());
        assert!(!outside.join("created").exists());
        assert!(open_append(&lock_link).is_err());
        assert!(!outside.join("created").exists());
        // A FIFO is refused at once instead of blocking.
        let fifo = root.join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(matches!(read_limited(&fifo), Err(ReadError::NotRegular)));
        assert!(matches!(read_limited(Path::new("/dev/zero")), Err(ReadError::NotRegular)));
        // A link to a directory outside is refused before anything is created through it.
        let dir_link = root.join("decisions");
        std::os::unix::fs::symlink(&outside, &dir_link).unwrap();
        assert!(matches!(create_dir_inside(&root, &dir_link), Err(ReadError::Outside { .. })));
        std::fs::remove_dir_all(&root).unwrap();
        std::fs::remove_dir_all(&outside).unwrap();
    }

    #[test]
    fn stale_temporary_files_are_removed_and_live_ones_kept() {
        let dir = temp_dir("stale");
        // No process has id 4194304 (above the kernel's maximum pid).
        std::fs::write(dir.join(".a.json.4194304.tmp"), b"x").unwrap();
        let live = format!(".a.json.{}.tmp", std::process::id());
        std::fs::write(dir.join(&live), b"x").unwrap();
        std::fs::write(dir.join("a.json"), b"x").unwrap();
        remove_stale_temps(&dir);
        let mut names: Vec<_> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, [live, "a.json".to_owned()]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
