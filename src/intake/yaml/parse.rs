//! YAML text to a typed value, with one shape of error for every loader
//! (scenarios, the config, gate policies, analytics, remote inventories):
//! `file:line:column: field: message`, the line and column where the parser
//! knows them, the parser's message without the location and field it
//! would repeat.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// A YAML file that is not what it should be, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {field}: {message}", location(path, *line, *column))]
pub struct YamlError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// 1-based column, where known.
    pub column: Option<usize>,
    /// Dotted path of the field (`variants.linux.chain[0].run`), or
    /// `(document)` when the error is not in a field.
    pub field: String,
    /// What is wrong, without location or field.
    pub message: String,
}

impl YamlError {
    /// The error without the file (for a caller that names the file
    /// itself): `line L column C: field: message`.
    pub fn in_file(&self) -> String {
        let at = match (self.line, self.column) {
            (Some(l), Some(c)) => format!("line {l} column {c}: "),
            (Some(l), None) => format!("line {l}: "),
            _ => String::new(),
        };
        format!("{at}{}: {}", self.field, self.message)
    }
}

/// `file:line:column`, `file:line` or `file`, as much as is known: where
/// every loader's error message starts.
pub fn location(path: &Path, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", path.display()),
        (Some(l), None) => format!("{}:{l}", path.display()),
        _ => path.display().to_string(),
    }
}

/// Parses `text` as a `T`: first the linear depth check ([`super::check`]),
/// so a hostile nesting never reaches the quadratic scanner, then serde,
/// tracking the field path for the error. `path` only names the file in
/// errors.
pub fn parse<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, YamlError> {
    super::check(text).map_err(|e| YamlError {
        path: path.to_path_buf(),
        field: "(document)".into(),
        line: Some(e.line),
        column: Some(e.column),
        message: e.to_string(),
    })?;
    let deserializer = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        // A syntax error has no field yet; name the deepest one reached.
        let field = super::field_name(&e.path().to_string());
        let inner = e.into_inner();
        let location = inner.location();
        YamlError {
            path: path.to_path_buf(),
            message: without_field(strip_location(&inner.to_string()), &field),
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
            field,
        }
    })
}

/// serde_yaml_ng may prefix its message with (part of) the field's path,
/// which is already shown in front.
fn without_field(message: String, field: &str) -> String {
    match message.split_once(": ") {
        Some((prefix, rest)) if field.starts_with(prefix) => rest.to_string(),
        _ => message,
    }
}

/// serde_yaml_ng appends " at line L column C"; the location is shown in
/// front instead. What follows it (", while parsing ...") is kept.
fn strip_location(message: &str) -> String {
    let Some(i) = message.find(" at line ") else {
        return message.to_string();
    };
    let rest = &message[i + " at line ".len()..];
    let after = rest.find(',').map_or("", |j| &rest[j..]);
    format!("{}{after}", &message[..i])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only parsed, to provoke errors")]
    struct Doc {
        name: String,
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only parsed, to provoke errors")]
    struct Item {
        run: Vec<String>,
    }

    fn error(text: &str) -> String {
        parse::<Doc>(text, Path::new("d.yaml"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn errors_name_line_column_and_field_once() {
        for (text, want) in [
            (
                "name: a\nitems:\n  - run: [x]\n    colour: red\n",
                "d.yaml:4:5: items[0].colour: unknown field `colour`, expected `run`",
            ),
            (
                "name: a\nitems:\n  - run: x\n",
                "d.yaml:3:10: items[0].run: invalid type: string \"x\", expected a sequence",
            ),
            (
                "name: a\nitems: [{run: [x]}\n",
                // Where the parser gave up is in front; where the sequence
                // began stays in the message.
                "d.yaml:3:1: items: did not find expected ',' or ']', \
                 while parsing a flow sequence at line 2 column 8",
            ),
            (
                "items: []\n",
                "d.yaml:1:1: (document): missing field `name`",
            ),
        ] {
            assert_eq!(error(text), want, "{text:?}");
        }
    }

    #[test]
    fn a_deep_text_is_refused_before_the_parser() {
        let deep = format!("x: {}{}\n", "[".repeat(100), "]".repeat(100));
        let err = parse::<BTreeMap<String, serde_yaml_ng::Value>>(&deep, Path::new("d.yaml"))
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert_eq!((err.field.as_str(), err.line), ("(document)", Some(1)));
        assert!(err.message.contains("nesting deeper than"), "{err}");
    }

    #[test]
    fn the_location_is_cut_and_what_follows_kept() {
        assert_eq!(
            strip_location("bad at line 3 column 4, while parsing a block"),
            "bad, while parsing a block"
        );
        assert_eq!(strip_location("bad at line 3 column 4"), "bad");
        assert_eq!(strip_location("bad"), "bad");
        assert_eq!(without_field("a.b: bad".into(), "a.b"), "bad");
        assert_eq!(without_field("x: bad".into(), "a.b"), "x: bad");
        let mut error = YamlError {
            path: "d.yaml".into(),
            line: None,
            column: None,
            field: "a".into(),
            message: "bad".into(),
        };
        assert_eq!(
            (error.to_string(), error.in_file()),
            ("d.yaml: a: bad".into(), "a: bad".into())
        );
        error.line = Some(3);
        assert_eq!(
            (error.to_string(), error.in_file()),
            ("d.yaml:3: a: bad".into(), "line 3: a: bad".into())
        );
    }
}
