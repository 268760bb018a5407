//! A build folder carried to a fresh directory, its Linux lures placed as
//! its README says and opened by hand as a user would (dex on the
//! `.desktop`, LibreOffice on the `.odt`, the file manager's association on
//! the script), each chain judged by `check-build`.

use std::path::{Path, PathBuf};
use std::process::Command as Std;
use std::time::{Duration, Instant};

use assert_cmd::Command;

use crate::common::*;

const TOKEN: &str = "cp0a1b2c3d4e";

/// Copies the folder `from` to `to`, files and subfolders.
fn carry(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            carry(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn check_build(folder: &Path, id: &str) -> Command {
    let mut cmd = Command::cargo_bin("chainproof").unwrap_or_else(|e| panic!("binary: {e}"));
    cmd.arg("check-build").arg(folder).args(["--scenario", id]);
    cmd
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Places a scenario's files and lure where the manifest says.
fn place(folder: &Path, s: &serde_json::Value) -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let files = s["files"].as_array().cloned().unwrap_or_default();
    for f in files.iter().chain(std::iter::once(&s["lure"])) {
        let from = folder.join(f["file"].as_str().ok_or("file")?);
        let to = PathBuf::from(f["place"].as_str().ok_or("place")?);
        std::fs::create_dir_all(to.parent().ok_or("no parent")?)?;
        std::fs::copy(&from, &to)?;
        if f["executable"] == true {
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(())
}

/// Opens the lure as the README says and waits for the proof; the opener
/// (a process group this test started) is ended afterwards, as a user
/// closes the application.
fn open(s: &serde_json::Value, proof: &Path) -> TestResult {
    use std::os::unix::process::CommandExt;
    let command = strings(&s["open"]["command"]);
    // Without a real opener, the file manager's association starts the
    // chain's first program on the file.
    let argv = if command.is_empty() {
        strings(&s["chain"][0])
    } else {
        command
    };
    let mut cmd = Std::new(&argv[0]);
    cmd.args(&argv[1..]).process_group(0);
    for pair in s["open"]["env"].as_array().cloned().unwrap_or_default() {
        let (k, v) = (
            pair[0].as_str().ok_or("env")?,
            pair[1].as_str().ok_or("env")?,
        );
        std::fs::create_dir_all(v)?;
        cmd.env(k, v);
    }
    let mut child = cmd.spawn()?;
    // A generous bound for LibreOffice's first start, not a timing claim.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !proof.exists() && Instant::now() < deadline {
        if child.try_wait()?.is_some_and(|st| !st.success()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let pgid = nix::unistd::Pid::from_raw(i32::try_from(child.id())?);
    let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGTERM);
    let _ = child.wait();
    Ok(())
}

#[test]
fn linux_lures_opened_by_hand_from_a_carried_folder_reach_their_proof() -> TestResult {
    if !(require_tool("dex") && require_tool("soffice")) {
        return Ok(());
    }
    let _host = host();
    let dir = tempfile::tempdir()?;
    let workdir = dir.path().join("lab").join(format!("chainproof-{TOKEN}"));
    let built = dir.path().join("built");
    let ids = ["shortcut-script", "macro-doc-shell", "script-double-click"];
    stdout_ok(
        Command::cargo_bin("chainproof")?
            .arg("build")
            .args(ids)
            .args(["--platform", "linux", "--token", TOKEN, "--out"])
            .arg(&built)
            .arg("--workdir")
            .arg(&workdir),
    );
    let folder = dir.path().join("carried");
    carry(&built, &folder)?;
    drop(std::fs::remove_dir_all(&built));
    let m = read_json(&folder.join("chainproof-build.json"));
    let scenarios = m["scenarios"].as_array().ok_or("no scenarios")?;
    assert_eq!(scenarios.len(), ids.len(), "{m}");
    for s in scenarios {
        let id = s["id"].as_str().ok_or("id")?;
        let proof = PathBuf::from(s["proof"]["path"].as_str().ok_or("proof")?);
        assert!(
            proof.starts_with(&workdir),
            "{id}: proof outside the temp dir"
        );
        place(&folder, s)?;
        // Not yet opened: the judge fails.
        stderr_or_stdout_with(check_build(&folder, id), 1, "no proof at");
        open(s, &proof)?;
        assert!(
            proof.exists(),
            "{id}: opened by hand, the chain left no proof"
        );
        let said = stdout_ok(check_build(&folder, id));
        assert!(said.starts_with(&format!("passed\t{id}")), "{said}");
        std::fs::remove_file(&proof)?;
    }
    Ok(())
}

/// Runs `cmd`, expects `code` and `want` in its output.
fn stderr_or_stdout_with(mut cmd: Command, code: i32, want: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("run: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(code), "{text}");
    assert!(text.contains(want), "{text}");
}
