//! Tests of the ISO builder: names, determinism, and real readers
//! (`xorriso`, `isoinfo`, a `fuseiso` mount).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::*;
use crate::artifact::testutil::run_ok;
use crate::testing::require_tool;

const SCRIPT: &[u8] = b"#!/bin/sh\necho \"benign test script ran with $# args\"\n";

fn sample() -> Vec<IsoFile> {
    vec![
        IsoFile {
            name: "Invoice 2024-04.pdf.desktop".into(),
            data: b"[Desktop Entry]\nType=Application\nName=x\nExec=/bin/true\n".to_vec(),
            executable: true,
        },
        IsoFile {
            name: "run-me.sh".into(),
            data: SCRIPT.to_vec(),
            executable: true,
        },
        IsoFile {
            name: "readme – lisez-moi.txt".into(),
            data: b"chainproof benign test image\n".repeat(200),
            executable: false,
        },
        IsoFile {
            name: "invoice-2024-b.sh".into(),
            data: b"b".to_vec(),
            executable: true,
        },
        IsoFile {
            name: "invoice-2024-a.sh".into(),
            data: b"a".to_vec(),
            executable: false,
        },
        IsoFile {
            name: "empty".into(),
            data: Vec::new(),
            executable: false,
        },
    ]
}

fn write_sample(dir: &Path) -> PathBuf {
    let path = dir.join("lure.iso");
    std::fs::write(&path, build("CHAINPROOF_TEST", &sample()).unwrap()).unwrap();
    path
}

#[test]
fn build_is_deterministic() {
    let first = build("CHAINPROOF", &sample()).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(first, build("CHAINPROOF", &sample()).unwrap());
    let mut other = sample();
    other[1].data.push(b'\n');
    assert_ne!(first, build("CHAINPROOF", &other).unwrap());
    // Primary volume descriptor: creation and modification dates pinned.
    let pvd = &first[16 * 2048..17 * 2048];
    assert_eq!(&pvd[1..6], b"CD001");
    assert_eq!(&pvd[813..829], b"2024041709000000");
    assert_eq!(&pvd[830..846], b"2024041709000000");
}

#[test]
fn rejects_names_the_image_cannot_hold() {
    let bad_ids = ["", "lower", "HAS SPACE", "SEVENTEEN_CHARS_X"];
    for id in bad_ids {
        assert!(
            matches!(build(id, &[]), Err(ArtifactError::IsoName { .. })),
            "{id:?}"
        );
    }
    let long = "x".repeat(65);
    let bad_names = [
        "",
        ".",
        "..",
        "a/b",
        "a\\b",
        "what?",
        "a:b",
        "tab\there",
        long.as_str(),
    ];
    for name in bad_names {
        let file = IsoFile {
            name: name.into(),
            data: vec![],
            executable: false,
        };
        assert!(
            matches!(build("OK", &[file]), Err(ArtifactError::IsoName { .. })),
            "{name:?}"
        );
    }
    let twice = vec![sample()[0].clone(), sample()[0].clone()];
    assert!(matches!(
        build("OK", &twice),
        Err(ArtifactError::IsoName { .. })
    ));
    let longest = IsoFile {
        name: format!("{}.desktop", "y".repeat(56)),
        data: b"x".to_vec(),
        executable: false,
    };
    assert!(build("OK", &[longest]).is_ok());
}

#[test]
fn xorriso_lists_rock_ridge_modes_and_pinned_dates() {
    if !require_tool("xorriso") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = write_sample(dir.path());
    let out = run_ok(
        Command::new("xorriso")
            .arg("-indev")
            .arg(&image)
            .args(["-find", "/", "-exec", "lsdl"]),
    );
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    for file in sample() {
        let line = listing
            .lines()
            .find(|l| l.ends_with(&format!("'/{}'", file.name)))
            .unwrap_or_else(|| panic!("{} missing from\n{listing}", file.name));
        let mode = if file.executable {
            "-rwxr-xr-x"
        } else {
            "-rw-r--r--"
        };
        assert!(line.starts_with(mode), "{line}");
        assert!(line.contains(&format!(" {} ", file.data.len())), "{line}");
        assert!(line.contains("Apr 17  2024"), "{line}");
    }
}

#[test]
fn isoinfo_reads_the_joliet_names() {
    if !require_tool("isoinfo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = write_sample(dir.path());
    let out = run_ok(Command::new("isoinfo").args(["-J", "-f", "-i"]).arg(&image));
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_start_matches('/').to_owned())
        .collect();
    names.sort();
    // This isoinfo has no UTF-8 output: it shows other characters as `_`.
    let mut expected: Vec<String> = sample()
        .into_iter()
        .map(|f| {
            f.name
                .chars()
                .map(|c| if c.is_ascii() { c } else { '_' })
                .collect()
        })
        .collect();
    expected.sort();
    assert_eq!(names, expected);
    // The Joliet tree itself stores the UTF-16 name.
    let bytes = std::fs::read(&image).unwrap();
    let utf16: Vec<u8> = "readme – lisez-moi.txt"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    assert!(bytes.windows(utf16.len()).any(|w| w == utf16));
}

/// Unmounts the FUSE mount when dropped, so a failing assertion does not
/// leave it behind.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("fusermount").arg("-u").arg(&self.0).status();
    }
}

#[test]
fn fuseiso_mount_serves_contents_and_runs_the_script() {
    if !require_tool("fuseiso") || !require_tool("fusermount") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = write_sample(dir.path());
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    run_ok(
        Command::new("fuseiso")
            .args(["-n", "-p"])
            .arg(&image)
            .arg(&mnt),
    );
    let _mount = Mount(mnt.clone());
    for file in sample() {
        let path = mnt.join(&file.name);
        assert_eq!(std::fs::read(&path).unwrap(), file.data, "{}", file.name);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(
            mode & 0o777,
            if file.executable { 0o755 } else { 0o644 },
            "{}",
            file.name
        );
    }
    let out = run_ok(Command::new(mnt.join("run-me.sh")).args(["a", "b"]));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "benign test script ran with 2 args\n"
    );
}
