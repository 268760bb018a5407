//! The Windows build run for real, under Wine: its chains start Wine's own
//! cmd.exe, findstr.exe, regedit.exe and wscript.exe, and the Windows
//! ground-truth code (the process table, the stage reports, parent pids,
//! Mark-of-the-Web streams) records them. The kernel's process connector
//! watches the same processes from the Linux side, and each hop the Windows
//! record names must be there too, with the same parent. Such runs are
//! labelled `environment: wine`: they test chainproof's Windows code, they
//! do not validate a Windows sensor.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as Std;

use chainproof::capture::{Capture, CaptureReport, Observed};
use serde_json::Value;

use crate::common::{TestResult, host, read_json, require, require_root, require_tool};

/// The Windows scenarios whose programs Wine provides: the stage program as
/// WINWORD.EXE, EXCEL.EXE, OUTLOOK.EXE, AcroRd32.exe and explorer.exe (reading
/// the macro, the DDE field, the message, the page's link, the download's
/// trailer), Wine's regedit.exe importing a `.reg`, its wscript.exe running
/// `.vbs` and `.js`, its control.exe and rundll32.exe loading a `.cpl`, and
/// its cmd.exe and findstr.exe after them; one negative control. What Wine
/// lacks (PowerShell, Mount-DiskImage, mshta's script engine) is said in
/// docs/platforms.md.
const UNDER_WINE: [&str; 10] = [
    "macro-doc-shell",
    "spreadsheet-macro",
    "rtf-dde",
    "reg-import",
    "vbs-wscript",
    "script-double-click",
    "cpl-control",
    "executable-download",
    "mail-macro-doc",
    "control-pdf-browser",
];

/// Wine's loader: Debian installs it outside `PATH`.
fn wine() -> Option<PathBuf> {
    let debian = Path::new("/usr/lib/wine/wine64");
    if debian.exists() {
        return Some(debian.to_path_buf());
    }
    ["wine64", "wine"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(name))
                .find(|p| p.is_file())
        })
    })
}

/// The Windows build ci/test makes (`cargo build --profile stage --target
/// x86_64-pc-windows-gnu`), beside this test's own target folder.
fn windows_build() -> PathBuf {
    let linux = PathBuf::from(env!("CARGO_BIN_EXE_chainproof"));
    let target = linux
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf);
    target.join("x86_64-pc-windows-gnu/stage/chainproof.exe")
}

/// A throw-away Wine prefix with the ProcessPrng stand-in in its system32.
fn prefix(wine: &Path, dir: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let prefix = dir.join("prefix");
    let boot = Std::new(wine)
        .args(["wineboot", "--init"])
        .env("WINEPREFIX", &prefix)
        .env("WINEDEBUG", "-all")
        .output()?;
    assert!(boot.status.success(), "wineboot: {boot:?}");
    // wineboot returns before the prefix's services settle; wait for the
    // server to go idle so its processes are not counted in the run.
    let wait = Std::new(wine.with_file_name("wineserver"))
        .arg("-w")
        .env("WINEPREFIX", &prefix)
        .status()?;
    assert!(wait.success(), "wineserver -w: {wait:?}");
    let dll = prefix.join("drive_c/windows/system32/bcryptprimitives.dll");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wine/bcryptprimitives.c");
    let cc = Std::new("x86_64-w64-mingw32-gcc")
        .args(["-shared", "-O2", "-o"])
        .arg(&dll)
        .arg(&source)
        .arg("-ladvapi32")
        .output()?;
    assert!(cc.status.success(), "mingw: {cc:?}");
    Ok(prefix)
}

/// A command line as a list of words, compared as Windows compares paths:
/// Wine spells `C:\windows\system32` where the scenario has
/// `C:\Windows\System32`, and quotes differ between the two views.
fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches('"').to_ascii_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The Windows command line of a Linux process Wine runs: the loader's
/// argv is `wine64 <windows command line>` at exec, and Wine writes the
/// Windows command line over it (padded with spaces) once it runs.
fn windows_line(o: &Observed) -> Vec<String> {
    let mut w = words(&o.argv.clone().unwrap_or_default().join(" "));
    if w.first()
        .is_some_and(|a| a.ends_with("/wine64") || a.ends_with("/wine"))
    {
        w.remove(0);
    }
    w
}

/// The Linux process that is the Windows record's `process`: the same
/// command line when the Windows process table read one, else the same
/// program started under `parent` (a process that lived less than the
/// table's 25 ms poll keeps only its image from the stage report, or
/// nothing but its pid and parent).
fn linux_twin<'a>(
    linux: &'a CaptureReport,
    process: &Value,
    program: &str,
    parent: Option<&Observed>,
) -> Option<&'a Observed> {
    let line = words(process["command_line"].as_str().unwrap_or_default());
    let program = program
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(program)
        .to_ascii_lowercase();
    let under = |o: &&Observed| parent.is_none_or(|p| descends(linux, o, p));
    let by_line = linux
        .processes
        .iter()
        .filter(under)
        .find(|o| !line.is_empty() && windows_line(o) == line);
    by_line.or_else(|| {
        linux.processes.iter().filter(under).find(|o| {
            windows_line(o)
                .first()
                .is_some_and(|a| a.rsplit(['\\', '/']).next() == Some(program.as_str()))
        })
    })
}

/// Whether `child` descends from `parent` by fork lineage (Wine starts a
/// Windows process through a double fork, so the Linux parent at fork time
/// may be an intermediate copy of the Windows parent).
fn descends(linux: &CaptureReport, child: &Observed, parent: &Observed) -> bool {
    let by_pid: BTreeMap<u32, &Observed> = linux.processes.iter().map(|o| (o.pid, o)).collect();
    let mut at = child.ppid;
    for _ in 0..16 {
        if at == parent.pid {
            return true;
        }
        match by_pid.get(&at) {
            Some(o) => at = o.ppid,
            None => return false,
        }
    }
    false
}

