//! Tests of the PDF builder: round trips, exact structure (offsets, xref,
//! escaping), the reader on other shapes, and real tools (`pdfinfo`,
//! `pdftotext`, `qpdf`, `file`).

use std::process::Command;

use super::*;
use crate::artifact::testutil::run_ok;
use crate::testing::require_tool;

fn launch(program: &str, parameters: &str, directory: &str) -> Launch {
    Launch {
        program: program.to_owned(),
        parameters: parameters.to_owned(),
        directory: directory.to_owned(),
        on: LaunchOn::Windows,
    }
}

fn cmd() -> Launch {
    launch(
        r"C:\Windows\System32\cmd.exe",
        r#"/c echo (hi) \ "x" > %TEMP%\o.txt"#,
        r"C:\Users\Public",
    )
}

#[test]
fn build_then_read_round_trips() {
    let table = [
        cmd(),
        launch("calc.exe", "", ""),
        launch("/usr/bin/evince", "--page-label=1 (()) ))(( \\\\", ""),
        launch(r"\\srv\share\x.exe", "%s %% \\( \\)", "C:\\"),
        launch("x", "~!@#$%^&*_+`-={}|[]:;'<>?,./", " "),
    ];
    for title in ["Invoice", "Rechnung (März) \\ 😀", ""] {
        for expected in &table {
            let bytes = build(title, expected).unwrap();
            assert_eq!(&read_launch(&bytes).unwrap(), expected, "{title}");
        }
    }
}

/// Linux and macOS documents carry the command in `/Unix` (and `/Mac`),
/// never in the Windows dictionary, and read back the same.
#[test]
fn unix_and_mac_documents_use_their_own_dictionaries() {
    let sh = |on| Launch {
        program: "/bin/sh".into(),
        parameters: "-c 'touch /tmp/p (1).txt'".into(),
        directory: String::new(),
        on,
    };
    let unix = build("T", &sh(LaunchOn::Unix)).unwrap();
    let text = String::from_utf8_lossy(&unix);
    assert!(
        text.contains(
            "5 0 obj\n<< /Type /Action /S /Launch \
         /Unix << /F (/bin/sh) /P (-c 'touch /tmp/p \\(1\\).txt') >> /NewWindow true >>\nendobj"
        ),
        "{text}"
    );
    // `/WinAnsiEncoding` is the font's; a dictionary is `/Win <<`.
    assert!(
        !text.contains("/Win <<") && !text.contains("/Mac"),
        "{text}"
    );
    assert_eq!(read_launch(&unix).unwrap(), sh(LaunchOn::Unix));
    let mac = build("T", &sh(LaunchOn::Mac)).unwrap();
    let text = String::from_utf8_lossy(&mac);
    assert!(
        text.contains(
            "/S /Launch /Mac << /F (/bin/sh) /P (-c 'touch /tmp/p \\(1\\).txt') >> \
         /Unix << /F (/bin/sh) /P (-c 'touch /tmp/p \\(1\\).txt') >> /NewWindow true"
        ),
        "{text}"
    );
    assert!(!text.contains("/Win <<"), "{text}");
    assert_eq!(read_launch(&mac).unwrap(), sh(LaunchOn::Mac));
    // A directory is a /Win key: the other platforms drop it.
    let mut with_dir = sh(LaunchOn::Unix);
    with_dir.directory = "/tmp".into();
    assert!(!String::from_utf8_lossy(&build("T", &with_dir).unwrap()).contains("/D "));
}

#[test]
fn launch_action_is_exact() {
    let bytes = build("T", &cmd()).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let action = "5 0 obj\n<< /Type /Action /S /Launch /F (C:\\\\Windows\\\\System32\\\\cmd.exe) \
                  /Win << /F (C:\\\\Windows\\\\System32\\\\cmd.exe) \
                  /P (/c echo \\(hi\\) \\\\ \"x\" > %TEMP%\\\\o.txt) /D (C:\\\\Users\\\\Public) \
                  /O (open) >> /NewWindow true >>\nendobj\n";
    assert!(text.contains(action), "{text}");
    assert!(text.contains("<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>"));
    let no_dir = build("T", &launch("calc.exe", "", "")).unwrap();
    assert!(String::from_utf8_lossy(&no_dir).contains("/Win << /F (calc.exe) /P () /O (open) >>"));
}

