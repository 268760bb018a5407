//! ATT&CK tags in Sigma's spelling (`attack.t1204.002`, `attack.execution`)
//! from the free-form text Microsoft's alert tables carry: technique lists
//! such as `["User Execution: Malicious File (T1204.002)"]` or `T1204, T1059`,
//! and tactics or categories such as `Execution`, `InitialAccess` or
//! `Defense Evasion`. Shared by the `defender` and `sentinel` backends.

/// Enterprise ATT&CK tactics, in Sigma's tag spelling.
const TACTICS: [&str; 14] = [
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
];

/// Every technique id (`T1234` or `T1234.567`) in `text`, as `attack.t1234.567`.
pub fn technique_tags(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let digits = |from: usize, n: usize| {
        b.get(from..from + n)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let mut tags = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts_word = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if starts_word && (b[i] == b'T' || b[i] == b't') && digits(i + 1, 4) {
            let mut end = i + 5;
            if b.get(end) == Some(&b'.') && digits(end + 1, 3) {
                end += 4;
            }
            if !b.get(end).is_some_and(u8::is_ascii_alphanumeric) {
                let tag = format!("attack.{}", text[i..end].to_ascii_lowercase());
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
                i = end;
                continue;
            }
        }
        i += 1;
    }
    tags
}

/// The tactic tags named in `text`: one name, or a list separated by commas
/// or written as a JSON array. Names that are not ATT&CK tactics (Defender
/// categories such as `Malware`) give no tag.
pub fn tactic_tags(text: &str) -> Vec<String> {
    let mut tags = Vec::new();
    for part in text.split([',', ';', '[', ']', '"', '\n']) {
        let key: String = part
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if key.is_empty() {
            continue;
        }
        if let Some(t) = TACTICS.iter().find(|t| t.replace('-', "") == key) {
            let tag = format!("attack.{t}");
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_are_found_in_free_text() {
        let cases: [(&str, &[&str]); 7] = [
            (
                r#"["User Execution: Malicious File (T1204.002)"]"#,
                &["attack.t1204.002"],
            ),
            (
                r#"["T1204","T1059.001"]"#,
                &["attack.t1204", "attack.t1059.001"],
            ),
            ("T1204, T1204", &["attack.t1204"]),
            ("t1566.001", &["attack.t1566.001"]),
            ("AT12045 T12 T1204x", &[]),
            ("T1204.02", &["attack.t1204"]),
            ("", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(technique_tags(text), want, "{text}");
        }
    }

    #[test]
    fn tactics_accept_each_spelling_and_skip_categories() {
        let cases: [(&str, &[&str]); 6] = [
            ("Execution", &["attack.execution"]),
            (
                "InitialAccess, DefenseEvasion",
                &["attack.initial-access", "attack.defense-evasion"],
            ),
            (
                r#"["Command and Control"]"#,
                &["attack.command-and-control"],
            ),
            ("initial_access", &["attack.initial-access"]),
            ("Malware", &[]),
            ("SuspiciousActivity", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(tactic_tags(text), want, "{text}");
        }
    }
}
