//! The few calls into the operating system that have no portable form in
//! std: who am I, who is my parent, what is this host, end a process. One
//! function each, implemented in `host/unix.rs` and `host/windows.rs`; the
//! rest of chainproof calls these and stays portable.

#[cfg(unix)]
#[path = "host/unix.rs"]
mod imp;
#[cfg(windows)]
#[path = "host/windows.rs"]
mod imp;

pub use imp::{
    environment, is_privileged, kernel, kill, own_process_group, parent_pid, set_executable,
    start_as, uid, user_name,
};

/// This host's name.
pub fn hostname() -> String {
    sysinfo::System::host_name().unwrap_or_default()
}

/// The operating system's name and version, e.g. `Debian GNU/Linux 12`,
/// `Windows 11 Pro 23H2`, `macOS 14.5`.
pub fn os_name() -> String {
    sysinfo::System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.to_string())
}

/// The start time of process `pid` in seconds since the Unix epoch, as the
/// OS reports it; `None` when it is gone. With the pid, it tells a process
/// from a later one that reuses the pid.
pub fn process_start(pid: u32) -> Option<u64> {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
    let mut sys = System::new().ok()?;
    let pid = Pid::from_u32(pid);
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        false,
        ProcessRefreshKind::nothing(),
    );
    sys.process(pid).map(|p| p.start_time())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_described() {
        assert!(parent_pid() > 0);
        assert!(!hostname().is_empty());
        assert!(!os_name().is_empty());
        let started = process_start(std::process::id());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        assert!(
            started.is_some_and(|s| s <= now && s + 3600 > now),
            "{started:?}"
        );
        assert_eq!(process_start(u32::MAX - 7), None);
        assert!(user_name(uid()).is_some());
    }
}
