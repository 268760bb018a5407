//! Unix (Linux, macOS) implementations of [`super`]'s calls, through nix.

use std::path::Path;

/// The parent's pid.
pub fn parent_pid() -> u32 {
    nix::unistd::getppid().as_raw().unsigned_abs()
}

/// The real user id.
pub fn uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

/// The name of user `uid`.
pub fn user_name(uid: u32) -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}

/// Whether this process runs as root (effective uid 0).
pub fn is_privileged() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The kernel's release, e.g. `6.1.0-18-amd64`.
pub fn kernel() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Ends process `pid` (SIGKILL when `force`, else SIGTERM); false when it
/// could not be signalled (gone, or not ours).
pub fn kill(pid: u32, force: bool) -> bool {
    use nix::sys::signal::{Signal, kill};
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    let signal = if force {
        Signal::SIGKILL
    } else {
        Signal::SIGTERM
    };
    kill(nix::unistd::Pid::from_raw(raw), signal).is_ok()
}

/// Makes `path` executable (mode 0755), as a user does before starting a
/// downloaded program.
pub fn set_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

/// Makes `cmd` start as `name` (its argv\[0\]), as the application it
/// plays is started.
pub fn start_as(cmd: &mut tokio::process::Command, name: &str) {
    cmd.arg0(name);
}

/// Puts `cmd`'s process in a process group of its own, so a signal to the
/// harness's group does not reach the chain before cleanup ends it.
pub fn own_process_group(cmd: &mut tokio::process::Command) {
    cmd.process_group(0);
}

/// The environment a run's platform is emulated in, if any: none here (a
/// Linux or macOS host runs its own platform). The Windows build says
/// `wine` under Wine.
pub fn environment() -> Option<String> {
    None
}
