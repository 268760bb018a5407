//! `chainproof build --platform macos`: the containers Mac lures travel in,
//! read by tools chainproof does not contain (p7zip's `7z`, which reads
//! UDIF, MBR and FAT; Python's plistlib; Info-ZIP's `unzip`).

use std::path::Path;
use std::process::Command as Std;

use crate::artifacts::{TOKEN, build_all, run, tool};

/// The disk image is UDIF (7-Zip opens it as `Dmg`, not an ISO renamed),
/// every checksum in it verifies, and it holds an `.app` bundle whose
/// program is the stage program and whose Info.plist names that program.
#[test]
fn the_dmg_is_udif_holding_an_app_bundle() {
    if !tool("7z") || !tool("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let built = build_all("macos", &dir.path().join("macos"), "/tmp/w");
    let dmgs: Vec<_> = built.iter().filter(|(_, k, _)| k == "dmg").collect();
    assert!(!dmgs.is_empty(), "no dmg among {built:?}");
    for (id, _, path) in dmgs {
        let listing = run(Std::new("7z").args(["l", "-slt"]).arg(path));
        assert!(listing.contains("Type = Dmg"), "{id}: {listing}");
        assert!(listing.contains("File System = FAT16"), "{id}: {listing}");
        assert!(!listing.contains("WARNINGS"), "{id}: {listing}");
        assert!(
            !listing.to_lowercase().contains("label = chainproof"),
            "{id}: the volume names the tool: {listing}"
        );
        let exe = format!("Setup-{TOKEN}");
        let program = format!("{exe}.app/Contents/MacOS/{exe}");
        assert!(
            listing.contains(&format!("Path = {program}\n")),
            "{id}: {listing}"
        );
        let tested = run(Std::new("7z").arg("t").arg(path));
        assert!(tested.contains("Everything is Ok"), "{id}: {tested}");

        let out = dir.path().join(format!("x-{id}"));
        run(Std::new("7z")
            .args(["x", "-y"])
            .arg(format!("-o{}", out.display()))
            .arg(path));
        // build_all gives macOS builds a minimal Mach-O as the stage program.
        let stage = crate::testing::tiny_macho(0x0100_0007);
        let inside = std::fs::read(out.join(&program)).unwrap();
        assert!(
            inside.starts_with(&stage),
            "{id}: the program is not the stage program"
        );
        let plist = plist_keys(&out.join(format!("{exe}.app/Contents/Info.plist")));
        assert_eq!(plist["CFBundleExecutable"], exe.as_str(), "{id}");
        assert_eq!(plist["CFBundleName"], exe.as_str(), "{id}");
        assert_eq!(plist["CFBundlePackageType"], "APPL", "{id}");
        assert!(
            plist["CFBundleIdentifier"]
                .as_str()
                .is_some_and(|s| s.starts_with("com.") && !s.contains("chainproof")),
            "{id}: {plist}"
        );
    }
}

/// The property list as Python's plistlib reads it, as JSON.
fn plist_keys(path: &Path) -> serde_json::Value {
    let script = "import plistlib,sys,json\n\
                  print(json.dumps(plistlib.load(open(sys.argv[1],'rb'))))";
    let text = run(Std::new("python3").args(["-c", script]).arg(path));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A `.command` reaches macOS inside a ZIP whose entry carries mode 0755,
/// so the extracted script is executable as Terminal requires: `unzip`
/// restores the mode, and 7-Zip shows it in the entry's attributes.
#[test]
fn a_command_travels_in_a_zip_that_keeps_its_execute_bit() {
    use std::os::unix::fs::PermissionsExt;
    if !tool("unzip") || !tool("7z") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let built = build_all("macos", &dir.path().join("macos"), "/tmp/w");
    assert!(
        !built.iter().any(|(_, k, _)| k == "command"),
        "a .command is built bare: {built:?}"
    );
    let mut commands = 0;
    for (id, kind, path) in built.iter().filter(|(_, k, _)| k == "zip") {
        let out = dir.path().join(format!("unzipped-{id}"));
        run(Std::new("unzip").arg("-q").arg(path).arg("-d").arg(&out));
        for entry in std::fs::read_dir(&out).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".command") {
                continue;
            }
            commands += 1;
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o755, "{id} ({kind}): {name} extracted {mode:o}");
            let listing = run(Std::new("7z").args(["l", "-slt"]).arg(path));
            assert!(
                listing.contains(&format!("Path = {name}\n")) && listing.contains("-rwxr-xr-x"),
                "{id}: {listing}"
            );
        }
    }
    assert!(commands >= 2, "only {commands} .command files in zips");
}
