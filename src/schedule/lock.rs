//! The service's exclusive lock: `<reports>/.schedule.lock`, held with
//! flock(2) for the service's lifetime. The kernel drops it when the process
//! dies, however it dies, so a crashed service never leaves it stuck; the
//! file itself stays (removing a lock file races with the next locker).
//! `flock -n <reports>/.schedule.lock chainproof run …` (the crontab
//! alternative) takes the same lock.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Name of the lock file inside the reports folder.
pub const LOCK_FILE: &str = ".schedule.lock";

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another service (or a `flock` cron job) holds it.
    #[error(
        "take the lock {}: another chainproof schedule{holder} holds it (runs on one reports folder never overlap)",
        path.display()
    )]
    Held {
        /// The lock file.
        path: PathBuf,
        /// ` (pid N)` when the holder wrote its pid, else empty.
        holder: String,
    },
    /// The lock file could not be created or locked.
    #[error("take the lock {}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    #[cfg(unix)]
    _held: nix::fcntl::Flock<File>,
    #[cfg(not(unix))]
    _held: File,
}

impl Lock {
    /// Takes the lock of the reports folder `reports` (created if missing)
    /// without waiting, and writes this process's pid into it.
    pub fn take(reports: &Path) -> Result<Lock, LockError> {
        let path = reports.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(reports).map_err(io)?;
        // Not truncated on open: the holder's pid stays readable.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let mut held = match lock(file) {
            Ok(h) => h,
            Err((mut file, e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = text
                    .trim()
                    .parse::<u32>()
                    .map(|pid| format!(" (pid {pid})"))
                    .unwrap_or_default();
                return Err(LockError::Held { path, holder });
            }
            Err((_, e)) => return Err(io(e)),
        };
        let file: &mut File = &mut held;
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(Lock {
            path: path.clone(),
            _held: held,
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
fn lock(file: File) -> Result<nix::fcntl::Flock<File>, (File, std::io::Error)> {
    use nix::fcntl::{Flock, FlockArg};
    Flock::lock(file, FlockArg::LockExclusiveNonblock)
        .map_err(|(f, errno)| (f, std::io::Error::from(errno)))
}

#[cfg(not(unix))]
fn lock(file: File) -> Result<File, (File, std::io::Error)> {
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err((file, std::io::ErrorKind::WouldBlock.into()))
        }
        Err(std::fs::TryLockError::Error(e)) => Err((file, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let reports = dir.path().join("reports");
        let first = Lock::take(&reports)?;
        assert_eq!(first.path(), reports.join(LOCK_FILE));
        match Lock::take(&reports) {
            Err(e @ LockError::Held { .. }) => {
                let text = e.to_string();
                assert!(text.contains(".schedule.lock"), "{text}");
                assert!(
                    text.contains(&format!("pid {}", std::process::id())),
                    "{text}"
                );
            }
            other => panic!("second lock: {other:?}"),
        }
        drop(first);
        let again = Lock::take(&reports)?;
        drop(again);
        Ok(())
    }
}
