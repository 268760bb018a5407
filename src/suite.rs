//! One suite on this host: run each scenario, verify, and write the
//! reports. [`crate::pipeline`] prepares what it needs (scenarios, a
//! checked backend) and calls this; it holds the order of the run and
//! nothing else.

use std::path::PathBuf;

use time::OffsetDateTime;
use tokio::sync::watch;

pub use crate::progress::Progress;
use crate::record::{Host, RunRecord, RunStatus, SCHEMA};
use crate::runner::{self, journal::Journal};
use crate::scenario::Loaded;
use crate::verifier::Verifier;
use crate::vocab::{Fidelity, Platform};

/// What to run and where.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The scenarios, already loaded and checked.
    pub scenarios: Vec<Loaded>,
    /// Requested fidelity.
    pub fidelity: Option<Fidelity>,
    /// Reports root (the journal lives in `<reports>/.journal`).
    pub reports: PathBuf,
    /// Where run directories are created.
    pub work_root: PathBuf,
    /// The lab's mail server for deliveries by email (`None`: a loopback
    /// listener per message).
    pub mail_server: Option<String>,
    /// How long to poll a remote backend.
    pub polling: crate::verify::Polling,
    /// Also write the backend's telemetry as `telemetry.jsonl` (the
    /// evidence bundle always holds it; kept for older callers).
    pub record: bool,
    /// Sign the evidence bundle's manifest with this OpenSSH Ed25519 key.
    pub sign: Option<PathBuf>,
}

/// The outcome of a suite.
#[derive(Debug)]
pub struct Outcome {
    /// The record written.
    pub record: RunRecord,
    /// The report folder.
    pub folder: PathBuf,
    /// Whether a signal cut the run short.
    pub interrupted: bool,
}

/// Why a suite could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The report could not be written.
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    /// A stop signal arrived before anything ran.
    #[error("run the suite: a stop signal arrived during the backend check; nothing was run")]
    Interrupted,
    /// The reports folder or its journal cannot be created.
    #[error("create the reports folder {path}")]
    Reports {
        /// The folder.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

impl SuiteError {
    /// The documented exit code: a stop signal is 130; the rest are
    /// runtime failures (3).
    pub fn exit_code(&self) -> u8 {
        match self {
            SuiteError::Interrupted => crate::exit::INTERRUPTED,
            SuiteError::Report(_) | SuiteError::Reports { .. } => crate::exit::RUNTIME,
        }
    }
}

/// Runs the suite, verifying with `verifier` (built and checked by
/// [`crate::pipeline`] before anything runs on the host).
///
/// `stop` turns `true` on a stop signal ([`crate::stop::listen`], created by
/// the caller before anything touches the host): before the first step
/// nothing has run yet and the suite returns [`SuiteError::Interrupted`];
/// later, the scenario in progress is cleaned up, no other starts,
/// verification ends at once with its unsettled hops `inconclusive`
/// (`interrupted`), and the record and reports are still written.
pub async fn run(
    settings: Settings,
    verifier: Verifier,
    progress: &dyn Progress,
    mut stop: watch::Receiver<bool>,
) -> Result<Outcome, SuiteError> {
    let polling = verifier.polling(&settings.polling);
    let Verifier {
        backend,
        mut rule_set,
        needs,
        ..
    } = verifier;
    if *stop.borrow() {
        return Err(SuiteError::Interrupted);
    }
    let journal = Journal::under(&settings.reports);
    std::fs::create_dir_all(journal.dir()).map_err(|source| SuiteError::Reports {
        path: journal.dir().to_path_buf(),
        source,
    })?;

    let started_at = OffsetDateTime::now_utc();
    let opts = runner::Options {
        fidelity: settings.fidelity,
        work_root: settings.work_root.clone(),
        journal,
        mail_server: settings.mail_server.clone(),
    };
    let total = settings.scenarios.len();
    let mut runs = Vec::with_capacity(total);
    for (i, loaded) in settings.scenarios.iter().enumerate() {
        if *stop.borrow() {
            // Still in the record, so the report counts what did not run.
            let run = runner::not_started(loaded, NOT_STARTED);
            progress.done(i, total, &loaded.scenario.id, NOT_STARTED);
            runs.push(run);
            continue;
        }
        progress.start(i, total, &loaded.scenario.id);
        let run = runner::run(loaded, &opts, &mut stop).await;
        let summary = match &run.reason {
            Some(r) => format!("{} ({r})", status_text(run.status)),
            None => status_text(run.status).to_string(),
        };
        progress.done(i, total, &loaded.scenario.id, &summary);
        runs.push(run);
    }
    let scenarios: Vec<_> = settings
        .scenarios
        .iter()
        .map(|l| l.scenario.clone())
        .collect();
    backend.start_transcript();
    let answers = crate::verify::verify(&mut runs, &scenarios, &backend, &polling, &mut stop).await;
    rule_set.blind = crate::verify::visibility::blind::rules(&needs, &answers);
    // A signal during the runs or the verification: the record says what
    // was done and the exit code says it was cut short.
    let interrupted = *stop.borrow() || runs.iter().any(|r| r.status == RunStatus::Interrupted);
    let exchanges = backend.take_transcript();
    let record = RunRecord {
        schema: SCHEMA.into(),
        run_id: crate::token::new(),
        chainproof_version: env!("CARGO_PKG_VERSION").into(),
        started_at,
        finished_at: OffsetDateTime::now_utc(),
        host: host(),
        rules: rule_set,
        scenarios: runs,
        targets_not_run: Vec::new(),
    };
    let folder = crate::report::write_folder(&record, &settings.reports)?;
    let evidence = crate::bundle::Evidence {
        scenarios: &settings.scenarios,
        telemetry: Some(crate::report::recording::render(&record, &answers)),
        exchanges: &exchanges,
        sign: settings.sign.as_deref(),
    };
    crate::bundle::seal(&record, &folder, &settings.reports, &evidence)?;
    Ok(Outcome {
        record,
        folder,
        interrupted,
    })
}

/// Why a scenario after a stop has no run.
const NOT_STARTED: &str = "not started: the run was stopped";

fn status_text(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Completed => "ran",
        RunStatus::TimedOut => "timed out",
        RunStatus::Interrupted => "interrupted",
        RunStatus::NotApplicable => "not applicable",
        RunStatus::Failed => "failed",
    }
}

