use serde_json::json;
use time::OffsetDateTime;

use super::*;
use crate::backend::{BackendAlert, RunAnswer};
use crate::record::{
    Alert, Grade, HopTruth, RunStatus, ScenarioRun, Verdict, Verification, test_records,
};
use crate::telemetry::{Category, Event};
use crate::vocab::HopKind;
use chain::missing_rules;

fn hop(index: usize, kind: HopKind, pid: Option<u32>, happened: bool) -> HopTruth {
    HopTruth {
        expected: String::new(),
        pid,
        path: (kind == HopKind::File).then(|| "/w/Downloads/a.odt".to_string()),
        at: Some(OffsetDateTime::UNIX_EPOCH),
        happened,
        reason: (!happened).then(|| "did not run".to_string()),
        ..test_records::hop(index, kind, &format!("hop{index}"))
    }
}

fn run(hops: Vec<HopTruth>) -> ScenarioRun {
    ScenarioRun {
        hops,
        ..test_records::scenario("s")
    }
}

fn proc_event(pid: u32, ppid: u32) -> Event {
    let f = json!({"ProcessId": pid, "ParentProcessId": ppid, "Image": "/usr/bin/dash"});
    Event {
        category: Category::ProcessCreation,
        arrived: None,
        at: None,
        hop: None,
        fields: f.as_object().cloned().unwrap_or_default(),
    }
}

fn file_event(path: &str) -> Event {
    let f = json!({"TargetFilename": path});
    Event {
        category: Category::FileEvent,
        arrived: None,
        at: None,
        hop: None,
        fields: f.as_object().cloned().unwrap_or_default(),
    }
}

fn chain() -> ScenarioRun {
    run(vec![
        hop(0, HopKind::File, None, true),
        hop(1, HopKind::Open, Some(10), true),
        hop(2, HopKind::Spawn, Some(11), true),
    ])
}

/// The shipped macro-doc-shell scenario: every hop kind must be observed,
/// within 5 minutes, and its own rule is expected.
fn scenario() -> crate::scenario::Scenario {
    let loaded = crate::scenario::load_paths(&[]).unwrap_or_default();
    let s = loaded
        .into_iter()
        .find(|l| l.scenario.id == "macro-doc-shell");
    s.map(|l| l.scenario)
        .unwrap_or_else(|| panic!("embedded macro-doc-shell missing"))
}

fn decide_with(r: &ScenarioRun, answer: Result<RunAnswer, String>) -> Verification {
    decide(
        r,
        Some(&scenario()),
        answer,
        "test",
        OffsetDateTime::UNIX_EPOCH,
    )
}

#[test]
fn all_telemetry_and_an_alert_give_alerted_with_linkage() {
    let r = chain();
    let alert = BackendAlert {
        responses: Vec::new(),
        rule_id: Some("r1".into()),
        rule_title: "Doc spawns shell".into(),
        level: Some("high".into()),
        tags: vec!["attack.t1204.002".into()],
        at: Some(OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(250)),
        event: proc_event(11, 10),
    };
    let answer = RunAnswer {
        untied: Default::default(),
        events: vec![
            file_event("/w/Downloads/a.odt"),
            proc_event(10, 1),
            proc_event(11, 10),
        ],
        alerts: vec![alert],
        answered_at: Some(OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(100)),
    };
    let v = decide_with(&r, Ok(answer));
    let verdicts: Vec<Verdict> = v.hops.iter().map(|h| h.verdict).collect();
    assert_eq!(
        verdicts,
        [Verdict::Observed, Verdict::Observed, Verdict::Alerted]
    );
    assert_eq!(v.hops[2].grade, Some(Grade::Technique));
    assert_eq!(v.hops[2].time_to_alert_ms, Some(250));
    assert_eq!(v.hops[2].linked, Some(true));
    assert_eq!(v.hops[1].time_to_telemetry_ms, Some(100));
    assert_eq!(
        (v.chain.verdict, v.chain.grade, v.chain.fully_observed),
        (Verdict::Alerted, Some(Grade::Technique), true)
    );
    assert_eq!(v.alerts[0].hop, Some(2));
}

#[test]
fn missing_telemetry_is_missed_and_unlinked_parents_are_flagged() {
    let r = chain();
    let answer = RunAnswer {
        untied: Default::default(),
        events: vec![proc_event(10, 1), proc_event(11, 99)],
        alerts: vec![],
        answered_at: None,
    };
    let v = decide_with(&r, Ok(answer));
    assert_eq!(v.hops[0].verdict, Verdict::Missed);
    assert_eq!(v.hops[2].linked, Some(false));
    assert_eq!(v.chain.verdict, Verdict::Missed);
    assert!(!v.chain.fully_observed);
}

