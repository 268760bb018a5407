//! Running one scenario variant on this host: stage the artifact, deliver it,
//! open it, wait for the chain, record the ground truth, clean up.
//!
//! Owns the run's side effects and their undoing. Every run writes only in
//! its run directory (`<work root>/chainproof-<token>/`), journals what it
//! did before doing it, and cleans up on every path out — success, failure,
//! timeout, Ctrl-C. It knows nothing of backends or verdicts.

mod chain;
pub mod cleanup;
pub mod journal;
#[cfg(target_os = "linux")]
pub mod mount;
#[cfg(not(target_os = "linux"))]
#[path = "mount_other.rs"]
pub mod mount;
#[cfg(all(test, target_os = "linux"))]
mod mount_tests;
pub mod plan;
mod prepare;
pub(crate) mod residue;
mod serve;
pub mod truth;

use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::capture::Capture;
use crate::record::{FileTruth, GroundTruth, MountTruth, RunStatus, ScenarioRun, Timings};
use crate::scenario::template::Vars;
use crate::scenario::{Fidelity, Loaded, Platform, Variant};
use crate::stage;
use journal::{Entry, Journal};
use truth::OpenerMatch;

/// Settings for running scenarios.
#[derive(Debug, Clone)]
pub struct Options {
    /// Requested fidelity; `None` prefers emulated.
    pub fidelity: Option<Fidelity>,
    /// Where run directories are created.
    pub work_root: PathBuf,
    /// The journal.
    pub journal: Journal,
}

