//! Secrets: referenced by environment variable or file in the config, held
//! in a type that prints as `[redacted]` and cannot be serialised.
//!
//! A scenario never holds a secret; a config holds only where to find one.

use std::path::PathBuf;

use serde::Deserialize;

/// Where a secret comes from: exactly one of `env` or `file`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// Name of an environment variable holding the secret.
    #[serde(default)]
    pub env: Option<String>,
    /// A file holding the secret (surrounding whitespace is trimmed).
    #[serde(default)]
    pub file: Option<PathBuf>,
}

/// A secret value. `Debug` and `Display` print `[redacted]`; there is no
/// `Serialize`, so it cannot reach a record or a report by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one place that must send it (an HTTP header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Wraps a value (tests, and tokens obtained at run time).
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl SecretRef {
    /// Checks the reference's shape (no I/O).
    pub fn validate(&self) -> Result<(), String> {
        match (&self.env, &self.file) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            _ => Err("give exactly one of `env` or `file`".into()),
        }
    }

    /// Reads the secret. Errors name the variable or file, never the value.
    pub fn resolve(&self) -> Result<Secret, String> {
        self.validate()?;
        let value = match (&self.env, &self.file) {
            (Some(var), _) => {
                std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?
            }
            (_, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| format!("read secret file {}: {}", path.display(), e.kind()))?
                .trim()
                .to_string(),
            _ => String::new(),
        };
        if value.is_empty() {
            return Err("the secret is empty".into());
        }
        Ok(Secret(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_their_value() {
        let s = Secret::new("hunter2-very-secret");
        for shown in [format!("{s}"), format!("{s:?}"), format!("{:?}", Some(&s))] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("[redacted]"));
        }
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn references_resolve_from_file_and_env_with_clear_errors() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("token");
        std::fs::write(&path, "  abc123\n")?;
        let by_file = SecretRef {
            env: None,
            file: Some(path.clone()),
        };
        assert_eq!(
            by_file.resolve().map(|s| s.expose().to_string()),
            Ok("abc123".to_string())
        );
        let missing = SecretRef {
            env: Some("CHAINPROOF_TEST_SURELY_UNSET_VAR".into()),
            file: None,
        };
        assert_eq!(
            missing.resolve().err().as_deref(),
            Some("environment variable CHAINPROOF_TEST_SURELY_UNSET_VAR is not set")
        );
        let both = SecretRef {
            env: Some("X".into()),
            file: Some(path),
        };
        assert!(both.validate().is_err());
        let neither = SecretRef {
            env: None,
            file: None,
        };
        assert!(neither.validate().is_err());
        Ok(())
    }
}
