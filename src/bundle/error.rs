//! Why a bundle could not be sealed, checked or signed.

use std::path::PathBuf;

/// Why a bundle operation failed. Messages read after "failed to".
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A file or folder could not be read, listed or written.
    #[error("{action} {path}")]
    Io {
        /// What was being done ("read", "list", "write", ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A symlink sits in the bundle; evidence must be plain files.
    #[error("seal {path}: it is a symlink, and evidence must be plain files")]
    Symlink {
        /// The symlink.
        path: PathBuf,
    },
    /// Something other than a regular file or folder (FIFO, socket, device).
    #[error("seal {path}: it is not a regular file, and evidence must be plain files")]
    NotRegular {
        /// The special file.
        path: PathBuf,
    },
    /// A file name `sha256sum` would escape, or that is not UTF-8.
    #[error("seal {path}: {reason}")]
    BadName {
        /// The offending file.
        path: PathBuf,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The folder has no manifest to verify or sign.
    #[error("find the manifest {path}; write it first")]
    NoManifest {
        /// Where the manifest was expected.
        path: PathBuf,
    },
    /// A manifest line is not `<64 hex>  <path>`, or names an unsafe path.
    #[error("parse {path} line {line}: {reason}")]
    Malformed {
        /// The manifest.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The private key file is not an OpenSSH private key.
    #[error("read the SSH private key {path}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: ssh_key::Error,
    },
    /// The private key is protected by a passphrase.
    #[error(
        "use the SSH private key {path}: it is passphrase-encrypted; chainproof \
         needs an unencrypted key (decrypt a copy with `ssh-keygen -p -N '' -f <copy>`)"
    )]
    KeyEncrypted {
        /// The key file.
        path: PathBuf,
    },
    /// The private key is not Ed25519.
    #[error(
        "use the SSH private key {path}: it is {algorithm}, but bundles are signed with Ed25519"
    )]
    KeyAlgorithm {
        /// The key file.
        path: PathBuf,
        /// Its algorithm name (e.g. `ssh-rsa`).
        algorithm: String,
    },
    /// Signing or encoding the signature failed.
    #[error("sign {path}")]
    Sign {
        /// The manifest being signed.
        path: PathBuf,
        /// Cause.
        #[source]
        source: ssh_key::Error,
    },
}

impl BundleError {
    /// An I/O failure while doing `action` on `path`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
