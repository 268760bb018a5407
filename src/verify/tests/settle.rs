//! Settling early: negative controls by their quiet window, hops the
//! backend can never hold at once as `not-visible`; on tokio's paused clock.
use std::time::Duration;

use super::*;
use crate::backend::AnyBackend;
use crate::backend::fake::{Fake, Round};

/// The shipped scenario turned into a negative control: no alert due.
fn control_scenario() -> crate::scenario::Scenario {
    let mut s = scenario();
    s.expect.alert = None;
    s.expect.no_alert = true;
    s
}

fn control() -> ScenarioRun {
    ScenarioRun {
        id: control_scenario().id,
        negative_control: true,
        ..chain()
    }
}

fn nothing(_: &ScenarioRun) -> RunAnswer {
    RunAnswer::default()
}

/// Every hop's telemetry, no alert.
fn telemetry(r: &ScenarioRun) -> RunAnswer {
    let pid = |i: usize| r.hops.get(i).and_then(|h| h.pid).unwrap_or_default();
    RunAnswer {
        events: vec![
            file_event("/w/Downloads/a.odt"),
            proc_event(pid(1), 1),
            proc_event(pid(2), pid(1)),
        ],
        ..RunAnswer::default()
    }
}

/// The processes only (no file event), and an alert on the shell.
fn processes_alerted(r: &ScenarioRun) -> RunAnswer {
    let mut a = telemetry(r);
    a.events.remove(0);
    let pid = |i: usize| r.hops.get(i).and_then(|h| h.pid).unwrap_or_default();
    a.alerts.push(BackendAlert {
        responses: Vec::new(),
        rule_id: None,
        rule_title: "doc spawns shell".into(),
        level: None,
        tags: vec!["attack.t1204.002".into()],
        at: Some(OffsetDateTime::UNIX_EPOCH),
        event: proc_event(pid(2), pid(1)),
    });
    a
}

fn with_telemetry_alerted(r: &ScenarioRun) -> RunAnswer {
    let mut a = processes_alerted(r);
    a.events.insert(0, file_event("/w/Downloads/a.odt"));
    a
}

fn polling(window: Option<Duration>) -> Polling {
    Polling {
        deadline: Duration::from_secs(60),
        first: Duration::from_secs(2),
        max: Duration::from_secs(8),
        alert_latency: window,
    }
}

fn fake(script: Vec<Round>) -> AnyBackend {
    AnyBackend::Fake(Box::new(Fake::new(script)))
}

fn calls(b: &AnyBackend) -> usize {
    match b {
        AnyBackend::Fake(f) => f.calls.lock().map(|c| c.len()).unwrap_or_default(),
        _ => 0,
    }
}

fn verification(run: &ScenarioRun) -> Verification {
    run.verification
        .clone()
        .unwrap_or_else(|| panic!("no verification"))
}

/// Telemetry complete at 2 s; a 10 s quiet window ends at 12 s, and the
/// round is put there rather than a whole backoff later.
#[tokio::test(start_paused = true)]
async fn a_control_settles_once_its_quiet_window_passed_after_complete_telemetry() {
    let backend = fake(vec![Ok(nothing), Ok(telemetry)]);
    let mut runs = vec![control()];
    let start = tokio::time::Instant::now();
    let p = polling(Some(Duration::from_secs(10)));
    verify(
        &mut runs,
        &[control_scenario()],
        &backend,
        &p,
        &mut crate::stop::never(),
    )
    .await;
    // Rounds at 0 (nothing), 2 (complete), 6 (4 s quiet), 12 (10 s quiet).
    assert_eq!(start.elapsed(), Duration::from_secs(12));
    assert_eq!(calls(&backend), 4);
    let v = verification(&runs[0]);
    assert_eq!(v.chain.verdict, Verdict::Observed);
    assert!(!v.chain.false_positive);
    assert_eq!(
        v.alert_latency_ms,
        Some(10_000),
        "the record names its window"
    );
}

/// Backends whose alerts are evaluated with the events (window 0): one
/// round is enough once the telemetry is in.
#[tokio::test(start_paused = true)]
async fn a_zero_window_settles_a_control_in_the_round_its_telemetry_is_complete() {
    let backend = fake(vec![Ok(telemetry)]);
    let mut runs = vec![control()];
    let start = tokio::time::Instant::now();
    let p = polling(Some(Duration::ZERO));
    verify(
        &mut runs,
        &[control_scenario()],
        &backend,
        &p,
        &mut crate::stop::never(),
    )
    .await;
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(calls(&backend), 1);
    assert_eq!(verification(&runs[0]).alert_latency_ms, Some(0));
}

