//! Windows implementations of [`super`]'s calls, through sysinfo and std.

use std::path::Path;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

fn this_process(kind: ProcessRefreshKind) -> Option<(System, Pid)> {
    let mut sys = System::new().ok()?;
    let pid = Pid::from_u32(std::process::id());
    sys.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), false, kind);
    sys.process(pid)?;
    Some((sys, pid))
}

/// The parent's pid.
pub fn parent_pid() -> u32 {
    this_process(ProcessRefreshKind::nothing())
        .and_then(|(sys, pid)| sys.process(pid)?.parent())
        .map_or(0, |p| p.as_u32())
}

/// Windows has no numeric user ids; 0 stands for "this user" and
/// [`user_name`] resolves it.
pub fn uid() -> u32 {
    0
}

/// `DOMAIN\user` of this process (the only user chainproof asks about).
pub fn user_name(_uid: u32) -> Option<String> {
    let user = std::env::var("USERNAME").ok()?;
    Some(match std::env::var("USERDOMAIN") {
        Ok(domain) => format!("{domain}\\{user}"),
        Err(_) => user,
    })
}

/// Whether this process is elevated (an administrator's full token): the
/// one check Windows needs is whether `net session` is allowed.
pub fn is_privileged() -> bool {
    std::process::Command::new("net")
        .arg("session")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The Windows build, e.g. `10.0.22631`.
pub fn kernel() -> String {
    System::kernel_version().unwrap_or_default()
}

/// Ends process `pid` (TerminateProcess; Windows has no gentle signal for
/// a process without a window, so `force` changes nothing).
pub fn kill(pid: u32, _force: bool) -> bool {
    let Ok(mut sys) = System::new() else {
        return false;
    };
    let pid = Pid::from_u32(pid);
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        false,
        ProcessRefreshKind::nothing().with_exe(UpdateKind::Never),
    );
    sys.process(pid).is_some_and(|p| p.kill())
}

/// Windows runs any `.exe`: nothing to do.
pub fn set_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Windows names a process by its file: the copy already has the
/// application's name.
pub fn start_as(_cmd: &mut tokio::process::Command, _name: &str) {}

/// Nothing to do: Windows delivers no console signal to a process
/// without a console of ours.
pub fn own_process_group(_cmd: &mut tokio::process::Command) {}
