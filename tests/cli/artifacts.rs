//! `chainproof build`: every shipped scenario's artifact for every platform,
//! checked by parsers chainproof does not contain (lnkinfo, LnkParse3,
//! olevba, LibreOffice, isoinfo, xorriso, qemu-img, pdfinfo, file).

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use assert_cmd::Command;

use crate::common::*;

pub(crate) const TOKEN: &str = "cp0123456789";

/// A tool the checks need; CI must have it (ci/test installs it).
pub(crate) fn tool(name: &str) -> bool {
    require_tool(name)
}

pub(crate) fn run(cmd: &mut Std) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed: {text}");
    text
}

/// Builds every scenario's artifact for `platform`; returns (scenario, kind, path).
pub(crate) fn build_all(
    platform: &str,
    out: &Path,
    workdir: &str,
) -> Vec<(String, String, PathBuf)> {
    let stage = stage_for(platform, out);
    let output = Command::cargo_bin("chainproof")
        .unwrap_or_else(|e| panic!("binary: {e}"))
        .args([
            "build",
            "--platform",
            platform,
            "--token",
            TOKEN,
            "--workdir",
            workdir,
        ])
        .arg("--out")
        .arg(out)
        .arg("--stage")
        .arg(&stage)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8_lossy(&output)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(f.len() >= 3, "unexpected build line {l:?}");
            (f[0].to_string(), f[1].to_string(), PathBuf::from(f[2]))
        })
        .collect()
}

/// A stage program `build` takes for `platform`: this binary for Linux; for
/// the others the smallest PE or Mach-O executable (its headers are all the
/// format checks here read), written beside `out`.
fn stage_for(platform: &str, out: &Path) -> PathBuf {
    let bytes = match platform {
        "windows" => crate::testing::tiny_pe(0x8664, false),
        "macos" => crate::testing::tiny_macho(0x0100_0007),
        _ => return assert_cmd::cargo::cargo_bin("chainproof"),
    };
    let path = out.with_extension("stage");
    std::fs::create_dir_all(out.parent().unwrap_or(out))
        .and_then(|()| std::fs::write(&path, bytes))
        .unwrap_or_else(|e| panic!("write {path:?}: {e}"));
    path
}

/// What `file` must say about each kind.
fn file_says(kind: &str) -> &'static [&'static str] {
    match kind {
        "docm" => &["Microsoft Word 2007+"],
        "xlsm" => &["Microsoft Excel 2007+"],
        "lnk" => &["MS Windows shortcut"],
        "pdf" => &["PDF document"],
        "rtf" => &["Rich Text Format"],
        "iso" | "img" => &["ISO 9660"],
        // UDIF starts with its first zlib chunk; the `koly` trailer is at
        // the end, where `file` does not look (real DMGs read the same).
        "dmg" => &["zlib compressed data"],
        // A fixed VHD starts with the raw disk; its footer is at the end.
        "vhd" => &["DOS/MBR boot sector"],
        "reg" => &["Windows Registry"],
        "hta" => &["HTML document"],
        "odt-macro" => &["OpenDocument Text"],
        "script" | "command" => &["shell script"],
        "executable" | "cpl" => &["ELF"],
        "js" | "vbs" | "applescript" | "text" => &["text"],
        "desktop-entry" => &["desktop entry", "text"],
        "zip" => &["Zip archive data"],
        "7z" => &["7-zip archive data"],
        _ => &[],
    }
}

