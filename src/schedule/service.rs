//! The service loop: wait for the next slot, run the suite, log, repeat.

use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use super::log::{Event, LogFormat, emit};
use super::plan::{Slots, When, jitter};
use crate::suite::{self, Progress, Settings};
use crate::verifier::{Choice, VerifierError};

/// What the service runs and when.
#[derive(Debug, Clone)]
pub struct Service {
    /// The suite, as `chainproof run` would run it.
    pub settings: Settings,
    /// The backend and rules each run builds and checks afresh, so a
    /// backend that fails its check fails that run, not the service.
    pub choice: Choice,
    /// How often.
    pub when: When,
    /// Largest random delay added to each start.
    pub jitter: Duration,
    /// Stop after this many runs (failed ones included); `None`: never.
    pub max_runs: Option<u64>,
    /// Log line format.
    pub log: LogFormat,
}

/// Why the service stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// `--max-runs` runs were done.
    MaxRuns,
    /// The schedule has no further slot.
    NoFurtherSlot,
    /// A stop signal arrived between runs.
    SignalWhileWaiting,
    /// A stop signal arrived during a run; the suite cleaned up the
    /// scenario in progress and wrote its record first.
    SignalDuringRun,
}

impl Stopped {
    /// The documented exit code: 130 when a run was interrupted, else 0.
    pub fn exit_code(self) -> u8 {
        match self {
            Stopped::SignalDuringRun => crate::exit::INTERRUPTED,
            _ => crate::exit::OK,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Stopped::MaxRuns => "max-runs reached",
            Stopped::NoFurtherSlot => "no further slot on the schedule",
            Stopped::SignalWhileWaiting => "signal while waiting",
            Stopped::SignalDuringRun => "signal during a run (its scenario was cleaned up)",
        }
    }
}

/// Runs the service until `--max-runs`, the end of the schedule, or `stop`.
///
/// Runs are sequential: the next starts at the later of its slot and the end
/// of the previous run (plus jitter). A failed run is logged and counted; the
/// service waits for the next slot.
pub async fn serve(service: Service, mut stop: watch::Receiver<bool>) -> Stopped {
    let log = service.log;
    let mut slots = Slots::new(service.when.clone(), OffsetDateTime::now_utc());
    let mut previous_end = None;
    let mut runs = 0u64;
    let stopped = loop {
        if service.max_runs.is_some_and(|max| runs >= max) {
            break Stopped::MaxRuns;
        }
        let Some(slot) = slots.next(previous_end, jitter(service.jitter)) else {
            break Stopped::NoFurtherSlot;
        };
        let run = runs + 1;
        if slot.start > OffsetDateTime::now_utc() {
            emit(
                log,
                &Event::Waiting {
                    run,
                    until: slot.start,
                },
            );
        }
        if !wait_until(slot.start, &mut stop).await {
            break Stopped::SignalWhileWaiting;
        }
        emit(
            log,
            &Event::Started {
                run,
                planned: slot.planned,
                delayed_s: slot.delayed_by.as_secs_f64(),
                skipped: slot.skipped,
            },
        );
        let interrupted = run_once(&service, run, &stop).await;
        runs = run;
        previous_end = Some(OffsetDateTime::now_utc());
        if interrupted || *stop.borrow() {
            break Stopped::SignalDuringRun;
        }
    };
    emit(
        log,
        &Event::Stopped {
            reason: stopped.reason().into(),
            runs,
        },
    );
    stopped
}

/// Why one scheduled run did not happen: no checked backend, or the suite
/// stopped.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error(transparent)]
    Verifier(#[from] VerifierError),
    #[error(transparent)]
    Suite(#[from] suite::SuiteError),
}

impl RunError {
    fn exit_code(&self) -> u8 {
        match self {
            RunError::Verifier(e) => e.exit_code(),
            RunError::Suite(e) => e.exit_code(),
        }
    }
}

/// One suite run; true when a signal interrupted it. The service's `stop`
/// is the suite's: on a signal it cleans up the scenario in progress, ends
/// verification and writes the record.
async fn run_once(service: &Service, run: u64, stop: &watch::Receiver<bool>) -> bool {
    let began = std::time::Instant::now();
    let progress = LogProgress {
        run,
        log: service.log,
    };
    let mut stop = stop.clone();
    let outcome = match service.choice.ready(&progress, &mut stop).await {
        Ok(verifier) => suite::run(service.settings.clone(), verifier, &progress, stop)
            .await
            .map_err(RunError::from),
        Err(e) => Err(RunError::from(e)),
    };
    match outcome {
        Ok(o) => {
            emit(
                service.log,
                &Event::Finished {
                    run,
                    summary: crate::report::matrix::Summary::of(&o.record).line(),
                    report: o.folder,
                    interrupted: o.interrupted,
                    duration_s: began.elapsed().as_secs_f64(),
                },
            );
            o.interrupted
        }
        Err(e) => {
            emit(
                service.log,
                &Event::Failed {
                    run,
                    reason: error_chain(&e),
                    exit_code: e.exit_code(),
                },
            );
            false
        }
    }
}

/// Sleeps until `t` (re-reading the clock at least every minute, so a clock
/// step or a suspended host does not stretch the wait); false when `stop`
/// turned true first.
async fn wait_until(t: OffsetDateTime, stop: &mut watch::Receiver<bool>) -> bool {
    loop {
        if *stop.borrow() {
            return false;
        }
        let left: Duration = (t - OffsetDateTime::now_utc())
            .try_into()
            .unwrap_or_default();
        if left.is_zero() {
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep(left.min(Duration::from_secs(60))) => {}
            r = stop.wait_for(|s| *s) => {
                if r.is_ok() {
                    return false;
                }
                // The signal watcher is gone: wait without it.
                tokio::time::sleep(left).await;
                return true;
            }
        }
    }
}

/// `failed to X: cause: cause`, on one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = format!("failed to {e}");
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

struct LogProgress {
    run: u64,
    log: LogFormat,
}

impl Progress for LogProgress {
    fn start(&self, _index: usize, _total: usize, _id: &str) {}
    fn done(&self, _index: usize, _total: usize, id: &str, summary: &str) {
        emit(
            self.log,
            &Event::Scenario {
                run: self.run,
                id: id.into(),
                summary: summary.into(),
            },
        );
    }
}
