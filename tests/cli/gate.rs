//! `chainproof gate`: a rule change that stops matching fails the gate with
//! a readable difference; restoring the rule passes it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

use crate::common::*;

/// Runs macro-doc-shell with `rules` (or the shipped ones) and returns its run.json.
fn run_with(rules: Option<&Path>) -> Result<(Lab, PathBuf), Box<dyn std::error::Error>> {
    let lab = Lab::new();
    let mut args = vec!["macro-doc-shell".to_string()];
    if let Some(r) = rules {
        args.extend(["--rules".to_string(), r.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    lab.run(&args).assert().success();
    let path = lab.run_json();
    Ok((lab, path))
}

fn gate(
    baseline: &Path,
    current: &Path,
) -> Result<(Option<i32>, String), Box<dyn std::error::Error>> {
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/gate-policy.yaml");
    let out = Command::cargo_bin("chainproof")?
        .args(["gate", "--baseline"])
        .arg(baseline)
        .arg("--current")
        .arg(current)
        .arg("--policy")
        .arg(&policy)
        .output()?;
    Ok((out.status.code(), String::from_utf8(out.stdout)?))
}

#[test]
fn a_rule_that_stops_matching_fails_the_gate_and_restoring_it_passes() -> TestResult {
    if !require_root() {
        return Ok(());
    }
    let _host = host();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("detections");
    let (_base_lab, baseline) = run_with(None)?;
    // The same rules, except that the document-application rule no longer
    // knows LibreOffice's soffice.bin.
    let broken = tempfile::tempdir()?;
    for entry in std::fs::read_dir(&shipped)?.flatten() {
        let text = std::fs::read_to_string(entry.path())?
            .replace("- '/soffice.bin'", "- '/soffice.bin.renamed'")
            .replace("  - soffice.bin\n", "  - soffice.bin.renamed\n");
        std::fs::write(broken.path().join(entry.file_name()), text)?;
    }
    let (_broken_lab, current) = run_with(Some(broken.path()))?;
    let (code, text) = gate(&baseline, &current)?;
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("macro-doc-shell · linux") && text.contains("alerted (technique) → observed"),
        "{text}"
    );
    assert!(text.contains("gate FAILED"), "{text}");
    let (_restored_lab, restored) = run_with(Some(&shipped))?;
    let (code, text) = gate(&baseline, &restored)?;
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("gate passed"), "{text}");
    Ok(())
}

#[test]
fn unreadable_inputs_are_usage_errors() -> TestResult {
    let dir = tempfile::tempdir()?;
    let missing = dir.path().join("missing.json");
    Command::cargo_bin("chainproof")?
        .args(["gate", "--baseline"])
        .arg(&missing)
        .arg("--current")
        .arg(&missing)
        .assert()
        .code(2);
    let policy = dir.path().join("p.yaml");
    std::fs::write(&policy, "min_alerted_chains: 2\n")?;
    let out = Command::cargo_bin("chainproof")?
        .args(["gate", "--baseline"])
        .arg(&missing)
        .arg("--current")
        .arg(&missing)
        .arg("--policy")
        .arg(&policy)
        .assert()
        .code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone())?;
    assert!(
        stderr.contains("p.yaml:1") && stderr.contains("min_alerted_chains"),
        "{stderr}"
    );
    Ok(())
}

/// The CI flow of ci/examples, without a lab: the shipped recording verified
/// against the shipped rules matches the shipped baseline; against a broken
/// rule it fails the gate.
#[test]
fn the_shipped_recording_gates_rule_changes_without_a_lab() -> TestResult {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let verify = |rules: &Path, out: &Path| -> TestResult {
        Command::cargo_bin("chainproof")?
            .args(["verify"])
            .arg(root.join("ci/recording/run.json"))
            .arg("--telemetry")
            .arg(root.join("ci/recording/telemetry.jsonl"))
            .arg("--rules")
            .arg(rules)
            .arg("--out")
            .arg(out)
            .assert()
            .success();
        Ok(())
    };
    let dir = tempfile::tempdir()?;
    verify(&root.join("detections"), &dir.path().join("same"))?;
    let (code, text) = gate(
        &root.join("ci/baseline/run.json"),
        &dir.path().join("same/run.json"),
    )?;
    assert_eq!(code, Some(0), "{text}");
    let broken = dir.path().join("broken-rules");
    std::fs::create_dir_all(&broken)?;
    for entry in std::fs::read_dir(root.join("detections"))?.flatten() {
        let text = std::fs::read_to_string(entry.path())?
            .replace("- '/nautilus'", "- '/nautilus.renamed'")
            .replace("  - nautilus\n", "  - nautilus.renamed\n");
        std::fs::write(broken.join(entry.file_name()), text)?;
    }
    verify(&broken, &dir.path().join("broken"))?;
    let (code, text) = gate(
        &root.join("ci/baseline/run.json"),
        &dir.path().join("broken/run.json"),
    )?;
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("shortcut-script · linux") && text.contains("alerted (technique) → observed"),
        "{text}"
    );
    // The recording itself was not touched.
    assert!(!root.join("ci/recording/matrix.md").exists());
    Ok(())
}

/// Re-verifying judges a record only with the scenario text it ran with:
/// the shipped recording ran older texts of the built-in scenarios, so
/// without its `scenarios/` copies `verify` refuses (exit 2) naming the
/// scenario, both SHA-256s and `--scenarios`; pointed at the copies it
/// verifies and says which expectations it used.
#[test]
fn verify_refuses_a_record_whose_scenario_hashes_differ() -> TestResult {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir()?;
    // The record alone, without the scenario copies beside it.
    let record = dir.path().join("run.json");
    std::fs::copy(root.join("ci/recording/run.json"), &record)?;
    let verify =
        |extra: &[&Path]| -> Result<assert_cmd::assert::Assert, Box<dyn std::error::Error>> {
            let mut cmd = Command::cargo_bin("chainproof")?;
            cmd.arg("verify")
                .arg(&record)
                .arg("--telemetry")
                .arg(root.join("ci/recording/telemetry.jsonl"))
                .arg("--out")
                .arg(dir.path().join("out"));
            for p in extra {
                cmd.arg("--scenarios").arg(p);
            }
            Ok(cmd.assert())
        };
    let refused = verify(&[])?.code(2);
    let stderr = String::from_utf8(refused.get_output().stderr.clone())?;
    let recorded: serde_json::Value = serde_json::from_slice(&std::fs::read(&record)?)?;
    let first = &recorded["scenarios"][0];
    for part in [
        first["id"].as_str().unwrap_or("?"),
        first["source_sha256"].as_str().unwrap_or("?"),
        "--scenarios",
    ] {
        assert!(stderr.contains(part), "{part} missing: {stderr}");
    }
    assert!(
        !dir.path().join("out").exists(),
        "a refused verify wrote reports"
    );
    let copies = root.join("ci/recording/scenarios");
    let ok = verify(&[&copies])?.success();
    let stderr = String::from_utf8(ok.get_output().stderr.clone())?;
    assert!(
        stderr.contains("expectations: 3 scenario(s) as recorded (same SHA-256), loaded now"),
        "{stderr}"
    );
    Ok(())
}
