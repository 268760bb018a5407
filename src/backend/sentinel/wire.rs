//! The Log Analytics query answer (`tables[].columns` and positional
//! `rows`, cells often strings whatever the column type) and its conversion
//! to events with Sysmon names and to alerts.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::ProcessTable;
use crate::backend::BackendAlert;
use crate::backend::ErrorKind;
use crate::backend::defender::attack;
use crate::backend::defender::wire::{Row, device_event, full_path, pid, pid_of, text, time_of};
use crate::telemetry::{Category, Event};

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

fn put(fields: &mut Row, key: &str, v: Option<String>) {
    if let Some(v) = v {
        fields.insert(key.into(), Value::String(v));
    }
}

fn put_pid(fields: &mut Row, key: &str, v: Option<u64>) {
    if let Some(v) = v {
        fields.insert(key.into(), Value::from(v));
    }
}

/// A row of the profile's process table as an event with the Sysmon names.
pub fn event(table: ProcessTable, row: &Row) -> Event {
    if table == ProcessTable::Device {
        return device_event(row, "TimeGenerated");
    }
    let t = |k: &str| text(row, k);
    let mut fields = Row::new();
    let mut category = Category::ProcessCreation;
    match table {
        ProcessTable::Security4688 => {
            put(&mut fields, "Image", t("NewProcessName"));
            put(&mut fields, "CommandLine", t("CommandLine"));
            // In 4688, `ProcessId` is the creator: the new process's parent.
            put_pid(&mut fields, "ProcessId", pid_of(row, "NewProcessId"));
            put_pid(&mut fields, "ParentProcessId", pid_of(row, "ProcessId"));
            put(&mut fields, "ParentImage", t("ParentProcessName"));
            put(&mut fields, "User", t("SubjectUserName"));
        }
        _ => {
            if pid_of(row, "EventID") == Some(11) {
                category = Category::FileEvent;
            }
            for key in [
                "Image",
                "CommandLine",
                "ParentImage",
                "ParentCommandLine",
                "User",
                "TargetFilename",
            ] {
                put(&mut fields, key, t(key));
            }
            put_pid(&mut fields, "ProcessId", pid_of(row, "ProcessId"));
            put_pid(
                &mut fields,
                "ParentProcessId",
                pid_of(row, "ParentProcessId"),
            );
        }
    }
    put(&mut fields, "host", t("Computer"));
    Event {
        category,
        at: time_of(row, "TimeGenerated"),
        hop: None,
        fields,
    }
}

/// Every object of an entity list by its `$id`, so `$ref`s can be followed.
fn index_ids<'a>(
    v: &'a Value,
    ids: &mut Map<String, Value>,
    out: &mut Vec<&'a Map<String, Value>>,
) {
    match v {
        Value::Object(o) => {
            if let Some(id) = o.get("$id").and_then(Value::as_str) {
                ids.insert(id.to_string(), v.clone());
            }
            out.push(o);
            o.values().for_each(|x| index_ids(x, ids, out));
        }
        Value::Array(a) => a.iter().for_each(|x| index_ids(x, ids, out)),
        _ => {}
    }
}

