//! The result tables of Microsoft's two KQL services and the cell readers
//! both backends share: advanced hunting (`runHuntingQuery`: `schema` and
//! `results`, one JSON object per row keyed by column name) and Log
//! Analytics (`tables[].columns` and positional `rows`, cells often strings
//! whatever the column type) both become [`Row`]s keyed by column name.
//!
//! Cells are read leniently — a number may arrive as a string, a pid in hex —
//! because Log Analytics sends most cells as strings.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::backend::ErrorKind;

/// One result row, keyed by column name.
pub type Row = Map<String, Value>;

/// The rows of a `runHuntingQuery` answer (`results`, or `Results` as the
/// legacy endpoints spell it). A body without them is malformed.
pub fn parse_hunting(body: &[u8]) -> Result<Vec<Row>, ErrorKind> {
    let bad = |detail: &str| ErrorKind::malformed("hunting answer", detail);
    let answer: Map<String, Value> =
        serde_json::from_slice(body).map_err(|e| ErrorKind::malformed("hunting answer", e))?;
    let results = answer
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("results"))
        .map(|(_, v)| v)
        .ok_or_else(|| bad("no `results`"))?;
    let Value::Array(rows) = results else {
        return Err(bad("`results` is not an array"));
    };
    rows.iter()
        .map(|r| match r {
            Value::Object(o) => Ok(o.clone()),
            _ => Err(bad("a result is not an object")),
        })
        .collect()
}

/// The rows of the `PrimaryResult` table (or the first table), each keyed
/// by column name. An `error` in the answer, even beside tables (a partial
/// result), is an error: a partial answer would read as a miss.
pub fn parse_query(body: &[u8]) -> Result<Vec<Row>, ErrorKind> {
    let bad = |detail: &str| ErrorKind::malformed("query answer", detail);
    let answer: Map<String, Value> =
        serde_json::from_slice(body).map_err(|e| ErrorKind::malformed("query answer", e))?;
    if let Some(err) = answer.get("error").filter(|e| !e.is_null()) {
        let code = err.get("code").and_then(Value::as_str).unwrap_or("error");
        let message = err.get("message").and_then(Value::as_str).unwrap_or("");
        return Err(ErrorKind::Other(format!(
            "the query failed: {code}: {message}"
        )));
    }
    let tables = answer
        .get("tables")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `tables`"))?;
    let table = tables
        .iter()
        .find(|t| t.get("name").and_then(Value::as_str) == Some("PrimaryResult"))
        .or_else(|| tables.first());
    let Some(table) = table else {
        return Ok(Vec::new());
    };
    let columns: Vec<String> = table
        .get("columns")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("a table without `columns`"))?
        .iter()
        .map(|c| {
            c.get("name")
                .and_then(Value::as_str)
                .map(String::from)
                .ok_or_else(|| bad("a column without a name"))
        })
        .collect::<Result<_, _>>()?;
    let rows = table
        .get("rows")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("a table without `rows`"))?;
    rows.iter()
        .map(|r| match r {
            Value::Array(cells) if cells.len() == columns.len() => {
                Ok(columns.iter().cloned().zip(cells.iter().cloned()).collect())
            }
            _ => Err(bad("a row does not match the columns")),
        })
        .collect()
}

/// A cell as text; numbers and booleans are written out, empty is `None`.
pub fn text(row: &Row, key: &str) -> Option<String> {
    match row.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A process id from a number, a decimal string or a `0x` hex string (as
/// Windows security event 4688 writes them).
pub fn pid(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => {
            let s = s.trim();
            match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => s.parse().ok(),
            }
        }
        _ => None,
    }
}

/// A cell as a process id.
pub fn pid_of(row: &Row, key: &str) -> Option<u64> {
    row.get(key).and_then(pid)
}

/// A cell as a time (ISO 8601, any number of fraction digits).
pub fn time_of(row: &Row, key: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(&text(row, key)?, &Rfc3339).ok()
}

/// The full path of a file from a folder and a name. The table docs call
/// `FolderPath` the folder containing the file, yet answers often hold the
/// whole path; a folder that already ends with the name is kept as is.
pub fn full_path(folder: Option<&str>, name: Option<&str>) -> Option<String> {
    let folder = folder.filter(|f| !f.is_empty());
    let name = name.filter(|n| !n.is_empty());
    match (folder, name) {
        (None, None) => None,
        (Some(f), None) => Some(f.to_string()),
        (None, Some(n)) => Some(n.to_string()),
        (Some(f), Some(n)) => {
            let lower_f = f.to_lowercase();
            let lower_n = n.to_lowercase();
            let holds_name = lower_f
                .strip_suffix(&lower_n)
                .is_some_and(|rest| rest.ends_with(['\\', '/']));
            if holds_name {
                Some(f.to_string())
            } else {
                let sep = if f.contains('\\') { '\\' } else { '/' };
                Some(format!("{}{sep}{n}", f.trim_end_matches(['\\', '/'])))
            }
        }
    }
}

/// Sets `key` to the text `v`, when there is one.
pub fn put(fields: &mut Row, key: &str, v: Option<String>) {
    if let Some(v) = v {
        fields.insert(key.into(), Value::String(v));
    }
}

