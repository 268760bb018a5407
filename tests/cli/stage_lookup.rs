//! `chainproof build`'s stage program for another platform: found where
//! cargo or a release leaves it, refused when built for another platform,
//! and, when missing, a message that says where it looked and how to make
//! one.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

use crate::common::*;
use crate::testing::{tiny_macho, tiny_pe};

const TOKEN: &str = "cp0123456789";

/// This binary under `<dir>/target/debug/chainproof`, as cargo lays it out
/// (a hard link where the file system allows, so nothing large is copied).
fn cargo_layout(dir: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let debug = dir.join("target").join("debug");
    std::fs::create_dir_all(&debug)?;
    let exe = debug.join("chainproof");
    let built = assert_cmd::cargo::cargo_bin("chainproof");
    if std::fs::hard_link(&built, &exe).is_err() {
        std::fs::copy(&built, &exe)?;
    }
    Ok(exe)
}

fn build_iso(exe: &Path, platform: &str, out: &Path) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args([
        "build",
        "iso-exec",
        "--platform",
        platform,
        "--token",
        TOKEN,
    ])
    .arg("--out")
    .arg(out)
    .env_remove("CHAINPROOF_STAGE_WINDOWS")
    .env_remove("CHAINPROOF_STAGE_MACOS");
    cmd
}

/// `cargo build --target x86_64-pc-windows-gnu` leaves the program where
/// `build --platform windows` finds it without `--stage`, and the image
/// carries exactly those bytes.
#[test]
fn a_windows_stage_program_is_found_in_cargos_target_folder() -> TestResult {
    let dir = tempfile::tempdir()?;
    let exe = cargo_layout(dir.path())?;
    let out = dir.path().join("out");
    let missing = stderr_with(build_iso(&exe, "windows", &out), 3);
    assert!(
        missing.contains("x86_64-pc-windows-gnu/debug/chainproof.exe")
            && missing.contains("cargo build --target x86_64-pc-windows-gnu"),
        "{missing}"
    );
    let win = dir.path().join("target/x86_64-pc-windows-gnu/release");
    std::fs::create_dir_all(&win)?;
    let pe = tiny_pe(0x8664, false);
    std::fs::write(win.join("chainproof.exe"), &pe)?;
    stdout_ok(build_iso(&exe, "windows", &out));
    let iso = std::fs::read(out.join(format!("Invoice-{TOKEN}.iso")))?;
    assert!(
        iso.windows(pe.len()).any(|w| w == pe.as_slice()),
        "the image does not hold the found program"
    );
    Ok(())
}

/// The variable names the program for its platform; a release-named file
/// beside the binary is found too.
#[test]
fn the_variable_and_a_release_named_file_are_found() -> TestResult {
    let dir = tempfile::tempdir()?;
    let exe = cargo_layout(dir.path())?;
    let macho = dir.path().join("mac-build");
    std::fs::write(&macho, tiny_macho(0x0100_000c))?;
    let out = dir.path().join("out");
    stdout_ok(build_iso(&exe, "macos", &out).env("CHAINPROOF_STAGE_MACOS", &macho));
    std::fs::write(
        dir.path().join("target/debug/chainproof-macos"),
        tiny_macho(0x0100_0007),
    )?;
    stdout_ok(build_iso(&exe, "macos", &out));
    Ok(())
}

/// With no macOS program anywhere, the error says it needs a Mac and what
/// to run there.
#[test]
fn a_missing_macos_stage_program_says_it_needs_a_mac() -> TestResult {
    let dir = tempfile::tempdir()?;
    let exe = cargo_layout(dir.path())?;
    let err = stderr_with(build_iso(&exe, "macos", &dir.path().join("out")), 3);
    assert!(
        err.contains("needs a Mac")
            && err.contains("CHAINPROOF_STAGE_MACOS")
            && err.contains("aarch64-apple-darwin")
            && err.contains("pass --stage FILE"),
        "{err}"
    );
    Ok(())
}

