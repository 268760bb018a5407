use std::io::{Cursor, Read};

use super::ovba::decompress;
use super::*;

#[test]
fn builds_are_deterministic_and_distinct() {
    let line = "cmd.exe /c echo cp0123456789";
    let docm = build_docm(line).unwrap();
    assert_eq!(docm, build_docm(line).unwrap());
    let xlsm = build_xlsm(line).unwrap();
    assert_eq!(xlsm, build_xlsm(line).unwrap());
    assert_ne!(docm, xlsm);
    assert_ne!(docm, build_docm("cmd.exe /c echo other").unwrap());
}

/// Names of the zip entries, in order.
fn entry_names(bytes: &[u8]) -> Vec<String> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| archive.name_for_index(i).unwrap().to_owned())
        .collect()
}

/// One zip entry's bytes.
fn entry(bytes: &[u8], name: &str) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut data = Vec::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_end(&mut data)
        .unwrap();
    data
}

#[test]
fn packages_have_the_opc_parts_in_order() {
    let line = "calc.exe";
    let docm = build_docm(line).unwrap();
    assert_eq!(
        entry_names(&docm),
        [
            "[Content_Types].xml",
            "_rels/.rels",
            "word/document.xml",
            "word/_rels/document.xml.rels",
            "word/vbaProject.bin",
            "docProps/core.xml",
            "docProps/app.xml"
        ]
    );
    let types = String::from_utf8(entry(&docm, "[Content_Types].xml")).unwrap();
    assert!(types.contains(
        "<Override PartName=\"/word/document.xml\" \
         ContentType=\"application/vnd.ms-word.document.macroEnabled.main+xml\"/>"
    ));
    assert!(types.contains(
        "<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>"
    ));
    let rels = String::from_utf8(entry(&docm, "word/_rels/document.xml.rels")).unwrap();
    assert!(rels.contains(
        "Type=\"http://schemas.microsoft.com/office/2006/relationships/vbaProject\" \
         Target=\"vbaProject.bin\""
    ));
    let body = String::from_utf8(entry(&docm, "word/document.xml")).unwrap();
    assert!(body.contains(BODY_MARKER));

    let xlsm = build_xlsm(line).unwrap();
    let names = entry_names(&xlsm);
    assert_eq!(names[0], "[Content_Types].xml");
    assert_eq!(names[2], "xl/workbook.xml");
    assert!(names.iter().any(|n| n == "xl/vbaProject.bin"));
    let types = String::from_utf8(entry(&xlsm, "[Content_Types].xml")).unwrap();
    assert!(types.contains("application/vnd.ms-excel.sheet.macroEnabled.main+xml"));
    let rels = String::from_utf8(entry(&xlsm, "xl/_rels/workbook.xml.rels")).unwrap();
    assert!(rels.contains("relationships/vbaProject\" Target=\"vbaProject.bin\""));
    let sheet = String::from_utf8(entry(&xlsm, "xl/worksheets/sheet1.xml")).unwrap();
    assert!(sheet.contains(BODY_MARKER));
}

