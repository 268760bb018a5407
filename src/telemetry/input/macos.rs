//! macOS telemetry: Apple's `eslogger` JSON lines and the unified log's
//! JSON (`log show --style ndjson` or `json`).
//!
//! eslogger's output is modelled on Endpoint Security's `es_message_t`:
//! `process` (the process that acted: `audit_token.pid`, `ppid`,
//! `executable.path`), `event` (one key naming the event type, holding its
//! data) and `time`. `exec` becomes `process_creation`; `create`, `write`
//! and `rename` become `file_event`, in the field names SigmaHQ's macOS
//! rules use (`Image`, `CommandLine`, `ParentImage`, `TargetFilename`).
//! Apple calls the format unstable; see docs/replay-inputs.md for what was
//! checked.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Skip;
use super::logsource::{self, ESLOGGER};
use crate::telemetry::Event;
use crate::telemetry::{Mapped, Origin};
use crate::vocab::Platform;

/// True when `record` is an eslogger message.
pub(super) fn is_eslogger(record: &Map<String, Value>) -> bool {
    record.contains_key("event_type")
        && record.contains_key("process")
        && record.contains_key("event")
}

/// True when `record` is a unified log entry.
pub(super) fn is_unified_log(record: &Map<String, Value>) -> bool {
    record.contains_key("eventMessage") && record.contains_key("eventType")
}

fn path<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |v, k| v.get(*k))
}

fn text(v: &Value, keys: &[&str]) -> Option<Value> {
    path(v, keys).filter(|v| v.is_string()).cloned()
}

/// An eslogger `es_file_t` destination: `existing_file.path`, or
/// `new_path.dir.path` + `/` + `new_path.filename`.
fn destination(v: &Value) -> Option<Value> {
    text(v, &["existing_file", "path"]).or_else(|| {
        let dir = path(v, &["new_path", "dir", "path"])?.as_str()?;
        let file = path(v, &["new_path", "filename"])?.as_str()?;
        Some(Value::from(format!("{}/{file}", dir.trim_end_matches('/'))))
    })
}

/// One eslogger message.
pub(super) fn eslogger(record: Map<String, Value>, input: usize) -> Result<Mapped, Skip> {
    let record = Value::Object(record);
    let Some((kind, data)) = record
        .get("event")
        .and_then(Value::as_object)
        .and_then(|e| e.iter().next())
    else {
        return Err(Skip::Static("eslogger: no event"));
    };
    let Some((row, entry)) = logsource::lookup(ESLOGGER, None, Some(kind)) else {
        return Err(Skip::Dynamic(format!(
            "eslogger {kind}: no Sigma log source"
        )));
    };
    let process = record.get("process").unwrap_or(&Value::Null);
    let mut fields = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            fields.insert(k.to_string(), v);
        }
    };
    if kind == "exec" {
        let target = data.get("target").unwrap_or(&Value::Null);
        put("Image", text(target, &["executable", "path"]));
        let args: Vec<&str> = data
            .get("args")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !args.is_empty() {
            put("CommandLine", Some(Value::from(args.join(" "))));
        }
        put("ProcessId", path(target, &["audit_token", "pid"]).cloned());
        put("ParentProcessId", target.get("ppid").cloned());
        // The exec'ing process is the new one before exec: after a fork,
        // still the parent's image.
        put("ParentImage", text(process, &["executable", "path"]));
        put("CurrentDirectory", text(data, &["cwd", "path"]));
        put("User", path(target, &["audit_token", "euid"]).cloned());
        put("SigningId", text(target, &["signing_id"]));
        put("TeamId", text(target, &["team_id"]));
    } else {
        put("Image", text(process, &["executable", "path"]));
        put("ProcessId", path(process, &["audit_token", "pid"]).cloned());
        put("ParentProcessId", process.get("ppid").cloned());
        let target = match kind.as_str() {
            "create" => data.get("destination").and_then(destination),
            "write" => text(data, &["target", "path"]),
            "rename" => data.get("destination").and_then(destination),
            _ => None,
        };
        put("TargetFilename", target);
        if kind == "rename" {
            put("SourceFilename", text(data, &["source", "path"]));
        }
    }
    put("EventType", Some(Value::from(kind.as_str())));
    let at = record
        .get("time")
        .and_then(Value::as_str)
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
    Ok(Mapped {
        event: Event {
            category: entry.kind,
            arrived: None,
            at,
            hop: None,
            fields,
        },
        platform: Platform::Macos,
        logsources: logsource::of_row(row, Platform::Macos),
        host: None,
        origin: Origin {
            provider: entry.provider,
            id: record
                .get("event_type")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok()),
        },
        input,
    })
}

