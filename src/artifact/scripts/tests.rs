//! Tests of the script builders: exact text, round trips, refusals, and real
//! tools (`sh`, `node --check`, `file`).

use std::process::Command;

use super::*;
use crate::artifact::testutil::run_ok;
use crate::testing::require_tool;

fn argv(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const WINDOWS: [ScriptKind; 3] = [ScriptKind::JScript, ScriptKind::VbScript, ScriptKind::Hta];
const POSIX: [ScriptKind; 3] = [
    ScriptKind::MacosCommand,
    ScriptKind::AppleScript,
    ScriptKind::PosixSh,
];

fn build_windows(kind: ScriptKind, command_line: &str) -> Result<String, FormatError> {
    match kind {
        ScriptKind::JScript => jscript(command_line),
        ScriptKind::VbScript => vbscript(command_line),
        ScriptKind::Hta => hta(command_line),
        _ => unreachable!("{kind:?} is not a windows kind"),
    }
}

fn build_posix(kind: ScriptKind, argv: &[String]) -> Result<String, FormatError> {
    match kind {
        ScriptKind::MacosCommand => macos_command(argv),
        ScriptKind::AppleScript => applescript(argv),
        ScriptKind::PosixSh => posix_sh(argv),
        _ => unreachable!("{kind:?} is not a posix kind"),
    }
}

const COMMAND_LINES: &[&str] = &[
    "calc.exe",
    r#"C:\Windows\System32\cmd.exe /c echo "hi" > "%TEMP%\x y.txt""#,
    r#""C:\Program Files\chainproof\stage.exe" --token 'x' \\server\share\"#,
    "powershell.exe -c \"Write-Host 'a'; $x = 1 & 2\"",
    "a\tb \u{7} \u{1b}[0m",
    "é 日本語 😀 \u{2028} \u{feff}",
    "</script><script>alert(1)</script> <!-- -->",
    "ChrW(60) & \"\" , x",
    "trailing space ",
];

#[test]
fn windows_scripts_round_trip() {
    for kind in WINDOWS {
        for &line in COMMAND_LINES {
            let text = build_windows(kind, line).unwrap();
            assert_eq!(read_command(kind, &text).unwrap(), line, "{kind:?}");
            assert!(text.is_ascii(), "{kind:?}: {text}");
            assert!(!text.replace("\r\n", "").contains(['\r', '\n']), "{kind:?}");
        }
    }
}

#[test]
fn jscript_text_is_exact() {
    let text = jscript(r#"C:\x.exe "a" é"#).unwrap();
    assert_eq!(
        text,
        "// chainproof benign test script (ATT&CK T1204.002 simulation)\r\n\
         var shell = WScript.CreateObject(\"WScript.Shell\");\r\n\
         shell.Run(\"C:\\\\x.exe \\\"a\\\" \\u00e9\", 1, false);\r\n"
    );
}

#[test]
fn vbscript_text_is_exact() {
    let text = vbscript(r#"C:\x.exe "a" é😀"#).unwrap();
    assert_eq!(
        text,
        "' chainproof benign test script (ATT&CK T1204.002 simulation)\r\n\
         Option Explicit\r\n\
         CreateObject(\"WScript.Shell\").Run \"C:\\x.exe \"\"a\"\" \" & ChrW(233) & \
         ChrW(55357) & ChrW(56832), 1, False\r\n"
    );
}

#[test]
fn hta_is_a_minimal_application_that_closes_itself() {
    let text = hta("calc.exe </script>").unwrap();
    assert!(text.starts_with("<html>\r\n<head>\r\n"));
    assert!(text.contains("<HTA:APPLICATION ID=\"chainproof\""));
    assert!(
        !text.contains("<!DOCTYPE"),
        "a doctype would disable vbscript"
    );
    assert!(text.contains(
        "<script language=\"VBScript\">\r\n\
         CreateObject(\"WScript.Shell\").Run \"calc.exe \" & ChrW(60) & \"/script>\", 1, False\r\n\
         window.close\r\n\
         </script>\r\n"
    ));
    assert_eq!(text.matches("</script").count(), 1);
}

#[test]
fn posix_scripts_are_exact() {
    let command = argv(&["/usr/bin/printf", "%s", "a'b c"]);
    let quoted = r#"'/usr/bin/printf' '%s' 'a'\''b c'"#;
    let banner = "# chainproof benign test script (ATT&CK T1204.002 simulation)";
    assert_eq!(
        macos_command(&command).unwrap(),
        format!("#!/bin/sh\n{banner}\n{quoted}\n")
    );
    assert_eq!(
        posix_sh(&command).unwrap(),
        format!("#!/bin/sh\n{banner}\nexec {quoted}\n")
    );
    assert_eq!(
        applescript(&command).unwrap(),
        "#!/usr/bin/osascript\n\
         -- chainproof benign test script (ATT&CK T1204.002 simulation)\n\
         do shell script \"'/usr/bin/printf' '%s' 'a'\\\\''b c'\"\n"
    );
}

const ARGVS: &[&[&str]] = &[
    &["/bin/true"],
    &["/usr/bin/printf", "%s", "a'b c"],
    &["/opt/My App/run", "", " lead", "trail ", "a\tb"],
    &[
        "/p", "\"", "'", "''", "$HOME", "`id`", "a\\b", "x;y|z&", "*?[]", "#", "~",
    ],
    &["/p", "é 日本語 😀", "\\\"", "\u{7}"],
];

#[test]
fn posix_scripts_round_trip() {
    for kind in POSIX {
        for items in ARGVS {
            let command = argv(items);
            let text = build_posix(kind, &command).unwrap();
            assert_eq!(read_posix_argv(kind, &text).unwrap(), command, "{kind:?}");
        }
    }
}

#[test]
fn read_command_gives_the_shell_line_as_written() {
    let command = argv(&["/bin/echo", "it's"]);
    for kind in POSIX {
        let text = build_posix(kind, &command).unwrap();
        assert_eq!(
            read_command(kind, &text).unwrap(),
            r#"'/bin/echo' 'it'\''s'"#,
            "{kind:?}"
        );
    }
}

#[test]
fn read_posix_argv_refuses_windows_kinds() {
    let text = jscript("calc.exe").unwrap();
    assert!(matches!(
        read_posix_argv(ScriptKind::JScript, &text),
        Err(FormatError::Malformed { .. })
    ));
}

#[test]
fn refuses_empty_commands_and_line_breaks() {
    for kind in WINDOWS {
        for line in ["", "   "] {
            assert!(matches!(
                build_windows(kind, line),
                Err(FormatError::EmptyCommand { .. })
            ));
        }
        for line in ["a\rb", "a\nb", "a\0b"] {
            let err = build_windows(kind, line).unwrap_err();
            assert!(
                matches!(err, FormatError::Unencodable { .. }),
                "{kind:?}: {err}"
            );
        }
    }
    for kind in POSIX {
        for empty in [argv(&[]), argv(&[""]), argv(&["", "x"])] {
            assert!(matches!(
                build_posix(kind, &empty),
                Err(FormatError::EmptyCommand { .. })
            ));
        }
        for bad in ["a\rb", "a\nb", "a\0b"] {
            let err = build_posix(kind, &argv(&["/bin/echo", "ok", bad])).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "encode argument 2 {bad:?} in {}: it holds a carriage return, line feed or nul",
                    kind.format()
                )
            );
        }
    }
}

#[test]
fn readers_refuse_foreign_text() {
    for kind in WINDOWS.into_iter().chain(POSIX) {
        assert!(read_command(kind, "echo hello\n").is_err(), "{kind:?}");
    }
    let text = "#!/bin/sh\nrm -rf $HOME\n";
    assert!(read_posix_argv(ScriptKind::MacosCommand, text).is_err());
    let text = "x.Run(\"unterminated, 1)";
    assert!(read_command(ScriptKind::JScript, text).is_err());
    let text = "CreateObject(\"WScript.Shell\").Run \"a\" & Chr(60), 1, False";
    assert!(read_command(ScriptKind::VbScript, text).is_err());
}

#[test]
fn builders_are_deterministic() {
    let line = COMMAND_LINES[1];
    assert_eq!(vbscript(line).unwrap(), vbscript(line).unwrap());
    let command = argv(ARGVS[3]);
    assert_eq!(posix_sh(&command).unwrap(), posix_sh(&command).unwrap());
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn sh_checks_and_runs_the_posix_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let command = argv(&["/usr/bin/printf", "%s", "a'b c"]);
    for (name, text) in [
        ("open me.command", macos_command(&command).unwrap()),
        ("open me.sh", posix_sh(&command).unwrap()),
    ] {
        let path = write(dir.path(), name, &text);
        run_ok(Command::new("sh").arg("-n").arg(&path));
        // Through sh rather than exec(2): a file just written can still be
        // open in a child forked by a parallel test (ETXTBSY).
        let out = run_ok(Command::new("sh").arg(&path));
        assert_eq!(out.stdout, b"a'b c", "{name}");
    }
    for items in ARGVS.iter().skip(2) {
        let mut command = argv(&["/usr/bin/printf", "[%s]"]);
        command.extend(argv(items));
        let path = write(dir.path(), "tricky.sh", &posix_sh(&command).unwrap());
        let out = run_ok(Command::new("sh").arg(&path));
        let expected: String = items.iter().map(|a| format!("[{a}]")).collect();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    }
}

#[test]
fn sh_runs_the_applescript_shell_command() {
    // No osascript here: run what `do shell script` would pass to /bin/sh.
    let command = argv(&["/usr/bin/printf", "%s", "a'b c \"q\" \\"]);
    let text = applescript(&command).unwrap();
    let line = read_command(ScriptKind::AppleScript, &text).unwrap();
    let out = run_ok(Command::new("sh").arg("-c").arg(&line));
    assert_eq!(out.stdout, "a'b c \"q\" \\".as_bytes());
}

#[test]
fn node_checks_the_jscript_syntax() {
    if !require_tool("node") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, &line) in COMMAND_LINES.iter().enumerate() {
        let path = write(dir.path(), &format!("s{i}.js"), &jscript(line).unwrap());
        run_ok(Command::new("node").arg("--check").arg(&path));
    }
}

#[test]
fn file_recognises_the_scripts() {
    if !require_tool("file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let line = COMMAND_LINES[1];
    let command = argv(&["/usr/bin/printf", "%s", "a'b c"]);
    let table = [
        (
            "a.js",
            jscript(line).unwrap(),
            "ASCII text, with CRLF line terminators",
        ),
        (
            "a.vbs",
            vbscript(line).unwrap(),
            "ASCII text, with CRLF line terminators",
        ),
        (
            "a.hta",
            hta(line).unwrap(),
            "HTML document, ASCII text, with CRLF line terminators",
        ),
        (
            "a.command",
            macos_command(&command).unwrap(),
            "POSIX shell script, ASCII text executable",
        ),
        (
            "a.sh",
            posix_sh(&command).unwrap(),
            "POSIX shell script, ASCII text executable",
        ),
        (
            "a.applescript",
            applescript(&command).unwrap(),
            "a /usr/bin/osascript script, ASCII text executable",
        ),
    ];
    for (name, text, expected) in table {
        let path = write(dir.path(), name, &text);
        let out = run_ok(Command::new("file").arg("-b").arg(&path));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), expected);
    }
}
