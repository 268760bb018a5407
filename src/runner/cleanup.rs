//! Leaving no residue: ending the run's processes (found by the token in
//! their environment or command line), unmounting its image, removing its
//! run directory. Used at the end of every scenario, on Ctrl-C, on timeouts,
//! and by `chainproof cleanup` from the journal.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::platform::host;

use super::journal::{Entry, Journal, Refused};
use super::mount;

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
#[cfg(target_os = "linux")]
pub fn token_processes(token: &str) -> Vec<u32> {
    let me = std::process::id();
    let entry = format!("{}={token}", crate::stage::ENV_TOKEN);
    let Ok(proc) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    for item in proc.flatten() {
        let Some(pid) = item
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let environ = std::fs::read(item.path().join("environ")).unwrap_or_default();
        if environ.split(|b| *b == 0).any(|e| e == entry.as_bytes()) {
            pids.push(pid);
        }
    }
    pids
}

/// Pids of live processes whose environment holds exactly the entry
/// `CHAINPROOF_TOKEN=<token>`, except this process (read through sysinfo
/// where there is no /proc).
#[cfg(not(target_os = "linux"))]
pub fn token_processes(token: &str) -> Vec<u32> {
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};
    let me = std::process::id();
    let entry = format!("{}={token}", crate::stage::ENV_TOKEN);
    let Ok(mut sys) = System::new() else {
        return Vec::new();
    };
    sys.refresh_processes_specifics(
        ProcessesToUpdate::All,
        true,
        ProcessRefreshKind::nothing().with_environ(UpdateKind::Always),
    );
    sys.processes()
        .iter()
        .filter(|(pid, p)| {
            pid.as_u32() != me && p.environ().iter().any(|e| e.as_os_str() == entry.as_str())
        })
        .map(|(pid, _)| pid.as_u32())
        .collect()
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
#[cfg(not(target_os = "linux"))]
pub fn start_ticks(pid: u32) -> Option<u64> {
    host::process_start(pid)
}

/// Start time of `pid` in clock ticks since boot (field 22 of its stat).
#[cfg(target_os = "linux")]
pub fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// True when the harness that wrote `entry` is still running.
fn harness_alive(entry: &Entry) -> bool {
    if entry.harness_pid == std::process::id() {
        return false;
    }
    match (entry.harness_start_ticks, start_ticks(entry.harness_pid)) {
        (Some(want), Some(now)) => want == now,
        (None, Some(_)) => {
            cfg!(target_os = "linux")
                && std::fs::read(format!("/proc/{}/cmdline", entry.harness_pid))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains("chainproof"))
        }
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
        match mount::unmount(mp) {
            Ok(did) => report.unmounted = did,
            Err(e) => report
                .problems
                .push(format!("unmount {}: {e}", mp.display())),
        }
        // The FUSE daemon exits by itself once unmounted; a SIGTERM from the
        // sweep below in the middle of its own bookkeeping is what left
        // stale lines in its mount table.
        wait_for_mount_daemon(&entry.token, Duration::from_secs(2));
        #[cfg(unix)]
        scrub_mount_table(super::residue::fuseiso_mtab(), mp, &mut report);
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
        && mount::is_mounted(mp)
        && let Err(e) = mount::unmount(mp)
    {
        report.problems.push(format!(
            "unmount {} after ending processes: {e}",
            mp.display()
        ));
    }
    report
        .problems
        .extend(delete_registry_keys(&entry.registry_keys));
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

/// Waits, at most `limit`, until no process of `token` is a FUSE mount
/// daemon (`fuseiso`) any more.
fn wait_for_mount_daemon(token: &str, limit: Duration) {
    let daemon = |pid: &u32| {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|c| c.trim_end() == "fuseiso")
    };
    let deadline = Instant::now() + limit;
    while token_processes(token).iter().any(daemon) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Removes lines naming `mount_point` from fuseiso's mount table `mtab` in
/// the user's home (left there by versions that mounted without `-n`).
#[cfg(unix)]
fn scrub_mount_table(mtab: Option<std::path::PathBuf>, mount_point: &Path, report: &mut Report) {
    let Some(mtab) = mtab else {
        return;
    };
    match super::residue::remove_mtab_lines(&mtab, mount_point) {
        Ok(0) => {}
        Ok(n) => report.removed_outside.push(format!(
            "{} ({n} stale line(s) of this run)",
            mtab.display()
        )),
        Err(e) => report.problems.push(format!(
            "remove this run's line from {}: {e}",
            mtab.display()
        )),
    }
}

/// Deletes the run's registry keys (Windows; elsewhere there are none):
/// each that exists is deleted, and a failure is a problem for the record.
fn delete_registry_keys(keys: &[String]) -> Vec<String> {
    use crate::platform::windows;
    let mut problems = Vec::new();
    if !cfg!(windows) {
        return problems;
    }
    let run = |argv: &[String]| {
        std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(std::process::Stdio::null())
            .output()
    };
    for key in keys {
        // reg.exe query: 0 found, 1 not found; anything else is a problem.
        match run(&windows::reg_query(key)).map(|o| o.status.code()) {
            Ok(Some(0)) => {}
            Ok(Some(1)) => continue,
            Ok(code) => {
                problems.push(format!("query registry key {key}: exit {code:?}"));
                continue;
            }
            Err(e) => {
                problems.push(format!("query registry key {key}: {e}"));
                continue;
            }
        }
        match run(&windows::reg_delete(key)) {
            Ok(o) if o.status.success() => {}
            Ok(o) => problems.push(format!(
                "delete registry key {key}: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => problems.push(format!("delete registry key {key}: {e}")),
        }
    }
    problems
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

    #[cfg(unix)]
    #[test]
    fn a_stale_mount_table_line_of_the_run_is_removed_and_reported() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let mtab = dir.path().join(".mtab.fuseiso");
        let mp = dir
            .path()
            .join("chainproof-cp1")
            .join("media")
            .join("Setup-cp1");
        let other = "/x.iso /mnt/other fuseiso defaults 0 0\n";
        std::fs::write(
            &mtab,
            format!("{other}/y.iso {} fuseiso defaults 0 0\n", mp.display()),
        )?;
        let mut report = Report::default();
        scrub_mount_table(Some(mtab.clone()), &mp, &mut report);
        assert_eq!(std::fs::read_to_string(&mtab)?, other);
        assert_eq!(report.removed_outside.len(), 1, "{report:?}");
        assert!(report.problems.is_empty(), "{report:?}");
        let mut again = Report::default();
        scrub_mount_table(Some(mtab), &mp, &mut again);
        assert_eq!(again, Report::default());
        Ok(())
    }

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
