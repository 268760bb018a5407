//! Tests of the ODT builder: pure round trips, then Python's zipfile and
//! real LibreOffice.

use std::io::{Cursor, Read, Write};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::*;
use crate::artifact::testutil::{kill_tree, run_ok, wait_for_file};
use crate::testing::require_tool;

fn argv(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn build_then_read_round_trips() {
    let table: &[&[&str]] = &[
        &["/bin/true"],
        &["/bin/sh", "-c", "echo hello > /tmp/x/proof.txt"],
        &[
            "/bin/sh",
            "-c",
            "echo 'it works'; id > '/tmp/a b/out'; exit 0",
        ],
        &[
            "/bin/sh",
            "-c",
            "printf \"%s\\n\" \"$@\" > /tmp/o",
            "zero",
            "one two",
        ],
        &[
            "/opt/My Apps/tool",
            "",
            " lead",
            "trail ",
            "a\tb",
            "x\ny\r\n",
            "\u{2003}",
        ],
        &[
            "/p",
            "\"",
            "'",
            "say \"hi\"",
            "it's",
            "$HOME",
            "`id`",
            "a\\b",
            "100%",
        ],
        &[
            "/p",
            "日本語",
            "😀",
            "\u{feff}",
            "\u{7f}\u{85}\u{a0}",
            "\u{2028}",
            "<&>",
        ],
        &[
            "sh",
            "--flag=value with space",
            "REM not a comment",
            "' nor this",
        ],
    ];
    for command in table {
        let command = argv(command);
        let bytes = build(&command).unwrap();
        assert_eq!(read_shell_command(&bytes).unwrap(), command);
    }
}

#[test]
fn build_is_deterministic() {
    let command = argv(&["/bin/sh", "-c", "echo hi"]);
    let first = build(&command).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(first, build(&command).unwrap());
    assert_ne!(first, build(&argv(&["/bin/sh", "-c", "echo ho"])).unwrap());
}

#[test]
fn build_rejects_what_shell_cannot_carry() {
    let both = argv(&["/bin/sh", "-c", "echo \"it's\""]);
    assert!(matches!(
        build(&both),
        Err(ArtifactError::Unencodable { index: 2, .. })
    ));
    assert!(matches!(
        build(&argv(&["/bin/echo", "a\0b"])),
        Err(ArtifactError::Unencodable { index: 1, .. })
    ));
    assert!(matches!(build(&[]), Err(ArtifactError::EmptyCommand)));
    assert!(matches!(
        build(&argv(&["", "x"])),
        Err(ArtifactError::EmptyProgram)
    ));
}

/// Rewrites one entry of a zip, keeping the others.
fn with_entry(bytes: &[u8], name: &str, edit: impl Fn(String) -> String) -> Vec<u8> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let entry = file.name().to_owned();
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        if entry == name {
            text = edit(text);
        }
        out.start_file(entry, SimpleFileOptions::default()).unwrap();
        out.write_all(text.as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn read_requires_what_libreoffice_requires() {
    let good = build(&argv(&["/bin/true"])).unwrap();
    let no_ooo = with_entry(&good, "content.xml", |t| {
        t.replace("xmlns:ooo=", "xmlns:oox=")
    });
    let other_event = with_entry(&good, "content.xml", |t| t.replace("dom:load", "dom:click"));
    let app_macro = with_entry(&good, "content.xml", |t| {
        t.replace("location=document", "location=application")
    });
    for bytes in [no_ooo, other_event, app_macro] {
        assert!(matches!(
            read_shell_command(&bytes),
            Err(ArtifactError::NoOnLoadBinding)
        ));
    }
    let no_shell = with_entry(&good, "Basic/Standard/Module1.xml", |t| {
        t.replace("nPid = Shell", "nPid = Len")
    });
    assert!(matches!(
        read_shell_command(&no_shell),
        Err(ArtifactError::NoShellCall { .. })
    ));
    assert!(matches!(
        read_shell_command(b"not a zip"),
        Err(ArtifactError::ZipRead { .. })
    ));
}

#[test]
fn profile_and_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("pro file");
    write_throwaway_profile(&profile).unwrap();
    let xcu = std::fs::read_to_string(profile.join("user/registrymodifications.xcu")).unwrap();
    assert!(xcu.contains("/org.openoffice.Office.Common/Security/Scripting"));
    assert!(xcu.contains("<prop oor:name=\"MacroSecurityLevel\" oor:op=\"fuse\"><value>0</value>"));
    let args = soffice_args(&profile, Path::new("/docs/a.odt"));
    let url = format!(
        "-env:UserInstallation=file://{}/pro%20file",
        dir.path().display()
    );
    assert_eq!(
        args,
        [
            "--headless",
            "--norestore",
            "--nolockcheck",
            url.as_str(),
            "/docs/a.odt"
        ]
    );
}

#[test]
fn lock_file_sits_next_to_the_document() {
    assert_eq!(
        lock_file_path(Path::new("/d/Invoice 1.odt")).unwrap(),
        Path::new("/d/.~lock.Invoice 1.odt#")
    );
    assert_eq!(lock_file_path(Path::new("/")), None);
}

#[test]
fn python_zipfile_accepts_the_document() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("invoice.odt");
    std::fs::write(
        &doc,
        build(&argv(&["/bin/sh", "-c", "echo 'x' > /dev/null"])).unwrap(),
    )
    .unwrap();
    let script = r#"
import sys, zipfile, xml.dom.minidom
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
first = z.infolist()[0]
assert first.filename == "mimetype", first.filename
assert first.compress_type == zipfile.ZIP_STORED
assert first.header_offset == 0 and first.extra == b""
assert z.read("mimetype") == b"application/vnd.oasis.opendocument.text"
names = set(z.namelist())
for part in ["META-INF/manifest.xml", "content.xml", "styles.xml", "meta.xml",
             "settings.xml", "Basic/script-lc.xml", "Basic/Standard/script-lb.xml",
             "Basic/Standard/Module1.xml"]:
    assert part in names, part
    xml.dom.minidom.parseString(z.read(part))
print("ok")
"#;
    let out = run_ok(Command::new("python3").arg("-c").arg(script).arg(&doc));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
}

