//! A small reader for OpenSSH allowed-signers files (`ssh-keygen(1)`,
//! section ALLOWED SIGNERS): enough to ask "may this key sign in this
//! namespace?".

use ssh_key::{Algorithm, PublicKey, public::KeyData};

/// True when some line of allowed-signers `text` lists `key` as a plain key
/// (not `cert-authority`) whose `namespaces=` option, if any, admits
/// `namespace`. Unparseable lines are skipped, as `ssh-keygen` skips them.
pub(super) fn allows(text: &str, key: &KeyData, namespace: &str) -> bool {
    text.lines().any(|line| line_allows(line, key, namespace))
}

/// One line's verdict; comments, blank and malformed lines say no.
fn line_allows(line: &str, key: &KeyData, namespace: &str) -> bool {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return false;
    }
    let tokens = split_unquoted(line, |c| c.is_ascii_whitespace());
    // tokens[0] is the principals list; the key type follows, possibly
    // after one options token.
    let Some(at) = tokens
        .iter()
        .skip(1)
        .position(|t| Algorithm::new(t).is_ok())
        .map(|i| i + 1)
    else {
        return false;
    };
    if at > 2 {
        return false;
    }
    let Some(base64) = tokens.get(at + 1) else {
        return false;
    };
    let Ok(listed) = PublicKey::from_openssh(&format!("{} {base64}", tokens[at])) else {
        return false;
    };
    if listed.key_data() != key {
        return false;
    }
    let options = if at == 2 { tokens[1] } else { "" };
    options_allow(options, namespace)
}

/// Applies the comma-separated `options`: `cert-authority` rejects (a plain
/// signature is not a certificate), `namespaces="..."` must match.
fn options_allow(options: &str, namespace: &str) -> bool {
    for option in split_unquoted(options, |c| c == ',') {
        let (name, value) = match option.split_once('=') {
            Some((name, value)) => (name, value.trim_matches('"')),
            None => (option, ""),
        };
        if name.eq_ignore_ascii_case("cert-authority") {
            return false;
        }
        if name.eq_ignore_ascii_case("namespaces") && !pattern_list_matches(value, namespace) {
            return false;
        }
    }
    true
}

/// Splits `s` at characters where `sep` holds, except inside double
/// quotes; empty pieces are dropped.
fn split_unquoted(s: &str, sep: impl Fn(char) -> bool) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted && sep(c) {
            if i > start {
                out.push(&s[start..i]);
            }
            start = i + c.len_utf8();
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// OpenSSH `match_pattern_list`: a comma-separated list of `*`/`?` globs,
/// `!`-prefixed ones negating; true when some positive pattern matches and
/// no negated one does.
fn pattern_list_matches(list: &str, subject: &str) -> bool {
    let mut matched = false;
    for pattern in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some(negated) = pattern.strip_prefix('!') {
            if glob(negated.as_bytes(), subject.as_bytes()) {
                return false;
            }
        } else if glob(pattern.as_bytes(), subject.as_bytes()) {
            matched = true;
        }
    }
    matched
}

/// Glob match with `*` (any run) and `?` (any one byte).
fn glob(pattern: &[u8], subject: &[u8]) -> bool {
    match (pattern.first(), subject.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob(&pattern[1..], subject) || (!subject.is_empty() && glob(pattern, &subject[1..]))
        }
        (Some(b'?'), Some(_)) => glob(&pattern[1..], &subject[1..]),
        (Some(p), Some(s)) if p == s => glob(&pattern[1..], &subject[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_follow_openssh_rules() {
        assert!(pattern_list_matches("chainproof", "chainproof"));
        assert!(pattern_list_matches("git,chain*", "chainproof"));
        assert!(pattern_list_matches("*", "chainproof"));
        assert!(!pattern_list_matches("*,!chainproof", "chainproof"));
        assert!(!pattern_list_matches("git,file", "chainproof"));
        assert!(pattern_list_matches("chainpr??f", "chainproof"));
    }

    #[test]
    fn options_and_quotes_split() {
        assert_eq!(
            split_unquoted(r#"a@b namespaces="x, y" ssh-ed25519 AAAA c"#, |c| c == ' '),
            vec!["a@b", r#"namespaces="x, y""#, "ssh-ed25519", "AAAA", "c"]
        );
        assert!(options_allow(
            r#"namespaces="git,chainproof""#,
            "chainproof"
        ));
        assert!(!options_allow(r#"namespaces="git""#, "chainproof"));
        assert!(!options_allow("cert-authority", "chainproof"));
        assert!(options_allow(r#"valid-after="20240101""#, "chainproof"));
    }
}
