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
    /// Its start time in clock ticks since boot (`/proc/<pid>/stat`), so a
    /// reused pid is not mistaken for a harness still at work.
    #[serde(default)]
    pub harness_start_ticks: Option<u64>,
    /// When a real office application was started (Unix seconds): its stale
    /// IPC sockets from then on are removed at cleanup.
    #[serde(default)]
    pub office_since_unix: Option<u64>,
    /// Registry keys (Windows) the run creates and cleanup deletes: the
    /// value a `.reg` scenario imports, a temporary Office Trusted Location.
    #[serde(default)]
    pub registry_keys: Vec<String>,
}

/// A journal file left in place, with why.
pub type Refused = (PathBuf, String);

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

    /// Every entry left behind; files that are unreadable, or whose entry
    /// would have cleanup touch anything but a run directory of its own
    /// token, are reported by path with the reason and never acted on. A
    /// journal folder that exists but cannot be listed is an error.
    pub fn entries(&self) -> std::io::Result<(Vec<Entry>, Vec<Refused>)> {
        let mut good = Vec::new();
        let mut bad = Vec::new();
        let dir = match std::fs::read_dir(&self.dir) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((good, bad)),
            Err(e) => return Err(e),
        };
        for item in dir {
            let path = item?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let parsed = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<Entry>(&b).map_err(|e| e.to_string()))
                .and_then(|entry| entry.check().map(|()| entry));
            match parsed {
                Ok(entry) => good.push(entry),
                Err(why) => bad.push((path, why)),
            }
        }
        good.sort_by(|a: &Entry, b| a.token.cmp(&b.token));
        Ok((good, bad))
    }
}

impl Entry {
    /// Refuses an entry that would make cleanup end, unmount or delete
    /// anything but its own run: a malformed token, a run directory that is
    /// not `<absolute root>/chainproof-<token>`, a mount point outside it.
    pub fn check(&self) -> Result<(), String> {
        if !crate::token::is_token(&self.token) {
            return Err(format!("`{}` is not a run token", self.token));
        }
        let named = self.workdir.file_name().and_then(|n| n.to_str())
            == Some(&format!("chainproof-{}", self.token));
        let plain = self.workdir.components().all(|c| {
            matches!(
                c,
                std::path::Component::Prefix(_)
                    | std::path::Component::RootDir
                    | std::path::Component::Normal(_)
            )
        });
        if !self.workdir.is_absolute() || !named || !plain {
            return Err(format!(
                "run directory {} is not an absolute chainproof-{} folder",
                self.workdir.display(),
                self.token
            ));
        }
        if let Some(mp) = &self.mount_point {
            let inside = mp.starts_with(self.workdir.join("media"))
                && mp
                    .components()
                    .all(|c| !matches!(c, std::path::Component::ParentDir));
            // Windows unmounts by the image (inside the run directory);
            // macOS mounts under /Volumes, as the Finder does.
            let here = crate::vocab::Platform::current();
            let image = here == Some(crate::vocab::Platform::Windows)
                && mp.starts_with(&self.workdir)
                && mp
                    .components()
                    .all(|c| !matches!(c, std::path::Component::ParentDir));
            let volume = here == Some(crate::vocab::Platform::Macos)
                && *mp == Path::new("/Volumes").join(format!("chainproof-{}", self.token));
            let drive = image || volume;
            if !inside && !drive {
                return Err(format!(
                    "mount point {} lies outside the run directory",
                    mp.display()
                ));
            }
        }
        for key in &self.registry_keys {
            if !crate::platform::windows::run_registry_keys(&self.token).contains(key) {
                return Err(format!(
                    "registry key {key} is not one chainproof creates for run {}",
                    self.token
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_that_would_touch_other_things_are_refused() {
        let good = Entry {
            token: "cp0123456789".into(),
            scenario: "s".into(),
            workdir: "/tmp/chainproof-cp0123456789".into(),
            mount_point: Some("/tmp/chainproof-cp0123456789/media/X".into()),
            harness_pid: 1,
            harness_start_ticks: None,
            office_since_unix: None,
            registry_keys: Vec::new(),
        };
        assert_eq!(good.check(), Ok(()));
        let bad = [
            Entry {
                token: String::new(),
                ..good.clone()
            },
            Entry {
                token: "a".into(),
                ..good.clone()
            },
            Entry {
                workdir: "/home/alice".into(),
                ..good.clone()
            },
            Entry {
                workdir: "tmp/chainproof-cp0123456789".into(),
                ..good.clone()
            },
            Entry {
                workdir: "/tmp/../chainproof-cp0123456789".into(),
                ..good.clone()
            },
            Entry {
                mount_point: Some("/".into()),
                ..good.clone()
            },
            Entry {
                mount_point: Some("/tmp/chainproof-cp0123456789/media/../../x".into()),
                ..good.clone()
            },
            Entry {
                registry_keys: vec![r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run".into()],
                ..good.clone()
            },
            Entry {
                registry_keys: vec![r"HKCU\Software\chainproof\cp9999999999".into()],
                ..good.clone()
            },
        ];
        let keys = Entry {
            registry_keys: crate::platform::windows::run_registry_keys("cp0123456789"),
            ..good.clone()
        };
        assert_eq!(keys.check(), Ok(()));
        for entry in bad {
            assert!(entry.check().is_err(), "{entry:?} accepted");
        }
    }

    #[test]
    fn write_list_remove() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let journal = Journal::under(dir.path());
        assert!(journal.entries()?.0.is_empty());
        let mut entry = Entry {
            token: "cp0123456789".into(),
            scenario: "iso-exec".into(),
            workdir: dir.path().join("chainproof-cp0123456789"),
            mount_point: None,
            harness_pid: 1,
            harness_start_ticks: None,
            office_since_unix: None,
            registry_keys: Vec::new(),
        };
        journal.write(&entry)?;
        entry.mount_point = Some(dir.path().join("chainproof-cp0123456789/media/x"));
        journal.write(&entry)?;
        assert_eq!(journal.entries()?.0, vec![entry.clone()]);
        std::fs::write(journal.dir().join("junk.json"), b"{")?;
        assert_eq!(journal.entries()?.1.len(), 1);
        journal.remove("cp0123456789")?;
        journal.remove("cp0123456789")?;
        assert!(journal.entries()?.0.is_empty());
        Ok(())
    }
}
