//! Tests of the RTF builder: exact field text, round trips, refusals, a
//! Word-style field, and real tools (`file`, LibreOffice).

use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::*;
use crate::artifact::testutil::{kill_tree, run_ok};
use crate::testing::require_tool;

/// Command lines in canonical form: they come back byte for byte.
const CANONICAL: &[&str] = &[
    "calc.exe",
    r#"C:\Windows\System32\cmd.exe /c echo {hi} "x y" > %TEMP%\o.txt"#,
    r#""C:\Program Files\chainproof\stage.exe" --token "a\"b" \\srv\share\"#,
    r#""C:\Program Files\x.exe""#,
    "\"C:\\tab\tdir\\x.exe\" a\tb",
    "C:\\Users\\José\\x.exe 日本語 😀 \u{feff} trailing  ",
    r"x.exe \\ \{ \} \u233? \par }",
];

#[test]
fn build_then_read_round_trips() {
    for &line in CANONICAL {
        let bytes = build(line).unwrap();
        assert!(bytes.is_ascii(), "{line}");
        assert_eq!(read_command_line(&bytes).unwrap(), line);
    }
}

#[test]
fn document_text_is_exact() {
    let bytes = build(r#"C:\Windows\cmd.exe /c "a b" {x} é😀"#).unwrap();
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "{\\rtf1\\ansi\\ansicpg1252\\deff0\\uc1{\\fonttbl{\\f0\\fswiss\\fcharset0 Arial;}}\n\
         {\\info{\\title Invoice INV-2024-0417 - EUR 1,284.50 due 1 May 2024}}\n\
         \\pard\\plain\\f0\\fs24 Invoice INV-2024-0417 - EUR 1,284.50 due 1 May 2024\\par\n\
         \\pard\\plain\\f0\\fs24 {\\field{\\*\\fldinst DDEAUTO \"C:\\\\\\\\Windows\\\\\\\\cmd.exe\" \
         \"/c \\\\\"a b\\\\\" \\{x\\} \\u233?\\u-10179?\\u-8704?\" }{\\fldrslt Invoice}}\\par\n\
         }\n"
    );
}

#[test]
fn non_canonical_command_lines_come_back_equivalent() {
    let table = [
        (r#""C:\x.exe"  -a"#, r"C:\x.exe -a"),
        (r#""C:\x.exe""#, r"C:\x.exe"),
        ("x.exe\t\t-a", "x.exe -a"),
        ("x.exe ", "x.exe"),
    ];
    for (input, output) in table {
        assert_eq!(read_command_line(&build(input).unwrap()).unwrap(), output);
    }
}

#[test]
fn refuses_what_it_cannot_carry() {
    for empty in ["", "  ", "\"\"", "\"\" -a"] {
        assert!(
            matches!(build(empty), Err(FormatError::EmptyCommand { .. })),
            "{empty:?}"
        );
    }
    let bad = [
        " calc.exe",
        "calc.exe\n",
        "calc.exe /c a\rb",
        "a\0b",
        "x\u{7}",
        r#""C:\Program Files\x.exe -a"#,
        r#""C:\x.exe"-a"#,
        r#"C:\a"b.exe"#,
    ];
    for line in bad {
        let err = build(line).unwrap_err();
        assert!(
            matches!(err, FormatError::Unencodable { .. }),
            "{line:?}: {err}"
        );
    }
    assert_eq!(
        build(" x").unwrap_err().to_string(),
        "encode the command line \" x\" in rtf: it starts with whitespace"
    );
}

#[test]
fn reads_a_word_style_field() {
    // Word splits the instruction into runs and writes the unquoted program
    // with doubled backslashes; \uc2 means two fallback characters follow.
    let rtf = br#"{\rtf1\ansi\ansicpg1252\deff0
{\fonttbl{\f0 Arial;}}
\pard {\field\fldedit{\*\fldinst {\rtlch\fcs1 \af0 \ltrch\fcs0 \insrsid123 DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe }{\rtlch "/k echo \'e9 \'80 \uc2\u233??ok"}}{\fldrslt {\rtlch result}}}\par
}"#;
    assert_eq!(
        read_command_line(rtf).unwrap(),
        r"c:\windows\system32\cmd.exe /k echo é € éok"
    );
}

#[test]
fn reader_refuses_foreign_documents() {
    let cases: &[&[u8]] = &[
        b"",
        b"%PDF-1.7",
        br"{\rtf1 no field here}",
        br#"{\rtf1 {\field{\*\fldinst HYPERLINK "http://x" }{\fldrslt x}}}"#,
        br"{\rtf1 {\field{\*\fldinst DDEAUTO }}}",
        br#"{\rtf1 {\field{\*\fldinst DDEAUTO "a" "b" "c" }}}"#,
        br#"{\rtf1 {\field{\*\fldinst DDEAUTO "unterminated }}}"#,
        br"{\rtf1 {\field{\*\fldinst DDEAUTO a.exe",
    ];
    for &bytes in cases {
        let err = read_command_line(bytes).unwrap_err();
        assert!(
            matches!(err, FormatError::Malformed { .. }),
            "{:?}: {err}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn build_is_deterministic() {
    assert_eq!(build(CANONICAL[1]).unwrap(), build(CANONICAL[1]).unwrap());
}

#[test]
fn file_says_rich_text_format() {
    if !require_tool("file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invoice.rtf");
    std::fs::write(&path, build(CANONICAL[1]).unwrap()).unwrap();
    let out = run_ok(Command::new("file").arg("-b").arg(&path));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Rich Text Format data, version 1, ANSI, code page 1252"
    );
}

#[test]
fn libreoffice_converts_it_to_pdf() {
    if !require_tool("soffice") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("invoice.rtf");
    std::fs::write(&doc, build(CANONICAL[4]).unwrap()).unwrap();
    let profile = format!(
        "-env:UserInstallation=file://{}",
        dir.path().join("profile").display()
    );
    let mut child = Command::new("soffice")
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(profile)
        .arg(&doc)
        .env("TMPDIR", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            kill_tree(&mut child, dir.path());
            panic!("soffice did not convert {} within 120 s", doc.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    eprintln!(
        "soffice converted in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    assert!(status.success(), "soffice exited with {status}");
    let pdf = dir.path().join("invoice.pdf");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    if require_tool("pdftotext") {
        let out = run_ok(Command::new("pdftotext").arg(&pdf).arg("-"));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(BODY_TEXT), "{text}");
    }
}
