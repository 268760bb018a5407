//! Running one scenario variant on this host: stage the artifact, deliver it,
//! open it, wait for the chain, record the ground truth, clean up.
//!
//! Owns the run's side effects and their undoing. Every run writes only in
//! its run directory (`<work root>/chainproof-<token>/`), journals what it
//! did before doing it, and cleans up on every path out — success, failure,
//! timeout, Ctrl-C. It knows nothing of backends or verdicts.

pub mod cleanup;
pub mod journal;
pub mod mount;
pub mod plan;
mod prepare;
mod serve;
pub mod truth;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::capture::Capture;
use crate::record::{FileTruth, GroundTruth, MountTruth, RunStatus, ScenarioRun};
use crate::scenario::template::Vars;
use crate::scenario::{Fidelity, Loaded, Platform, Variant, Via};
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
struct State {
    workdir: PathBuf,
    artifact: Option<(PathBuf, Vec<(String, String)>)>,
    payloads: Vec<PathBuf>,
    mount: Option<(PathBuf, PathBuf, &'static str)>,
    opener: Option<OpenerMatchOwned>,
    warnings: Vec<String>,
    proof: Option<PathBuf>,
}

enum OpenerMatchOwned {
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
    };
    if let Err(e) = opts.journal.write(&entry) {
        return finish(
            record,
            RunStatus::Failed,
            Some(format!("write the journal: {e}")),
        );
    }
    let capture = Capture::start(&token);
    let mut state = State {
        workdir: workdir.clone(),
        ..State::default()
    };
    let outcome = tokio::select! {
        o = execute(variant, fidelity, &token, &mut state, &opts.journal, &mut entry, &capture) => o,
        _ = cancelled(cancel) => Err((RunStatus::Interrupted, "interrupted by a signal".to_string())),
    };
    // Cleanup, in an order that lets each step succeed: unmount (the mount
    // daemon carries the token), end processes, then read what they left.
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
            unmounted: clean.unmounted && !mount::is_mounted(mp),
        }),
        sources: sources(&captured.sources, !stages.is_empty()),
        warnings: state
            .warnings
            .iter()
            .chain(&captured.warnings)
            .chain(&clean.problems)
            .cloned()
            .collect(),
    };
    if removed.is_ok() || !workdir.exists() {
        let _ = opts.journal.remove(&token);
    }
    record.hops = hops_of(variant, &token, &state, &record.truth);
    let (status, reason) = match outcome {
        Ok(()) => (RunStatus::Completed, None),
        Err((status, reason)) => (status, Some(reason)),
    };
    finish(record, status, reason)
}