#[test]
fn vba_project_is_cfb_v3_with_512_byte_sectors() {
    for (bytes, part, module) in [
        (
            build_docm("a").unwrap(),
            "word/vbaProject.bin",
            "ThisDocument",
        ),
        (
            build_xlsm("a").unwrap(),
            "xl/vbaProject.bin",
            "ThisWorkbook",
        ),
    ] {
        let bin = entry(&bytes, part);
        assert_eq!(&bin[..8], &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
        assert_eq!(&bin[0x1A..0x1E], &[0x03, 0x00, 0xFE, 0xFF], "major 3, LE");
        assert_eq!(
            u16::from_le_bytes([bin[0x1E], bin[0x1F]]),
            9,
            "sector shift"
        );
        assert_eq!(bin.len() % 512, 0);

        let mut file = cfb::CompoundFile::open(Cursor::new(&bin)).unwrap();
        assert_eq!(file.version(), cfb::Version::V3);
        let mut read = |path: &str| {
            let mut data = Vec::new();
            file.open_stream(path)
                .unwrap()
                .read_to_end(&mut data)
                .unwrap();
            data
        };
        assert_eq!(read("/VBA/_VBA_PROJECT"), [0xCC, 0x61, 0xFF, 0xFF, 0, 0, 0]);
        let project = String::from_utf8(read("/PROJECT")).unwrap();
        assert!(project.starts_with("ID=\"{"), "{project}");
        assert!(project.contains(&format!("\r\nDocument={module}/&H00000000\r\n")));
        assert!(project.contains("\r\nName=\"VBAProject\"\r\n"));
        let mut wm = module.as_bytes().to_vec();
        wm.push(0);
        wm.extend(module.encode_utf16().flat_map(u16::to_le_bytes));
        wm.extend([0, 0, 0, 0]);
        assert_eq!(read("/PROJECTwm"), wm);
        let dir = decompress(&read("/VBA/dir")).unwrap();
        let (code_page, modules) = project::parse_dir(&dir).unwrap();
        assert_eq!(code_page, 1252);
        assert_eq!(
            modules,
            [project::ModuleInfo {
                name: module.to_owned(),
                stream: module.to_owned(),
                offset: 0
            }]
        );
        // MODULETYPE says document module; the dir ends with its terminator.
        assert!(dir.windows(6).any(|w| w == [0x22, 0, 0, 0, 0, 0]));
        assert_eq!(&dir[dir.len() - 6..], [0x10, 0, 0, 0, 0, 0]);
        assert_eq!(&dir[..6], [0x01, 0, 4, 0, 0, 0]);
        let code = decompress(&read(&format!("/VBA/{module}"))).unwrap();
        assert!(code.starts_with(format!("Attribute VB_Name = \"{module}\"\r\n").as_bytes()));
    }
}

/// MS-OVBA 2.4.3.3 "Data Decryption", to check what [`project::encrypt`]
/// wrote.
fn decrypt(hex_text: &str) -> (u8, u8, Vec<u8>) {
    let bytes: Vec<u8> = (0..hex_text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex_text[i..i + 2], 16).unwrap())
        .collect();
    let (seed, version_enc, key_enc) = (bytes[0], bytes[1], bytes[2]);
    let (version, key) = (seed ^ version_enc, seed ^ key_enc);
    let (mut plain1, mut enc1, mut enc2) = (key, key_enc, version_enc);
    let mut plain = Vec::new();
    for &byte_enc in &bytes[3..] {
        let byte = byte_enc ^ enc2.wrapping_add(plain1);
        plain.push(byte);
        (enc2, enc1, plain1) = (enc1, byte_enc, byte);
    }
    let ignored = usize::from((seed & 6) / 2);
    let data = plain[ignored + 4..].to_vec();
    let len = u32::from_le_bytes(plain[ignored..ignored + 4].try_into().unwrap());
    assert_eq!(len as usize, data.len());
    (version, key, data)
}

#[test]
fn project_protection_fields_decrypt() {
    let bin = entry(&build_docm("a").unwrap(), "word/vbaProject.bin");
    let mut file = cfb::CompoundFile::open(Cursor::new(&bin)).unwrap();
    let mut project = String::new();
    file.open_stream("/PROJECT")
        .unwrap()
        .read_to_string(&mut project)
        .unwrap();
    let id = project.lines().next().unwrap();
    let guid = id.trim_start_matches("ID=\"").trim_end_matches('"');
    let key = guid.bytes().fold(0u8, u8::wrapping_add);
    for (name, expected) in [
        ("CMG", vec![0, 0, 0, 0]),
        ("DPB", vec![0]),
        ("GC", vec![0xFF]),
    ] {
        let prefix = format!("{name}=\"");
        let line = project.lines().find(|l| l.starts_with(&prefix)).unwrap();
        let value = &line[prefix.len()..line.len() - 1];
        assert_eq!(decrypt(value), (2, key, expected), "{name}");
    }
}

