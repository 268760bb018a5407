//! Running one scenario variant on this host: stage the artifact, deliver it,
//! open it, wait for the chain, record the ground truth, clean up.
//!
//! Owns the run's side effects and their undoing. Every run writes only in
//! its run directory (`<work root>/chainproof-<token>/`), journals what it
//! did before doing it, and cleans up on every path out — success, failure,
//! timeout, Ctrl-C. It knows nothing of backends or verdicts.

mod chain;
pub mod cleanup;
mod deliver;
mod end;
pub mod journal;
#[cfg(all(test, target_os = "linux"))]
mod mount_tests;
pub mod plan;
mod prepare;
pub(crate) mod residue;
mod serve;
pub mod truth;

use std::path::PathBuf;

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::capture::Capture;
use crate::platform::effects;
use crate::record::{GroundTruth, RunStatus, ScenarioRun, Timings};
use crate::scenario::Loaded;
use crate::scenario::template::Vars;
use crate::vocab::{Fidelity, Platform};
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
    /// The lab's mail server (`host:port`) a delivery by email sends to;
    /// `None`: a loopback listener per message.
    pub mail_server: Option<String>,
}

/// What happened before cleanup, accumulated as the run goes.
#[derive(Default)]
pub(super) struct State {
    workdir: PathBuf,
    /// The template variables, as planned and then as learnt (a drive letter).
    vars: Vars,
    /// The artifact's bytes, between building and delivering them.
    bytes: Option<Vec<u8>>,
    /// The loopback server, between serving and downloading.
    server: Option<serve::Server>,
    /// Where the download came from: its URL and referrer.
    origin: Option<(String, String)>,
    artifact: Option<(PathBuf, Vec<(String, String)>)>,
    payloads: Vec<PathBuf>,
    /// The image, where it is mounted, and how.
    mount: Option<(PathBuf, PathBuf, &'static str)>,
    opener: Option<OpenerMatchOwned>,
    /// The opener, once started.
    child: Option<tokio::process::Child>,
    warnings: Vec<String>,
    /// When the opener was started.
    opened_at: Option<std::time::Instant>,
    /// When the chain was seen complete (before the grace period).
    settled_at: Option<std::time::Instant>,
    /// The message that delivered the artifact.
    mail: Option<crate::record::MailTruth>,
    /// The member a real archive tool extracted, and the tool.
    extracted: Option<(PathBuf, String)>,
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
    let workdir = opts.work_root.join(format!("chainproof-{token}"));
    let planned = plan::make(
        &loaded.scenario,
        platform,
        opts.fidelity,
        &token,
        &workdir.display().to_string(),
        &user_name(),
    );
    let plan = match planned {
        Ok(p) => p.with_mail_server(opts.mail_server.as_deref()),
        Err(skip) => return skipped(record, skip, platform, opts.fidelity),
    };
    record.fidelity = Some(plan.fidelity);
    if let Some(why) = cannot_run(&plan) {
        return finish(record, RunStatus::NotApplicable, Some(why));
    }
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
        workdir,
        vars: plan.vars.clone(),
        warnings: plan.warnings.clone(),
        ..State::default()
    };
    let mut run = chain::Run {
        plan: &plan,
        journal: &opts.journal,
        entry: &mut entry,
        capture: &capture,
        state: &mut state,
    };
    let outcome = tokio::select! {
        o = run.execute() => o,
        _ = crate::stop::requested(cancel) => Err((RunStatus::Interrupted, "interrupted by a signal".to_string())),
    };
    let ended = std::time::Instant::now();
    // The finishing steps run on every path out.
    record.truth = end::finish(&plan, &entry, &opts.journal, capture, &mut state);
    record.hops = hops_of(&plan, &state, &record.truth);
    record.timings = Some(timings(&state, began, ended, std::time::Instant::now()));
    let (status, reason) = match outcome {
        Ok(()) => (RunStatus::Completed, None),
        Err((status, reason)) => (status, Some(reason)),
    };
    finish(record, status, reason)
}

/// This process's user's login name (some applications put it in their
/// folders' names).
fn user_name() -> String {
    use crate::platform::host;
    host::user_name(host::uid()).unwrap_or_else(|| host::uid().to_string())
}

/// The record of a variant the plan says cannot run here.
fn skipped(
    mut record: ScenarioRun,
    skip: plan::Skip,
    platform: Platform,
    wanted: Option<Fidelity>,
) -> ScenarioRun {
    let (status, why) = match skip {
        plan::Skip::NoVariant => (RunStatus::NotApplicable, format!("no {platform} variant")),
        plan::Skip::NoOpener(_) => {
            let want = wanted
                .map(|f| format!("{f:?}").to_lowercase())
                .unwrap_or_default();
            (
                RunStatus::NotApplicable,
                format!("the {platform} variant has no {want} opener"),
            )
        }
        plan::Skip::NotHere(fidelity, why) => {
            record.fidelity = Some(fidelity);
            (RunStatus::NotApplicable, why)
        }
        plan::Skip::Invalid(fidelity, why) => {
            record.fidelity = Some(fidelity);
            (RunStatus::Failed, why)
        }
    };
    finish(record, status, Some(why))
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

/// Why this host cannot run the plan, if it cannot: what the plan needs
/// that is not installed here. Probing the host is the runner's, not the
/// plan's.
fn cannot_run(plan: &plan::Plan) -> Option<String> {
    if let Some(missing) = plan.requires.iter().find(|p| effects::which(p).is_none()) {
        return Some(format!("`{missing}` is not installed on this host"));
    }
    if plan.mount().is_some() {
        return effects::this_host().mount_unavailable();
    }
    None
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

fn hops_of(plan: &plan::Plan, state: &State, truth: &GroundTruth) -> Vec<crate::record::HopTruth> {
    let name = plan.artifact().map(|a| a.name.as_str()).unwrap_or_default();
    let artifact = truth.files.iter().find(|f| f.role == "artifact");
    let opener = match &state.opener {
        Some(OpenerMatchOwned::Pid(pid, name)) => OpenerMatch::Pid(*pid, name),
        Some(OpenerMatchOwned::Image(pattern)) => OpenerMatch::Image(pattern),
        None => OpenerMatch::Image(&plan.opener),
    };
    let by_mail = plan
        .steps
        .iter()
        .any(|s| matches!(s, plan::Step::SendMail(_)));
    let message_id = truth.mail.as_ref().map_or("", |m| m.message_id.as_str());
    let message = by_mail.then(|| (truth.files.iter().find(|f| f.role == "message"), message_id));
    truth::hops(
        name,
        artifact,
        message,
        opener,
        &plan.chain,
        &truth.processes,
    )
}
