//! Reading process identity out of a record's fields: texts with Sysmon's
//! "unknown" placeholders treated as absent, pids in decimal or hex, GUIDs
//! as numbers so the process table hashes 16 bytes instead of a string.

use serde_json::{Map, Value};

/// A field's text; Sysmon's placeholders for "unknown" (`?`, `-`, empty)
/// count as absent.
pub(super) fn text<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    let v = fields.get(key).and_then(Value::as_str)?.trim();
    (!(v.is_empty() || v == "?" || v == "-")).then_some(v)
}

/// A pid: a JSON number, a decimal string, or a `0x` hex string (Security
/// 4689 writes the exiting pid in hex).
pub(super) fn pid(fields: &Map<String, Value>, key: &str) -> Option<u64> {
    let v = fields.get(key)?;
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    let s = v.as_str()?.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// A process GUID as its 128 bits, braces and dashes ignored; `None` when
/// absent, malformed, or the all-zero GUID Sysmon writes for "unknown".
pub(super) fn guid(fields: &Map<String, Value>, key: &str) -> Option<u128> {
    let s = fields.get(key)?.as_str()?;
    let mut value: u128 = 0;
    let mut digits = 0;
    for c in s.chars() {
        match c {
            '{' | '}' | '-' | ' ' => {}
            _ => {
                value = (value << 4) | u128::from(c.to_digit(16)?);
                digits += 1;
            }
        }
    }
    (digits == 32 && value != 0).then_some(value)
}

/// The last path component, for either separator.
pub(super) fn basename(image: &str) -> &str {
    image.rsplit(['/', '\\']).next().unwrap_or(image)
}

/// True when two images name the same executable file, ignoring folders
/// and case (Sysmon and Security spell paths alike, but a child's
/// `ParentImage` and the parent's `Image` may differ in case).
pub(super) fn same_file(a: &str, b: &str) -> bool {
    basename(a).eq_ignore_ascii_case(basename(b))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pids_guids_and_placeholders_parse() {
        let f = json!({"a": 12, "b": " 34 ", "c": "0x1a2c", "d": "x",
            "g": "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}",
            "z": "{00000000-0000-0000-0000-000000000000}", "q": "?", "s": "-"});
        let f = f.as_object().cloned().unwrap_or_default();
        let pids: Vec<Option<u64>> = ["a", "b", "c", "d", "none"]
            .iter()
            .map(|k| pid(&f, k))
            .collect();
        assert_eq!(pids, [Some(12), Some(34), Some(0x1a2c), None, None]);
        assert_eq!(
            guid(&f, "g"),
            Some(0x5770385f_c22a_43e0_bf4c_06f5698ffbd9_u128)
        );
        assert_eq!((guid(&f, "z"), guid(&f, "a")), (None, None));
        assert_eq!(
            (text(&f, "q"), text(&f, "s"), text(&f, "d")),
            (None, None, Some("x"))
        );
        assert!(same_file(
            "C:\\Windows\\CMD.EXE",
            "c:\\windows\\system32\\cmd.exe"
        ));
        assert!(!same_file("/usr/bin/bash", "/usr/bin/dash"));
    }
}
