//! Files an application leaves outside the run directory, where it does not
//! let us choose the place: LibreOffice's single-instance IPC socket,
//! `/tmp/OSL_PIPE_<uid>_SingleOfficeIPC_<hash>`, stays behind when the office
//! is ended by a signal (its location ignores `TMPDIR`).
//!
//! Only sockets created since the run started and that no process listens
//! on any more are removed, so a user's running LibreOffice is never touched.

use std::path::PathBuf;
use std::time::SystemTime;

const PIPE_DIRS: [&str; 2] = ["/tmp", "/var/tmp"];

/// Stale LibreOffice IPC sockets of this user modified at or after `since`;
/// removes them and returns their paths.
pub fn remove_stale_office_sockets(since: SystemTime) -> Vec<PathBuf> {
    remove_stale_in(&PIPE_DIRS.map(PathBuf::from), since)
}

fn remove_stale_in(dirs: &[PathBuf], since: SystemTime) -> Vec<PathBuf> {
    let prefix = format!("OSL_PIPE_{}_", crate::platform::host::uid());
    let listening = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
    let mut removed = Vec::new();
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
            if fresh && !live && std::fs::remove_file(&path).is_ok() {
                removed.push(path);
            }
        }
    }
    removed
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
        let removed = remove_stale_in(&[dir.path().to_path_buf()], since);
        assert!(removed.contains(&stale), "{removed:?}");
        assert!(!stale.exists());
        assert!(live.exists(), "a socket with a listener must stay");
        assert!(other.exists(), "only office sockets are removed");
        drop(listener);
        std::fs::remove_file(&live)?;
        Ok(())
    }
}
