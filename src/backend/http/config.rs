//! What an HTTP backend profile says about connecting: URL-independent
//! connection settings (CA, timeout, attempts) and how requests
//! authenticate, resolved from secret references.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::secret::{Secret, SecretRef};
use crate::vocab::duration_text;

/// Connection settings of an HTTP backend profile.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Base URL, e.g. `https://splunk.lab:8089`.
    pub url: String,
    /// Extra CA certificate (PEM) to trust, for lab PKI.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Timeout of one request.
    #[serde(default = "default_timeout", with = "duration_text")]
    pub timeout: Duration,
    /// Attempts per request, retries included.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

fn default_attempts() -> u32 {
    4
}

/// How requests authenticate.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum AuthConfig {
    /// `Authorization: Bearer <secret>`.
    Bearer {
        /// The token.
        token: SecretRef,
    },
    /// HTTP basic.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: SecretRef,
    },
    /// `Authorization: <scheme> <secret>`, e.g. Elastic's `ApiKey`.
    Scheme {
        /// The scheme word.
        scheme: String,
        /// The credential.
        credential: SecretRef,
    },
}

/// Resolved authentication.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No credentials.
    None,
    /// A bearer token.
    Bearer(Secret),
    /// User and password.
    Basic(String, Secret),
    /// Scheme and credential.
    Scheme(String, Secret),
}

impl AuthConfig {
    /// Checks shape, no I/O.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            AuthConfig::Bearer { token } => token.validate(),
            AuthConfig::Basic { password, .. } => password.validate(),
            AuthConfig::Scheme { credential, .. } => credential.validate(),
        }
    }

    /// Reads the secrets.
    pub fn resolve(&self) -> Result<Auth, String> {
        Ok(match self {
            AuthConfig::Bearer { token } => Auth::Bearer(token.resolve()?),
            AuthConfig::Basic { user, password } => Auth::Basic(user.clone(), password.resolve()?),
            AuthConfig::Scheme { scheme, credential } => {
                Auth::Scheme(scheme.clone(), credential.resolve()?)
            }
        })
    }
}
