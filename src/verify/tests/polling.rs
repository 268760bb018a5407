//! Polling rounds, batching and deadlines, on tokio's paused clock.
use std::time::Duration;

use super::*;
use crate::backend::AnyBackend;
use crate::backend::fake::{Fake, Round};

fn nothing(_: &ScenarioRun) -> RunAnswer {
    RunAnswer::default()
}

fn everything(r: &ScenarioRun) -> RunAnswer {
    let pid = |i: usize| r.hops.get(i).and_then(|h| h.pid).unwrap_or_default();
    RunAnswer {
        untied: Default::default(),
        events: vec![
            file_event("/w/Downloads/a.odt"),
            proc_event(pid(1), 1),
            proc_event(pid(2), pid(1)),
        ],
        alerts: vec![BackendAlert {
            responses: Vec::new(),
            rule_id: Some("305adda7-dc83-4e73-b683-2c709d9cc250".into()),
            rule_title: "doc spawns shell".into(),
            level: None,
            tags: vec!["attack.t1204.002".into()],
            at: Some(OffsetDateTime::UNIX_EPOCH),
            event: proc_event(pid(2), pid(1)),
        }],
        answered_at: None,
    }
}

fn polling() -> Polling {
    Polling {
        deadline: Duration::from_secs(60),
        first: Duration::from_secs(2),
        max: Duration::from_secs(8),
        alert_latency: None,
    }
}

/// Verifies `runs` of the shipped scenario with `backend`, unstoppable.
async fn verify_all(runs: &mut [ScenarioRun], backend: &AnyBackend) {
    verify(
        runs,
        &[scenario()],
        backend,
        &polling(),
        &mut crate::stop::never(),
    )
    .await;
}

