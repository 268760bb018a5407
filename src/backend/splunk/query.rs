//! SPL for a batch of tokens. Every interpolated value is a quoted SPL
//! string with `\` and `"` escaped; a `*` cannot be made literal in SPL, so
//! a value holding one is refused. The whole search is then form-encoded
//! by the HTTP layer.

/// Quotes `value` as an SPL string literal.
pub fn escape_spl(value: &str) -> Result<String, String> {
    if value.contains('*') {
        return Err(format!(
            "`{value}` holds `*`, which SPL cannot match literally"
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(format!(
            "`{}` holds a control character",
            value.escape_debug()
        ));
    }
    Ok(format!(
        "\"{}\"",
        value.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

fn any_token(tokens: &[&str]) -> Result<String, String> {
    let quoted: Result<Vec<String>, String> = tokens.iter().map(|t| escape_spl(t)).collect();
    Ok(format!("({})", quoted?.join(" OR ")))
}

/// Process and file events of any of `tokens`, one row per event, with
/// `_indextime` (when Splunk indexed the event: its arrival) and `_raw`:
/// the token search matches the raw text, so the row must carry it for
/// the attribution rule to tie the event to its run whichever field held
/// the token. The CIM Email data model's fields (`message_id`, `subject`,
/// `src_user`, `recipient`, `file_name`, `file_hash`) are asked for too: a
/// mail gateway's event the base search lets through (a profile whose
/// `events_search` adds `OR tag=email`) then ties to the mail hop.
pub fn events_search(base: &str, tokens: &[&str]) -> Result<String, String> {
    Ok(format!(
        "{base} {} | table _time _indextime host EventCode Image ParentImage CommandLine \
         ParentCommandLine ProcessId ParentProcessId ProcessGuid ParentProcessGuid User \
         TargetFilename message_id subject src_user recipient file_name file_hash _raw",
        any_token(tokens)?
    ))
}

/// Notables that mention any of `tokens`, with every field: which fields a
/// notable carries depends on the correlation search that raised it
/// (`orig_raw`, `dest`, `file_name`, `process`…), and a `table` of a
/// fixed list dropped the very field that held the token, leaving the
/// notable tied to no run.
pub fn notables_search(base: &str, tokens: &[&str]) -> Result<String, String> {
    Ok(format!("{base} {}", any_token(tokens)?))
}

/// `base` narrowed to its first event and counted (`count` is 0 or 1):
/// the prerequisite search proving something arrived in its time range.
pub fn count_search(base: &str) -> String {
    format!("{base} | head 1 | stats count")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_stay_inside_their_literal() {
        let cases = [
            ("cp0123456789", r#""cp0123456789""#),
            (r#"a"b"#, r#""a\"b""#),
            (r"C:\Users\x", r#""C:\\Users\\x""#),
            ("a | delete", r#""a | delete""#),
            ("x; y", r#""x; y""#),
            ("héllo", r#""héllo""#),
        ];
        for (value, want) in cases {
            assert_eq!(escape_spl(value).as_deref(), Ok(want), "{value}");
        }
        for bad in ["a*b", "line\nbreak", "tab\there"] {
            assert!(escape_spl(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn one_search_covers_every_token() -> Result<(), String> {
        let s = events_search("search index=*", &["cp0000000001", "cp0000000002"])?;
        assert!(
            s.starts_with(r#"search index=* ("cp0000000001" OR "cp0000000002") | table"#),
            "{s}"
        );
        assert!(s.contains(" _indextime ") && s.ends_with(" _raw"), "{s}");
        let n = notables_search("search `notable`", &["cp0000000001"])?;
        assert_eq!(
            n, r#"search `notable` ("cp0000000001")"#,
            "every field comes back"
        );
        assert_eq!(
            count_search("search index=*"),
            "search index=* | head 1 | stats count"
        );
        Ok(())
    }
}
