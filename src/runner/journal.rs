//! The on-disk journal: one small JSON file per scenario run, written before
//! anything touches the host and removed after cleanup, so `chainproof
//! cleanup` can finish the job after a crash or SIGKILL.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What a later cleanup needs to know about one scenario run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The run token: processes carrying it are the run's.
    pub token: String,
    /// Scenario id.
    pub scenario: String,
    /// The run directory to remove.
    pub workdir: PathBuf,
    /// A mount point to unmount, once mounted.
    #[serde(default)]
    pub mount_point: Option<PathBuf>,
    /// Pid of the harness that wrote the entry.
    pub harness_pid: u32,
    /// When a real office application was started (Unix seconds): its stale
    /// IPC sockets from then on are removed at cleanup.
    #[serde(default)]
    pub office_since_unix: Option<u64>,
}

/// The journal folder (`<reports>/.journal`).
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// The journal kept under the reports folder `reports`.
    pub fn under(reports: &Path) -> Journal {
        Journal {
            dir: reports.join(".journal"),
        }
    }

    /// Its folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, token: &str) -> PathBuf {
        self.dir.join(format!("{token}.json"))
    }

    /// Writes (or rewrites) `entry` durably.
    pub fn write(&self, entry: &Entry) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(format!(".{}.tmp", entry.token));
        let json = serde_json::to_vec_pretty(entry).map_err(std::io::Error::other)?;
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, self.path(&entry.token))
    }

    /// Removes the entry of `token` once its cleanup is complete.
    pub fn remove(&self, token: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.path(token)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Every entry left behind; unreadable files are reported by path.
    pub fn entries(&self) -> (Vec<Entry>, Vec<PathBuf>) {
        let mut good = Vec::new();
        let mut bad = Vec::new();
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return (good, bad);
        };
        for item in dir.flatten() {
            let path = item.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
            {
                Some(entry) => good.push(entry),
                None => bad.push(path),
            }
        }
        good.sort_by(|a: &Entry, b| a.token.cmp(&b.token));
        (good, bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_list_remove() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let journal = Journal::under(dir.path());
        assert!(journal.entries().0.is_empty());
        let mut entry = Entry {
            token: "cp0123456789".into(),
            scenario: "iso-exec".into(),
            workdir: dir.path().join("w"),
            mount_point: None,
            harness_pid: 1,
            office_since_unix: None,
        };
        journal.write(&entry)?;
        entry.mount_point = Some(dir.path().join("w/media/x"));
        journal.write(&entry)?;
        assert_eq!(journal.entries().0, vec![entry]);
        std::fs::write(journal.dir().join("junk.json"), b"{")?;
        assert_eq!(journal.entries().1.len(), 1);
        journal.remove("cp0123456789")?;
        journal.remove("cp0123456789")?;
        assert!(journal.entries().0.is_empty());
        Ok(())
    }
}
