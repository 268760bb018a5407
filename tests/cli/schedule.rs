//! `chainproof schedule`: repeated runs that never overlap, a lock per
//! reports folder, clean stops on SIGTERM, deployment units.

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::common::*;

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chainproof"))
}

/// A config whose lab allow-list names this host.
pub fn lab_config(lab: &Lab) -> PathBuf {
    let host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = lab.dir.path().join("lab.yaml");
    std::fs::write(&path, format!("lab:\n  allow: [\"{host}\"]\n"))
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// `chainproof schedule <args>` on the lab's reports and run directories,
/// with a config that allows this host.
fn schedule_command(lab: &Lab, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(bin());
    c.arg("schedule")
        .args(args)
        .arg("--config")
        .arg(lab_config(lab))
        .arg("--reports")
        .arg(lab.reports())
        .arg("--work-root")
        .arg(lab.work());
    c
}

/// [`schedule_command`], to run to its end.
pub fn schedule(lab: &Lab, args: &[&str]) -> assert_cmd::Command {
    assert_cmd::Command::from_std(schedule_command(lab, args))
}

/// A service started in the background, stderr into `<lab>/<name>.log`;
/// killed if a test gives up on it.
struct Service {
    child: Child,
    log: PathBuf,
}

impl Service {
    fn start(lab: &Lab, name: &str, args: &[&str]) -> Result<Service, std::io::Error> {
        let log = lab.dir.path().join(format!("{name}.log"));
        let child = schedule_command(lab, args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        Ok(Service { child, log })
    }

    fn sigterm(&self) -> Result<(), nix::Error> {
        let pid = i32::try_from(self.child.id()).unwrap_or(i32::MAX);
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        )
    }

    fn wait(&mut self, limit: Duration) -> Result<ExitStatus, Box<dyn std::error::Error>> {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("service still running after {limit:?}:\n{}", self.stderr()).into())
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `check` every 100 ms for up to `limit`.
fn wait_for(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn journal_entries(lab: &Lab) -> usize {
    std::fs::read_dir(lab.reports().join(".journal"))
        .map(|d| d.flatten().count())
        .unwrap_or(0)
}

/// Every run record under the lab's reports folder, oldest first.
fn records(lab: &Lab) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(lab.reports())?.flatten() {
        let path = entry.path().join("run.json");
        if path.exists() {
            out.push(read_json(&path));
        }
    }
    out.sort_by_key(|r| r["started_at"].as_str().map(String::from));
    Ok(out)
}

fn at(record: &Value, field: &str) -> Result<OffsetDateTime, Box<dyn std::error::Error>> {
    let text = record[field].as_str().ok_or(format!("no {field}"))?;
    Ok(OffsetDateTime::parse(text, &Rfc3339)?)
}

fn history_lines(lab: &Lab) -> usize {
    std::fs::read_to_string(lab.reports().join("history.jsonl"))
        .map(|t| t.lines().filter(|l| !l.trim().is_empty()).count())
        .unwrap_or(0)
}

fn text(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

#[test]
fn three_runs_one_second_apart_write_three_reports_that_never_overlap() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    let log = stderr_with(
        schedule(
            &lab,
            &["macro-doc-shell", "--every", "1s", "--max-runs", "3"],
        ),
        0,
    );
    assert_eq!(log.matches(" finished: run ").count(), 3, "{log}");
    assert!(
        log.contains("stopped: max-runs reached after 3 run(s)"),
        "{log}"
    );
    let records = records(&lab)?;
    assert_eq!(records.len(), 3, "{log}");
    assert_eq!(history_lines(&lab), 3);
    for pair in records.windows(2) {
        assert!(
            at(&pair[0], "finished_at")? <= at(&pair[1], "started_at")?,
            "runs overlap: {} / {}",
            pair[0]["run_id"],
            pair[1]["run_id"]
        );
    }
    for r in &records {
        lab.assert_no_residue(&tokens(r));
    }
    Ok(())
}

#[test]
fn a_run_longer_than_the_interval_delays_the_next() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    let fixture = super::common::slow_scenario(lab.dir.path(), 2);
    let log = stderr_with(
        schedule(
            &lab,
            &[
                "--scenarios",
                text(&fixture),
                "--every",
                "1s",
                "--max-runs",
                "2",
                "--log",
                "json",
            ],
        ),
        0,
    );
    let events: Vec<Value> = log
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let second = events
        .iter()
        .find(|e| e["event"] == "started" && e["run"] == 2)
        .ok_or(format!("no second start: {log}"))?;
    assert!(second["delayed_s"].as_f64() > Some(0.5), "{second}");
    let records = records(&lab)?;
    assert_eq!(records.len(), 2, "{log}");
    assert!(at(&records[0], "finished_at")? <= at(&records[1], "started_at")?);
    assert!(
        at(&records[0], "finished_at")? - at(&records[0], "started_at")?
            >= time::Duration::seconds(2)
    );
    Ok(())
}

#[test]
fn sigterm_during_a_run_cleans_up_writes_the_record_and_exits_130() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    let fixture = super::common::slow_scenario(lab.dir.path(), 30);
    let mut service = Service::start(
        &lab,
        "service",
        &["--scenarios", text(&fixture), "--every", "1h"],
    )?;
    assert!(
        wait_for(Duration::from_secs(60), || journal_entries(&lab) > 0),
        "no run started:\n{}",
        service.stderr()
    );
    // Let the chain reach its sleeping shell.
    std::thread::sleep(Duration::from_secs(1));
    service.sigterm()?;
    let status = service.wait(Duration::from_secs(90))?;
    let log = service.stderr();
    assert_eq!(status.code(), Some(130), "{log}");
    assert!(log.contains("stopped: signal during a run"), "{log}");
    let records = records(&lab)?;
    assert_eq!(records.len(), 1, "{log}");
    assert_eq!(history_lines(&lab), 1);
    assert_eq!(records[0]["scenarios"][0]["status"], "interrupted", "{log}");
    lab.assert_no_residue(&tokens(&records[0]));
    Ok(())
}