#[test]
fn every_artifact_is_recognised_by_file() -> TestResult {
    if !tool("file") {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let mut kinds = std::collections::BTreeSet::new();
    for (platform, workdir) in [
        ("linux", "/tmp/chainproof-cp0123456789"),
        (
            "windows",
            r"C:\Users\lab\AppData\Local\Temp\chainproof-cp0123456789",
        ),
        ("macos", "/tmp/chainproof-cp0123456789"),
    ] {
        for (id, kind, path) in build_all(platform, &dir.path().join(platform), workdir) {
            let said = run(Std::new("file").arg("-b").arg(&path));
            // A program is the format of the stage program for its platform.
            let want: &[&str] = match (kind.as_str(), platform) {
                ("executable" | "cpl", "windows") => &["PE32+"],
                ("executable" | "cpl", "macos") => &["Mach-O"],
                ("executable" | "cpl", _) => &["ELF"],
                _ => file_says(&kind),
            };
            assert!(!want.is_empty(), "no expectation for kind {kind}");
            assert!(
                want.iter().any(|w| said.contains(w)),
                "{id} ({platform}, {kind}): file says {said:?}, wanted one of {want:?}"
            );
            kinds.insert(kind);
        }
    }
    // Every artifact kind a shipped scenario uses was checked.
    assert!(kinds.len() >= 18, "only {kinds:?}");
    Ok(())
}

#[test]
fn shortcuts_resolve_to_their_target_arguments_and_folder_in_lnkinfo_and_lnkparse() -> TestResult {
    if !tool("lnkinfo") || !tool("lnkparse") {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let workdir = r"C:\Users\lab\AppData\Local\Temp\chainproof-cp0123456789";
    let built = build_all("windows", dir.path(), workdir);
    let lnks: Vec<_> = built.iter().filter(|(_, k, _)| k == "lnk").collect();
    assert!(!lnks.is_empty(), "no shortcut among {built:?}");
    for (id, _, path) in lnks {
        let info = run(Std::new("lnkinfo").arg(path));
        let field = |name: &str| {
            info.lines()
                .find(|l| l.trim_start().starts_with(name))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            field("Local path"),
            r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
            "{id}: {info}"
        );
        assert_eq!(field("Working directory"), workdir, "{id}");
        assert_eq!(
            field("Command line arguments"),
            format!(r#"-NoProfile -ExecutionPolicy Bypass -File {workdir}\launch-{TOKEN}.ps1"#),
            "{id}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&run(Std::new("lnkparse").arg("-j").arg(path)))?;
        assert_eq!(
            json["link_info"]["local_base_path"],
            r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
        );
        assert_eq!(json["data"]["working_directory"], workdir);
        assert!(
            json["data"]["command_line_arguments"]
                .as_str()
                .is_some_and(|a| a.contains(&format!("launch-{TOKEN}.ps1"))),
            "{json:#}"
        );
    }
    Ok(())
}

#[test]
fn olevba_extracts_the_macro_with_the_run_token_from_every_office_document() -> TestResult {
    if !tool("olevba") {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let mut seen = 0;
    for platform in ["windows", "macos", "linux"] {
        let out = dir.path().join(platform);
        for (id, kind, path) in build_all(platform, &out, "/tmp/chainproof-cp0123456789") {
            if kind != "docm" && kind != "xlsm" {
                continue;
            }
            seen += 1;
            let text = run(Std::new("olevba").arg("-c").arg(&path));
            assert!(text.contains("Shell "), "{id}: {text}");
            assert!(text.contains(TOKEN), "{id}: macro lacks the token: {text}");
            let auto = if kind == "docm" {
                "AutoOpen"
            } else {
                "Workbook_Open"
            };
            assert!(text.contains(auto), "{id}: no {auto}: {text}");
        }
    }
    assert!(seen >= 4, "only {seen} office documents");
    Ok(())
}

#[test]
fn libreoffice_converts_every_document_to_pdf() -> TestResult {
    if !tool("soffice") {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let built = build_all(
        "windows",
        &dir.path().join("in"),
        r"C:\t\chainproof-cp0123456789",
    );
    let docs: Vec<&PathBuf> = built
        .iter()
        .filter(|(_, k, _)| matches!(k.as_str(), "docm" | "xlsm" | "rtf"))
        .map(|(_, _, p)| p)
        .collect();
    assert!(docs.len() >= 3, "{built:?}");
    let out = dir.path().join("pdf");
    let profile = format!(
        "-env:UserInstallation=file://{}",
        dir.path().join("profile").display()
    );
    let mut cmd = Std::new("soffice");
    cmd.args([
        "--headless",
        "--norestore",
        &profile,
        "--convert-to",
        "pdf",
        "--outdir",
    ])
    .arg(&out)
    .args(&docs)
    .env("HOME", dir.path());
    run(&mut cmd);
    for doc in docs {
        let pdf = out.join(doc.with_extension("pdf").file_name().unwrap_or_default());
        let len = std::fs::metadata(&pdf).map(|m| m.len()).unwrap_or(0);
        assert!(len > 500, "{} did not convert ({len} bytes)", doc.display());
    }
    Ok(())
}

/// A listing line of the image's program (`Setup-<token>`, or another
/// name the scenario gives it, such as `Tracking-<token>`): the image holds
/// no other entry with the token.
fn is_program(line: &str) -> bool {
    line.contains(&format!("-{TOKEN}"))
}

#[test]
fn disk_images_list_the_program_with_its_mode_in_isoinfo_xorriso_and_qemu_img() -> TestResult {
    if !tool("isoinfo") || !tool("xorriso") || !tool("qemu-img") {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let mut images = 0;
    for platform in ["linux", "windows", "macos"] {
        for (id, kind, path) in build_all(platform, &dir.path().join(platform), "/tmp/w") {
            match kind.as_str() {
                "iso" | "img" => {
                    images += 1;
                    let listing = run(Std::new("isoinfo").args(["-R", "-l", "-i"]).arg(&path));
                    let line = listing
                        .lines()
                        .find(|l| is_program(l))
                        .unwrap_or_else(|| panic!("{id}: no program in {listing}"));
                    assert!(line.contains("xr-xr-x "), "{id}: not executable: {line}");
                    let x = run(Std::new("xorriso")
                        .args(["-indev"])
                        .arg(&path)
                        .args(["-find", "/", "-type", "f", "-exec", "lsdl"]));
                    assert!(
                        x.lines().any(|l| is_program(l) && l.contains("xr-xr-x ")),
                        "{id}: {x}"
                    );
                }
                "vhd" => {
                    images += 1;
                    let info: serde_json::Value = serde_json::from_str(&run(Std::new("qemu-img")
                        .args(["info", "--output=json", "-f", "vpc"])
                        .arg(&path)))?;
                    assert_eq!(info["format"], "vpc", "{id}");
                }
                _ => {}
            }
        }
    }
    assert!(images >= 5, "only {images} images");
    Ok(())
}

/// The archives `build` writes pass 7-Zip's integrity test with the
/// password the scenario's lure gives (and fail it without), and libarchive
/// lists a plain one's member.
#[test]
fn archives_pass_7z_test_with_the_lures_password() -> TestResult {
    if !tool("7z") || !tool("bsdtar") {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let mut archives = 0;
    for platform in ["linux", "windows"] {
        for (id, kind, path) in build_all(platform, &dir.path().join(platform), "/tmp/w") {
            if kind != "zip" && kind != "7z" {
                continue;
            }
            archives += 1;
            let password = match id.as_str() {
                "zip-iso" => Some("INV2291".to_string()),
                "sevenz-shortcut" => Some("scan-4471".to_string()),
                "mail-zip-shortcut" => Some(format!("RA-{TOKEN}")),
                _ => None,
            };
            let test = |pw: &str| {
                Std::new("7z")
                    .args(["t", &format!("-p{pw}")])
                    .arg(&path)
                    .output()
                    .map(|o| {
                        (
                            o.status.success(),
                            String::from_utf8_lossy(&o.stdout).into_owned(),
                        )
                    })
                    .unwrap_or_else(|e| panic!("run 7z: {e}"))
            };
            let (ok, said) = test(password.as_deref().unwrap_or(""));
            assert!(
                ok && said.contains("Everything is Ok"),
                "{id} ({platform}): {said}"
            );
            match password {
                Some(_) => assert!(!test("wrong").0, "{id}: a wrong password passed"),
                None => {
                    let listed = run(Std::new("bsdtar").arg("-tf").arg(&path));
                    assert!(listed.contains(TOKEN), "{id}: bsdtar lists {listed}");
                }
            }
        }
    }
    assert!(archives >= 6, "only {archives} archives");
    Ok(())
}

/// A downloaded program started by a desktop shell gets no environment from
/// the harness: its own instruction trailer still makes it the stage
/// program, which runs the one command it carries (not chainproof's CLI).
#[test]
fn a_downloaded_program_runs_its_instruction_without_the_harness_environment() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir()?;
    let workdir = dir.path().join("chainproof-cp0123456789");
    std::fs::create_dir_all(&workdir)?;
    let stage = assert_cmd::cargo::cargo_bin("chainproof");
    Command::cargo_bin("chainproof")?
        .args([
            "build",
            "executable-download",
            "--platform",
            "linux",
            "--token",
            TOKEN,
        ])
        .arg("--workdir")
        .arg(&workdir)
        .arg("--out")
        .arg(dir.path())
        .arg("--stage")
        .arg(&stage)
        .assert()
        .success();
    let program = dir.path().join(format!("Setup-{TOKEN}"));
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755))?;
    let status = Std::new(&program)
        .env_remove("CHAINPROOF_STAGE_REPORT")
        .env_remove("CHAINPROOF_TOKEN")
        .status()?;
    assert!(status.success());
    let proof = workdir.join(format!("proof-{TOKEN}.txt"));
    assert!(proof.exists(), "the program did not run its instruction");
    Ok(())
}
