//! Ground truth of a run's process chain, captured from the kernel while the chain runs.
//!
//! The capture owns one question: *which processes did this run create?* It answers with an
//! [`Observed`] per process instance (pid, parent at fork time, image, argv, user, start and
//! exit times, cwd), even for processes that live a millisecond. It does not judge the chain
//! and never fails the run: anything it cannot do becomes a warning in the [`CaptureReport`].
//!
//! Two sources, run on their own threads while the chain runs:
//!
//! - [`Source::ProcConnector`]: the kernel's netlink process connector (root or
//!   `CAP_NET_ADMIN` before Linux 6.6, any user since). It reports every fork (with the
//!   parent at fork time), exec and exit on the machine. On each exec the thread reads
//!   `/proc/<pid>` at once, before anything else, because a short-lived process can be gone
//!   a millisecond later. That read is a race: the reader thread asks for `SCHED_FIFO` (it
//!   needs `CAP_SYS_NICE`) so it wakes ahead of ordinary work, and when it cannot, says so
//!   in a warning. Lineage, times and exit codes come from the events and are not racy.
//! - [`Source::ProcScan`]: a scan of `/proc` every few milliseconds that finds processes whose
//!   environment holds `CHAINPROOF_TOKEN=<token>` or whose argv holds the token. It works
//!   unprivileged for the user's own processes and fills details the connector missed, but
//!   it misses most processes that live less than a scan interval.
//!
//! A process belongs to the run when its environ or argv held the token, when it was passed
//! to [`Capture::add_root`], or when it descends (by fork lineage) from such a process. Lineage
//! links a child to the parent *instance* it forked from, so a double fork (the orphan is
//! re-parented to pid 1) keeps its real parent and a reused pid is not confused with the old
//! process. Unrelated processes are kept only as light lineage entries and are pruned some
//! seconds after they exit, so memory stays bounded on a busy machine.

pub mod table;
#[cfg(not(target_os = "linux"))]
pub use table::TableCapture as Capture;

#[cfg(target_os = "linux")]
mod clock;
#[cfg(target_os = "linux")]
mod connector;
#[cfg(target_os = "linux")]
mod procfs;
#[cfg(target_os = "linux")]
mod report;
#[cfg(target_os = "linux")]
mod scanner;
#[cfg(target_os = "linux")]
mod sys;
#[cfg(target_os = "linux")]
mod tracker;
#[cfg(target_os = "linux")]
mod wire;

use std::collections::BTreeSet;
#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(target_os = "linux")]
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
#[cfg(target_os = "linux")]
use std::thread::JoinHandle;
use std::time::Duration;

#[cfg(target_os = "linux")]
use clock::Clocks;
#[cfg(target_os = "linux")]
use procfs::{ProcDir, TokenMatcher};
#[cfg(target_os = "linux")]
use tracker::Tracker;

/// Where a fact about a process came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The netlink process connector (fork, exec and exit events).
    ProcConnector,
    /// The periodic `/proc` scan.
    ProcScan,
    /// The operating system's process table, polled (Windows, macOS).
    ProcessTable,
}

/// An image a process ran before its last exec (e.g. the `sh` of `sh -c 'exec x'`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EarlierExec {
    /// `/proc/<pid>/exe` target at that exec.
    pub image: Option<String>,
    /// `/proc/<pid>/cmdline` at that exec.
    pub argv: Option<Vec<String>>,
    /// Wall clock of that exec, when the connector saw it.
    pub unix_ns: Option<i128>,
}