/// A program for another platform, or one that is not there, is refused
/// before anything is written, naming the path and what it is.
#[test]
fn a_stage_program_for_another_platform_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let elf = assert_cmd::cargo::cargo_bin("chainproof");
    let pe = dir.path().join("chainproof.exe");
    std::fs::write(&pe, tiny_pe(0x8664, false))?;
    let cases: [(&str, &Path, &str); 4] = [
        (
            "windows",
            &elf,
            "is an ELF x86-64 executable; windows needs a PE executable (x86-64 or arm64)",
        ),
        (
            "macos",
            &pe,
            "is a PE x86-64 executable; macos needs a Mach-O executable",
        ),
        (
            "linux",
            &pe,
            "is a PE x86-64 executable; linux needs an ELF executable",
        ),
        (
            "windows",
            Path::new("/nonexistent/chainproof.exe"),
            "/nonexistent/chainproof.exe",
        ),
    ];
    for (platform, stage, want) in cases {
        let out = dir.path().join(format!("out-{platform}"));
        let err = stderr_with(
            Command::cargo_bin("chainproof")?
                .args(["build", "--platform", platform, "--out"])
                .arg(&out)
                .arg("--stage")
                .arg(stage),
            2,
        );
        assert!(err.contains(want), "{platform}: {err}");
        assert!(err.contains(&stage.display().to_string()), "{err}");
        assert!(!out.exists(), "{platform}: wrote {out:?} after refusing");
    }
    Ok(())
}

/// The Windows build ci/test makes is found without `--stage`, and every
/// program `build --platform windows` writes, alone or inside a disk image,
/// is a PE executable (the third-party `file` and 7-Zip say so).
#[test]
fn every_windows_program_and_image_member_is_the_windows_build() -> TestResult {
    let linux = assert_cmd::cargo::cargo_bin("chainproof");
    let windows = linux
        .parent()
        .and_then(Path::parent)
        .map(|t| t.join("x86_64-pc-windows-gnu/stage/chainproof.exe"))
        .ok_or("no target folder")?;
    if !require(
        windows.is_file(),
        format_args!("the Windows build at {} (ci/test)", windows.display()),
    ) || !require_tool("file")
        || !require_tool("7z")
    {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out");
    let mut cmd = Command::new(&linux);
    cmd.args(["build", "--platform", "windows", "--token", TOKEN])
        .arg("--out")
        .arg(&out)
        .env_remove("CHAINPROOF_STAGE_WINDOWS");
    stdout_ok(cmd);
    let pe = |path: &Path| -> Result<(), Box<dyn std::error::Error>> {
        let said = std::process::Command::new("file")
            .arg("-b")
            .arg(path)
            .output()?;
        let said = String::from_utf8_lossy(&said.stdout).to_string();
        assert!(
            said.starts_with("PE32+ executable"),
            "{}: {said}",
            path.display()
        );
        Ok(())
    };
    let mut programs = 0;
    let mut members = 0;
    for path in entries(&out) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if name.ends_with(".exe") || name.ends_with(".cpl") {
            pe(&path)?;
            programs += 1;
        }
        if name.ends_with(".iso") || name.ends_with(".img") || name.ends_with(".vhd") {
            let inside = dir.path().join(format!("x-{name}"));
            let x = std::process::Command::new("7z")
                .args(["x", "-y", "-bd"])
                .arg(format!("-o{}", inside.display()))
                .arg(&path)
                .output()?;
            assert!(x.status.success(), "7z x {}: {x:?}", path.display());
            let exes: Vec<PathBuf> = walk(&inside)
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("exe")))
                .collect();
            assert!(!exes.is_empty(), "{name} holds no program");
            for exe in exes {
                pe(&exe)?;
                members += 1;
            }
        }
    }
    // The executable-download program and the Control Panel item; one
    // program in each of the ISO, IMG and VHD scenarios' images.
    assert!(
        programs >= 2 && members >= 3,
        "{programs} programs, {members} image members"
    );
    Ok(())
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
