//! Tests of the shortcut writer: round trips, layout, limits and errors.
//! The reader's own cases are in `read_tests`, the third-party parsers in
//! `tool_tests`.

use super::*;

const TEMP: &str = r"C:\Users\u\AppData\Local\Temp\chainproof-cp0123456789";

/// The shortcuts every test (and the tool tests) run through.
pub(super) fn samples() -> Vec<Shortcut> {
    vec![
        Shortcut {
            target: r"C:\Windows\System32\cmd.exe".into(),
            arguments: format!(r#"/c "{TEMP}\run-cp0123456789.cmd""#),
            working_dir: TEMP.into(),
            icon_location: r"%SystemRoot%\System32\shell32.dll".into(),
            icon_index: 70,
            description: "Invoice 2024-04 (chainproof benign test)".into(),
            show_command: ShowCommand::MinNoActive,
            target_size: 452_608,
        },
        Shortcut {
            target: r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe".into(),
            arguments: format!(
                r#"-NoProfile -ExecutionPolicy Bypass -File "{TEMP}\run-cp0123456789.ps1""#
            ),
            working_dir: TEMP.into(),
            icon_location: r"C:\Windows\System32\imageres.dll".into(),
            icon_index: -102,
            description: "Quarterly report".into(),
            show_command: ShowCommand::Maximized,
            target_size: 452_608,
        },
        Shortcut {
            target:
                r"C:\Users\Zoë\AppData\Local\Temp\chainproof-cp0123456789\Rechnung Müller €.exe"
                    .into(),
            arguments: r#"/c "C:\Users\Zoë\AppData\Local\Temp\run-cp0123456789.cmd""#.into(),
            working_dir: r"C:\Users\Zoë\AppData\Local\Temp".into(),
            icon_location: r"%SystemRoot%\System32\shell32.dll".into(),
            icon_index: 1,
            description: "Résumé – café".into(),
            show_command: ShowCommand::Normal,
            target_size: 452_608,
        },
        Shortcut {
            target: r"D:\共有\报告 2024\open me.exe".into(),
            arguments: String::new(),
            working_dir: String::new(),
            icon_location: String::new(),
            icon_index: 0,
            description: String::new(),
            show_command: ShowCommand::Normal,
            target_size: 452_608,
        },
    ]
}

pub(super) fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(super) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Offset of the LinkInfo in a built shortcut.
pub(super) fn link_info_at(b: &[u8]) -> usize {
    0x4C + 2 + usize::from(u16_at(b, 0x4C))
}

#[test]
fn round_trips() {
    for s in samples() {
        let bytes = build(&s).unwrap();
        assert_eq!(read(&bytes).unwrap(), s);
    }
}

#[test]
fn build_is_deterministic() {
    for s in samples() {
        assert_eq!(build(&s).unwrap(), build(&s.clone()).unwrap());
    }
    let mut other = samples()[0].clone();
    let first = build(&other).unwrap();
    other.arguments.push(' ');
    assert_ne!(first, build(&other).unwrap());
}

#[test]
fn header_fields() {
    let s = &samples()[0];
    let b = build(s).unwrap();
    assert_eq!(u32_at(&b, 0), 0x4C);
    assert_eq!(
        b[4..20],
        [
            0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46
        ]
    );
    // IDList, LinkInfo, Name, WorkingDir, Arguments, IconLocation, Unicode,
    // ExpIcon.
    assert_eq!(
        u32_at(&b, 0x14),
        0x1 | 0x2 | 0x4 | 0x10 | 0x20 | 0x40 | 0x80 | 0x4000
    );
    assert_eq!(u32_at(&b, 0x18), 0x20);
    assert_eq!(PINNED_FILETIME, 133_485_408_000_000_000);
    for at in [0x1C, 0x24, 0x2C] {
        assert_eq!(b[at..at + 8], PINNED_FILETIME.to_le_bytes());
    }
    assert_eq!(u32_at(&b, 0x34), 452_608, "FileSize");
    assert_eq!(u32_at(&b, 0x38), 70);
    assert_eq!(u32_at(&b, 0x3C), 7);
    assert_eq!(b[0x40..0x4C], [0; 12]);
    assert!(b.ends_with(&[0, 0, 0, 0]));

    // Empty strings leave their flags (and the icon block) out.
    let bare = build(&samples()[3]).unwrap();
    assert_eq!(u32_at(&bare, 0x14), 0x1 | 0x2 | 0x80);
    assert_eq!(u32_at(&bare, 0x3C), 1);
    let s = &samples()[1];
    let b = build(s).unwrap();
    assert_eq!(u32_at(&b, 0x38) as i32, -102);
    assert_eq!(u32_at(&b, 0x3C), 3);
    assert_eq!(u32_at(&b, 0x14) & 0x4000, 0, "no % in the icon, no block");
}

#[test]
fn id_list_layout() {
    let s = &samples()[1];
    let b = build(s).unwrap();
    let size = usize::from(u16_at(&b, 0x4C));
    let list = &b[0x4E..0x4E + size];
    assert_eq!(
        idlist::parse(list).unwrap().as_deref(),
        Some(s.target.as_str())
    );
    assert_eq!(&list[size - 2..], [0, 0], "terminal id");

    let mut items = Vec::new();
    let mut pos = 0;
    while u16_at(list, pos) != 0 {
        let len = usize::from(u16_at(list, pos));
        items.push(&list[pos..pos + len]);
        pos += len;
    }
    assert_eq!(pos + 2, size);
    let kinds: Vec<u8> = items.iter().map(|i| i[2]).collect();
    assert_eq!(kinds, [0x1F, 0x2F, 0x31, 0x31, 0x31, 0x31, 0x32]);
    assert_eq!(items[0].len(), 20);
    assert_eq!(items[0][3], 0x50);
    assert_eq!(
        items[0][4..],
        [
            0xE0, 0x4F, 0xD0, 0x20, 0xEA, 0x3A, 0x69, 0x10, 0xA2, 0xD8, 0x08, 0x00, 0x2B, 0x30,
            0x30, 0x9D
        ]
    );
    assert_eq!(items[1].len(), 25);
    assert_eq!(&items[1][3..7], b"C:\\\0");
    let names = ["Windows", "System32", "WINDOW~1", "v1.0", "POWERS~1.EXE"];
    for (item, short) in items[2..].iter().zip(names) {
        assert_eq!(
            &item[14..14 + short.len() + 1],
            format!("{short}\0").as_bytes()
        );
        let ext = usize::from(u16_at(item, item.len() - 2));
        assert_eq!(ext % 2, 0);
        assert_eq!(usize::from(u16_at(item, ext)), item.len() - ext);
        assert_eq!(u16_at(item, ext + 2), 9);
        assert_eq!(u32_at(item, ext + 4), 0xBEEF_0004);
        assert_eq!(u16_at(item, ext + 16), 0x2E);
    }
}

#[test]
fn short_names() {
    for (long, short) in [
        ("cmd.exe", "cmd.exe"),
        ("System32", "System32"),
        ("v1.0", "v1.0"),
        ("WindowsPowerShell", "WINDOW~1"),
        ("powershell.exe", "POWERS~1.EXE"),
        ("Program Files", "PROGRA~1"),
        ("run-cp0123456789.cmd", "RUN-CP~1.CMD"),
        ("archive.tar.gz", "ARCHIV~1.GZ"),
        ("notes.html", "NOTES~1.HTM"),
        (".config", "CONFIG~1"),
        ("a+b=c.txt", "A_B_C~1.TXT"),
        ("Zoë", "ZO_~1"),
        ("报告", "__~1"),
    ] {
        assert_eq!(idlist::short_name(long), short, "{long}");
    }
}

#[test]
fn link_info_layout() {
    let ascii = build(&samples()[0]).unwrap();
    let li = &ascii[link_info_at(&ascii)..];
    assert_eq!(u32_at(li, 4), 0x1C);
    assert_eq!(u32_at(li, 8), 1);
    let volume = u32_at(li, 12) as usize;
    assert_eq!(volume, 0x1C);
    assert_eq!(u32_at(li, volume), 0x11);
    assert_eq!(u32_at(li, volume + 4), 3, "DRIVE_FIXED");
    assert_eq!(u32_at(li, volume + 8), linkinfo::DRIVE_SERIAL);
    let local = u32_at(li, 16) as usize;
    let path = b"C:\\Windows\\System32\\cmd.exe\0";
    assert_eq!(&li[local..local + path.len()], path);
    assert_eq!(u32_at(li, 20), 0);
    assert_eq!(li[u32_at(li, 24) as usize], 0, "empty suffix");
    assert_eq!(u32_at(li, 0) as usize, u32_at(li, 24) as usize + 1);

    let s = &samples()[3];
    let wide = build(s).unwrap();
    let li = &wide[link_info_at(&wide)..];
    assert_eq!(u32_at(li, 4), 0x24);
    let local = u32_at(li, 16) as usize;
    let ansi = b"D:\\??\\?? 2024\\open me.exe\0";
    assert_eq!(&li[local..local + ansi.len()], ansi);
    let info = &li[..u32_at(li, 0) as usize];
    assert_eq!(
        linkinfo::read(info).unwrap().as_deref(),
        Some(s.target.as_str())
    );
    let unicode = u32_at(li, 28) as usize;
    assert_eq!(
        bytes::utf16_units(&li[unicode..unicode + 4]),
        [u16::from(b'D'), u16::from(b':')]
    );
    assert_eq!(
        u16_at(li, u32_at(li, 32) as usize),
        0,
        "empty unicode suffix"
    );

    let b = build(&samples()[2]).unwrap();
    let li = &b[link_info_at(&b)..];
    let local = u32_at(li, 16) as usize;
    assert_eq!(&li[local..local + 13], b"C:\\Users\\Zo\xEB\\");
}

#[test]
fn icon_environment_block() {
    let b = build(&samples()[0]).unwrap();
    let block = &b[b.len() - 4 - 0x314..b.len() - 4];
    assert_eq!(u32_at(block, 0), 0x314);
    assert_eq!(u32_at(block, 4), 0xA000_0007);
    let icon = b"%SystemRoot%\\System32\\shell32.dll\0";
    assert_eq!(&block[8..8 + icon.len()], icon);
    let wide: Vec<u16> = r"%SystemRoot%\System32\shell32.dll"
        .encode_utf16()
        .collect();
    assert_eq!(bytes::utf16_units(&block[268..268 + 2 * wide.len()]), wide);
    assert!(block[8 + icon.len()..268].iter().all(|&x| x == 0));
}

#[test]
fn limits_are_inclusive() {
    let mut s = samples()[0].clone();
    s.arguments = "a".repeat(MAX_ARGUMENTS_UNITS);
    s.description = "d".repeat(MAX_PATH_STRING_UNITS);
    s.working_dir = "w".repeat(MAX_PATH_STRING_UNITS);
    s.icon_location = format!("%SystemRoot%\\{}", "i".repeat(MAX_PATH_STRING_UNITS - 13));
    s.target = format!("C:\\{}", "f".repeat(255));
    let b = build(&s).unwrap();
    assert_eq!(read(&b).unwrap(), s);
    assert_ne!(
        u32_at(&b, 0x14) & 0x4000,
        0,
        "259-character icon fits its block"
    );
}

#[test]
fn rejects_bad_targets() {
    let long_component = format!("C:\\{}.exe", "x".repeat(252));
    let long_path = format!("C:\\{}\\x.exe", ["abc"; 64].join("\\"));
    for target in [
        "",
        "cmd.exe",
        r"Windows\cmd.exe",
        r"\\server\share\x.exe",
        r"\\?\C:\x.exe",
        "C:",
        r"C:\",
        "C:cmd.exe",
        "C:/Windows/cmd.exe",
        r"C:\Windows\\cmd.exe",
        r"C:\Windows\",
        r"C:\a\..\cmd.exe",
        r"C:\a\.\cmd.exe",
        r"C:\a<b.exe",
        r"C:\a?.exe",
        r"C:\a:b.exe",
        r"C:\dir.\x.exe",
        r"C:\dir \x.exe",
        "C:\\a\0.exe",
        "C:\\a\t.exe",
        r"1:\x.exe",
        r"é:\x.exe",
        long_component.as_str(),
        long_path.as_str(),
    ] {
        let mut s = samples()[0].clone();
        s.target = target.into();
        let err = build(&s).unwrap_err();
        assert!(matches!(err, LnkError::Target { .. }), "{target:?}: {err}");
    }
    let mut s = samples()[0].clone();
    s.target = "c:\\windows\\notepad.exe".into();
    assert_eq!(read(&build(&s).unwrap()).unwrap().target, s.target);
}

#[test]
fn rejects_nul_and_overlong_strings() {
    type Field = fn(&mut Shortcut) -> &mut String;
    let fields: [(&str, Field, usize); 4] = [
        ("arguments", |s| &mut s.arguments, MAX_ARGUMENTS_UNITS),
        ("description", |s| &mut s.description, MAX_PATH_STRING_UNITS),
        (
            "working directory",
            |s| &mut s.working_dir,
            MAX_PATH_STRING_UNITS,
        ),
        (
            "icon location",
            |s| &mut s.icon_location,
            MAX_PATH_STRING_UNITS,
        ),
    ];
    for (name, field, limit) in fields {
        let mut s = samples()[0].clone();
        field(&mut s).push('\0');
        match build(&s).unwrap_err() {
            LnkError::Nul { field } => assert_eq!(field, name),
            other => panic!("{name}: {other}"),
        }
        let mut s = samples()[0].clone();
        // A character outside the BMP is two UTF-16 units.
        *field(&mut s) = "😀".repeat(limit / 2 + 1);
        match build(&s).unwrap_err() {
            LnkError::TooLong {
                field,
                units,
                limit: l,
            } => assert_eq!((field, units, l), (name, 2 * (limit / 2 + 1), limit)),
            other => panic!("{name}: {other}"),
        }
    }
}
