//! Leaving no residue: ending the run's processes (found by the token in
//! their environment or command line), unmounting its image, removing its
//! run directory. Used at the end of every scenario, on Ctrl-C, on timeouts,
//! and by `chainproof cleanup` from the journal.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::platform::effects::this_host;
use crate::platform::host;

use super::journal::{Entry, Journal, Refused};

/// What a cleanup did and could not do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Processes ended.
    pub killed: Vec<u32>,
    /// Whether a mount was undone.
    pub unmounted: bool,
    /// Whether the run directory was removed.
    pub removed_workdir: bool,
    /// Files outside the run directory that an application left and cleanup removed.
    pub removed_outside: Vec<String>,
    /// Failures, as text for the record.
    pub problems: Vec<String>,
}

/// Pids of live processes whose environment holds exactly the entry
/// `CHAINPROOF_TOKEN=<token>`, except this process. Only the environment
/// counts: an analyst's `grep <token>` or `tail -f` of a run's log carries
/// the token in its command line and must never be ended.
pub fn token_processes(token: &str) -> Vec<u32> {
    this_host().token_processes(&env_entry(token))
}

/// The environment entry every process of the run carries.
fn env_entry(token: &str) -> String {
    format!("{}={token}", crate::stage::ENV_TOKEN)
}

/// Ends every process of `token`: SIGTERM, then SIGKILL after `grace`, then
/// waits (boundedly) until none is left, so the run directory is not removed
/// under a dying writer. Returns the pids signalled and the survivors.
pub fn end_processes(token: &str, grace: Duration) -> (Vec<u32>, Vec<u32>) {
    let mut signalled = token_processes(token);
    for pid in &signalled {
        let _ = host::kill(*pid, false);
    }
    let deadline = Instant::now() + grace;
    while !token_processes(token).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // A process may have forked between two looks: keep killing until quiet.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let left = token_processes(token);
        if left.is_empty() || Instant::now() >= deadline {
            return (signalled, left);
        }
        for pid in left {
            let _ = host::kill(pid, true);
            if !signalled.contains(&pid) {
                signalled.push(pid);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Start time of `pid`: clock ticks since boot (field 22 of its stat) on
/// Linux, seconds since the epoch elsewhere. Equal values mean the same
/// process, not a later one that reuses its pid.
pub fn start_ticks(pid: u32) -> Option<u64> {
    this_host().start_ticks(pid)
}

/// True when the harness that wrote `entry` is still running.
fn harness_alive(entry: &Entry) -> bool {
    if entry.harness_pid == std::process::id() {
        return false;
    }
    match (entry.harness_start_ticks, start_ticks(entry.harness_pid)) {
        (Some(want), Some(now)) => want == now,
        (None, Some(_)) => this_host().looks_like_harness(entry.harness_pid),
        (_, None) => false,
    }
}

/// What `chainproof cleanup` did with one journal entry.
#[derive(Debug)]
pub enum Finished {
    /// Its harness still runs; left alone.
    InProgress(Entry),
    /// Cleaned; the entry is removed unless the report has problems.
    Cleaned(Entry, Report),
}

/// Finishes the cleanup of every run the journal holds whose harness is
/// gone. Returns what was done, and the entries refused with why.
pub fn finish(journal: &Journal) -> std::io::Result<(Vec<Finished>, Vec<Refused>)> {
    let (entries, refused) = journal.entries()?;
    let mut done = Vec::new();
    for entry in entries {
        if harness_alive(&entry) {
            done.push(Finished::InProgress(entry));
            continue;
        }
        let mut report = clean(&entry);
        if report.problems.is_empty()
            && let Err(e) = journal.remove(&entry.token)
        {
            report
                .problems
                .push(format!("remove the journal entry: {e}"));
        }
        done.push(Finished::Cleaned(entry, report));
    }
    Ok((done, refused))
}

/// Cleans up everything `entry` names: [`stop_all`], then the run directory.
pub fn clean(entry: &Entry) -> Report {
    let mut report = stop_all(entry);
    report.removed_workdir = remove_dir(&entry.workdir, &mut report.problems);
    report
}

/// Undoes the run's mount and ends its processes, leaving its files: unmount
/// first (the mount daemon carries the token too, and must not be killed
/// under a live mount), then the processes, then unmount again if a process
/// kept the mount busy.
pub fn stop_all(entry: &Entry) -> Report {
    let mut report = Report::default();
    if let Some(mp) = &entry.mount_point {
        match this_host().unmount(mp) {
            Ok(did) => report.unmounted = did,
            Err(e) => report
                .problems
                .push(format!("unmount {}: {e}", mp.display())),
        }
        // Before the sweep below: a mount daemon ended in the middle of its
        // own bookkeeping leaves stale lines in its mount table.
        let tidied = this_host().after_unmount(&env_entry(&entry.token), mp);
        report.removed_outside.extend(tidied.removed);
        report.problems.extend(tidied.problems);
    }
    let (killed, survivors) = end_processes(&entry.token, Duration::from_secs(2));
    report.killed = killed;
    if !survivors.is_empty() {
        report.problems.push(format!(
            "processes {survivors:?} of {} survived SIGKILL",
            entry.token
        ));
    }
    if let Some(mp) = &entry.mount_point
        && this_host().is_mounted(mp)
        && let Err(e) = this_host().unmount(mp)
    {
        report.problems.push(format!(
            "unmount {} after ending processes: {e}",
            mp.display()
        ));
    }
    report
        .problems
        .extend(this_host().delete_registry_keys(&entry.registry_keys));
    if let Some(since) = entry.office_since_unix {
        let since = std::time::UNIX_EPOCH + Duration::from_secs(since);
        report.removed_outside.extend(
            super::residue::remove_stale_office_sockets(since)
                .into_iter()
                .map(|p| p.display().to_string()),
        );
    }
    report
}

fn remove_dir(dir: &Path, problems: &mut Vec<String>) -> bool {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => {
            problems.push(format!("remove {}: {e}", dir.display()));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_processes_that_carry_the_token() -> std::io::Result<()> {
        let token = format!("cptest{:06}", std::process::id() % 1_000_000);
        let mut child = std::process::Command::new("/bin/sleep")
            .arg("30")
            .env("CHAINPROOF_TOKEN", &token)
            .spawn()?;
        let pid = child.id();
        let mut seen = Vec::new();
        for _ in 0..100 {
            seen = token_processes(&token);
            if seen.contains(&pid) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            seen.contains(&pid),
            "sleep with the token in its environment not found"
        );
        let (killed, survivors) = end_processes(&token, Duration::from_secs(2));
        assert!(killed.contains(&pid));
        assert!(survivors.is_empty());
        let status = child.wait()?;
        assert!(
            !status.success(),
            "sleep should have been ended by a signal"
        );
        assert!(token_processes(&token).is_empty());
        // The token in a command line alone (an analyst's grep) is not the run's.
        let mut grep = std::process::Command::new("/bin/sleep")
            .arg("30")
            .arg(&token)
            .spawn();
        if let Ok(g) = &mut grep {
            std::thread::sleep(Duration::from_millis(50));
            assert!(!token_processes(&token).contains(&g.id()));
            let _ = g.kill();
            let _ = g.wait();
        }
        Ok(())
    }
}
