//! Verdicts: matching a backend's answer to each hop of each run, the one
//! place where that rule lives, for every backend.
//!
//! A hop is matched by process identity (pid, and image where both sides
//! know it) or, for the file hop, by path. A backend that failed makes every
//! hop `inconclusive` with its reason, never `missed`.

mod again;
mod again_batch;
mod chain;
mod interrupt;

pub use again::{Expectations, Mismatch, Origin, again, expectations};
pub use again_batch::{Pending, again_all, searchable, unverifiable};
use chain::{chain_verdict, missing_rules};
use interrupt::interrupt_all;
pub use interrupt::{INTERRUPTED, interrupted};

use time::OffsetDateTime;

use crate::backend::{AnyBackend, BackendAlert, Query, RunAnswer};
use crate::detect::grade;
use crate::record::{
    Alert, ChainVerdict, Grade, HopTruth, HopVerdict, RunStatus, ScenarioRun, Verdict, Verification,
};
use crate::scenario::Scenario;
use crate::telemetry::{Category, Event};
use crate::vocab::HopKind;

/// How long and how often a backend is asked again while hops are missing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polling {
    /// Give up (and keep the last verdicts) this long after verification starts.
    pub deadline: std::time::Duration,
    /// First wait between rounds; doubles each round.
    pub first: std::time::Duration,
    /// Longest wait between rounds.
    pub max: std::time::Duration,
}

impl Default for Polling {
    fn default() -> Polling {
        Polling {
            deadline: std::time::Duration::from_secs(300),
            first: std::time::Duration::from_secs(2),
            max: std::time::Duration::from_secs(30),
        }
    }
}

/// True when nothing more can be learned by asking again: every hop is
/// decided, and an expected alert (if any) has arrived.
fn settled(v: &Verification, scenario: Option<&Scenario>) -> bool {
    let open = v
        .hops
        .iter()
        .any(|h| matches!(h.verdict, Verdict::Missed | Verdict::Inconclusive));
    let wants_alert = scenario.is_some_and(|s| s.expect.alert.is_some());
    let chain_na = v.chain.verdict == Verdict::NotApplicable;
    // A negative control is watched until the deadline: a false positive
    // can arrive after the telemetry, and once seen nothing changes it.
    if scenario.is_some_and(|s| s.expect.no_alert) {
        return chain_na || v.chain.false_positive;
    }
    chain_na || (!open && (!wants_alert || v.chain.verdict == Verdict::Alerted))
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
    let mut wait = polling.first;
    let mut pending = again_batch::searchable(runs, scenarios, backend.name());
    let mut last: Vec<Option<RunAnswer>> = vec![None; runs.len()];
    // Which runs a round of this verification has judged (a record being
    // verified again carries older verdicts: they do not count).
    let mut judged = vec![false; runs.len()];
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
                    let unjudged: Vec<usize> =
                        pending.iter().copied().filter(|&i| !judged[i]).collect();
                    out_of_time(runs, &unjudged, scenarios, backend.name(), polling.deadline);
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
        let verified_at = OffsetDateTime::now_utc();
        let mut still = Vec::new();
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
            let v = decide(run, scenario, answer, backend.name(), verified_at);
            judged[i] = true;
            if !settled(&v, scenario) {
                still.push(i);
            }
            run.verification = Some(v);
        }
        pending = still;
        if pending.is_empty() || !backend.polls() || start.elapsed() + wait > polling.deadline {
            return last;
        }
        tokio::select! {
            biased;
            () = crate::stop::requested(stop) => {
                interrupt_all(runs, &pending, scenarios, backend.name());
                return last;
            }
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(polling.max);
    }
}

/// The deadline passed while a round was still being answered: runs that
/// an earlier round already judged keep those verdicts; `unjudged` runs,
/// never answered, are `inconclusive`, saying so — never `missed`.
fn out_of_time(
    runs: &mut [ScenarioRun],
    unjudged: &[usize],
    scenarios: &[Scenario],
    backend: &str,
    deadline: std::time::Duration,
) {
    let now = OffsetDateTime::now_utc();
    for &i in unjudged {
        let run = &mut runs[i];
        let scenario = scenarios.iter().find(|s| s.id == run.id);
        let why = format!(
            "the verification deadline ({}) passed before backend {backend} answered",
            crate::vocab::duration_text::render(deadline)
        );
        run.verification = Some(decide(run, scenario, Err(why), backend, now));
    }
}

