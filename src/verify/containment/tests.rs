use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::backend::Response;
use crate::record::{Grade, test_records};
use crate::telemetry::{Category, Event};
use crate::vocab::HopKind;

fn t(ms: i64) -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::milliseconds(ms)
}

/// A chain: the file, the opener (pid 10) and a shell (pid 11) that ran
/// or, when `shell_ran` is false, that the harness saw never start.
fn hops(shell_ran: bool) -> Vec<HopTruth> {
    let open = HopTruth {
        pid: Some(10),
        at: Some(t(1_000)),
        happened: true,
        expected: "soffice.bin".into(),
        ..test_records::hop(1, HopKind::Open, "open soffice.bin")
    };
    let shell = HopTruth {
        pid: shell_ran.then_some(11),
        parent_pid: Some(10),
        at: shell_ran.then(|| t(2_000)),
        happened: shell_ran,
        expected: "/usr/bin/dash".into(),
        ..test_records::hop(2, HopKind::Spawn, "spawn dash")
    };
    vec![test_records::hop(0, HopKind::File, "file"), open, shell]
}

fn raised(event: serde_json::Value, responses: Vec<Response>) -> BackendAlert {
    BackendAlert {
        rule_id: None,
        rule_title: "Doc spawns shell".into(),
        level: None,
        tags: vec![],
        at: Some(t(3_000)),
        event: Event {
            category: Category::ProcessCreation,
            arrived: None,
            at: None,
            hop: None,
            fields: event.as_object().cloned().unwrap_or_default(),
        },
        responses,
    }
}

fn recorded(hop: Option<usize>) -> Alert {
    Alert {
        rule_id: None,
        rule_title: "Doc spawns shell".into(),
        level: None,
        tags: vec![],
        grade: Grade::General,
        hop,
        at: t(3_000),
        at_unknown: false,
    }
}

fn response(kind: ResponseKind, action: &str, at: Option<i64>) -> Response {
    Response {
        kind,
        action: action.into(),
        at: at.map(t),
    }
}

#[test]
fn no_alert_says_nothing_and_an_alert_without_action_is_alerted_only() {
    assert_eq!(of(&hops(true), &[], &[]), None);
    let c = of(
        &hops(true),
        &[raised(json!({"ProcessId": 11}), vec![])],
        &[recorded(Some(2))],
    );
    assert_eq!(
        c.map(|c| (c.state, c.by, c.hop)),
        Some((ContainmentState::AlertedOnly, None, None))
    );
}

#[test]
fn a_kill_is_contained_timed_from_the_hop_to_the_products_own_time() {
    let a = raised(
        json!({"ProcessId": 11}),
        vec![
            response(ResponseKind::Contained, "process killed", Some(2_750)),
            // The same action on a second evidence row is one action.
            response(ResponseKind::Contained, "process killed", Some(2_750)),
        ],
    );
    let c = of(&hops(true), &[a], &[recorded(Some(2))]).unwrap_or_else(|| panic!("none"));
    assert_eq!(c.state, ContainmentState::Contained);
    assert_eq!((c.hop, c.by.as_deref()), (Some(2), Some("process killed")));
    assert_eq!(c.time_to_containment_ms, Some(750));
    assert_eq!(c.confirmed_by_harness, None);
    assert_eq!(c.responses.len(), 1);
}

#[test]
fn an_undated_response_leaves_the_time_unknown() {
    let a = raised(
        json!({"ProcessId": 11}),
        vec![response(ResponseKind::Contained, "Quarantined", None)],
    );
    let c = of(&hops(true), &[a], &[recorded(Some(2))]).unwrap_or_else(|| panic!("none"));
    assert_eq!(
        (c.state, c.at, c.time_to_containment_ms),
        (ContainmentState::Contained, None, None)
    );
}

#[test]
fn a_prevention_naming_the_hop_the_kernel_never_saw_is_blocked_by_the_product() {
    // The verdict logic ties no alert to a hop that did not happen: the
    // alert names it by image and parent.
    let a = raised(
        json!({"Image": "C:\\Windows\\System32\\DASH", "ParentProcessId": 10}),
        vec![
            response(ResponseKind::Contained, "Quarantined", Some(900)),
            response(ResponseKind::Blocked, "Prevented", Some(1_200)),
        ],
    );
    let c = of(&hops(false), &[a], &[recorded(None)]).unwrap_or_else(|| panic!("none"));
    assert_eq!(c.state, ContainmentState::Blocked);
    assert_eq!((c.hop, c.by.as_deref()), (Some(2), Some("Prevented")));
    assert_eq!(c.confirmed_by_harness, Some(true));
    // The blocked hop has no time of its own: unknown, never guessed.
    assert_eq!(c.time_to_containment_ms, None);
    assert_eq!(c.responses.len(), 2);
}

