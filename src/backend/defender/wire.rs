//! The answers of advanced hunting (`runHuntingQuery`: `schema` and
//! `results`, one JSON object per row keyed by column name) and their
//! conversion to events with Sysmon names and to alerts.
//!
//! Cells are read leniently — a number may arrive as a string, a pid in hex —
//! because the `sentinel` backend feeds the same conversion from Log
//! Analytics, whose cells are often strings.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::attack;
use crate::backend::BackendAlert;
use crate::backend::ErrorKind;
use crate::telemetry::{Category, Event};

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

/// True when any text cell of the row holds `token`.
pub fn mentions(row: &Row, token: &str) -> bool {
    row.values()
        .any(|v| v.as_str().is_some_and(|s| s.contains(token)))
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

/// True for a `DeviceFileEvents` row: by the `union withsource` column, or
/// by its `File*` action type where that column is missing.
fn is_file_row(row: &Row) -> bool {
    match text(row, "SourceTable") {
        Some(t) => t.ends_with("DeviceFileEvents"),
        None => text(row, "ActionType").is_some_and(|a| a.starts_with("File")),
    }
}

/// A `DeviceProcessEvents` or `DeviceFileEvents` row as an event with the
/// Sysmon names; `time` names the time column.
pub fn device_event(row: &Row, time: &str) -> Event {
    let t = |k: &str| text(row, k);
    let image = |folder: &str, name: &str| full_path(t(folder).as_deref(), t(name).as_deref());
    let mut fields = Row::new();
    let category = if is_file_row(row) {
        put(
            &mut fields,
            "TargetFilename",
            image("FolderPath", "FileName"),
        );
        put(
            &mut fields,
            "Image",
            image("InitiatingProcessFolderPath", "InitiatingProcessFileName"),
        );
        put(
            &mut fields,
            "CommandLine",
            t("InitiatingProcessCommandLine"),
        );
        put_pid(&mut fields, "ProcessId", pid_of(row, "InitiatingProcessId"));
        put(&mut fields, "OriginUrl", t("FileOriginUrl"));
        Category::FileEvent
    } else {
        put(&mut fields, "Image", image("FolderPath", "FileName"));
        put(&mut fields, "CommandLine", t("ProcessCommandLine"));
        put_pid(&mut fields, "ProcessId", pid_of(row, "ProcessId"));
        put_pid(
            &mut fields,
            "ParentProcessId",
            pid_of(row, "InitiatingProcessId"),
        );
        put(
            &mut fields,
            "ParentImage",
            image("InitiatingProcessFolderPath", "InitiatingProcessFileName"),
        );
        put(
            &mut fields,
            "ParentCommandLine",
            t("InitiatingProcessCommandLine"),
        );
        put(&mut fields, "User", t("AccountName"));
        Category::ProcessCreation
    };
    put(&mut fields, "host", t("DeviceName"));
    Event {
        category,
        at: time_of(row, time),
        hop: None,
        fields,
    }
}

/// The process id an evidence's `AdditionalFields` JSON names, if any.
fn evidence_pid(row: &Row) -> Option<u64> {
    let extra: Map<String, Value> =
        serde_json::from_str(&text(row, "EvidenceAdditionalFields")?).ok()?;
    extra.get("ProcessId").and_then(pid)
}

/// An alert-evidence row (joined with its alert) as an alert. File evidence
/// becomes a file event, anything else the process it names.
pub fn alert(row: &Row) -> BackendAlert {
    let t = |k: &str| text(row, k);
    let path = full_path(
        t("EvidenceFolderPath").as_deref(),
        t("EvidenceFileName").as_deref(),
    );
    let mut fields = Row::new();
    let is_file = t("EntityType").is_some_and(|e| e.eq_ignore_ascii_case("File"));
    let category = if is_file {
        put(&mut fields, "TargetFilename", path);
        Category::FileEvent
    } else {
        put(&mut fields, "Image", path);
        put(&mut fields, "CommandLine", t("EvidenceProcessCommandLine"));
        put_pid(&mut fields, "ProcessId", evidence_pid(row));
        Category::ProcessCreation
    };
    put(&mut fields, "host", t("DeviceName"));
    let mut tags = attack::technique_tags(&t("AttackTechniques").unwrap_or_default());
    tags.extend(attack::tactic_tags(&t("Category").unwrap_or_default()));
    let at = time_of(row, "Timestamp").unwrap_or_else(OffsetDateTime::now_utc);
    BackendAlert {
        rule_id: t("AlertId"),
        rule_title: t("Title").unwrap_or_else(|| "Defender alert".into()),
        level: t("Severity"),
        tags,
        at,
        event: Event {
            category,
            at: Some(at),
            hop: None,
            fields,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Row {
        v.as_object().cloned().unwrap_or_default()
    }

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

    #[test]
    fn process_and_file_rows_get_sysmon_names() {
        let p = row(
            json!({"SourceTable":"DeviceProcessEvents","Timestamp":"2024-03-26T09:39:50.7688641Z",
            "FileName":"cmd.exe","FolderPath":"C:\\Windows\\System32\\cmd.exe","ProcessId":11,
            "ProcessCommandLine":"cmd /c echo cp1","InitiatingProcessId":"10",
            "InitiatingProcessFileName":"WINWORD.EXE","InitiatingProcessFolderPath":"c:\\office",
            "AccountName":"lab","DeviceName":"win1","ActionType":"ProcessCreated","FileOriginUrl":null}),
        );
        let e = device_event(&p, "Timestamp");
        assert_eq!(e.category, Category::ProcessCreation);
        assert_eq!(e.fields["Image"], json!("C:\\Windows\\System32\\cmd.exe"));
        assert_eq!(e.fields["ParentImage"], json!("c:\\office\\WINWORD.EXE"));
        assert_eq!(e.fields["ProcessId"], json!(11));
        assert_eq!(e.fields["ParentProcessId"], json!(10));
        assert_eq!(e.fields["User"], json!("lab"));
        assert!(e.at.is_some());
        let f = row(
            json!({"ActionType":"FileCreated","FileName":"cp1.lnk","FolderPath":"C:\\Users\\lab\\Downloads",
            "InitiatingProcessId":5,"InitiatingProcessFileName":"msedge.exe","InitiatingProcessFolderPath":"C:\\Edge\\msedge.exe",
            "FileOriginUrl":"http://127.0.0.1/cp1.lnk"}),
        );
        let e = device_event(&f, "Timestamp");
        assert_eq!(e.category, Category::FileEvent);
        assert_eq!(
            e.fields["TargetFilename"],
            json!("C:\\Users\\lab\\Downloads\\cp1.lnk")
        );
        assert_eq!(e.fields["Image"], json!("C:\\Edge\\msedge.exe"));
        assert_eq!(e.fields["ProcessId"], json!(5));
        assert_eq!(e.fields["OriginUrl"], json!("http://127.0.0.1/cp1.lnk"));
    }

    #[test]
    fn alerts_carry_attack_tags_and_the_evidence() {
        let r = row(
            json!({"Timestamp":"2024-03-26T09:40:00Z","AlertId":"da1","Title":"Suspicious doc",
            "Severity":"High","Category":"Execution",
            "AttackTechniques":"[\"User Execution: Malicious File (T1204.002)\"]","EntityType":"Process",
            "EvidenceProcessCommandLine":"cmd /c cp1","EvidenceFileName":"cmd.exe",
            "EvidenceFolderPath":"C:\\Windows\\System32\\cmd.exe","EvidenceAdditionalFields":"{\"ProcessId\":11}"}),
        );
        let a = alert(&r);
        assert_eq!(a.tags, ["attack.t1204.002", "attack.execution"]);
        assert_eq!(a.rule_id.as_deref(), Some("da1"));
        assert_eq!(a.level.as_deref(), Some("High"));
        assert_eq!(a.event.fields["ProcessId"], json!(11));
        let mut file = r.clone();
        file.insert("EntityType".into(), json!("File"));
        assert_eq!(alert(&file).event.category, Category::FileEvent);
    }
}