#[test]
fn sigterm_while_waiting_exits_0_at_once() -> TestResult {
    let Some((_host, lab)) = root_lab() else {
        return Ok(());
    };
    let mut service = Service::start(&lab, "service", &["macro-doc-shell", "--every", "1h"])?;
    assert!(
        wait_for(Duration::from_secs(60), || service
            .stderr()
            .contains(" waiting: run 2")),
        "first run did not finish:\n{}",
        service.stderr()
    );
    service.sigterm()?;
    let status = service.wait(Duration::from_secs(5))?;
    assert_eq!(status.code(), Some(0), "{}", service.stderr());
    assert_eq!(records(&lab)?.len(), 1);
    Ok(())
}

#[test]
fn a_second_service_on_the_same_reports_folder_is_refused() -> TestResult {
    let lab = Lab::new();
    // The first waits for next New Year: it holds the lock and runs nothing.
    let mut first = Service::start(&lab, "first", &["--cron", "0 0 1 1 *"])?;
    let lock = lab.reports().join(".schedule.lock");
    let pid = first.child.id().to_string();
    assert!(
        wait_for(Duration::from_secs(30), || {
            std::fs::read_to_string(&lock).is_ok_and(|t| t.trim() == pid)
        }),
        "no lock:\n{}",
        first.stderr()
    );
    let err = stderr_with(schedule(&lab, &["--every", "1s", "--max-runs", "1"]), 3);
    assert!(
        err.contains(".schedule.lock") && err.contains(&format!("pid {pid}")),
        "{err}"
    );
    assert!(!lab.reports().join("history.jsonl").exists());
    first.sigterm()?;
    assert_eq!(first.wait(Duration::from_secs(10))?.code(), Some(0));
    Ok(())
}
