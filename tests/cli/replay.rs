//! `chainproof replay`: recorded telemetry through rules, offline.

use std::path::Path;

use assert_cmd::Command;

use crate::common::*;

#[test]
fn public_samples_replay_into_chains_with_their_alerts() -> TestResult {
    let (Some(datasets), Some(rules)) = (require_shared("datasets"), require_shared("sigma-t1204"))
    else {
        return Ok(());
    };
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
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
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

/// A Word → cmd chain and a script written by a process the recording
/// never saw start (so outside any chain), with two
/// rules and one legacy aggregation the loader refuses.
fn office() -> Command {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replay");
    let mut c = Command::cargo_bin("chainproof").unwrap_or_else(|e| panic!("binary: {e}"));
    c.arg("replay")
        .arg(fixture.join("office.jsonl"))
        .arg("--rules")
        .arg(fixture.join("rules"));
    c
}

const CMD_RULE: &str = "6a0d1f3e-0000-4000-8000-000000000001";
const VBS_RULE: &str = "6a0d1f3e-0000-4000-8000-000000000002";

#[test]
fn json_output_carries_alerts_with_their_context_and_the_refused_rule() -> TestResult {
    let out = office().args(["--format", "json"]).assert().success();
    let doc: serde_json::Value = serde_json::from_slice(&out.get_output().stdout)?;
    assert_eq!(doc["schema"], "chainproof.replay/v1");
    let alerts = doc["alerts"].as_array().ok_or("no alerts")?;
    let by_id = |id: &str| alerts.iter().find(|a| a["rule_id"] == id);
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let cmd = by_id(CMD_RULE).ok_or("no cmd alert")?;
    assert_eq!(cmd["level"], "high");
    assert_eq!(cmd["host"], "WS01");
    assert_eq!(cmd["pid"], 300);
    assert_eq!(cmd["image"], r"C:\Windows\System32\cmd.exe");
    assert_eq!(cmd["command_line"], "cmd.exe /c whoami");
    assert_eq!(cmd["time"], "2026-01-01T10:00:09Z");
    assert_eq!(cmd["chain"], doc["chains"][0]["id"]);
    let vbs = by_id(VBS_RULE).ok_or("no vbs alert")?;
    assert!(vbs["chain"].is_null(), "a file event is outside chains");
    assert_eq!(vbs["level"], "low");
    assert_eq!(doc["rules"]["loaded"], 2);
    assert_eq!(doc["rules"]["refused"][0]["reason"], "aggregation");
    assert!(
        doc["rules"]["refused"][0]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("legacy_count.yml"))
    );
    assert_eq!(doc["rules"]["by_reason"]["aggregation"], 1);
    assert_eq!(doc["inputs"][0]["read"], 4);
    assert_eq!(doc["summary"]["alerts"], 2);
    Ok(())
}

#[test]
fn ndjson_gives_one_typed_object_per_line_ending_with_the_summary() -> TestResult {
    let out = office().args(["--format", "ndjson"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone())?;
    let types: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).map(|v| v["type"].to_string()))
        .collect::<Result<_, _>>()?;
    assert_eq!(
        types,
        [
            r#""alert""#,
            r#""alert""#,
            r#""chain""#,
            r#""input""#,
            r#""rules""#,
            r#""summary""#
        ]
    );
    Ok(())
}

#[test]
fn the_table_lists_the_alert_outside_chains() -> TestResult {
    let out = office().assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone())?;
    for want in [
        "alerted (technique)",
        "alerts outside chains: 1",
        VBS_RULE,
        "pid 999",
        "rules: 2 rules loaded from 3 files; 1 refused",
    ] {
        assert!(text.contains(want), "table lacks {want}:\n{text}");
    }
    Ok(())
}

#[test]
fn fail_on_conditions_decide_the_exit_code() -> TestResult {
    for (specs, code) in [
        (&["any"][..], 1),
        (&["level:critical"][..], 0),
        (&["level:high"][..], 1),
        (&["level:critical", &format!("rule:{VBS_RULE}")][..], 1),
        (&["rule:00000000-0000-0000-0000-000000000000"][..], 0),
        (&[][..], 0),
    ] {
        let mut c = office();
        for spec in specs {
            c.args(["--fail-on", spec]);
        }
        let out = c.args(["--format", "ndjson"]).assert().code(code);
        let stderr = String::from_utf8(out.get_output().stderr.clone())?;
        assert_eq!(stderr.contains(": met"), code == 1, "{specs:?}: {stderr}");
        // Not a terminal: no progress line, only what a log should keep.
        for line in stderr.lines() {
            assert!(
                ["warning: rule refused: ", "rules: ", "fail-on "]
                    .iter()
                    .any(|p| line.starts_with(p)),
                "{specs:?}: unexpected stderr line {line:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn a_bad_fail_on_spec_is_a_usage_error_naming_it() -> TestResult {
    for spec in ["level:severe", "sometimes", "rule:"] {
        let out = office().args(["--fail-on", spec]).assert().code(2);
        let stderr = String::from_utf8(out.get_output().stderr.clone())?;
        assert!(stderr.contains(&format!("`{spec}`")), "{spec}: {stderr}");
        assert!(out.get_output().stdout.is_empty(), "nothing was replayed");
    }
    Ok(())
}

#[test]
fn replay_help_documents_formats_and_exit_codes() -> TestResult {
    let out = Command::cargo_bin("chainproof")?
        .args(["replay", "--help"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone())?;
    for want in [
        "--format",
        "ndjson",
        "--fail-on",
        "Exit codes:",
        "level:LEVEL",
    ] {
        assert!(text.contains(want), "help lacks {want}:\n{text}");
    }
    Ok(())
}

#[test]
fn an_empty_rule_folder_is_named_and_strict_refuses_it() -> TestResult {
    let empty = tempfile::tempdir()?;
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replay");
    let run = |strict: bool| {
        let mut c = Command::cargo_bin("chainproof").unwrap_or_else(|e| panic!("binary: {e}"));
        c.arg("replay")
            .arg(fixture.join("office.jsonl"))
            .arg("--rules")
            .arg(empty.path());
        if strict {
            c.arg("--strict");
        }
        c.assert()
    };
    let lenient = run(false).success();
    let err = String::from_utf8(lenient.get_output().stderr.clone())?;
    assert!(
        err.contains("warning: no rule loaded from") && err.contains("nothing can alert"),
        "{err}"
    );
    let strict = run(true).code(2);
    let err = String::from_utf8(strict.get_output().stderr.clone())?;
    assert!(err.contains("error: no rule loaded from"), "{err}");
    assert!(
        strict.get_output().stdout.is_empty(),
        "nothing was replayed"
    );
    Ok(())
}
