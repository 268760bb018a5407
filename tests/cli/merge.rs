//! `chainproof merge`: two hosts' run records become one fleet matrix
//! (hosts × scenarios × hops) and one report folder.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

use crate::common::*;

/// Writes the shipped baseline as `a.json` and, as host lab-linux-02 with
/// another run id, as `b.json`; returns the scenario ids.
fn two_hosts(dir: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/baseline/run.json");
    let text = std::fs::read_to_string(baseline)?;
    std::fs::write(dir.join("a.json"), &text)?;
    let mut b: Value = serde_json::from_str(&text)?;
    b["host"]["name"] = "lab-linux-02".into();
    b["run_id"] = "cp0123456789".into();
    std::fs::write(dir.join("b.json"), serde_json::to_string_pretty(&b)?)?;
    let ids = b["scenarios"]
        .as_array()
        .ok_or("no scenarios")?
        .iter()
        .filter_map(|s| s["id"].as_str().map(String::from))
        .collect();
    Ok(ids)
}

#[test]
fn two_hosts_merge_into_one_fleet_matrix_and_report_folder() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ids = two_hosts(dir.path())?;
    assert!(!ids.is_empty());
    let out = dir.path().join("fleet");
    let run = Command::cargo_bin("chainproof")?
        .current_dir(dir.path())
        .args(["merge", "a.json", "b.json", "--out"])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8(run.get_output().stdout.clone())?;
    for text in ["host", "lab-linux-01", "lab-linux-02"] {
        assert!(stdout.contains(text), "{text} missing:\n{stdout}");
    }
    for id in &ids {
        assert_eq!(stdout.matches(id.as_str()).count(), 2, "{id}:\n{stdout}");
    }
    for name in [
        "run.json",
        "matrix.md",
        "matrix.csv",
        "navigator.json",
        "report.html",
        "junit.xml",
    ] {
        let len = std::fs::metadata(out.join(name))?.len();
        assert!(len > 0, "{name} is empty");
    }
    let record: Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json"))?)?;
    assert_eq!(record["host"]["name"], "fleet of 2 hosts");
    assert_eq!(
        record["scenarios"].as_array().map(Vec::len),
        Some(2 * ids.len())
    );
    let csv = std::fs::read_to_string(out.join("matrix.csv"))?;
    assert!(csv.contains(",lab-linux-02,"), "{csv}");

    let md = Command::cargo_bin("chainproof")?
        .arg("report")
        .arg(out.join("run.json"))
        .args(["--format", "md"])
        .assert()
        .success();
    let md = String::from_utf8(md.get_output().stdout.clone())?;
    assert!(md.contains("| host | scenario | platform |"), "{md}");
    assert!(md.contains("| lab-linux-02 | macro-doc-shell |"), "{md}");
    Ok(())
}

#[test]
fn a_file_given_twice_and_an_unreadable_file_are_usage_errors() -> TestResult {
    let dir = tempfile::tempdir()?;
    two_hosts(dir.path())?;
    let twice = Command::cargo_bin("chainproof")?
        .current_dir(dir.path())
        .args(["merge", "a.json", "b.json", "a.json"])
        .assert()
        .code(2);
    let stderr = String::from_utf8(twice.get_output().stderr.clone())?;
    assert!(stderr.contains("given twice"), "{stderr}");
    Command::cargo_bin("chainproof")?
        .current_dir(dir.path())
        .args(["merge", "a.json", "missing.json"])
        .assert()
        .code(2);
    Command::cargo_bin("chainproof")?
        .arg("merge")
        .assert()
        .code(2);
    Ok(())
}