/// One process of the run, as captured.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Observed {
    /// Process id (thread-group id).
    pub pid: u32,
    /// Parent at fork time when [`Observed::ppid_from_fork`], else the parent read from /proc;
    /// 0 if unknown.
    pub ppid: u32,
    /// Whether `ppid` comes from the fork event, so it survives a double fork.
    #[serde(default)]
    pub ppid_from_fork: bool,
    /// `/proc/<pid>/exe` target at the last exec (inherited from the parent if the process
    /// never exec'd).
    pub image: Option<String>,
    /// `/proc/<pid>/cmdline` at the last exec.
    pub argv: Option<Vec<String>>,
    /// Effective uid.
    pub uid: Option<u32>,
    /// User name of `uid`.
    pub user: Option<String>,
    /// Wall-clock start in ns since the Unix epoch: the fork event's time, or the start time
    /// from `/proc/<pid>/stat` (10 ms resolution) when the fork was not seen.
    pub started_unix_ns: Option<i128>,
    /// Wall clock of the last exec, when the connector saw it.
    #[serde(default)]
    pub exec_unix_ns: Option<i128>,
    /// Wall clock of the exit event, or when the scanner saw the process gone (less precise).
    pub exited_unix_ns: Option<i128>,
    /// Exit code, when the process exited normally.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Signal that killed the process, when it did not exit normally.
    #[serde(default)]
    pub exit_signal: Option<i32>,
    /// Working directory at exec (or when the scanner read it).
    pub cwd: Option<String>,
    /// Images this pid ran before its last exec, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_execs: Vec<EarlierExec>,
    /// Which sources saw this process.
    pub sources: BTreeSet<Source>,
}

/// What a capture found.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaptureReport {
    /// The run's processes, ordered by start time.
    pub processes: Vec<Observed>,
    /// The sources that were active.
    pub sources: Vec<Source>,
    /// Why a source was not used, events lost, and similar gaps in the ground truth.
    pub warnings: Vec<String>,
}

/// How to capture; [`Capture::start`] uses the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureOptions {
    /// Try the process connector (if it is refused, the scanner alone runs).
    pub use_connector: bool,
    /// Run the /proc scanner (turn off only to measure the connector alone).
    pub use_scanner: bool,
    /// Pause between two /proc scans.
    pub scan_interval: Duration,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        Self {
            use_connector: true,
            use_scanner: true,
            scan_interval: Duration::from_millis(5),
        }
    }
}

#[cfg(target_os = "linux")]
/// State shared by the capture threads.
pub(crate) struct Shared {
    stop: AtomicBool,
    tracker: Mutex<Tracker>,
    matcher: TokenMatcher,
    clocks: Clocks,
    warnings: Mutex<Vec<String>>,
}

#[cfg(target_os = "linux")]
impl Shared {
    /// The tracker; a panicked thread cannot leave it inconsistent (updates are plain
    /// field writes), so a poisoned lock is used as is.
    fn tracker(&self) -> MutexGuard<'_, Tracker> {
        self.tracker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn warn(&self, warning: String) {
        self.warnings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(warning);
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }
}

#[cfg(target_os = "linux")]
/// A running capture; [`Capture::stop`] ends it and returns what it saw.
pub struct Capture {
    shared: Arc<Shared>,
    threads: Vec<(&'static str, JoinHandle<()>)>,
    sources: Vec<Source>,
}

#[cfg(target_os = "linux")]
impl Capture {
    /// Starts capturing processes belonging to `token`. Uses the process connector when it
    /// can (root / CAP_NET_ADMIN, or any user on Linux 6.6+) and always a /proc scanner thread
    /// (every few ms) that finds live processes whose environ holds `CHAINPROOF_TOKEN=<token>`.
    /// Never fails the run: if the connector cannot be opened, records why in the report's
    /// warnings. Blocks until the kernel confirms the subscription (at most half a second),
    /// so no event of a process spawned after `start` returns is missed.
    pub fn start(token: &str) -> Capture {
        Self::start_with(token, &CaptureOptions::default())
    }

