//! RTF documents that carry a command in a `DDEAUTO` field.
//!
//! [`build`] writes an RTF 1.x document (ANSI, code page 1252, one font) with
//! a visible paragraph (an invoice line) and the field
//!
//! ```text
//! {\field{\*\fldinst DDEAUTO "<program>" "<arguments>" }{\fldrslt chainproof}}
//! ```
//!
//! which Word offers to start when the document opens (the DDE technique).
//! The text goes through two layers of escaping, innermost first:
//!
//! 1. field codes: inside the quoted arguments `\` becomes `\\` and `"`
//!    becomes `\"`, so `C:\Windows` is `"C:\\Windows"` in the field code;
//! 2. RTF: `\`, `{` and `}` get a backslash (`C:\Windows` ends up as
//!    `C:\\\\Windows` in the file), a tab is `\tab`, and each UTF-16 unit of
//!    a non-ASCII character is written `\uN?` (signed `N`, `\uc1`, `?` the
//!    fallback).
//!
//! The command line is split as Windows splits off the program: a quoted
//! program runs to its closing quote, an unquoted one to the first space or
//! tab; the arguments are the rest after that whitespace. [`read_command_line`]
//! joins them again, quoting the program only if it holds a space or tab and
//! putting one space before non-empty arguments. So the round trip is exact
//! for command lines in that canonical form, and otherwise gives an
//! equivalent one (`"C:\x.exe"  -a` comes back as `C:\x.exe -a`).
//!
//! Refused: an empty command line, one starting with whitespace, control
//! characters other than tab, a program with a `"` in it or an unclosed quote, and a quoted
//! program not followed by whitespace.

use crate::artifact::scripts::FormatError;

const FORMAT: &str = "rtf";

/// The visible text of the document.
pub const BODY_TEXT: &str = "Invoice INV-2024-0417 - EUR 1,284.50 due 1 May 2024";

/// Windows-1252 characters 0x80 to 0x9F (undefined ones map to C1 controls).
const CP1252_80: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// Builds the document whose `DDEAUTO` field runs `command_line`.
pub fn build(command_line: &str) -> Result<Vec<u8>, FormatError> {
    let (program, arguments) = split_program(command_line)?;
    let instruction = format!(
        "DDEAUTO {} {} ",
        field_quote(program),
        field_quote(arguments)
    );
    let text = format!(
        "{{\\rtf1\\ansi\\ansicpg1252\\deff0\\uc1\
         {{\\fonttbl{{\\f0\\fswiss\\fcharset0 Arial;}}}}\n\
         {{\\info{{\\title {BODY_TEXT}}}}}\n\
         \\pard\\plain\\f0\\fs24 {BODY_TEXT}\\par\n\
         \\pard\\plain\\f0\\fs24 {{\\field{{\\*\\fldinst {}}}{{\\fldrslt Invoice}}}}\\par\n\
         }}\n",
        rtf_escape(&instruction)
    );
    Ok(text.into_bytes())
}

/// Reads back the command line of the document's `DDEAUTO` field.
pub fn read_command_line(bytes: &[u8]) -> Result<String, FormatError> {
    if !bytes.starts_with(b"{\\rtf1") {
        return Err(malformed("it does not start with {\\rtf1"));
    }
    let instruction = field_instruction(bytes)?;
    let words = field_words(&instruction)?;
    let [keyword, program, rest @ ..] = words.as_slice() else {
        return Err(malformed("the field instruction has no program"));
    };
    if !keyword.eq_ignore_ascii_case("DDEAUTO") {
        return Err(malformed("the field is not a ddeauto field"));
    }
    let arguments = match rest {
        [] => "",
        [arguments] => arguments.as_str(),
        _ => return Err(malformed("the ddeauto field has more than two arguments")),
    };
    let mut line = if program.contains([' ', '\t']) {
        format!("\"{program}\"")
    } else {
        program.clone()
    };
    if !arguments.is_empty() {
        line.push(' ');
        line.push_str(arguments);
    }
    Ok(line)
}

fn malformed(detail: impl Into<String>) -> FormatError {
    FormatError::Malformed {
        format: FORMAT,
        detail: detail.into(),
    }
}

fn unencodable(command_line: &str, reason: &'static str) -> FormatError {
    FormatError::Unencodable {
        format: FORMAT,
        field: "the command line".to_owned(),
        value: command_line.to_owned(),
        reason,
    }
}

/// Splits off the program as Windows does; see the module documentation.
fn split_program(command_line: &str) -> Result<(&str, &str), FormatError> {
    if command_line.trim().is_empty() {
        return Err(FormatError::EmptyCommand { format: FORMAT });
    }
    if command_line.chars().any(|c| c.is_control() && c != '\t') {
        return Err(unencodable(command_line, "it holds a control character"));
    }
    if command_line.starts_with(char::is_whitespace) {
        return Err(unencodable(command_line, "it starts with whitespace"));
    }
    let (program, rest) = if let Some(quoted) = command_line.strip_prefix('"') {
        let end = quoted
            .find('"')
            .ok_or_else(|| unencodable(command_line, "the program's quote is not closed"))?;
        let rest = &quoted[end + 1..];
        if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
            return Err(unencodable(
                command_line,
                "the quoted program is not followed by whitespace",
            ));
        }
        (&quoted[..end], rest)
    } else {
        let end = command_line.find([' ', '\t']).unwrap_or(command_line.len());
        (&command_line[..end], &command_line[end..])
    };
    if program.is_empty() {
        return Err(FormatError::EmptyCommand { format: FORMAT });
    }
    if program.contains('"') {
        return Err(unencodable(command_line, "the program holds a '\"'"));
    }
    Ok((program, rest.trim_start_matches([' ', '\t'])))
}