/// The verification of one run from its backend answer.
pub fn decide(
    run: &ScenarioRun,
    scenario: Option<&Scenario>,
    answer: Result<RunAnswer, String>,
    backend: &str,
    verified_at: OffsetDateTime,
) -> Verification {
    let within = scenario
        .and_then(|s| s.expect.alert.as_ref())
        .map(|a| a.within);
    // Without its scenario (a record verified later), every hop must be seen.
    let observe: Vec<HopKind> = scenario
        .map(|s| s.expect.observe.clone())
        .unwrap_or_else(|| vec![HopKind::File, HopKind::Open, HopKind::Spawn]);
    if run.status == RunStatus::NotApplicable {
        return uniform(
            run,
            Verdict::NotApplicable,
            run.reason.clone(),
            backend,
            verified_at,
        );
    }
    // Stopped before any hop (or never started): nothing to look for, and
    // nothing said about the host.
    if run.status == RunStatus::Interrupted && run.hops.is_empty() {
        return uniform(
            run,
            Verdict::Inconclusive,
            run.reason.clone(),
            backend,
            verified_at,
        );
    }
    let answer = match answer {
        Ok(a) => a,
        Err(reason) => {
            return uniform(
                run,
                Verdict::Inconclusive,
                Some(reason),
                backend,
                verified_at,
            );
        }
    };
    let alerts: Vec<Alert> = answer.alerts.iter().map(|a| alert(a, &run.hops)).collect();
    let hops: Vec<HopVerdict> = run
        .hops
        .iter()
        .map(|h| hop_verdict(h, run, &answer, &alerts, within))
        .collect();
    let mut chain = chain_verdict(&run.hops, &hops, &observe);
    // An alert that references the chain but no particular hop still alerts the chain.
    let unattributed = alerts
        .iter()
        .filter(|a| a.hop.is_none())
        .map(|a| a.grade)
        .min();
    if let Some(g) = unattributed
        && chain.verdict != Verdict::Inconclusive
        && chain.grade.is_none_or(|best| g < best)
    {
        chain.grade = Some(g);
        chain.verdict = Verdict::Alerted;
        chain.reason = None;
    }
    let mut expected: Vec<String> = scenario
        .and_then(|s| s.expect.alert.as_ref())
        .map_or_else(Vec::new, |a| a.rules.clone());
    if let Some(v) = scenario.and_then(|s| s.variants.get(run.platform)) {
        expected.extend(v.rules.iter().cloned());
    }
    chain.expected_rules_missing = missing_rules(&expected, &alerts);
    if run.negative_control && !alerts.is_empty() {
        let titles: Vec<&str> = alerts.iter().map(|a| a.rule_title.as_str()).collect();
        chain.false_positive = true;
        chain.reason = Some(format!(
            "negative control: {} alert(s) on a legitimate chain: {}",
            alerts.len(),
            titles.join(", ")
        ));
    }
    Verification {
        backend: backend.into(),
        verified_at,
        hops,
        alerts,
        chain,
    }
}

/// A verification in which every hop and the chain share one verdict and reason.
fn uniform(
    run: &ScenarioRun,
    v: Verdict,
    reason: Option<String>,
    backend: &str,
    verified_at: OffsetDateTime,
) -> Verification {
    Verification {
        backend: backend.into(),
        verified_at,
        hops: run
            .hops
            .iter()
            .map(|h| verdict(h.index, v, reason.clone()))
            .collect(),
        alerts: Vec::new(),
        chain: ChainVerdict {
            verdict: v,
            grade: None,
            fully_observed: false,
            false_positive: false,
            expected_rules_missing: Vec::new(),
            reason,
        },
    }
}

