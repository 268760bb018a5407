//! The config file: named backend profiles (`docs/config.md`,
//! `examples/chainproof.yaml`). It says *where* to verify; scenarios say
//! what to simulate. Secrets appear only as references (`env:` / `file:`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A backend profile: it lives with the backends (one list there generates
/// it), re-exported because a profile is what this file's `backends` hold.
pub use crate::backend::Profile;

/// The whole config file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Backend profiles by name.
    #[serde(default)]
    pub backends: BTreeMap<String, Profile>,
    /// The lab: hosts where scheduled and remote runs may execute.
    #[serde(default)]
    pub lab: Option<crate::lab::Lab>,
}

/// Why a config cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("read config {path}")]
    Read {
        /// Path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file was refused before parsing (not a regular file, too
    /// large, not UTF-8; see [`crate::intake`]).
    #[error("read config {}", source.path().display())]
    Refused {
        /// Why.
        #[source]
        source: crate::intake::IntakeError,
    },
    /// The file is not a valid config.
    #[error("load config {}: {field}: {message}", at(path, *line, *column))]
    Invalid {
        /// Path.
        path: PathBuf,
        /// Line (0 when unknown).
        line: usize,
        /// Column (0 when unknown).
        column: usize,
        /// Dotted field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// No profile of that name.
    #[error("find backend `{name}` in {path} (profiles: {known})")]
    UnknownBackend {
        /// Requested name.
        name: String,
        /// Config path.
        path: PathBuf,
        /// Known names.
        known: String,
    },
}

/// `path:line:column`, leaving out what is unknown (0).
fn at(path: &Path, line: usize, column: usize) -> String {
    crate::intake::yaml::location(
        path,
        (line > 0).then_some(line),
        (column > 0).then_some(column),
    )
}

impl Config {
    /// Reads and checks a config file (no network, no secrets read).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = crate::intake::read_text(path, crate::intake::Kind::Config)
            .map_err(|source| ConfigError::Refused { source })?;
        Config::parse(&text, path)
    }

    /// Parses and checks config `text`; `path` only names the file in
    /// errors. The entry point for "this text is a config".
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config =
            crate::intake::yaml::parse(text, path).map_err(|e| ConfigError::Invalid {
                path: e.path,
                line: e.line.unwrap_or(0),
                column: e.column.unwrap_or(0),
                field: e.field,
                message: e.message,
            })?;
        for (name, profile) in &config.backends {
            profile.validate().map_err(|message| ConfigError::Invalid {
                path: path.into(),
                line: 0,
                column: 0,
                field: format!("backends.{name}"),
                message,
            })?;
        }
        Ok(config)
    }

    /// The profile called `name`.
    pub fn profile(&self, name: &str, path: &Path) -> Result<&Profile, ConfigError> {
        self.backends
            .get(name)
            .ok_or_else(|| ConfigError::UnknownBackend {
                name: name.into(),
                path: path.into(),
                known: self.backends.keys().cloned().collect::<Vec<_>>().join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commented_example_parses() -> Result<(), ConfigError> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/chainproof.yaml");
        let config = Config::load(&path)?;
        assert!(matches!(config.profile("local", &path)?, Profile::Local(_)));
        assert!(matches!(
            config.profile("lab-splunk", &path)?,
            Profile::Splunk(_)
        ));
        assert!(config.profile("nope", &path).is_err());
        Ok(())
    }

    #[test]
    fn errors_name_file_line_and_field() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.yaml");
        std::fs::write(
            &path,
            "backends:\n  s:\n    kind: splunk\n    url: https://x\n    auth: { type: bearer, token: { env: T } }\n    colour: red\n",
        )?;
        let err = Config::load(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        // A profile is tagged by `kind`, so the location is the profile's.
        assert!(
            err.contains("c.yaml:2:3: backends.s: unknown field `colour`"),
            "{err}"
        );
        std::fs::write(
            &path,
            "backends:\n  s:\n    kind: splunk\n    url: https://x\n    auth: { type: bearer, token: { env: T, file: /x } }\n",
        )?;
        let err = Config::load(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("backends.s:") && err.contains("exactly one"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn a_local_profile_refuses_unknown_fields() {
        let err = Config::parse(
            "backends:\n  l:\n    kind: local\n    url: https://x\n",
            Path::new("c.yaml"),
        )
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "load config c.yaml:2:3: backends.l: unknown field `url`, expected `alert_latency`"
            )
        );
        let ok = Config::parse("backends:\n  l: { kind: local }\n", Path::new("c.yaml"));
        assert!(ok.is_ok(), "{ok:?}");
    }

    /// Every profile takes `alert_latency`, whatever its kind; without it
    /// the backend's documented default holds.
    #[test]
    fn every_profile_has_an_alert_latency_with_a_default_per_backend() -> Result<(), ConfigError> {
        let path = Path::new("c.yaml");
        let config = Config::parse(
            "backends:\n  l: { kind: local }\n  q: { kind: local, alert_latency: 5s }\n  \
             a: { kind: auditd }\n  s:\n    kind: splunk\n    url: https://x\n    \
             auth: { type: bearer, token: { env: T } }\n  t:\n    kind: splunk\n    \
             alert_latency: 5m\n    url: https://x\n    auth: { type: bearer, token: { env: T } }\n",
            path,
        )?;
        let latency = |name: &str| config.profile(name, path).map(Profile::alert_latency);
        assert_eq!(latency("l")?, std::time::Duration::ZERO);
        assert_eq!(latency("q")?, std::time::Duration::from_secs(5));
        assert_eq!(latency("a")?, std::time::Duration::ZERO);
        assert_eq!(latency("s")?, std::time::Duration::from_secs(120));
        assert_eq!(latency("t")?, std::time::Duration::from_secs(300));
        let err = Config::parse(
            "backends:\n  l: { kind: local, alert_latency: soon }\n",
            path,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            err.starts_with("load config c.yaml:2:3: backends.l: alert_latency:"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn messages_read_after_failed_to_and_never_name_field_question_mark() {
        let err = |text: &str| {
            Config::parse(text, Path::new("c.yaml"))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let syntax = err("backends:\n  l:\n    kind: local\n   bad: [\n");
        assert!(syntax.starts_with("load config c.yaml:"), "{syntax}");
        assert!(!syntax.contains('?'), "{syntax}");
        let deep = err(&format!("backends: {}", "[".repeat(50_000)));
        assert_eq!(
            deep,
            "load config c.yaml:1:74: (document): nesting deeper than 64 levels \
             (the limit for any YAML file the harness reads)"
        );
    }
}