fn calls(b: &AnyBackend) -> Vec<usize> {
    match b {
        AnyBackend::Fake(f) => f.calls.lock().map(|c| c.clone()).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Telemetry lags: two empty rounds, then everything. Every round is one
/// batched query for all pending runs; the clock is tokio's paused one.
#[tokio::test(start_paused = true)]
async fn polls_with_backoff_until_every_run_is_settled() {
    let script: Vec<Round> = vec![Ok(nothing), Ok(nothing), Ok(everything)];
    let backend = AnyBackend::Fake(Box::new(Fake::new(script)));
    let mut runs = vec![chain(), chain(), chain()];
    let start = tokio::time::Instant::now();
    verify_all(&mut runs, &backend).await;
    assert_eq!(
        calls(&backend),
        [3, 3, 3],
        "one batched query per round for every pending run"
    );
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(2 + 4),
        "waits of 2 s then 4 s"
    );
    for r in &runs {
        assert_eq!(
            r.verification.as_ref().map(|v| v.chain.verdict),
            Some(Verdict::Alerted)
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_backend_failing_until_the_deadline_leaves_inconclusive() {
    let backend = AnyBackend::Fake(Box::new(Fake::new(vec![Err(
        "HTTP 500 Internal Server Error".into(),
    )])));
    let mut runs = vec![chain()];
    let start = tokio::time::Instant::now();
    verify_all(&mut runs, &backend).await;
    let v = runs[0]
        .verification
        .clone()
        .unwrap_or_else(|| panic!("no verification"));
    assert!(v.hops.iter().all(|h| h.verdict == Verdict::Inconclusive));
    assert_eq!(v.chain.verdict, Verdict::Inconclusive);
    // Rounds at 0, 2, 6, 14, 22, 30, 38, 46, 54 s; the next would pass 60 s.
    assert_eq!(calls(&backend).len(), 9);
    assert!(start.elapsed() <= Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn settled_runs_leave_the_batch_and_missed_stays_missed_at_the_deadline() {
    fn first_only(r: &ScenarioRun) -> RunAnswer {
        if r.token.ends_with('1') {
            everything(r)
        } else {
            RunAnswer::default()
        }
    }
    let backend = AnyBackend::Fake(Box::new(Fake::new(vec![Ok(first_only)])));
    let mut a = chain();
    a.token = "cp0000000001".into();
    let mut b = chain();
    b.token = "cp0000000002".into();
    let mut runs = vec![a, b];
    verify_all(&mut runs, &backend).await;
    let sizes = calls(&backend);
    assert_eq!(sizes[0], 2);
    assert!(sizes[1..].iter().all(|n| *n == 1), "{sizes:?}");
    assert_eq!(
        runs[1].verification.as_ref().map(|v| v.chain.verdict),
        Some(Verdict::Missed)
    );
}

/// The deadline holds within a round: a backend still answering when it
/// passes does not stretch verification. A run no round has answered is
/// inconclusive, saying why; a run an earlier round judged keeps that.
#[tokio::test(start_paused = true)]
async fn the_deadline_cuts_a_round_in_flight() {
    let slow = |delay| AnyBackend::Fake(Box::new(Fake::new(vec![Ok(nothing)]).slow(delay)));
    // The first answer would come after 100 s; the deadline is 60 s.
    let backend = slow(Duration::from_secs(100));
    let mut runs = vec![chain()];
    let start = tokio::time::Instant::now();
    verify_all(&mut runs, &backend).await;
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    let v = runs[0]
        .verification
        .clone()
        .unwrap_or_else(|| panic!("no verification"));
    assert!(
        v.hops.iter().all(|h| h.verdict == Verdict::Inconclusive),
        "{v:?}"
    );
    assert!(
        v.hops[0]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("deadline (1m) passed before backend fake answered")),
        "{:?}",
        v.hops[0].reason
    );
    // Answers take 25 s: rounds end at 25 s and 52 s; the third starts at
    // 56 s and is cut at 60 s, unanswered (the fake counts answers), and the
    // missed verdicts of the second stay.
    let backend = slow(Duration::from_secs(25));
    let mut runs = vec![chain()];
    let start = tokio::time::Instant::now();
    verify_all(&mut runs, &backend).await;
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    assert_eq!(calls(&backend).len(), 2);
    assert_eq!(
        runs[0].verification.as_ref().map(|v| v.chain.verdict),
        Some(Verdict::Missed)
    );
}

/// Rounds fail, then the deadline cuts one in flight: the reason says the
/// deadline came while the backend was asked again, and its last error.
#[tokio::test(start_paused = true)]
async fn a_deadline_cut_after_failed_rounds_says_the_last_error() {
    let script: Vec<Round> = vec![Err("HTTP 500 first".into()), Err("HTTP 503 second".into())];
    let backend = AnyBackend::Fake(Box::new(Fake::new(script).slow(Duration::from_secs(25))));
    let mut runs = vec![chain()];
    verify_all(&mut runs, &backend).await;
    // Failed answers at 25 s and 52 s; the round from 56 s is cut at 60 s.
    assert_eq!(calls(&backend).len(), 2);
    let v = runs[0]
        .verification
        .clone()
        .unwrap_or_else(|| panic!("no verification"));
    assert_eq!(v.chain.verdict, Verdict::Inconclusive);
    let reason = v.chain.reason.unwrap_or_default();
    assert!(
        reason.contains("HTTP 503 second — the verification deadline (1m) passed while backend fake was asked again"),
        "{reason}"
    );
}

/// Telemetry never comes; a stop signal 3 s in ends verification at once
/// instead of at the 60 s deadline.
#[tokio::test(start_paused = true)]
async fn a_stop_between_rounds_ends_verification_with_interrupted_hops() {
    let backend = AnyBackend::Fake(Box::new(Fake::new(vec![Ok(nothing)])));
    let mut runs = vec![chain()];
    let (tx, mut stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let _ = tx.send(true);
    });
    let start = tokio::time::Instant::now();
    verify(&mut runs, &[scenario()], &backend, &polling(), &mut stop).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert_eq!(calls(&backend).len(), 2, "rounds at 0 s and 2 s only");
    let v = runs[0]
        .verification
        .clone()
        .unwrap_or_else(|| panic!("no verification"));
    for h in &v.hops {
        assert_eq!(h.verdict, Verdict::Inconclusive, "{h:?}");
        assert_eq!(h.reason.as_deref(), Some(INTERRUPTED), "{h:?}");
    }
    assert_eq!(v.chain.verdict, Verdict::Inconclusive);
    assert_eq!(v.chain.reason.as_deref(), Some(INTERRUPTED));
}

#[tokio::test(start_paused = true)]
async fn a_stop_before_verification_asks_nothing() {
    let backend = AnyBackend::Fake(Box::new(Fake::new(vec![Ok(everything)])));
    let mut runs = vec![chain()];
    let (tx, mut stop) = tokio::sync::watch::channel(false);
    let _ = tx.send(true);
    verify(&mut runs, &[scenario()], &backend, &polling(), &mut stop).await;
    assert!(calls(&backend).is_empty(), "{:?}", calls(&backend));
    let v = runs[0]
        .verification
        .clone()
        .unwrap_or_else(|| panic!("no verification"));
    assert!(
        v.hops
            .iter()
            .all(|h| h.verdict == Verdict::Inconclusive
                && h.reason.as_deref() == Some(INTERRUPTED))
    );
}

/// What was decided stays: an observed hop stays observed, and an alert
/// that arrived keeps the chain `alerted`; only open hops change.
#[test]
fn an_interruption_keeps_what_was_decided() {
    let mut run = chain();
    let mut answer = everything(&run);
    // The file hop's telemetry has not arrived; the alert has.
    answer.events.remove(0);
    run.verification = Some(decide(
        &run,
        Some(&scenario()),
        Ok(answer),
        "fake",
        OffsetDateTime::UNIX_EPOCH,
    ));
    let before = run.verification.clone().unwrap_or_else(|| panic!("none"));
    let after = interrupted(&run, Some(&scenario()), "fake", OffsetDateTime::UNIX_EPOCH);
    for (b, a) in before.hops.iter().zip(&after.hops) {
        match b.verdict {
            Verdict::Missed => {
                assert_eq!(a.verdict, Verdict::Inconclusive);
                assert_eq!(a.reason.as_deref(), Some(INTERRUPTED));
            }
            other => assert_eq!(a.verdict, other),
        }
    }
    assert!(
        before.hops.iter().any(|h| h.verdict == Verdict::Missed),
        "the fixture must leave a hop open: {before:?}"
    );
    assert_eq!(before.chain.verdict, Verdict::Alerted);
    assert_eq!(after.chain.verdict, Verdict::Alerted);
}

/// The local backend answers from the harness's own capture at once: a
/// stop during the runs does not take the verdicts of the chains that ran.
#[tokio::test]
async fn an_offline_backend_still_answers_after_a_stop() {
    let rules = crate::detect::Rules::load(&[]).unwrap_or_else(|e| panic!("{e}"));
    let backend = AnyBackend::chosen(None, rules).unwrap_or_else(|e| panic!("{e}"));
    assert!(!backend.polls());
    let mut runs = vec![chain()];
    let (_tx, mut stop) = tokio::sync::watch::channel(true);
    verify(&mut runs, &[scenario()], &backend, &polling(), &mut stop).await;
    let v = runs[0]
        .verification
        .clone()
        .unwrap_or_else(|| panic!("no verification"));
    assert!(
        v.hops
            .iter()
            .all(|h| h.reason.as_deref() != Some(INTERRUPTED)),
        "{v:?}"
    );
}
