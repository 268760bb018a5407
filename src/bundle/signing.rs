//! SSH signatures (SSHSIG) over the manifest, compatible with
//! `ssh-keygen -Y sign` / `ssh-keygen -Y verify`.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

use super::allowed::allows;
use super::{BundleError, MANIFEST, NAMESPACE, SIGNATURE, SignatureState};

/// Signs `dir/SHA256SUMS` with the OpenSSH Ed25519 private key at `key` and
/// writes the armored signature to `dir/SHA256SUMS.sig`; returns its path.
///
/// The signature is an SSHSIG over the exact manifest bytes, namespace
/// `chainproof`, hash SHA-512, carrying the signer's public key: the same
/// thing `ssh-keygen -Y sign -n chainproof -f key SHA256SUMS` produces. A
/// third party checks it with
/// `ssh-keygen -Y verify -f allowed_signers -I <identity> -n chainproof -s SHA256SUMS.sig < SHA256SUMS`
/// (see the [module docs](super)).
///
/// The key must be unencrypted: a passphrase-protected key is an error that
/// says so, as is a key of another algorithm. Write the manifest first.
pub fn sign(dir: &Path, key: &Path) -> Result<PathBuf, BundleError> {
    let manifest = dir.join(MANIFEST);
    let message = match fs::read(&manifest) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(BundleError::NoManifest { path: manifest });
        }
        Err(e) => return Err(BundleError::io("read", &manifest, e)),
    };
    let private = load_key(key)?;
    let signature = private
        .sign(NAMESPACE, HashAlg::Sha512, &message)
        .and_then(|sig| sig.to_pem(LineEnding::LF))
        .map_err(|source| BundleError::Sign {
            path: manifest.clone(),
            source,
        })?;
    let out = dir.join(SIGNATURE);
    fs::write(&out, signature).map_err(|e| BundleError::io("write", &out, e))?;
    Ok(out)
}

/// Reads an unencrypted OpenSSH Ed25519 private key.
fn load_key(path: &Path) -> Result<PrivateKey, BundleError> {
    // `read_openssh_file` keeps the PEM text in zeroized memory; its I/O
    // errors only carry the kind, so they are rebuilt here with the path.
    let key = match PrivateKey::read_openssh_file(path) {
        Ok(key) => key,
        Err(ssh_key::Error::Io(kind)) => return Err(BundleError::io("read", path, kind.into())),
        Err(ssh_key::Error::Encrypted) => {
            return Err(BundleError::KeyEncrypted {
                path: path.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(BundleError::Key {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    // An encrypted key still parses (public half in clear, private half as
    // ciphertext); signing with it would only fail later with a vague error.
    if key.is_encrypted() {
        return Err(BundleError::KeyEncrypted {
            path: path.to_path_buf(),
        });
    }
    if key.algorithm() != Algorithm::Ed25519 {
        return Err(BundleError::KeyAlgorithm {
            path: path.to_path_buf(),
            algorithm: key.algorithm().as_str().to_owned(),
        });
    }
    Ok(key)
}

/// Checks `dir/SHA256SUMS.sig` against the manifest bytes.
///
/// The signature must parse, use namespace `chainproof`, and verify with
/// the public key embedded in it. With `allowed`, that key must also appear
/// in the given OpenSSH allowed-signers file (`principals [options] keytype
/// base64 [comment]` lines, any principal; a `namespaces="..."` option must
/// admit `chainproof`; `cert-authority` lines are ignored; `valid-after` /
/// `valid-before` are not evaluated, whereas `ssh-keygen` does evaluate them).
///
/// Without `allowed`, [`SignatureState::Valid`] only says the manifest is
/// unchanged since the holder of the reported key signed it.
///
/// Never fails: an absent signature is [`SignatureState::Absent`], anything
/// else wrong (unreadable files included) is [`SignatureState::Invalid`]
/// with the reason.
pub fn verify_signature(dir: &Path, allowed: Option<&Path>) -> SignatureState {
    let sig_path = dir.join(SIGNATURE);
    let armored = match fs::read(&sig_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return SignatureState::Absent,
        Err(e) => return SignatureState::Invalid(format!("cannot read {SIGNATURE}: {e}")),
    };
    match check(dir, &armored, allowed) {
        Ok(key_fingerprint) => SignatureState::Valid { key_fingerprint },
        Err(reason) => SignatureState::Invalid(reason),
    }
}

/// The signer's SHA256 fingerprint if `armored` is a good signature.
fn check(dir: &Path, armored: &[u8], allowed: Option<&Path>) -> Result<String, String> {
    let message =
        fs::read(dir.join(MANIFEST)).map_err(|e| format!("cannot read {MANIFEST}: {e}"))?;
    let sig = SshSig::from_pem(armored)
        .map_err(|e| format!("{SIGNATURE} is not an armored SSH signature: {e}"))?;
    if sig.namespace() != NAMESPACE {
        return Err(format!(
            "signature namespace is {:?}, expected {NAMESPACE:?}",
            sig.namespace()
        ));
    }
    let public = PublicKey::from(sig.public_key().clone());
    let fingerprint = public.fingerprint(HashAlg::Sha256).to_string();
    public
        .verify(NAMESPACE, &message, &sig)
        .map_err(|e| format!("signature by {fingerprint} does not match {MANIFEST}: {e}"))?;
    if let Some(file) = allowed {
        let text = fs::read_to_string(file)
            .map_err(|e| format!("cannot read allowed signers {}: {e}", file.display()))?;
        if !allows(&text, sig.public_key(), NAMESPACE) {
            return Err(format!(
                "key {fingerprint} is not in allowed signers {} for namespace {NAMESPACE:?}",
                file.display()
            ));
        }
    }
    Ok(fingerprint)
}
