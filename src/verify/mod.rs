//! Verdicts: matching a backend's answer to each hop of each run, the one
//! place where that rule lives, for every backend.
//!
//! A hop is matched by process identity (pid, and image where both sides
//! know it) or, for the file hop, by path. A backend that failed makes every
//! hop `inconclusive` with its reason, never `missed`.

mod again;
mod again_batch;
mod chain;
pub mod containment;
mod decide;
mod interrupt;
mod latency;
mod settle;
pub mod visibility;

pub use again::{Expectations, Mismatch, Origin, again, expectations};
pub use again_batch::{Pending, again_all, searchable, unverifiable};
use decide::uniform;
pub use decide::{decide, decide_seen, event_matches};
use interrupt::interrupt_all;
pub use interrupt::{INTERRUPTED, interrupted};
pub use latency::ALERT_TIME;

use std::time::Duration;

use time::OffsetDateTime;

use crate::backend::{AnyBackend, Query, RunAnswer};
use crate::record::ScenarioRun;
use crate::scenario::Scenario;
use crate::vocab::HopKind;

/// How long and how often a backend is asked again while hops are missing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polling {
    /// Give up (and keep the last verdicts) this long after verification starts.
    pub deadline: Duration,
    /// First wait between rounds; doubles each round.
    pub first: Duration,
    /// Longest wait between rounds.
    pub max: Duration,
    /// The quiet window negative controls are judged with (the profile's
    /// `alert_latency`); `None` takes the backend's documented default.
    pub alert_latency: Option<Duration>,
}

impl Default for Polling {
    fn default() -> Polling {
        Polling {
            deadline: Duration::from_secs(300),
            first: Duration::from_secs(2),
            max: Duration::from_secs(30),
            alert_latency: None,
        }
    }
}

/// What verification knows of a backend besides its answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sight {
    /// The backend's name, as records name it.
    pub backend: String,
    /// The answer field its events' arrival times come from
    /// ([`AnyBackend::arrival`]), named by latencies measured from it.
    pub arrival: Option<&'static str>,
    /// Hop kinds it can never hold, each with why ([`AnyBackend::cannot_hold`]).
    pub blind: Vec<(HopKind, &'static str)>,
    /// The quiet window negative controls are judged with; `None` when
    /// the verdict is decided outside a verification (recorded as unknown).
    pub alert_latency: Option<Duration>,
}

impl Sight {
    /// A backend known only by its name: it can hold every hop kind.
    pub fn named(backend: &str) -> Sight {
        Sight {
            backend: backend.into(),
            arrival: None,
            blind: Vec::new(),
            alert_latency: None,
        }
    }

    /// What `backend` declares of itself, judged with `polling`'s quiet
    /// window (or the backend's default).
    pub fn of(backend: &AnyBackend, polling: &Polling) -> Sight {
        let blind = [HopKind::Mail, HopKind::File, HopKind::Open, HopKind::Spawn]
            .into_iter()
            .filter_map(|k| backend.cannot_hold(k).map(|why| (k, why)))
            .collect();
        Sight {
            backend: backend.name().into(),
            arrival: backend.arrival(),
            blind,
            alert_latency: Some(polling.alert_latency.unwrap_or(backend.alert_latency())),
        }
    }

    /// Why the backend can never hold a hop of `kind`, if it cannot.
    pub fn cannot_hold(&self, kind: HopKind) -> Option<&'static str> {
        self.blind
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, why)| *why)
    }
}

