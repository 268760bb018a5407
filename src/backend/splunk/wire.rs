//! Splunk's export answer: one JSON object per line, each with a `result`
//! (preview rows skipped), multivalue fields as arrays, and `messages` that
//! carry search errors.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::alert_from;
use crate::backend::BackendAlert;
use crate::backend::ErrorKind;
use crate::telemetry::{Category, Event};

type Row = Map<String, Value>;

/// Parses an export body into result rows; a FATAL/ERROR message is an error.
pub fn parse_export(body: &[u8]) -> Result<Vec<Row>, ErrorKind> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ErrorKind::malformed("export answer", "not UTF-8"))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let obj: Row = serde_json::from_str(line)
            .map_err(|e| ErrorKind::malformed(format!("export line {}", n + 1), e))?;
        for m in obj
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let kind = m.get("type").and_then(Value::as_str).unwrap_or_default();
            if matches!(kind, "FATAL" | "ERROR") {
                let text = m.get("text").and_then(Value::as_str).unwrap_or_default();
                return Err(ErrorKind::Other(format!("search failed: {text}")));
            }
        }
        if obj.get("preview").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        if let Some(Value::Object(result)) = obj.get("result") {
            rows.push(result.clone());
        }
    }
    Ok(rows)
}

/// A field's first value as text (multivalue fields arrive as arrays).
pub fn text(row: &Row, key: &str) -> Option<String> {
    texts(row, key).into_iter().next()
}

/// Every value of a field as text.
pub fn texts(row: &Row, key: &str) -> Vec<String> {
    match row.get(key) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        Some(Value::Number(n)) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

fn time_of(row: &Row) -> Option<OffsetDateTime> {
    let t = text(row, "_time")?;
    OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
        .ok()
        .or_else(|| {
            // Splunk writes `2025-06-01T10:03:12.000+00:00`; also accept epoch seconds.
            t.parse::<f64>()
                .ok()
                .and_then(|s| OffsetDateTime::from_unix_timestamp(s as i64).ok())
        })
}

/// `_indextime`: when Splunk indexed the event, in epoch seconds.
fn indexed_at(row: &Row) -> Option<OffsetDateTime> {
    let secs: f64 = text(row, "_indextime")?.trim().parse().ok()?;
    let nanos = (secs * 1e9) as i128;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// A CIM Email row (a mail gateway's event: `message_id`, and neither a
/// process nor a file) as an event of category `Other`, the Message-ID as
/// `InternetMessageId` (the name the mail hop matches on), the other
/// Email fields under the names Defender's mail rows use.
fn mail_event(row: &Row) -> Option<Event> {
    if row.contains_key("Image") || row.contains_key("TargetFilename") {
        return None;
    }
    let id = text(row, "message_id")?;
    let mut fields = Map::new();
    fields.insert("InternetMessageId".into(), Value::String(id));
    for (from, to) in [
        ("subject", "Subject"),
        ("src_user", "SenderFromAddress"),
        ("recipient", "RecipientEmailAddress"),
        ("file_name", "AttachmentFileName"),
        ("file_hash", "AttachmentSHA256"),
        ("host", "host"),
    ] {
        if let Some(v) = text(row, from) {
            fields.insert(to.into(), Value::String(v));
        }
    }
    Some(Event {
        category: Category::Other,
        arrived: indexed_at(row),
        at: time_of(row),
        hop: None,
        fields,
    })
}

/// A row as a telemetry event with the Sysmon names (a CIM Email row as a
/// mail event).
pub fn event(row: &Row) -> Event {
    if let Some(mail) = mail_event(row) {
        return mail;
    }
    let code = text(row, "EventCode").unwrap_or_default();
    let category =
        if code == "11" || row.contains_key("TargetFilename") && !row.contains_key("CommandLine") {
            Category::FileEvent
        } else {
            Category::ProcessCreation
        };
    let mut fields = Map::new();
    for key in [
        "Image",
        "ParentImage",
        "CommandLine",
        "ParentCommandLine",
        "User",
        "TargetFilename",
        "ProcessGuid",
        "ParentProcessGuid",
        "host",
    ] {
        if let Some(v) = text(row, key) {
            fields.insert(key.into(), Value::String(v));
        }
    }
    for key in ["ProcessId", "ParentProcessId"] {
        if let Some(n) = text(row, key).and_then(|v| v.parse::<u64>().ok()) {
            fields.insert(key.into(), Value::from(n));
        }
    }
    Event {
        category,
        arrived: indexed_at(row),
        at: time_of(row),
        hop: None,
        fields,
    }
}

/// A notable row as an alert.
pub fn notable(row: &Row) -> BackendAlert {
    alert_from(row, time_of(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_lines_are_parsed_previews_skipped_errors_raised() {
        let body = br#"{"preview":true,"offset":0,"result":{"Image":"/skip"}}

{"preview":false,"offset":0,"result":{"Image":"/usr/bin/dash","ProcessId":"11","x":["a","b"]}}
{"preview":false,"offset":1,"lastrow":true,"result":{"Image":"/usr/bin/touch"}}
"#;
        let rows = parse_export(body).unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(texts(&rows[0], "x"), ["a", "b"]);
        let failed = br#"{"messages":[{"type":"FATAL","text":"Error in 'search' command"}]}"#;
        assert_eq!(
            parse_export(failed).err(),
            Some(ErrorKind::Other(
                "search failed: Error in 'search' command".into()
            ))
        );
        assert!(matches!(
            parse_export(b"{not json"),
            Err(ErrorKind::Malformed { .. })
        ));
    }

    #[test]
    fn events_arrive_at_their_index_time() {
        let row = |indexed: Value| -> Row {
            serde_json::json!({"_time": "2026-11-26T10:00:00.000+00:00", "_indextime": indexed,
                "EventCode": "1", "Image": "/usr/bin/dash"})
            .as_object()
            .cloned()
            .unwrap_or_default()
        };
        let at = |secs: i64| OffsetDateTime::from_unix_timestamp(secs).ok();
        assert_eq!(
            event(&row(Value::from("1764151207"))).arrived,
            at(1_764_151_207)
        );
        assert_eq!(
            event(&row(Value::from(1_764_151_207))).arrived,
            at(1_764_151_207)
        );
        assert_eq!(event(&row(Value::from("soon"))).arrived, None);
        assert_eq!(event(&row(Value::Null)).arrived, None, "none made up");
    }
}