fn verdict(index: usize, verdict: Verdict, reason: Option<String>) -> HopVerdict {
    HopVerdict {
        index,
        verdict,
        grade: None,
        time_to_telemetry_ms: None,
        time_to_alert_ms: None,
        delayed: false,
        linked: None,
        reason,
    }
}

/// True when `event` is telemetry of `hop`.
pub fn event_matches(event: &Event, hop: &HopTruth) -> bool {
    match (hop.kind, event.category) {
        (HopKind::File, Category::FileEvent) => {
            hop.path.is_some()
                && event.fields.get("TargetFilename").and_then(|v| v.as_str())
                    == hop.path.as_deref()
        }
        (HopKind::Open | HopKind::Spawn, Category::ProcessCreation) => {
            let image = event.fields.get("Image").and_then(|v| v.as_str());
            let same_image = match (image, hop.image.as_deref()) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            same_image
                && hop.pid.is_some()
                && event.fields.get("ProcessId").and_then(|v| v.as_u64()) == hop.pid.map(u64::from)
        }
        _ => false,
    }
}

fn alert(a: &BackendAlert, hops: &[HopTruth]) -> Alert {
    Alert {
        rule_id: a.rule_id.clone(),
        rule_title: a.rule_title.clone(),
        level: a.level.clone(),
        tags: a.tags.clone(),
        grade: grade(&a.tags),
        hop: hops
            .iter()
            .find(|h| h.happened && event_matches(&a.event, h))
            .map(|h| h.index),
        at: a.at,
    }
}

fn ms_between(from: Option<OffsetDateTime>, to: Option<OffsetDateTime>) -> Option<u64> {
    let d = to? - from?;
    Some(u64::try_from(d.whole_milliseconds().max(0)).unwrap_or(u64::MAX))
}

fn hop_verdict(
    hop: &HopTruth,
    run: &ScenarioRun,
    answer: &RunAnswer,
    alerts: &[Alert],
    within: Option<std::time::Duration>,
) -> HopVerdict {
    let hops = &run.hops;
    if !hop.happened {
        // A hop the harness never got to (it failed, or was interrupted) says
        // nothing about the host: that is not `blocked`.
        return match run.status {
            RunStatus::Failed | RunStatus::Interrupted => {
                let why = run.reason.clone().unwrap_or_default();
                verdict(
                    hop.index,
                    Verdict::Inconclusive,
                    Some(format!("the harness stopped before this hop: {why}")),
                )
            }
            _ => verdict(hop.index, Verdict::Blocked, hop.reason.clone()),
        };
    }
    let Some(event) = answer.events.iter().find(|e| event_matches(e, hop)) else {
        return verdict(
            hop.index,
            Verdict::Missed,
            Some("the backend has no telemetry of this hop".into()),
        );
    };
    let mut v = verdict(hop.index, Verdict::Observed, None);
    v.time_to_telemetry_ms = ms_between(hop.at, answer.answered_at);
    if hop.kind == HopKind::Spawn {
        let parent = hops
            .iter()
            .find(|h| h.index + 1 == hop.index)
            .and_then(|h| h.pid);
        let event_parent = event.fields.get("ParentProcessId").and_then(|v| v.as_u64());
        let event_pid = event.fields.get("ProcessId").and_then(|v| v.as_u64());
        // Joined by process identity: the parent's pid as the event's parent,
        // or the same pid when the previous hop exec'd this one in place.
        let linked = parent
            .is_some_and(|p| event_parent == Some(u64::from(p)) || event_pid == Some(u64::from(p)));
        v.linked = Some(linked);
    }
    let mine: Vec<&Alert> = alerts.iter().filter(|a| a.hop == Some(hop.index)).collect();
    if let Some(best) = mine.iter().map(|a| a.grade).min() {
        v.verdict = Verdict::Alerted;
        v.grade = Some(best);
        let first = mine.iter().map(|a| a.at).min();
        v.time_to_alert_ms = ms_between(hop.at, first);
        v.delayed = match (v.time_to_alert_ms, within) {
            (Some(ms), Some(w)) => u128::from(ms) > w.as_millis(),
            _ => false,
        };
    }
    v
}

#[cfg(test)]
mod tests;
