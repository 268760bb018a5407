//! Files an application leaves outside the run directory, where it does not
//! let us choose the place:
//! - LibreOffice's single-instance IPC socket,
//!   `/tmp/OSL_PIPE_<uid>_SingleOfficeIPC_<hash>`, stays behind when the
//!   office is ended by a signal (its location ignores `TMPDIR`). Only
//!   sockets created since the run started and that no process listens on
//!   any more are removed, so a user's running LibreOffice is never touched.
//! - fuseiso's mount table, `.mtab.fuseiso` in the home of the user's passwd
//!   entry. The harness mounts with `-n`, so it writes none; runs of older
//!   versions, finished from the journal, can have left a line naming their
//!   mount point, and only such lines are removed.

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

/// fuseiso's mount table of the current user (`~/.mtab.fuseiso`, where
/// `~` is the passwd entry's home: fuseiso ignores `HOME`).
#[cfg(unix)]
pub fn fuseiso_mtab() -> Option<PathBuf> {
    let user = nix::unistd::User::from_uid(nix::unistd::getuid()).ok()??;
    Some(user.dir.join(".mtab.fuseiso"))
}

/// Removes from fuseiso's mount table `mtab` every line whose mount point
/// (its second field) is `mount_point`, rewriting the file in place through
/// a sibling temporary file. Returns how many lines went. Other lines, and
/// a table that names no such mount, are left untouched.
#[cfg(unix)]
pub fn remove_mtab_lines(
    mtab: &std::path::Path,
    mount_point: &std::path::Path,
) -> std::io::Result<usize> {
    let text = match std::fs::read_to_string(mtab) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    // getmntent-style tables escape space, tab, newline and backslash as
    // octal; accept the field either way.
    let want = mount_point.to_string_lossy().to_string();
    let escaped: String = want
        .chars()
        .map(|c| match c {
            ' ' | '\t' | '\n' | '\\' => format!("\\{:03o}", c as u32),
            c => c.to_string(),
        })
        .collect();
    let names_it = |line: &str| {
        line.split(' ')
            .nth(1)
            .is_some_and(|f| f == want || f == escaped)
    };
    let gone = text.lines().filter(|l| names_it(l)).count();
    if gone == 0 {
        return Ok(0);
    }
    let mut kept: String = text
        .lines()
        .filter(|l| !names_it(l))
        .map(|l| format!("{l}\n"))
        .collect();
    if !text.ends_with('\n') && kept.ends_with('\n') {
        kept.pop();
    }
    let tmp = mtab.with_extension(format!("chainproof-{}", std::process::id()));
    std::fs::write(&tmp, kept)?;
    std::fs::rename(&tmp, mtab)?;
    Ok(gone)
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

    #[test]
    fn mtab_lines_of_other_mounts_stay() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let mtab = dir.path().join(".mtab.fuseiso");
        let ours = "/w/chainproof-cp1/media/Setup-cp1";
        std::fs::write(
            &mtab,
            format!(
                "/a.iso /mnt/user fuseiso defaults 0 0\n/w/I.iso {ours} fuseiso defaults 0 0\n/b.iso {ours}-2 fuseiso defaults 0 0\n"
            ),
        )?;
        assert_eq!(remove_mtab_lines(&mtab, std::path::Path::new(ours))?, 1);
        assert_eq!(
            std::fs::read_to_string(&mtab)?,
            format!(
                "/a.iso /mnt/user fuseiso defaults 0 0\n/b.iso {ours}-2 fuseiso defaults 0 0\n"
            )
        );
        let before = std::fs::metadata(&mtab)?.modified()?;
        assert_eq!(remove_mtab_lines(&mtab, std::path::Path::new(ours))?, 0);
        assert_eq!(
            std::fs::metadata(&mtab)?.modified()?,
            before,
            "untouched when nothing matches"
        );
        assert_eq!(
            remove_mtab_lines(&dir.path().join("absent"), std::path::Path::new(ours))?,
            0
        );
        Ok(())
    }
}
