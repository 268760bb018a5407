//! Helpers for the artifact tests that run real host tools (LibreOffice,
//! Python, dex, xorriso, fuseiso).
//!
//! Whether a tool is there is [`crate::testing::require_tool`]'s call.

use std::path::Path;
#[cfg(unix)]
use std::process::Child;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Runs a command to completion and panics with its output if it fails.
pub(crate) fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Polls until `path` exists and is non-empty, up to `limit`; returns the
/// time it took.
pub(crate) fn wait_for_file(path: &Path, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
            let took = start.elapsed();
            // Let the writer finish the line it is writing.
            std::thread::sleep(Duration::from_millis(100));
            return Some(took);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Kills a child started with `process_group(0)` and its whole group, then
/// every process whose command line mentions `marker` (a unique temp path
/// the test created), which catches descendants that left the group.
#[cfg(unix)]
pub(crate) fn kill_tree(child: &mut Child, marker: &Path) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals only the process group
        // this test created; no memory is shared.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.wait();
    let marker = marker.to_string_lossy().into_owned();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(&marker) && pid != std::process::id() as i32 {
            // SAFETY: as above, for a process this test started.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}
