//! The gate policy file (`ci/gate-policy.yaml`): what counts as a regression
//! and which coverage floors the current run must meet.
//!
//! Parsing only; no comparison lives here. Every field is optional, and an
//! empty file is the default policy. Errors name the file, the line and column
//! and the field, like scenario errors do.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use crate::intake::yaml::YamlError;

/// What to do with a cell the policy does not know how to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Count it as a regression.
    #[default]
    Fail,
    /// Leave it out of the comparison.
    Ignore,
}

/// A share between 0 and 1 inclusive; refused at parse time when outside.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Fraction(f64);

impl Fraction {
    /// `value` as a fraction, or `None` when it is not within `0..=1` (or NaN).
    pub fn new(value: f64) -> Option<Fraction> {
        (0.0..=1.0).contains(&value).then_some(Fraction(value))
    }

    /// The share, within `0..=1`.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        Fraction::new(value).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{value} is not a fraction between 0 and 1 (write 0.8, not 80)"
            ))
        })
    }
}

/// How `chainproof gate` judges a current run against a baseline.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Least share of measured chains whose verdict is `alerted`.
    pub min_alerted_chains: Option<Fraction>,
    /// Least share of measured hops whose verdict is `observed` or `alerted`.
    pub min_observed_hops: Option<Fraction>,
    /// A current cell that is `inconclusive`, `not-applicable` or unverified:
    /// a regression (`fail`, the default, so a broken backend cannot pass the
    /// gate) or left out (`ignore`).
    pub inconclusive: Action,
    /// Whether a scenario absent from the baseline may appear in the current run.
    pub allow_new_scenarios: bool,
    /// A scenario (or hop) of the baseline absent from the current run: a
    /// regression (`fail`, the default) or left out (`ignore`).
    pub missing_scenarios: Action,
    /// Scenario ids left out of the comparison and the thresholds.
    pub ignore: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_alerted_chains: None,
            min_observed_hops: None,
            inconclusive: Action::Fail,
            allow_new_scenarios: true,
            missing_scenarios: Action::Fail,
            ignore: Vec::new(),
        }
    }
}

/// Why a gate policy could not be loaded; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The file could not be read.
    #[error("read gate policy {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file was refused before parsing (not a regular file, too
    /// large, not UTF-8; see [`crate::intake`]).
    #[error("read gate policy {}", source.path().display())]
    Refused {
        /// Why.
        #[source]
        source: crate::intake::IntakeError,
    },
    /// The file is not a valid policy.
    #[error("load gate policy {0}")]
    Invalid(YamlError),
}

/// Reads and parses the policy file at `path`.
pub fn load_policy(path: &Path) -> Result<Policy, GateError> {
    let text = crate::intake::read_text(path, crate::intake::Kind::Policy)
        .map_err(|source| GateError::Refused { source })?;
    parse_policy(&text, path)
}

/// Parses policy `text`; `path` only names the file in errors.
pub fn parse_policy(text: &str, path: &Path) -> Result<Policy, GateError> {
    // A file of comments only is a valid, default policy; the YAML parser
    // would call it an empty document.
    let blank = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if blank {
        return Ok(Policy::default());
    }
    crate::intake::yaml::parse(text, path).map_err(|mut e| {
        // A value refused by `Fraction` is reported at the document's start;
        // the policy is flat, so the field's key line is never wrong and an
        // error is never before it.
        let key = e.field.split(['.', '[']).next().unwrap_or_default();
        if let Some(key_line) = key_line(text, key)
            && e.line.is_none_or(|l| l < key_line)
        {
            (e.line, e.column) = (Some(key_line), None);
        }
        GateError::Invalid(e)
    })
}

/// 1-based line of top-level `key:` in `text`.
fn key_line(text: &str, key: &str) -> Option<usize> {
    if key.is_empty() || key.starts_with('(') {
        return None;
    }
    let needle = format!("{key}:");
    text.lines()
        .position(|l| l.starts_with(&needle))
        .map(|i| i + 1)
}
