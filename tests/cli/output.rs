//! What reaches the terminal: a closed pipe (`| head -1`) or a full device
//! (`>/dev/full`) never makes chainproof panic or lose a record, and no
//! string from a file can drive the terminal (control and bidi characters
//! are shown escaped).

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use crate::common::*;

/// A pipe whose reading end is already closed: every write to it fails
/// with EPIPE, deterministically (no race with a reader).
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().unwrap_or_else(|e| panic!("pipe: {e}"));
    drop(reader);
    writer
}

fn chainproof(args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("chainproof"));
    c.args(args);
    c
}

/// Runs `c` with stdout into a closed pipe (and stderr too when `both`,
/// as `2>&1 | head` does); returns the output with stderr captured when
/// it is not closed.
fn into_closed_pipe(mut c: std::process::Command, both: bool) -> Output {
    c.stdout(closed_pipe());
    if both {
        c.stderr(closed_pipe());
    } else {
        c.stderr(Stdio::piped());
    }
    c.output().unwrap_or_else(|e| panic!("spawn: {e}"))
}

fn assert_quiet_exit(what: &str, out: &Output, code: i32) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{what}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(
        !stderr.contains("Broken pipe"),
        "{what}: a closed pipe is not an error: {stderr}"
    );
}

#[test]
fn printing_commands_into_a_closed_pipe_exit_quietly() {
    for args in [
        &["list"][..],
        &["validate"],
        &["run", "--dry-run"],
        &["run", "--dry-run", "--platform", "windows"],
        &["run", "--help"],
    ] {
        let out = into_closed_pipe(chainproof(args), false);
        assert_quiet_exit(&args.join(" "), &out, 0);
    }
}

#[test]
fn a_full_stdout_is_one_clear_error_and_exit_3() {
    for args in [&["list"][..], &["run", "--dry-run"]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap_or_else(|e| panic!("/dev/full: {e}"));
        let out = chainproof(args)
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("spawn: {e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(
            stderr.matches("failed to write to stdout").count(),
            1,
            "{args:?}: said once: {stderr}"
        );
    }
}

/// `chainproof run … 2>&1 | head -3`: the terminal went away, the run did
/// not — its record, report folder and cleanup are all there, and
/// `report --format json | head -c 10` of it exits quietly too.
#[test]
fn a_run_into_a_closed_pipe_keeps_its_record() {
    let Some((_host, lab)) = root_lab() else {
        return;
    };
    let mut c = chainproof(&["run", "macro-doc-shell", "--reports"]);
    c.arg(lab.reports()).arg("--work-root").arg(lab.work());
    let out = into_closed_pipe(c, true);
    assert_quiet_exit("run", &out, 0);
    let record = lab.record();
    assert_eq!(record["scenarios"][0]["status"], "completed", "{record}");
    lab.assert_no_residue(&tokens(&record));
    let run_json = report_folder(&lab.reports()).join("run.json");
    for format in ["json", "table", "md"] {
        let mut c = chainproof(&["report", "--format", format]);
        c.arg(&run_json);
        let out = into_closed_pipe(c, false);
        assert_quiet_exit(&format!("report --format {format}"), &out, 0);
    }
    // The sanitiser leaves clean machine formats byte for byte (CSV's
    // CRLF line ends included).
    for (format, file) in [
        ("json", "run.json"),
        ("csv", "matrix.csv"),
        ("md", "matrix.md"),
    ] {
        let out = chainproof(&["report", "--format", format])
            .arg(&run_json)
            .output()
            .unwrap_or_else(|e| panic!("spawn: {e}"));
        let written = std::fs::read(run_json.with_file_name(file)).unwrap_or_default();
        assert!(
            out.stdout == written,
            "report --format {format} differs from {file}"
        );
    }
}

fn report_folder(reports: &Path) -> PathBuf {
    entries(reports)
        .into_iter()
        .find(|p| p.join("run.json").exists())
        .unwrap_or_else(|| panic!("no report folder in {}", reports.display()))
}

/// Control characters and bidi/invisible format characters, raw.
fn hostile_bytes(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.chars()
        .filter(|c| {
            (c.is_control() && *c != '\n' && *c != '\t')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                    | '\u{200b}'..='\u{200f}' | '\u{61c}' | '\u{feff}')
        })
        .map(|c| format!("{:?}", c))
        .collect()
}

const TITLE: &str = "\\e]0;pwned\\a\\e[31mRED \\u202E fdp.exe \\0 end";

/// A scenario whose title and an opener argument hold ESC, BEL, U+202E and NUL
/// (YAML escapes), in a folder whose name holds them raw.
fn hostile_scenario(dir: &Path) -> PathBuf {
    let folder = dir.join("evil\u{1b}]0;pwned\u{7}\u{202e}dir");
    std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/macro-doc-shell.yaml");
    let text = std::fs::read_to_string(shipped).unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("title:") {
            out.push_str(&format!("title: \"{TITLE}\"\n"));
        } else {
            // An argument of the plan `run --dry-run` prints.
            out.push_str(&line.replace("\"--writer\"", "\"--wri\\u202Eter\\e[2J\""));
            out.push('\n');
        }
    }
    let file = folder.join("evil.yaml");
    std::fs::write(&file, out).unwrap_or_else(|e| panic!("{e}"));
    file
}

/// Whatever the loader makes of it (lists it, or refuses it naming the
/// file), nothing of it reaches the terminal raw: not from the title, not
/// from the file's path.
#[test]
fn hostile_titles_and_paths_reach_the_terminal_escaped() {
    let lab = Lab::new();
    let file = hostile_scenario(lab.dir.path());
    for args in [
        &["list"][..],
        &["validate"],
        &["run", "--dry-run", "--scenarios"],
    ] {
        let out = chainproof(args)
            .arg(&file)
            .output()
            .unwrap_or_else(|e| panic!("spawn: {e}"));
        let what = format!("{args:?}");
        assert!(
            matches!(out.status.code(), Some(0 | 2)),
            "{what}: {:?}",
            out.status
        );
        assert_eq!(
            hostile_bytes(&out.stdout),
            Vec::<String>::new(),
            "{what} stdout"
        );
        assert_eq!(
            hostile_bytes(&out.stderr),
            Vec::<String>::new(),
            "{what} stderr"
        );
    }
    // The path is echoed by `validate` (ok line) or by its refusal: escaped.
    let out = chainproof(&["validate"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("evil\\x1b]0;pwned\\x07\\u{202e}dir"), "{all}");
}

/// A path the loader has no say over: the error naming it is escaped.
#[test]
fn an_error_echoing_a_hostile_path_is_escaped() {
    let lab = Lab::new();
    let missing = lab.dir.path().join("no\u{1b}[2Jsuch\u{202e}.yaml");
    let out = chainproof(&["validate"])
        .arg(&missing)
        .output()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(hostile_bytes(&out.stderr), Vec::<String>::new());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no\\x1b[2Jsuch\\u{202e}.yaml"), "{stderr}");
}

/// clap echoes a refused value; that goes through the sanitiser too.
#[test]
fn a_usage_error_echoing_a_hostile_value_is_escaped() {
    let out = chainproof(&["run", "--fidelity", "x\u{1b}]0;pwned\u{7}\u{202e}"])
        .output()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(hostile_bytes(&out.stderr), Vec::<String>::new());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid value 'x"), "{stderr}");
}
