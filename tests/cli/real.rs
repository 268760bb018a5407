//! Real openers: LibreOffice runs the macro with a throw-away profile, dex
//! launches the desktop entry.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::*;

#[test]
fn real_libreoffice_runs_the_macro_with_a_throwaway_profile() -> TestResult {
    if !require_root() {
        return Ok(());
    }
    let _host = host();
    if !require_tool("soffice") {
        return Ok(());
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let profile = Path::new(&home).join(".config/libreoffice");
    let before = snapshot(&profile);
    let sockets_before = office_sockets();
    let lab = Lab::new();
    lab.run(&["--fidelity", "real", "macro-doc-shell"])
        .timeout(Duration::from_secs(240))
        .assert()
        .success();
    let record = lab.record();
    let s = &record["scenarios"][0];
    assert_eq!(s["fidelity"], "real");
    assert_chain(s, "soffice.bin");
    let shell = s["hops"][2]["pid"].as_u64();
    let procs = s["truth"]["processes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let sh = procs
        .iter()
        .find(|p| p["pid"].as_u64() == shell)
        .cloned()
        .unwrap_or_default();
    assert_eq!(sh["argv"][0], "/bin/sh", "{sh}");
    assert_eq!(
        snapshot(&profile),
        before,
        "the user's LibreOffice profile changed"
    );
    let left: Vec<PathBuf> = office_sockets()
        .into_iter()
        .filter(|p| !sockets_before.contains(p))
        .collect();
    assert!(
        left.is_empty(),
        "LibreOffice IPC sockets left in /tmp: {left:?}"
    );
    assert!(
        s["truth"]["removed_outside"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "{:#}",
        s["truth"]
    );
    lab.assert_no_residue(&tokens(&record));
    Ok(())
}

fn office_sockets() -> Vec<PathBuf> {
    std::fs::read_dir("/tmp")
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("OSL_PIPE_"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Paths and modification times below `dir` (empty when it does not exist).
fn snapshot(dir: &Path) -> Vec<(PathBuf, Option<std::time::SystemTime>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push((p.clone(), e.metadata().and_then(|m| m.modified()).ok()));
        }
    }
    out.sort();
    out
}

#[test]
fn real_dex_launches_the_desktop_entry() -> TestResult {
    if !require_root() {
        return Ok(());
    }
    if !require_tool("dex") {
        return Ok(());
    }
    let _host = host();
    let lab = Lab::new();
    lab.run(&["--fidelity", "real", "shortcut-script"])
        .assert()
        .success();
    let record = lab.record();
    let s = &record["scenarios"][0];
    assert_eq!(s["fidelity"], "real");
    assert_chain(s, "python3*");
    let opener = s["hops"][1]["pid"].as_u64();
    let procs = s["truth"]["processes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let dex = procs
        .iter()
        .find(|p| p["pid"].as_u64() == opener)
        .cloned()
        .unwrap_or_default();
    let cmd = dex["command_line"].as_str().unwrap_or_default();
    assert!(
        cmd.contains("/usr/bin/dex") && cmd.ends_with(".desktop"),
        "{cmd}"
    );
    assert_eq!(s["verification"]["chain"]["verdict"], "alerted");
    lab.assert_no_residue(&tokens(&record));
    Ok(())
}
