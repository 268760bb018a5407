//! Windows registry import files (`.reg`), as `regedit /e` exports them.
//!
//! The format is "Windows Registry Editor Version 5.00": UTF-16LE text with
//! a byte order mark and CRLF line ends; the header line, a blank line, then
//! for each key a `[key]` line, its values as `"name"="data"` lines (`@` for
//! the default value; `\` and `"` escaped with a backslash) and a blank line.
//! Only `REG_SZ` values are written.
//!
//! Benign by construction: [`build`], [`delete_file`] and [`parse`] refuse
//! every key that is not strictly below [`ROOT`]
//! (`HKEY_CURRENT_USER\Software\chainproof`; compared case-insensitively, as
//! the registry compares names). Names and data may not hold a carriage
//! return, line feed or NUL, which a `REG_SZ` line cannot carry.

use crate::artifact::scripts::FormatError;

/// The subtree every key must lie below.
pub const ROOT: &str = "HKEY_CURRENT_USER\\Software\\chainproof";

/// The first line of every file.
pub const HEADER: &str = "Windows Registry Editor Version 5.00";

const FORMAT: &str = "registry";

/// Longest key name component the registry accepts.
const MAX_KEY_COMPONENT: usize = 255;

/// One `REG_SZ` value to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegValue {
    /// Full key path, e.g. `HKEY_CURRENT_USER\Software\chainproof\cp0123456789`.
    pub key: String,
    /// Value name; empty for the key's default value (`@`).
    pub name: String,
    /// The string data (`REG_SZ`).
    pub data: String,
}

/// Writes a registry file that sets `values`, in order; consecutive values
/// of the same key share one `[key]` section.
pub fn build(values: &[RegValue]) -> Result<Vec<u8>, FormatError> {
    let mut text = format!("{HEADER}\r\n\r\n");
    let mut current: Option<&str> = None;
    for value in values {
        check_key(&value.key)?;
        check_text("the value name", &value.name)?;
        check_text("the value data", &value.data)?;
        if current != Some(value.key.as_str()) {
            if current.is_some() {
                text.push_str("\r\n");
            }
            text.push_str(&format!("[{}]\r\n", value.key));
            current = Some(&value.key);
        }
        if value.name.is_empty() {
            text.push('@');
        } else {
            text.push_str(&quote(&value.name));
        }
        text.push('=');
        text.push_str(&quote(&value.data));
        text.push_str("\r\n");
    }
    if current.is_some() {
        text.push_str("\r\n");
    }
    Ok(encode(&text))
}

/// Writes the cleanup file that deletes `keys` (and everything below them)
/// with `[-key]` sections.
pub fn delete_file(keys: &[String]) -> Result<Vec<u8>, FormatError> {
    let mut text = format!("{HEADER}\r\n\r\n");
    for key in keys {
        check_key(key)?;
        text.push_str(&format!("[-{key}]\r\n\r\n"));
    }
    Ok(encode(&text))
}

/// Reads the values a file written by [`build`] sets.
///
/// Accepts what `regedit` exports of string values: blank lines and `;`
/// comments anywhere, LF as well as CRLF line ends. Refuses deletions, other
/// value types and keys outside [`ROOT`].
pub fn parse(bytes: &[u8]) -> Result<Vec<RegValue>, FormatError> {
    let text = decode(bytes)?;
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.trim().is_empty() && !l.starts_with(';'));
    if lines.next() != Some(HEADER) {
        return Err(malformed(format!("the first line is not {HEADER:?}")));
    }
    let mut values = Vec::new();
    let mut key: Option<String> = None;
    for line in lines {
        if let Some(section) = line.strip_prefix('[') {
            let name = section
                .trim_end()
                .strip_suffix(']')
                .ok_or_else(|| malformed(format!("an unclosed key line {line:?}")))?;
            if name.starts_with('-') {
                return Err(malformed(format!("a key deletion {line:?}")));
            }
            check_key(name)?;
            key = Some(name.to_owned());
            continue;
        }
        let key = key
            .clone()
            .ok_or_else(|| malformed(format!("a value before any key: {line:?}")))?;
        let (name, rest) = match line.strip_prefix('@') {
            Some(rest) => (String::new(), rest),
            None => unquote(line)?,
        };
        let rest = rest
            .strip_prefix('=')
            .ok_or_else(|| malformed(format!("no '=' in {line:?}")))?;
        if !rest.starts_with('"') {
            return Err(malformed(format!("a value that is not a string: {line:?}")));
        }
        let (data, tail) = unquote(rest)?;
        if !tail.trim().is_empty() {
            return Err(malformed(format!("text after the value in {line:?}")));
        }
        values.push(RegValue { key, name, data });
    }
    Ok(values)
}

fn malformed(detail: String) -> FormatError {
    FormatError::Malformed {
        format: FORMAT,
        detail,
    }
}

/// Refuses keys not strictly below [`ROOT`], and key paths the registry or
/// the `[key]` line cannot hold.
fn check_key(key: &str) -> Result<(), FormatError> {
    let forbidden = || FormatError::ForbiddenKey {
        key: key.to_owned(),
        root: ROOT,
    };
    let prefix_len = ROOT.len() + 1;
    let (Some(prefix), Some(below)) = (key.get(..prefix_len), key.get(prefix_len..)) else {
        return Err(forbidden());
    };
    if below.is_empty() || !prefix.eq_ignore_ascii_case(&format!("{ROOT}\\")) {
        return Err(forbidden());
    }
    let reason = if below.split('\\').any(str::is_empty) {
        Some("a key name component is empty")
    } else if below
        .split('\\')
        .any(|c| c.chars().count() > MAX_KEY_COMPONENT)
    {
        Some("a key name component is longer than 255 characters")
    } else if below
        .chars()
        .any(|c| c.is_control() || c == '[' || c == ']')
    {
        Some("it holds a control character, '[' or ']'")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(FormatError::Unencodable {
            format: FORMAT,
            field: "the key".to_owned(),
            value: key.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

fn check_text(field: &str, value: &str) -> Result<(), FormatError> {
    if value.contains(['\r', '\n', '\0']) {
        return Err(FormatError::Unencodable {
            format: FORMAT,
            field: field.to_owned(),
            value: value.to_owned(),
            reason: "a string value cannot hold a carriage return, line feed or nul",
        });
    }
    Ok(())
}

/// `"text"` with `\` and `"` escaped.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if matches!(c, '\\' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The quoted string at the start of `s` and the text after it.
fn unquote(s: &str) -> Result<(String, &str), FormatError> {
    let body = s
        .strip_prefix('"')
        .ok_or_else(|| malformed(format!("no opening quote in {s:?}")))?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &body[i + 1..])),
            '\\' => match chars.next() {
                Some((_, e)) => out.push(e),
                None => break,
            },
            _ => out.push(c),
        }
    }
    Err(malformed(format!("an unterminated string in {s:?}")))
}

/// UTF-16LE with a byte order mark.
fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + text.len() * 2);
    out.extend_from_slice(&[0xFF, 0xFE]);
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

fn decode(bytes: &[u8]) -> Result<String, FormatError> {
    let body = bytes
        .strip_prefix(&[0xFF, 0xFE])
        .ok_or_else(|| malformed("no utf-16le byte order mark".to_owned()))?;
    if body.len() % 2 != 0 {
        return Err(malformed("an odd number of utf-16 bytes".to_owned()));
    }
    let units: Vec<u16> = body
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| malformed("invalid utf-16".to_owned()))
}

#[cfg(test)]
mod tests;
