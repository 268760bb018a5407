use serde_json::json;

use super::*;
use crate::backend::conformance::run;

#[test]
fn the_rule_searches_every_string_at_any_depth_ignoring_ascii_case() {
    let token = "cp00000000aa";
    let cases = [
        (
            json!({"CommandLine": "sh -c touch /tmp/cp00000000aa"}),
            true,
        ),
        (
            json!({"process": {"parent": {"args": ["x", "cp00000000aa"]}}}),
            true,
        ),
        (json!([[{"deep": ["CP00000000AA.DOCM"]}]]), true),
        (
            json!({"Entities": "[{\"Name\":\"cp00000000aa.docm\"}]"}),
            true,
        ),
        (json!({"cp00000000aa": "key only"}), false),
        (json!({"pid": 1234, "ok": true, "none": null}), false),
        (json!({"CommandLine": "cp00000000bb"}), false),
        (json!("cp00000000a"), false),
    ];
    for (record, want) in cases {
        assert_eq!(mentions(&record, token), want, "{record}");
        if let Value::Object(map) = &record {
            assert_eq!(map.mentions(token), want, "{record}");
        }
    }
    assert!(!mentions(&json!({"a": "anything"}), ""));
}

#[test]
fn rows_go_to_the_runs_whose_tokens_they_mention_in_run_order() {
    let runs = [run("cp01"), run("cp02"), run("cp01")];
    let rows = [
        json!({"cmd": "a cp02"}),
        json!({"cmd": "b CP01"}),
        json!({"cmd": "both cp01 cp02"}),
        json!({"cmd": "neither"}),
    ];
    let event = |v: &Value| Event {
        category: crate::telemetry::Category::ProcessCreation,
        arrived: None,
        at: None,
        hop: None,
        fields: v.as_object().cloned().unwrap_or_default(),
    };
    let alert = |v: &Value, token: &str| BackendAlert {
        responses: Vec::new(),
        rule_id: Some(token.into()),
        rule_title: v["cmd"].as_str().unwrap_or_default().into(),
        level: None,
        tags: vec![],
        at: Some(OffsetDateTime::UNIX_EPOCH),
        event: event(v),
    };
    let got = answers(&runs, &rows, &rows, event, alert, None);
    let cmds = |a: &RunAnswer| -> Vec<String> {
        a.events
            .iter()
            .map(|e| e.fields["cmd"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(got.len(), 3);
    assert_eq!(cmds(&got[0]), ["b CP01", "both cp01 cp02"]);
    assert_eq!(cmds(&got[1]), ["a cp02", "both cp01 cp02"]);
    assert_eq!(got[2], got[0]);
    assert_eq!(got[1].alerts[0].rule_id.as_deref(), Some("cp02"));
}

#[test]
fn rows_that_mention_no_run_are_counted_and_sampled_in_every_answer() {
    let runs = [run("cp01"), run("cp02"), run("")];
    let long = "x".repeat(UNTIED_CHARS * 2);
    let events = [
        json!({"cmd": "a cp01"}),
        json!({"cmd": "notable without the token", "pid": 7}),
        json!({"cmd": long}),
    ];
    let alerts = [
        json!({"rule": "b CP02"}),
        json!({"rule": "tied to nothing"}),
        json!({"rule": "also nothing"}),
    ];
    let event = |v: &Value| Event {
        category: crate::telemetry::Category::ProcessCreation,
        arrived: None,
        at: None,
        hop: None,
        fields: v.as_object().cloned().unwrap_or_default(),
    };
    let alert = |v: &Value, _: &str| BackendAlert {
        responses: Vec::new(),
        rule_id: None,
        rule_title: v["rule"].as_str().unwrap_or_default().into(),
        level: None,
        tags: vec![],
        at: Some(OffsetDateTime::UNIX_EPOCH),
        event: event(v),
    };
    let got = answers(&runs, &events, &alerts, event, alert, None);
    let want = Untied {
        count: 4,
        sample: vec![
            r#"{"cmd":"notable without the token","pid":7}"#.to_string(),
            format!(r#"{{"cmd":"{}… (truncated)"#, &"x".repeat(UNTIED_CHARS - 8)),
            r#"{"rule":"tied to nothing"}"#.to_string(),
        ],
    };
    assert_eq!(got.len(), 3);
    for a in &got {
        assert_eq!(a.untied, want);
    }
    assert_eq!(got[0].events.len(), 1);
    assert_eq!(got[1].alerts.len(), 1);
    // The run with no token is tied nothing, yet hears the round.
    assert!(got[2].events.is_empty() && got[2].alerts.is_empty());
    // A round that ties every row has nothing untied.
    let tied = answers(&runs[..1], &events[..1], &alerts[..0], event, alert, None);
    assert_eq!(tied[0].untied, Untied::default());
}

#[test]
fn run_tokens_are_found_by_one_scan_with_the_same_rule() {
    let (a, b) = ("cp0123456789", "cpabcdefabcd");
    let rows = [
        json!({"cmd": "x CP0123456789.docm", "deep": [{"p": "cpabcdefabcd"}]}),
        json!({"cmd": "cp0123456789cpabcdefabcd"}),
        // A longer hex run holding a token still holds it, as a
        // substring search would find it.
        json!({"cmd": "acp0123456789f"}),
        json!({"cmd": "cp012345678 cpabcdefabc", "cp0123456789": "key only"}),
    ];
    let ties = tie(&rows, &[a.to_string(), b.to_string()]);
    assert_eq!(ties, [vec![0, 1], vec![0, 1], vec![0], vec![]]);
    // The same as the one-by-one search of the rule.
    for (row, t) in rows.iter().zip(&ties) {
        assert_eq!(t.contains(&0), mentions(row, a), "{row}");
        assert_eq!(t.contains(&1), mentions(row, b), "{row}");
    }
}

#[test]
fn the_window_runs_from_the_earliest_start_to_now_never_from_the_epoch() {
    let now =
        OffsetDateTime::from_unix_timestamp(1_764_151_200).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut early = run("cp01");
    early.started_at = now - Duration::minutes(30);
    let mut late = run("cp02");
    late.started_at = now - Duration::minutes(5);
    assert_eq!(
        window(&[late.clone(), early], now),
        Window {
            from: now - Duration::minutes(31),
            to: now + SLACK,
        }
    );
    assert_eq!(
        window(&[], now),
        Window {
            from: now - SLACK,
            to: now + SLACK,
        }
    );
    // A run stamped in the future (a host clock ahead) still yields a
    // window that contains now.
    late.started_at = now + Duration::hours(1);
    assert_eq!(window(&[late], now).from, now - SLACK);
}