#[test]
fn a_backend_failure_is_inconclusive_never_missed() {
    let v = decide_with(&chain(), Err("HTTP 503 from backend".into()));
    assert!(v.hops.iter().all(|h| h.verdict == Verdict::Inconclusive));
    assert_eq!(v.chain.verdict, Verdict::Inconclusive);
    assert_eq!(v.chain.reason.as_deref(), Some("HTTP 503 from backend"));
}

#[test]
fn hops_that_did_not_run_are_blocked_with_their_reason() {
    let r = run(vec![
        hop(0, HopKind::File, None, true),
        hop(1, HopKind::Open, Some(10), true),
        hop(2, HopKind::Spawn, None, false),
    ]);
    let answer = RunAnswer {
        untied: Default::default(),
        events: vec![file_event("/w/Downloads/a.odt"), proc_event(10, 1)],
        alerts: vec![],
        answered_at: None,
    };
    let v = decide_with(&r, Ok(answer));
    assert_eq!(v.hops[2].verdict, Verdict::Blocked);
    assert_eq!(v.hops[2].reason.as_deref(), Some("did not run"));
    assert_eq!(v.chain.verdict, Verdict::Blocked);
}

#[test]
fn not_applicable_runs_stay_not_applicable() {
    let mut r = run(vec![]);
    r.status = RunStatus::NotApplicable;
    r.reason = Some("no windows variant".into());
    let v = decide(
        &r,
        None,
        Ok(RunAnswer::default()),
        "test",
        OffsetDateTime::UNIX_EPOCH,
    );
    assert_eq!(v.chain.verdict, Verdict::NotApplicable);
    assert_eq!(v.chain.reason.as_deref(), Some("no windows variant"));
}

#[test]
fn a_run_stopped_before_any_hop_is_inconclusive_with_its_reason() {
    let mut r = run(vec![]);
    r.status = RunStatus::Interrupted;
    r.reason = Some("not started: the run was stopped".into());
    let v = decide(
        &r,
        None,
        Ok(RunAnswer::default()),
        "test",
        OffsetDateTime::UNIX_EPOCH,
    );
    assert_eq!(v.chain.verdict, Verdict::Inconclusive);
    assert_eq!(
        v.chain.reason.as_deref(),
        Some("not started: the run was stopped")
    );
}