/// Starts soffice on `doc` with a macro-enabling throw-away profile under
/// `dir`, waits for `proof`, then kills the whole LibreOffice tree.
fn open_with_libreoffice(dir: &Path, doc: &Path, proof: &Path) -> Option<Duration> {
    let profile = dir.join("profile");
    write_throwaway_profile(&profile).unwrap();
    let since = std::time::SystemTime::now();
    let mut child = Command::new(SOFFICE)
        .args(soffice_args(&profile, doc))
        // LibreOffice's own temp files go to TMPDIR, so they die with `dir`.
        .env("TMPDIR", dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let took = wait_for_file(proof, Duration::from_secs(60));
    kill_tree(&mut child, dir);
    // Killed, it leaves its IPC socket in /tmp (which ignores TMPDIR), as
    // the harness's own cleanup knows: remove it the same way.
    crate::runner::residue::remove_stale_office_sockets(since);
    // Killed, LibreOffice leaves its lock file where lock_file_path says.
    if took.is_some() {
        let lock = lock_file_path(doc).unwrap();
        assert!(lock.exists(), "no lock file at {}", lock.display());
        std::fs::remove_file(lock).unwrap();
    }
    took
}

#[test]
fn libreoffice_runs_the_onload_macro() {
    if !require_tool(SOFFICE) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let proof = dir.path().join("proof.txt");
    let script = format!(
        "echo 'hello world' > '{p}'; echo second >> '{p}'",
        p = proof.display()
    );
    let doc = dir.path().join("invoice.odt");
    let bytes = build(&argv(&["/bin/sh", "-c", &script])).unwrap();
    std::fs::write(&doc, bytes).unwrap();
    let took = open_with_libreoffice(dir.path(), &doc, &proof).unwrap_or_else(|| {
        panic!(
            "the onload macro did not write {} within 60 s",
            proof.display()
        )
    });
    eprintln!("soffice start to proof file: {:.2} s", took.as_secs_f64());
    assert_eq!(
        std::fs::read_to_string(&proof).unwrap(),
        "hello world\nsecond\n"
    );
}

#[test]
fn libreoffice_passes_a_tricky_argv_exactly() {
    if !require_tool(SOFFICE) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("argv.bin");
    // Holds `"` but no `'`, so it travels single-quoted; prints each argument
    // NUL-terminated, starting with $0.
    let script = format!("printf \"%s\\000\" \"$0\" \"$@\" > \"{}\"", out.display());
    let mut command = argv(&["/bin/sh", "-c", &script]);
    let tricky = [
        "zero",
        "a b",
        "",
        "it's",
        "say \"hi\"",
        "tab\there",
        "nl\nx\r",
        "$HOME",
        "`id`",
        "back\\slash",
        "100%",
        "é 日本 😀",
        "  lead",
        "trail  ",
        "\u{2003}",
        ";|&<>*?~#()",
        "ctl\u{1}\u{7f}\u{2028}x",
    ];
    command.extend(argv(&tricky));
    let doc = dir.path().join("argv.odt");
    let bytes = build(&command).unwrap();
    assert_eq!(read_shell_command(&bytes).unwrap(), command);
    std::fs::write(&doc, bytes).unwrap();
    assert!(
        open_with_libreoffice(dir.path(), &doc, &out).is_some(),
        "the macro did not run"
    );
    let raw = std::fs::read(&out).unwrap();
    let seen: Vec<String> = raw
        .split(|&b| b == 0)
        .map(|a| String::from_utf8(a.to_vec()).unwrap())
        .collect();
    let mut expected = argv(&tricky);
    expected.push(String::new()); // after the last NUL terminator
    assert_eq!(seen, expected);
}

#[test]
fn libreoffice_converts_without_running_the_macro() {
    if !require_tool(SOFFICE) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let proof = dir.path().join("must-not-exist.txt");
    let doc = dir.path().join("invoice.odt");
    let script = format!("echo ran > {}", proof.display());
    std::fs::write(&doc, build(&argv(&["/bin/sh", "-c", &script])).unwrap()).unwrap();
    let profile = dir.path().join("profile");
    write_throwaway_profile(&profile).unwrap();
    let outdir = dir.path().join("out");
    let mut args = soffice_args(&profile, &doc);
    let doc_arg = args.pop().unwrap();
    args.extend(["--convert-to".into(), "txt".into(), "--outdir".into()]);
    args.extend([outdir.to_string_lossy().into_owned(), doc_arg]);
    run_ok(
        Command::new(SOFFICE)
            .args(&args)
            .env("TMPDIR", dir.path())
            .stdin(Stdio::null()),
    );
    let text = std::fs::read_to_string(outdir.join("invoice.txt")).unwrap();
    assert!(text.contains(BODY_MARKER), "{text}");
    assert!(text.contains("Invoice INV-2024-0417"), "{text}");
    assert!(text.contains("echo ran"), "{text}");
    std::thread::sleep(Duration::from_secs(1));
    assert!(!proof.exists(), "--convert-to ran the macro");
}

#[test]
fn reads_a_document_libreoffice_saved_itself() {
    if !require_tool(SOFFICE) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let command = argv(&[
        "/bin/sh",
        "-c",
        "echo 'a b'; echo \\ > /dev/null",
        "say \"hi\"",
        "",
        "x\ny",
        "é😀",
    ]);
    let doc = dir.path().join("invoice.odt");
    std::fs::write(&doc, build(&command).unwrap()).unwrap();
    // Re-saving through LibreOffice rewrites every part in its own style
    // (more namespaces, its own escaping) and keeps the Basic library.
    let outdir = dir.path().join("resaved");
    let profile = dir.path().join("profile");
    let mut args = soffice_args(&profile, &doc);
    let doc_arg = args.pop().unwrap();
    args.extend(["--convert-to".into(), "odt".into(), "--outdir".into()]);
    args.extend([outdir.to_string_lossy().into_owned(), doc_arg]);
    run_ok(
        Command::new(SOFFICE)
            .args(&args)
            .env("TMPDIR", dir.path())
            .stdin(Stdio::null()),
    );
    let resaved = std::fs::read(outdir.join("invoice.odt")).unwrap();
    assert_ne!(resaved, std::fs::read(&doc).unwrap());
    assert_eq!(read_shell_command(&resaved).unwrap(), command);
}
