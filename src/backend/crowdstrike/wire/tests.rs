//! Alerts to events and tags, envelopes, Windows device paths.
use super::*;
use crate::backend::attribution::Record;
use crate::record::test_records;
use crate::vocab::Platform;

fn run(pid: u32, image: &str) -> ScenarioRun {
    let mut run = test_records::scenario("s");
    (run.platform, run.token) = (Platform::Windows, "cp01".into());
    run.truth.processes = vec![test_records::process(pid, 1, image)];
    run
}

fn object(v: Value) -> Alert {
    match v {
        Value::Object(o) => o,
        _ => Map::new(),
    }
}

#[test]
fn device_paths_resolve_only_against_the_same_pids_truth() {
    let soffice = r"C:\Program Files\LibreOffice\program\soffice.bin";
    let r = run(4242, soffice);
    let device = r"\Device\HarddiskVolume3\Program Files\LibreOffice\program\SOFFICE.BIN";
    let cases = [
        (device, Some(4242), soffice),
        (device, Some(7), device),
        (device, None, device),
        (
            r"\Device\HarddiskVolume3\Windows\explorer.exe",
            Some(4242),
            r"\Device\HarddiskVolume3\Windows\explorer.exe",
        ),
        ("/usr/bin/dash", Some(4242), "/usr/bin/dash"),
    ];
    for (path, pid, want) in cases {
        assert_eq!(resolve_device_path(path, pid, &r), want, "{path} {pid:?}");
    }
}

#[test]
fn only_attack_ids_and_tactics_become_tags() {
    let cases = [
        (
            json!({"technique_id": "T1204.002", "tactic_id": "TA0002", "tactic": "Execution"}),
            vec!["attack.t1204.002", "attack.execution"],
        ),
        (
            json!({"technique_id": "T1204", "tactic": "Defense Evasion"}),
            vec!["attack.t1204", "attack.defense-evasion"],
        ),
        (
            json!({"technique_id": "CST0000", "tactic_id": "CSTA0004", "tactic": "MachineLearning"}),
            vec![],
        ),
        (json!({"technique_id": "T12", "tactic": ""}), vec![]),
        (json!({"technique_id": "T1204.00x"}), vec![]),
        (json!({}), vec![]),
    ];
    for (alert, want) in cases {
        assert_eq!(tags(&object(alert.clone())), want, "{alert}");
    }
}

#[test]
fn envelopes_give_resources_totals_or_the_api_error() {
    let ok = page::<String>(br#"{"meta":{"pagination":{"offset":0,"limit":2,"total":5}},"resources":["a","b"],"errors":[]}"#, "q");
    let ok = ok.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((ok.resources.len(), ok.total), (2, Some(5)));
    let empty = page::<String>(br#"{"meta":{},"resources":null,"errors":null}"#, "q");
    assert_eq!(empty.map(|p| p.resources.len()), Ok(0));
    let failed = page::<String>(
        br#"{"resources":[],"errors":[{"code":400,"message":"invalid filter"}]}"#,
        "the id query",
    );
    assert_eq!(
        failed.err(),
        Some(ErrorKind::Other(
            "the id query failed: invalid filter (code 400)".into()
        ))
    );
    let bad = page::<String>(b"<html>", "q").err();
    assert!(
        matches!(&bad, Some(ErrorKind::Malformed { source_name, .. }) if source_name == "answer to q"),
        "{bad:?}"
    );
}

#[test]
fn an_alert_yields_its_process_parent_and_grandparent() {
    let a = object(json!({
        "composite_id": "c:ind:a:1", "created_timestamp": "2026-11-26T10:00:01.123456789Z",
        "timestamp": "2026-11-26T10:00:00.5Z", "device": {"hostname": "lab-01"},
        "filepath": "/usr/bin/dash", "cmdline": "sh -c 'touch CP01'", "local_process_id": "11",
        "user_name": "lab",
        "parent_details": {"filepath": "/w/soffice.bin", "cmdline": "soffice x.odt", "local_process_id": 10},
        "grandparent_details": {"filepath": "/usr/bin/bash", "local_process_id": "9"},
        "technique_id": "T1204.002", "tactic": "Execution", "severity": 70,
        "pattern_id": 50102, "display_name": "Office spawned a shell", "name": "OfficeShell"
    }));
    assert!(a.mentions("cp01"));
    assert!(!a.mentions("cp02"));
    let (alert, events) = alert(&a, &run(1, "/x"));
    assert_eq!(alert.rule_id.as_deref(), Some("50102"));
    assert_eq!(alert.rule_title, "Office spawned a shell");
    assert_eq!(alert.level.as_deref(), Some("70"));
    assert_eq!(alert.at.map(|t| t.nanosecond()), Some(123_456_789));
    assert_eq!(alert.event.fields["ProcessId"], json!(11));
    assert_eq!(alert.event.fields["ParentProcessId"], json!(10));
    let pids: Vec<&Value> = events.iter().map(|e| &e.fields["ProcessId"]).collect();
    assert_eq!(pids, [&json!(11), &json!(10), &json!(9)]);
    assert_eq!(events[1].fields["ParentImage"], json!("/usr/bin/bash"));
    assert_eq!(events[1].fields["host"], json!("lab-01"));
    assert!(!events[2].fields.contains_key("ParentProcessId"));
    let bare = object(json!({"severity_name": "High", "name": "X"}));
    let (alert, events) = super::alert(&bare, &run(1, "/x"));
    assert_eq!(
        (alert.level.as_deref(), alert.rule_title.as_str()),
        (Some("high"), "X")
    );
    assert!(events.is_empty() && alert.event.fields.is_empty());
}