/// Verifies every run with `backend`, filling [`ScenarioRun::verification`],
/// and returns each run's last answer (the telemetry behind its verdicts,
/// for `--record`).
/// Each round sends one batched query covering every run still pending;
/// rounds repeat with backoff until each run is settled or the deadline
/// passes (a backend whose answers cannot change is asked once). A backend
/// that fails every round leaves `inconclusive`, never `missed`.
///
/// When `stop` turns `true` the query in flight to a polling backend is
/// dropped (a command backend's whole process group is killed with it) and
/// every run still pending is [`interrupted`]: what was decided stays, the
/// rest is `inconclusive` with the reason `interrupted`. An offline backend
/// (`local`, recorded telemetry) answers its one round regardless: it is
/// immediate and final.
pub async fn verify(
    runs: &mut [ScenarioRun],
    scenarios: &[Scenario],
    backend: &AnyBackend,
    polling: &Polling,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Vec<Option<RunAnswer>> {
    let start = tokio::time::Instant::now();
    let deadline = start + polling.deadline;
    let sight = Sight::of(backend, polling);
    let window = sight.alert_latency.unwrap_or_default();
    let mut wait = polling.first;
    let mut pending = again_batch::searchable(runs, scenarios, backend.name());
    let mut last: Vec<Option<RunAnswer>> = vec![None; runs.len()];
    // Which runs a round of this verification has judged (a record being
    // verified again carries older verdicts: they do not count).
    let mut judged = vec![false; runs.len()];
    // When each run's telemetry was first seen complete (a control's quiet
    // window runs from there), and the last error the backend gave.
    let mut complete_since: Vec<Option<tokio::time::Instant>> = vec![None; runs.len()];
    let mut last_error: Option<String> = None;
    // Whether each run's current verdict comes from a round that failed.
    let mut by_error = vec![false; runs.len()];
    loop {
        let batch: Vec<ScenarioRun> = pending.iter().map(|&i| runs[i].clone()).collect();
        let query = backend.query(Query { runs: &batch });
        let answers = if backend.polls() {
            tokio::select! {
                // A stop that is already requested wins over a ready answer.
                biased;
                () = crate::stop::requested(stop) => None,
                // The deadline holds within a round too: a slow answer
                // (paging, retries) never stretches verification past it.
                () = tokio::time::sleep_until(deadline) => {
                    let cut = Cut {
                        sight: &sight,
                        deadline: polling.deadline,
                        last_error: last_error.as_deref(),
                        judged: &judged,
                        by_error: &by_error,
                    };
                    out_of_time(runs, &pending, scenarios, &cut);
                    return last;
                }
                a = query => Some(a),
            }
        } else {
            // An offline backend (local, recorded) answers at once from
            // what the harness captured and never changes its answer: the
            // runs that happened before a stop still get their verdicts.
            Some(query.await)
        };
        let Some(answers) = answers else {
            interrupt_all(runs, &pending, scenarios, backend.name());
            return last;
        };
        let now = tokio::time::Instant::now();
        if let Err(e) = &answers {
            last_error = Some(e.to_string());
        }
        let verified_at = OffsetDateTime::now_utc();
        let mut still = Vec::new();
        let mut quiet_ends = Vec::new();
        for (k, &i) in pending.iter().enumerate() {
            let run = &mut runs[i];
            let scenario = scenarios.iter().find(|s| s.id == run.id);
            let answer = match &answers {
                Ok(all) => all.get(k).cloned().ok_or_else(|| {
                    format!("backend {} returned no answer for this run", backend.name())
                }),
                Err(e) => Err(e.to_string()),
            };
            if let Ok(a) = &answer {
                last[i] = Some(a.clone());
            }
            by_error[i] = answer.is_err();
            let v = decide_seen(run, scenario, answer, &sight, verified_at);
            judged[i] = true;
            if settle::telemetry_complete(run, &v) {
                complete_since[i].get_or_insert(now);
            }
            let control = settle::is_control(run, scenario);
            let quiet = complete_since[i].map(|t| now - t);
            if !settle::settled(run, &v, scenario, control, quiet, window) {
                still.push(i);
                if let (true, Some(q)) = (control, quiet) {
                    quiet_ends.push(q);
                }
            }
            run.verification = Some(v);
        }
        pending = still;
        // A control waiting out its quiet window is asked again when the
        // window ends, not a whole backoff later.
        let pause = settle::next_quiet_end(&quiet_ends, window).map_or(wait, |q| q.min(wait));
        if pending.is_empty() || !backend.polls() || start.elapsed() + pause > polling.deadline {
            return last;
        }
        tokio::select! {
            biased;
            () = crate::stop::requested(stop) => {
                interrupt_all(runs, &pending, scenarios, backend.name());
                return last;
            }
            () = tokio::time::sleep(pause) => {}
        }
        wait = (wait * 2).min(polling.max);
    }
}

/// What the deadline cut: whose round, at which deadline, after which
/// error (the last round that failed, if any did).
struct Cut<'a> {
    sight: &'a Sight,
    deadline: Duration,
    last_error: Option<&'a str>,
    /// Per run: judged by a round of this verification.
    judged: &'a [bool],
    /// Per run: its verdict comes from a round that failed.
    by_error: &'a [bool],
}

/// The deadline passed while a round was still being answered. Runs an
/// earlier round judged keep those verdicts, except those it left
/// `inconclusive` by a failure: they say the deadline came while the
/// backend was being asked again, and its last error. Runs never answered
/// are `inconclusive`, saying so — never `missed`.
fn out_of_time(runs: &mut [ScenarioRun], pending: &[usize], scenarios: &[Scenario], cut: &Cut<'_>) {
    let now = OffsetDateTime::now_utc();
    let deadline = crate::vocab::duration_text::render(cut.deadline);
    let backend = cut.sight.backend.as_str();
    // The error leads: a report cuts long reasons short, and the error is
    // what the reader needs.
    let error = cut
        .last_error
        .map(|e| format!("{e} — "))
        .unwrap_or_default();
    for &i in pending {
        let run = &mut runs[i];
        let why = if !cut.judged[i] {
            format!(
                "{error}the verification deadline ({deadline}) passed before backend {backend} answered"
            )
        } else if cut.by_error[i] {
            format!(
                "{error}the verification deadline ({deadline}) passed while backend {backend} was asked again"
            )
        } else {
            continue;
        };
        let scenario = scenarios.iter().find(|s| s.id == run.id);
        run.verification = Some(decide_seen(run, scenario, Err(why), cut.sight, now));
    }
}

#[cfg(test)]
mod tests;