/// Sets `key` to the process id `v`, when there is one.
pub fn put_pid(fields: &mut Row, key: &str, v: Option<u64>) {
    if let Some(v) = v {
        fields.insert(key.into(), Value::from(v));
    }
}

/// The rows one thing is spread over (an alert written once per evidence
/// entity, or once per update), in answer order.
#[derive(Debug, Clone, PartialEq)]
pub struct Group(pub Vec<Row>);

impl crate::backend::attribution::Record for Group {
    /// A thing mentions a token when any of its rows does.
    fn mentions(&self, token: &str) -> bool {
        self.0.iter().any(|r| r.mentions(token))
    }
    fn haystack(&self) -> String {
        self.0.iter().map(|r| r.haystack()).collect()
    }
    fn json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_default()
    }
}

/// `rows` grouped by the text of `key`, groups in the order their first
/// row came; a row without the key is a group of its own (nothing joins it
/// to another).
pub fn group_by(rows: Vec<Row>, key: &str) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for row in rows {
        match text(&row, key) {
            Some(id) => match index.get(&id) {
                Some(&i) => groups[i].0.push(row),
                None => {
                    index.insert(id, groups.len());
                    groups.push(Group(vec![row]));
                }
            },
            None => groups.push(Group(vec![row])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_parse_with_either_spelling_and_reject_garbage() {
        let lower = br#"{"schema":[{"name":"FileName","type":"String"}],"results":[{"FileName":"cmd.exe"}]}"#;
        let upper = br#"{"Schema":[{"Name":"FileName","Type":"String"}],"Results":[{"FileName":"cmd.exe"}]}"#;
        for body in [&lower[..], &upper[..]] {
            assert_eq!(parse_hunting(body).map(|r| r.len()), Ok(1));
        }
        for bad in [
            &b"{not json"[..],
            b"{}",
            br#"{"results":{}}"#,
            br#"{"results":[1]}"#,
        ] {
            assert!(parse_hunting(bad).is_err());
        }
    }

    #[test]
    fn positional_rows_become_keyed_rows_and_errors_are_raised() {
        let body = br#"{"tables":[{"name":"PrimaryResult","columns":[{"name":"A","type":"string"},{"name":"N","type":"long"}],"rows":[["x","1"],[null,"2"]]}]}"#;
        let rows = parse_query(body).unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["A"], json!("x"));
        assert_eq!(pid_of(&rows[1], "N"), Some(2));
        let bad: [&[u8]; 5] = [
            b"{not json",
            b"{}",
            br#"{"tables":[{"name":"PrimaryResult","columns":[{"name":"A"}],"rows":[["x","extra"]]}]}"#,
            br#"{"error":{"code":"BadArgumentError","message":"Failed to resolve table"}}"#,
            br#"{"tables":[],"error":{"code":"PartialError","message":"limit"}}"#,
        ];
        for b in bad {
            assert!(parse_query(b).is_err(), "{}", String::from_utf8_lossy(b));
        }
        assert_eq!(parse_query(br#"{"tables":[]}"#), Ok(vec![]));
    }

    #[test]
    fn pids_parse_from_numbers_decimal_and_hex() {
        let cases = [
            (json!(4242), Some(4242)),
            (json!("4242"), Some(4242)),
            (json!("0x1a2b"), Some(0x1a2b)),
            (json!("0X1A2B"), Some(0x1a2b)),
            (json!(" 7 "), Some(7)),
            (json!("0xzz"), None),
            (json!(-1), None),
            (json!(null), None),
        ];
        for (v, want) in cases {
            assert_eq!(pid(&v), want, "{v}");
        }
    }

    #[test]
    fn paths_join_only_when_the_folder_lacks_the_name() {
        let cases = [
            (
                Some(r"C:\Windows\System32\cmd.exe"),
                Some("cmd.exe"),
                Some(r"C:\Windows\System32\cmd.exe"),
            ),
            (
                Some(r"c:\windows\system32\CMD.EXE"),
                Some("cmd.exe"),
                Some(r"c:\windows\system32\CMD.EXE"),
            ),
            (
                Some(r"C:\Windows\System32\"),
                Some("cmd.exe"),
                Some(r"C:\Windows\System32\cmd.exe"),
            ),
            (
                Some(r"C:\Windows\System32"),
                Some("cmd.exe"),
                Some(r"C:\Windows\System32\cmd.exe"),
            ),
            (Some("/usr/bin"), Some("dash"), Some("/usr/bin/dash")),
            (Some("/usr/bin/dash"), Some("dash"), Some("/usr/bin/dash")),
            (
                Some(r"C:\x\notcmd.exe"),
                Some("cmd.exe"),
                Some(r"C:\x\notcmd.exe\cmd.exe"),
            ),
            (None, Some("cmd.exe"), Some("cmd.exe")),
            (Some(""), None, None),
        ];
        for (folder, name, want) in cases {
            assert_eq!(
                full_path(folder, name).as_deref(),
                want,
                "{folder:?} {name:?}"
            );
        }
    }
}
