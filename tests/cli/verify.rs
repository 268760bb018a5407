//! `chainproof verify` of several records at once (files and a folder of
//! report folders, as a schedule fills one), one batched query per round
//! for all of them, a bad record among good ones named and set aside, and
//! a backend that fails its check still writing every record.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use crate::common::*;

/// The tokens of the shipped recording's three runs.
const TOKENS: [&str; 3] = ["cpf3f3e7c46c", "cp4d8d570718", "cpaa10a646de"];

/// A copy of the shipped recording (run.json and its scenarios/) in
/// `<dir>/<name>`, every token's last two digits replaced by `tag`, so
/// each copy is another run. Returns the folder.
fn recording(dir: &Path, name: &str, tag: &str) -> Result<PathBuf, std::io::Error> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/recording");
    let folder = dir.join(name);
    std::fs::create_dir_all(folder.join("scenarios"))?;
    let mut text = std::fs::read_to_string(root.join("run.json"))?;
    for t in TOKENS {
        text = text.replace(t, &retag(t, tag));
    }
    std::fs::write(folder.join("run.json"), text)?;
    for e in std::fs::read_dir(root.join("scenarios"))?.flatten() {
        std::fs::copy(e.path(), folder.join("scenarios").join(e.file_name()))?;
    }
    Ok(folder)
}

fn retag(token: &str, tag: &str) -> String {
    format!("{}{tag}", &token[..10])
}

fn verify(cfg: &Path, records: &[&Path]) -> Result<Command, Box<dyn std::error::Error>> {
    let mut cmd = Command::cargo_bin("chainproof")?;
    cmd.args([
        "verify",
        "--backend",
        "lab-splunk",
        "--deadline",
        "1s",
        "--config",
    ])
    .arg(cfg)
    .args(records);
    Ok(cmd)
}

/// The backend of every run's verification in `folder`'s run.json.
fn backends(folder: &Path) -> Vec<Value> {
    let record = read_json(&folder.join("run.json"));
    record["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["verification"]["backend"].clone())
        .collect()
}

/// Two records in one call: the check and one round of Splunk's two
/// exports (events, notables) — as many requests as for one record — with
/// both records' tokens in the one events search; each record rewritten.
#[test]
fn verify_takes_two_records_in_one_batched_verification() -> TestResult {
    let lab = Lab::new();
    let a = recording(lab.dir.path(), "a", "a1")?;
    let b = recording(lab.dir.path(), "b", "b2")?;
    let (url, seen) = server(vec![(200, String::new())]);
    let cfg = splunk_config(&lab, &url)?;
    let out = stdout_ok(verify(&cfg, &[&a.join("run.json"), &b.join("run.json")])?);
    let requests = requests(&seen);
    assert_eq!(requests.len(), 3, "check, events, notables: {requests:#?}");
    let events = requests
        .iter()
        .filter(|r| r.contains(&retag(TOKENS[0], "a1")));
    let both: Vec<&String> = events
        .filter(|r| TOKENS.iter().all(|t| r.contains(&retag(t, "b2"))))
        .collect();
    assert!(
        !both.is_empty(),
        "no request asked for both records: {requests:#?}"
    );
    for folder in [&a, &b] {
        assert_eq!(backends(folder), vec![Value::from("splunk"); 3]);
        assert!(
            out.contains(&format!("report: {}", folder.display())),
            "{out}"
        );
    }
    assert!(
        out.contains("verified 2 record(s) together; 0 could not"),
        "{out}"
    );
    Ok(())
}

/// A schedule's reports folder: every report folder in it, its journal and
/// a folder without a record passed over — the latter named.
#[test]
fn verify_takes_a_folder_of_report_folders() -> TestResult {
    let lab = Lab::new();
    let reports = lab.reports();
    let a = recording(&reports, "20260301T100000Z-cp0000000001", "a1")?;
    let b = recording(&reports, "20260301T110000Z-cp0000000002", "b2")?;
    std::fs::create_dir_all(reports.join(".journal"))?;
    std::fs::create_dir_all(reports.join("notes"))?;
    let (url, seen) = server(vec![(200, String::new())]);
    let cfg = splunk_config(&lab, &url)?;
    let out = verify(&cfg, &[&reports])?.assert().success();
    assert_eq!(requests(&seen).len(), 3);
    for folder in [&a, &b] {
        assert_eq!(backends(folder), vec![Value::from("splunk"); 3]);
    }
    let stderr = String::from_utf8(out.get_output().stderr.clone())?;
    assert!(
        stderr.contains("skipped") && stderr.contains("notes"),
        "{stderr}"
    );
    assert!(!stderr.contains(".journal"), "{stderr}");
    Ok(())
}

/// A record that cannot be read (not JSON) and one with a token no backend
/// could search are each named with why; the good one is verified and
/// written; the exit code is the unreadable record's (2).
#[test]
fn verify_names_a_bad_record_among_good_ones_and_verifies_the_others() -> TestResult {
    let lab = Lab::new();
    let reports = lab.reports();
    let good = recording(&reports, "a-good", "a1")?;
    let broken = recording(&reports, "b-broken", "b2")?;
    std::fs::write(broken.join("run.json"), "{not json")?;
    let hostile = recording(&reports, "c-token", "c3")?;
    let text = std::fs::read_to_string(hostile.join("run.json"))?;
    std::fs::write(
        hostile.join("run.json"),
        text.replacen(
            &format!("\"{}\"", retag(TOKENS[0], "c3")),
            "\"cp01 OR 1=1\"",
            1,
        ),
    )?;
    let (url, seen) = server(vec![(200, String::new())]);
    let cfg = splunk_config(&lab, &url)?;
    let out = verify(&cfg, &[&reports])?.assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone())?;
    for named in ["b-broken/run.json", "c-token/run.json", "cp01 OR 1=1"] {
        assert!(stderr.contains(named), "{named} not named: {stderr}");
    }
    let stdout = String::from_utf8(out.get_output().stdout.clone())?;
    assert!(
        stdout.contains("verified 1 record(s) together; 2 could not"),
        "{stdout}"
    );
    assert_eq!(backends(&good), vec![Value::from("splunk"); 3]);
    assert!(
        requests(&seen).iter().all(|r| !r.contains("cp01 OR")),
        "the bad record was asked about"
    );
    assert_eq!(
        std::fs::read_to_string(broken.join("run.json"))?,
        "{not json"
    );
    Ok(())
}