    /// [`Capture::start`] with explicit options.
    pub fn start_with(token: &str, options: &CaptureOptions) -> Capture {
        let clocks = Clocks::measure();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            tracker: Mutex::new(Tracker::new(clocks)),
            matcher: TokenMatcher::new(token),
            clocks,
            warnings: Mutex::new(Vec::new()),
        });
        if token.is_empty() {
            shared.warn(
                "empty run token: only add_root processes and their descendants are captured"
                    .to_owned(),
            );
        }
        let mut capture = Capture {
            shared,
            threads: Vec::new(),
            sources: Vec::new(),
        };
        if options.use_connector {
            capture.start_connector();
        }
        if options.use_scanner {
            let scanner = scanner::Scanner::new(options.scan_interval);
            capture.spawn("chainproof-scan", Source::ProcScan, move |shared| {
                scanner.run(&shared);
            });
        }
        capture
    }

    fn start_connector(&mut self) {
        match connector::Connector::open() {
            Ok(conn) => {
                self.shared.tracker().connector_active = true;
                self.spawn("chainproof-cn", Source::ProcConnector, move |shared| {
                    conn.run(&shared);
                });
            }
            Err(err) => self.shared.warn(format!(
                "process connector not used, short-lived processes will be missed: failed to {}",
                error_chain(&err)
            )),
        }
    }

    fn spawn(
        &mut self,
        name: &'static str,
        source: Source,
        body: impl FnOnce(Arc<Shared>) + Send + 'static,
    ) {
        let shared = Arc::clone(&self.shared);
        match std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || body(shared))
        {
            Ok(handle) => {
                self.threads.push((name, handle));
                self.sources.push(source);
            }
            Err(err) => {
                if source == Source::ProcConnector {
                    self.shared.tracker().connector_active = false;
                }
                self.shared.warn(format!(
                    "{source:?} not used: failed to start thread {name}: {err}"
                ));
            }
        }
    }

    /// The sources that are running.
    pub fn sources(&self) -> Vec<Source> {
        self.sources.clone()
    }

    /// Declares `pid` (typically the chain's first process, just spawned) part of the run, so
    /// that it and its descendants are captured even without the token. Call it before
    /// waiting for the child: until it is reaped its pid cannot be reused, so the process is
    /// identified by its start time even if it already exited. Pid 0 is ignored.
    pub fn add_root(&self, pid: u32) {
        // 0 is what a caller gets for a child whose pid it no longer knows: nothing to add.
        if pid == 0 {
            return;
        }
        let start = ProcDir::open(pid)
            .and_then(|dir| dir.stat())
            .map(|stat| self.shared.clocks.ticks_to_wall(stat.start_ticks));
        self.shared.tracker().add_root(pid, start);
    }

    /// Stops all threads and returns the processes of the run: those whose environ or argv
    /// held the token, plus every descendant (by fork lineage) of such a process or of a pid
    /// passed to [`Capture::add_root`], one per process instance (pid + start time).
    pub fn stop(mut self) -> CaptureReport {
        self.join();
        let tracker = self.shared.tracker();
        let mut warnings = std::mem::take(
            &mut *self
                .shared
                .warnings
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if tracker.lost > 0 {
            warnings.push(format!(
                "process connector lost events {} time(s) (receive buffer overrun): \
                 processes may be missing",
                tracker.lost
            ));
        }
        let processes = report::observed(&tracker);
        let unread = processes
            .iter()
            .filter(|p| p.exec_unix_ns.is_some() && p.image.is_none())
            .count();
        if unread > 0 {
            warnings.push(format!(
                "{unread} process(es) exited before their image and arguments could be read: \
                 they are in the ground truth without them"
            ));
        }
        CaptureReport {
            processes,
            sources: self.sources.clone(),
            warnings,
        }
    }

    fn join(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        for (name, handle) in self.threads.drain(..) {
            if handle.join().is_err() {
                self.shared.warn(format!(
                    "capture thread {name} panicked: its data may be incomplete"
                ));
            }
        }
    }
}

#[cfg(target_os = "linux")]
impl Drop for Capture {
    fn drop(&mut self) {
        self.join();
    }
}

#[cfg(target_os = "linux")]
impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

#[cfg(target_os = "linux")]
/// An error and its sources, joined with ": ".
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
#[cfg(target_os = "linux")]
mod tests;
