//! Issue 6's acceptance: every run folder is an evidence bundle with its
//! reports; `bundle verify` catches one changed byte; a signature verifies
//! with OpenSSH's ssh-keygen; history, trend and diff.

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use assert_cmd::Command;

use crate::common::*;

fn chainproof() -> Command {
    Command::cargo_bin("chainproof").unwrap_or_else(|e| panic!("binary: {e}"))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn a_run_folder_is_a_bundle_that_detects_any_changed_byte_and_verifies_with_ssh_keygen()
-> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    // Without ssh-keygen only the signing half is left out.
    let ssh_keygen = require_tool("ssh-keygen");
    let key = lab.dir.path().join("key");
    if ssh_keygen {
        let status = Std::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "auditor@lab", "-f"])
            .arg(&key)
            .status()?;
        assert!(status.success());
    }
    let mut args = vec!["macro-doc-shell", "control-pdf-browser"];
    let key_text = key.display().to_string();
    if ssh_keygen {
        args.extend(["--sign", key_text.as_str()]);
    }
    lab.run(&args).assert().success();
    let dir = lab.folders().pop().ok_or("no report folder")?;
    for name in [
        "run.json",
        "report.html",
        "navigator.json",
        "matrix.csv",
        "matrix.md",
        "junit.xml",
        "telemetry.jsonl",
        "scenarios/macro-doc-shell.yaml",
        "SHA256SUMS",
    ] {
        assert!(dir.join(name).is_file(), "{name} missing from the bundle");
    }
    let nav: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("navigator.json"))?)?;
    assert_eq!(nav["domain"], "enterprise-attack");
    chainproof()
        .args(["bundle", "verify"])
        .arg(&dir)
        .assert()
        .success();
    if ssh_keygen {
        let allowed = lab.dir.path().join("allowed_signers");
        std::fs::write(
            &allowed,
            format!(
                "auditor@lab {}",
                std::fs::read_to_string(key.with_extension("pub"))?
            ),
        )?;
        let verify = |manifest: &Path| -> std::io::Result<bool> {
            Ok(Std::new("ssh-keygen")
                .args([
                    "-Y",
                    "verify",
                    "-n",
                    "chainproof",
                    "-I",
                    "auditor@lab",
                    "-f",
                ])
                .arg(&allowed)
                .arg("-s")
                .arg(dir.join("SHA256SUMS.sig"))
                .stdin(std::fs::File::open(manifest)?)
                .output()?
                .status
                .success())
        };
        assert!(
            verify(&dir.join("SHA256SUMS"))?,
            "ssh-keygen rejects the signature"
        );
        let tampered = lab.dir.path().join("SHA256SUMS.tampered");
        let mut bytes = std::fs::read(dir.join("SHA256SUMS"))?;
        bytes[0] ^= 1;
        std::fs::write(&tampered, bytes)?;
        assert!(
            !verify(&tampered)?,
            "ssh-keygen accepted a tampered manifest"
        );
    }
    // One changed byte in any file is caught, and named.
    for file in files(&dir) {
        let name = file
            .strip_prefix(&dir)?
            .to_string_lossy()
            .replace('\\', "/");
        if name.starts_with("SHA256SUMS") {
            continue;
        }
        let original = std::fs::read(&file)?;
        let mut changed = original.clone();
        changed[original.len() / 2] ^= 0x20;
        std::fs::write(&file, &changed)?;
        let out = chainproof()
            .args(["bundle", "verify"])
            .arg(&dir)
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out)?;
        assert!(text.contains(&name), "{name} not named:\n{text}");
        std::fs::write(&file, &original)?;
    }
    chainproof()
        .args(["bundle", "verify"])
        .arg(&dir)
        .assert()
        .success();
    lab.assert_no_residue(&tokens(&lab.record()));
    Ok(())
}

#[test]
fn three_runs_give_three_trend_points_and_diff_lists_the_cells_rules_change() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    let empty = lab.dir.path().join("no-rules");
    std::fs::create_dir_all(&empty)?;
    let no_rules = empty.display().to_string();
    let ids = ["macro-doc-shell", "shortcut-script"];
    lab.run(&ids).assert().success();
    let mut bare = ids.to_vec();
    bare.extend(["--rules", no_rules.as_str()]);
    lab.run(&bare).assert().success();
    lab.run(&ids).assert().success();
    let runs = lab.folders();
    assert_eq!(runs.len(), 3, "{runs:?}");
    let history = std::fs::read_to_string(lab.reports().join("history.jsonl"))?;
    assert_eq!(history.lines().count(), 3, "{history}");
    let trend = stdout_ok(
        chainproof()
            .arg("trend")
            .arg("--reports")
            .arg(lab.reports()),
    );
    let points = trend.lines().filter(|l| l.contains(" cp")).count();
    assert_eq!(points, 3, "{trend}");
    // The HTML report of the last run draws the trend.
    let html = std::fs::read_to_string(runs[2].join("report.html"))?;
    assert!(html.contains("<svg"), "no trend chart");
    // With rules, then without: the spawn and chain cells of both chains.
    let with = runs.iter().find(|d| {
        std::fs::read_to_string(d.join("run.json")).is_ok_and(|t| t.contains("\"alerted\""))
    });
    let without = runs.iter().find(|d| {
        std::fs::read_to_string(d.join("run.json")).is_ok_and(|t| !t.contains("\"alerted\""))
    });
    let (Some(with), Some(without)) = (with, without) else {
        return Err("expected a run with alerts and one without".into());
    };
    let diff = stdout_ok(
        chainproof()
            .arg("diff")
            .arg(with.join("run.json"))
            .arg(without.join("run.json")),
    );
    assert!(
        diff.contains("4 cells changed (0 better, 4 worse)"),
        "{diff}"
    );
    for id in ids {
        assert!(diff.contains(id), "{id} not in the diff:\n{diff}");
    }
    Ok(())
}
