//! Interrupted runs: SIGINT cleans up at once, SIGKILL leaves a journal
//! that `chainproof cleanup` finishes.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;

use crate::common::*;

fn start_slow_iso(lab: &Lab) -> Result<(std::process::Child, String), Box<dyn std::error::Error>> {
    let slow = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slow/iso-exec.yaml");
    let bin = assert_cmd::cargo::cargo_bin("chainproof");
    let child = std::process::Command::new(bin)
        .arg("run")
        .arg("--scenarios")
        .arg(&slow)
        .arg("--reports")
        .arg(lab.reports())
        .arg("--work-root")
        .arg(lab.work())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(token) = lab.sleeping_token(true) {
            return Ok((child, token));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err("the slow iso-exec chain never reached its sleep".into())
}

/// `chainproof cleanup` of the lab's reports folder; its stdout.
fn cleanup(lab: &Lab) -> String {
    let mut cmd = Command::cargo_bin("chainproof").unwrap_or_else(|e| panic!("binary: {e}"));
    stdout_ok(cmd.arg("cleanup").arg("--reports").arg(lab.reports()))
}

#[test]
fn sigint_in_the_middle_of_iso_exec_cleans_up() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    let (mut child, token) = start_slow_iso(&lab)?;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )?;
    let status = child.wait()?;
    assert_eq!(status.code(), Some(130), "an interrupted run exits 130");
    // SIGINT alone must have cleaned up: nothing is left for `cleanup`.
    lab.assert_no_residue(std::slice::from_ref(&token));
    let text = cleanup(&lab);
    assert!(text.contains("nothing to clean up"), "{text}");
    lab.assert_no_residue(&[token]);
    let record = lab.record();
    assert_eq!(record["scenarios"][0]["status"], "interrupted");
    Ok(())
}

#[test]
fn cleanup_finishes_after_sigkill_from_the_journal() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    let (mut child, token) = start_slow_iso(&lab)?;
    child.kill()?;
    child.wait()?;
    assert!(
        !token_processes(&token).is_empty(),
        "SIGKILL should leave the chain behind for cleanup to find"
    );
    let text = cleanup(&lab);
    assert!(text.contains(&token) && text.contains("removed"), "{text}");
    lab.assert_no_residue(&[token]);
    Ok(())
}
