//! Stops at any moment: every stop signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT)
//! during the backend check, mid-chain or during verification ends the run
//! with exit 130, its record written and nothing left behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::common::*;

/// A command backend that leaves `mark` and then sleeps a minute: at its
/// check (`on_check`) or once verification asks about runs.
fn slow_backend(lab: &Lab, mark: &Path, on_check: bool) -> PathBuf {
    let program = lab.dir.path().join("slow-backend.sh");
    let check = if on_check {
        String::new()
    } else {
        "case \"$input\" in *'\"runs\":[]'*) echo '{\"version\":1,\"runs\":[]}'; exit 0;; esac\n"
            .to_string()
    };
    write_script(
        &program,
        &format!(
            "#!/bin/sh\ninput=$(cat)\n{check}touch {mark}\n\
             export SLOW_BACKEND_MARK={mark}\nexec /usr/bin/sleep 60\n",
            mark = mark.display()
        ),
    );
    let cfg = lab.dir.path().join("slow.yaml");
    std::fs::write(
        &cfg,
        format!(
            "backends:\n  slow:\n    kind: command\n    program: {}\n    timeout: 120s\n",
            program.display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    cfg
}

fn spawn(lab: &Lab, args: &[&str]) -> Child {
    let bin = assert_cmd::cargo::cargo_bin("chainproof");
    std::process::Command::new(bin)
        .arg("run")
        .args(args)
        .arg("--reports")
        .arg(lab.reports())
        .arg("--work-root")
        .arg(lab.work())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"))
}

fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig)
        .unwrap_or_else(|e| panic!("kill: {e}"));
}

fn text(out: &std::process::Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The backend program's sleep is gone (its process group was killed); it
/// carries the mark's path in its environment.
fn assert_backend_ended(mark: &Path) {
    let program = mark.with_file_name("slow-backend.sh");
    wait_for("the end of the backend program", || {
        token_processes(&program.display().to_string()).is_empty()
            && token_processes(&format!("SLOW_BACKEND_MARK={}", mark.display())).is_empty()
    });
}

#[test]
fn sigint_during_verification_exits_130_with_a_record_of_interrupted_hops() {
    let Some((_host, lab)) = root_lab() else {
        return;
    };
    let mark = lab.dir.path().join("verifying");
    let cfg = slow_backend(&lab, &mark, false);
    let cfg = cfg.display().to_string();
    let child = spawn(
        &lab,
        &[
            "macro-doc-shell",
            "--config",
            &cfg,
            "--backend",
            "slow",
            "--deadline",
            "60s",
        ],
    );
    wait_for("verification", || mark.exists());
    let sent = Instant::now();
    signal(&child, Signal::SIGINT);
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"));
    let took = sent.elapsed();
    eprintln!("SIGINT during verification: exited after {took:?}");
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    // The bound is 1 s; a loaded test machine gets a wide margin,
    // far below the 60 s the backend program would take.
    assert!(took < Duration::from_secs(15), "{took:?}");
    let record = lab.record();
    let s = &record["scenarios"][0];
    assert_eq!(s["status"], "completed", "the chain itself ran: {s}");
    let v = &s["verification"];
    let hops = v["hops"].as_array().cloned().unwrap_or_default();
    assert!(!hops.is_empty(), "{v}");
    for h in &hops {
        assert_eq!(h["verdict"], "inconclusive", "{h}");
        assert_eq!(h["reason"], "interrupted", "{h}");
    }
    assert_eq!(v["chain"]["verdict"], "inconclusive", "{v}");
    assert_eq!(v["chain"]["reason"], "interrupted", "{v}");
    assert_backend_ended(&mark);
    lab.assert_no_residue(&tokens(&record));
}

/// An SSH session dropping sends SIGHUP; Ctrl-\ sends SIGQUIT. Both stop
/// the run like SIGTERM: chain ended, run directory and journal entry
/// removed, record written, exit 130.
#[test]
fn sighup_and_sigquit_mid_chain_leave_no_residue() {
    if !require_root() {
        return;
    }
    let _host = host();
    for sig in [Signal::SIGHUP, Signal::SIGQUIT] {
        let lab = Lab::new();
        let scenarios = slow_scenario(lab.dir.path(), 60);
        // A second scenario, after the first: never started, still recorded.
        let first = std::fs::read_to_string(scenarios.join("slow-macro.yaml"))
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            scenarios.join("zz-later.yaml"),
            first.replacen("id: slow-macro", "id: slow-macro-later", 1),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let scenarios = scenarios.display().to_string();
        let child = spawn(&lab, &["--scenarios", &scenarios]);
        let mut token = None;
        wait_for("the chain's sleep", || {
            token = lab.sleeping_token(false);
            token.is_some()
        });
        let token = token.unwrap_or_default();
        signal(&child, sig);
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("wait: {e}"));
        assert_eq!(out.status.code(), Some(130), "{sig}: {}", text(&out));
        lab.assert_no_residue(std::slice::from_ref(&token));
        let record = lab.record();
        assert_eq!(record["scenarios"][0]["status"], "interrupted", "{sig}");
        let second = &record["scenarios"][1];
        assert_eq!(second["id"], "slow-macro-later", "{sig}: {record}");
        assert_eq!(second["status"], "interrupted", "{sig}");
        assert_eq!(
            second["reason"], "not started: the run was stopped",
            "{sig}"
        );
        assert_eq!(
            second["verification"]["chain"]["verdict"], "inconclusive",
            "{sig}"
        );
    }
}

/// The handlers are in place before anything touches the host: a signal
/// while the backend is being checked (a command backend runs a program)
/// stops the run with exit 130 before the journal, a run directory or a
/// report exists, and the check's program goes with it.
#[test]
fn a_stop_during_the_backend_check_exits_130_and_touches_nothing() {
    let lab = Lab::new();
    let mark = lab.dir.path().join("checking");
    let cfg = slow_backend(&lab, &mark, true);
    let cfg = cfg.display().to_string();
    let child = spawn(
        &lab,
        &["macro-doc-shell", "--config", &cfg, "--backend", "slow"],
    );
    wait_for("the backend check", || mark.exists());
    signal(&child, Signal::SIGTERM);
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"));
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nothing was run"), "{stderr}");
    assert!(
        !lab.reports().exists(),
        "reports: {:?}",
        entries(&lab.reports())
    );
    assert!(
        entries(&lab.work()).is_empty(),
        "{:?}",
        entries(&lab.work())
    );
    assert_backend_ended(&mark);
}
