//! The Log Analytics query answer (`tables[].columns` and positional
//! `rows`, cells often strings whatever the column type) and its conversion
//! to events with Sysmon names and to alerts.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::ProcessTable;
use crate::backend::BackendAlert;
use crate::backend::microsoft::attack;
use crate::backend::microsoft::device::device_event;
use crate::backend::microsoft::table::{
    Group, Row, full_path, pid, pid_of, put, put_pid, text, time_of,
};
use crate::telemetry::{Category, Event};

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
        arrived: time_of(row, "IngestionTime"),
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
fn entity_event(entities: &str, token: &str, at: Option<OffsetDateTime>) -> Event {
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
    let token = token.to_ascii_lowercase();
    let holds = |v: Option<String>| v.is_some_and(|v| v.to_ascii_lowercase().contains(&token));
    // A process entity names its parent (`ParentProcess`, inline or by
    // `$ref`); the parent of another named process is context, the newest
    // process the alert names is its subject. Word opened with the token's
    // document mentions it too, and must not take the alert from cmd.exe.
    let parents: Vec<Value> = objects
        .iter()
        .filter(|o| kind(o) == "process")
        .filter_map(|o| resolve(o.get("ParentProcess")))
        .collect();
    let is_parent = |o: &Map<String, Value>| {
        let id = o.get("$id");
        parents
            .iter()
            .any(|p| p.as_object() == Some(o) || (id.is_some() && p.get("$id") == id))
    };
    let mentioning: Vec<&&Map<String, Value>> = objects
        .iter()
        .filter(|o| kind(o) == "process" && holds(text(o, "CommandLine")))
        .collect();
    let process = mentioning
        .iter()
        .find(|o| !is_parent(o))
        .or_else(|| mentioning.first());
    let mut fields = Row::new();
    let mut category = Category::ProcessCreation;
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
        .find(|o| kind(o) == "file" && holds(text(o, "Name")))
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
        arrived: None,
        at,
        hop: None,
        fields,
    }
}

/// One alert from its `SecurityAlert` rows. The table is written again
/// under the same `SystemAlertId` each time the alert changes (a status,
/// new entities), which is why Microsoft's own Sentinel content reads it
/// with `arg_max(TimeGenerated, *) by SystemAlertId`: the rows are one
/// alert ([`group_by`](crate::backend::microsoft::table::group_by)),
/// raised when its first row was generated, described by its latest
/// (the fullest entity list), its event the entity that is its subject
/// for `token`. The table reports no response of the product.
pub fn alert(group: &Group, token: &str) -> BackendAlert {
    let empty = Row::new();
    let latest = group
        .0
        .iter()
        .max_by_key(|r| time_of(r, "TimeGenerated"))
        .unwrap_or(&empty);
    let t = |k: &str| text(latest, k);
    let mut tags = attack::technique_tags(&t("Techniques").unwrap_or_default());
    tags.extend(attack::tactic_tags(&t("Tactics").unwrap_or_default()));
    let at = group
        .0
        .iter()
        .filter_map(|r| time_of(r, "TimeGenerated"))
        .min();
    BackendAlert {
        responses: Vec::new(),
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
        let e = entity_event(&entities, "cp1", Some(OffsetDateTime::now_utc()));
        assert_eq!(e.fields["ProcessId"], json!(11));
        assert_eq!(e.fields["Image"], json!("C:\\Windows\\System32\\cmd.exe"));
        let f = entity_event(&entities, "cp9", Some(OffsetDateTime::now_utc()));
        assert_eq!(f.category, Category::FileEvent);
        assert_eq!(
            f.fields["TargetFilename"],
            json!("C:\\Users\\lab\\cp9.docm")
        );
        assert!(
            entity_event("not json", "cp1", Some(OffsetDateTime::now_utc()))
                .fields
                .is_empty()
        );
    }
}