async fn cancelled(cancel: &mut watch::Receiver<bool>) {
    while !*cancel.borrow() {
        if cancel.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

fn empty_record(loaded: &Loaded, token: &str, started_at: OffsetDateTime) -> ScenarioRun {
    use sha2::Digest;
    ScenarioRun {
        id: loaded.scenario.id.clone(),
        title: loaded.scenario.title.clone(),
        technique: loaded.scenario.technique.clone(),
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
    if !variant.artifact.kind.buildable_on_this_build() {
        return Some(format!(
            "`{}` artifacts are not built on this platform",
            variant.artifact.kind.extension()
        ));
    }
    let real = variant
        .open
        .real
        .as_ref()
        .filter(|_| fidelity == Fidelity::Real)?;
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

fn vars(token: &str, workdir: &Path) -> Vars {
    let mut v = Vars::default();
    v.set("token", token)
        .set("workdir", workdir.display().to_string())
        .set("downloads", workdir.join("Downloads").display().to_string());
    v
}

type Failure = (RunStatus, String);

fn failed(reason: impl Into<String>) -> Failure {
    (RunStatus::Failed, reason.into())
}

async fn execute(
    variant: &Variant,
    fidelity: Fidelity,
    token: &str,
    state: &mut State,
    journal: &Journal,
    entry: &mut Entry,
    capture: &Capture,
) -> Result<(), Failure> {
    let workdir = state.workdir.clone();
    let downloads = workdir.join("Downloads");
    std::fs::create_dir_all(&downloads)
        .map_err(|e| failed(format!("create {}: {e}", downloads.display())))?;
    let mut vars = vars(token, &workdir);
    let chain0 = vars.render_all(&variant.chain[0].run).map_err(failed)?;
    let name = vars.render(&variant.artifact.name).map_err(failed)?;
    let bytes = prepare::artifact_bytes(&variant.artifact, &vars, &chain0).map_err(failed)?;
    let path = match variant.delivery.via {
        Via::Http => {
            let d = serve::download(bytes, &name, &downloads)
                .await
                .map_err(failed)?;
            let marks = if variant.delivery.mark_origin {
                serve::mark_origin(&d.path, &d.url, &d.referrer).unwrap_or_else(|e| {
                    state.warnings.push(e);
                    Vec::new()
                })
            } else {
                Vec::new()
            };
            state.artifact = Some((d.path.clone(), marks));
            d.path
        }
        Via::Copy => {
            let p = downloads.join(&name);
            std::fs::write(&p, &bytes)
                .map_err(|e| failed(format!("write {}: {e}", p.display())))?;
            state.artifact = Some((p.clone(), Vec::new()));
            p
        }
    };
    vars.set("artifact", path.display().to_string());
    state.payloads = prepare::stage_files(variant, &vars, &workdir).map_err(failed)?;
    state.proof = variant
        .proof
        .as_ref()
        .map(|p| vars.render(p).map(PathBuf::from))
        .transpose()
        .map_err(failed)?;
    let report = workdir.join(".stage-reports.jsonl");
    let mut cmd = match fidelity {
        Fidelity::Emulated => {
            let e = variant
                .open
                .emulated
                .as_ref()
                .ok_or_else(|| failed("no emulated opener"))?;
            let exe = prepare::emulated_opener(&workdir, &e.as_name).map_err(failed)?;
            let mut c = tokio::process::Command::new(&exe);
            c.arg0(&e.as_name)
                .args(vars.render_all(&e.args).map_err(failed)?);
            c
        }
        Fidelity::Real => {
            let r = variant
                .open
                .real
                .as_ref()
                .ok_or_else(|| failed("no real opener"))?;
            if r.mount {
                let mp = workdir.join("media").join(prepare::mount_dir(&name));
                entry.mount_point = Some(mp.clone());
                journal
                    .write(entry)
                    .map_err(|e| failed(format!("write the journal: {e}")))?;
                let method =
                    mount::mount(&path, &mp, &[(stage::ENV_TOKEN, token)]).map_err(failed)?;
                state.mount = Some((path.clone(), mp.clone(), method.name()));
                vars.set("mount", mp.display().to_string());
            }
            if r.profile.is_some() {
                let profile = workdir.join("profile");
                crate::artifact::odt::write_throwaway_profile(&profile)
                    .map_err(|e| failed(e.to_string()))?;
                vars.set("profile", profile.display().to_string());
            }
            let argv = vars.render_all(&r.command).map_err(failed)?;
            let mut c = tokio::process::Command::new(&argv[0]);
            c.args(&argv[1..]);
            if r.profile.is_some() {
                // Keep the application's caches and settings out of the user's home.
                let home = workdir.join("home");
                std::fs::create_dir_all(&home).map_err(|e| failed(e.to_string()))?;
                c.env("HOME", &home)
                    .env("XDG_CONFIG_HOME", home.join(".config"))
                    .env("XDG_CACHE_HOME", home.join(".cache"));
            }
            c
        }
    };
    let log =
        std::fs::File::create(workdir.join("opener.log")).map_err(|e| failed(e.to_string()))?;
    let log2 = log.try_clone().map_err(|e| failed(e.to_string()))?;
    cmd.current_dir(&downloads)
        .env(stage::ENV_TOKEN, token)
        .env(stage::ENV_REPORT, &report)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .process_group(0)
        .kill_on_drop(false);
    let mut child = cmd
        .spawn()
        .map_err(|e| failed(format!("start the opener: {e}")))?;
    let pid = child.id().unwrap_or_default();
    capture.add_root(pid);
    state.opener = Some(
        match (fidelity, &variant.open.emulated, &variant.open.real) {
            (Fidelity::Emulated, Some(e), _) => OpenerMatchOwned::Pid(pid, e.as_name.clone()),
            (_, _, Some(r)) => OpenerMatchOwned::Image(r.image.clone()),
            _ => OpenerMatchOwned::Pid(pid, String::new()),
        },
    );
    wait_for_chain(&mut child, state.proof.as_deref(), variant.timeout).await
}

/// Waits until the proof file exists (then a short grace for the last
/// processes to exit and be seen), or the opener exits, or the timeout.
async fn wait_for_chain(
    child: &mut tokio::process::Child,
    proof: Option<&Path>,
    timeout: Duration,
) -> Result<(), Failure> {
    let deadline = Instant::now() + timeout;
    let mut opener_exited_at: Option<Instant> = None;
    loop {
        if proof.is_some_and(Path::exists) {
            tokio::time::sleep(Duration::from_millis(300)).await;
            return Ok(());
        }
        if opener_exited_at.is_none() && matches!(child.try_wait(), Ok(Some(_))) {
            opener_exited_at = Some(Instant::now());
        }
        // An opener that exits without the proof gets a second for stragglers.
        if opener_exited_at.is_some_and(|t| t.elapsed() > Duration::from_secs(1)) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err((
                RunStatus::TimedOut,
                format!(
                    "the chain did not finish within {}",
                    crate::scenario::duration_text::render(timeout)
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
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
        vars.set("mount", mp.display().to_string());
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