#[test]
fn header_xref_and_trailer_are_exact() {
    let bytes = build("Invoice", &cmd()).unwrap();
    assert!(bytes.starts_with(b"%PDF-1.7\n%"));
    // The binary comment line has four bytes above 127.
    assert!(bytes[10..14].iter().all(|&b| b > 127) && bytes[14] == b'\n');
    assert!(bytes.ends_with(b"%%EOF\n"));
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let at = text.rfind("startxref\n").unwrap();
    let xref: usize = text[at + 10..].lines().next().unwrap().parse().unwrap();
    let table = &bytes[xref..];
    assert!(table.starts_with(b"xref\n0 8\n0000000000 65535 f \n"));
    for number in 1..8 {
        let entry = &table[9 + 20 * number..9 + 20 * (number + 1)];
        assert_eq!(&entry[10..], b" 00000 n \n");
        let offset: usize = std::str::from_utf8(&entry[..10]).unwrap().parse().unwrap();
        let object = format!("{number} 0 obj\n");
        assert!(bytes[offset..].starts_with(object.as_bytes()), "{object}");
    }
    assert!(text.contains("trailer\n<< /Size 8 /Root 1 0 R /Info 7 0 R /ID [<"));
    // The stream length counts exactly the bytes between the keywords.
    let start = text.find("stream\n").unwrap() + "stream\n".len();
    let end = text.find("\nendstream").unwrap();
    assert!(text.contains(&format!("<< /Length {} >>\nstream\n", end - start)));
    assert!(text[start..end].contains(&format!("({PAGE_TEXT}) Tj")));
}

#[test]
fn title_escaping() {
    let bytes = build("a(b)c\\d\n", &cmd()).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("/Title (a\\(b\\)c\\\\d\\n)"));
    let bytes = build("é", &cmd()).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("/Title <FEFF00E9>"));
}

#[test]
fn refuses_what_a_launch_string_cannot_carry() {
    assert!(matches!(
        build("T", &launch("", "x", "")),
        Err(FormatError::EmptyCommand { .. })
    ));
    let bad = [
        launch("C:\\José\\x.exe", "", ""),
        launch("x.exe", "a\nb", ""),
        launch("x.exe", "a\0b", ""),
        launch("x.exe", "", "C:\\Zürich"),
        launch("x.exe", "\t", ""),
    ];
    for l in bad {
        let err = build("T", &l).unwrap_err();
        assert!(
            matches!(err, FormatError::Unencodable { .. }),
            "{l:?}: {err}"
        );
    }
    assert_eq!(
        build("T", &launch("x.exe", "é", ""))
            .unwrap_err()
            .to_string(),
        "encode the parameters \"é\" in pdf: launch strings hold printable ascii only"
    );
}

#[test]
fn build_is_deterministic() {
    assert_eq!(build("T", &cmd()).unwrap(), build("T", &cmd()).unwrap());
    assert_ne!(build("T", &cmd()).unwrap(), build("U", &cmd()).unwrap());
}

/// Appends an incremental update that replaces object `number` with `body`.
fn append_update(bytes: &[u8], number: usize, body: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let at = text.rfind("startxref\n").unwrap();
    let prev: usize = text[at + 10..].lines().next().unwrap().parse().unwrap();
    let mut out = bytes.to_vec();
    let object = out.len();
    out.extend_from_slice(format!("{number} 0 obj\n{body}\nendobj\n").as_bytes());
    let xref = out.len();
    out.extend_from_slice(
        format!(
            "xref\n{number} 1\n{object:010} 00000 n \ntrailer\n<< /Size 9 /Root 1 0 R /Prev {prev} >>\n\
             startxref\n{xref}\n%%EOF\n"
        )
        .as_bytes(),
    );
    out
}

#[test]
fn reader_follows_updates_and_other_shapes() {
    let original = build("T", &cmd()).unwrap();
    // Newest object wins; without /Win the action's /F is the program.
    let updated = append_update(&original, 5, "<< /S /Launch /F (other.exe) >>");
    assert_eq!(read_launch(&updated).unwrap(), launch("other.exe", "", ""));
    // An inline OpenAction, a file specification dictionary, hex and octal.
    let updated = append_update(
        &original,
        1,
        "<< /Type /Catalog /Pages 2 0 R % comment\n/OpenAction << /S /Launch \
         /Win << /F << /Type /Filespec /F <782E657865> >> /P (a\\101\\\nb\\(c) >> >> >>",
    );
    assert_eq!(read_launch(&updated).unwrap(), launch("x.exe", "aAb(c", ""));
    // UTF-16BE strings are read as text.
    let updated = append_update(
        &original,
        5,
        "<< /S /Launch /F <FEFF0078002E006500780065> >>",
    );
    assert_eq!(read_launch(&updated).unwrap().program, "x.exe");
}

#[test]
fn reader_refuses_other_documents() {
    let original = build("T", &cmd()).unwrap();
    let cases = [
        b"not a pdf".to_vec(),
        b"%PDF-1.7\n".to_vec(),
        original[..original.len() / 2].to_vec(),
        append_update(&original, 1, "<< /Type /Catalog /Pages 2 0 R >>"),
        append_update(&original, 5, "<< /S /URI /URI (http://x) >>"),
        append_update(&original, 5, "<< /S /Launch /Win << /F (\\351.exe) >> >>"),
        append_update(&original, 5, "<< /S /Launch /Win << /F 42 >> >>"),
        append_update(&original, 5, "<< /S /Launch /Win << /P (x) >> >>"),
        append_update(&original, 5, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]"),
    ];
    for bytes in cases {
        let err = read_launch(&bytes).unwrap_err();
        assert!(matches!(err, FormatError::Malformed { .. }), "{err}");
    }
    // startxref pointing into the binary comment line, or past the end.
    let at = original
        .windows(10)
        .rposition(|w| w == b"startxref\n")
        .unwrap()
        + 10;
    for offset in ["12", "999999"] {
        let moved = [&original[..at], format!("{offset}\n%%EOF\n").as_bytes()].concat();
        let err = read_launch(&moved).unwrap_err();
        assert!(matches!(err, FormatError::Malformed { .. }), "{err}");
    }
}

