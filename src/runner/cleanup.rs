//! Leaving no residue: ending the run's processes (found by the token in
//! their environment or command line), unmounting its image, removing its
//! run directory. Used at the end of every scenario, on Ctrl-C, on timeouts,
//! and by `chainproof cleanup` from the journal.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::journal::Entry;
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

/// Pids of live processes whose environment or command line holds `token`,
/// except this process.
pub fn token_processes(token: &str) -> Vec<u32> {
    let me = std::process::id();
    let needle = token.as_bytes();
    let Ok(proc) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    for entry in proc.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let holds = |file: &str| {
            std::fs::read(entry.path().join(file))
                .map(|b| b.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        };
        if holds("environ") || holds("cmdline") {
            pids.push(pid);
        }
    }
    pids
}

/// Ends every process of `token`: SIGTERM, then SIGKILL after `grace`.
pub fn end_processes(token: &str, grace: Duration) -> Vec<u32> {
    let first = token_processes(token);
    for pid in &first {
        let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    let mut left = token_processes(token);
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        left = token_processes(token);
    }
    for pid in &left {
        let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
    }
    let mut all = first;
    for pid in left {
        if !all.contains(&pid) {
            all.push(pid);
        }
    }
    all
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
    }
    report.killed = end_processes(&entry.token, Duration::from_secs(2));
    if let Some(mp) = &entry.mount_point
        && mount::is_mounted(mp)
        && let Err(e) = mount::unmount(mp)
    {
        report.problems.push(format!(
            "unmount {} after ending processes: {e}",
            mp.display()
        ));
    }
    if let Some(since) = entry.office_since_unix {
        let since = std::time::UNIX_EPOCH + Duration::from_secs(since);
        report.removed_outside = super::residue::remove_stale_office_sockets(since)
            .into_iter()
            .map(|p| p.display().to_string())
            .collect();
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
        let killed = end_processes(&token, Duration::from_secs(2));
        assert!(killed.contains(&pid));
        let status = child.wait()?;
        assert!(
            !status.success(),
            "sleep should have been ended by a signal"
        );
        assert!(token_processes(&token).is_empty());
        Ok(())
    }
}
