//! Tests of the registry file builder: exact text, round trips, refusals,
//! and `file` and Python's codecs on the bytes.

use std::process::Command;

use super::*;
use crate::artifact::testutil::run_ok;
use crate::testing::require_tool;

const KEY: &str = "HKEY_CURRENT_USER\\Software\\chainproof\\cp0123456789";

fn value(key: &str, name: &str, data: &str) -> RegValue {
    RegValue {
        key: key.to_owned(),
        name: name.to_owned(),
        data: data.to_owned(),
    }
}

fn decode_text(bytes: &[u8]) -> String {
    decode(bytes).unwrap()
}

#[test]
fn build_writes_regedit_format() {
    let bytes = build(&[
        value(
            KEY,
            "Command",
            r#"C:\Windows\System32\cmd.exe /c "echo hi""#,
        ),
        value(KEY, "", "default é"),
        value(&format!("{KEY}\\Sub"), "x\\y", ""),
    ])
    .unwrap();
    assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
    assert_eq!(&bytes[2..6], &[b'W', 0, b'i', 0]);
    assert_eq!(
        decode_text(&bytes),
        "Windows Registry Editor Version 5.00\r\n\
         \r\n\
         [HKEY_CURRENT_USER\\Software\\chainproof\\cp0123456789]\r\n\
         \"Command\"=\"C:\\\\Windows\\\\System32\\\\cmd.exe /c \\\"echo hi\\\"\"\r\n\
         @=\"default é\"\r\n\
         \r\n\
         [HKEY_CURRENT_USER\\Software\\chainproof\\cp0123456789\\Sub]\r\n\
         \"x\\\\y\"=\"\"\r\n\
         \r\n"
    );
}

#[test]
fn build_then_parse_round_trips() {
    let values = vec![
        value(KEY, "a", "1"),
        value(KEY, "", "default"),
        value(
            &format!("{KEY}\\deeper\\still"),
            "quote\"back\\slash",
            "\\\\srv\\\"x\"\\",
        ),
        value(KEY, "again", "keys may repeat after another key"),
        value(
            "hkey_current_user\\software\\CHAINPROOF\\cp1",
            "日本語 😀",
            "\t tab and spaces ",
        ),
        value(KEY, "[not a key]", "=\"@\";comment"),
    ];
    let bytes = build(&values).unwrap();
    assert_eq!(parse(&bytes).unwrap(), values);
    assert_eq!(parse(&build(&[]).unwrap()).unwrap(), Vec::new());
}

#[test]
fn delete_file_removes_the_keys() {
    let keys = vec![KEY.to_owned(), format!("{KEY}\\Sub")];
    let bytes = delete_file(&keys).unwrap();
    assert_eq!(
        decode_text(&bytes),
        "Windows Registry Editor Version 5.00\r\n\
         \r\n\
         [-HKEY_CURRENT_USER\\Software\\chainproof\\cp0123456789]\r\n\
         \r\n\
         [-HKEY_CURRENT_USER\\Software\\chainproof\\cp0123456789\\Sub]\r\n\
         \r\n"
    );
    // parse reads values only; a deletion is refused, not misread.
    assert!(matches!(parse(&bytes), Err(FormatError::Malformed { .. })));
}