/// Without a window of its own the backend's documented default holds
/// (the fake's is the remote products' 2 minutes: longer than the 60 s
/// deadline, so the control is watched to the end, as before).
#[tokio::test(start_paused = true)]
async fn without_a_profile_window_the_backends_default_is_used_and_recorded() {
    let backend = fake(vec![Ok(telemetry)]);
    let mut runs = vec![control()];
    let start = tokio::time::Instant::now();
    verify(
        &mut runs,
        &[control_scenario()],
        &backend,
        &polling(None),
        &mut crate::stop::never(),
    )
    .await;
    assert!(
        start.elapsed() > Duration::from_secs(50),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(verification(&runs[0]).alert_latency_ms, Some(120_000));
}

/// An alert within the window is a false positive, and final at once.
#[tokio::test(start_paused = true)]
async fn an_alert_inside_the_window_is_a_false_positive_and_ends_polling() {
    let backend = fake(vec![Ok(telemetry), Ok(with_telemetry_alerted)]);
    let mut runs = vec![control()];
    let start = tokio::time::Instant::now();
    let p = polling(Some(Duration::from_secs(30)));
    verify(
        &mut runs,
        &[control_scenario()],
        &backend,
        &p,
        &mut crate::stop::never(),
    )
    .await;
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert!(verification(&runs[0]).chain.false_positive);
}

/// Silence without the telemetry proves nothing: a control whose chain is
/// never seen is polled to the deadline and stays `missed`.
#[tokio::test(start_paused = true)]
async fn a_control_without_telemetry_is_not_settled_by_its_window() {
    let backend = fake(vec![Ok(nothing)]);
    let mut runs = vec![control()];
    let p = polling(Some(Duration::ZERO));
    verify(
        &mut runs,
        &[control_scenario()],
        &backend,
        &p,
        &mut crate::stop::never(),
    )
    .await;
    assert!(calls(&backend) > 5, "{}", calls(&backend));
    assert_eq!(verification(&runs[0]).chain.verdict, Verdict::Missed);
}

/// A positive chain still waits for its alert: a window does not end it.
#[tokio::test(start_paused = true)]
async fn a_positive_chain_keeps_polling_for_its_alert_whatever_the_window() {
    let backend = fake(vec![Ok(telemetry)]);
    let s = scenario();
    let mut runs = vec![ScenarioRun {
        id: s.id.clone(),
        ..chain()
    }];
    assert!(s.expect.alert.is_some(), "the fixture must expect an alert");
    let p = polling(Some(Duration::ZERO));
    verify(&mut runs, &[s], &backend, &p, &mut crate::stop::never()).await;
    assert!(calls(&backend) > 5, "{}", calls(&backend));
    assert_eq!(verification(&runs[0]).chain.verdict, Verdict::Observed);
}

/// The backend can never hold the file hop: it is `not-visible` with the
/// reason in the first round, and does not keep the chain polling.
#[tokio::test(start_paused = true)]
async fn a_hop_the_backend_cannot_hold_is_decided_at_once() {
    let backend = AnyBackend::Fake(Box::new(
        Fake::new(vec![Ok(processes_alerted)]).blind(HopKind::File, "a process table only"),
    ));
    let mut runs = vec![ScenarioRun {
        id: scenario().id,
        ..chain()
    }];
    let start = tokio::time::Instant::now();
    verify(
        &mut runs,
        &[scenario()],
        &backend,
        &polling(None),
        &mut crate::stop::never(),
    )
    .await;
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(calls(&backend), 1);
    let v = verification(&runs[0]);
    assert_eq!(v.hops[0].verdict, Verdict::NotVisible);
    assert_eq!(
        v.hops[0].reason.as_deref(),
        Some("backend fake cannot hold a file hop: a process table only")
    );
    assert_eq!(v.chain.verdict, Verdict::Alerted);
    assert!(v.chain.fully_observed, "as far as the backend can see");
}

fn blind_file() -> Sight {
    Sight {
        blind: vec![(HopKind::File, "no file events")],
        ..Sight::named("b")
    }
}

/// The chain rule: not-visible never counts against the chain, but a chain
/// of which nothing required could be seen is `not-visible`, not observed.
#[test]
fn not_visible_hops_do_not_count_against_the_chain_but_prove_nothing() {
    let at = OffsetDateTime::UNIX_EPOCH;
    let r = chain();
    // Processes seen, the file not holdable: fully observed, as far as it sees.
    let v = decide_seen(
        &r,
        None,
        Ok(telemetry(&r)).map(|mut a| {
            a.events.remove(0);
            a
        }),
        &blind_file(),
        at,
    );
    assert_eq!(v.hops[0].verdict, Verdict::NotVisible);
    assert_eq!(v.chain.verdict, Verdict::Observed);
    assert!(v.chain.fully_observed);
    // Only the file hop required, and it is not holdable: not-visible.
    let mut s = scenario();
    s.expect.observe = vec![HopKind::File];
    s.expect.alert = None;
    let v = decide_seen(&r, Some(&s), Ok(RunAnswer::default()), &blind_file(), at);
    assert_eq!(v.chain.verdict, Verdict::NotVisible, "{v:?}");
    assert!(!v.chain.fully_observed);
    assert!(
        v.chain
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("no file events")),
        "{:?}",
        v.chain.reason
    );
    // A holdable hop without telemetry is still missed beside a blind one.
    let v = decide_seen(&r, None, Ok(RunAnswer::default()), &blind_file(), at);
    assert_eq!(v.hops[1].verdict, Verdict::Missed);
    assert_eq!(v.chain.verdict, Verdict::Missed);
    // Telemetry the backend returns anyway wins over its declaration.
    let v = decide_seen(&r, None, Ok(telemetry(&r)), &blind_file(), at);
    assert_eq!(v.hops[0].verdict, Verdict::Observed);
}

