//! Hostile and odd input files: refused with the file (and line where there
//! is one), exit 2, nothing run. How fast and how small the refusals are is
//! measured by `benches/hostile.rs`, not asserted here.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

use crate::common::*;

/// Longest any of these may take before the test calls it a hang (a FIFO
/// read blocks forever, `/dev/zero` reads until memory runs out): a guard,
/// not a speed target.
const HANG: Duration = Duration::from_secs(60);

fn chainproof() -> Command {
    let mut c = Command::cargo_bin("chainproof").unwrap_or_else(|e| panic!("binary: {e}"));
    c.timeout(HANG);
    c
}

/// Runs `args`, expects exit 2 and a stderr holding every one of `wants`.
fn assert_refused(args: &[&OsStr], wants: &[&str]) -> TestResult {
    let out = chainproof()
        .args(args)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr)?;
    for want in wants {
        assert!(stderr.contains(want), "{want:?} not in:\n{stderr}");
    }
    Ok(())
}

/// `gate --baseline <baseline> --current <current>`, then `--policy
/// <policy>` when there is one.
fn gate<'a>(baseline: &'a Path, current: &'a Path, policy: Option<&'a Path>) -> Vec<&'a OsStr> {
    let mut args: Vec<&OsStr> = vec![
        "gate".as_ref(),
        "--baseline".as_ref(),
        baseline.as_os_str(),
        "--current".as_ref(),
        current.as_os_str(),
    ];
    if let Some(policy) = policy {
        args.extend(["--policy".as_ref(), policy.as_os_str()]);
    }
    args
}

/// A recorded run the gate can read.
fn record() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exec-in-place")
}

fn fifo(dir: &Path, name: &str) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let path = dir.join(name);
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU)?;
    Ok(path)
}

#[test]
fn deeply_nested_yaml_is_refused_with_file_line_and_column() -> TestResult {
    let dir = tempfile::tempdir()?;
    // 50,000 nested flow mappings: 19 s in the YAML scanner before the check.
    let flow = dir.path().join("flow.yaml");
    std::fs::write(&flow, format!("id: x\ntitle: {}\n", "{a: ".repeat(50_000)))?;
    assert_refused(
        &["validate".as_ref(), flow.as_os_str()],
        &[&format!(
            "{}:2:260: (document): nesting deeper than 64 levels",
            flow.display()
        )],
    )?;
    // The same in every YAML the harness reads.
    let config = dir.path().join("c.yaml");
    std::fs::write(&config, format!("backends: {}\n", "[".repeat(50_000)))?;
    assert_refused(
        &[
            "backends".as_ref(),
            "check".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
        ],
        &[&format!(
            "failed to load config {}:1:74: (document): nesting deeper",
            config.display()
        )],
    )?;
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, format!("min: {}\n", "[".repeat(50_000)))?;
    assert_refused(
        &gate(&record(), &record(), Some(&policy)),
        &[&format!(
            "failed to load gate policy {}:1:69: (document): nesting deeper",
            policy.display()
        )],
    )?;
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules)?;
    std::fs::write(
        rules.join("r.yml"),
        format!("title: x\ndetection: {}\n", "{a: ".repeat(50_000)),
    )?;
    assert_refused(
        &[
            "replay".as_ref(),
            "--telemetry".as_ref(),
            flow.as_os_str(),
            "--rules".as_ref(),
            rules.as_os_str(),
            "--strict".as_ref(),
        ],
        &["r.yml: refused input: line 2 column 264: nesting deeper"],
    )
}

#[test]
fn a_huge_scenario_is_refused_unparsed() -> TestResult {
    let dir = tempfile::tempdir()?;
    let big = dir.path().join("big.yaml");
    let mut text = String::from("id: big\n");
    while text.len() <= 256 << 10 {
        text.push_str("# padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&big, text)?;
    assert_refused(
        &["validate".as_ref(), big.as_os_str()],
        &[&format!(
            "{}: larger than 262144 bytes, the limit for a scenario",
            big.display()
        )],
    )
}

#[test]
fn fifos_and_devices_are_refused_by_every_loader() -> TestResult {
    let dir = tempfile::tempdir()?;
    let zero = Path::new("/dev/zero");
    for file in [fifo(dir.path(), "s.yaml")?, zero.to_path_buf()] {
        let what = if file == zero { "a device" } else { "a FIFO" };
        assert_refused(
            &["validate".as_ref(), file.as_os_str()],
            &[&format!(
                "{}: is {what}, not a regular file (a scenario must be a regular file)",
                file.display()
            )],
        )?;
        // Refused before anything runs: the config is read right after the
        // scenarios.
        let lab = Lab::new();
        let out = lab
            .run(&["--config", &file.to_string_lossy()])
            .timeout(HANG)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr)?;
        assert!(!lab.reports().exists(), "a refused config wrote reports");
        assert!(
            stderr.contains(&format!("read config {}", file.display()))
                && stderr.contains(&format!("is {what}, not a regular file")),
            "{stderr}"
        );
        assert_refused(
            &gate(&record(), &record(), Some(&file)),
            &[
                &format!("read gate policy {}", file.display()),
                &format!("is {what}, not a regular file"),
            ],
        )?;
        assert_refused(
            &["replay".as_ref(), "--telemetry".as_ref(), file.as_os_str()],
            &[&format!(
                "read telemetry from {}: is {what}, not a regular file",
                file.display()
            )],
        )?;
    }
    Ok(())
}

#[test]
fn run_records_that_are_not_regular_files_are_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let pipe = fifo(dir.path(), "run.json")?;
    for file in [pipe.as_path(), Path::new("/dev/zero")] {
        assert_refused(
            &["report".as_ref(), file.as_os_str()],
            &[
                &format!("failed to read run record {}", file.display()),
                "not a regular file (a run record must be a regular file)",
            ],
        )?;
        assert_refused(&gate(file, file, None), &["not a regular file"])?;
    }
    Ok(())
}
