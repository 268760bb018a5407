//! `chainproof verify` of a recorded run against servers shaped like
//! Elastic's `_search`, Microsoft Graph's advanced hunting, and through the
//! example command backend: each marks the chain alerted.

use serde_json::Value;

use crate::common::*;

#[test]
fn a_recorded_run_verified_against_elastic_is_alerted_from_a_detection_alert() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    lab.run(&["macro-doc-shell"]).assert().success();
    let record = lab.record();
    let s = &record["scenarios"][0];
    // The index holds every process (ECS) and the downloaded file.
    let mut hits = Vec::new();
    for p in s["truth"]["processes"].as_array().into_iter().flatten() {
        let parent = by_pid(s, &p["ppid"]);
        hits.push(serde_json::json!({"_index": "logs-endpoint", "_id": p["pid"].to_string(), "sort": [1, p["pid"]], "_source": {
            "@timestamp": "2026-11-26T10:00:00.000Z", "event": {"category": ["process"], "type": ["start"]},
            "process": {"pid": p["pid"], "executable": p["image"], "command_line": p["command_line"],
                "parent": {"pid": p["ppid"], "executable": parent["image"], "command_line": parent["command_line"]}},
            "host": {"name": "lab1"}}}));
    }
    for f in s["truth"]["files"].as_array().into_iter().flatten() {
        hits.push(serde_json::json!({"_index": "logs-endpoint", "_id": "f", "sort": [2, 0], "_source": {
            "@timestamp": "2026-11-26T10:00:00.000Z", "event": {"category": ["file"]}, "file": {"path": f["path"]}}}));
    }
    let shell = by_pid(s, &s["hops"][2]["pid"]);
    let alert = serde_json::json!({"_index": ".internal.alerts-security.alerts-default-000001", "_id": "a1", "sort": [3, "a1"], "_source": {
        "@timestamp": "2026-11-26T10:00:02.000Z",
        "kibana.alert.rule.name": "Office Application Spawns a Shell", "kibana.alert.rule.uuid": "es-rule-1",
        "kibana.alert.severity": "high",
        "kibana.alert.rule.threat": [{"framework": "MITRE ATT&CK", "tactic": {"id": "TA0002", "name": "Execution"},
            "technique": [{"id": "T1204", "name": "User Execution", "subtechnique": [{"id": "T1204.002", "name": "Malicious File"}]}]}],
        "process": {"pid": shell["pid"], "executable": shell["image"], "command_line": shell["command_line"]}}});
    let answer = |hits: Vec<Value>| {
        serde_json::json!({"took": 1, "timed_out": false, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}, "hits": {"hits": hits}}).to_string()
    };
    // An Elasticsearch 8 cluster: each search within a point-in-time, paged
    // to an empty page, the PIT closed.
    let info = r#"{"name":"n1","version":{"number":"8.15.0","build_flavor":"default"}}"#;
    let pit = r#"{"id":"pit-1"}"#;
    let closed = r#"{"succeeded":true,"num_freed":1}"#;
    let (url, seen) = server(vec![
        (200, info.into()),
        (200, pit.into()),
        (200, answer(hits)),
        (200, answer(vec![])),
        (200, closed.into()),
        (200, pit.into()),
        (200, answer(vec![alert])),
        (200, answer(vec![])),
        (200, closed.into()),
    ]);
    let cfg = write_config(
        &lab,
        "elastic",
        "es.key",
        &format!(
            "  lab-elastic:\n    kind: elastic\n    url: {url}\n    timeout: 2s\n    auth: {{ type: scheme, scheme: ApiKey, credential: {{ file: {{secret}} }} }}\n"
        ),
    )?;
    let (out, ver) = verify(&lab, "lab-elastic", &cfg);
    assert_shell_alerted(&ver, "elastic");
    let requests = requests(&seen);
    assert_eq!(
        requests.len(),
        9,
        "check, then per kind: open a PIT, a page, the empty page, the close"
    );
    assert!(
        requests[1].starts_with("POST /logs-*/_pit"),
        "{}",
        requests[1]
    );
    assert_secret_absent_from(&lab, &out);
    Ok(())
}

