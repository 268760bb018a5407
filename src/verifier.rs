//! The one place that turns "which backend, which rules" into a checked
//! backend and the rule set a record names. Every command that verifies
//! (`run`, a remote run's controller, `verify`, each scheduled run) comes
//! through here, so the rule set is computed once, the same way.
//!
//! This module is also the only user of the backend's construction API
//! (`AnyBackend::chosen`, `rule_set`, `check`, `Recorded::load`,
//! `Profile::build`): a change there is adapted here and nowhere else.

use std::path::{Path, PathBuf};

use tokio::sync::watch;

use crate::backend::{AnyBackend, BackendError};
use crate::config::{Config, Profile};
use crate::detect::Rules;
use crate::progress::Progress;
use crate::record::RuleSet;

/// Why no checked backend could be had. Each knows its documented exit code.
#[derive(Debug, thiserror::Error)]
pub enum VerifierError {
    /// The config file names no such profile, or is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A backend other than `local` and `auditd` named without a config.
    #[error(
        "backend `{name}` needs --config FILE naming its profile (only local and auditd have \
         defaults)"
    )]
    BackendNeedsConfig {
        /// The backend named.
        name: String,
    },
    /// Rules that do not load.
    #[error(transparent)]
    Rules(#[from] crate::detect::DetectError),
    /// The backend cannot be built or does not answer its check.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// A stop signal arrived during the backend check: nothing has run.
    #[error("run the suite: a stop signal arrived during the backend check; nothing was run")]
    Interrupted,
}

impl VerifierError {
    /// The documented exit code: bad input is 2, a stop 130, a backend
    /// that does not answer 3.
    pub fn exit_code(&self) -> u8 {
        match self {
            VerifierError::Config(_)
            | VerifierError::BackendNeedsConfig { .. }
            | VerifierError::Rules(_) => crate::exit::INVALID,
            VerifierError::Interrupted => crate::exit::INTERRUPTED,
            VerifierError::Backend(_) => crate::exit::RUNTIME,
        }
    }
}

/// The backend profile named on the command line (with its name), or
/// `None` for the embedded `local` backend.
pub type Chosen = Option<(String, Profile)>;

/// What verifies: the backend profile and the rule folders.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    /// The profile; `None` is `local`.
    pub profile: Chosen,
    /// Sigma rule folders; empty means the shipped rules.
    pub rules: Vec<PathBuf>,
    /// Recorded telemetry to verify against instead of a backend (`verify
    /// --telemetry`); only with the `local` profile.
    pub telemetry: Vec<PathBuf>,
    /// The backend will judge runs about to happen on this host, so its
    /// sensor's prerequisites are checked too (for `auditd`, the audit
    /// rules loaded): a sensor that cannot see the chains must stop the
    /// run, not report every hop `missed` after the deadline.
    pub before_runs: bool,
}

/// A built and checked backend and the rule set it alerts with.
#[derive(Debug)]
pub struct Verifier {
    /// The backend, checked.
    pub backend: AnyBackend,
    /// What the record names as its alerting content.
    pub rule_set: RuleSet,
    /// The quiet window negative controls are judged with: the profile's
    /// `alert_latency`, or the backend's documented default.
    pub alert_latency: std::time::Duration,
    /// What each loaded Sigma rule needs of an event's fields, to name the
    /// rules that can never fire on the backend's data
    /// ([`crate::verify::visibility::blind`]).
    pub needs: Vec<crate::detect::needs::Needs>,
}

impl Verifier {
    /// `polling` with this verifier's quiet window, unless it names one.
    pub fn polling(&self, polling: &crate::verify::Polling) -> crate::verify::Polling {
        crate::verify::Polling {
            alert_latency: polling.alert_latency.or(Some(self.alert_latency)),
            ..*polling
        }
    }
}

/// The profile called `name` (from `config` when given). `local` and
/// `auditd` work without a config file, with their defaults.
pub fn profile(
    config: Option<(&Path, &Config)>,
    name: Option<&str>,
) -> Result<Chosen, VerifierError> {
    let ((path, cfg), name) = match (config, name) {
        (_, None) | (None, Some("local")) => return Ok(None),
        (None, Some("auditd")) => {
            let default = Profile::Auditd(crate::backend::Tuned::new(
                crate::backend::auditd::AuditdConfig::default(),
            ));
            return Ok(Some(("auditd".into(), default)));
        }
        (None, Some(other)) => {
            return Err(VerifierError::BackendNeedsConfig { name: other.into() });
        }
        (Some(c), Some(name)) => (c, name),
    };
    let p = cfg.profile(name, path)?;
    Ok(Some((name.to_string(), p.clone())))
}

/// Whether `chosen` reads this host's own audit log (so it cannot verify
/// runs on other hosts).
pub fn is_auditd(chosen: &Chosen) -> Option<&str> {
    match chosen {
        Some((name, Profile::Auditd(_))) => Some(name),
        _ => None,
    }
}

/// Loads the rule folders (the shipped rules when empty), telling
/// `progress` how far parsing got and what was refused.
pub fn load_rules(dirs: &[PathBuf], progress: &dyn Progress) -> Result<Rules, VerifierError> {
    let rules = Rules::load_watched(dirs, false, &mut |done, total| {
        progress.rules_parsed(done, total);
    })?;
    progress.rules(&rules);
    Ok(rules)
}

/// Builds the backend of profile `name` with the shipped rules and checks
/// that it answers and its credentials work (`backends check`).
pub async fn check_profile(name: &str, profile: &Profile) -> Result<(), BackendError> {
    let rules =
        Rules::load(&[]).map_err(|e| BackendError::config(name.to_string(), e.to_string()))?;
    profile.build(name, rules)?.check().await
}

impl Choice {
    /// Loads the rules, builds the backend and checks it. `stop` ends the
    /// check (which may run a command backend's program) with
    /// [`VerifierError::Interrupted`]: nothing has run yet.
    pub async fn ready(
        &self,
        progress: &dyn Progress,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<Verifier, VerifierError> {
        let rules = load_rules(&self.rules, progress)?;
        self.check(rules, progress, stop).await
    }

    /// Builds the backend from already loaded `rules` and checks it;
    /// before runs, also its sensor's prerequisites, told to `progress`.
    pub async fn check(
        &self,
        rules: Rules,
        progress: &dyn Progress,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<Verifier, VerifierError> {
        // With a remote backend the alerting layer is the SIEM's own content.
        let rule_set = AnyBackend::rule_set(self.profile.as_ref(), &rules);
        let needs = rules.needs().to_vec();
        let backend = match &self.profile {
            None if !self.telemetry.is_empty() => AnyBackend::Recorded(Box::new(
                crate::backend::recorded::Recorded::load(&self.telemetry, rules)?,
            )),
            _ => AnyBackend::chosen(self.profile.as_ref(), rules)?,
        };
        // Bad credentials must stop the run, not turn every cell inconclusive.
        tokio::select! {
            checked = backend.check() => checked?,
            () = crate::stop::requested(stop) => return Err(VerifierError::Interrupted),
        }
        if *stop.borrow() {
            return Err(VerifierError::Interrupted);
        }
        if self.before_runs {
            let verified = backend.prerequisites().await?;
            progress.prerequisites(backend.name(), &verified);
        }
        let alert_latency = self
            .profile
            .as_ref()
            .map_or(backend.alert_latency(), |(_, p)| p.alert_latency());
        Ok(Verifier {
            backend,
            rule_set,
            alert_latency,
            needs,
        })
    }
}
