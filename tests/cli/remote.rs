//! `run --target`: the suite on a second host through real OpenSSH (the
//! namespace lab of `sshlab`), verified here; the lab guard before any
//! connection; unknown host keys refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use super::common::{self, Lab};
use super::sshlab::{self, SshLab};

pub(super) const BIN: &str = env!("CARGO_BIN_EXE_chainproof");

/// Verdict cells of a record, by scenario and platform: status, each hop's
/// verdict and grade, the chain verdict, and the rules that alerted.
fn cells(record: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for s in record["scenarios"].as_array().into_iter().flatten() {
        let v = &s["verification"];
        let hops: Vec<String> = v["hops"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| format!("{}:{}/{}", h["index"], h["verdict"], h["grade"]))
            .collect();
        let mut rules: Vec<String> = v["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| a["rule_id"].to_string())
            .collect();
        rules.sort();
        rules.dedup();
        let key = format!("{} {}", s["id"], s["platform"]);
        let chain = &v["chain"];
        out.insert(
            key,
            format!(
                "{} | {} | {} {} full={} fp={} | {}",
                s["status"],
                hops.join(" "),
                chain["verdict"],
                chain["grade"],
                chain["fully_observed"],
                chain["false_positive"],
                rules.join(",")
            ),
        );
    }
    out
}

/// The one `*-fleet-*` folder under `reports`.
pub(super) fn fleet_folder(reports: &Path) -> PathBuf {
    let found: Vec<PathBuf> = common::entries(reports)
        .into_iter()
        .filter(|p| p.is_dir() && p.to_string_lossy().contains("-fleet-"))
        .collect();
    assert_eq!(found.len(), 1, "fleet folders: {found:?}");
    found[0].clone()
}

/// `chainproof run <args>` on the lab's controller side, with the lab's ssh
/// config, the remote and work folders inside the lab, and `reports`.
pub(super) fn controller(lab: &SshLab, cfg: &Path, reports: &Path, args: &[&str]) -> Command {
    let mut c = lab.in_controller(BIN);
    c.arg("run")
        .args(args)
        .arg("--config")
        .arg(cfg)
        .arg("--ssh-config")
        .arg(lab.path("ssh_config"))
        .arg("--remote-dir")
        .arg(lab.path("remote"))
        .arg("--work-root")
        .arg(lab.path("work"))
        .arg("--reports")
        .arg(reports);
    c
}

/// `chainproof bundle verify <dir>` exits 0.
pub(super) fn assert_bundle_intact(dir: &Path) {
    let v = Command::new(BIN)
        .args(["bundle", "verify"])
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("bundle verify: {e}"));
    assert_eq!(v.status.code(), Some(0), "{}: {}", dir.display(), text(&v));
}

pub(super) fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// [`text`] of a command against `lab`, which must have exited with
/// `code` (sshd's log is shown when it did not).
pub(super) fn exited(lab: &SshLab, out: &Output, code: i32) -> String {
    let all = text(out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{all}\nsshd: {}",
        lab.sshd_log()
    );
    all
}

pub(super) fn config(dir: &Path, allow: &str) -> PathBuf {
    let p = dir.join("chainproof.yaml");
    std::fs::write(&p, format!("lab:\n  allow: [{allow}]\n")).unwrap_or_else(|e| panic!("{e}"));
    p
}

