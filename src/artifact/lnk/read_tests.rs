//! Tests of the shortcut reader on input `build` does not write: cut and
//! damaged files, shortcuts without LinkInfo, ANSI strings, Windows'
//! 260-character cap; and the error messages.

use super::tests::{link_info_at, samples, u16_at, u32_at};
use super::*;

#[test]
fn read_rejects_what_is_not_a_shortcut() {
    let good = build(&samples()[0]).unwrap();
    assert!(matches!(read(b""), Err(LnkError::Truncated { .. })));
    let mut bad = good.clone();
    bad[0] = 0x4D;
    assert!(matches!(read(&bad), Err(LnkError::Header { .. })));
    let mut bad = good.clone();
    bad[19] = 0x47;
    assert!(matches!(read(&bad), Err(LnkError::Header { .. })));
    // Every cut before the end of StringData fails cleanly; none panics.
    let strings_end = good.len() - 4 - 0x314;
    for len in 0..good.len() {
        let got = read(&good[..len]);
        if len < strings_end {
            assert!(matches!(got, Err(LnkError::Truncated { .. })), "{len}");
        }
    }
    for s in samples() {
        let b = build(&s).unwrap();
        for len in 0..b.len() {
            let _ = read(&b[..len]);
        }
    }
}

#[test]
fn read_falls_back_to_the_id_list_and_reads_ansi_and_windows_caps() {
    let s = &samples()[2];
    let b = build(s).unwrap();
    // Drop the LinkInfo: the IDList still spells the target.
    let start = link_info_at(&b);
    let info_len = u32_at(&b, start) as usize;
    let mut no_info = [&b[..start], &b[start + info_len..]].concat();
    no_info[0x14] &= !0x2;
    assert_eq!(read(&no_info).unwrap(), *s);
    // Without either, there is no target.
    let list_len = 2 + usize::from(u16_at(&no_info, 0x4C));
    let mut neither = [&no_info[..0x4C], &no_info[0x4C + list_len..]].concat();
    neither[0x14] &= !0x1;
    assert!(matches!(read(&neither), Err(LnkError::NoTarget)));

    // ANSI StringData (IsUnicode clear), a working directory whose count
    // overstates it as in some lures, and a relative path.
    let mut ansi = b[..start + info_len].to_vec();
    ansi[0x14] = 0x1 | 0x2 | 0x8 | 0x10 | 0x20;
    for (count, text) in [
        (10, &b"..\\x.exe"[..]),
        (0xFFFF, &[b'w'; 260][..]),
        (4, &b"/c \xE9"[..]),
    ] {
        ansi.extend_from_slice(&u16::to_le_bytes(count));
        ansi.extend_from_slice(text);
        if count == 10 {
            ansi.extend_from_slice(b"..");
        }
    }
    ansi.extend_from_slice(&[0; 4]);
    let got = read(&ansi).unwrap();
    assert_eq!(got.working_dir, "w".repeat(259));
    assert_eq!(got.arguments, "/c é");
    assert_eq!(got.description, "");
    assert_eq!(got.target, s.target);
}

#[test]
fn windows_1252() {
    let text = "Zoë €uro – “quoted” ƒ Ÿ 日";
    let bytes = bytes::cp1252_encode(text);
    assert_eq!(bytes.len(), text.chars().count());
    assert_eq!(bytes::cp1252_decode(&bytes), text.replace('日', "?"));
    assert_eq!(bytes::cp1252_decode(&[0x81, 0x80, 0xFF]), "\u{81}€ÿ");
}

#[test]
fn show_command_codes() {
    for show in [
        ShowCommand::Normal,
        ShowCommand::Maximized,
        ShowCommand::MinNoActive,
    ] {
        assert_eq!(ShowCommand::from_code(show.code()), show);
    }
    assert_eq!(ShowCommand::from_code(0), ShowCommand::Normal);
    assert_eq!(ShowCommand::from_code(2), ShowCommand::Normal);
    assert_eq!(ShowCommand::default(), ShowCommand::Normal);
}

#[test]
fn error_messages_read_after_failed_to() {
    let mut s = samples()[0].clone();
    s.target = "cmd.exe".into();
    let msg = build(&s).unwrap_err().to_string();
    assert!(
        msg.starts_with("use \"cmd.exe\" as the shortcut target: "),
        "{msg}"
    );
    for err in [
        build(&s).unwrap_err(),
        read(b"").unwrap_err(),
        read(&[0; 0x4C]).unwrap_err(),
        LnkError::NoTarget,
    ] {
        let msg = err.to_string();
        assert!(msg.starts_with(|c: char| c.is_lowercase()), "{msg}");
        assert!(!msg.ends_with('.'), "{msg}");
    }
}
