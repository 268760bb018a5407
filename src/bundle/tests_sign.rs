//! Signing tests against the real `ssh-keygen`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::tests::{fixture, run, text};
use super::*;
use crate::testing::require_tool;

/// `ssh-keygen -t ed25519` in `dir` with `passphrase`; returns the key path.
fn keygen(dir: &Path, name: &str, passphrase: &str) -> PathBuf {
    let key = dir.join(name);
    let out = run(
        Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                passphrase,
                "-C",
                "lab@chainproof",
                "-f",
            ])
            .arg(&key),
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    key
}

fn ssh_verify(tmp: &Path, dir: &Path) -> Output {
    let out = run(
        Command::new("ssh-keygen")
            .args(["-Y", "verify", "-f"])
            .arg(tmp.join("allowed_signers"))
            .args(["-I", "lab@chainproof", "-n", "chainproof", "-s"])
            .arg(dir.join(SIGNATURE)),
        Some(&fs::read(dir.join(MANIFEST)).unwrap()),
    );
    eprintln!(
        "ssh-keygen -Y verify: {:?} {}",
        out.status.code(),
        text(&out)
    );
    out
}

#[test]
fn signature_verifies_here_and_with_ssh_keygen_until_tampered() {
    if !require_tool("ssh-keygen") {
        return;
    }
    let (tmp, dir) = fixture();
    let key = keygen(tmp.path(), "key", "");
    write_manifest(&dir).unwrap();
    let sig = sign(&dir, &key).unwrap();
    assert_eq!(sig, dir.join(SIGNATURE));
    let armored = fs::read_to_string(&sig).unwrap();
    assert!(
        armored.starts_with("-----BEGIN SSH SIGNATURE-----\n"),
        "{armored}"
    );
    assert!(armored.trim_end().ends_with("-----END SSH SIGNATURE-----"));

    let listed = run(
        Command::new("ssh-keygen")
            .arg("-lf")
            .arg(key.with_extension("pub")),
        None,
    );
    let expected = text(&listed).split_whitespace().nth(1).unwrap().to_owned();
    assert!(expected.starts_with("SHA256:"), "{expected}");

    let v = verify(&dir).unwrap();
    assert!(v.is_intact(), "{}", render(&v));
    assert_eq!(
        v.signature,
        SignatureState::Valid {
            key_fingerprint: expected.clone()
        }
    );
    assert!(render(&v).contains(&expected));

    let public = fs::read_to_string(key.with_extension("pub")).unwrap();
    let allowed = tmp.path().join("allowed_signers");
    fs::write(&allowed, format!("lab@chainproof {public}")).unwrap();
    assert!(matches!(
        verify_signature(&dir, Some(&allowed)),
        SignatureState::Valid { .. }
    ));
    let out = ssh_verify(tmp.path(), &dir);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("Good"), "{}", text(&out));

    // One byte of the manifest: both verifiers must reject it.
    let manifest = dir.join(MANIFEST);
    let mut bytes = fs::read(&manifest).unwrap();
    bytes[0] = if bytes[0] == b'0' { b'1' } else { b'0' };
    fs::write(&manifest, &bytes).unwrap();
    let v = verify(&dir).unwrap();
    assert!(
        matches!(v.signature, SignatureState::Invalid(_)),
        "{:?}",
        v.signature
    );
    assert!(!v.is_intact());
    assert!(render(&v).contains("signature: INVALID"), "{}", render(&v));
    let out = ssh_verify(tmp.path(), &dir);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn allowed_signers_must_list_the_key() {
    if !require_tool("ssh-keygen") {
        return;
    }
    let (tmp, dir) = fixture();
    let key = keygen(tmp.path(), "key", "");
    let other = keygen(tmp.path(), "other", "");
    write_manifest(&dir).unwrap();
    sign(&dir, &key).unwrap();
    let public = |k: &Path| fs::read_to_string(k.with_extension("pub")).unwrap();
    let allowed = tmp.path().join("allowed");
    let check = |body: String| {
        fs::write(&allowed, body).unwrap();
        verify_signature(&dir, Some(&allowed))
    };
    let theirs = public(&other);
    let ours = public(&key);
    assert!(
        matches!(check(format!("x@y {theirs}")), SignatureState::Invalid(r) if r.contains("not in allowed"))
    );
    assert!(matches!(
        check(format!("# c\n\nx@y {theirs}a@b {ours}")),
        SignatureState::Valid { .. }
    ));
    let restricted = format!("a@b namespaces=\"git,file\" {ours}");
    assert!(matches!(check(restricted), SignatureState::Invalid(_)));
    let admitted = format!("a@b,c@d namespaces=\"git,chain*\" {ours}");
    assert!(matches!(check(admitted), SignatureState::Valid { .. }));
    assert!(matches!(
        check(format!("a@b cert-authority {ours}")),
        SignatureState::Invalid(_)
    ));
    let gone = tmp.path().join("nope");
    assert!(
        matches!(verify_signature(&dir, Some(&gone)), SignatureState::Invalid(r) if r.contains("cannot read"))
    );
}

#[test]
fn ssh_keygen_signatures_verify_here() {
    if !require_tool("ssh-keygen") {
        return;
    }
    let (tmp, dir) = fixture();
    let key = keygen(tmp.path(), "key", "");
    write_manifest(&dir).unwrap();
    let out = run(
        Command::new("ssh-keygen")
            .args(["-Y", "sign", "-n", "chainproof", "-f"])
            .arg(&key)
            .arg(dir.join(MANIFEST)),
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(matches!(
        verify(&dir).unwrap().signature,
        SignatureState::Valid { .. }
    ));

    // Same key, wrong namespace: refused.
    fs::remove_file(dir.join(SIGNATURE)).unwrap();
    let out = run(
        Command::new("ssh-keygen")
            .args(["-Y", "sign", "-n", "git", "-f"])
            .arg(&key)
            .arg(dir.join(MANIFEST)),
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let state = verify_signature(&dir, None);
    assert!(
        matches!(&state, SignatureState::Invalid(r) if r.contains("namespace")),
        "{state:?}"
    );
}

#[test]
fn encrypted_key_is_a_clear_error() {
    if !require_tool("ssh-keygen") {
        return;
    }
    let (tmp, dir) = fixture();
    let key = keygen(tmp.path(), "locked", "secret");
    write_manifest(&dir).unwrap();
    let err = sign(&dir, &key).unwrap_err();
    assert!(matches!(err, BundleError::KeyEncrypted { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("passphrase-encrypted") && msg.contains("locked"),
        "{msg}"
    );
    assert!(!dir.join(SIGNATURE).exists());
}

#[test]
fn garbage_key_and_signature_are_reported() {
    let (tmp, dir) = fixture();
    write_manifest(&dir).unwrap();
    let key = tmp.path().join("not-a-key");
    fs::write(&key, "hello").unwrap();
    assert!(matches!(sign(&dir, &key), Err(BundleError::Key { .. })));
    let missing = tmp.path().join("absent-key");
    assert!(matches!(sign(&dir, &missing), Err(BundleError::Io { .. })));
    fs::write(dir.join(SIGNATURE), "-----BEGIN SSH SIGNATURE-----\nAAAA\n").unwrap();
    let v = verify(&dir).unwrap();
    assert!(matches!(v.signature, SignatureState::Invalid(_)) && !v.is_intact());
}
