//! Fleets over real OpenSSH: two named targets at once with scenario files
//! sent from here, a coverage policy and a signed fleet bundle; SIGTERM on
//! the controller, after which the targets' runs stop and clean up; and a
//! target inside a network namespace, whose record says what its capture
//! could not see.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::common;
use super::remote::{BIN, config, text};
use super::sshlab::{self, Side, SshLab};

/// A Linux chain whose shell sleeps `seconds` before its child.
fn slow_scenario(dir: &Path, seconds: u32) -> PathBuf {
    let folder = dir.join("scenarios");
    std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
    let yaml = format!(
        r#"id: slow-macro
title: Macro document whose shell sleeps before its child (fleet tests)
technique: T1204.002
description: A macro document starts a shell that sleeps, then creates a proof file.
variants:
  linux:
    artifact: {{ kind: odt-macro, name: "Invoice-{{token}}.odt" }}
    delivery: {{ via: http, mark_origin: true }}
    open:
      emulated: {{ as: soffice.bin, args: ["--writer", "{{artifact}}"] }}
    chain:
      - run: ["/bin/sh", "-c", "/usr/bin/sleep {seconds}; /usr/bin/touch {{workdir}}/proof-{{token}}.txt; exit 0"]
      - run: ["/usr/bin/touch", "{{workdir}}/proof-{{token}}.txt"]
    proof: "{{workdir}}/proof-{{token}}.txt"
    timeout: 120s
expect:
  observe: [file, open, spawn]
  alert: {{ technique: T1204.002, within: 5m, rules: [305adda7-dc83-4e73-b683-2c709d9cc250] }}
"#
    );
    std::fs::write(folder.join("slow-macro.yaml"), yaml).unwrap_or_else(|e| panic!("{e}"));
    folder
}

fn controller(lab: &SshLab, cfg: &Path, args: &[&str]) -> Command {
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
        .arg(lab.path("reports"));
    c
}