#[test]
fn expected_rules_are_matched_by_id_or_title() {
    let alert = |id: &str, title: &str| Alert {
        rule_id: Some(id.into()),
        rule_title: title.into(),
        level: None,
        tags: vec![],
        grade: Grade::General,
        hop: None,
        at: OffsetDateTime::UNIX_EPOCH,
        at_unknown: false,
    };
    let alerts = [alert("a-1", "Doc Spawns Shell"), alert("b-2", "Other")];
    let expected: Vec<String> = ["a-1", "doc spawns shell", "c-3", "Missing Title"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(missing_rules(&expected, &alerts), ["c-3", "Missing Title"]);
}

#[test]
fn a_harness_failure_is_inconclusive_not_blocked() {
    let mut r = run(vec![
        hop(0, HopKind::File, None, false),
        hop(1, HopKind::Open, None, false),
    ]);
    r.status = RunStatus::Failed;
    r.reason = Some("GET http://127.0.0.1:1/: connection refused".into());
    let v = decide_with(&r, Ok(RunAnswer::default()));
    assert!(
        v.hops.iter().all(|h| h.verdict == Verdict::Inconclusive),
        "{:?}",
        v.hops
    );
    assert!(
        v.hops[0]
            .reason
            .as_deref()
            .is_some_and(|x| x.contains("connection refused"))
    );
    assert_eq!(v.chain.verdict, Verdict::Inconclusive);
}

#[test]
fn an_alert_past_the_budget_is_delayed() {
    let r = chain();
    let late = BackendAlert {
        responses: Vec::new(),
        rule_id: Some("305adda7-dc83-4e73-b683-2c709d9cc250".into()),
        rule_title: "late".into(),
        level: None,
        tags: vec!["attack.execution".into()],
        at: Some(OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(6)),
        event: proc_event(11, 10),
    };
    let answer = RunAnswer {
        untied: Default::default(),
        events: vec![
            file_event("/w/Downloads/a.odt"),
            proc_event(10, 1),
            proc_event(11, 10),
        ],
        alerts: vec![late],
        answered_at: None,
    };
    let v = decide_with(&r, Ok(answer));
    assert!(v.hops[2].delayed);
    assert_eq!(v.hops[2].grade, Some(Grade::Tactic));
    assert!(
        v.chain.expected_rules_missing.is_empty(),
        "the expected rule fired, late"
    );
}

mod latency;
mod polling;
mod settle;

/// A negative control: an alert on it is a false positive, counted in the
/// summary and failing `--require`; without one it passes.
#[test]
fn an_alert_on_a_negative_control_is_a_false_positive() {
    let mut r = chain();
    r.negative_control = true;
    let events = vec![
        file_event("/w/Downloads/a.odt"),
        proc_event(10, 1),
        proc_event(11, 10),
    ];
    let quiet = RunAnswer {
        untied: Default::default(),
        events: events.clone(),
        alerts: vec![],
        answered_at: Some(OffsetDateTime::UNIX_EPOCH),
    };
    let v = decide(&r, None, Ok(quiet), "test", OffsetDateTime::UNIX_EPOCH);
    assert_eq!(v.chain.verdict, Verdict::Observed);
    assert!(!v.chain.false_positive);
    let noisy = RunAnswer {
        untied: Default::default(),
        events,
        alerts: vec![BackendAlert {
            responses: Vec::new(),
            rule_id: Some("r1".into()),
            rule_title: "Editor spawned".into(),
            level: Some("low".into()),
            tags: vec![],
            at: Some(OffsetDateTime::UNIX_EPOCH),
            event: proc_event(11, 10),
        }],
        answered_at: Some(OffsetDateTime::UNIX_EPOCH),
    };
    let fp = decide(&r, None, Ok(noisy), "test", OffsetDateTime::UNIX_EPOCH);
    assert!(fp.chain.false_positive);
    assert!(
        fp.chain
            .reason
            .as_deref()
            .is_some_and(|t| t.contains("Editor spawned")),
        "{:?}",
        fp.chain.reason
    );
    let mut record = crate::record::RunRecord {
        schema: crate::record::SCHEMA.into(),
        run_id: "cp0000000001".into(),
        chainproof_version: "0".into(),
        started_at: OffsetDateTime::UNIX_EPOCH,
        finished_at: OffsetDateTime::UNIX_EPOCH,
        host: crate::record::Host {
            name: "lab".into(),
            platform: crate::vocab::Platform::Linux,
            os: "Debian".into(),
            kernel: "6".into(),
            user: "root".into(),
            privileged: true,
            environment: None,
        },
        rules: crate::record::RuleSet {
            sources: vec![],
            count: 0,
            load: None,
            blind: Vec::new(),
        },
        scenarios: vec![],
        targets_not_run: Vec::new(),
    };
    r.verification = Some(v);
    record.scenarios = vec![r.clone()];
    assert!(
        !crate::suite::meets(&record, "alerted"),
        "controls alone prove nothing"
    );
    // An alerted attack chain beside the control: the policy's answer then
    // depends on the control alone.
    let mut attack = chain();
    let alert = BackendAlert {
        responses: Vec::new(),
        rule_id: Some("r2".into()),
        rule_title: "Doc spawns shell".into(),
        level: Some("high".into()),
        tags: vec!["attack.t1204.002".into()],
        at: Some(OffsetDateTime::UNIX_EPOCH),
        event: proc_event(11, 10),
    };
    attack.verification = Some(decide_with(
        &attack,
        Ok(RunAnswer {
            untied: Default::default(),
            events: vec![
                file_event("/w/Downloads/a.odt"),
                proc_event(10, 1),
                proc_event(11, 10),
            ],
            alerts: vec![alert],
            answered_at: Some(OffsetDateTime::UNIX_EPOCH),
        }),
    ));
    record.scenarios = vec![attack.clone(), r.clone()];
    assert!(
        crate::suite::meets(&record, "alerted"),
        "a quiet control passes"
    );
    let matrix = crate::report::matrix::Matrix::of(&record);
    assert_eq!(matrix.rows[1].chain, "no alert (control)");
    let junit = crate::report::render(&record, crate::report::Format::Junit);
    assert!(!junit.contains("false-positive"), "{junit}");
    r.verification = Some(fp);
    record.scenarios = vec![attack, r];
    let matrix = crate::report::matrix::Matrix::of(&record);
    assert!(
        matrix.rows[1].chain.starts_with("FALSE POSITIVE"),
        "{}",
        matrix.rows[1].chain
    );
    assert_eq!(
        (matrix.summary.controls, matrix.summary.false_positives),
        (1, 1)
    );
    assert!(
        matrix
            .summary
            .line()
            .contains("1 negative control: 1 false positive")
    );
    assert!(!crate::suite::meets(&record, "alerted"));
    assert!(!crate::suite::meets(&record, "observed"));
    let junit = crate::report::render(&record, crate::report::Format::Junit);
    assert!(junit.contains(r#"type="false-positive""#), "{junit}");
}
