//! The auditd backend against the real kernel audit subsystem: with
//! chainproof's audit rules every hop is observed from the kernel's own
//! records; without them the same chains are missed — a missing sensor is
//! told from a missing alert.

use assert_cmd::Command;
use serde_json::Value;

use crate::common::*;

fn audit_rules(flag: &str) -> TestResult {
    Command::cargo_bin("chainproof")?
        .args(["audit-rules", flag])
        .assert()
        .success();
    Ok(())
}

fn verdicts(record: &Value) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for s in record["scenarios"].as_array().into_iter().flatten() {
        for h in s["verification"]["hops"].as_array().into_iter().flatten() {
            all.push((
                s["id"].as_str().unwrap_or_default().to_string(),
                h["verdict"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    all
}

#[test]
fn hops_are_observed_from_the_kernels_records_and_a_run_without_rules_is_refused() -> TestResult {
    if !require_root() {
        return Ok(());
    }
    if !require(auditd_running(), "auditd running") {
        return Ok(());
    }
    let _host = host();
    audit_rules("--install")?;
    let lab = Lab::new();
    let with_rules = lab
        .run(&[
            "macro-doc-shell",
            "shortcut-script",
            "iso-exec",
            "--backend",
            "auditd",
            "--deadline",
            "3s",
        ])
        .assert();
    audit_rules("--remove")?;
    let ran = with_rules.success();
    // The check says what it verified before anything ran.
    let said = String::from_utf8_lossy(&ran.get_output().stderr).into_owned();
    assert!(
        said.contains("backend auditd: verified: auditd is running and the kernel has the `chainproof_exec` execve rule"),
        "{said}"
    );
    let record = lab.record();
    assert_eq!(record["scenarios"][0]["verification"]["backend"], "auditd");
    let seen = verdicts(&record);
    assert_eq!(seen.len(), 12, "{seen:?}");
    for (id, v) in &seen {
        assert!(
            v == "observed" || v == "alerted",
            "{id}: {v} with the audit rules loaded"
        );
    }
    // With the rules removed the kernel would record nothing: the run stops
    // before anything happens on the host, naming the fix, instead of
    // reporting every hop missed after the deadline.
    let bare = Lab::new();
    let out = bare
        .run(&["macro-doc-shell", "--backend", "auditd", "--deadline", "1s"])
        .assert()
        .code(3)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert!(
        err.contains("no `chainproof_exec` execve audit rule loaded")
            && err.contains("chainproof audit-rules --install"),
        "{err}"
    );
    assert!(
        bare.folders().is_empty(),
        "nothing ran, nothing was written: {:?}",
        bare.folders()
    );
    // Verifying that first run again needs no rules now: it happened.
    let again = lab.run_json();
    Command::cargo_bin("chainproof")?
        .args(["verify", "--backend", "auditd"])
        .arg(&again)
        .assert()
        .success();
    Ok(())
}
