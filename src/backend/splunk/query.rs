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

/// Process and file events of any of `tokens`, one row per event.
pub fn events_search(base: &str, tokens: &[&str]) -> Result<String, String> {
    Ok(format!(
        "{base} {} | table _time host EventCode Image ParentImage CommandLine ParentCommandLine \
         ProcessId ParentProcessId ProcessGuid ParentProcessGuid User TargetFilename",
        any_token(tokens)?
    ))
}

/// Notables that mention any of `tokens`.
pub fn notables_search(base: &str, tokens: &[&str]) -> Result<String, String> {
    Ok(format!(
        "{base} {} | table _time rule_id rule_name search_name orig_sid severity urgency \
         annotations.mitre_attack annotations.mitre_attack.mitre_tactic process process_id process_path \
         parent_process parent_process_id dest",
        any_token(tokens)?
    ))
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
        Ok(())
    }
}
