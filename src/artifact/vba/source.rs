//! The VBA module source: writing it for a host, code page 1252, and
//! reading the command line back out of it.

use super::{Host, VbaError};

/// The comment line every built module carries.
pub(super) const COMMENT: &str = "' Refreshes the invoice fields when the document opens.";

/// Module-level flag that keeps the two open handlers from running the
/// command twice (Word fires both `Document_Open` and `AutoOpen`, Excel both
/// `Workbook_Open` and `Auto_Open`).
const GUARD: &str = "fieldsRefreshed";

/// Names of the Subs Word and Excel run when a document opens.
pub(super) const OPEN_SUBS: [&str; 4] = ["AutoOpen", "Document_Open", "Auto_Open", "Workbook_Open"];

/// Code points of the bytes 0x80..=0x9F in Windows code page 1252; 0 marks
/// the five bytes it leaves undefined (decoded as the C1 control of the same
/// value, never produced when encoding).
const CP1252_HIGH: [u16; 32] = [
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
    0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
];

/// Writes the module source of `host`'s document module: the standard
/// attributes, the comment, and the two open handlers that each run
/// `Shell "<command_line>", vbHide` once between them. Lines end CRLF.
pub(super) fn module_source(host: Host, command_line: &str) -> Result<String, VbaError> {
    if command_line.is_empty() {
        return Err(VbaError::EmptyCommandLine);
    }
    if let Some((index, ch)) = command_line
        .chars()
        .enumerate()
        .find(|(_, c)| matches!(c, '\r' | '\n' | '\0'))
    {
        return Err(VbaError::LineBreakOrNul { index, ch });
    }
    encode_cp1252(command_line)?;
    let literal = command_line.replace('"', "\"\"");
    let (base, template_derived, subs) = match host {
        Host::Word => (
            "1Normal.ThisDocument",
            "True",
            ["AutoOpen", "Document_Open"],
        ),
        Host::Excel => (
            "0{00020819-0000-0000-C000-000000000046}",
            "False",
            ["Auto_Open", "Workbook_Open"],
        ),
    };
    let mut lines = vec![
        format!("Attribute VB_Name = \"{}\"", host.module_name()),
        format!("Attribute VB_Base = \"{base}\""),
        "Attribute VB_GlobalNameSpace = False".to_owned(),
        "Attribute VB_Creatable = False".to_owned(),
        "Attribute VB_PredeclaredId = True".to_owned(),
        "Attribute VB_Exposed = True".to_owned(),
        format!("Attribute VB_TemplateDerived = {template_derived}"),
        "Attribute VB_Customizable = True".to_owned(),
        COMMENT.to_owned(),
        format!("Private {GUARD} As Boolean"),
    ];
    for (index, name) in subs.iter().enumerate() {
        let private = if index == 0 { "" } else { "Private " };
        lines.extend([
            String::new(),
            format!("{private}Sub {name}()"),
            format!("    If {GUARD} Then Exit Sub"),
            format!("    {GUARD} = True"),
            format!("    Shell \"{literal}\", vbHide"),
            "End Sub".to_owned(),
        ]);
    }
    let mut source = lines.join("\r\n");
    source.push_str("\r\n");
    Ok(source)
}

/// Encodes `text` in Windows code page 1252.
pub(super) fn encode_cp1252(text: &str) -> Result<Vec<u8>, VbaError> {
    text.chars()
        .enumerate()
        .map(|(index, ch)| {
            let code = u32::from(ch);
            let byte = match code {
                0..=0x7F | 0xA0..=0xFF => u8::try_from(code).ok(),
                _ => CP1252_HIGH
                    .iter()
                    .position(|&c| c != 0 && u32::from(c) == code)
                    .and_then(|i| u8::try_from(0x80 + i).ok()),
            };
            byte.ok_or(VbaError::NotCp1252 { index, ch })
        })
        .collect()
}

/// Decodes Windows code page 1252 (the five undefined bytes become the C1
/// controls of the same value).
pub(super) fn decode_cp1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => match CP1252_HIGH[usize::from(b - 0x80)] {
                0 => char::from(b),
                c => char::from_u32(u32::from(c)).unwrap_or(char::REPLACEMENT_CHARACTER),
            },
            _ => char::from(b),
        })
        .collect()
}

/// The string literal of the first `Shell "…"` (or `Shell("…"`) call in the
/// first Sub named in [`OPEN_SUBS`], with `""` turned back into `"`.
pub(super) fn shell_literal(source: &str) -> Result<String, VbaError> {
    let mut lines = source.lines().map(str::trim);
    let sub = loop {
        let Some(line) = lines.next() else {
            return Err(VbaError::NoOpenSub);
        };
        if let Some(name) = sub_name(line)
            && OPEN_SUBS.iter().any(|s| s.eq_ignore_ascii_case(name))
        {
            break name.to_owned();
        }
    };
    for line in lines {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("end sub") {
            break;
        }
        if lower.starts_with('\'') || lower.starts_with("rem ") {
            continue;
        }
        if let Some(start) = shell_argument_start(line) {
            return parse_literal(&line[start..]).ok_or(VbaError::ShellLiteral { sub });
        }
    }
    Err(VbaError::NoShellCall { sub })
}

/// The name of the Sub a line opens, if it opens one.
fn sub_name(line: &str) -> Option<&str> {
    let mut words = line.split_whitespace();
    let mut word = words.next()?;
    if ["private", "public"]
        .iter()
        .any(|w| word.eq_ignore_ascii_case(w))
    {
        word = words.next()?;
    }
    if !word.eq_ignore_ascii_case("sub") {
        return None;
    }
    let name = words.next()?;
    Some(name.split('(').next().unwrap_or(name))
}

/// Byte index of the opening `"` of the first argument of a `Shell` call on
/// `line`, when that argument is a string literal.
fn shell_argument_start(line: &str) -> Option<usize> {
    let lower = line.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("shell") {
        let at = from + found;
        from = at + 5;
        let word_start = at == 0 || !is_ident_byte(lower.as_bytes()[at - 1]);
        let rest = &line[at + 5..];
        let after = rest.trim_start_matches([' ', '\t', '(']);
        let word_end = rest.bytes().next().is_some_and(|b| !is_ident_byte(b));
        if word_start && word_end && after.starts_with('"') {
            return Some(line.len() - after.len());
        }
    }
    None
}

/// Whether `b` can be part of a VBA identifier.
fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Reads the VBA string literal at the start of `text` (which starts with
/// `"`), turning `""` into `"`; `None` when it is not closed on the line.
fn parse_literal(text: &str) -> Option<String> {
    let mut chars = text.strip_prefix('"')?.chars().peekable();
    let mut value = String::new();
    while let Some(c) = chars.next() {
        if c == '"' && chars.next_if_eq(&'"').is_none() {
            return Some(value);
        }
        value.push(c);
    }
    None
}
