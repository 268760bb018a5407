//! Verification against a local server shaped like Splunk's export API:
//! alerted from a notable, inconclusive (never missed) when it fails, a
//! clear stop on bad credentials, and no secret in any output.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use serde_json::Value;

use crate::common::*;

pub const SECRET: &str = "tok-3f1a-never-print-me";

/// A tiny HTTP/1.1 server on 127.0.0.1 answering a script (the last answer
/// repeats); returns its URL and the requests it saw.
pub fn server(script: Vec<(u16, String)>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let url = format!(
        "http://{}",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        let mut script = script;
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut head = String::new();
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0u8; len];
            let _ = reader.read_exact(&mut body);
            if let Ok(mut l) = log.lock() {
                l.push(format!("{head}\n{}", String::from_utf8_lossy(&body)));
            }
            let (status, text) = if script.len() > 1 {
                script.remove(0)
            } else {
                script[0].clone()
            };
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
            let mut s = &stream;
            let _ = s.write_all(reply.as_bytes());
        }
    });
    (url, seen)
}

pub fn config(lab: &Lab, url: &str) -> Result<PathBuf, std::io::Error> {
    let secret = lab.dir.path().join("splunk.token");
    std::fs::write(&secret, SECRET)?;
    let path = lab.dir.path().join("chainproof.yaml");
    let text = format!(
        "backends:\n  lab-splunk:\n    kind: splunk\n    url: {url}\n    timeout: 2s\n    auth: {{ type: bearer, token: {{ file: {} }} }}\n",
        secret.display()
    );
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Every output of a lab: command outputs given, plus every report file.
pub fn assert_secret_absent(lab: &Lab, outputs: &[&[u8]]) {
    for out in outputs {
        assert!(
            !String::from_utf8_lossy(out).contains(SECRET),
            "the secret was printed"
        );
    }
    let mut stack = vec![lab.reports()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                let text = std::fs::read(e.path()).unwrap_or_default();
                assert!(
                    !String::from_utf8_lossy(&text).contains(SECRET),
                    "secret in {}",
                    e.path().display()
                );
            }
        }
    }
}

#[test]
fn a_recorded_run_verified_against_splunk_is_alerted_from_a_notable() -> TestResult {
    if !require_root() {
        return Ok(());
    }
    let _host = host();
    let lab = Lab::new();
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
    let cfg = config(&lab, &url)?;
    let run_json = lab
        .reports()
        .read_dir()?
        .flatten()
        .find(|e| e.path().join("run.json").exists())
        .ok_or("no report")?
        .path()
        .join("run.json");
    let out = Command::cargo_bin("chainproof")?
        .args([
            "verify",
            "--backend",
            "lab-splunk",
            "--deadline",
            "1s",
            "--config",
        ])
        .arg(&cfg)
        .arg(&run_json)
        .assert()
        .success();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&run_json)?)?;
    let chain = &v["scenarios"][0]["verification"];
    assert_eq!(chain["backend"], "splunk");
    assert_eq!(chain["chain"]["verdict"], "alerted", "{chain:#}");
    assert_eq!(chain["hops"][2]["verdict"], "alerted");
    assert_eq!(chain["hops"][2]["grade"], "technique");
    let requests = seen.lock().map(|l| l.clone()).unwrap_or_default();
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
    assert_secret_absent(&lab, &[&out.get_output().stdout, &out.get_output().stderr]);
    Ok(())
}

#[test]
fn a_backend_failing_throughout_gives_inconclusive_never_missed() -> TestResult {
    if !require_root() {
        return Ok(());
    }
    let _host = host();
    let lab = Lab::new();
    let (url, _seen) = server(vec![
        (200, String::new()),
        (500, "{\"messages\":[]}".into()),
    ]);
    let cfg = config(&lab, &url)?;
    let out = lab
        .run(&[
            "macro-doc-shell",
            "--backend",
            "lab-splunk",
            "--deadline",
            "1s",
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
    assert_secret_absent(&lab, &[&out.get_output().stdout, &out.get_output().stderr]);
    Ok(())
}

#[test]
fn bad_credentials_stop_the_run_before_anything_executes() -> TestResult {
    let lab = Lab::new();
    let body = r#"{"messages":[{"type":"WARN","text":"call not properly authenticated"}]}"#;
    let (url, _seen) = server(vec![(401, body.into())]);
    let cfg = config(&lab, &url)?;
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
    assert_secret_absent(&lab, &[&out.get_output().stdout, &out.get_output().stderr]);
    Ok(())
}
