//! The library's entry point: a [`Request`] (what a command line or any
//! other caller asks for) is [`prepare`]d into a checked [`Prepared`] plan,
//! which [`execute`] runs on this host (through [`crate::suite`]) or on
//! targets (through [`crate::remote`]); [`reverify`] judges a recorded run
//! again through the same steps.
//!
//! Preparing does, in this order and before anything runs: read the config
//! once; apply the lab guard ([`guard`], a safety policy no caller can
//! skip); load and select the scenarios; choose the backend profile; load
//! the rules once and compute the rule set ([`verifier`], the one place);
//! build the backend and check it. Cancellation (a
//! [`watch::Receiver<bool>`]) and progress (a [`Progress`] trait object)
//! are values the caller passes in: this module installs no signal handler
//! and keeps no global state.
//!
//! It must not print: errors are [`PipelineError`] values with their exit
//! codes, progress goes to the caller's [`Progress`].

mod error;
pub mod guard;
mod reverify;
mod targets;

use std::path::{Path, PathBuf};

use tokio::sync::watch;

pub use crate::progress::{Progress, Silent};
use crate::verifier;
pub use crate::verifier::{Choice, Verifier};
pub use error::PipelineError;
pub use guard::Occasion;
pub use reverify::{Reverified, ReverifyRequest, reverify};
pub use targets::{Fleet, FleetOutcome};

use crate::config::Config;
use crate::scenario::Loaded;
use crate::suite::{Outcome, Settings};
use crate::verify::Polling;
use crate::vocab::Fidelity;

/// What to run, where, and how to verify it: the command line's arguments
/// as data.
#[derive(Debug, Clone)]
pub struct Request {
    /// Scenario ids to run; empty means every loaded scenario.
    pub scenario_ids: Vec<String>,
    /// Scenario files or folders; empty means the built-in set.
    pub scenario_paths: Vec<PathBuf>,
    /// Sigma rule folders; empty means the shipped rules.
    pub rules: Vec<PathBuf>,
    /// Requested fidelity.
    pub fidelity: Option<Fidelity>,
    /// The config file (backend profiles, the lab allow-list).
    pub config: Option<PathBuf>,
    /// The backend profile's name; `None` is `local`.
    pub backend: Option<String>,
    /// Reports root (the journal lives in `<reports>/.journal`).
    pub reports: PathBuf,
    /// Where run directories are created (default: the system temp folder).
    pub work_root: Option<PathBuf>,
    /// How long to poll a backend.
    pub polling: Polling,
    /// Also write the backend's telemetry as `telemetry.jsonl`.
    pub record: bool,
    /// Sign the evidence bundle's manifest with this OpenSSH Ed25519 key.
    pub sign: Option<PathBuf>,
    /// This host, or targets.
    pub place: Place,
}

/// Where the scenarios run.
#[derive(Debug, Clone)]
pub enum Place {
    /// On this host; the occasion decides how strict the lab guard is.
    Here(Occasion),
    /// On other hosts through OpenSSH, verified here.
    Targets(Fleet),
}

/// A checked plan: everything read, guarded, loaded and (except for a
/// schedule, which checks its backend at each run) built and checked.
#[derive(Debug)]
pub struct Prepared {
    /// What the suite runs: scenarios, folders, polling, evidence.
    pub settings: Settings,
    /// The backend profile and rule folders.
    pub choice: Choice,
    /// The checked backend; `None` for a schedule, whose runs build their own.
    pub verifier: Option<Verifier>,
    /// Targets, when the plan runs on them.
    targets: Option<targets::Plan>,
}

/// What [`execute`] did.
#[derive(Debug)]
pub enum Executed {
    /// The suite on this host.
    Here(Outcome),
    /// The suite on targets.
    Targets(FleetOutcome),
}

/// The config file of a request, read once.
type ConfigFile = Option<(PathBuf, Config)>;

fn read_config(path: Option<&Path>) -> Result<ConfigFile, PipelineError> {
    match path {
        None => Ok(None),
        Some(p) => Ok(Some((p.to_path_buf(), Config::load(p)?))),
    }
}

fn config_ref(config: &ConfigFile) -> Option<(&Path, &Config)> {
    config.as_ref().map(|(p, c)| (p.as_path(), c))
}

