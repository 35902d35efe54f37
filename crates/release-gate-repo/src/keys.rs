//! Signing keys on disk: loading OpenSSH Ed25519 private keys safely, and generating new ones.
//!
//! A private key must be readable by its owner only and must live outside the repository, so that it
//! is never committed. A passphrase-protected key is decrypted with the passphrase in the environment
//! variable [`PASSPHRASE_ENV`]. No error message ever contains key material.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use release_gate_core::signing::{PublicKey, SigningError, SigningKey};

/// The environment variable holding the passphrase of a passphrase-protected key.
pub const PASSPHRASE_ENV: &str = "RELEASE_GATE_KEY_PASSPHRASE";

/// The largest key file read (OpenSSH Ed25519 keys are under 1 KiB).
const MAX_KEY_BYTES: u64 = 64 * 1024;

/// Why a key could not be loaded or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the key {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "the private key {path} is readable by group or others (mode {mode:o}); run `chmod 600 {path}` and keep it private"
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error(
        "the private key {path} is inside the repository {root}; move it out (e.g. to ~/.ssh/) so it is never committed"
    )]
    InsideRepository { path: PathBuf, root: PathBuf },
    #[error("the key {path} is protected by a passphrase; set {PASSPHRASE_ENV} to the passphrase")]
    PassphraseNeeded { path: PathBuf },
    #[error("the passphrase in {PASSPHRASE_ENV} does not decrypt the key {path}")]
    Passphrase { path: PathBuf },
    #[error("the key {path}: {source}")]
    Key { path: PathBuf, source: SigningError },
    #[error("{path} already exists; choose another --out or remove it")]
    Exists { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot read fresh randomness from the operating system: {0}")]
    Random(String),
}

/// Refuses a path inside `root` (both resolved, so links and `..` do not hide it).
fn check_outside(path: &Path, root: Option<&Path>) -> Result<(), KeyError> {
    let Some(root) = root else { return Ok(()) };
    let resolved_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let resolved = match path.canonicalize() {
        Ok(resolved) => resolved,
        // A file that does not exist yet: resolve its directory.
        Err(_) => match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) => {
                let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
                dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()).join(name)
            }
            _ => path.to_path_buf(),
        },
    };
    if resolved.starts_with(&resolved_root) {
        return Err(KeyError::InsideRepository { path: path.to_path_buf(), root: root.to_path_buf() });
    }
    Ok(())
}

/// Loads an OpenSSH Ed25519 private key, refusing one readable by others or inside `repo_root`.
pub fn load_signing_key(path: &Path, repo_root: Option<&Path>) -> Result<SigningKey, KeyError> {
    use std::io::Read;
    let read_error = |source| KeyError::Read { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mode = file.metadata().map_err(read_error)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions { path: path.to_path_buf(), mode: mode & 0o777 });
    }
    check_outside(path, repo_root)?;
    let mut text = zeroize::Zeroizing::new(Vec::new());
    file.take(MAX_KEY_BYTES).read_to_end(&mut text).map_err(read_error)?;
    let passphrase = std::env::var(PASSPHRASE_ENV).ok().map(zeroize::Zeroizing::new);
    SigningKey::from_openssh(&text, passphrase.as_ref().map(|p| p.as_bytes())).map_err(|error| match error {
        SigningError::PassphraseNeeded => KeyError::PassphraseNeeded { path: path.to_path_buf() },
        SigningError::Passphrase => KeyError::Passphrase { path: path.to_path_buf() },
        source => KeyError::Key { path: path.to_path_buf(), source },
    })
}

/// Generates an Ed25519 key pair: `out` (mode 0600, encrypted when [`PASSPHRASE_ENV`] is set) and `out.pub`.
pub fn generate(out: &Path, comment: &str, repo_root: Option<&Path>) -> Result<PublicKey, KeyError> {
    use rand_core::RngCore as _;
    check_outside(out, repo_root)?;
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    rand_core::OsRng.try_fill_bytes(seed.as_mut()).map_err(|error| KeyError::Random(error.to_string()))?;
    let key =
        SigningKey::from_seed(&seed, comment).map_err(|source| KeyError::Key { path: out.into(), source })?;
    let text = match std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()) {
        Some(passphrase) => {
            let passphrase = zeroize::Zeroizing::new(passphrase);
            let encrypted = key
                .openssh_key()
                .encrypt(&mut rand_core::OsRng, passphrase.as_bytes())
                .map_err(|error| KeyError::Random(error.to_string()))?;
            encrypted.to_openssh(ssh_key::LineEnding::LF).map_err(|error| KeyError::Key {
                path: out.into(),
                source: SigningError::KeyFormat(error.to_string()),
            })?
        }
        None => key.to_openssh().map_err(|source| KeyError::Key { path: out.into(), source })?,
    };
    let public = key.public();
    let mut public_path = out.as_os_str().to_owned();
    public_path.push(".pub");
    let public_path = PathBuf::from(public_path);
    for path in [out, public_path.as_path()] {
        if path.exists() {
            return Err(KeyError::Exists { path: path.to_path_buf() });
        }
    }
    write_new(out, text.as_bytes(), 0o600)?;
    write_new(&public_path, format!("{} {comment}\n", public.to_openssh()).as_bytes(), 0o644)?;
    Ok(public)
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    let write_error = |source| KeyError::Write { path: path.to_path_buf(), source };
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(|source| {
            match source.kind() {
                std::io::ErrorKind::AlreadyExists => KeyError::Exists { path: path.to_path_buf() },
                _ => write_error(source),
            }
        })?;
    file.write_all(bytes).map_err(write_error)?;
    file.sync_all().map_err(write_error)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_keys_load_and_loose_permissions_are_refused() {
        let dir = std::env::temp_dir().join(format!("release-gate-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("id");
        let public = generate(&path, "Priya Shah", None).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load_signing_key(&path, None).unwrap().public(), public);
        assert!(matches!(generate(&path, "again", None), Err(KeyError::Exists { .. })));
        assert!(matches!(load_signing_key(&path, Some(&dir)), Err(KeyError::InsideRepository { .. })));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let error = load_signing_key(&path, None).unwrap_err();
        assert!(error.to_string().contains("chmod 600"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