/// A unified log entry: Sigma has no macOS log source for it (SigmaHQ's
/// macOS rules are all `process_creation` or `file_event`, which the
/// unified log does not record), so every entry is counted, by its
/// `eventType`.
pub(super) fn unified_log(record: &Map<String, Value>) -> Skip {
    match record.get("eventType").and_then(Value::as_str) {
        Some(t) if t.len() <= 40 => Skip::Dynamic(format!("unified log {t}: no Sigma log source")),
        _ => Skip::Static("unified log: no Sigma log source"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::telemetry::Category;
    use crate::telemetry::Mapped;
    use crate::telemetry::input::tests::{kinds, read, write};
    use crate::vocab::Platform;

    /// An eslogger exec message, shaped after Endpoint Security's
    /// `es_message_t` (no real capture was available).
    fn eslogger_exec() -> serde_json::Value {
        json!({"schema_version": 1, "version": 7, "time": "2024-05-01T10:00:00.000000000Z",
            "event_type": 9, "action_type": 1, "global_seq_num": 10, "seq_num": 3,
            "process": {"audit_token": {"pid": 501, "euid": 501}, "ppid": 400,
                "executable": {"path": "/bin/zsh", "path_truncated": false}},
            "event": {"exec": {
                "target": {"audit_token": {"pid": 501, "euid": 501}, "ppid": 400,
                    "executable": {"path": "/usr/bin/osascript", "path_truncated": false},
                    "signing_id": "com.apple.osascript", "team_id": null},
                "args": ["osascript", "-e", "display dialog"],
                "cwd": {"path": "/Users/a"}}}})
    }

    #[test]
    fn eslogger_exec_is_a_macos_process_creation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let create = json!({"time": "2024-05-01T10:00:01Z", "event_type": 13,
            "process": {"audit_token": {"pid": 501}, "ppid": 400, "executable": {"path": "/usr/bin/curl"}},
            "event": {"create": {"destination_type": 1, "destination": {"new_path": {
                "dir": {"path": "/tmp/"}, "filename": "x.sh"}}}}});
        let exit = json!({"event_type": 15, "process": {}, "event": {"exit": {"stat": 0}}});
        let path = write(dir.path(), "es.jsonl", &[eslogger_exec(), create, exit]);
        let (mapped, stats) = read(&[path]);
        let exec = &mapped[0];
        assert_eq!(exec.platform, Platform::Macos);
        assert_eq!(exec.event.category, Category::ProcessCreation);
        assert_eq!(kinds(exec), ["process_creation"]);
        let get = |m: &Mapped, k: &str| m.event.fields.get(k).cloned().unwrap_or_default();
        assert_eq!(get(exec, "Image"), json!("/usr/bin/osascript"));
        assert_eq!(
            get(exec, "CommandLine"),
            json!("osascript -e display dialog")
        );
        assert_eq!(get(exec, "ParentImage"), json!("/bin/zsh"));
        assert_eq!(
            (get(exec, "ProcessId"), get(exec, "ParentProcessId")),
            (json!(501), json!(400))
        );
        assert_eq!(get(&mapped[1], "TargetFilename"), json!("/tmp/x.sh"));
        assert_eq!(kinds(&mapped[1]), ["file_event"]);
        assert_eq!(
            stats[0].skipped.get("eslogger exit: no Sigma log source"),
            Some(&1)
        );
    }

    #[test]
    fn chainproof_recordings_take_their_platform_from_the_recording() {
        let dir = tempfile::tempdir().expect("tempdir");
        let line = |platform: &str| {
            json!({"chainproof.schema": "chainproof.telemetry/v1", "chainproof.platform": platform,
                "EventID": 1, "UtcTime": "2024-05-01T10:00:00Z", "Image": "/usr/bin/osascript",
                "ProcessId": 7})
        };
        let path = write(
            dir.path(),
            "telemetry.jsonl",
            &[line("macos"), line("linux")],
        );
        let (mapped, _) = read(&[path]);
        assert_eq!(mapped[0].platform, Platform::Macos);
        assert_eq!(mapped[0].logsources[0].product.as_deref(), Some("macos"));
        assert_eq!(mapped[1].platform, Platform::Linux);
        assert_eq!(mapped[0].origin.provider, "chainproof");
        assert!(mapped[0].event.at.is_some());
    }

    #[test]
    fn unified_log_entries_are_counted_by_type() {
        let dir = tempfile::tempdir().expect("tempdir");
        let entry = json!({"eventMessage": "hello", "eventType": "logEvent", "subsystem": "com.apple.x",
            "processImagePath": "/usr/libexec/x", "processID": 1, "timestamp": "2024-05-01 10:00:00.000000+0000"});
        let path = dir.path().join("log.json");
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&json!([entry.clone(), entry])).expect("json"),
        )
        .expect("write");
        let (mapped, stats) = read(&[path]);
        assert!(mapped.is_empty());
        assert_eq!(stats[0].format, "json-array");
        assert_eq!(
            stats[0]
                .skipped
                .get("unified log logEvent: no Sigma log source"),
            Some(&2)
        );
    }
}
