//! The capture's state: one entry per process *instance* (pid + start time), fed by the
//! connector and the scanner, with fork lineage kept as links between instances.
//!
//! Linking a child to the parent *instance* it forked from (not just to a pid) is what keeps
//! lineage right across double forks (the kernel re-parents the orphan, the link stays) and
//! across pid reuse. Relatedness to the run (token, root or a related ancestor) is kept up to
//! date online so that unrelated entries can be pruned while the capture runs; `report.rs`
//! recomputes it once more at the end.
//!
//! This file must not do I/O: callers read /proc first and pass what they read, so the lock
//! around the tracker is held only for map updates.

use std::collections::{BTreeSet, HashMap};

use super::Source;
use super::clock::Clocks;
use super::procfs::{Details, Stat};

/// Identifies one process instance.
pub(crate) type Id = u64;

/// How long an unrelated process's entry is kept after it exited: long enough for a late
/// `add_root` or a late token sighting to still find its descendants.
pub(crate) const KEEP_UNRELATED_NS: i128 = 30_000_000_000;

/// Extra slack when matching a /proc start time (tick resolution) against a connector stamp.
const START_SLACK_NS: i128 = 50_000_000;

/// One image a process ran.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ExecInfo {
    pub image: Option<String>,
    pub argv: Option<Vec<String>>,
    /// When the exec happened; `None` when only the scanner saw it.
    pub unix_ns: Option<i128>,
}

/// One process instance.
#[derive(Debug, Clone, Default)]
pub(crate) struct Entry {
    pub pid: u32,
    pub ppid: Option<u32>,
    /// Whether `ppid` is the parent at fork time (connector), not a later /proc reading.
    pub ppid_from_fork: bool,
    pub parent: Option<Id>,
    pub start_ns: Option<i128>,
    pub exec: Option<ExecInfo>,
    pub earlier: Vec<ExecInfo>,
    pub uid: Option<u32>,
    pub cwd: Option<String>,
    pub exit_ns: Option<i128>,
    pub exit_status: Option<u32>,
    /// When the process was seen to be gone without an exit event (scanner, pid reuse).
    pub gone_ns: Option<i128>,
    pub token: bool,
    pub root: bool,
    pub related: bool,
    pub sources: BTreeSet<Source>,
}

impl Entry {
    fn ended_ns(&self) -> Option<i128> {
        self.exit_ns.or(self.gone_ns)
    }

    fn is_live(&self) -> bool {
        self.ended_ns().is_none()
    }
}

/// What the scanner learned about one live process.
#[derive(Debug, Clone)]
pub(crate) struct ScanItem {
    pub pid: u32,
    pub stat: Stat,
    pub token: bool,
    pub details: Option<Details>,
}

/// All process instances seen during a capture.
#[derive(Debug)]
pub(crate) struct Tracker {
    clocks: Clocks,
    next_id: Id,
    pub(crate) entries: HashMap<Id, Entry>,
    current: HashMap<u32, Id>,
    children: HashMap<Id, Vec<Id>>,
    pending_roots: Vec<(u32, Option<i128>)>,
    /// Set while the connector runs: then only it records execs, the scanner just fills gaps.
    pub(crate) connector_active: bool,
    /// How many times events were lost (ENOBUFS or a netlink overrun).
    pub(crate) lost: u64,
}

impl Tracker {
    /// An empty tracker converting kernel times with `clocks`.
    pub(crate) fn new(clocks: Clocks) -> Self {
        Self {
            clocks,
            next_id: 0,
            entries: HashMap::new(),
            current: HashMap::new(),
            children: HashMap::new(),
            pending_roots: Vec::new(),
            connector_active: false,
            lost: 0,
        }
    }

