//! Tests of the disk image builder: a third-party reader (p7zip's `7z`,
//! which reads UDIF, MBR and FAT) lists and tests what the image holds.

use std::path::Path;
use std::process::Command;

use super::*;
use crate::artifact::app;
use crate::artifact::testutil::run_ok;
use crate::testing::require_tool;

fn sample() -> Vec<DmgFile> {
    let mut files: Vec<DmgFile> = app::files("Setup-cp0123", b"\x7fELF stage".repeat(5000))
        .into_iter()
        .map(|f| DmgFile {
            path: f.path,
            data: f.data,
        })
        .collect();
    files.push(DmgFile {
        path: "Read Me.command".into(),
        data: b"#!/bin/sh\ntrue\n".to_vec(),
    });
    files
}

fn seven_z(args: &[&str], image: &Path) -> String {
    let out = run_ok(Command::new("7z").args(args).arg(image));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// 7z opens the file as a DMG (not as an ISO renamed), finds the MBR and
/// the FAT volume, lists the bundle's paths and verifies every checksum.
#[test]
fn seven_zip_reads_the_udif_image_and_its_files() {
    if !require_tool("7z") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("Invoice-cp0123.dmg");
    std::fs::write(&image, build("INVOICE", &sample()).unwrap()).unwrap();
    let listing = seven_z(&["l", "-slt"], &image);
    assert!(listing.contains("Type = Dmg"), "{listing}");
    assert!(listing.contains("File System = FAT16"), "{listing}");
    assert!(listing.contains("Label = INVOICE"), "{listing}");
    // 7-Zip flags a folder whose `.` and `..` are not its first entries.
    assert!(!listing.contains("WARNINGS"), "{listing}");
    for path in [
        "Path = Setup-cp0123.app/Contents/Info.plist",
        "Path = Setup-cp0123.app/Contents/PkgInfo",
        "Path = Setup-cp0123.app/Contents/MacOS/Setup-cp0123",
        "Path = Read Me.command",
    ] {
        assert!(listing.contains(path), "{path} missing: {listing}");
    }
    let fat = dir.path().join("fat");
    let out = seven_z(&["e", "-y", &format!("-o{}", fat.display())], &image);
    assert!(out.contains("Everything is Ok"), "{out}");
    assert_eq!(
        std::fs::read(fat.join("Setup-cp0123")).unwrap(),
        b"\x7fELF stage".repeat(5000)
    );
    let tested = seven_z(&["t"], &image);
    assert!(tested.contains("Everything is Ok"), "{tested}");
}

#[test]
fn build_is_deterministic_and_pins_the_segment_id() {
    let a = build("INVOICE", &sample()).unwrap();
    assert_eq!(a, build("INVOICE", &sample()).unwrap());
    let koly = &a[a.len() - KOLY_LEN..];
    assert_eq!(&koly[..4], b"koly");
    let mut other = sample();
    other[0].data.push(b'\n');
    let b = build("INVOICE", &other).unwrap();
    assert_ne!(
        a[a.len() - KOLY_LEN + SEGMENT_ID_AT..][..16],
        b[b.len() - KOLY_LEN + SEGMENT_ID_AT..][..16]
    );
}

#[test]
fn labels_name_the_lure_not_the_tool() {
    assert_eq!(label_for("Invoice-cp0123.dmg"), "INVOICE");
    assert_eq!(label_for("--.dmg"), "DMG");
    assert_eq!(label_for("--"), "INSTALLER");
    assert_eq!(label_for("Quarterlyreport2024.dmg"), "QUARTERLYRE");
    assert!(matches!(
        build("chainproof", &sample()),
        Err(DmgError::Name { .. })
    ));
    let bad = [DmgFile {
        path: "a/../b".into(),
        data: vec![],
    }];
    assert!(matches!(build("X", &bad), Err(DmgError::Name { .. })));
}