#[test]
fn the_windows_build_runs_its_chains_under_wine_and_the_kernel_sees_the_same_hops() -> TestResult {
    let exe = windows_build();
    if !require_root()
        || !require_tool("x86_64-w64-mingw32-gcc")
        || !require(wine().is_some(), "Wine (Debian's wine64)")
        || !require(
            exe.is_file(),
            format_args!("the Windows build at {}", exe.display()),
        )
    {
        return Ok(());
    }
    let Some(wine) = wine() else {
        return Ok(());
    };
    let _host = host();
    let dir = tempfile::tempdir()?;
    let prefix = prefix(&wine, dir.path())?;
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work)?;

    let capture = Capture::start(&chainproof::token::new());
    let child = Std::new(&wine)
        .arg(&exe)
        .arg("run")
        .args(UNDER_WINE)
        .current_dir(&work)
        .env("WINEPREFIX", &prefix)
        .env("WINEDEBUG", "-all")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    capture.add_root(child.id());
    let output = child.wait_with_output()?;
    let linux = capture.stop();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "chainproof.exe run: {:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );

    let folder = std::fs::read_dir(work.join("reports"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.join("run.json").is_file())
        .ok_or("no report folder")?;
    let record: Value = read_json(&folder.join("run.json"));
    assert_eq!(record["host"]["platform"], "windows");
    assert_eq!(record["host"]["environment"], "wine", "{}", record["host"]);
    assert!(stdout.contains("environment: wine"), "{stdout}");

    // chainproof itself starts nothing but the chains and their cleanup: no
    // `net session` to learn whether it is elevated (the token says so).
    let net: Vec<Vec<String>> = linux
        .processes
        .iter()
        .map(windows_line)
        .filter(|w| {
            w.first()
                .is_some_and(|p| p == "net" || p.ends_with("net.exe"))
        })
        .collect();
    assert!(net.is_empty(), "chainproof.exe started {net:?}");

    // Nothing left in the prefix: every run directory is gone (the reg
    // scenario's key is checked by its own cleanup, recorded per scenario).
    let temp = prefix.join("drive_c/users");
    let left: Vec<PathBuf> = walk(&temp)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("chainproof-cp"))
        })
        .collect();
    assert!(left.is_empty(), "left in the prefix: {left:?}");

    let mut hops = 0;
    let mut both = 0;
    let mut with_line = 0;
    let mut missed: Vec<String> = Vec::new();
    for s in record["scenarios"].as_array().ok_or("no scenarios")? {
        let id = s["id"].as_str().unwrap_or_default();
        let chain = &s["verification"]["chain"];
        if s["negative_control"] == true {
            assert_eq!(chain["verdict"], "observed", "{id}: {chain}");
            assert_eq!(chain["false_positive"], false, "{id}: {chain}");
        } else {
            assert_eq!(chain["verdict"], "alerted", "{id}: {chain}");
        }
        // The Mark-of-the-Web code ran: Wine keeps the Zone.Identifier
        // stream as a file named `<artifact>:Zone.Identifier`, and the
        // record read it back from the artifact.
        let artifact = s["truth"]["files"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["role"] == "artifact"))
            .ok_or(format!("{id}: no artifact"))?;
        assert!(
            artifact["origin"]["Zone.Identifier"]
                .as_str()
                .is_some_and(|z| z.contains("ZoneId=3")),
            "{id}: {artifact}"
        );
        let processes = s["truth"]["processes"].as_array().ok_or("no processes")?;
        let by_pid = |pid: &Value| processes.iter().find(|p| &p["pid"] == pid);
        let mut previous: Option<&Observed> = None;
        let mut at = 0;
        for hop in s["hops"].as_array().ok_or("no hops")? {
            if hop["kind"] != "open" && hop["kind"] != "spawn" {
                continue;
            }
            hops += 1;
            let program = hop["expected"].as_str().unwrap_or_default();
            let windows = if hop["happened"] == true {
                Some(by_pid(&hop["pid"]).ok_or(format!("{id}: no process for {hop}"))?)
            } else {
                None
            };
            // The kernel sees every hop, whatever the Windows view saw.
            let twin = linux_twin(&linux, windows.unwrap_or(&Value::Null), program, previous)
                .ok_or_else(|| {
                    format!(
                        "{id}: the kernel saw no `{program}` under the previous hop; it saw {:#?}",
                        linux
                            .processes
                            .iter()
                            .map(|o| (o.pid, o.ppid, windows_line(o).join(" ")))
                            .collect::<Vec<_>>()
                    )
                })?;
            match windows {
                Some(w) => {
                    both += 1;
                    let line = w["command_line"].as_str().unwrap_or_default();
                    if !line.is_empty() {
                        with_line += 1;
                        assert_eq!(words(line), windows_line(twin), "{id}: not one process");
                    }
                }
                // The opener and what it started are always in the Windows
                // view (the stage program reports both); a later process
                // that lived less than the table's 25 ms poll may not be.
                None => {
                    assert!(at >= 2, "{id}: the Windows record lost {hop}");
                    missed.push(format!("{id}: {program}"));
                }
            }
            previous = Some(twin);
            at += 1;
        }
    }
    assert_eq!(both + missed.len(), hops);
    eprintln!(
        "wine: {} scenarios, {hops} process hops; the process connector saw all {hops} under \
         their parents; the Windows record saw {both} ({with_line} with the command line), each \
         the same process as the connector's; missed by the Windows view: {missed:?}",
        UNDER_WINE.len()
    );
    Ok(())
}

/// Every file and folder under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}
