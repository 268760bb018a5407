//! Parsers for the literals the script builders write: JScript and
//! AppleScript string literals, VBScript string expressions, and
//! single-quoted shell words.

use super::FormatError;

fn malformed(format: &'static str, detail: impl Into<String>) -> FormatError {
    FormatError::Malformed {
        format,
        detail: detail.into(),
    }
}

/// Decodes collected UTF-16 code units (escapes may encode surrogates).
fn from_units(format: &'static str, units: &[u16]) -> Result<String, FormatError> {
    String::from_utf16(units).map_err(|_| malformed(format, "an unpaired surrogate escape"))
}

/// The JScript string literal at the start of `rest` (after whitespace).
pub(super) fn js_string(format: &'static str, rest: &str) -> Result<String, FormatError> {
    let rest = rest.trim_start();
    let mut chars = rest.chars();
    let quote = match chars.next() {
        Some(q @ ('"' | '\'')) => q,
        _ => {
            return Err(malformed(
                format,
                "the run argument is not a string literal",
            ));
        }
    };
    let mut units: Vec<u16> = Vec::new();
    let mut buf = [0u16; 2];
    loop {
        let c = chars
            .next()
            .ok_or_else(|| malformed(format, "an unterminated string literal"))?;
        if c == quote {
            return from_units(format, &units);
        }
        if matches!(c, '\r' | '\n') {
            return Err(malformed(format, "a line break in a string literal"));
        }
        if c != '\\' {
            units.extend_from_slice(c.encode_utf16(&mut buf));
            continue;
        }
        let e = chars
            .next()
            .ok_or_else(|| malformed(format, "an unterminated escape"))?;
        let simple = match e {
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'v' => Some('\u{b}'),
            '0' => Some('\0'),
            'u' | 'x' => None,
            other => Some(other),
        };
        if let Some(s) = simple {
            units.extend_from_slice(s.encode_utf16(&mut buf));
            continue;
        }
        let len = if e == 'u' { 4 } else { 2 };
        let digits: String = chars.by_ref().take(len).collect();
        let unit = match u16::from_str_radix(&digits, 16) {
            Ok(unit) if digits.len() == len => unit,
            _ => return Err(malformed(format, format!("a bad \\{e} escape"))),
        };
        units.push(unit);
    }
}

/// The VBScript string expression (quoted runs and `ChrW(N)` terms joined by
/// `&`) at the start of `rest`, ending at `,` or the end of the line.
pub(super) fn vb_expr(format: &'static str, rest: &str) -> Result<String, FormatError> {
    let line = rest.lines().next().unwrap_or_default();
    let mut units: Vec<u16> = Vec::new();
    let mut s = line.trim_start();
    loop {
        if let Some(after) = s.strip_prefix('"') {
            let mut text = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next() {
                    None => return Err(malformed(format, "an unterminated string literal")),
                    Some((i, '"')) if after[i + 1..].starts_with('"') => {
                        text.push('"');
                        chars.next();
                    }
                    Some((i, '"')) => break i + 1,
                    Some((_, c)) => text.push(c),
                }
            };
            units.extend(text.encode_utf16());
            s = &after[end..];
        } else if s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("chrw(")) {
            let close = s
                .find(')')
                .ok_or_else(|| malformed(format, "an unclosed chrw("))?;
            let unit: u16 = s[5..close]
                .trim()
                .parse()
                .map_err(|_| malformed(format, format!("a bad term {:?}", &s[..=close])))?;
            units.push(unit);
            s = &s[close + 1..];
        } else {
            return Err(malformed(format, format!("an unexpected term at {s:?}")));
        }
        s = s.trim_start();
        match s.strip_prefix('&') {
            Some(next) => s = next.trim_start(),
            None if s.is_empty() || s.starts_with(',') => return from_units(format, &units),
            None => return Err(malformed(format, format!("unexpected text {s:?}"))),
        }
    }
}

/// The AppleScript string literal starting right after its opening quote.
pub(super) fn applescript_string(format: &'static str, rest: &str) -> Result<String, FormatError> {
    let mut out = String::new();
    let mut chars = rest.chars();
    loop {
        match chars.next() {
            None => return Err(malformed(format, "an unterminated string literal")),
            Some('"') => return Ok(out),
            Some('\\') => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(c @ ('\\' | '"')) => out.push(c),
                _ => return Err(malformed(format, "a bad escape in a string literal")),
            },
            Some(c) => out.push(c),
        }
    }
}

/// Splits a shell command line made of single-quoted runs, backslash
/// escapes and plain characters into words. Characters the shell would
/// expand or treat as operators are refused rather than interpreted.
pub(super) fn sh_words(format: &'static str, line: &str) -> Result<Vec<String>, FormatError> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(q) => w.push(q),
                        None => return Err(malformed(format, "an unterminated single quote")),
                    }
                }
            }
            '\\' => {
                let q = chars
                    .next()
                    .ok_or_else(|| malformed(format, "a trailing backslash"))?;
                word.get_or_insert_with(String::new).push(q);
            }
            '"' | '$' | '`' | ';' | '&' | '|' | '<' | '>' | '(' | ')' | '*' | '?' | '[' | '#'
            | '~' | '\n' | '\r' => {
                return Err(malformed(
                    format,
                    format!("an unquoted shell metacharacter {c:?}"),
                ));
            }
            _ => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    if words.first().is_none_or(|w| w.is_empty()) {
        return Err(malformed(format, "no program in the command line"));
    }
    Ok(words)
}
