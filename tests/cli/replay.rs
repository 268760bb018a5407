//! `chainproof replay`: recorded telemetry through rules, offline.

use std::path::Path;

use assert_cmd::Command;

use crate::common::*;

#[test]
fn public_samples_replay_into_chains_with_their_alerts() -> TestResult {
    let datasets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets");
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sigma-t1204");
    if !datasets.exists() || !rules.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have shared/ beside the project"
        );
        eprintln!("shared/ not found; not run");
        return Ok(());
    }
    let out = Command::cargo_bin("chainproof")?
        .args(["replay", "--telemetry"])
        .arg(datasets.join("sysmon_vbs_sharpshooter_stageless_meterpreter.evtx"))
        .arg("--telemetry")
        .arg(datasets.join("sigmahq_regression_3215aa19_lnk_double_extension.json"))
        .arg("--rules")
        .arg(&rules)
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone())?;
    for want in [
        "explorer.exe",
        "iexplore.exe",
        "wscript.exe",
        "alerted (tactic)",
        "WSF/JSE/JS/VBA/VBE File Execution Via Cscript/Wscript",
    ] {
        assert!(text.contains(want), "replay lacks {want}:\n{text}");
    }
    Ok(())
}

#[test]
fn a_recording_replays_through_the_shipped_rules() -> TestResult {
    if !needs_root("replay recording") {
        return Ok(());
    }
    let _host = host();
    let lab = Lab::new();
    lab.run(&["macro-doc-shell", "--record"]).assert().success();
    let folder = lab
        .reports()
        .read_dir()?
        .flatten()
        .find(|e| e.path().join("telemetry.jsonl").exists())
        .ok_or("no recording")?;
    let out = Command::cargo_bin("chainproof")?
        .args(["replay", "--telemetry"])
        .arg(folder.path().join("telemetry.jsonl"))
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone())?;
    assert!(
        text.contains("soffice.bin") && text.contains("alerted (technique)"),
        "{text}"
    );
    assert!(
        text.contains("Document Application Spawns a Shell or Interpreter on Linux"),
        "{text}"
    );
    let missing = lab.dir.path().join("nope.jsonl");
    Command::cargo_bin("chainproof")?
        .args(["replay", "--telemetry"])
        .arg(&missing)
        .assert()
        .code(2);
    Ok(())
}
