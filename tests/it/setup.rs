//! Signing set-up in one step: `keygen` names the person from git, `signers add` writes a correct
//! allowed_signers line, and `doctor` (MCP `check_setup`) says what stands between the team and a signed GO.

use serde_json::{Value, json};

use crate::support::{GitRepo, TempDir, Transport, mcp_calls};

fn check<'a>(doctor: &'a Value, name: &str) -> &'a Value {
    doctor["checks"].as_array().unwrap().iter().find(|c| c["check"] == name).unwrap()
}

#[test]
fn keygen_signers_add_and_doctor() {
    let repo = GitRepo::new("setup");
    repo.commit(&[(".release/policy.toml", "version = 1\n"), ("src/api.rs", "fn api() {}\n")], "policy");
    let keys = TempDir::new("setup-keys");
    let key = keys.path().join("release_ed25519");

    // keygen: the principal is git's user.name, the person's name as decisions write it.
    let out = repo.run(&["keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .starts_with("\"Rel Eng\" namespaces=\"release-gate,release-gate-checkpoint\" ssh-ed25519 ")
    );
    assert!(out.stderr.contains("release-gate signers add"), "{out:?}");
    let inside = repo.run(&["keygen", "--out", "inside-key", "--principal", "Rel Eng"]);
    assert_eq!(inside.code, 2, "a key inside the repository is refused: {inside:?}");
    assert!(!repo.path().join("inside-key").exists());

    // signers add, from the .pub file: the same line keygen printed, once.
    let public = key.with_extension("pub");
    let out = repo.run(&["signers", "add", "Rel Eng", public.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    let written = std::fs::read_to_string(repo.path().join(".release/allowed_signers")).unwrap();
    let keygen_line = repo.run(&["keygen", "--out", keys.path().join("other").to_str().unwrap()]).stdout;
    assert!(
        written.starts_with("\"Rel Eng\" namespaces=\"release-gate,release-gate-checkpoint\" ssh-ed25519 ")
    );
    assert_eq!(written.lines().count(), 1, "{written}");
    assert_ne!(written.trim(), keygen_line.trim(), "each key is its own");
    let again = repo.run(&["signers", "add", "rel eng", public.to_str().unwrap()]);
    assert_eq!(again.code, 2, "the same key for the same person twice: {again:?}");
    let bad = repo.run(&["signers", "add", "Lee Park", "ssh-rsa AAAAB3Nza"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    // ssh-keygen reads the line as written.
    let sig = std::process::Command::new("ssh-keygen")
        .args(["-Y", "sign", "-q", "-n", "release-gate", "-f"])
        .arg(&key)
        .arg(repo.path().join("src/api.rs"))
        .output()
        .unwrap();
    assert!(sig.status.success(), "{sig:?}");
    let verified = std::process::Command::new("sh")
        .arg("-c")
        .arg("ssh-keygen -Y verify -f .release/allowed_signers -I 'Rel Eng' -n release-gate -s src/api.rs.sig < src/api.rs")
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(verified.status.success(), "{verified:?}");
    std::fs::remove_file(repo.path().join("src/api.rs.sig")).unwrap();

    // doctor: a panel member without a key, the key that signs, the Codex entry, uncommitted records.
    assert_eq!(repo.run(&["draft", "--scope", "api", "--risk", "high", "--id", "d"]).code, 0);
    assert_eq!(repo.run(&["set", "d", "decision-owner", "Rel Eng"]).code, 0);
    assert_eq!(repo.run(&["set", "d", "panel", "Rel Eng", "Lee Park"]).code, 0);
    std::fs::create_dir_all(repo.path().join(".codex")).unwrap();
    std::fs::write(
        repo.path().join(".codex/config.toml"),
        "[mcp_servers.release_gate]\ncommand = \"release-gate\"\nargs = [\"serve\"]\n",
    )
    .unwrap();
    let (code, doctor) = repo.json(&["doctor", "--key", key.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1, "{doctor}");
    assert_eq!(check(&doctor, "policy")["ok"], true, "{doctor}");
    assert_eq!(check(&doctor, "signers")["ok"], false, "{doctor}");
    assert!(check(&doctor, "signers")["detail"].as_str().unwrap().contains("Lee Park"), "{doctor}");
    assert!(!check(&doctor, "signers")["detail"].as_str().unwrap().contains("Rel Eng"), "{doctor}");
    assert_eq!(check(&doctor, "signing-key")["ok"], true, "{doctor}");
    assert!(
        check(&doctor, "signing-key")["detail"].as_str().unwrap().contains("signs as Rel Eng"),
        "{doctor}"
    );
    assert_eq!(check(&doctor, "codex")["ok"], false, "{doctor}");
    assert_eq!(check(&doctor, "records")["ok"], false, "{doctor}");

    // The same checks over MCP, with the server's own key.
    let results =
        mcp_calls(repo.path(), &Transport::Stdio, &[json!({"tool": "check_setup", "arguments": {}})]);
    let doctor = &results[0]["structured"];
    assert_eq!(results[0]["is_error"], false, "{results:?}");
    assert_eq!(check(doctor, "signers")["ok"], false, "{doctor}");
    assert_eq!(check(doctor, "codex")["ok"], false, "{doctor}");
}