fn fleet_folder(reports: &Path) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(reports)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.to_string_lossy().contains("-fleet-"))
        .collect();
    assert_eq!(found.len(), 1, "fleet folders: {found:?}");
    found[0].clone()
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn time(v: &Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        v.as_str().unwrap_or_default(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap_or_else(|e| panic!("{v}: {e}"))
}

#[test]
fn two_named_targets_run_at_once_with_sent_scenarios_a_policy_and_a_signed_bundle() {
    if !sshlab::available("two_named_targets_run_at_once") {
        return;
    }
    let _host = common::host();
    let lab = SshLab::start();
    let cfg = config(lab.dir.path(), "\"10.213.*\"");
    let scenarios = slow_scenario(lab.dir.path(), 2);
    let inventory = lab.path("targets.yaml");
    let url = lab.target();
    std::fs::write(
        &inventory,
        format!("targets:\n  - {{ url: \"{url}\", name: lab-a }}\n  - {{ url: \"{url}\", name: lab-b }}\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let key = lab.path("signing_key");
    let keygen = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap_or_else(|e| panic!("ssh-keygen: {e}"));
    assert!(keygen.success());
    let out = controller(&lab, &cfg, &["--parallel", "2", "--require", "alerted"])
        .arg("--targets")
        .arg(&inventory)
        .arg("--scenarios")
        .arg(&scenarios)
        .arg("--sign")
        .arg(&key)
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    let all = text(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{all}\nsshd: {}",
        lab.sshd_log()
    );
    assert!(all.contains("targets: 2 ran, 0 failed"), "{all}");
    let fleet = fleet_folder(&lab.path("reports"));
    let record = read(&fleet.join("run.json"));
    let runs: Vec<&Value> = record["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let hosts: Vec<&str> = runs.iter().filter_map(|s| s["host"].as_str()).collect();
    assert_eq!(
        hosts,
        ["lab-a", "lab-b"],
        "the fleet is labelled by target name"
    );
    for s in &runs {
        assert_eq!(s["id"], "slow-macro", "the scenario sent from here ran");
        assert_eq!(s["verification"]["chain"]["verdict"], "alerted");
    }
    // Both chains (2 s each) ran at the same time.
    let (a0, a1) = (time(&runs[0]["started_at"]), time(&runs[0]["finished_at"]));
    let (b0, b1) = (time(&runs[1]["started_at"]), time(&runs[1]["finished_at"]));
    assert!(
        a0 < b1 && b0 < a1,
        "not concurrent: {a0}..{a1} and {b0}..{b1}"
    );
    assert!(all.contains("│ lab-a") && all.contains("│ lab-b"), "{all}");
    assert!(fleet.join("SHA256SUMS.sig").exists());
    for dir in [fleet.join("lab-a"), fleet.join("lab-b"), fleet.clone()] {
        let v = Command::new(BIN)
            .args(["bundle", "verify"])
            .arg(&dir)
            .output()
            .unwrap_or_else(|e| panic!("bundle verify: {e}"));
        assert_eq!(v.status.code(), Some(0), "{}: {}", dir.display(), text(&v));
    }
    let runs_left: Vec<_> = std::fs::read_dir(lab.path("remote/runs"))
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    assert!(runs_left.is_empty(), "{runs_left:?}");
}

#[test]
fn sigterm_on_the_controller_stops_the_targets_runs_and_they_clean_up() {
    if !sshlab::available("sigterm_on_the_controller") {
        return;
    }
    let _host = common::host();
    let lab = SshLab::start();
    let cfg = config(lab.dir.path(), "\"10.213.*\"");
    let scenarios = slow_scenario(lab.dir.path(), 60);
    let child = controller(&lab, &cfg, &["--target", &lab.target()])
        .arg("--scenarios")
        .arg(&scenarios)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run: {e}"));
    // Wait until the chain runs on the target (its sleeping shell).
    let work = lab.path("work");
    let deadline = Instant::now() + Duration::from_secs(60);
    while common::token_processes("/usr/bin/sleep 60").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the chain never started on the target"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)
        .unwrap_or_else(|e| panic!("kill: {e}"));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(130), "{all}");
    let fleet = fleet_folder(&lab.path("reports"));
    let targets = read(&fleet.join("targets.json"));
    assert_eq!(targets[0]["step"], "interrupted", "{targets}");
    // The run there was told to stop: it ends its chain, removes its run
    // directory, and its folder on the target goes once it has exited.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left_runs: Vec<_> = std::fs::read_dir(lab.path("remote/runs"))
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        let left_work: Vec<_> = std::fs::read_dir(&work)
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        let procs = common::token_processes(&work.display().to_string());
        if left_runs.is_empty() && left_work.is_empty() && procs.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "residue on the target: runs {left_runs:?}, work {left_work:?}, processes {procs:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_target_inside_a_network_namespace_runs_and_its_record_names_the_capture_limit() {
    if !sshlab::available("a_target_inside_a_network_namespace") {
        return;
    }
    let _host = common::host();
    let lab = SshLab::start_on(Side::Namespace);
    let cfg = config(lab.dir.path(), "\"10.213.*\"");
    let out = controller(&lab, &cfg, &["macro-doc-shell", "--target", &lab.target()])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    let all = text(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{all}\nsshd: {}",
        lab.sshd_log()
    );
    let fleet = fleet_folder(&lab.path("reports"));
    let record = read(&fleet.join(&lab.target_addr).join("run.json"));
    let run = &record["scenarios"][0];
    assert_eq!(run["status"], "completed", "{run}");
    // The chain ran there (its stage programs report it) ...
    let truth = run["truth"]["processes"].as_array().map_or(0, Vec::len);
    assert!(truth >= 2, "{run}");
    // ... and the record says why short-lived processes may be missing.
    let warnings = run["truth"]["warnings"].to_string();
    assert!(
        warnings.contains("process connector not used") && warnings.contains("ECONNREFUSED"),
        "{warnings}"
    );
    let v = Command::new(BIN)
        .args(["bundle", "verify"])
        .arg(&fleet)
        .output()
        .unwrap_or_else(|e| panic!("bundle verify: {e}"));
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
}

#[test]
fn sigterm_while_verifying_stops_at_once_and_ends_the_backend_program() {
    if !sshlab::available("sigterm_while_verifying") {
        return;
    }
    let _host = common::host();
    let lab = SshLab::start();
    // A command backend that answers its check at once and then takes a
    // minute (a slow SIEM), leaving a mark when verification starts.
    let mark = lab.path("verifying");
    let program = lab.path("slow-backend.sh");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\ninput=$(cat)\ncase \"$input\" in *'\"runs\":[]'*) \
             echo '{{\"version\":1,\"runs\":[]}}'; exit 0;; esac\ntouch {}\nsleep 60\n",
            mark.display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut perms = std::fs::metadata(&program)
        .map(|m| m.permissions())
        .unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&program, perms).unwrap_or_else(|e| panic!("{e}"));
    let cfg = lab.path("slow.yaml");
    std::fs::write(
        &cfg,
        format!(
            "lab:\n  allow: [\"10.213.*\"]\nbackends:\n  slow:\n    kind: command\n    \
             program: {}\n    timeout: 120s\n",
            program.display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let child = controller(
        &lab,
        &cfg,
        &[
            "macro-doc-shell",
            "--backend",
            "slow",
            "--target",
            &lab.target(),
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap_or_else(|e| panic!("run: {e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !mark.exists() {
        assert!(Instant::now() < deadline, "verification never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    let stopped_at = Instant::now();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)
        .unwrap_or_else(|e| panic!("kill: {e}"));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"));
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    // Not the minute the backend program would take.
    assert!(
        stopped_at.elapsed() < Duration::from_secs(20),
        "{:?}",
        stopped_at.elapsed()
    );
    let targets = read(&fleet_folder(&lab.path("reports")).join("targets.json"));
    assert_eq!(targets[0]["step"], "interrupted", "{targets}");
    // The backend program's whole group was ended, its sleep included.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !common::token_processes(&program.display().to_string()).is_empty()
        || !common::token_processes("sleep\u{0}60").is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "the backend program outlived the stop"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