/// The event an alert's `Entities` JSON describes for `token`: the process
/// entity whose command line holds it, else the file entity whose name does.
fn entity_event(entities: &str, token: &str, at: OffsetDateTime) -> Event {
    let parsed: Value = serde_json::from_str(entities).unwrap_or(Value::Null);
    let (mut ids, mut objects) = (Map::new(), Vec::new());
    index_ids(&parsed, &mut ids, &mut objects);
    let resolve = |v: Option<&Value>| -> Option<Value> {
        let v = v?;
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => ids.get(r).cloned(),
            None => Some(v.clone()),
        }
    };
    let kind = |o: &Map<String, Value>| {
        o.get("Type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    let file_path = |f: &Value| {
        full_path(
            f.get("Directory").and_then(Value::as_str),
            f.get("Name").and_then(Value::as_str),
        )
    };
    let mut fields = Row::new();
    let mut category = Category::ProcessCreation;
    let process = objects.iter().find(|o| {
        kind(o) == "process" && text(o, "CommandLine").is_some_and(|c| c.contains(token))
    });
    if let Some(p) = process {
        put(&mut fields, "CommandLine", text(p, "CommandLine"));
        put_pid(&mut fields, "ProcessId", p.get("ProcessId").and_then(pid));
        put(
            &mut fields,
            "Image",
            resolve(p.get("ImageFile")).as_ref().and_then(file_path),
        );
    } else if let Some(f) = objects
        .iter()
        .find(|o| kind(o) == "file" && text(o, "Name").is_some_and(|n| n.contains(token)))
    {
        category = Category::FileEvent;
        put(
            &mut fields,
            "TargetFilename",
            file_path(&Value::Object((*f).clone())),
        );
    }
    Event {
        category,
        at: Some(at),
        hop: None,
        fields,
    }
}

/// A `SecurityAlert` row as an alert, its event taken from the entities
/// that mention `token`.
pub fn alert(row: &Row, token: &str) -> BackendAlert {
    let t = |k: &str| text(row, k);
    let mut tags = attack::technique_tags(&t("Techniques").unwrap_or_default());
    tags.extend(attack::tactic_tags(&t("Tactics").unwrap_or_default()));
    let at = time_of(row, "TimeGenerated").unwrap_or_else(OffsetDateTime::now_utc);
    BackendAlert {
        rule_id: t("SystemAlertId"),
        rule_title: t("AlertName").unwrap_or_else(|| "Sentinel alert".into()),
        level: t("AlertSeverity"),
        tags,
        at,
        event: entity_event(&t("Entities").unwrap_or_default(), token, at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn security_4688_rows_read_hex_pids_and_the_creator_as_parent() {
        let row: Row = json!({"TimeGenerated":"2025-06-01T10:00:00Z","Computer":"win1",
            "NewProcessName":"C:\\Windows\\System32\\cmd.exe","NewProcessId":"0x1a2b","ProcessId":"0x10",
            "ParentProcessName":"C:\\Office\\WINWORD.EXE","CommandLine":"cmd /c cp1","SubjectUserName":"lab"})
        .as_object()
        .cloned()
        .unwrap_or_default();
        let e = event(ProcessTable::Security4688, &row);
        assert_eq!(e.fields["ProcessId"], json!(0x1a2b));
        assert_eq!(e.fields["ParentProcessId"], json!(0x10));
        assert_eq!(e.fields["ParentImage"], json!("C:\\Office\\WINWORD.EXE"));
        assert_eq!(e.category, Category::ProcessCreation);
    }

    #[test]
    fn alert_entities_are_followed_through_refs() {
        let entities = json!([
            {"$id":"2","Directory":"C:\\Windows\\System32","Name":"cmd.exe","Type":"file"},
            {"$id":"3","ProcessId":"11","CommandLine":"cmd.exe /c cp1","ImageFile":{"$ref":"2"},"Type":"process"},
            {"$id":"4","Directory":"C:\\Users\\lab","Name":"cp9.docm","Type":"file"}
        ])
        .to_string();
        let e = entity_event(&entities, "cp1", OffsetDateTime::now_utc());
        assert_eq!(e.fields["ProcessId"], json!(11));
        assert_eq!(e.fields["Image"], json!("C:\\Windows\\System32\\cmd.exe"));
        let f = entity_event(&entities, "cp9", OffsetDateTime::now_utc());
        assert_eq!(f.category, Category::FileEvent);
        assert_eq!(
            f.fields["TargetFilename"],
            json!("C:\\Users\\lab\\cp9.docm")
        );
        assert!(
            entity_event("not json", "cp1", OffsetDateTime::now_utc())
                .fields
                .is_empty()
        );
    }
}
