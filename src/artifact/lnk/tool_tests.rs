//! The built shortcuts read by third-party parsers: `lnkinfo` (liblnk),
//! `lnkparse` (LnkParse3) and `file`. A missing tool skips loudly on a
//! developer machine and fails under `CI=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::tests::samples;
use super::*;
use crate::artifact::testutil::run_ok;
use crate::testing::require_tool;

/// Writes every sample into `dir`, returning each with its path.
fn write_samples(dir: &Path) -> Vec<(Shortcut, PathBuf)> {
    samples()
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let path = dir.join(format!("sample-{i}.lnk"));
            std::fs::write(&path, build(&s).unwrap()).unwrap();
            (s, path)
        })
        .collect()
}

/// The components of a target after `X:\`.
fn components(target: &str) -> Vec<&str> {
    target[3..].split('\\').collect()
}

/// Stdout of a successful run that printed nothing on stderr.
fn quiet_stdout(cmd: &mut Command) -> String {
    let out = run_ok(cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "{cmd:?} warned: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// The `key : value` lines of one top-level section of `lnkinfo` output
/// (e.g. "Link information:"), in order.
fn lnkinfo_section(out: &str, section: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut fields = Vec::new();
    for line in out.lines().filter(|l| !l.is_empty()) {
        if !line.starts_with('\t') {
            inside = line == section;
            continue;
        }
        if let (true, Some((key, value))) = (inside, line.split_once(':')) {
            let value = value.strip_prefix(' ').unwrap_or(value);
            fields.push((key.trim().to_owned(), value.to_owned()));
        }
    }
    fields
}

/// The single value of `key` in `fields`, if any.
fn field<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    let mut values = fields.iter().filter(|(k, _)| k == key);
    let value = values.next().map(|(_, v)| v.as_str());
    assert!(values.next().is_none(), "{key} appears twice");
    value
}

/// `Some(text)` unless `text` is empty (the tools omit empty strings).
fn present(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

#[test]
fn lnkinfo_reads_every_field() {
    if !require_tool("lnkinfo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (s, path) in write_samples(dir.path()) {
        let out = quiet_stdout(Command::new("lnkinfo").arg(&path));
        let info = lnkinfo_section(&out, "Link information:");
        assert_eq!(field(&info, "Local path"), Some(s.target.as_str()), "{out}");
        assert_eq!(field(&info, "Description"), present(&s.description));
        assert_eq!(field(&info, "Working directory"), present(&s.working_dir));
        assert_eq!(
            field(&info, "Command line arguments"),
            present(&s.arguments)
        );
        assert_eq!(field(&info, "Icon location"), present(&s.icon_location));
        let index = s.icon_index.to_string();
        assert_eq!(field(&info, "Icon index"), Some(index.as_str()));
        // Not "Show Window value": lnkinfo 20181227 prints 0x00000000 for
        // every file; the lnkparse test checks the ShowCommand.
        assert_eq!(field(&info, "Drive type"), Some("Fixed (3)"));
        assert_eq!(field(&info, "Drive serial number"), Some("0xc4a10e5d"));
        for time in ["Creation time", "Modification time", "Access time"] {
            assert_eq!(
                field(&info, time),
                Some("Jan 01, 2024 00:00:00.000000000 UTC")
            );
        }
        assert_eq!(
            out.contains("\tContains an icon location block\n"),
            s.icon_location.contains('%')
        );

        let items = lnkinfo_section(&out, "Link target identifier:");
        assert_eq!(field(&items, "Shell folder name"), Some("My Computer"));
        let volume = format!("{}\\", &s.target[..2]);
        assert_eq!(field(&items, "Volume name"), Some(volume.as_str()));
        let long: Vec<&str> = items
            .iter()
            .filter(|(k, _)| k == "Long name")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(long, components(&s.target), "{out}");
        let signatures = items
            .iter()
            .filter(|(k, v)| k == "Signature" && v.as_str() == "0xbeef0004 (File entry extension)");
        assert_eq!(signatures.count(), long.len());
    }
}

#[test]
fn lnkparse_reads_target_arguments_and_working_dir() {
    if !require_tool("lnkparse") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (s, path) in write_samples(dir.path()) {
        let text = quiet_stdout(Command::new("lnkparse").arg("-j").arg(&path));
        let json: Value = serde_json::from_str(&text).unwrap();
        let str_at = |pointer: &str| json.pointer(pointer).and_then(Value::as_str);

        assert_eq!(
            str_at("/data/command_line_arguments"),
            present(&s.arguments)
        );
        assert_eq!(str_at("/data/working_directory"), present(&s.working_dir));
        assert_eq!(str_at("/data/description"), present(&s.description));
        assert_eq!(str_at("/data/icon_location"), present(&s.icon_location));

        assert_eq!(str_at("/link_info/location"), Some("Local"));
        assert_eq!(
            str_at("/link_info/location_info/drive_type"),
            Some("DRIVE_FIXED")
        );
        if s.target.is_ascii() {
            assert_eq!(
                str_at("/link_info/local_base_path"),
                Some(s.target.as_str())
            );
            assert_eq!(str_at("/link_info/local_base_path_unicode"), None);
        } else {
            assert_eq!(
                str_at("/link_info/local_base_path_unicode"),
                Some(s.target.as_str())
            );
            assert_eq!(str_at("/link_info/common_path_suffix_unicode"), Some(""));
        }
        assert_eq!(str_at("/link_info/common_path_suffix"), Some(""));

        let style = match s.show_command {
            ShowCommand::Normal => "SW_SHOWNORMAL",
            ShowCommand::Maximized => "SW_SHOWMAXIMIZED",
            ShowCommand::MinNoActive => "SW_SHOWMINNOACTIVE",
        };
        assert_eq!(str_at("/header/windowstyle"), Some(style));
        assert_eq!(
            json.pointer("/header/icon_index").and_then(Value::as_i64),
            Some(i64::from(s.icon_index))
        );
        assert_eq!(
            str_at("/extra/ICON_LOCATION_BLOCK/target_unicode"),
            s.icon_location
                .contains('%')
                .then_some(s.icon_location.as_str())
        );

        // The IDList: My Computer, the volume, then the short names.
        let items = json.pointer("/target/items").and_then(Value::as_array);
        let items = items.unwrap();
        let names = components(&s.target);
        assert_eq!(items.len(), 2 + names.len(), "{text}");
        assert_eq!(items[0]["class"], "Root Folder");
        assert_eq!(items[0]["guid"], "20D04FE0-3AEA-1069-A2D8-08002B30309D");
        assert_eq!(items[0]["sort_index"], "My Computer");
        assert_eq!(items[1]["class"], "Volume Item");
        assert_eq!(items[1]["volume_name"], format!("{}\\", &s.target[..2]));
        for (i, (item, name)) in items[2..].iter().zip(&names).enumerate() {
            assert_eq!(item["class"], "File entry");
            assert_eq!(item["primary_name"], idlist::short_name(name).as_str());
            let kind = if i + 1 == names.len() {
                "Is file"
            } else {
                "Is directory"
            };
            assert_eq!(item["flags"], kind);
        }

        let plain = quiet_stdout(Command::new("lnkparse").arg(&path));
        assert!(
            plain.starts_with("Windows Shortcut Information:"),
            "{plain}"
        );
    }
}

#[test]
fn file_calls_it_a_windows_shortcut() {
    if !require_tool("file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (s, path) in write_samples(dir.path()) {
        let out = quiet_stdout(Command::new("file").arg("-b").arg(&path));
        assert!(out.starts_with("MS Windows shortcut, "), "{out}");
        assert!(out.contains("Item id list present"), "{out}");
        assert!(out.contains("Points to a file or directory"), "{out}");
        assert_eq!(
            out.contains("Has command line arguments"),
            !s.arguments.is_empty(),
            "{out}"
        );
        assert!(out.contains("ctime=Mon Jan  1 00:00:00 2024"), "{out}");
    }
}
