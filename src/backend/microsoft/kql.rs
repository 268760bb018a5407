//! KQL text shared by the `defender` and `sentinel` backends: string
//! literals, token filters and datetime literals.
//!
//! Every value that reaches a KQL query goes through [`string_literal`]; a
//! column name goes through [`column()`] (a fixed identifier shape, never
//! quoted or bracketed from input). The query text is then JSON-encoded by
//! the backend, a second, independent layer.
//!
//! The Kusto string docs (`kusto/query/scalar-data-types/string.md`) name the
//! escapes `\"`, `\\`, `\t` and `\n`, and require `\r` and `\n` to be quoted;
//! Microsoft's Kusto.Language library also writes `\r` and reads `\u` followed by four hex digits,
//! which is used for every other control character. These two are not in
//! the docs, but whatever the service makes of them, the literal stays
//! closed: no value can end it early or reach the query text.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Why a KQL fragment could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KqlError {
    /// A column name that is not a plain identifier.
    #[error("`{0}` is not a plain KQL column name")]
    Column(String),
    /// A time that cannot be written as a datetime literal.
    #[error("format the time {0} as a KQL datetime")]
    Time(String),
}

/// `value` as a double-quoted KQL string literal.
pub fn string_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // Line and paragraph separators are not `is_control`, but some
            // editors and parsers treat them as line breaks.
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `name` unchanged if it is a plain identifier (`[A-Za-z_][A-Za-z0-9_]*`).
pub fn column(name: &str) -> Result<&str, KqlError> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(name)
    } else {
        Err(KqlError::Column(name.to_string()))
    }
}

/// `(column contains "v1" or column contains "v2" ...)`; `false` when there
/// are no values, so the query stays valid and matches nothing.
pub fn any_contains(column_name: &str, values: &[&str]) -> Result<String, KqlError> {
    let col = column(column_name)?;
    if values.is_empty() {
        return Ok("false".into());
    }
    let terms: Vec<String> = values
        .iter()
        .map(|v| format!("{col} contains {}", string_literal(v)))
        .collect();
    Ok(format!("({})", terms.join(" or ")))
}

/// Any of `columns` contains any of `values`: one parenthesised disjunction.
pub fn any_column_contains(columns: &[&str], values: &[&str]) -> Result<String, KqlError> {
    let parts: Result<Vec<String>, KqlError> =
        columns.iter().map(|c| any_contains(c, values)).collect();
    let parts = parts?;
    if parts.is_empty() {
        return Ok("false".into());
    }
    Ok(format!("({})", parts.join(" or ")))
}

/// `datetime(2025-06-01T10:00:00Z)` for `at`, in UTC.
pub fn datetime(at: OffsetDateTime) -> Result<String, KqlError> {
    let utc = at.to_offset(time::UtcOffset::UTC);
    utc.format(&Rfc3339)
        .map(|t| format!("datetime({t})"))
        .map_err(|_| KqlError::Time(utc.to_string()))
}

/// `column between (datetime(from) .. datetime(to))`.
pub fn between(
    column_name: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<String, KqlError> {
    Ok(format!(
        "{} between ({} .. {})",
        column(column_name)?,
        datetime(from)?,
        datetime(to)?
    ))
}

/// One poll round's query over a table: rows of `source` in the window
/// whose `columns` contain any of `tokens`, projected and in time order.
#[derive(Debug, Clone, Copy)]
pub struct Search<'a> {
    /// The table expression, e.g. `SecurityEvent` or a `union`.
    pub source: &'a str,
    /// The time column.
    pub time: &'a str,
    /// Start of the window.
    pub from: OffsetDateTime,
    /// End of the window.
    pub to: OffsetDateTime,
    /// Fixed conditions, each its own `| where` (written here, never
    /// from input).
    pub filters: &'a [&'a str],
    /// Columns a token is looked for in.
    pub columns: &'a [&'a str],
    /// The batch's run tokens.
    pub tokens: &'a [&'a str],
    /// The `project` list (its first column should be the time column).
    pub project: &'a str,
}

