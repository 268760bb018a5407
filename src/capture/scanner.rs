//! The /proc scan source: every few milliseconds, list `/proc` and look at processes not
//! seen before, recently started ones, and run processes whose details are still missing.
//!
//! A full read of every process on every pass would cost a core, so each pid is read once,
//! then re-read only while it is young (it may still exec into a chain process) or while
//! the tracker still wants its details. A pid missing from the listing is reported gone.
//! All reads happen before the tracker lock is taken; the lock is taken once per pass.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::Shared;
use super::procfs::{Details, ProcDir, TokenMatcher};
use super::tracker::ScanItem;

/// A process younger than this is re-read on every pass: it may not have exec'd yet.
const YOUNG_NS: i128 = 1_000_000_000;
/// How often unrelated, long-gone entries are pruned from the tracker.
const PRUNE_EVERY: Duration = Duration::from_secs(1);
/// How many passes may try to read the details of a process the tracker wants.
const DETAIL_TRIES: u8 = 3;

/// What the scanner remembers of a pid.
#[derive(Debug, Clone, Copy)]
struct Seen {
    start_ticks: u64,
    token: bool,
    detail_tries: u8,
}

/// The scanner's own state (only its thread touches it).
#[derive(Debug)]
pub(crate) struct Scanner {
    interval: Duration,
    seen: HashMap<u32, Seen>,
}

impl Scanner {
    /// A scanner pausing `interval` between passes.
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            seen: HashMap::new(),
        }
    }

    /// Scans until the stop flag is set.
    pub(crate) fn run(mut self, shared: &Shared) {
        let mut last_prune = Instant::now();
        while !shared.stopping() {
            self.pass(shared);
            if last_prune.elapsed() >= PRUNE_EVERY {
                let now = shared.clocks.now_wall();
                shared.tracker().prune(now);
                last_prune = Instant::now();
            }
            std::thread::sleep(self.interval);
        }
    }

    /// One pass over `/proc`.
    fn pass(&mut self, shared: &Shared) {
        let (wanted, connector_active) = {
            let tracker = shared.tracker();
            let wanted: HashSet<u32> = tracker.wanted().into_iter().collect();
            (wanted, tracker.connector_active)
        };
        let Some(pids) = list_pids() else {
            return;
        };
        let clocks = &shared.clocks;
        let tick_ns = clocks.tick_ns().max(1);
        let young_ticks = u64::try_from(YOUNG_NS / tick_ns).unwrap_or(u64::MAX);
        let now_ticks = clocks.now_boot_ticks();
        let mut items = Vec::new();
        for &pid in &pids {
            let seen = self.seen.get(&pid).copied();
            let young = seen.is_none_or(|s| s.start_ticks.saturating_add(young_ticks) >= now_ticks);
            let want = wanted.contains(&pid) && seen.is_none_or(|s| s.detail_tries < DETAIL_TRIES);
            // A young chain process is re-read without the connector: it is our only way to
            // see it exec again (`sh -c 'exec …'`).
            let recheck = young && seen.is_some_and(|s| !s.token || !connector_active);
            if seen.is_some() && !recheck && !want {
                continue;
            }
            let Some(item) = read(pid, &shared.matcher, want) else {
                continue;
            };
            self.remember(&item, want);
            items.push(item);
        }
        let gone = self.forget_missing(pids);
        if items.is_empty() && gone.is_empty() {
            return;
        }
        let now = clocks.now_wall();
        let mut tracker = shared.tracker();
        for item in items {
            tracker.scanned(item, now);
        }
        for (pid, start_ticks) in gone {
            tracker.scan_gone(pid, start_ticks, now);
        }
    }
}

impl Scanner {
    /// Records a read of a process (a new one if its pid was reused).
    fn remember(&mut self, item: &ScanItem, want: bool) {
        let fresh = Seen {
            start_ticks: item.stat.start_ticks,
            token: false,
            detail_tries: 0,
        };
        let seen = self.seen.entry(item.pid).or_insert(fresh);
        if seen.start_ticks != item.stat.start_ticks {
            *seen = fresh;
        }
        seen.token |= item.token;
        seen.detail_tries = seen.detail_tries.saturating_add(u8::from(want));
    }

    /// Forgets the pids no longer listed; returns them with their start times.
    fn forget_missing(&mut self, listed: Vec<u32>) -> Vec<(u32, u64)> {
        let listed: HashSet<u32> = listed.into_iter().collect();
        let mut gone = Vec::new();
        self.seen.retain(|pid, seen| {
            let alive = listed.contains(pid);
            if !alive {
                gone.push((*pid, seen.start_ticks));
            }
            alive
        });
        gone
    }
}

/// Reads one process: stat, token, and all details if it has the token or is `wanted`.
fn read(pid: u32, matcher: &TokenMatcher, wanted: bool) -> Option<ScanItem> {
    let dir = ProcDir::open(pid)?;
    let argv = dir.argv();
    let token = argv.as_deref().is_some_and(|a| matcher.in_argv(a)) || dir.environ_has(matcher);
    let details = (token || wanted).then(|| Details {
        image: dir.image(),
        argv,
        has_token: token,
        status: dir.status(),
        cwd: dir.cwd(),
        stat: None,
    });
    // stat last: it also proves the process was still this one after the reads above.
    let stat = dir.stat()?;
    Some(ScanItem {
        pid,
        stat,
        token,
        details,
    })
}

/// The numeric entries of `/proc`: every process (thread-group leader) on the machine.
fn list_pids() -> Option<Vec<u32>> {
    let dir = std::fs::read_dir("/proc").ok()?;
    Some(
        dir.filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
            .collect(),
    )
}