#[test]
fn a_recorded_run_verified_against_defender_is_alerted_from_alert_evidence() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    lab.run(&["macro-doc-shell"]).assert().success();
    let record = lab.record();
    let s = &record["scenarios"][0];
    let name = |p: &Value| {
        p["image"]
            .as_str()
            .and_then(|i| i.rsplit('/').next())
            .unwrap_or_default()
            .to_string()
    };
    let mut rows = Vec::new();
    for p in s["truth"]["processes"].as_array().into_iter().flatten() {
        let parent = by_pid(s, &p["ppid"]);
        rows.push(serde_json::json!({"SourceTable": "DeviceProcessEvents", "Timestamp": "2026-11-26T10:00:00Z",
            "ActionType": "ProcessCreated", "FileName": name(p), "FolderPath": p["image"], "ProcessCommandLine": p["command_line"],
            "ProcessId": p["pid"], "InitiatingProcessId": p["ppid"], "InitiatingProcessFileName": name(&parent),
            "InitiatingProcessFolderPath": parent["image"], "InitiatingProcessCommandLine": parent["command_line"],
            "AccountName": "root", "DeviceName": "lab1"}));
    }
    for f in s["truth"]["files"].as_array().into_iter().flatten() {
        let path = f["path"].as_str().unwrap_or_default();
        rows.push(serde_json::json!({"SourceTable": "DeviceFileEvents", "Timestamp": "2026-11-26T10:00:00Z",
            "ActionType": "FileCreated", "FileName": path.rsplit('/').next(), "FolderPath": path,
            "FileOriginUrl": f["origin"]["user.xdg.origin.url"], "DeviceName": "lab1"}));
    }
    let shell = by_pid(s, &s["hops"][2]["pid"]);
    let evidence = serde_json::json!({"Timestamp": "2026-11-26T10:00:03Z", "AlertId": "da638", "Title": "Suspicious process launched by an office application",
        "Severity": "High", "Category": "Execution", "AttackTechniques": "[\"User Execution: Malicious File (T1204.002)\"]",
        "EntityType": "Process", "EvidenceProcessCommandLine": shell["command_line"], "EvidenceFileName": name(&shell),
        "EvidenceFolderPath": shell["image"], "EvidenceAdditionalFields": format!("{{\"ProcessId\":{}}}", shell["pid"]), "DeviceName": "lab1"});
    let graph =
        |results: Vec<Value>| serde_json::json!({"schema": [], "results": results}).to_string();
    let token = serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "graph-access-token"}).to_string();
    let (url, seen) = server(vec![
        (200, token),
        (200, graph(vec![])),
        (200, graph(rows)),
        (200, graph(vec![evidence])),
    ]);
    let cfg = write_config(
        &lab,
        "defender",
        "client.secret",
        &format!(
            "  mde:\n    kind: defender\n    tenant_id: contoso.onmicrosoft.com\n    client_id: 00000000-0000-0000-0000-000000000000\n    client_secret: {{ file: {{secret}} }}\n    url: {url}\n    token_url: {url}\n    timeout: 2s\n"
        ),
    )?;
    let (out, ver) = verify(&lab, "mde", &cfg);
    assert_shell_alerted(&ver, "defender");
    let requests = requests(&seen);
    assert_eq!(
        requests.len(),
        4,
        "one token, the check, one events query, one alerts query"
    );
    assert!(
        requests[0].contains("/contoso.onmicrosoft.com/oauth2/v2.0/token"),
        "{}",
        requests[0]
    );
    assert!(
        requests[2].starts_with("POST /v1.0/security/runHuntingQuery"),
        "{}",
        requests[2]
    );
    // The evidence keeps each query sent and its raw answer.
    let queries = std::fs::read_to_string(lab.folder().join("backend-queries.jsonl"))?;
    let lines: Vec<Value> = queries
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(lines.len(), 2, "{queries}");
    for l in &lines {
        assert!(
            l["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("/v1.0/security/runHuntingQuery"))
        );
        assert_eq!(l["status"], 200);
        assert!(
            l["request"].as_str().is_some_and(|q| q.contains("cp")),
            "{l}"
        );
        assert!(
            l["response"]
                .as_str()
                .is_some_and(|r| r.contains("\"results\"")),
            "{l}"
        );
    }
    assert_secret_absent_from(&lab, &out);
    Ok(())
}

/// The shipped example command backend, answering from a JSON-lines export
/// of the run's own telemetry plus one alert: the chain is alerted.
#[test]
fn the_example_command_backend_verifies_from_an_export() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    lab.run(&["macro-doc-shell"]).assert().success();
    let record = lab.record();
    let s = &record["scenarios"][0];
    let mut events = String::new();
    for p in s["truth"]["processes"].as_array().into_iter().flatten() {
        let line = serde_json::json!({"EventID": 1, "ProcessId": p["pid"], "ParentProcessId": p["ppid"], "Image": p["image"], "CommandLine": p["command_line"]});
        events.push_str(&format!("{line}\n"));
    }
    for f in s["truth"]["files"].as_array().into_iter().flatten() {
        events.push_str(&format!(
            "{}\n",
            serde_json::json!({"EventID": 11, "TargetFilename": f["path"]})
        ));
    }
    let shell = s["hops"][2]["pid"].clone();
    let shell_image = s["hops"][2]["image"].clone();
    let token = s["token"].as_str().unwrap_or_default();
    let alert = serde_json::json!({"rule_id": "lake-1", "rule_title": "Document app spawns shell", "level": "high",
        "tags": ["attack.execution", "attack.t1204.002"], "time": "2026-11-26T10:00:01Z",
        "fields": {"ProcessId": shell, "Image": shell_image, "CommandLine": format!("sh {token}")}});
    let events_path = lab.dir.path().join("events.jsonl");
    let alerts_path = lab.dir.path().join("alerts.jsonl");
    std::fs::write(&events_path, events)?;
    std::fs::write(&alerts_path, format!("{alert}\n"))?;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/command-backend.py");
    let cfg = lab.dir.path().join("lake.yaml");
    std::fs::write(
        &cfg,
        format!(
            "backends:\n  lake:\n    kind: command\n    program: {}\n    timeout: 20s\n    env: {{ CHAINPROOF_EVENTS: {}, CHAINPROOF_ALERTS: {} }}\n",
            script.display(),
            events_path.display(),
            alerts_path.display()
        ),
    )?;
    let (_, ver) = verify(&lab, "lake", &cfg);
    assert_eq!(ver["backend"], "command");
    assert_eq!(ver["chain"]["verdict"], "alerted", "{ver:#}");
    for h in ver["hops"].as_array().into_iter().flatten() {
        assert!(
            matches!(h["verdict"].as_str(), Some("observed" | "alerted")),
            "{h}"
        );
    }
    Ok(())
}
