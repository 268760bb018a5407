//! The harness's mount path, a hundred times over: every image mounted
//! through [`crate::platform::effects::Effects::mount`] and undone by the cleanup a run does
//! ([`super::cleanup::clean`]) leaves nothing outside its run directory —
//! no line in fuseiso's mount table, no file in the user's home, nothing in
//! `/tmp` naming the run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::cleanup;
use super::journal::Entry;
use crate::artifact::iso::{self, IsoFile};
use crate::platform::effects::this_host;
use crate::testing::require_tool;

const MOUNTS: usize = 100;

/// Regular files directly in `dir`, with size and modification time.
fn files(dir: &Path) -> BTreeMap<PathBuf, (u64, Option<SystemTime>)> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let m = std::fs::symlink_metadata(e.path()).ok()?;
            m.is_file()
                .then(|| (e.path(), (m.len(), m.modified().ok())))
        })
        .collect()
}

fn names_with(dir: &str, needle: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(needle))
        .collect()
}

#[test]
fn a_hundred_mounts_leave_nothing_outside_the_run_directory() {
    if !crate::testing::require_root() {
        return;
    }
    if !require_tool("fuseiso") || !require_tool("fusermount") {
        return;
    }
    let image = iso::build(
        "SETUP",
        &[IsoFile {
            name: "Setup.sh".into(),
            data: b"#!/bin/sh\nexit 0\n".to_vec(),
            executable: true,
        }],
    )
    .unwrap_or_else(|e| panic!("build the image: {e}"));
    let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mtab = crate::platform::effects::fuseiso_mtab().unwrap_or_else(|| panic!("no passwd home"));
    let home = mtab.parent().unwrap_or_else(|| panic!("mtab has a parent"));
    let home_before = files(home);
    let mut tokens = Vec::new();
    for i in 0..MOUNTS {
        let token = crate::token::new();
        let workdir = root.path().join(format!("chainproof-{token}"));
        let downloads = workdir.join("Downloads");
        std::fs::create_dir_all(&downloads).unwrap_or_else(|e| panic!("{e}"));
        let path = downloads.join(format!("Setup-{token}.iso"));
        std::fs::write(&path, &image).unwrap_or_else(|e| panic!("{e}"));
        let wanted = workdir.join("media").join(format!("Setup-{token}"));
        let mounted = this_host()
            .mount(&path, Some(&wanted), &[(crate::stage::ENV_TOKEN, &token)])
            .unwrap_or_else(|e| panic!("mount {i}: {e}"));
        assert_eq!(mounted.method, "fuseiso");
        let mp = mounted.point;
        assert!(mp.join("Setup.sh").is_file(), "mount {i} serves the image");
        let table = std::fs::read_to_string(&mtab).unwrap_or_default();
        assert!(
            !table.contains(&token),
            "mount {i}: fuseiso wrote this run's mount into {}:\n{table}",
            mtab.display()
        );
        let entry = Entry {
            token: token.clone(),
            scenario: "iso-exec".into(),
            workdir: workdir.clone(),
            mount_point: Some(mp.clone()),
            harness_pid: std::process::id(),
            harness_start_ticks: None,
            office_since_unix: None,
            registry_keys: Vec::new(),
        };
        let report = cleanup::clean(&entry);
        assert!(report.unmounted, "mount {i}: {report:?}");
        assert!(report.removed_workdir, "mount {i}: {report:?}");
        assert!(report.problems.is_empty(), "mount {i}: {report:?}");
        assert!(report.removed_outside.is_empty(), "mount {i}: {report:?}");
        assert!(
            !this_host().is_mounted(&mp) && !workdir.exists(),
            "mount {i}"
        );
        tokens.push(token);
    }
    let table = std::fs::read_to_string(&mtab).unwrap_or_default();
    let stale: Vec<&String> = tokens.iter().filter(|t| table.contains(*t)).collect();
    assert!(stale.is_empty(), "{} names runs {stale:?}", mtab.display());
    assert_eq!(
        files(home),
        home_before,
        "files in {} changed while mounting",
        home.display()
    );
    for dir in ["/tmp", "/var/tmp", "/dev/shm"] {
        for token in &tokens {
            let left = names_with(dir, token);
            assert!(left.is_empty(), "left in {dir}: {left:?}");
        }
    }
}
