//! Latency figures: measured from the backend's arrival time where the
//! event has one, else only bounded by the poll that found it.
use super::*;
use crate::record::Basis;

fn at(ms: i64) -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(ms)
}

fn sight() -> Sight {
    Sight {
        arrival: Some("_indextime"),
        ..Sight::named("b")
    }
}

#[test]
fn a_hop_with_an_arrival_time_is_measured_from_it() {
    let r = chain();
    let mut open = proc_event(10, 1);
    open.arrived = Some(at(1_500));
    // A duplicate that arrived later does not make the hop later.
    let mut again = proc_event(10, 1);
    again.arrived = Some(at(9_000));
    let answer = RunAnswer {
        events: vec![file_event("/w/Downloads/a.odt"), again, open],
        // The poll came long after: that is not the telemetry's latency.
        answered_at: Some(at(280_000)),
        ..RunAnswer::default()
    };
    let v = decide_seen(&r, None, Ok(answer), &sight(), OffsetDateTime::UNIX_EPOCH);
    assert_eq!(v.hops[1].time_to_telemetry_ms, Some(1_500));
    assert_eq!(
        v.hops[1].telemetry_basis,
        Some(Basis::Measured("_indextime".into()))
    );
    // The file event has no arrival time: bounded by the poll.
    assert_eq!(v.hops[0].time_to_telemetry_ms, Some(280_000));
    assert_eq!(v.hops[0].telemetry_basis, Some(Basis::Polling));
    // A hop without telemetry has no figure, and no basis.
    assert_eq!(v.hops[2].time_to_telemetry_ms, None);
    assert_eq!(v.hops[2].telemetry_basis, None);
}

#[test]
fn without_any_time_there_is_no_figure_and_no_basis() {
    let r = chain();
    let answer = RunAnswer {
        events: vec![proc_event(10, 1)],
        answered_at: None,
        ..RunAnswer::default()
    };
    let v = decide_seen(&r, None, Ok(answer), &sight(), OffsetDateTime::UNIX_EPOCH);
    assert_eq!(v.hops[1].verdict, Verdict::Observed);
    assert_eq!(v.hops[1].time_to_telemetry_ms, None);
    assert_eq!(v.hops[1].telemetry_basis, None);
}

#[test]
fn an_alert_is_timed_by_its_own_time_and_says_so() {
    let r = chain();
    let answer = RunAnswer {
        events: vec![proc_event(11, 10)],
        alerts: vec![BackendAlert {
            responses: Vec::new(),
            rule_id: None,
            rule_title: "t".into(),
            level: None,
            tags: vec![],
            at: Some(at(4_000)),
            event: proc_event(11, 10),
        }],
        answered_at: Some(at(60_000)),
        ..RunAnswer::default()
    };
    let v = decide_seen(&r, None, Ok(answer), &sight(), OffsetDateTime::UNIX_EPOCH);
    assert_eq!(v.hops[2].time_to_alert_ms, Some(4_000));
    assert_eq!(
        v.hops[2].alert_basis,
        Some(Basis::Measured(crate::verify::ALERT_TIME.into()))
    );
    assert_eq!(v.hops[1].alert_basis, None);
}

#[test]
fn an_alert_without_the_products_time_is_only_bounded_by_the_poll() {
    let r = chain();
    let untimed = BackendAlert {
        responses: Vec::new(),
        rule_id: None,
        rule_title: "untimed".into(),
        level: None,
        tags: vec![],
        at: None,
        event: proc_event(11, 10),
    };
    let timed = BackendAlert {
        rule_title: "timed".into(),
        at: Some(at(4_000)),
        ..untimed.clone()
    };
    let answer = RunAnswer {
        events: vec![proc_event(11, 10)],
        alerts: vec![untimed, timed],
        answered_at: Some(at(60_000)),
        ..RunAnswer::default()
    };
    let v = decide_seen(&r, None, Ok(answer), &sight(), OffsetDateTime::UNIX_EPOCH);
    // The untimed alert is placed when the answer was read, and says so;
    // it may have come before the timed one, so the hop's figure is a bound.
    assert_eq!(v.alerts[0].at, at(60_000));
    assert!(v.alerts[0].at_unknown);
    assert!(!v.alerts[1].at_unknown);
    assert_eq!(v.hops[2].time_to_alert_ms, Some(4_000));
    assert_eq!(v.hops[2].alert_basis, Some(Basis::Polling));
}
