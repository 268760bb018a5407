//! One tool run as a child process and measured from outside: wall time
//! and the child's own peak RSS (`wait4`'s rusage, so each run is measured
//! alone, unlike `RUSAGE_CHILDREN`, which keeps the largest child so far).

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one child run cost.
#[derive(Debug, Clone)]
pub struct Measured {
    /// From spawn to exit.
    pub wall: Duration,
    /// Peak resident set size in MiB.
    pub rss_mib: f64,
    /// Exit code (`None`: killed by a signal).
    pub code: Option<i32>,
}

/// Runs `cmd` with stdin from `stdin` (or nothing), stdout into `stdout`
/// and stderr into `stderr`, and waits for it.
pub fn run(
    cmd: &mut Command,
    stdin: Option<&Path>,
    stdout: &Path,
    stderr: &Path,
) -> std::io::Result<Measured> {
    cmd.stdin(match stdin {
        Some(p) => Stdio::from(File::open(p)?),
        None => Stdio::null(),
    })
    .stdout(File::create(stdout)?)
    .stderr(File::create(stderr)?);
    let started = Instant::now();
    let child = cmd.spawn()?;
    let pid = libc::pid_t::try_from(child.id()).map_err(std::io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data that wait4 fills; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own un-reaped child; both pointers are to live
    // locals. `Child` is dropped afterwards without waiting (it never does).
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    drop(child);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    // Linux reports ru_maxrss in KiB.
    Ok(Measured {
        wall,
        rss_mib: usage.ru_maxrss as f64 / 1024.0,
        code,
    })
}