#[test]
fn a_remote_run_matches_a_local_run_and_an_unreachable_target_does_not_stop_it() {
    if !sshlab::available() {
        return;
    }
    let _host = common::host();
    let local = Lab::new();
    let out = local
        .run(&[])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let local_cells = cells(&local.record());
    // Every Linux variant: 9 attack chains and 3 negative controls.
    assert!(local_cells.len() >= 12, "{local_cells:#?}");

    let lab = SshLab::start();
    let cfg = config(lab.dir.path(), "\"10.213.*\"");
    let reports = lab.path("reports");
    let remote = |extra: &[&str], reports: &Path| {
        controller(&lab, &cfg, reports, extra)
            .output()
            .unwrap_or_else(|e| panic!("run --target: {e}"))
    };
    let out = remote(
        &["--target", &lab.target(), "--target", &lab.unreachable()],
        &reports,
    );
    // One target failed: exit 3, after the other one's run completed.
    let all = exited(&lab, &out, 3);
    assert!(all.contains("targets: 1 ran, 1 failed"), "{all}");
    assert!(
        all.contains("failed (connect): unreachable") && all.contains("Connection refused"),
        "{all}"
    );
    assert!(all.contains("(harness copied)"), "{all}");

    let fleet = fleet_folder(&reports);
    let targets = common::read_json(&fleet.join("targets.json"));
    let statuses: Vec<(String, String)> = targets
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["url"].as_str().unwrap_or("").to_string(),
                t["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            (lab.target(), "ran".to_string()),
            (lab.unreachable(), "failed".to_string())
        ]
    );
    let host_record = common::read_json(&fleet.join(&lab.target_addr).join("run.json"));
    assert_eq!(
        cells(&host_record),
        local_cells,
        "remote and local matrices differ"
    );
    let fleet_record = common::read_json(&fleet.join("run.json"));
    assert_eq!(cells(&fleet_record), local_cells);
    // The reports say which target gave no record, and why.
    let not_run = &fleet_record["targets_not_run"];
    assert_eq!(not_run[0]["url"], lab.unreachable().as_str(), "{not_run}");
    assert_eq!(not_run[0]["step"], "connect");
    let html = std::fs::read_to_string(fleet.join("report.html")).unwrap_or_default();
    assert!(html.contains("Targets not run") && html.contains("Connection refused"));
    assert!(all.contains("; 1 target NOT RUN"), "{all}");
    // Both the host's bundle and the fleet's verify.
    for dir in [fleet.join(&lab.target_addr), fleet.clone()] {
        assert_bundle_intact(&dir);
    }
    // Nothing is left on the target but the cached harness.
    for token in common::tokens(&host_record) {
        assert!(
            common::token_processes(&token).is_empty(),
            "{token} still runs"
        );
    }
    let work = common::entries(&lab.path("work"));
    assert!(
        work.is_empty(),
        "run directories left on the target: {work:?}"
    );
    assert!(
        lab.path("work").exists(),
        "--work-root did not reach the target"
    );
    let runs = common::entries(&lab.path("remote/runs"));
    assert!(
        runs.is_empty(),
        "per-run files left on the target: {runs:?}"
    );
    let bins = common::entries(&lab.path("remote/bin"));
    assert_eq!(bins.len(), 1, "{bins:?}");

    // No ssh connection to the target outlives the run (the shared
    // connection's master is closed at the end of each target).
    // (A master renames itself `ssh: <control path> [mux]`.)
    let masters = || {
        common::token_processes("[mux]")
            .into_iter()
            .filter(|pid| {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                String::from_utf8_lossy(&cmdline).contains("/cp-ssh-")
            })
            .collect::<Vec<u32>>()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while !masters().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        masters().is_empty(),
        "ssh connection masters left: {:?}",
        masters()
    );

    // The second time the harness is already there, byte for byte.
    let out = remote(
        &["macro-doc-shell", "--target", &lab.target()],
        &lab.path("again"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("(harness already there)"),
        "{}",
        text(&out)
    );
}

#[test]
fn an_unknown_host_key_is_refused_and_nothing_runs_there() {
    if !sshlab::available() {
        return;
    }
    let lab = SshLab::start();
    let cfg = config(lab.dir.path(), "\"10.213.*\"");
    let strict = lab.path("ssh_config_unknown");
    let base = std::fs::read_to_string(lab.path("ssh_config")).unwrap_or_default();
    let empty = lab.path("empty_known_hosts");
    std::fs::write(&empty, "").unwrap_or_else(|e| panic!("{e}"));
    let known = lab.path("known_hosts").display().to_string();
    std::fs::write(&strict, base.replace(&known, &empty.display().to_string()))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = lab
        .in_controller(BIN)
        .args(["run", "--target", &lab.target(), "--config"])
        .arg(&cfg)
        .arg("--ssh-config")
        .arg(&strict)
        .arg("--remote-dir")
        .arg(lab.path("remote"))
        .arg("--reports")
        .arg(lab.path("reports"))
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(all.contains("host key not verified"), "{all}");
    assert!(
        !lab.path("remote").exists(),
        "the harness reached a host whose key was not verified"
    );
    // The key was not learned either.
    assert_eq!(std::fs::read_to_string(&empty).unwrap_or_default(), "");
    // No target ran, and the fleet's reports still say which and why.
    let fleet = fleet_folder(&lab.path("reports"));
    let record = common::read_json(&fleet.join("run.json"));
    assert_eq!(record["scenarios"].as_array().map(Vec::len), Some(0));
    assert_eq!(record["targets_not_run"][0]["step"], "connect", "{record}");
    let html = std::fs::read_to_string(fleet.join("report.html")).unwrap_or_default();
    assert!(html.contains("Targets not run") && html.contains("host key not verified"));
    assert!(
        all.contains("0 chains") && all.contains("1 target NOT RUN"),
        "{all}"
    );
}
