use std::time::Duration;

use serde_json::json;

use super::*;
use crate::backend::fake::Fake;
use crate::backend::{AnyBackend, RunAnswer};
use crate::record::{RunStatus, Verdict, test_records};
use crate::telemetry::{Category, Event};
use crate::vocab::HopKind;

/// A run of scenario `id` (ran with text `sha`) whose one hop is the
/// opener, pid 10, with `token`.
fn run(id: &str, sha: &str, token: &str) -> ScenarioRun {
    let mut hop = test_records::hop(1, HopKind::Open, "open");
    hop.pid = Some(10);
    ScenarioRun {
        source_sha256: sha.into(),
        token: token.into(),
        hops: vec![hop],
        ..test_records::scenario(id)
    }
}

fn pending(runs: Vec<ScenarioRun>) -> Pending {
    Pending {
        record: test_records::record(runs),
        scenarios: Vec::new(),
    }
}

/// The backend holds the opener of every run whose token ends in `0`.
fn even(r: &ScenarioRun) -> RunAnswer {
    let f = json!({"ProcessId": 10, "ParentProcessId": 1});
    let events = if r.token.ends_with('0') {
        vec![Event {
            category: Category::ProcessCreation,
            arrived: None,
            at: None,
            hop: None,
            fields: f.as_object().cloned().unwrap_or_default(),
        }]
    } else {
        Vec::new()
    };
    RunAnswer {
        events,
        ..RunAnswer::default()
    }
}

fn polling() -> Polling {
    Polling {
        deadline: Duration::from_secs(5),
        first: Duration::from_secs(2),
        max: Duration::from_secs(2),
        alert_latency: None,
    }
}

