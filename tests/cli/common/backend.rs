//! What the backend tests share: a scripted local HTTP server, a secret that
//! must never be printed, and `chainproof verify` of a lab's recorded run.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use assert_cmd::assert::Assert;
use serde_json::Value;

use super::Lab;

/// The credential every backend test configures; no output may hold it.
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

/// The requests `server` has seen so far.
pub fn requests(seen: &Mutex<Vec<String>>) -> Vec<String> {
    seen.lock().map(|l| l.clone()).unwrap_or_default()
}

/// Writes [`SECRET`] to `<lab>/<file>` and a config `<lab>/<name>.yaml`
/// holding the single profile `profile` (YAML lines below `backends:`,
/// indented by four, with `{secret}` standing for the secret file's path).
pub fn write_config(
    lab: &Lab,
    name: &str,
    file: &str,
    profile: &str,
) -> Result<PathBuf, std::io::Error> {
    let secret = lab.dir.path().join(file);
    std::fs::write(&secret, SECRET)?;
    let path = lab.dir.path().join(format!("{name}.yaml"));
    let profile = profile.replace("{secret}", &secret.display().to_string());
    std::fs::write(&path, format!("backends:\n{profile}"))?;
    Ok(path)
}

/// `chainproof verify --backend <backend> --deadline 1s --config <cfg>` of
/// the lab's recorded run, which must succeed; returns its output and the
/// verification it wrote into run.json.
pub fn verify(lab: &Lab, backend: &str, cfg: &std::path::Path) -> (Assert, Value) {
    let run_json = lab.run_json();
    let out = Command::cargo_bin("chainproof")
        .unwrap_or_else(|e| panic!("binary: {e}"))
        .args([
            "verify",
            "--backend",
            backend,
            "--deadline",
            "1s",
            "--config",
        ])
        .arg(cfg)
        .arg(&run_json)
        .assert()
        .success();
    let record = super::read_json(&run_json);
    (out, record["scenarios"][0]["verification"].clone())
}

/// The process of the run's ground truth with `pid` (`null` when none).
pub fn by_pid(run: &Value, pid: &Value) -> Value {
    run["truth"]["processes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| &p["pid"] == pid)
        .cloned()
        .unwrap_or_default()
}

/// A macro-doc-shell verification by `backend`: the chain alerted, the
/// shell (hop 2) at technique grade, no hop missed.
pub fn assert_shell_alerted(verification: &Value, backend: &str) {
    let ver = verification;
    assert_eq!(ver["backend"], backend);
    assert_eq!(ver["chain"]["verdict"], "alerted", "{ver:#}");
    assert_eq!(
        (
            ver["hops"][2]["verdict"].as_str(),
            ver["hops"][2]["grade"].as_str()
        ),
        (Some("alerted"), Some("technique"))
    );
    for h in ver["hops"].as_array().into_iter().flatten() {
        assert_ne!(h["verdict"], "missed", "{h}");
    }
}

/// Every output of a lab: command outputs given, plus every report file.
fn assert_secret_absent(lab: &Lab, outputs: &[&[u8]]) {
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

/// [`assert_secret_absent`] for the stdout and stderr of `out`.
pub fn assert_secret_absent_from(lab: &Lab, out: &Assert) {
    let out = out.get_output();
    assert_secret_absent(lab, &[&out.stdout, &out.stderr]);
}

/// A config with the one profile `lab-splunk` at `url`, its bearer token
/// [`SECRET`] in a file.
pub fn splunk_config(lab: &Lab, url: &str) -> Result<std::path::PathBuf, std::io::Error> {
    write_config(
        lab,
        "chainproof",
        "splunk.token",
        &format!(
            "  lab-splunk:\n    kind: splunk\n    url: {url}\n    timeout: 2s\n    auth: {{ type: bearer, token: {{ file: {{secret}} }} }}\n"
        ),
    )
}
