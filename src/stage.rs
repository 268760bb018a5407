//! The benign stage program: chainproof's own binary, copied under another
//! name (`soffice.bin`, `nautilus`, `Setup-<token>` on a disk image), plays
//! the opener of a file.
//!
//! It reads the one instruction the artifact carries — the macro's `Shell()`
//! call inside an ODT, the `Exec=` line of a desktop entry, or a trailer
//! appended to its own executable, all decoded by
//! [`artifact::instruction`](crate::artifact::instruction) — starts exactly
//! that command, reports
//! itself and its child to the runner, waits for the child and exits. It
//! never starts anything the artifact does not carry, and writes only its
//! report line.

mod handoff;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use serde::{Deserialize, Serialize};

use crate::artifact::instruction::{read_command, read_trailer};
// Kept for callers that built trailers through the stage module before the
// instruction codec moved to `artifact::instruction`.
pub use crate::artifact::instruction::with_trailer;
#[cfg(test)]
use crate::artifact::{desktop, odt};

/// Environment variable naming the report file; its presence (together with
/// an image name that is not `chainproof`) puts the binary in stage mode.
pub const ENV_REPORT: &str = "CHAINPROOF_STAGE_REPORT";
/// Environment variable carrying the run token into every process.
pub const ENV_TOKEN: &str = "CHAINPROOF_TOKEN";
/// Environment variable naming the folder a played mail client saves the
/// attachment it opens in (where that client saves it, inside the run
/// directory).
pub const ENV_SAVE_DIR: &str = "CHAINPROOF_SAVE_DIR";
/// Environment variable naming the folder a played archive tool extracts
/// the member it opens into.
pub const ENV_EXTRACT_DIR: &str = "CHAINPROOF_EXTRACT_DIR";
/// Environment variable carrying an archive's password, which the user
/// types when the archive tool asks for it.
pub const ENV_PASSWORD: &str = "CHAINPROOF_ARCHIVE_PASSWORD";

/// What a stage process reports about itself (one JSON line each).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StageReport {
    /// Its pid.
    pub pid: u32,
    /// Its parent's pid.
    pub ppid: u32,
    /// Its executable path.
    pub exe: String,
    /// Its arguments.
    pub argv: Vec<String>,
    /// Its uid.
    pub uid: u32,
    /// Its working directory.
    pub cwd: Option<String>,
    /// Wall clock at start, nanoseconds since the Unix epoch.
    pub started_unix_ns: i128,
    /// Where the instruction came from (`odt-macro`, `desktop-entry`, `trailer`).
    pub instruction: Option<String>,
    /// The child it started.
    pub child: Option<StageChild>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// Files it wrote as the application it plays (an attachment a mail
    /// client saved, a member an archive tool extracted).
    #[serde(default)]
    pub wrote: Vec<StageWrote>,
}

/// A file a stage process wrote as the application it plays.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StageWrote {
    /// `attachment` (saved from a message) or `extracted` (from an archive).
    pub role: String,
    /// Where.
    pub path: String,
    /// The file it was written from (the message, the archive).
    pub from: String,
    /// What the played application is documented to do with origin marks.
    pub policy: String,
}

/// The child a stage process started.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StageChild {
    /// Its pid.
    pub pid: u32,
    /// Its arguments (argv\[0\] is the program).
    pub argv: Vec<String>,
    /// Wall clock when spawned, nanoseconds since the Unix epoch.
    pub started_unix_ns: i128,
    /// Exit code, if it exited normally.
    pub exit_code: Option<i32>,
}

/// True when this process was started as a stage copy.
pub fn is_stage_invocation() -> bool {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let name = Path::new(&argv0)
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    if name.starts_with("chainproof") {
        return false;
    }
    // Started by the harness (the report variable), or by a desktop shell
    // that took over the open and passed no environment: a stage program
    // carries its instruction, so its own trailer says what it is.
    std::env::var_os(ENV_REPORT).is_some()
        || own_image()
            .ok()
            .is_some_and(|exe| matches!(read_trailer(&exe), Ok(Some(_))))
}

/// Entry point of stage mode.
pub fn main() -> ExitCode {
    let started = now_ns();
    let argv: Vec<String> = std::env::args().collect();
    let exe = std::env::current_exe().unwrap_or_default();
    let mut report = StageReport {
        pid: std::process::id(),
        ppid: crate::platform::host::parent_pid(),
        exe: exe.display().to_string(),
        argv: argv.clone(),
        uid: crate::platform::host::uid(),
        cwd: std::env::current_dir()
            .ok()
            .map(|p| p.display().to_string()),
        started_unix_ns: started,
        instruction: None,
        child: None,
        error: None,
        wrote: Vec::new(),
    };
    let me = exe
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A mail client saves the attachment, an archive tool extracts the
    // member, before the open goes on with what they wrote.
    let env = |k: &str| std::env::var(k).ok();
    let args = handoff::hand_off(&me, &argv[1.min(argv.len())..], &env, &mut report.wrote);
    let code = match args.and_then(|args| instruction(&args, &exe)) {
        Ok((source, command)) => {
            report.instruction = Some(source.to_string());
            run_child(&command, &mut report)
        }
        Err(e) => {
            report.error = Some(e);
            2
        }
    };
    if let Some(path) = std::env::var_os(ENV_REPORT) {
        let _ = append_report(Path::new(&path), &report);
    }
    ExitCode::from(code)
}