/// Loads the scenarios of `paths` and keeps those of `ids` (all when empty).
pub fn scenarios(paths: &[PathBuf], ids: &[String]) -> Result<Vec<Loaded>, PipelineError> {
    let mut loaded = crate::scenario::load_paths(paths).map_err(PipelineError::Scenarios)?;
    for id in ids {
        if !loaded.iter().any(|l| &l.scenario.id == id) {
            return Err(PipelineError::UnknownScenario {
                id: id.clone(),
                known: loaded.iter().map(|l| l.scenario.id.clone()).collect(),
            });
        }
    }
    if !ids.is_empty() {
        loaded.retain(|l| ids.contains(&l.scenario.id));
    }
    Ok(loaded)
}

/// An absolute form of `p` (relative to the working directory), so the
/// journal and every template stay valid from any working directory (the
/// opener runs in the download folder).
pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Prepares `request`: see the module doc for the order. `stop` ends the
/// backend check with [`PipelineError::Interrupted`].
pub async fn prepare(
    request: Request,
    progress: &dyn Progress,
    stop: &mut watch::Receiver<bool>,
) -> Result<Prepared, PipelineError> {
    let config = read_config(request.config.as_deref())?;
    let (occasion, targets) = match &request.place {
        Place::Here(occasion) => (Some(*occasion), None),
        Place::Targets(fleet) => (None, Some(targets::plan(fleet, config_ref(&config))?)),
    };
    if let Some(occasion) = occasion {
        let host = crate::platform::host::hostname();
        guard::this_host(config_ref(&config), occasion, &host)?;
    }
    let loaded = scenarios(&request.scenario_paths, &request.scenario_ids)?;
    let profile = verifier::profile(config_ref(&config), request.backend.as_deref())?;
    if targets.is_some()
        && let Some(name) = verifier::is_auditd(&profile)
    {
        return Err(PipelineError::AuditdForTargets { name: name.into() });
    }
    let choice = Choice {
        profile,
        rules: request.rules.clone(),
        telemetry: Vec::new(),
        before_runs: occasion.is_some(),
    };
    let rules = verifier::load_rules(&choice.rules, progress)?;
    let verifier = match occasion {
        // Each scheduled run checks the backend itself (a failed check is
        // that run's failure, not the service's); the rules were checked.
        Some(Occasion::Scheduled) => None,
        _ => Some(choice.check(rules, progress, stop).await?),
    };
    let settings = Settings {
        scenarios: loaded,
        fidelity: request.fidelity,
        reports: absolute(&request.reports),
        work_root: absolute(&request.work_root.clone().unwrap_or_else(std::env::temp_dir)),
        mail_server: config_ref(&config)
            .and_then(|(_, c)| c.lab.as_ref())
            .and_then(|l| l.mail_server.clone()),
        record: request.record,
        sign: request.sign.clone(),
        polling: request.polling,
    };
    Ok(Prepared {
        settings,
        choice,
        verifier,
        targets: targets.map(|t| t.with(&request)),
    })
}

/// Runs a prepared plan: the suite on this host, or on every target with
/// each fetched record verified here. `stop` turns `true` to stop: the
/// scenario (or the targets' runs) in progress are cleaned up, nothing
/// new starts, and what ran is still written.
///
/// On targets, the sessions run on threads of their own and this future
/// blocks its thread until they end; call it from `Runtime::block_on` on a
/// multi-threaded runtime (as the CLI does), whose workers keep serving
/// the signal listener meanwhile.
pub async fn execute(
    prepared: Prepared,
    progress: &dyn Progress,
    mut stop: watch::Receiver<bool>,
) -> Result<Executed, PipelineError> {
    let Prepared {
        settings,
        choice,
        verifier,
        targets,
    } = prepared;
    let verifier = match verifier {
        Some(v) => v,
        None => choice.ready(progress, &mut stop).await?,
    };
    match targets {
        None => Ok(Executed::Here(
            crate::suite::run(settings, verifier, progress, stop).await?,
        )),
        Some(plan) => Ok(Executed::Targets(
            targets::run(plan, &settings, &verifier, progress, stop).await?,
        )),
    }
}

/// The scenarios a request selects and, with targets, the targets the lab
/// guard allows (resolved with `ssh -G`, never contacted): what `run
/// --dry-run` shows. Nothing is built or checked.
pub fn dry_run(
    request: &Request,
) -> Result<(Vec<Loaded>, Vec<crate::remote::target::Target>), PipelineError> {
    let loaded = scenarios(&request.scenario_paths, &request.scenario_ids)?;
    let Place::Targets(fleet) = &request.place else {
        return Ok((loaded, Vec::new()));
    };
    let config = read_config(request.config.as_deref())?;
    let plan = targets::plan(fleet, config_ref(&config))?;
    Ok((loaded, plan.targets))
}

#[cfg(test)]
mod tests;