/// What happened before cleanup, accumulated as the run goes.
#[derive(Default)]
pub(super) struct State {
    workdir: PathBuf,
    artifact: Option<(PathBuf, Vec<(String, String)>)>,
    payloads: Vec<PathBuf>,
    /// The image, where it is mounted, and how.
    mount: Option<(PathBuf, PathBuf, &'static str)>,
    /// What unmounting takes: the mount point, or the image on Windows.
    mount_handle: Option<PathBuf>,
    opener: Option<OpenerMatchOwned>,
    warnings: Vec<String>,
    proof: Option<PathBuf>,
    /// When the opener was started.
    opened_at: Option<std::time::Instant>,
    /// When the chain was seen complete (before the grace period).
    settled_at: Option<std::time::Instant>,
}

pub(super) enum OpenerMatchOwned {
    Pid(u32, String),
    Image(String),
}

/// Runs the variant of `loaded` for this host. Never returns an error: what
/// goes wrong is recorded in the returned run's status and reason.
pub async fn run(
    loaded: &Loaded,
    opts: &Options,
    cancel: &mut watch::Receiver<bool>,
) -> ScenarioRun {
    let started_at = OffsetDateTime::now_utc();
    let token = crate::token::new();
    let mut record = empty_record(loaded, &token, started_at);
    let Some(platform) = Platform::current() else {
        return finish(
            record,
            RunStatus::NotApplicable,
            Some("unknown host platform".into()),
        );
    };
    record.platform = platform;
    let Some(variant) = loaded.scenario.variants.get(platform) else {
        return finish(
            record,
            RunStatus::NotApplicable,
            Some(format!("no {platform} variant")),
        );
    };
    let Some(fidelity) = variant.pick_fidelity(opts.fidelity) else {
        let want = opts
            .fidelity
            .map(|f| format!("{f:?}").to_lowercase())
            .unwrap_or_default();
        return finish(
            record,
            RunStatus::NotApplicable,
            Some(format!("the {platform} variant has no {want} opener")),
        );
    };
    record.fidelity = Some(fidelity);
    if let Some(why) = cannot_run(variant, fidelity) {
        return finish(record, RunStatus::NotApplicable, Some(why));
    }
    let workdir = opts.work_root.join(format!("chainproof-{token}"));
    let mut entry = Entry {
        token: token.clone(),
        scenario: loaded.scenario.id.clone(),
        workdir: workdir.clone(),
        mount_point: None,
        harness_pid: std::process::id(),
        harness_start_ticks: cleanup::start_ticks(std::process::id()),
        office_since_unix: None,
        registry_keys: Vec::new(),
    };
    if let Err(e) = opts.journal.write(&entry) {
        return finish(
            record,
            RunStatus::Failed,
            Some(format!("write the journal: {e}")),
        );
    }
    let began = std::time::Instant::now();
    let capture = Capture::start(&token);
    let mut state = State {
        workdir: workdir.clone(),
        ..State::default()
    };
    let outcome = tokio::select! {
        o = chain::execute(variant, fidelity, &token, &mut state, &opts.journal, &mut entry, &capture) => o,
        _ = crate::stop::requested(cancel) => Err((RunStatus::Interrupted, "interrupted by a signal".to_string())),
    };
    // Cleanup, in an order that lets each step succeed: unmount (the mount
    // daemon carries the token), end processes, then read what they left.
    let ended = std::time::Instant::now();
    let clean = cleanup::stop_all(&entry);
    let captured = capture.stop();
    let stages = stage::read_reports(&workdir.join(".stage-reports.jsonl"));
    let files = describe_files(&state);
    let removed = std::fs::remove_dir_all(&workdir);
    record.truth = GroundTruth {
        processes: truth::merge(captured.processes, &stages),
        files,
        mount: state.mount.as_ref().map(|(image, mp, method)| MountTruth {
            image: image.display().to_string(),
            mount_point: mp.display().to_string(),
            method: method.to_string(),
            unmounted: clean.unmounted
                && !mount::is_mounted(state.mount_handle.as_deref().unwrap_or(mp)),
        }),
        sources: sources(&captured.sources, !stages.is_empty()),
        warnings: state
            .warnings
            .iter()
            .chain(&captured.warnings)
            .chain(&clean.problems)
            .cloned()
            .collect(),
        removed_outside: clean.removed_outside.clone(),
    };
    if (removed.is_ok() || !workdir.exists()) && clean.problems.is_empty() {
        let _ = opts.journal.remove(&token);
    }
    record.hops = hops_of(variant, &token, &state, &record.truth);
    record.timings = Some(timings(&state, began, ended, std::time::Instant::now()));
    let (status, reason) = match outcome {
        Ok(()) => (RunStatus::Completed, None),
        Err((status, reason)) => (status, Some(reason)),
    };
    finish(record, status, reason)
}

/// The record of a scenario the suite never started because it was
/// stopped first: in the record as interrupted, with the reason, so the
/// report counts it instead of leaving it out.
pub fn not_started(loaded: &Loaded, reason: &str) -> ScenarioRun {
    let mut record = empty_record(loaded, &crate::token::new(), OffsetDateTime::now_utc());
    if let Some(platform) = Platform::current() {
        record.platform = platform;
    }
    finish(record, RunStatus::Interrupted, Some(reason.to_string()))
}

fn empty_record(loaded: &Loaded, token: &str, started_at: OffsetDateTime) -> ScenarioRun {
    use sha2::Digest;
    ScenarioRun {
        host: None,
        id: loaded.scenario.id.clone(),
        title: loaded.scenario.title.clone(),
        technique: loaded.scenario.technique.clone(),
        negative_control: loaded.scenario.expect.no_alert,
        source: loaded.source.path.display().to_string(),
        source_sha256: hex::encode(sha2::Sha256::digest(loaded.source.text.as_bytes())),
        platform: Platform::Linux,
        fidelity: None,
        token: token.to_string(),
        status: RunStatus::Completed,
        reason: None,
        started_at,
        finished_at: started_at,
        truth: GroundTruth::default(),
        hops: Vec::new(),
        timings: None,
        verification: None,
    }
}

fn finish(mut record: ScenarioRun, status: RunStatus, reason: Option<String>) -> ScenarioRun {
    record.status = status;
    record.reason = reason;
    record.finished_at = OffsetDateTime::now_utc();
    record
}

/// Why this host cannot run the variant at this fidelity, if it cannot.
fn cannot_run(variant: &Variant, fidelity: Fidelity) -> Option<String> {
    let real = variant
        .open
        .real
        .as_ref()
        .filter(|_| fidelity == Fidelity::Real)?;
    if real.profile == Some(crate::scenario::ProfileKind::OfficeTrustedLocation) && !cfg!(windows) {
        return Some("Microsoft Office's Trusted Locations exist only on Windows".into());
    }
    if let Some(missing) = real.requires.iter().find(|p| mount::which(p).is_none()) {
        return Some(format!("`{missing}` is not installed on this host"));
    }
    if real.mount {
        return mount::unavailable();
    }
    None
}

fn sources(capture: &[crate::capture::Source], stage: bool) -> Vec<String> {
    let mut all: Vec<String> = capture
        .iter()
        .map(|s| truth::source_name(*s).to_string())
        .collect();
    if stage {
        all.insert(0, "stage-report".into());
    }
    all
}

pub(super) fn vars(token: &str, workdir: &Path) -> Vars {
    let mut v = Vars::default();
    v.set("token", token)
        .set("workdir", workdir.display().to_string())
        .set("downloads", workdir.join("Downloads").display().to_string())
        .set("programs", workdir.join("program").display().to_string());
    v
}

/// Where a scenario's wall time went; `prepare_ms` and `cleanup_ms` are the
/// harness's own cost, `chain_ms` the chain's, `grace_ms` deliberate waiting.
fn timings(
    state: &State,
    began: std::time::Instant,
    ended: std::time::Instant,
    cleaned: std::time::Instant,
) -> Timings {
    let ms = |a: std::time::Instant, b: std::time::Instant| {
        u64::try_from(b.saturating_duration_since(a).as_millis()).unwrap_or(u64::MAX)
    };
    let opened = state.opened_at.unwrap_or(ended);
    let settled = state.settled_at.unwrap_or(ended);
    Timings {
        prepare_ms: ms(began, opened),
        chain_ms: ms(opened, settled),
        grace_ms: ms(settled, ended),
        cleanup_ms: ms(ended, cleaned),
    }
}

fn describe_files(state: &State) -> Vec<FileTruth> {
    let mut files = Vec::new();
    if let Some((path, marks)) = &state.artifact {
        files.extend(truth::file_truth(path, "artifact", marks));
    }
    for p in &state.payloads {
        files.extend(truth::file_truth(p, "payload", &[]));
    }
    if let Some(p) = &state.proof {
        files.extend(truth::file_truth(p, "proof", &[]));
    }
    files
}

fn hops_of(
    variant: &Variant,
    token: &str,
    state: &State,
    truth: &GroundTruth,
) -> Vec<crate::record::HopTruth> {
    let mut vars = vars(token, &state.workdir);
    if let Some((path, _)) = &state.artifact {
        vars.set("artifact", path.display().to_string());
    }
    if let Some((_, mp, _)) = &state.mount {
        vars.set("mount", chain::mount_var(mp));
    }
    let chain: Vec<Vec<String>> = variant
        .chain
        .iter()
        .map(|s| vars.render_all(&s.run).unwrap_or_else(|_| s.run.clone()))
        .collect();
    let name = vars
        .render(&variant.artifact.name)
        .unwrap_or_else(|_| variant.artifact.name.clone());
    let artifact = truth.files.iter().find(|f| f.role == "artifact");
    let opener = match &state.opener {
        Some(OpenerMatchOwned::Pid(pid, name)) => OpenerMatch::Pid(*pid, name),
        Some(OpenerMatchOwned::Image(pattern)) => OpenerMatch::Image(pattern),
        None => match (&variant.open.emulated, &variant.open.real) {
            (Some(e), _) => OpenerMatch::Image(&e.as_name),
            (None, Some(r)) => OpenerMatch::Image(&r.image),
            (None, None) => OpenerMatch::Image(""),
        },
    };
    truth::hops(&name, artifact, opener, &chain, &truth.processes)
}
