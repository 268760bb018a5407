//! The verdict of one run from one backend answer: which event is which
//! hop's telemetry, which alert is which hop's, how long each took, and the
//! chain's verdict. Pure: no I/O, no clock but the times it is given.

use time::OffsetDateTime;

use super::Sight;
use super::chain::{chain_verdict, missing_rules};
use crate::backend::{BackendAlert, RunAnswer};
use crate::detect::grade;
use crate::record::{
    Alert, ChainVerdict, HopTruth, HopVerdict, RunStatus, ScenarioRun, Verdict, Verification,
};
use crate::scenario::Scenario;
use crate::telemetry::{Category, Event};
use crate::vocab::HopKind;

/// The verification of one run from its answer by a backend known only
/// by name: one that can hold every hop kind, its events' arrival times
/// (where they have one) named `arrival`, and no quiet window recorded.
pub fn decide(
    run: &ScenarioRun,
    scenario: Option<&Scenario>,
    answer: Result<RunAnswer, String>,
    backend: &str,
    verified_at: OffsetDateTime,
) -> Verification {
    decide_seen(run, scenario, answer, &Sight::named(backend), verified_at)
}

/// The verification of one run from its answer by the backend `sight`
/// describes: hops it cannot hold are `not-visible` at once, latencies are
/// measured from its arrival field where events carry one, and the
/// verification records the quiet window controls are judged with.
pub fn decide_seen(
    run: &ScenarioRun,
    scenario: Option<&Scenario>,
    answer: Result<RunAnswer, String>,
    sight: &Sight,
    verified_at: OffsetDateTime,
) -> Verification {
    let mut v = judge(run, scenario, answer, sight, verified_at);
    v.alert_latency_ms = sight.alert_latency.map(millis);
    v
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn judge(
    run: &ScenarioRun,
    scenario: Option<&Scenario>,
    answer: Result<RunAnswer, String>,
    sight: &Sight,
    verified_at: OffsetDateTime,
) -> Verification {
    let backend = sight.backend.as_str();
    let within = scenario
        .and_then(|s| s.expect.alert.as_ref())
        .map(|a| a.within);
    // Without its scenario (a record verified later), every hop must be seen.
    let observe: Vec<HopKind> = scenario
        .map(|s| s.expect.observe.clone())
        .unwrap_or_else(|| vec![HopKind::Mail, HopKind::File, HopKind::Open, HopKind::Spawn]);
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
    // An alert without the product's own time is placed when its answer
    // was read: an upper bound, and marked as such.
    let read_at = answer.answered_at.unwrap_or(verified_at);
    let alerts: Vec<Alert> = answer
        .alerts
        .iter()
        .map(|a| alert(a, &run.hops, read_at))
        .collect();
    let hops: Vec<HopVerdict> = run
        .hops
        .iter()
        .map(|h| hop_verdict(h, run, &answer, &alerts, within, sight))
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
        containment: super::containment::of(&run.hops, &answer.alerts, &alerts),
        visibility: super::visibility::of(run, &answer),
        untied: (&answer.untied).into(),
        alerts,
        chain,
        alert_latency_ms: None,
    }
}

/// A verification in which every hop and the chain share one verdict and reason.
pub(super) fn uniform(
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
        containment: None,
        visibility: Vec::new(),
        untied: Default::default(),
        chain: ChainVerdict {
            verdict: v,
            grade: None,
            fully_observed: false,
            false_positive: false,
            expected_rules_missing: Vec::new(),
            reason,
        },
        alert_latency_ms: None,
    }
}

fn verdict(index: usize, verdict: Verdict, reason: Option<String>) -> HopVerdict {
    HopVerdict {
        index,
        verdict,
        grade: None,
        time_to_telemetry_ms: None,
        time_to_alert_ms: None,
        telemetry_basis: None,
        alert_basis: None,
        delayed: false,
        linked: None,
        reason,
    }
}

/// True when `event` is telemetry of `hop`.
pub fn event_matches(event: &Event, hop: &HopTruth) -> bool {
    match (hop.kind, event.category) {
        // A delivered message is seen in a mail product's evidence, by its
        // Message-ID (`InternetMessageId`, as Defender and Exchange name it).
        (HopKind::Mail, _)
            if !hop.expected.is_empty()
                && event
                    .fields
                    .get("InternetMessageId")
                    .and_then(|v| v.as_str())
                    .is_some_and(|id| id.trim_matches(['<', '>']) == hop.expected) =>
        {
            true
        }
        // … or as the file the mailbox writes on the host.
        (HopKind::Mail | HopKind::File, Category::FileEvent) => {
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

fn alert(a: &BackendAlert, hops: &[HopTruth], read_at: OffsetDateTime) -> Alert {
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
        at: a.at.unwrap_or(read_at),
        at_unknown: a.at.is_none(),
    }
}

fn kind_word(kind: HopKind) -> &'static str {
    match kind {
        HopKind::Mail => "mail",
        HopKind::File => "file",
        HopKind::Open => "open",
        HopKind::Spawn => "spawn",
    }
}

pub(super) fn ms_between(from: Option<OffsetDateTime>, to: Option<OffsetDateTime>) -> Option<u64> {
    let d = to? - from?;
    Some(u64::try_from(d.whole_milliseconds().max(0)).unwrap_or(u64::MAX))
}

fn hop_verdict(
    hop: &HopTruth,
    run: &ScenarioRun,
    answer: &RunAnswer,
    alerts: &[Alert],
    within: Option<std::time::Duration>,
    sight: &Sight,
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
        // Telemetry the backend returned anyway wins over what it declares;
        // without any, a hop it can never hold is decided now, not polled.
        if let Some(why) = sight.cannot_hold(hop.kind) {
            return verdict(
                hop.index,
                Verdict::NotVisible,
                Some(format!(
                    "backend {} cannot hold a {} hop: {why}",
                    sight.backend,
                    kind_word(hop.kind)
                )),
            );
        }
        return verdict(
            hop.index,
            Verdict::Missed,
            Some("the backend has no telemetry of this hop".into()),
        );
    };
    let mut v = verdict(hop.index, Verdict::Observed, None);
    let (ms, basis) = super::latency::to_telemetry(hop, &answer.events, answer.answered_at, sight);
    v.time_to_telemetry_ms = ms;
    v.telemetry_basis = basis;
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
        // Measured only when the product timed every alert on the hop: an
        // untimed one may have come first, and its `at` is the poll's.
        let basis = if mine.iter().any(|a| a.at_unknown) {
            crate::record::Basis::Polling
        } else {
            crate::record::Basis::Measured(super::latency::ALERT_TIME.into())
        };
        v.alert_basis = v.time_to_alert_ms.map(|_| basis);
        v.delayed = match (v.time_to_alert_ms, within) {
            (Some(ms), Some(w)) => u128::from(ms) > w.as_millis(),
            _ => false,
        };
    }
    v
}
