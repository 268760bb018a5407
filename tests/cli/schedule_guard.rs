//! `chainproof schedule` before it runs anything: the lab guard, the
//! deployment units it prints, usage errors.

use crate::common::*;
use crate::schedule::{bin, schedule};

#[test]
fn deployment_units_and_usage_errors() -> TestResult {
    let lab = Lab::new();
    let unit = assert_cmd::Command::new(bin())
        .args(["schedule", "--print-systemd"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let unit = String::from_utf8(unit)?;
    assert!(
        unit.contains(
            "ExecStart=/usr/local/bin/chainproof schedule --every 1h --config /etc/chainproof/chainproof.yaml --reports /var/lib/chainproof/reports"
        ),
        "{unit}"
    );
    assert!(
        unit.contains("Type=simple") && unit.contains("PrivateTmp=false"),
        "{unit}"
    );
    let cron = assert_cmd::Command::new(bin())
        .args(["schedule", "--print-cron", "--cron", "*/30 * * * *"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let cron = String::from_utf8(cron)?;
    assert!(
        cron.lines().any(|l| l.starts_with("*/30 * * * * root ")
            && l.contains("schedule --every 1s --max-runs 1 --config")),
        "{cron}"
    );
    schedule(&lab, &[]).assert().code(2);
    schedule(&lab, &["--cron", "61 * * * *"]).assert().code(2);
    schedule(&lab, &["no-such-scenario", "--every", "1s"])
        .assert()
        .code(2);
    assert!(
        !lab.reports().exists(),
        "usage errors must not touch the reports folder"
    );
    Ok(())
}

/// A host the config's lab allow-list does not name is refused before
/// anything runs; so is a schedule without a config.
#[test]
fn a_host_outside_the_lab_allow_list_is_refused_before_anything_runs() -> TestResult {
    let lab = Lab::new();
    let config = lab.dir.path().join("other-lab.yaml");
    std::fs::write(&config, "lab:\n  allow: [lab-linux-*, win11-lab-01]\n")?;
    let err = stderr_with(
        assert_cmd::Command::new(bin())
            .args([
                "schedule",
                "macro-doc-shell",
                "--every",
                "1s",
                "--max-runs",
                "1",
                "--config",
            ])
            .arg(&config)
            .arg("--reports")
            .arg(lab.reports())
            .arg("--work-root")
            .arg(lab.work()),
        2,
    );
    assert!(
        err.contains("lab allow-list") && err.contains("nothing was run"),
        "{err}"
    );
    assert!(
        !lab.reports().exists(),
        "reports written for a refused host"
    );
    let out = assert_cmd::Command::new(bin())
        .args(["schedule", "--every", "1s", "--reports"])
        .arg(lab.reports())
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(out)?.contains("lab.allow"));
    assert!(!lab.reports().exists());
    Ok(())
}