fn write_pdf(dir: &std::path::Path, title: &str) -> std::path::PathBuf {
    let path = dir.join("invoice.pdf");
    std::fs::write(&path, build(title, &cmd()).unwrap()).unwrap();
    path
}

#[test]
fn pdfinfo_reads_title_and_pages() {
    if !require_tool("pdfinfo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for title in ["Q3 Invoice (final)", "Rechnung März 😀"] {
        let path = write_pdf(dir.path(), title);
        let out = run_ok(Command::new("pdfinfo").arg(&path));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "pdfinfo complained: {stderr}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert!(
            lines.contains(&format!("Title:           {title}").as_str()),
            "{stdout}"
        );
        assert!(lines.contains(&"Pages:           1"), "{stdout}");
        assert!(lines.contains(&"PDF version:     1.7"), "{stdout}");
    }
}

#[test]
fn pdftotext_finds_the_page_text() {
    if !require_tool("pdftotext") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_pdf(dir.path(), "T");
    let out = run_ok(Command::new("pdftotext").arg(&path).arg("-"));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), PAGE_TEXT);
}

#[test]
fn qpdf_checks_the_structure() {
    if !require_tool("qpdf") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_pdf(dir.path(), "T");
    let out = run_ok(Command::new("qpdf").arg("--check").arg(&path));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("No syntax or stream encoding errors"),
        "{stdout}"
    );
}

#[test]
fn file_says_pdf_document() {
    if !require_tool("file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_pdf(dir.path(), "T");
    let out = run_ok(Command::new("file").arg("-b").arg(&path));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "PDF document, version 1.7, 1 pages"
    );
}

/// pdfid's keyword counts for `path` (PyPI `pdfid`, run as a module: it
/// installs no command).
fn pdfid(path: &std::path::Path) -> Option<std::collections::HashMap<String, u64>> {
    let present = Command::new("python3")
        .args(["-c", "import pdfid.pdfid"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !crate::testing::require(present, "the python module pdfid (ci/python-packages)") {
        return None;
    }
    let out = run_ok(
        Command::new("python3")
            .args(["-m", "pdfid.pdfid"])
            .arg(path),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.lines()
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                let key = words.next().filter(|k| k.starts_with('/'))?;
                let count = words.next()?.parse().ok()?;
                Some((key.to_owned(), count))
            })
            .collect(),
    )
}

const LINK: &str = "https://pay.northwind-supplies.example/invoice?ref=cp1";

#[test]
fn a_link_document_opens_with_no_action_and_reads_back_its_link() {
    let bytes = build_link("Invoice", LINK).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for absent in ["/OpenAction", "/Launch", "/AA", "/JavaScript", "/JS"] {
        assert!(!text.contains(absent), "{absent} in {text}");
    }
    assert!(text.contains(
        "/Subtype /Link /Rect [72 680 540 702] /Border [0 0 0] \
         /A << /Type /Action /S /URI /URI (https://pay.northwind-supplies.example/invoice?ref=cp1) >> >>"
    ));
    assert_eq!(read_link(&bytes).unwrap().as_deref(), Some(LINK));
    assert!(read_launch(&bytes).is_err());
    // A launch document has no link.
    assert_eq!(read_link(&build("T", &cmd()).unwrap()).unwrap(), None);
    assert!(build_link("T", "").is_err());
    assert!(build_link("T", "https://x.example/é").is_err());
}

#[test]
fn pdfid_counts_no_launch_and_no_open_action_on_a_link_document() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("control.pdf");
    std::fs::write(&link, build_link("Invoice", LINK).unwrap()).unwrap();
    let attack = dir.path().join("attack.pdf");
    std::fs::write(&attack, build("Invoice", &cmd()).unwrap()).unwrap();
    let (Some(control), Some(launch)) = (pdfid(&link), pdfid(&attack)) else {
        return;
    };
    assert_eq!(control.get("/OpenAction"), Some(&0), "{control:?}");
    assert_eq!(control.get("/Launch"), Some(&0), "{control:?}");
    assert_eq!(control.get("/AA"), Some(&0), "{control:?}");
    assert_eq!(control.get("/JavaScript"), Some(&0), "{control:?}");
    // The same counter sees the attack document's action.
    assert_eq!(launch.get("/OpenAction"), Some(&1), "{launch:?}");
    assert_eq!(launch.get("/Launch"), Some(&1), "{launch:?}");
    if require_tool("qpdf") {
        run_ok(Command::new("qpdf").arg("--check").arg(&link));
    }
}
