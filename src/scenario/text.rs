//! Characters a scenario string may not hold once YAML escapes are undone.
//!
//! A check of the raw file misses `"\e]0;pwned\a"`, `"\u202E"` or `"\0"`:
//! escapes are plain ASCII until the parser turns them into the characters
//! a terminal obeys. So every string of the parsed scenario (titles, ids,
//! names, chain arguments, map keys: every one) is checked here, and these
//! are refused:
//!
//! - C0 controls (U+0000..U+001F), DEL (U+007F) and C1 controls
//!   (U+0080..U+009F): terminal escapes, bells, carriage returns that
//!   overwrite what was printed, NUL that cuts an argument short;
//! - bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E,
//!   U+2066..U+2069), which reorder what a reader sees of a command line;
//! - invisible format characters (U+00AD, U+180E, U+200B..U+200D,
//!   U+2060..U+2064, U+206A..U+206F, U+FEFF, U+FFF9..U+FFFB, tags
//!   U+E0000..U+E007F) and the line and paragraph separators U+2028, U+2029.
//!
//! Only `description` and a message's body are prose spread over lines:
//! there a line feed and a tab are allowed. No other field has a use for them, and a line feed in a
//! title or an argument would let one line of output pose as two.

use super::Scenario;
use super::check::Problem;

/// Fields whose text may span lines (line feed and tab allowed).
const MULTI_LINE: &[&str] = &["description"];

/// Every string of `s` holding a refused character, one problem per string.
pub fn check(s: &Scenario) -> Vec<Problem> {
    let mut out = Vec::new();
    match serde_json::to_value(s) {
        Ok(value) => walk(&value, "", &mut out),
        Err(e) => out.push(Problem {
            field: "(document)".into(),
            message: format!("cannot be checked for control characters: {e}"),
        }),
    }
    out
}

fn walk(value: &serde_json::Value, field: &str, out: &mut Vec<Problem>) {
    match value {
        serde_json::Value::String(text) => string(field, text, out),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{field}[{i}]"), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                let inner = if field.is_empty() {
                    key.clone()
                } else {
                    format!("{field}.{key}")
                };
                // Map keys are user text too (`files` names files).
                if refused_in(key, false).is_some() {
                    string(field, key, out);
                    continue;
                }
                walk(item, &inner, out);
            }
        }
        _ => {}
    }
}

fn string(field: &str, text: &str, out: &mut Vec<Problem>) {
    let multi_line = MULTI_LINE.contains(&field) || field.ends_with(".delivery.mail.body");
    if let Some(c) = refused_in(text, multi_line) {
        let what = if c.is_control() {
            "a control character"
        } else {
            "an invisible or bidirectional formatting character"
        };
        let allowed = if multi_line {
            " (line feed and tab are allowed here)"
        } else {
            ""
        };
        out.push(Problem {
            field: field.to_string(),
            message: format!(
                "holds U+{:04X}, {what}: terminal escapes, bidirectional and invisible \
                 characters are refused{allowed}",
                u32::from(c)
            ),
        });
    }
}

/// The first refused character of `text`.
fn refused_in(text: &str, multi_line: bool) -> Option<char> {
    text.chars()
        .find(|&c| refused(c) && !(multi_line && matches!(c, '\n' | '\t')))
}

/// Whether `c` is refused in any scenario string (before the multi-line
/// allowance): line feed and tab, and every character the terminal
/// sanitiser would escape ([`crate::term::is_hostile`], the one list).
pub fn refused(c: char) -> bool {
    c == '\n' || c == '\t' || crate::term::is_hostile(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_and_invisibles_are_refused() {
        for c in [
            '\0',
            '\u{7}',
            '\u{1b}',
            '\r',
            '\u{7f}',
            '\u{85}',
            '\u{9b}',
            '\u{202e}',
            '\u{2066}',
            '\u{200b}',
            '\u{feff}',
            '\u{2028}',
            '\u{e0041}',
        ] {
            assert!(refused(c), "{c:?} accepted");
        }
        for c in ['a', ' ', 'é', '→', '\u{a0}', '日'] {
            assert!(!refused(c), "{c:?} refused");
        }
    }

    #[test]
    fn only_multi_line_fields_hold_line_feeds_and_tabs() {
        assert_eq!(refused_in("a\nb\tc", true), None);
        assert_eq!(refused_in("a\nb", false), Some('\n'));
        assert_eq!(refused_in("a\r\nb", true), Some('\r'));
    }
}
