//! What a scenario run does to the host that differs by operating system,
//! behind one trait with one implementation per OS: mounting a disk image
//! and undoing it, extended attributes for origin marks, listing the run's
//! processes, telling a live harness from a reused pid, deleting the run's
//! registry keys. The runner calls [`this_host`] and holds no
//! `cfg(target_os)` of its own; what the commands are is data in
//! [`super::windows`] and [`super::macos`].

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
mod linux_mount;
#[cfg(any(target_os = "macos", all(test, unix)))]
mod macos;
#[cfg(windows)]
mod windows;

/// fuseiso's mount table, for the runner's test that a hundred mounts
/// leave nothing in it.
#[cfg(all(test, target_os = "linux"))]
pub(crate) use linux_mount::fuseiso_mtab;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An image mounted read-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounted {
    /// How, for the record (`fuseiso`, `loop`, `hdiutil`, `Mount-DiskImage`).
    pub method: &'static str,
    /// Where.
    pub point: PathBuf,
}

/// What tidying after an unmount did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tidied {
    /// Files outside the run directory changed or removed, for the record.
    pub removed: Vec<String>,
    /// What could not be tidied.
    pub problems: Vec<String>,
}

/// The host effects of a run on one operating system.
pub trait Effects: Sync {
    /// Why an image cannot be mounted here, or `None` when it can.
    fn mount_unavailable(&self) -> Option<String>;
    /// Mounts `image` read-only at `at` (created), or where the OS picks
    /// when `at` is `None` (a Windows drive letter); `env` goes to the mount
    /// program so cleanup finds a mount daemon by the run token.
    fn mount(
        &self,
        image: &Path,
        at: Option<&Path>,
        env: &[(&str, &str)],
    ) -> Result<Mounted, String>;
    /// Whether something is mounted at `handle` (the mount point; on
    /// Windows the image).
    fn is_mounted(&self, handle: &Path) -> bool;
    /// Unmounts what `handle` names; `Ok(false)` when nothing was mounted.
    fn unmount(&self, handle: &Path) -> Result<bool, String>;
    /// After an unmount: lets the mount daemon of the run whose processes
    /// carry `env_entry` exit and removes what the mount tool left outside
    /// the run directory about `handle`.
    fn after_unmount(&self, env_entry: &str, handle: &Path) -> Tidied;
    /// Sets extended attribute `name` of `path` to `value`.
    fn set_xattr(&self, path: &Path, name: &str, value: &str) -> Result<(), String>;
    /// Pids of live processes whose environment holds exactly `env_entry`
    /// (`NAME=value`: the caller names the variable, so this layer knows no
    /// stage program), except this process. Only the environment counts: an
    /// analyst's `grep <token>` carries the token in its command line and
    /// must never be ended. By default the process table is polled
    /// (sysinfo); Linux reads /proc.
    fn token_processes(&self, env_entry: &str) -> Vec<u32> {
        polled_token_processes(env_entry)
    }
    /// The start time of `pid` (clock ticks since boot on Linux, seconds
    /// since the epoch elsewhere): equal values mean the same process, not
    /// a later one reusing the pid.
    fn start_ticks(&self, pid: u32) -> Option<u64> {
        crate::platform::host::process_start(pid)
    }
    /// For a journal written without a start time: whether `pid` looks like
    /// a chainproof harness at all (by default it cannot be told).
    fn looks_like_harness(&self, _pid: u32) -> bool {
        false
    }
    /// Deletes the run's registry keys that exist; the failures, as text.
    fn delete_registry_keys(&self, keys: &[String]) -> Vec<String>;
}

/// This host's effects.
pub fn this_host() -> &'static dyn Effects {
    #[cfg(target_os = "linux")]
    return &linux::Linux;
    #[cfg(target_os = "macos")]
    return &macos::Macos;
    #[cfg(windows)]
    return &windows::Windows;
}

/// The full path of `program` on `PATH` (or `program` itself when it is a
/// path to an existing file); on Windows also `program.exe`.
pub fn which(program: &str) -> Option<PathBuf> {
    let p = PathBuf::from(program);
    if p.is_absolute() || program.contains('/') {
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    let exts: &[&str] = if std::env::consts::OS == "windows" {
        &["", ".exe"]
    } else {
        &[""]
    };
    std::env::split_paths(&path)
        .flat_map(|d| exts.iter().map(move |e| d.join(format!("{program}{e}"))))
        .find(|p| p.is_file())
}

/// Runs `argv` with `env`; its stdout, or why it failed. (Linux mounts
/// and unmounts with its own fallbacks and does not use it.)
#[cfg_attr(target_os = "linux", allow(dead_code))]
fn run(argv: &[String], env: &[(&str, &str)]) -> Result<String, String> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| "empty command".to_string())?;
    let out = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("start {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            super::show(argv),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Token processes read through sysinfo, where there is no /proc.
fn polled_token_processes(entry: &str) -> Vec<u32> {
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};
    let me = std::process::id();
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
        .filter(|(pid, p)| pid.as_u32() != me && p.environ().iter().any(|e| e.as_os_str() == entry))
        .map(|(pid, _)| pid.as_u32())
        .collect()
}
