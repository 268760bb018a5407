//! Ground truth from the operating system's process table, polled: the
//! capture on Windows and macOS, where there is no process connector.
//!
//! A thread asks the OS for every process (through sysinfo) every few
//! milliseconds and keeps those whose environment holds
//! `CHAINPROOF_TOKEN=<token>` or whose command line holds the token, or
//! that descend from one (or from a pid given to [`TableCapture::add_root`]).
//! It sees what lives longer than a poll; the stage programs' self-reports
//! fill the rest. It builds and is tested on Linux too.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

use super::{CaptureOptions, CaptureReport, Observed, Source};

/// A running poll of the process table.
pub struct TableCapture {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    thread: Option<JoinHandle<()>>,
    warnings: Vec<String>,
}

/// Processes seen so far, keyed by pid and start time (one per instance).
#[derive(Default)]
struct Seen {
    roots: BTreeSet<u32>,
    processes: BTreeMap<(u32, u64), Observed>,
}

impl TableCapture {
    /// Starts polling for the processes of `token`.
    pub fn start(token: &str) -> TableCapture {
        Self::start_with(token, &CaptureOptions::default())
    }

    /// [`TableCapture::start`]; only `scan_interval` of the options applies.
    pub fn start_with(token: &str, options: &CaptureOptions) -> TableCapture {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let mut warnings = Vec::new();
        let (s, t) = (Arc::clone(&stop), Arc::clone(&seen));
        let token = token.to_string();
        // Each poll reads every process's environment: not faster than 25 ms.
        let interval = options.scan_interval.max(Duration::from_millis(25));
        let thread = std::thread::Builder::new()
            .name("chainproof-table".into())
            .spawn(move || poll(&token, interval, &s, &t))
            .map_err(|e| warnings.push(format!("process table not polled: {e}")))
            .ok();
        TableCapture {
            stop,
            seen,
            thread,
            warnings,
        }
    }

    /// The sources that are running.
    pub fn sources(&self) -> Vec<Source> {
        match self.thread {
            Some(_) => vec![Source::ProcessTable],
            None => Vec::new(),
        }
    }

    /// Declares `pid` part of the run, with its descendants.
    pub fn add_root(&self, pid: u32) {
        if pid != 0 {
            lock(&self.seen).roots.insert(pid);
        }
    }

    /// Stops polling and returns the run's processes, ordered by start time.
    pub fn stop(mut self) -> CaptureReport {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            self.warnings
                .push("process table thread panicked: its data may be incomplete".into());
        }
        let mut processes: Vec<Observed> = lock(&self.seen).processes.values().cloned().collect();
        processes.sort_by_key(|p| (p.started_unix_ns, p.pid));
        CaptureReport {
            processes,
            sources: if self.warnings.is_empty() {
                vec![Source::ProcessTable]
            } else {
                Vec::new()
            },
            warnings: std::mem::take(&mut self.warnings),
        }
    }
}

impl Drop for TableCapture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn lock(seen: &Mutex<Seen>) -> std::sync::MutexGuard<'_, Seen> {
    seen.lock().unwrap_or_else(PoisonError::into_inner)
}

fn poll(token: &str, interval: Duration, stop: &AtomicBool, seen: &Mutex<Seen>) {
    let Ok(mut sys) = System::new() else {
        return;
    };
    let entry = format!("{}={token}", crate::stage::ENV_TOKEN);
    let kind = ProcessRefreshKind::nothing()
        .with_cmd(UpdateKind::OnlyIfNotSet)
        .with_exe(UpdateKind::OnlyIfNotSet)
        .with_environ(UpdateKind::OnlyIfNotSet)
        .with_cwd(UpdateKind::OnlyIfNotSet)
        .with_user(UpdateKind::OnlyIfNotSet);
    loop {
        let last = stop.load(Ordering::Acquire);
        sys.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
        let now = now_ns();
        let mut s = lock(seen);
        let live: BTreeSet<(u32, u64)> = sys
            .processes()
            .iter()
            .map(|(pid, p)| (pid.as_u32(), p.start_time()))
            .collect();
        // Parents before children, so a descendant is found in one pass.
        let mut procs: Vec<(&Pid, &sysinfo::Process)> = sys.processes().iter().collect();
        procs.sort_by_key(|(pid, p)| (p.start_time(), pid.as_u32()));
        for (pid, p) in procs {
            let key = (pid.as_u32(), p.start_time());
            let argv: Vec<String> = p
                .cmd()
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            if let Some(known) = s.processes.get_mut(&key) {
                fill(known, p, argv);
                continue;
            }
            let ppid = p.parent().map_or(0, |pp| pp.as_u32());
            // The parent instance, not just its pid: Windows reuses pids.
            let parent_is_ours = ppid != 0
                && s.processes
                    .keys()
                    .any(|(known, started)| *known == ppid && *started <= p.start_time());
            let ours = p.environ().iter().any(|e| e.as_os_str() == entry.as_str())
                || argv.iter().any(|a| a.contains(token))
                || s.roots.contains(&pid.as_u32())
                || parent_is_ours;
            if !ours || pid.as_u32() == std::process::id() {
                continue;
            }
            let (uid, user) = owner(p);
            s.processes.insert(
                key,
                Observed {
                    pid: pid.as_u32(),
                    ppid,
                    image: known_path(p.exe()),
                    argv: (!argv.is_empty()).then_some(argv),
                    user,
                    uid,
                    started_unix_ns: Some(i128::from(p.start_time()) * 1_000_000_000),
                    cwd: known_path(p.cwd()),
                    sources: BTreeSet::from([Source::ProcessTable]),
                    ..Observed::default()
                },
            );
        }
        for (key, o) in s.processes.iter_mut() {
            if o.exited_unix_ns.is_none() && !live.contains(key) {
                o.exited_unix_ns = Some(now);
            }
        }
        drop(s);
        if last {
            return;
        }
        std::thread::sleep(interval);
    }
}