/// A backend that cannot be reached during its check (a closed port):
/// the record is still written, every hop `inconclusive` with the cause
/// and address as the reason, and the exit code is 3.
#[test]
fn verify_writes_the_record_inconclusive_when_the_backend_check_fails() -> TestResult {
    let lab = Lab::new();
    let a = recording(lab.dir.path(), "a", "a1")?;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let cfg = splunk_config(&lab, &format!("http://127.0.0.1:{port}"))?;
    let out = verify(&cfg, &[&a.join("run.json")])?.assert().code(3);
    let stderr = String::from_utf8(out.get_output().stderr.clone())?;
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    let record = read_json(&a.join("run.json"));
    for s in record["scenarios"].as_array().into_iter().flatten() {
        let v = &s["verification"];
        assert_eq!(v["backend"], "splunk", "{v:#}");
        for hop in v["hops"]
            .as_array()
            .into_iter()
            .flatten()
            .chain([&v["chain"]])
        {
            assert_eq!(hop["verdict"], "inconclusive", "{hop:#}");
            let why = hop["reason"].as_str().unwrap_or_default();
            assert!(why.contains(&format!("127.0.0.1:{port}")), "{why}");
        }
    }
    assert!(
        a.join("matrix.md").exists(),
        "the reports were not rewritten"
    );
    assert!(!String::from_utf8_lossy(&std::fs::read(a.join("run.json"))?).contains(SECRET));
    Ok(())
}

/// With --out, several records go to folders of it named after their own;
/// two records of one folder name cannot share it (exit 2, nothing asked).
#[test]
fn verify_out_takes_one_folder_per_record() -> TestResult {
    let lab = Lab::new();
    let a = recording(lab.dir.path(), "a", "a1")?;
    let b = recording(lab.dir.path(), "b", "b2")?;
    let (url, seen) = server(vec![(200, String::new())]);
    let cfg = splunk_config(&lab, &url)?;
    let out = lab.dir.path().join("out");
    let mut cmd = verify(&cfg, &[&a, &b])?;
    stdout_ok(cmd.arg("--out").arg(&out));
    for name in ["a", "b"] {
        assert_eq!(backends(&out.join(name)), vec![Value::from("splunk"); 3]);
    }
    let own = backends(&a);
    assert!(
        own.iter().all(|b| b != "splunk"),
        "the record's own folder was rewritten: {own:?}"
    );
    let asked = requests(&seen).len();
    let twin = recording(&lab.dir.path().join("elsewhere"), "a", "c3")?;
    let mut cmd = verify(&cfg, &[&a, &twin])?;
    let stderr = stderr_with(cmd.arg("--out").arg(&out), 2);
    assert!(
        stderr.contains(&out.join("a").display().to_string()),
        "{stderr}"
    );
    assert_eq!(
        requests(&seen).len(),
        asked,
        "a refused verify asked the backend"
    );
    Ok(())
}