fn run_child(command: &[String], report: &mut StageReport) -> u8 {
    let Some((program, args)) = command.split_first() else {
        // A viewer: it opens what it was given and starts nothing.
        report.instruction = Some("viewer".into());
        for arg in report.argv.iter().skip(1) {
            let _ = std::fs::metadata(arg).and_then(|_| std::fs::read(arg));
        }
        return 0;
    };
    let spawned = now_ns();
    match child_command(program, args).spawn() {
        Ok(mut child) => {
            let mut record = StageChild {
                pid: child.id(),
                argv: command.to_vec(),
                started_unix_ns: spawned,
                exit_code: None,
            };
            let status = child.wait();
            record.exit_code = status.ok().and_then(|s| s.code());
            report.child = Some(record);
            0
        }
        Err(e) => {
            report.error = Some(format!("start {program}: {e}"));
            3
        }
    }
}

/// The command to start. cmd.exe parses its own command line, so on
/// Windows the text after `/c` goes to it verbatim, not quoted as argv.
fn child_command(program: &str, args: &[String]) -> Command {
    let mut cmd = Command::new(program);
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        let is_cmd = std::path::Path::new(program)
            .file_name()
            .is_some_and(|n| n.eq_ignore_ascii_case("cmd.exe") || n.eq_ignore_ascii_case("cmd"));
        if is_cmd && args.len() == 2 && args[0].eq_ignore_ascii_case("/c") {
            cmd.arg(&args[0]).raw_arg(&args[1]);
            return cmd;
        }
    }
    cmd.args(args);
    cmd
}

/// Finds the instruction: the stage copy's own trailer (an application that
/// starts a program itself: by file association, as its own helper, or a
/// program that carries its instruction), else the command an opened
/// document among the arguments carries.
fn instruction(args: &[String], exe: &Path) -> Result<(&'static str, Vec<String>), String> {
    if let Some(argv) = read_trailer(exe)? {
        return Ok(("trailer", argv));
    }
    for arg in args {
        let path = Path::new(arg);
        if let Some(found) = read_command(path) {
            let name = match path.extension().and_then(|e| e.to_str()) {
                Some("odt") => "odt-macro",
                Some("desktop") => "desktop-entry",
                Some("docm" | "xlsm") => "vba-macro",
                Some("rtf") => "rtf-ddeauto",
                Some("pdf") => "pdf-launch",
                Some("lnk") => "shortcut",
                _ => "document",
            };
            return found.map(|argv| (name, argv));
        }
    }
    Err("no document among the arguments carries a command, and no instruction trailer".into())
}

fn append_report(path: &Path, report: &StageReport) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(report).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(&line)
}

/// Reads every stage report line of a run; unreadable lines are skipped.
pub fn read_reports(path: &Path) -> Vec<StageReport> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Where the stage program's bytes come from: this very executable.
pub fn own_image() -> std::io::Result<PathBuf> {
    std::env::current_exe()
}

fn now_ns() -> i128 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The emulated opener starts exactly what each artifact carries.
    #[test]
    fn instructions_round_trip_through_each_artifact() -> Result<(), Box<dyn std::error::Error>> {
        use crate::artifact::{ArtifactKind, build as b};
        let dir = tempfile::tempdir()?;
        let plain = dir.path().join("soffice.bin");
        std::fs::write(&plain, b"\x7fELF without trailer.........")?;
        let commands: [&[&str]; 3] = [
            &["/bin/sh", "-c", "date +%s > /w/proof-cp1.txt; exit 0"],
            &["/bin/sh", "/w/launch-cp1.sh", "cp1"],
            &["/usr/bin/printf", "a b $HOME \\ 100% 'q'"],
        ];
        for command in commands {
            let argv: Vec<String> = command.iter().map(|s| s.to_string()).collect();
            for kind in [
                ArtifactKind::OdtMacro,
                ArtifactKind::DesktopEntry,
                ArtifactKind::Docm,
                ArtifactKind::Xlsm,
                ArtifactKind::Pdf,
                ArtifactKind::Rtf,
            ] {
                let name = format!("a-cp1.{}", kind.extension());
                let bytes = b::build(&b::Input {
                    kind,
                    platform: crate::vocab::Platform::Linux,
                    file_name: &name,
                    executable: None,
                    command: Some(&argv),
                    link: None,
                    token: "cp1",
                    workdir: "/w",
                    stage: None,
                    member: None,
                    protect: None,
                })?;
                let path = dir.path().join(&name);
                std::fs::write(&path, bytes)?;
                let got = instruction(&[path.display().to_string()], &plain)?;
                assert_eq!(got.1, argv, "{kind:?}");
            }
            let exe = dir.path().join("Setup-cp1");
            std::fs::write(&exe, with_trailer(b"\x7fELF".to_vec(), &argv))?;
            assert_eq!(instruction(&[], &exe)?, ("trailer", argv.clone()));
            // An application that starts a program itself ignores the document.
            let odt = dir.path().join("a-cp1.odt");
            assert_eq!(
                instruction(&[odt.display().to_string()], &exe)?.0,
                "trailer"
            );
            let _ = (odt::build(&argv)?, desktop::build("a", &argv));
        }
        Ok(())
    }
}