/// Facts about this host for the record.
pub fn host() -> Host {
    use crate::platform::host as os;
    // Only a Unix host has /etc/os-release: under Wine a Windows program
    // would read the Linux host's through the Z: drive and call itself
    // Debian.
    let os_release = if cfg!(unix) {
        std::fs::read_to_string("/etc/os-release").ok()
    } else {
        None
    };
    let os_name = os_release
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        })
        .unwrap_or_else(os::os_name);
    let uid = os::uid();
    Host {
        name: os::hostname(),
        platform: Platform::current().unwrap_or(Platform::Linux),
        os: os_name,
        kernel: os::kernel(),
        user: os::user_name(uid).unwrap_or_else(|| uid.to_string()),
        privileged: os::is_privileged(),
        environment: os::environment(),
    }
}

/// True when every chain that could run reached `level` (`alerted`, or
/// `observed`, which alerted also satisfies). Not-applicable chains are
/// skipped; a run with no applicable chain does not meet any level.
pub fn meets(record: &RunRecord, level: &str) -> bool {
    use crate::record::Verdict;
    let mut any = false;
    for s in &record.scenarios {
        let Some(v) = &s.verification else {
            return false;
        };
        if s.negative_control {
            // A control passes when nothing alerted on it and its whole
            // chain was seen: without the telemetry, silence proves nothing.
            match v.chain.verdict {
                Verdict::NotApplicable => continue,
                Verdict::Observed if !v.chain.false_positive => continue,
                _ => return false,
            }
        }
        match (v.chain.verdict, level) {
            (Verdict::NotApplicable, _) => continue,
            (Verdict::Alerted, _) | (Verdict::Observed, "observed") => any = true,
            _ => return false,
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::progress::Silent;

    /// The order that makes a stop safe: the stop is looked at before the
    /// first step that writes to the host (the journal under the reports
    /// folder), so a signal that arrived early leaves nothing behind.
    #[tokio::test]
    async fn a_stop_before_the_first_host_step_writes_nothing() -> Result<(), std::io::Error> {
        let dir = tempfile::tempdir()?;
        let settings = Settings {
            scenarios: crate::scenario::load_paths(&[]).unwrap_or_default(),
            fidelity: None,
            reports: dir.path().join("reports"),
            work_root: dir.path().join("work"),
            mail_server: None,
            polling: crate::verify::Polling::default(),
            record: false,
            sign: None,
        };
        let verifier = crate::verifier::Choice::default()
            .ready(&Silent, &mut crate::stop::never())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let (_tx, stop) = watch::channel(true);
        let got = run(settings, verifier, &Silent, stop).await;
        assert!(matches!(got, Err(SuiteError::Interrupted)), "{got:?}");
        assert_eq!(got.map(|_| ()).err().map(|e| e.exit_code()), Some(130));
        assert!(
            !dir.path().join("reports").exists(),
            "the journal was created"
        );
        assert!(
            !dir.path().join("work").exists(),
            "a run directory was created"
        );
        Ok(())
    }
}