#[test]
fn a_prevention_the_harness_saw_run_anyway_is_not_confirmed() {
    let a = raised(
        json!({"ProcessId": 11}),
        vec![response(ResponseKind::Blocked, "Prevented", Some(2_100))],
    );
    let c = of(&hops(true), &[a], &[recorded(Some(2))]).unwrap_or_else(|| panic!("none"));
    assert_eq!(c.state, ContainmentState::Blocked);
    assert_eq!(c.confirmed_by_harness, Some(false));
    assert_eq!(c.time_to_containment_ms, Some(100));
}

#[test]
fn an_alert_naming_another_parent_does_not_name_the_blocked_hop() {
    let a = raised(
        json!({"Image": "/usr/bin/dash", "ParentProcessId": 99}),
        vec![response(ResponseKind::Blocked, "Prevented", None)],
    );
    let c = of(&hops(false), &[a], &[recorded(None)]).unwrap_or_else(|| panic!("none"));
    assert_eq!(
        (c.state, c.hop, c.confirmed_by_harness),
        (ContainmentState::Blocked, None, None)
    );
}

#[test]
fn decide_carries_containment_visibility_and_untied_rows_into_the_record() {
    let run = crate::record::ScenarioRun {
        hops: hops(true),
        ..test_records::scenario("s")
    };
    let answer = crate::backend::RunAnswer {
        events: vec![raised(json!({"ProcessId": 11, "CommandLine": "dash"}), vec![]).event],
        alerts: vec![raised(
            json!({"ProcessId": 11}),
            vec![response(
                ResponseKind::Contained,
                "process killed",
                Some(2_500),
            )],
        )],
        answered_at: Some(t(5_000)),
        untied: crate::backend::Untied {
            count: 12,
            sample: vec!["{\"notable\":1}".into()],
        },
    };
    let v = crate::verify::decide(&run, None, Ok(answer), "fake", t(6_000));
    let c = v.containment.unwrap_or_else(|| panic!("no containment"));
    assert_eq!(
        (c.state, c.time_to_containment_ms),
        (ContainmentState::Contained, Some(500))
    );
    assert_eq!(v.untied.count, 12);
    assert_eq!(
        v.visibility.iter().map(|h| h.index).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    // A backend that could not answer says nothing of either.
    let v = crate::verify::decide(&run, None, Err("down".into()), "fake", t(6_000));
    assert!(v.containment.is_none() && v.visibility.is_empty() && v.untied.is_empty());
}

/// The Fake backend answers a prevention for the shell the harness saw
/// never start; the whole verification records it as blocked by the product.
#[tokio::test(start_paused = true)]
async fn a_verification_through_a_backend_records_what_the_product_did() {
    use crate::backend::AnyBackend;
    use crate::backend::fake::Fake;
    fn prevented(_: &crate::record::ScenarioRun) -> crate::backend::RunAnswer {
        crate::backend::RunAnswer {
            alerts: vec![raised(
                json!({"Image": "/usr/bin/dash", "ParentProcessId": 10}),
                vec![response(ResponseKind::Blocked, "Prevented", Some(1_500))],
            )],
            answered_at: Some(t(5_000)),
            ..Default::default()
        }
    }
    let backend = AnyBackend::Fake(Box::new(Fake::new(vec![Ok(prevented)])));
    let mut runs = vec![crate::record::ScenarioRun {
        hops: hops(false),
        ..test_records::scenario("s")
    }];
    crate::verify::verify(
        &mut runs,
        &[],
        &backend,
        &crate::verify::Polling {
            deadline: std::time::Duration::from_secs(4),
            ..Default::default()
        },
        &mut crate::stop::never(),
    )
    .await;
    let c = runs[0]
        .verification
        .as_ref()
        .and_then(|v| v.containment.clone())
        .unwrap_or_else(|| panic!("no containment"));
    assert_eq!(
        (c.state, c.hop, c.confirmed_by_harness, c.by.as_deref()),
        (
            ContainmentState::Blocked,
            Some(2),
            Some(true),
            Some("Prevented")
        )
    );
}