/// The process's uid and user name (Windows: no uid; the SID as the name).
/// A path the table gave, or none: a process seen the instant it starts (or
/// as it exits) can have an empty image or working directory, and Wine's
/// table gives an empty image for every process. Empty is "unknown", so a
/// stage report or a later poll can still fill it.
fn known_path(path: Option<&std::path::Path>) -> Option<String> {
    path.map(|p| p.display().to_string())
        .filter(|p| !p.is_empty())
}

/// Fills what an earlier poll could not read (a process first seen before
/// its command line was readable); what was read is never overwritten.
fn fill(known: &mut Observed, p: &sysinfo::Process, argv: Vec<String>) {
    if known.image.is_none() {
        known.image = known_path(p.exe());
    }
    if known.argv.is_none() && !argv.is_empty() {
        known.argv = Some(argv);
    }
    if known.cwd.is_none() {
        known.cwd = known_path(p.cwd());
    }
}

#[cfg(unix)]
fn owner(p: &sysinfo::Process) -> (Option<u32>, Option<String>) {
    let uid = p.user_id().map(|u| **u);
    (uid, uid.and_then(crate::platform::host::user_name))
}

/// The process's uid and user name (Windows: no uid; the SID as the name).
#[cfg(not(unix))]
fn owner(p: &sysinfo::Process) -> (Option<u32>, Option<String>) {
    (None, p.user_id().map(|sid| sid.to_string()))
}

fn now_ns() -> i128 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process carrying the token in its environment, and its child, are
    /// found with their parent link; an unrelated process is not.
    #[test]
    fn finds_token_processes_and_their_children() {
        let token = crate::token::new();
        let capture = TableCapture::start_with(
            &token,
            &CaptureOptions {
                scan_interval: Duration::from_millis(10),
                ..CaptureOptions::default()
            },
        );
        let parent = std::process::Command::new("/bin/sh")
            .args(["-c", "sleep 0.6 & wait"])
            .env(crate::stage::ENV_TOKEN, &token)
            .spawn();
        let other = std::process::Command::new("/bin/sleep").arg("0.6").spawn();
        let (Ok(mut parent), Ok(mut other)) = (parent, other) else {
            panic!("cannot start test processes");
        };
        let _ = parent.wait();
        let _ = other.wait();
        let report = capture.stop();
        let sh = report.processes.iter().find(|p| p.pid == parent.id());
        let sh = sh.unwrap_or_else(|| panic!("sh not found: {:?}", report.processes));
        assert!(sh.exited_unix_ns.is_some());
        assert!(
            report
                .processes
                .iter()
                .any(|p| p.ppid == sh.pid
                    && p.image.as_deref().is_some_and(|i| i.ends_with("sleep"))),
            "{:?}",
            report.processes
        );
        assert!(report.processes.iter().all(|p| p.pid != other.id()));
        assert_eq!(report.sources, [Source::ProcessTable]);
    }

    /// An empty image or folder (what Wine's table gives) is unknown, so a
    /// stage report or a later poll can fill it; a real one is kept.
    #[test]
    fn an_empty_path_is_unknown() {
        assert_eq!(known_path(Some(std::path::Path::new(""))), None);
        assert_eq!(known_path(None), None);
        assert_eq!(
            known_path(Some(std::path::Path::new("/bin/sleep"))).as_deref(),
            Some("/bin/sleep")
        );
    }
}
