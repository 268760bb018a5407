//! Files an application leaves outside the run directory, where it does not
//! let us choose the place:
//! - LibreOffice's single-instance IPC socket,
//!   `/tmp/OSL_PIPE_<uid>_SingleOfficeIPC_<hash>`, stays behind when the
//!   office is ended by a signal (its location ignores `TMPDIR`). Only
//!   sockets created since the run started and that no process listens on
//!   any more are removed, so a user's running LibreOffice is never touched.
//!
//! (fuseiso's mount table is the Linux host's: `platform::effects`.)

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

const PIPE_DIRS: [&str; 2] = ["/tmp", "/var/tmp"];

/// How long a killed office's socket may still read as listened on: the
/// kernel drops the listener a moment after the processes are gone.
const SETTLE: Duration = Duration::from_secs(2);

/// Stale LibreOffice IPC sockets of this user modified at or after `since`;
/// removes them and returns their paths. While a fresh socket still has a
/// listener, tries again for up to [`SETTLE`] (a user's own office started
/// meanwhile keeps its socket, at the cost of that wait).
pub fn remove_stale_office_sockets(since: SystemTime) -> Vec<PathBuf> {
    let dirs = PIPE_DIRS.map(PathBuf::from);
    let start = Instant::now();
    let mut removed = Vec::new();
    loop {
        let (gone, still_live) = remove_stale_in(&dirs, since);
        removed.extend(gone);
        if still_live == 0 || start.elapsed() >= SETTLE {
            return removed;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Removes the stale sockets; returns them and how many fresh ones still
/// have a listener.
fn remove_stale_in(dirs: &[PathBuf], since: SystemTime) -> (Vec<PathBuf>, usize) {
    let prefix = format!("OSL_PIPE_{}_", crate::platform::host::uid());
    let listening = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
    let mut removed = Vec::new();
    let mut still_live = 0;
    for dir in dirs {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if !name.starts_with(&prefix) {
                continue;
            }
            let fresh = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since);
            let live = listening
                .lines()
                .any(|l| l.ends_with(&*path.to_string_lossy()));
            if fresh && live {
                still_live += 1;
            } else if fresh && std::fs::remove_file(&path).is_ok() {
                removed.push(path);
            }
        }
    }
    (removed, still_live)
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::net::UnixListener;

    use super::*;

    #[test]
    fn removes_only_fresh_sockets_nobody_listens_on() -> std::io::Result<()> {
        let since = SystemTime::now() - std::time::Duration::from_secs(1);
        let uid = nix::unistd::getuid().as_raw();
        let pid = std::process::id();
        let dir = tempfile::tempdir()?;
        let stale = dir.path().join(format!("OSL_PIPE_{uid}_test_stale_{pid}"));
        let live = dir.path().join(format!("OSL_PIPE_{uid}_test_live_{pid}"));
        let other = dir.path().join("not-an-office-socket");
        drop(UnixListener::bind(&other)?);
        drop(UnixListener::bind(&stale)?);
        let listener = UnixListener::bind(&live)?;
        let (removed, still_live) = remove_stale_in(&[dir.path().to_path_buf()], since);
        assert_eq!(still_live, 1);
        assert!(removed.contains(&stale), "{removed:?}");
        assert!(!stale.exists());
        assert!(live.exists(), "a socket with a listener must stay");
        assert!(other.exists(), "only office sockets are removed");
        drop(listener);
        std::fs::remove_file(&live)?;
        Ok(())
    }
}
