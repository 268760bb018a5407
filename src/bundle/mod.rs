//! Evidence bundles: a run's report folder, sealed so it can be checked
//! months later by anyone, with or without chainproof.
//!
//! Sealing has two layers:
//!
//! 1. [`write_manifest`] writes [`MANIFEST`] (`SHA256SUMS`) in the exact GNU
//!    coreutils format, one `<sha256>  <relative/path>` line per regular file,
//!    sorted. [`verify`] recomputes it and names every changed, missing and
//!    extra file.
//! 2. [`sign`] signs the manifest bytes with an OpenSSH Ed25519 key as an SSH
//!    signature (SSHSIG, namespace `chainproof`, SHA-512) and writes the
//!    armored [`SIGNATURE`] (`SHA256SUMS.sig`). [`verify_signature`] checks it
//!    against the public key embedded in the signature and, optionally, an
//!    OpenSSH allowed-signers file.
//!
//! # Verifying without chainproof
//!
//! Only stock tools are needed. In the bundle folder:
//!
//! ```text
//! # 1. contents match the manifest (every line must say OK)
//! sha256sum -c SHA256SUMS
//!
//! # 2. the manifest was signed by a key you trust; allowed_signers holds one
//! #    line per trusted key: "<identity> ssh-ed25519 AAAA... [comment]"
//! ssh-keygen -Y verify -f allowed_signers -I <identity> -n chainproof \
//!     -s SHA256SUMS.sig < SHA256SUMS
//! ```
//!
//! `ssh-keygen` prints `Good "chainproof" signature for <identity> with
//! ED25519 key SHA256:...` and exits 0; anything else is a failure. To see
//! which key signed without trusting it yet, `ssh-keygen -Y find-principals
//! -f allowed_signers -s SHA256SUMS.sig` or `ssh-keygen -Y check-novalidate
//! -n chainproof -s SHA256SUMS.sig < SHA256SUMS`.
//!
//! # Limits
//!
//! Only regular files are sealed: symlinks, FIFOs and other special files
//! are refused, and empty directories leave no trace. File names must be
//! UTF-8 and free of newline, carriage return and backslash, which
//! `sha256sum` would escape. Re-running [`write_manifest`] after a change
//! leaves an old signature in place, which then reports as invalid: sign
//! again.

mod allowed;
mod error;
mod manifest;
mod render;
mod seal;
mod signing;
mod walk;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_sign;
#[cfg(test)]
mod tests_untied;

pub use error::BundleError;
pub use manifest::{verify, write_manifest};
pub use render::render;
pub use seal::{Evidence, QUERIES, UNTIED, queries_text, reseal, rewrite, seal, untied_text};
pub use signing::{sign, verify_signature};

/// File name of the checksum manifest inside a bundle folder.
pub const MANIFEST: &str = "SHA256SUMS";

/// File name of the armored SSH signature over [`MANIFEST`].
pub const SIGNATURE: &str = "SHA256SUMS.sig";

/// SSHSIG namespace used for bundle signatures (`ssh-keygen -n chainproof`).
pub const NAMESPACE: &str = "chainproof";

/// The outcome of checking a bundle folder against its manifest.
///
/// Every list holds relative paths with `/` separators, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Listed files whose content still matches.
    pub ok: Vec<String>,
    /// Listed files whose content differs from the manifest.
    pub changed: Vec<String>,
    /// Listed files that are no longer present.
    pub missing: Vec<String>,
    /// Files present in the folder but not listed in the manifest.
    pub extra: Vec<String>,
    /// State of [`SIGNATURE`], checked against the key embedded in it.
    pub signature: SignatureState,
}

impl Verification {
    /// True when nothing changed, went missing or appeared, and the
    /// signature (if any) is not invalid.
    ///
    /// An absent signature is intact: it only means the bundle was never
    /// signed. Callers that require a signature check
    /// [`Verification::signature`] themselves.
    pub fn is_intact(&self) -> bool {
        self.changed.is_empty()
            && self.missing.is_empty()
            && self.extra.is_empty()
            && !matches!(self.signature, SignatureState::Invalid(_))
    }
}

/// State of a bundle's SSH signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureState {
    /// No [`SIGNATURE`] file in the folder.
    Absent,
    /// The signature matches the manifest bytes.
    ///
    /// Without an allowed-signers file this only proves the manifest is
    /// unchanged since the holder of this key signed it; compare the
    /// fingerprint with one you trust.
    Valid {
        /// SHA256 fingerprint of the signing key, as `ssh-keygen -l` prints
        /// it (`SHA256:<base64>`).
        key_fingerprint: String,
    },
    /// The signature is present but does not verify; the text says why.
    Invalid(String),
}
