//! Fleets over real OpenSSH: two named targets at once with scenario files
//! sent from here, a coverage policy and a signed fleet bundle; SIGTERM on
//! the controller, after which the targets' runs stop and clean up; and a
//! target inside a network namespace, whose record says what its capture
//! could not see.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::common;
use super::remote::{assert_bundle_intact, config, controller, exited, fleet_folder, text};
use super::sshlab::{self, Side, SshLab};

fn time(v: &Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        v.as_str().unwrap_or_default(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap_or_else(|e| panic!("{v}: {e}"))
}

/// The host lock, a started lab with sshd on `side`, and a config whose
/// lab guard allows the lab's addresses; `None` when the test cannot run
/// here (it fails under CI instead).
fn lab_with_config(
    side: Side,
) -> Option<(
    std::sync::MutexGuard<'static, ()>,
    SshLab,
    std::path::PathBuf,
)> {
    if !sshlab::available() {
        return None;
    }
    let host = common::host();
    let lab = SshLab::start_on(side);
    let cfg = config(lab.dir.path(), "\"10.213.*\"");
    Some((host, lab, cfg))
}

/// Sends SIGTERM to the controller `child` and waits for its output.
fn sigterm(child: std::process::Child) -> std::process::Output {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)
        .unwrap_or_else(|e| panic!("kill: {e}"));
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"))
}

#[test]
fn two_named_targets_run_at_once_with_sent_scenarios_a_policy_and_a_signed_bundle() {
    let Some((_host, lab, cfg)) = lab_with_config(Side::Host) else {
        return;
    };
    let scenarios = common::slow_scenario(lab.dir.path(), 2);
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
    let out = controller(
        &lab,
        &cfg,
        &lab.path("reports"),
        &["--parallel", "2", "--require", "alerted"],
    )
    .arg("--targets")
    .arg(&inventory)
    .arg("--scenarios")
    .arg(&scenarios)
    .arg("--sign")
    .arg(&key)
    .output()
    .unwrap_or_else(|e| panic!("run: {e}"));
    let all = exited(&lab, &out, 0);
    assert!(all.contains("targets: 2 ran, 0 failed"), "{all}");
    let fleet = fleet_folder(&lab.path("reports"));
    let record = common::read_json(&fleet.join("run.json"));
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
        assert_bundle_intact(&dir);
    }
    let runs_left = common::entries(&lab.path("remote/runs"));
    assert!(runs_left.is_empty(), "{runs_left:?}");
}

#[test]
fn sigterm_on_the_controller_stops_the_targets_runs_and_they_clean_up() {
    let Some((_host, lab, cfg)) = lab_with_config(Side::Host) else {
        return;
    };
    let scenarios = common::slow_scenario(lab.dir.path(), 60);
    let child = controller(
        &lab,
        &cfg,
        &lab.path("reports"),
        &["--target", &lab.target()],
    )
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
    let out = sigterm(child);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(130), "{all}");
    let fleet = fleet_folder(&lab.path("reports"));
    let targets = common::read_json(&fleet.join("targets.json"));
    assert_eq!(targets[0]["step"], "interrupted", "{targets}");
    // The run there was told to stop: it ends its chain, removes its run
    // directory, and its folder on the target goes once it has exited.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left_runs = common::entries(&lab.path("remote/runs"));
        let left_work = common::entries(&work);
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
    let Some((_host, lab, cfg)) = lab_with_config(Side::Namespace) else {
        return;
    };
    let out = controller(
        &lab,
        &cfg,
        &lab.path("reports"),
        &["macro-doc-shell", "--target", &lab.target()],
    )
    .output()
    .unwrap_or_else(|e| panic!("run: {e}"));
    exited(&lab, &out, 0);
    let fleet = fleet_folder(&lab.path("reports"));
    let record = common::read_json(&fleet.join(&lab.target_addr).join("run.json"));
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
    assert_bundle_intact(&fleet);
}

#[test]
fn sigterm_while_verifying_stops_at_once_and_ends_the_backend_program() {
    let Some((_host, lab, _)) = lab_with_config(Side::Host) else {
        return;
    };
    // A command backend that answers its check at once and then takes a
    // minute (a slow SIEM), leaving a mark when verification starts.
    let mark = lab.path("verifying");
    let program = lab.path("slow-backend.sh");
    common::write_script(
        &program,
        &format!(
            "#!/bin/sh\ninput=$(cat)\ncase \"$input\" in *'\"runs\":[]'*) \
             echo '{{\"version\":1,\"runs\":[]}}'; exit 0;; esac\ntouch {}\nsleep 60\n",
            mark.display()
        ),
    );
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
        &lab.path("reports"),
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
    let out = sigterm(child);
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    // Not the minute the backend program would take.
    assert!(
        stopped_at.elapsed() < Duration::from_secs(20),
        "{:?}",
        stopped_at.elapsed()
    );
    let targets = common::read_json(&fleet_folder(&lab.path("reports")).join("targets.json"));
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