/// The KQL text of `s`; tokens enter only through [`string_literal`].
pub fn search(s: &Search<'_>) -> Result<String, KqlError> {
    let mut q = format!("{}\n| where {}\n", s.source, between(s.time, s.from, s.to)?);
    for f in s.filters {
        q.push_str(&format!("| where {f}\n"));
    }
    q.push_str(&format!(
        "| where {}\n| project {}\n| order by {} asc",
        any_column_contains(s.columns, s.tokens)?,
        s.project,
        column(s.time)?
    ));
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a literal back with the documented escapes plus `\r` and
    /// `\u` followed by four hex digits, failing on a raw quote, backslash or control character.
    fn decode(literal: &str) -> Option<String> {
        let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next()? {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'u' => {
                        let hex: String = chars.by_ref().take(4).collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    _ => return None,
                },
                '"' => return None,
                c if c.is_control() => return None,
                c => out.push(c),
            }
        }
        Some(out)
    }

    #[test]
    fn hostile_values_stay_inside_their_literal() {
        let cases = [
            ("cp0123456789", r#""cp0123456789""#),
            (r#"a"b"#, r#""a\"b""#),
            (r#"" or 1==1 or ""#, r#""\" or 1==1 or \"""#),
            (r"C:\Users\lab user\x", r#""C:\\Users\\lab user\\x""#),
            ("trailing\\", r#""trailing\\""#),
            ("\\\"", r#""\\\"""#),
            ("a | take 1", r#""a | take 1""#),
            ("x; y", r#""x; y""#),
            ("a*b?", r#""a*b?""#),
            ("it's", r#""it's""#),
            ("line\nbreak", r#""line\nbreak""#),
            ("cr\rlf", r#""cr\rlf""#),
            ("tab\there", r#""tab\there""#),
            ("nul\0bell\u{7}", r#""nul\u0000bell\u0007""#),
            ("del\u{7f}c1\u{85}", r#""del\u007fc1\u0085""#),
            ("ls\u{2028}ps\u{2029}", r#""ls\u2028ps\u2029""#),
            ("héllo — 日本 🙂", r#""héllo — 日本 🙂""#),
            ("// comment", r#""// comment""#),
            ("", r#""""#),
        ];
        for (value, want) in cases {
            let got = string_literal(value);
            assert_eq!(got, want, "{value:?}");
            assert_eq!(decode(&got).as_deref(), Some(value), "{value:?}");
        }
    }

    #[test]
    fn token_filters_quote_values_and_check_columns() {
        assert_eq!(
            any_contains("ProcessCommandLine", &["cp1", r#"x" or true"#]),
            Ok(r#"(ProcessCommandLine contains "cp1" or ProcessCommandLine contains "x\" or true")"#.into())
        );
        assert_eq!(any_contains("FileName", &[]), Ok("false".into()));
        assert_eq!(
            any_column_contains(&["A", "_b9"], &["t"]),
            Ok(r#"((A contains "t") or (_b9 contains "t"))"#.into())
        );
        for bad in [
            "", "1st", "a b", "a|take", "Col;", "a-b", "['x']", "Ünï", "x\n",
        ] {
            assert_eq!(
                any_contains(bad, &["t"]),
                Err(KqlError::Column(bad.into())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn datetimes_are_utc_literals() -> Result<(), KqlError> {
        let at = time::macros::datetime!(2025-06-01 12:00:00 +02:00);
        let to = time::macros::datetime!(2025-06-01 10:20:00.5 UTC);
        assert_eq!(datetime(at)?, "datetime(2025-06-01T10:00:00Z)");
        assert_eq!(
            between("Timestamp", at, to)?,
            "Timestamp between (datetime(2025-06-01T10:00:00Z) .. datetime(2025-06-01T10:20:00.5Z))"
        );
        assert!(between("Time stamp", at, to).is_err());
        Ok(())
    }
}