#[test]
fn refuses_keys_outside_the_chainproof_subtree() {
    let forbidden = [
        "",
        "HKEY_CURRENT_USER\\Software\\chainproof",
        "HKEY_CURRENT_USER\\Software\\chainproof\\",
        "HKEY_CURRENT_USER\\Software\\chainproofX\\cp1",
        "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
        "HKEY_LOCAL_MACHINE\\Software\\chainproof\\cp1",
        "HKCU\\Software\\chainproof\\cp1",
        "-HKEY_CURRENT_USER\\Software\\chainproof\\cp1",
        " HKEY_CURRENT_USER\\Software\\chainproof\\cp1",
        "HKEY_CURRENT_USER\\Software\\chainproof/cp1",
    ];
    for key in forbidden {
        let err = build(&[value(key, "n", "d")]).unwrap_err();
        assert!(matches!(err, FormatError::ForbiddenKey { .. }), "{key:?}");
        let err = delete_file(&[key.to_owned()]).unwrap_err();
        assert!(matches!(err, FormatError::ForbiddenKey { .. }), "{key:?}");
    }
    let err = build(&[value("HKEY_LOCAL_MACHINE\\SYSTEM\\x", "n", "d")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "use registry key \"HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\x\": only keys below \
         HKEY_CURRENT_USER\\Software\\chainproof\\ are allowed"
    );
}

#[test]
fn refuses_unwritable_keys_and_values() {
    let long = "k".repeat(256);
    let bad_keys = [
        format!("{KEY}\\\\double"),
        format!("{KEY}\\"),
        format!("{KEY}\\a]b"),
        format!("{KEY}\\a\nb"),
        format!("{KEY}\\{long}"),
    ];
    for key in bad_keys {
        let err = build(&[value(&key, "n", "d")]).unwrap_err();
        assert!(matches!(err, FormatError::Unencodable { .. }), "{key:?}");
    }
    assert!(build(&[value(&format!("{KEY}\\{}", "k".repeat(255)), "n", "d")]).is_ok());
    for (name, data) in [("a\nb", "d"), ("n", "a\r\nb"), ("n", "a\0b")] {
        let err = build(&[value(KEY, name, data)]).unwrap_err();
        assert!(matches!(err, FormatError::Unencodable { .. }), "{err}");
    }
    // Nothing is written when one value in the middle is refused.
    let values = [value(KEY, "ok", "1"), value("HKEY_USERS\\x", "n", "d")];
    assert!(build(&values).is_err());
}

fn utf16(text: &str) -> Vec<u8> {
    encode(text)
}

#[test]
fn parse_accepts_regedit_variations() {
    let text = "Windows Registry Editor Version 5.00\n\n\
                ; a comment\n\
                [HKEY_CURRENT_USER\\Software\\chainproof\\cp1] \n\
                \"a\"=\"1\"\n\
                \n\n\
                @=\"d\"   \n";
    assert_eq!(
        parse(&utf16(text)).unwrap(),
        vec![
            value("HKEY_CURRENT_USER\\Software\\chainproof\\cp1", "a", "1"),
            value("HKEY_CURRENT_USER\\Software\\chainproof\\cp1", "", "d"),
        ]
    );
}

#[test]
fn parse_refuses_what_it_does_not_write() {
    let head = "Windows Registry Editor Version 5.00\r\n\r\n";
    let section = format!("[{KEY}]\r\n");
    let cases = [
        format!("REGEDIT4\r\n\r\n{section}"),
        format!("{head}\"a\"=\"1\"\r\n"),
        format!("{head}{section}\"a\"=dword:00000001\r\n"),
        format!("{head}{section}\"a\"=hex(2):41,00\r\n"),
        format!("{head}{section}\"a\"=-\r\n"),
        format!("{head}{section}\"a\"=\"1\" junk\r\n"),
        format!("{head}{section}\"a\"=\"unterminated\r\n"),
        format!("{head}{section}a=\"1\"\r\n"),
        format!("{head}[{KEY}\r\n"),
        format!("{head}[-{KEY}]\r\n"),
    ];
    for text in cases {
        let err = parse(&utf16(&text)).unwrap_err();
        assert!(
            matches!(err, FormatError::Malformed { .. }),
            "{text:?}: {err}"
        );
    }
    let foreign = format!("{head}[HKEY_CURRENT_USER\\Software\\Classes\\x]\r\n");
    assert!(matches!(
        parse(&utf16(&foreign)),
        Err(FormatError::ForbiddenKey { .. })
    ));
    // UTF-8, no BOM, odd length, unpaired surrogate.
    let good = build(&[value(KEY, "a", "1")]).unwrap();
    for bytes in [
        format!("{head}{section}").into_bytes(),
        good[2..].to_vec(),
        good[..good.len() - 1].to_vec(),
        [good.as_slice(), &[0x00u8, 0xD8][..]].concat(),
    ] {
        assert!(matches!(parse(&bytes), Err(FormatError::Malformed { .. })));
    }
}

#[test]
fn build_is_deterministic() {
    let values = [value(KEY, "a", "1"), value(KEY, "b", "2")];
    assert_eq!(build(&values).unwrap(), build(&values).unwrap());
}

#[test]
fn file_says_windows_registry() {
    if !require_tool("file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("set.reg", build(&[value(KEY, "a", "1")]).unwrap()),
        ("cleanup.reg", delete_file(&[KEY.to_owned()]).unwrap()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = run_ok(Command::new("file").arg("-b").arg(&path));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "Windows Registry little-endian text (Win2K or above)"
        );
    }
}

#[test]
fn python_decodes_utf16_with_a_bom() {
    if !require_tool("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("set.reg");
    std::fs::write(&path, build(&[value(KEY, "name", "é 😀")]).unwrap()).unwrap();
    let script = r#"
import codecs, sys
raw = open(sys.argv[1], "rb").read()
assert raw.startswith(codecs.BOM_UTF16_LE), raw[:2]
text = raw.decode("utf-16")
assert text.startswith("Windows Registry Editor Version 5.00\r\n\r\n"), repr(text[:60])
assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
assert '"name"="\u00e9 \U0001F600"\r\n' in text, repr(text)
print("ok")
"#;
    let out = run_ok(Command::new("python3").arg("-c").arg(script).arg(&path));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
}