#[test]
fn source_has_the_document_module_shape() {
    let word = macro_source(&build_docm("x.exe \"a b\"").unwrap()).unwrap();
    assert!(!word.replace("\r\n", "").contains('\n'), "lines end CRLF");
    let lines: Vec<&str> = word.split("\r\n").collect();
    assert_eq!(lines[0], "Attribute VB_Name = \"ThisDocument\"");
    for attribute in [
        "Attribute VB_Base = \"1Normal.ThisDocument\"",
        "Attribute VB_GlobalNameSpace = False",
        "Attribute VB_Creatable = False",
        "Attribute VB_PredeclaredId = True",
        "Attribute VB_Exposed = True",
        "Attribute VB_TemplateDerived = True",
        "Attribute VB_Customizable = True",
        "' Refreshes the invoice fields when the document opens.",
        "Sub AutoOpen()",
        "Private Sub Document_Open()",
        "    Shell \"x.exe \"\"a b\"\"\", vbHide",
    ] {
        assert!(lines.contains(&attribute), "{attribute}\n{word}");
    }
    let excel = macro_source(&build_xlsm("y").unwrap()).unwrap();
    assert!(excel.starts_with("Attribute VB_Name = \"ThisWorkbook\"\r\n"));
    assert!(excel.contains("\r\nSub Auto_Open()\r\n"));
    assert!(excel.contains("\r\nPrivate Sub Workbook_Open()\r\n"));
    assert!(excel.contains("\r\n    Shell \"y\", vbHide\r\n"));
}

