//! [`run`](super::run) over files: names, counts, and a read error.

use serde_json::json;

use super::*;

#[test]
fn run_streams_files_into_the_sink_and_stops_at_a_bad_one_after_flushing() {
    let dir = tempfile::tempdir().unwrap();
    let shell = |host: &str| {
        let lines = [
            json!({"EventID": 1, "Image": "/usr/lib/libreoffice/program/soffice.bin",
                   "ProcessId": 10, "ParentProcessId": 1, "ParentImage": "/usr/bin/gnome-shell",
                   "UtcTime": "2026-01-01 10:00:00.000", "Computer": host}),
            json!({"EventID": 1, "Image": "/usr/bin/bash", "CommandLine": "bash -c id",
                   "ProcessId": 11, "ParentProcessId": 10,
                   "ParentImage": "/usr/lib/libreoffice/program/soffice.bin",
                   "UtcTime": "2026-01-01 10:00:01.000", "Computer": host}),
        ];
        lines.iter().map(|l| format!("{l}\n")).collect::<String>()
    };
    let good = dir.path().join("a.jsonl");
    std::fs::write(&good, shell("a")).unwrap();
    let other = dir.path().join("b.jsonl");
    std::fs::write(&other, shell("b")).unwrap();
    let bad = dir.path().join("c.jsonl");
    std::fs::write(&bad, "{not json\n").unwrap();
    let rules = Rules::load(&[]).unwrap();

    let mut sink = Collect::default();
    let summary = run(
        &[good.clone(), other],
        &rules,
        Options::default(),
        &mut sink,
    )
    .unwrap();
    assert_eq!((summary.events, summary.alerts), (4, 2));
    assert_eq!(summary.inputs.len(), 2);
    assert_eq!(summary.inputs[0].name, good.display().to_string());
    // The same pids on two hosts: two chains.
    assert_eq!(sink.chains.len(), 2, "{:#?}", sink.chains);
    let inputs: Vec<&str> = sink.alerts.iter().map(|a| a.input.as_str()).collect();
    assert!(
        inputs[0].ends_with("a.jsonl") && inputs[1].ends_with("b.jsonl"),
        "{inputs:?}"
    );
    assert!(sink.alerts.iter().all(|a| a.chain.is_some()));

    let mut sink = Collect::default();
    let err = run(&[good, bad.clone()], &rules, Options::default(), &mut sink).unwrap_err();
    assert!(
        err.to_string().contains(&bad.display().to_string()),
        "{err}"
    );
    assert_eq!(sink.alerts.len(), 1, "the good file's alert was flushed");
}