/// A field-code argument: quoted, `\` and `"` escaped with a backslash.
fn field_quote(text: &str) -> String {
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

/// RTF text: `\`, `{`, `}` escaped, tab as `\tab`, non-ASCII as `\uN?` per
/// UTF-16 unit.
fn rtf_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push_str("\\tab "),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    // RTF takes a signed 16-bit parameter.
                    out.push_str(&format!("\\u{}?", i32::from(*unit as i16)));
                }
            }
        }
    }
    out
}

/// The plain text of the first `\fldinst` destination (nested groups
/// included), with RTF escapes undone.
fn field_instruction(bytes: &[u8]) -> Result<String, FormatError> {
    let mut depth = 0usize;
    // Depth of the group that holds \fldinst, once found.
    let mut inside: Option<usize> = None;
    let mut units: Vec<u16> = Vec::new();
    let mut uc = 1usize;
    let mut skip = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        match b {
            b'{' => depth += 1,
            b'}' => {
                if inside == Some(depth) {
                    return String::from_utf16(&units)
                        .map_err(|_| malformed("an unpaired surrogate in the field"));
                }
                depth = depth.saturating_sub(1);
            }
            b'\r' | b'\n' => {}
            b'\\' => {
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                    i += 1;
                }
                if start == i {
                    // A control symbol: \\ \{ \} \'hh and the rest.
                    let symbol = *bytes
                        .get(i)
                        .ok_or_else(|| malformed("a trailing backslash"))?;
                    i += 1;
                    let c = match symbol {
                        b'\'' => {
                            let hex = bytes
                                .get(i..i + 2)
                                .ok_or_else(|| malformed("a short \\'"))?;
                            i += 2;
                            let byte = std::str::from_utf8(hex)
                                .ok()
                                .and_then(|h| u8::from_str_radix(h, 16).ok())
                                .ok_or_else(|| malformed("a bad \\' escape"))?;
                            Some(cp1252(byte))
                        }
                        b'\\' | b'{' | b'}' => Some(char::from(symbol)),
                        b'~' => Some('\u{a0}'),
                        b'_' => Some('\u{2011}'),
                        _ => None,
                    };
                    if let (Some(c), Some(_)) = (c, inside) {
                        push_char(&mut units, &mut skip, c);
                    }
                    continue;
                }
                let word = &bytes[start..i];
                let num_start = i;
                if bytes.get(i) == Some(&b'-') {
                    i += 1;
                }
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let param: Option<i32> = std::str::from_utf8(&bytes[num_start..i])
                    .ok()
                    .and_then(|n| n.parse().ok());
                if bytes.get(i) == Some(&b' ') {
                    i += 1;
                }
                match (word, param) {
                    (b"fldinst", _) => inside = inside.or(Some(depth)),
                    (b"uc", Some(n)) => uc = usize::try_from(n).unwrap_or(0),
                    (b"u", Some(n)) if inside.is_some() => {
                        // Negative parameters stand for units above 0x7FFF.
                        units.push(n as u16);
                        skip = uc;
                    }
                    (b"tab", _) if inside.is_some() => push_char(&mut units, &mut skip, '\t'),
                    _ => {}
                }
            }
            _ if inside.is_some() => {
                let c = (1..=4)
                    .filter_map(|len| bytes.get(i - 1..i - 1 + len))
                    .find_map(|seq| std::str::from_utf8(seq).ok()?.chars().next())
                    .ok_or_else(|| malformed("a byte that is not utf-8 text"))?;
                i += c.len_utf8() - 1;
                push_char(&mut units, &mut skip, c);
            }
            _ => {}
        }
    }
    Err(malformed("no closed \\fldinst field instruction"))
}

/// Appends `c`, unless it is a `\uN` fallback character still to be skipped.
fn push_char(units: &mut Vec<u16>, skip: &mut usize, c: char) {
    if *skip > 0 {
        *skip -= 1;
        return;
    }
    let mut buf = [0u16; 2];
    units.extend_from_slice(c.encode_utf16(&mut buf));
}

fn cp1252(byte: u8) -> char {
    match byte {
        0x80..=0x9F => CP1252_80[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// Splits a field instruction into words: quoted runs (with `\\` and `\"`
/// escapes) or runs of non-whitespace (with `\\`).
fn field_words(instruction: &str) -> Result<Vec<String>, FormatError> {
    let mut words = Vec::new();
    let mut chars = instruction.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(first) = chars.next() else {
            return Ok(words);
        };
        let quoted = first == '"';
        let mut word = String::new();
        let mut pending = (!quoted).then_some(first);
        loop {
            let c = match pending.take() {
                Some(c) => c,
                None => match chars.next() {
                    Some(c) => c,
                    None if quoted => return Err(malformed("an unterminated quoted argument")),
                    None => break,
                },
            };
            match c {
                '"' if quoted => break,
                '\\' => word.push(chars.next().unwrap_or('\\')),
                c if !quoted && c.is_whitespace() => break,
                c => word.push(c),
            }
        }
        words.push(word);
    }
}

// These tests run host tools (Unix).
#[cfg(test)]
#[cfg(unix)]
mod tests;
