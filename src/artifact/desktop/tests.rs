//! Tests of the Desktop Entry builder: exact quoting, the inverse, and real
//! launchers (`desktop-file-validate`, `dex`, `gio launch`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::*;
use crate::artifact::testutil::{run_ok, wait_for_file};
use crate::testing::require_tool;

fn argv(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Arguments only GLib passes through intact.
const GLIB_ONLY: &[&str] = &[
    "$HOME",
    "`id`",
    "say \"hi\"",
    "back\\slash",
    "100%",
    "%u",
    "nl\nx",
    "tab\tx",
    "cr\r",
];

/// Arguments every launcher tested here passes through intact.
const ANY_LAUNCHER: &[&str] = &[
    "a b",
    "",
    "it's",
    "x;y",
    "a > b",
    "p|q&r",
    "*?",
    "~",
    "#hash",
    "(paren)",
    "é 日本 😀",
    "  lead",
    "trail  ",
    "<in",
    "=eq",
];

#[test]
fn exec_quoting_follows_the_spec() {
    let table: &[(&[&str], &str)] = &[
        (&["/bin/true"], "/bin/true"),
        (
            &["/bin/sh", "-c", "echo x > /tmp/p"],
            "/bin/sh -c \"echo x > /tmp/p\"",
        ),
        (&["/p", "", "it's"], "/p \"\" \"it's\""),
        (&["/p", "$HOME"], "/p \"\\\\$HOME\""),
        (&["/p", "a\\b"], "/p \"a\\\\\\\\b\""),
        (&["/p", "say \"hi\""], "/p \"say \\\\\"hi\\\\\"\""),
        (&["/p", "100%", "%u"], "/p 100%% %%u"),
        (&["/p", "a\nb\tc"], "/p \"a\\nb\\tc\""),
        (&["/My Apps/tool"], "\"/My Apps/tool\""),
    ];
    for (command, exec) in table {
        let text = build("Invoice", &argv(command));
        let line = text.lines().find(|l| l.starts_with("Exec=")).unwrap();
        assert_eq!(&line["Exec=".len()..], *exec, "{command:?}");
    }
}

#[test]
fn entry_has_the_required_keys() {
    let text = build(" Invoice\n2024", &argv(&["/bin/true"]));
    for line in [
        "[Desktop Entry]",
        "Type=Application",
        "Name=\\sInvoice\\n2024",
        "Terminal=false",
        "Icon=x-office-document",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
}

#[test]
fn read_command_inverts_build() {
    let mut everything = argv(&["/bin/sh", "-c", "echo 'a' \"b\" $X; exit"]);
    everything.extend(argv(GLIB_ONLY));
    everything.extend(argv(ANY_LAUNCHER));
    let table = [
        everything,
        argv(&["/usr/bin/env"]),
        argv(&["rel name", "%%"]),
    ];
    for command in table {
        let text = build("T", &command);
        assert_eq!(read_command(&text).unwrap(), command, "{text}");
    }
}

#[test]
fn read_command_expands_field_codes_and_rejects_garbage() {
    let entry = "[Desktop Entry]\nExec=app %U --x=%f \"%%\"\n[Other]\nExec=no\n";
    assert_eq!(read_command(entry).unwrap(), argv(&["app", "--x=", "%"]));
    for bad in [
        "[Desktop Entry]\nName=x\n",
        "[Desktop Entry]\nExec=a \"open\n",
        "[Desktop Entry]\nExec=a %z\n",
        "[Desktop Entry]\nExec=a \"b\\\\xc\"\n",
        "[Desktop Entry]\nExec=a \"b\"c\n",
    ] {
        assert!(read_command(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn dex_preserves_only_what_dex_passes() {
    assert!(dex_preserves(&argv(ANY_LAUNCHER)));
    for arg in GLIB_ONLY {
        assert!(!dex_preserves(&argv(&["/p", arg])), "{arg:?}");
    }
}

#[test]
fn desktop_file_validate_accepts_entries() {
    if !require_tool("desktop-file-validate") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut tricky = argv(&["/bin/sh", "-c", "echo \"$1\" > /tmp/x; ls | wc -l", "sh"]);
    tricky.extend(argv(GLIB_ONLY));
    tricky.extend(argv(ANY_LAUNCHER));
    for (i, command) in [argv(&["/bin/true"]), tricky].iter().enumerate() {
        let path = dir.path().join(format!("entry{i}.desktop"));
        std::fs::write(&path, build("Invoice 2024", command)).unwrap();
        let out = run_ok(Command::new("desktop-file-validate").arg(&path));
        // It exits 0 on hints; treat any "error:" line as a failure too.
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(!text.contains("error:"), "{text}");
    }
}

/// A script that records its arguments NUL-terminated, atomically.
fn argv_recorder(dir: &Path) -> (String, std::path::PathBuf) {
    let out = dir.join("argv.bin");
    let script = dir.join("record-argv");
    let body = format!(
        "#!/bin/sh\nprintf '%s\\000' \"$@\" > '{out}.tmp' && mv '{out}.tmp' '{out}'\n",
        out = out.display()
    );
    std::fs::write(&script, body).unwrap();
    run_ok(Command::new("chmod").arg("755").arg(&script));
    (script.to_string_lossy().into_owned(), out)
}

fn recorded(out: &Path) -> Vec<String> {
    let raw = std::fs::read(out).unwrap();
    let mut args: Vec<String> = raw
        .split(|&b| b == 0)
        .map(|a| String::from_utf8(a.to_vec()).unwrap())
        .collect();
    assert_eq!(args.pop().as_deref(), Some(""), "missing final NUL");
    args
}

fn launch(launcher: &str, entry: &Path, out: &Path) -> Vec<String> {
    let mut cmd = Command::new(launcher);
    if launcher == "gio" {
        cmd.arg("launch");
    }
    let status = cmd
        .arg(entry)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{launcher} failed: {status}");
    wait_for_file(out, Duration::from_secs(20))
        .unwrap_or_else(|| panic!("{launcher} did not start the command"));
    recorded(out)
}

#[test]
fn dex_runs_a_shell_command() {
    if !require_tool("dex") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let proof = dir.path().join("proof");
    let script = format!("echo 'x y'; echo x > {}", proof.display());
    let entry = dir.path().join("invoice.desktop");
    std::fs::write(&entry, build("Invoice", &argv(&["/bin/sh", "-c", &script]))).unwrap();
    run_ok(Command::new("dex").arg(&entry).stdout(Stdio::null()));
    wait_for_file(&proof, Duration::from_secs(20)).expect("dex did not start the command");
    assert_eq!(std::fs::read_to_string(&proof).unwrap(), "x\n");
}

#[test]
fn dex_preserves_tricky_arguments() {
    if !require_tool("dex") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (recorder, out) = argv_recorder(dir.path());
    let mut command = vec![recorder];
    command.extend(argv(ANY_LAUNCHER));
    let entry = dir.path().join("tricky.desktop");
    std::fs::write(&entry, build("Tricky", &command)).unwrap();
    assert_eq!(launch("dex", &entry, &out), command[1..]);
}

#[test]
fn gio_launch_preserves_every_argument() {
    if !require_tool("gio") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (recorder, out) = argv_recorder(dir.path());
    let mut command = vec![recorder];
    command.extend(argv(ANY_LAUNCHER));
    command.extend(argv(GLIB_ONLY));
    let entry = dir.path().join("tricky.desktop");
    std::fs::write(&entry, build("Tricky", &command)).unwrap();
    assert_eq!(launch("gio", &entry, &out), command[1..]);
}
