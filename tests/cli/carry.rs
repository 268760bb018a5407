//! `chainproof build` writes a carryable folder: the lures, every other
//! file their chains need under `run-dir/`, a README and the manifest
//! `check-build` judges a hand-run chain by.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::*;

const TOKEN: &str = "cp0123456789";

fn build(platform: &str, ids: &[&str], out: &Path, workdir: Option<&Path>) -> TestResult {
    let mut cmd = Command::cargo_bin("chainproof")?;
    cmd.arg("build")
        .args(ids)
        .args(["--platform", platform, "--token", TOKEN, "--out"])
        .arg(out);
    if let Some(w) = workdir {
        cmd.arg("--workdir").arg(w);
    }
    stdout_ok(cmd);
    Ok(())
}

/// The Windows shortcut's folder holds the script the shortcut starts, the
/// manifest says where it goes and its hash, and the README says so too.
#[test]
fn a_shortcut_folder_holds_the_script_it_starts() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out");
    build("windows", &["shortcut-script"], &out, None)?;
    let script = format!("run-dir/launch-{TOKEN}.ps1");
    let bytes = std::fs::read(out.join(&script))?;
    let m = read_json(&out.join("chainproof-build.json"));
    assert_eq!(m["workdir"], format!(r"C:\chainproof-{TOKEN}"));
    let s = &m["scenarios"][0];
    assert_eq!(s["id"], "shortcut-script");
    let files = s["files"].as_array().ok_or("no files")?;
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0]["file"], script.as_str());
    assert_eq!(
        files[0]["place"],
        format!(r"C:\chainproof-{TOKEN}\launch-{TOKEN}.ps1")
    );
    assert_eq!(files[0]["sha256"], hex::encode(Sha256::digest(&bytes)));
    // The shortcut's arguments name exactly that place.
    let lnk = std::fs::read(out.join(format!("Invoice-{TOKEN}.pdf.lnk")))?;
    let utf16: Vec<u8> = format!("launch-{TOKEN}.ps1")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert!(
        lnk.windows(utf16.len()).any(|w| w == utf16),
        "the .lnk names another script"
    );
    assert_eq!(
        s["proof"]["path"],
        format!(r"C:\chainproof-{TOKEN}\proof-{TOKEN}.txt")
    );
    assert_eq!(s["proof"]["contains"], TOKEN);
    let readme = std::fs::read_to_string(out.join("README.txt"))?;
    assert!(
        readme.contains(&format!(
            r"Copy {script}  ->  C:\chainproof-{TOKEN}\launch-{TOKEN}.ps1"
        )),
        "{readme}"
    );
    assert!(readme.contains("chainproof check-build"), "{readme}");
    Ok(())
}

/// Every launcher that starts a staged script gets it, on each platform:
/// the `.desktop`'s `.sh`, the `.lnk`'s `.ps1`, the `.command`'s script.
#[test]
fn every_platforms_launcher_gets_its_script() -> TestResult {
    let dir = tempfile::tempdir()?;
    for (platform, ext) in [("linux", "sh"), ("windows", "ps1"), ("macos", "command")] {
        let out = dir.path().join(platform);
        build(platform, &["shortcut-script"], &out, None)?;
        let m: Value = read_json(&out.join("chainproof-build.json"));
        let file = &m["scenarios"][0]["files"][0]["file"];
        assert_eq!(file, &format!("run-dir/launch-{TOKEN}.{ext}"), "{platform}");
        assert!(out.join(format!("run-dir/launch-{TOKEN}.{ext}")).is_file());
    }
    Ok(())
}

/// The judge refuses a folder whose files changed, a manifest with a wrong
/// field, and scenarios sharing one proof file judged together; it passes
/// a proof copied back with --proofs that holds the token.
#[test]
fn check_build_names_the_file_and_field_it_refuses() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("out");
    build(
        "windows",
        &["shortcut-script", "macro-doc-shell"],
        &out,
        None,
    )?;
    let judge = |args: &[&str]| -> Result<Command, Box<dyn std::error::Error>> {
        let mut cmd = Command::cargo_bin("chainproof")?;
        cmd.arg("check-build").arg(&out).args(args);
        Ok(cmd)
    };
    let err = stderr_with(judge(&[])?, 2);
    assert!(
        err.contains("write the same proof") && err.contains("--scenario ID"),
        "{err}"
    );
    let proofs = dir.path().join("proofs");
    std::fs::create_dir_all(&proofs)?;
    let proof = proofs.join(format!("proof-{TOKEN}.txt"));
    std::fs::write(&proof, "wrong\r\n")?;
    let args = ["--scenario", "shortcut-script", "--proofs"];
    let mut cmd = judge(&args)?;
    let said = stdout_of(cmd.arg(&proofs), 1);
    assert!(said.contains("does not hold cp0123456789"), "{said}");
    std::fs::write(&proof, format!("{TOKEN} \r\n"))?;
    stdout_ok(judge(&args)?.arg(&proofs));
    std::fs::write(out.join(format!("run-dir/launch-{TOKEN}.ps1")), "changed")?;
    let err = stderr_with(judge(&args)?.arg(&proofs), 2);
    assert!(
        err.contains("scenarios[1] (shortcut-script).files[0]: sha256:"),
        "{err}"
    );
    let manifest = out.join("chainproof-build.json");
    let text = std::fs::read_to_string(&manifest)?.replace("\"workdir\"", "\"workdir_\"");
    std::fs::write(&manifest, text)?;
    let err = stderr_with(judge(&[])?, 2);
    assert!(
        err.contains("chainproof-build.json: unknown field `workdir_`"),
        "{err}"
    );
    Ok(())
}

fn stdout_of(cmd: &mut Command, code: i32) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run: {e}"));
    assert_eq!(out.status.code(), Some(code), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