/// The pure rule, case by case.
#[test]
fn settled_table() {
    let at = OffsetDateTime::UNIX_EPOCH;
    let r = chain();
    let seen = decide(&r, None, Ok(telemetry(&r)), "b", at);
    let open = decide(&r, None, Ok(RunAnswer::default()), "b", at);
    let w = Duration::from_secs(120);
    let s = Some(&control_scenario());
    let secs = |n| Some(Duration::from_secs(n));
    assert!(
        !crate::verify::settle::settled(&r, &seen, s, true, None, w),
        "not complete yet"
    );
    assert!(
        !crate::verify::settle::settled(&r, &seen, s, true, secs(119), w),
        "inside the window"
    );
    assert!(
        crate::verify::settle::settled(&r, &seen, s, true, secs(120), w),
        "window passed"
    );
    assert!(
        crate::verify::settle::settled(&r, &seen, None, false, None, w),
        "nothing more to wait for"
    );
    assert!(
        !crate::verify::settle::settled(&r, &open, None, false, None, w),
        "missed hops stay open"
    );
    assert!(crate::verify::settle::telemetry_complete(&r, &seen));
    assert!(!crate::verify::settle::telemetry_complete(&r, &open));
    // The harness failed before the shell: that hop is inconclusive for
    // good and keeps nothing open; the hops that ran are seen.
    let mut failed = chain();
    failed.status = RunStatus::Failed;
    failed.hops[2].happened = false;
    let v = decide(&failed, None, Ok(telemetry(&failed)), "b", at);
    assert_eq!(v.hops[2].verdict, Verdict::Inconclusive);
    assert!(
        crate::verify::settle::settled(&failed, &v, None, false, None, w),
        "{v:?}"
    );
    assert_eq!(
        crate::verify::settle::next_quiet_end(
            &[Duration::from_secs(30), Duration::from_secs(100)],
            w
        ),
        Some(Duration::from_secs(20))
    );
    assert_eq!(crate::verify::settle::next_quiet_end(&[], w), None);
}

/// The summary under the matrix says how many chains the backend could not
/// see at all, and never counts them fully observed.
#[test]
fn the_summary_names_chains_the_backend_cannot_see() {
    let mut s = scenario();
    s.expect.observe = vec![HopKind::File];
    s.expect.alert = None;
    let mut r = chain();
    let v = decide_seen(
        &r,
        Some(&s),
        Ok(RunAnswer::default()),
        &blind_file(),
        OffsetDateTime::UNIX_EPOCH,
    );
    r.verification = Some(v);
    let record = crate::record::test_records::record(vec![r]);
    let summary = crate::record::summary::Summary::of(&record);
    assert_eq!((summary.chains, summary.fully_observed), (1, 0));
    assert!(
        summary.line().ends_with("; 1 not visible to the backend"),
        "{}",
        summary.line()
    );
}