#[test]
fn command_lines_round_trip() {
    let argv: Vec<String> = ["C:\\Program Files\\t.exe", "say \"hi\"", "C:\\d\\", "x"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let joined = crate::artifact::cmdline::windows_join(&argv);
    for line in [
        joined.as_str(),
        "cmd.exe /c echo \"quoted\" & type C:\\x.txt > NUL",
        "\"\"\"\"",
        "café € ‘q’ ÿ\ttab",
        "/bin/sh -c 'printf %s cp0123456789 > /tmp/out'",
    ] {
        for bytes in [build_docm(line).unwrap(), build_xlsm(line).unwrap()] {
            assert_eq!(read_command_line(&bytes).unwrap(), line);
        }
    }
    let back = read_command_line(&build_docm(&joined).unwrap()).unwrap();
    assert_eq!(crate::artifact::cmdline::windows_split(&back), argv);
}

#[test]
fn unwritable_command_lines_are_rejected() {
    assert!(matches!(build_docm(""), Err(VbaError::EmptyCommandLine)));
    for (line, index, ch) in [("a\rb", 1, '\r'), ("ab\n", 2, '\n'), ("\0", 0, '\0')] {
        for result in [build_docm(line), build_xlsm(line)] {
            match result {
                Err(VbaError::LineBreakOrNul { index: i, ch: c }) => {
                    assert_eq!((i, c), (index, ch))
                }
                other => panic!("{line:?}: {other:?}"),
            }
        }
    }
    let err = build_xlsm("echo 文").unwrap_err();
    assert!(
        matches!(
            err,
            VbaError::NotCp1252 {
                index: 5, ch: '文'
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "encode character 5 ('文') of the command line in code page 1252"
    );
}

#[test]
fn code_page_1252_round_trips() {
    let all: Vec<u8> = (0..=255).collect();
    let text = source::decode_cp1252(&all);
    assert_eq!(text.chars().count(), 256);
    assert_eq!(
        source::encode_cp1252(&text).ok(),
        None,
        "undefined bytes are not encodable"
    );
    let defined: Vec<u8> = all
        .into_iter()
        .filter(|b| ![0x81, 0x8D, 0x8F, 0x90, 0x9D].contains(b))
        .collect();
    let text = source::decode_cp1252(&defined);
    assert!(text.contains('€') && text.contains('Ÿ') && text.contains('ÿ'));
    assert_eq!(source::encode_cp1252(&text).unwrap(), defined);
}

#[test]
fn shell_literal_follows_the_open_sub() {
    let src = "Sub Helper()\r\n    Shell \"not this\"\r\nEnd Sub\r\n\
               Public Sub autoopen ()\r\n    ' Shell \"comment\"\r\n    Dim x\r\n\
               \x20   x = Shell(\"a \"\"b\"\"\", 1)\r\n    Shell \"second\"\r\nEnd Sub\r\n";
    assert_eq!(source::shell_literal(src).unwrap(), "a \"b\"");
    let call = "Private Sub Workbook_Open()\nCall Shell (\"c\")\nEnd Sub\n";
    assert_eq!(source::shell_literal(call).unwrap(), "c");
    let none =
        "Sub Document_Open()\r\n    MyShell \"x\"\r\nEnd Sub\r\nSub Other()\r\nShell \"y\"\r\n";
    assert!(matches!(
        source::shell_literal(none),
        Err(VbaError::NoShellCall { sub }) if sub == "Document_Open"
    ));
    assert!(matches!(
        source::shell_literal("Sub Other()\r\n"),
        Err(VbaError::NoOpenSub)
    ));
    assert!(matches!(
        source::shell_literal("Sub Auto_Open()\r\nShell \"open\r\n"),
        Err(VbaError::ShellLiteral { .. })
    ));
}

#[test]
fn readers_report_what_is_missing() {
    let err = macro_source(b"not a zip").unwrap_err();
    assert_eq!(err.to_string(), "open the zip archive");
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file(
        "word/document.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    let plain = zip.finish().unwrap().into_inner();
    assert!(matches!(macro_source(&plain), Err(VbaError::NoVbaProject)));
    assert!(matches!(
        project::parse_dir(&[0x01, 0, 4, 0, 0, 0, 1, 0, 0, 0]),
        Err(VbaError::Dir { .. })
    ));
    assert!(matches!(
        project::parse_dir(&[0x01, 0, 9, 0, 0, 0]),
        Err(VbaError::Dir { .. })
    ));
}

/// The `PROJECT` stream's first line of a built document.
fn project_id(bytes: &[u8], part: &str) -> String {
    let bin = entry(bytes, part);
    let mut file = cfb::CompoundFile::open(Cursor::new(&bin)).unwrap();
    let mut project = String::new();
    file.open_stream("/PROJECT")
        .unwrap()
        .read_to_string(&mut project)
        .unwrap();
    project.lines().next().unwrap().to_owned()
}

/// Each run's document has its own project id (Office draws one at random
/// per project); a rebuild for the same run gives the same bytes.
#[test]
fn every_run_gets_its_own_project_id() {
    let a = build_docm("cmd.exe /c echo cp0000000001").unwrap();
    let b = build_docm("cmd.exe /c echo cp0000000002").unwrap();
    let (id_a, id_b) = (
        project_id(&a, "word/vbaProject.bin"),
        project_id(&b, "word/vbaProject.bin"),
    );
    assert_ne!(id_a, id_b);
    assert_ne!(id_a, "ID=\"{5B1C3E0A-7D2F-4C61-9A8B-0C1E2D3F4A5B}\"");
    assert_eq!(a, build_docm("cmd.exe /c echo cp0000000001").unwrap());
    let x = build_xlsm("cmd.exe /c echo cp0000000003").unwrap();
    let id_x = project_id(&x, "xl/vbaProject.bin");
    assert_ne!(id_x, id_a);
    for id in [id_a, id_b, id_x] {
        // ID="{8-4-4-4-12}", a version-4 GUID in upper case.
        let guid = id.trim_start_matches("ID=\"{").trim_end_matches("}\"");
        let groups: Vec<&str> = guid.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12],
            "{id}"
        );
        assert!(groups[2].starts_with('4'), "{id}");
        assert!(
            guid.chars()
                .all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase())
        );
    }
}