    fn same_start(&self, a: Option<i128>, b: Option<i128>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= self.clocks.tick_ns() + START_SLACK_NS,
            _ => true,
        }
    }

    /// The current instance of `pid`, if it started at `start` (within /proc resolution).
    fn current_matching(&self, pid: u32, start: Option<i128>) -> Option<Id> {
        let id = *self.current.get(&pid)?;
        let entry = self.entries.get(&id)?;
        self.same_start(entry.start_ns, start).then_some(id)
    }

    /// Adds a new instance of `entry.pid`, marking the previous one gone at `now`.
    fn insert(&mut self, mut entry: Entry, now: i128) -> Id {
        let id = self.next_id;
        self.next_id += 1;
        if let Some(old) = self.current.insert(entry.pid, id)
            && let Some(old) = self.entries.get_mut(&old)
            && old.is_live()
        {
            old.gone_ns = Some(now);
        }
        let parent_related = entry
            .parent
            .and_then(|p| self.entries.get(&p))
            .is_some_and(|p| p.related);
        if let Some(at) = self
            .pending_roots
            .iter()
            .position(|&(pid, start)| pid == entry.pid && self.same_start(start, entry.start_ns))
        {
            self.pending_roots.swap_remove(at);
            entry.root = true;
        }
        entry.related = entry.token || entry.root || parent_related;
        if let Some(parent) = entry.parent {
            self.children.entry(parent).or_default().push(id);
        }
        self.entries.insert(id, entry);
        id
    }

    /// The current instance of a pid that just forked; a bare entry if we never saw it.
    fn parent_instance(&mut self, pid: u32, now: i128) -> Id {
        if let Some(&id) = self.current.get(&pid) {
            return id;
        }
        let entry = Entry {
            pid,
            sources: BTreeSet::from([Source::ProcConnector]),
            ..Entry::default()
        };
        self.insert(entry, now)
    }

    /// A fork event: `child` was created by `parent` at connector time `ts_ns`.
    pub(crate) fn fork(&mut self, parent: u32, child: u32, ts_ns: u64) {
        let at = self.clocks.monotonic_to_wall(ts_ns);
        let parent_id = self.parent_instance(parent, at);
        // The scanner may have seen the child before this event was read: merge, don't replace.
        if let Some(id) = self.current_matching(child, Some(at))
            && let Some(entry) = self.entries.get_mut(&id)
            && !entry.ppid_from_fork
            && entry.exec.as_ref().is_none_or(|e| e.unix_ns.is_none())
        {
            entry.ppid = Some(parent);
            entry.ppid_from_fork = true;
            let old_parent = entry.parent.replace(parent_id);
            let relink = old_parent != Some(parent_id);
            entry.start_ns = Some(at);
            entry.sources.insert(Source::ProcConnector);
            if relink {
                if let Some(siblings) = old_parent.and_then(|p| self.children.get_mut(&p)) {
                    siblings.retain(|&c| c != id);
                }
                self.link(id, parent_id);
            }
            return;
        }
        let entry = Entry {
            pid: child,
            ppid: Some(parent),
            ppid_from_fork: true,
            parent: Some(parent_id),
            start_ns: Some(at),
            sources: BTreeSet::from([Source::ProcConnector]),
            ..Entry::default()
        };
        self.insert(entry, at);
    }

    /// An exec event with what was read from /proc right after it.
    pub(crate) fn exec(&mut self, pid: u32, ts_ns: u64, details: Details) {
        let at = self.clocks.monotonic_to_wall(ts_ns);
        let id = match self.live_current(pid) {
            Some(id) => id,
            None => self.insert(self.entry_from_proc(pid, &details), at),
        };
        let Some(entry) = self.entries.get_mut(&id) else {
            return;
        };
        // A scanner reading (no exec time) is either this very exec read early or, if we saw
        // the fork, the image copied from the parent before any exec: not an exec of its own.
        if let Some(previous) = entry.exec.take()
            && (previous.unix_ns.is_some()
                || !(entry.ppid_from_fork
                    || (previous.image == details.image && previous.argv == details.argv)))
        {
            entry.earlier.push(previous);
        }
        entry.exec = Some(ExecInfo {
            image: details.image,
            argv: details.argv,
            unix_ns: Some(at),
        });
        entry.uid = details.status.euid.or(entry.uid);
        entry.cwd = details.cwd.or(entry.cwd.take());
        if entry.ppid.is_none() {
            entry.ppid = details.status.ppid;
        }
        entry.sources.insert(Source::ProcConnector);
        if details.has_token && !entry.token {
            entry.token = true;
            self.mark_related(id);
        }
    }

    /// A bare entry for a process first met after its fork, from its /proc reading.
    fn entry_from_proc(&self, pid: u32, details: &Details) -> Entry {
        let start = details
            .stat
            .map(|s| self.clocks.ticks_to_wall(s.start_ticks));
        let ppid = details.stat.map(|s| s.ppid).or(details.status.ppid);
        let parent = ppid
            .and_then(|p| self.current.get(&p).copied())
            .filter(|p| {
                let parent_start = self.entries.get(p).and_then(|e| e.start_ns);
                parent_start.is_none_or(|ps| start.is_none_or(|s| ps <= s + START_SLACK_NS))
            });
        Entry {
            pid,
            ppid,
            parent,
            start_ns: start,
            ..Entry::default()
        }
    }

    /// The current instance of `pid` unless it already exited.
    fn live_current(&self, pid: u32) -> Option<Id> {
        let id = *self.current.get(&pid)?;
        self.entries
            .get(&id)
            .is_some_and(|e| e.exit_ns.is_none())
            .then_some(id)
    }

    /// A uid change event.
    pub(crate) fn uid(&mut self, pid: u32, euid: u32) {
        if let Some(entry) = self
            .live_current(pid)
            .and_then(|id| self.entries.get_mut(&id))
        {
            entry.uid = Some(euid);
        }
    }

    /// An exit event; `status` is in wait(2) format.
    pub(crate) fn exit(&mut self, pid: u32, status: u32, ts_ns: u64) {
        let at = self.clocks.monotonic_to_wall(ts_ns);
        if let Some(entry) = self
            .current
            .get(&pid)
            .and_then(|id| self.entries.get_mut(id))
            && entry.exit_ns.is_none()
        {
            entry.exit_ns = Some(at);
            entry.exit_status = Some(status);
            entry.sources.insert(Source::ProcConnector);
        }
    }

    /// Marks the process `pid` that started at `start` as a run root. The caller's child may
    /// already have exited (a millisecond process), but while it is not reaped its pid cannot
    /// be reused, so the current instance with that start is the one. Without a start time
    /// (the process was already reaped), the current instance is taken as well. If the
    /// connector has not delivered the fork yet, the root waits for it.
    pub(crate) fn add_root(&mut self, pid: u32, start: Option<i128>) {
        match self.current_matching(pid, start) {
            Some(id) => {
                if let Some(entry) = self.entries.get_mut(&id) {
                    entry.root = true;
                }
                self.mark_related(id);
            }
            _ => self.pending_roots.push((pid, start)),
        }
    }

    /// Links an existing entry to the parent instance it forked from.
    fn link(&mut self, id: Id, parent: Id) {
        self.children.entry(parent).or_default().push(id);
        if self.entries.get(&parent).is_some_and(|p| p.related) {
            self.mark_related(id);
        }
    }

    /// Marks `id` and all its known descendants related.
    fn mark_related(&mut self, id: Id) {
        let mut todo = vec![id];
        while let Some(next) = todo.pop() {
            if let Some(entry) = self.entries.get_mut(&next) {
                entry.related = true;
            }
            for &child in self.children.get(&next).into_iter().flatten() {
                if self.entries.get(&child).is_some_and(|c| !c.related) {
                    todo.push(child);
                }
            }
        }
    }

    /// Pids of live related processes whose image or argv is still unknown.
    pub(crate) fn wanted(&self) -> Vec<u32> {
        self.entries
            .values()
            .filter(|e| e.related && e.is_live())
            .filter(|e| {
                e.exec
                    .as_ref()
                    .is_none_or(|x| x.image.is_none() || x.argv.is_none())
            })
            .map(|e| e.pid)
            .collect()
    }

    /// Drops unrelated processes that ended more than [`KEEP_UNRELATED_NS`] before `now`.
    pub(crate) fn prune(&mut self, now: i128) {
        let cutoff = now - KEEP_UNRELATED_NS;
        let dead: Vec<Id> = self
            .entries
            .iter()
            .filter(|(_, e)| !e.related && e.ended_ns().is_some_and(|t| t < cutoff))
            .map(|(&id, _)| id)
            .collect();
        for id in dead {
            self.children.remove(&id);
            let Some(entry) = self.entries.remove(&id) else {
                continue;
            };
            if self.current.get(&entry.pid) == Some(&id) {
                self.current.remove(&entry.pid);
            }
            if let Some(siblings) = entry.parent.and_then(|p| self.children.get_mut(&p)) {
                siblings.retain(|&c| c != id);
            }
        }
    }
}

#[path = "tracker_scan.rs"]
mod scan;

#[cfg(test)]
#[path = "tracker_tests.rs"]
mod tests;