fn calls(b: &AnyBackend) -> Vec<usize> {
    match b {
        AnyBackend::Fake(f) => f.calls.lock().map(|c| c.clone()).unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn verdict(r: &ScenarioRun) -> Option<Verdict> {
    r.verification.as_ref().map(|v| v.hops[0].verdict)
}

fn rules() -> RuleSet {
    RuleSet {
        sources: vec!["the SIEM's own content".into()],
        count: 0,
        load: None,
        blind: Vec::new(),
    }
}

/// Three records, one query per round for all their runs; each run's
/// verdict goes back to its own record, in order.
#[tokio::test(start_paused = true)]
async fn every_record_shares_one_query_per_round() {
    let backend = AnyBackend::Fake(Box::new(Fake::new(vec![Ok(even as _)])));
    let mut all = vec![
        pending(vec![
            run("a", "1", "cp00000000a0"),
            run("b", "1", "cp00000000a1"),
        ]),
        pending(vec![run("a", "1", "cp00000000b1")]),
        pending(vec![
            run("a", "1", "cp00000000c0"),
            run("b", "1", "cp00000000c0"),
        ]),
    ];
    again_all(
        &mut all,
        &backend,
        &rules(),
        &[],
        &polling(),
        &crate::stop::never(),
    )
    .await;
    // Round 1 asks for all five runs; the two missed ones are asked again.
    assert_eq!(calls(&backend), [5, 2, 2]);
    let got: Vec<Vec<Option<Verdict>>> = all
        .iter()
        .map(|p| p.record.scenarios.iter().map(verdict).collect())
        .collect();
    let (o, m) = (Some(Verdict::Observed), Some(Verdict::Missed));
    assert_eq!(got, [vec![o, m], vec![m], vec![o, o]]);
    assert!(all.iter().all(|p| p.record.rules == rules()));
}

/// A scenario id two records ran with different texts cannot share one
/// query's expectations: those records go in a batch of their own, asked
/// concurrently, and both are judged.
#[tokio::test(start_paused = true)]
async fn records_that_ran_other_texts_of_one_id_are_batched_apart() {
    let all = [
        pending(vec![run("a", "1", "cp00000000a0")]),
        pending(vec![run("a", "2", "cp00000000b0")]),
        pending(vec![
            run("a", "1", "cp00000000c0"),
            run("b", "9", "cp00000000c0"),
        ]),
        pending(vec![run("b", "9", "cp00000000d0")]),
    ];
    assert_eq!(groups(&all), [vec![0, 2, 3], vec![1]]);
    let mut all = all.to_vec();
    let slow = Fake::new(vec![Ok(even as _)]).slow(Duration::from_secs(1));
    let backend = AnyBackend::Fake(Box::new(slow));
    let start = tokio::time::Instant::now();
    again_all(
        &mut all,
        &backend,
        &rules(),
        &[],
        &polling(),
        &crate::stop::never(),
    )
    .await;
    let mut sizes = calls(&backend);
    sizes.sort_unstable();
    assert_eq!(sizes, [1, 4], "one query per batch");
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(1),
        "the batches ran together"
    );
    assert!(
        all.iter()
            .flat_map(|p| &p.record.scenarios)
            .all(|r| verdict(r) == Some(Verdict::Observed))
    );
}

/// One run whose token no backend could search is inconclusive, named,
/// and never sent; the others of the batch get their verdicts.
#[tokio::test(start_paused = true)]
async fn a_malformed_token_never_spoils_the_batch() {
    let backend = AnyBackend::Fake(Box::new(Fake::new(vec![Ok(even as _)])));
    let mut runs = vec![
        run("a", "1", "cp00000000a0"),
        run("a", "1", "cp0\" OR 1=1"),
        run("a", "1", "cp00000000c0"),
    ];
    verify(
        &mut runs,
        &[],
        &backend,
        &polling(),
        &mut crate::stop::never(),
    )
    .await;
    assert_eq!(calls(&backend), [2]);
    assert_eq!(verdict(&runs[0]), Some(Verdict::Observed));
    assert_eq!(verdict(&runs[2]), Some(Verdict::Observed));
    let bad = runs[1].verification.as_ref().map(|v| &v.chain);
    assert_eq!(bad.map(|c| c.verdict), Some(Verdict::Inconclusive));
    let why = bad.and_then(|c| c.reason.clone()).unwrap_or_default();
    assert!(
        why.contains("cp0\\\" OR 1=1") && why.contains("not a run token"),
        "{why}"
    );
}

/// A backend that failed its check leaves every hop inconclusive with the
/// reason; a run that was not applicable stays so.
#[test]
fn an_unverifiable_record_is_inconclusive_with_the_reason() {
    let mut record = test_records::record(vec![
        run("a", "1", "cp00000000a0"),
        ScenarioRun {
            status: RunStatus::NotApplicable,
            reason: Some("no privilege to mount".into()),
            ..run("b", "1", "cp00000000a1")
        },
    ]);
    let why = "query backend lab: request failed: connection refused at 127.0.0.1:9";
    unverifiable(&mut record, &[], "lab", why);
    let first = record.scenarios[0].verification.as_ref();
    assert_eq!(first.map(|v| v.backend.as_str()), Some("lab"));
    for v in first.iter().flat_map(|v| &v.hops) {
        assert_eq!(
            (v.verdict, v.reason.as_deref()),
            (Verdict::Inconclusive, Some(why))
        );
    }
    assert_eq!(
        record.scenarios[1]
            .verification
            .as_ref()
            .map(|v| v.chain.verdict),
        Some(Verdict::NotApplicable)
    );
}

/// `verify` names each record's blind rules from that record's own
/// answers, as a run does: a rule testing `ParentImage` can never fire on
/// events that hold only process ids.
#[tokio::test(start_paused = true)]
async fn each_record_names_the_rules_its_answers_can_never_fire() {
    let yaml = "title: Parent shell\nid: p1\nlogsource:\n  category: process_creation\n\
                detection:\n  sel:\n    ParentImage|endswith: '/soffice.bin'\n  condition: sel\n";
    let collection = rsigma_parser::parse_sigma_yaml(yaml).unwrap_or_else(|e| panic!("{e}"));
    let needs: Vec<crate::detect::needs::Needs> = collection
        .rules
        .iter()
        .map(crate::detect::needs::Needs::of)
        .collect();
    let backend = AnyBackend::Fake(Box::new(Fake::new(vec![Ok(even as _)])));
    let mut all = vec![
        pending(vec![run("a", "1", "cp00000000a0")]),
        pending(vec![run("a", "1", "cp00000000b1")]),
    ];
    again_all(
        &mut all,
        &backend,
        &rules(),
        &needs,
        &polling(),
        &crate::stop::never(),
    )
    .await;
    let blind: Vec<Vec<String>> = all
        .iter()
        .map(|p| {
            p.record
                .rules
                .blind
                .iter()
                .map(|b| b.rule.clone())
                .collect()
        })
        .collect();
    // The first record's answer holds a process event without ParentImage;
    // the second's holds no event, so no rule is judged against it.
    assert_eq!(blind, [vec!["p1".to_string()], vec![]]);
}
