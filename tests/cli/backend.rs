//! Verification against a local server shaped like Splunk's export API:
//! alerted from a notable, inconclusive (never missed) when it fails, a
//! clear stop on bad credentials, and no secret in any output.

use crate::common::*;

#[test]
fn a_recorded_run_verified_against_splunk_is_alerted_from_a_notable() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    lab.run(&["macro-doc-shell"]).assert().success();
    let record = lab.record();
    let s = &record["scenarios"][0];
    let token = s["token"].as_str().unwrap_or_default().to_string();
    // Splunk holds every process and file of the run, and one ES notable.
    let mut events = String::new();
    for p in s["truth"]["processes"].as_array().into_iter().flatten() {
        let row = serde_json::json!({"preview": false, "result": {
            "_time": "2026-11-26T10:00:00.000+00:00", "EventCode": "1", "Image": p["image"], "CommandLine": p["command_line"],
            "ProcessId": p["pid"].to_string(), "ParentProcessId": p["ppid"].to_string()}});
        events.push_str(&format!("{row}\n"));
    }
    for f in s["truth"]["files"].as_array().into_iter().flatten() {
        let row = serde_json::json!({"preview": false, "result": {"EventCode": "11", "TargetFilename": f["path"]}});
        events.push_str(&format!("{row}\n"));
    }
    let shell = &s["hops"][2];
    let notable = serde_json::json!({"preview": false, "result": {"_time": "2026-11-26T10:00:01.000+00:00",
        "rule_name": "Office Application Spawns Shell", "rule_id": "es-1", "severity": "high",
        "annotations.mitre_attack": ["T1204.002"], "process": format!("sh {token}"), "process_id": shell["pid"].to_string()}});
    let (url, seen) = server(vec![
        (200, String::new()),
        (200, events),
        (200, format!("{notable}\n")),
    ]);
    let cfg = splunk_config(&lab, &url)?;
    let (out, ver) = verify(&lab, "lab-splunk", &cfg);
    assert_shell_alerted(&ver, "splunk");
    let requests = requests(&seen);
    assert_eq!(
        requests.len(),
        3,
        "check, one events export, one notables export"
    );
    assert!(
        requests
            .iter()
            .all(|r| r.contains(&format!("Bearer {SECRET}")))
    );
    assert_secret_absent_from(&lab, &out);
    Ok(())
}

#[test]
fn a_backend_failing_throughout_gives_inconclusive_never_missed() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    let (url, _seen) = server(vec![
        (200, String::new()),
        (500, "{\"messages\":[]}".into()),
    ]);
    let cfg = splunk_config(&lab, &url)?;
    // The deadline also cuts a round in flight: give the first round's four
    // attempts (backoff at most 0.5 + 1 + 2 s) time to end with the 500.
    let out = lab
        .run(&[
            "macro-doc-shell",
            "--backend",
            "lab-splunk",
            "--deadline",
            "5s",
            "--config",
            cfg.to_str().unwrap_or_default(),
        ])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone())?;
    assert!(
        stdout.contains("inconclusive") && !stdout.contains("missed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("HTTP 500"),
        "the matrix shows why: {stdout}"
    );
    let record = lab.record();
    let v = &record["scenarios"][0]["verification"];
    assert_eq!(v["chain"]["verdict"], "inconclusive");
    assert!(
        v["chain"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("lab-splunk") && r.contains("500")),
        "{v:#}"
    );
    assert_secret_absent_from(&lab, &out);
    Ok(())
}

#[test]
fn bad_credentials_stop_the_run_before_anything_executes() -> TestResult {
    let lab = Lab::new();
    let body = r#"{"messages":[{"type":"WARN","text":"call not properly authenticated"}]}"#;
    let (url, _seen) = server(vec![(401, body.into())]);
    let cfg = splunk_config(&lab, &url)?;
    let out = lab
        .run(&[
            "--backend",
            "lab-splunk",
            "--config",
            cfg.to_str().unwrap_or_default(),
        ])
        .assert()
        .code(3);
    let stderr = String::from_utf8(out.get_output().stderr.clone())?;
    assert!(
        stderr.contains("lab-splunk") && stderr.contains("401"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(lab.work())?.count(),
        0,
        "a run directory was created"
    );
    assert!(!lab.reports().exists(), "reports were written");
    assert_secret_absent_from(&lab, &out);
    Ok(())
}
