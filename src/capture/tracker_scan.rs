//! The scanner's side of the tracker: merging what a /proc pass read into the entries the
//! connector built, matched by pid and start time.

use super::{Entry, ExecInfo, ScanItem, Source, Tracker};
use crate::capture::procfs::Details;

impl Tracker {
    /// Applies what the scanner read about one live process.
    pub(crate) fn scanned(&mut self, item: ScanItem, now: i128) {
        let start = Some(self.clocks.ticks_to_wall(item.stat.start_ticks));
        let id = match self.current_matching(item.pid, start) {
            Some(id) => id,
            None => {
                let details = Details {
                    stat: Some(item.stat),
                    ..Details::default()
                };
                self.insert(self.entry_from_proc(item.pid, &details), now)
            }
        };
        let connector_active = self.connector_active;
        let Some(entry) = self.entries.get_mut(&id) else {
            return;
        };
        entry.sources.insert(Source::ProcScan);
        entry.start_ns = entry.start_ns.or(start);
        entry.ppid = entry.ppid.or(Some(item.stat.ppid));
        if let Some(details) = item.details {
            merge_scanned_details(entry, details, connector_active);
        }
        if item.token && !entry.token {
            entry.token = true;
            self.mark_related(id);
        }
    }

    /// The scanner no longer lists `pid`, which had started at `start_ticks`.
    pub(crate) fn scan_gone(&mut self, pid: u32, start_ticks: u64, now: i128) {
        let start = Some(self.clocks.ticks_to_wall(start_ticks));
        if let Some(id) = self.current_matching(pid, start)
            && let Some(entry) = self.entries.get_mut(&id)
            && entry.is_live()
        {
            entry.gone_ns = Some(now);
        }
    }
}

/// Fills what the connector could not read. While the connector runs, a different image is
/// left alone (the connector's exec event will tell); without it, a changed image or argv
/// is the only sign of an exec, so it becomes a new exec.
fn merge_scanned_details(entry: &mut Entry, details: Details, connector_active: bool) {
    entry.uid = entry.uid.or(details.status.euid);
    entry.cwd = entry.cwd.take().or(details.cwd);
    match entry.exec.as_mut() {
        None => {
            entry.exec = Some(ExecInfo {
                image: details.image,
                argv: details.argv,
                unix_ns: None,
            });
        }
        Some(exec) => {
            if !connector_active
                && (changed(exec.image.as_ref(), details.image.as_ref())
                    || changed(exec.argv.as_ref(), details.argv.as_ref()))
            {
                let previous = std::mem::take(exec);
                entry.earlier.push(previous);
                entry.exec = Some(ExecInfo {
                    image: details.image,
                    argv: details.argv,
                    unix_ns: None,
                });
            } else {
                exec.image = exec.image.take().or(details.image);
                exec.argv = exec.argv.take().or(details.argv);
            }
        }
    }
}

/// Whether a value read twice is known both times and differs.
fn changed<T: PartialEq>(old: Option<&T>, new: Option<&T>) -> bool {
    old.is_some() && new.is_some() && old != new
}
