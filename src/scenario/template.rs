//! `{placeholder}` templates in scenario strings.
//!
//! Placeholders: `{token}` (the run token), `{workdir}` (the run directory),
//! `{downloads}` (its download folder), `{artifact}` (the delivered file),
//! `{mount}` (the mounted image, real mounts only), `{profile}` (a throw-away
//! application profile), `{member}` (where the archive tool puts the
//! archive's member: a real extraction, or the tool an emulated run plays), `{message}` (the delivered email message, delivery
//! by email), `{password}` (the archive's password, which the lure's text
//! gives). `{{` and `}}` stand for literal braces.

use std::collections::BTreeMap;

/// Every placeholder name the format knows.
pub const KNOWN: [&str; 10] = [
    "token",
    "workdir",
    "downloads",
    "artifact",
    "mount",
    "profile",
    "programs",
    "member",
    "message",
    "password",
];

/// Values for rendering.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: BTreeMap<&'static str, String>,
}

impl Vars {
    /// Sets `name` (one of [`KNOWN`]) to `value`.
    pub fn set(&mut self, name: &'static str, value: impl Into<String>) -> &mut Self {
        self.values.insert(name, value.into());
        self
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Renders `text`; a placeholder without a value is an error naming it.
    pub fn render(&self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len() + 32);
        for piece in parse(text)? {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Brace(c) => out.push(c),
                Piece::Var(name) => match self.values.get(name) {
                    Some(v) => out.push_str(v),
                    None => return Err(format!("placeholder `{{{name}}}` has no value here")),
                },
            }
        }
        Ok(out)
    }

    /// Renders every element of `argv`.
    pub fn render_all(&self, argv: &[String]) -> Result<Vec<String>, String> {
        argv.iter().map(|a| self.render(a)).collect()
    }
}

enum Piece<'a> {
    Text(&'a str),
    Brace(char),
    Var(&'a str),
}

fn parse(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        pieces.push(Piece::Text(&rest[..i]));
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            pieces.push(Piece::Brace(if tail.starts_with('{') { '{' } else { '}' }));
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            return Err(format!(
                "unmatched `}}` in `{text}` (write `}}}}` for a literal)"
            ));
        }
        let end = tail
            .find('}')
            .ok_or_else(|| format!("unclosed `{{` in `{text}` (write `{{{{` for a literal)"))?;
        let name = &tail[1..end];
        let known = KNOWN.iter().find(|k| **k == name).ok_or_else(|| {
            format!(
                "unknown placeholder `{{{name}}}` (known: {})",
                KNOWN.join(", ")
            )
        })?;
        pieces.push(Piece::Var(known));
        rest = &tail[end + 1..];
    }
    pieces.push(Piece::Text(rest));
    Ok(pieces)
}

/// The placeholders `text` uses, or the syntax error.
pub fn placeholders(text: &str) -> Result<Vec<&'static str>, String> {
    Ok(parse(text)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Var(name) => KNOWN.iter().copied().find(|k| *k == name),
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_known_and_literal_braces() {
        let mut vars = Vars::default();
        vars.set("token", "cp0123456789").set("workdir", "/tmp/w");
        let cases = [
            ("Invoice-{token}.odt", "Invoice-cp0123456789.odt"),
            ("{workdir}/p-{token}", "/tmp/w/p-cp0123456789"),
            ("awk '{{print}}'", "awk '{print}'"),
            ("plain", "plain"),
        ];
        for (input, want) in cases {
            assert_eq!(vars.render(input).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn rejects_unknown_unset_and_broken() {
        let vars = Vars::default();
        assert!(vars.render("{token}").unwrap_err().contains("no value"));
        for bad in ["{nope}", "{token", "a}b"] {
            assert!(placeholders(bad).is_err(), "{bad}");
        }
        assert_eq!(
            placeholders("{mount}/x-{token}"),
            Ok(vec!["mount", "token"])
        );
    }
}
