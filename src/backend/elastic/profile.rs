//! Field profiles: where each product keeps what Sysmon calls `Image`,
//! `CommandLine`, `ProcessId`, ... A profile is data — the fields the token
//! is searched in, the candidate source paths of every Sysmon name, what a
//! process event is — so one search and one conversion serve every product.
//!
//! Owns the mapping only; it must not build requests or decide verdicts.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::mapping::{AUDIT_ARGS, ECS, Field, WAZUH, WINLOGBEAT};
use super::wire::{number, text, values};
use crate::telemetry::{Category, Event};

/// How the searched documents name their fields.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FieldProfile {
    /// Elastic Common Schema (Elastic Defend, Elastic Agent integrations);
    /// alerts are Elastic Security detection alerts.
    #[default]
    Ecs,
    /// Winlogbeat's Sysmon channel: `winlog.event_data.<SysmonName>`, with
    /// the ECS copies as fallbacks; alerts are Elastic Security alerts.
    WinlogbeatSysmon,
    /// The Wazuh indexer: `data.win.eventdata.*` (Sysmon names in lower
    /// camel case), `data.audit.*` (auditd), `syscheck.*` (file
    /// integrity); alerts are `wazuh-alerts-4.x-*` documents.
    Wazuh,
}

impl FieldProfile {
    fn fields(self) -> &'static [Field] {
        match self {
            FieldProfile::Ecs => ECS,
            FieldProfile::WinlogbeatSysmon => WINLOGBEAT,
            FieldProfile::Wazuh => WAZUH,
        }
    }

    /// Fields a run's token is searched in (command lines and file paths).
    /// A field that an index does not map matches nothing, so listing a
    /// fallback costs no error.
    pub fn token_fields(self) -> &'static [&'static str] {
        match self {
            FieldProfile::Ecs => &[
                "process.command_line",
                "process.parent.command_line",
                "file.path",
                // A run's Message-ID holds its token: a mail document of
                // the events index is found by it (the mail hop).
                "email.message_id",
            ],
            FieldProfile::WinlogbeatSysmon => &[
                "winlog.event_data.CommandLine",
                "winlog.event_data.ParentCommandLine",
                "winlog.event_data.TargetFilename",
                "process.command_line",
                "process.parent.command_line",
                "file.path",
            ],
            FieldProfile::Wazuh => &[
                "data.win.eventdata.commandLine",
                "data.win.eventdata.parentCommandLine",
                "data.win.eventdata.targetFilename",
                "data.audit.execve.a1",
                "data.audit.execve.a2",
                "data.audit.execve.a3",
                "data.audit.file.name",
                "syscheck.path",
                // `text`, so the pattern meets analysed terms: best effort.
                "full_log",
            ],
        }
    }

    /// The time field every profile's documents carry (Wazuh's ingest
    /// pipeline copies `timestamp` into it).
    pub fn time_field(self) -> &'static str {
        "@timestamp"
    }

    /// A Query DSL filter matching the profile's process-creation events:
    /// ECS (and Winlogbeat's ECS copy) says `event.category: process`;
    /// Wazuh has no category, so Sysmon event 1 or a decoded `execve`.
    pub fn process_filter(self) -> Value {
        match self {
            FieldProfile::Ecs | FieldProfile::WinlogbeatSysmon => {
                json!({ "term": { "event.category": "process" } })
            }
            FieldProfile::Wazuh => json!({ "bool": {
                "should": [
                    { "term": { "data.win.system.eventID": "1" } },
                    { "exists": { "field": "data.audit.execve" } },
                ],
                "minimum_should_match": 1,
            } }),
        }
    }

    /// Index pattern searched for events when the profile names none.
    pub fn default_events_index(self) -> &'static str {
        match self {
            FieldProfile::Ecs => "logs-*",
            FieldProfile::WinlogbeatSysmon => "winlogbeat-*",
            FieldProfile::Wazuh => "wazuh-archives-4.x-*",
        }
    }

    /// Index pattern searched for alerts when the profile names none.
    pub fn default_alerts_index(self) -> &'static str {
        match self {
            FieldProfile::Ecs | FieldProfile::WinlogbeatSysmon => ".alerts-security.alerts-*",
            FieldProfile::Wazuh => "wazuh-alerts-4.x-*",
        }
    }

    /// A document's `_source` as an event with the Sysmon names.
    pub fn event(self, doc: &Value) -> Event {
        let mut fields = Map::new();
        for f in self.fields() {
            let found = if f.numeric {
                f.from.iter().find_map(|p| number(doc, p)).map(Value::from)
            } else {
                f.from.iter().find_map(|p| text(doc, p)).map(Value::String)
            };
            if let Some(v) = found {
                fields.insert(f.sysmon.into(), v);
            }
        }
        if self == FieldProfile::Wazuh && !fields.contains_key("CommandLine") {
            let args: Vec<String> = AUDIT_ARGS.iter().map_while(|p| text(doc, p)).collect();
            if !args.is_empty() {
                fields.insert("CommandLine".into(), Value::String(args.join(" ")));
            }
        }
        Event {
            category: self.category(doc, &fields),
            // ECS `event.ingested`: when the pipeline (Elastic Agent, an
            // ingest pipeline) received it — the backend's own arrival time.
            arrived: super::wire::time(doc, &["event.ingested"]),
            at: super::wire::time(doc, &["@timestamp", "timestamp"]),
            hop: None,
            fields,
        }
    }

    fn category(self, doc: &Value, fields: &Map<String, Value>) -> Category {
        let has = |p: &str| !values(doc, p).is_empty();
        let code = |paths: &[&str]| paths.iter().find_map(|p| text(doc, p));
        let decided = match self {
            FieldProfile::Ecs => {
                let cats: Vec<String> = values(doc, "event.category")
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_lowercase))
                    .collect();
                if cats.iter().any(|c| c == "file") {
                    Some(Category::FileEvent)
                } else if cats.iter().any(|c| c == "email")
                    || fields.contains_key("InternetMessageId")
                        && !fields.contains_key("Image")
                        && !fields.contains_key("TargetFilename")
                {
                    // A message's record, not a process: ECS's `email`
                    // category, or a document with a Message-ID only.
                    Some(Category::Other)
                } else if cats.iter().any(|c| c == "process") {
                    Some(Category::ProcessCreation)
                } else {
                    None
                }
            }
            FieldProfile::WinlogbeatSysmon => sysmon_code(code(&["winlog.event_id", "event.code"])),
            FieldProfile::Wazuh => {
                sysmon_code(code(&["data.win.system.eventID"])).or(if has("syscheck.path") {
                    Some(Category::FileEvent)
                } else if has("data.audit.execve") {
                    Some(Category::ProcessCreation)
                } else if has("data.audit.file.name") {
                    Some(Category::FileEvent)
                } else {
                    None
                })
            }
        };
        decided.unwrap_or(
            if fields.contains_key("TargetFilename") && !fields.contains_key("CommandLine") {
                Category::FileEvent
            } else {
                Category::ProcessCreation
            },
        )
    }
}

/// Sysmon event 1 is a process creation, 11 a file creation.
fn sysmon_code(code: Option<String>) -> Option<Category> {
    match code.as_deref().map(str::trim) {
        Some("1") => Some(Category::ProcessCreation),
        Some("11") => Some(Category::FileEvent),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(e: &Event) -> Value {
        Value::Object(e.fields.clone())
    }

    #[test]
    fn ecs_process_and_file_events_take_sysmon_names() {
        let doc = json!({
            "@timestamp": "2025-06-01T10:03:12.511Z",
            "event": {"category": ["process"]},
            "host": {"name": "lab-01"},
            "process": {"executable": "/usr/bin/dash", "command_line": "sh -c x", "pid": 11,
                "entity_id": "e-11",
                "parent": {"pid": 10, "executable": "/w/soffice.bin", "command_line": "soffice", "entity_id": "e-10"}},
            "user": {"name": "lab"}
        });
        let e = FieldProfile::Ecs.event(&doc);
        assert_eq!(e.category, Category::ProcessCreation);
        assert!(e.at.is_some());
        assert_eq!(e.arrived, None, "no event.ingested, no arrival time");
        let mut ingested = doc.clone();
        ingested["event"]["ingested"] = json!("2025-06-01T10:03:14.000Z");
        let arrived = FieldProfile::Ecs.event(&ingested).arrived;
        assert_eq!(arrived.map(|t| t.unix_timestamp()), Some(1_748_772_194));
        assert_eq!(
            fields(&e),
            json!({"Image": "/usr/bin/dash", "CommandLine": "sh -c x", "ProcessId": 11,
                "ParentProcessId": 10, "ParentImage": "/w/soffice.bin", "ParentCommandLine": "soffice",
                "User": "lab", "ProcessGuid": "e-11", "ParentProcessGuid": "e-10", "host": "lab-01"})
        );
        let file = json!({"event.category": "file", "file.path": "/tmp/cp1.txt",
            "process.pid": 11, "process.executable": "/usr/bin/touch", "process.command_line": "touch"});
        let e = FieldProfile::Ecs.event(&file);
        assert_eq!(e.category, Category::FileEvent, "event.category wins");
        assert_eq!(e.fields.get("TargetFilename"), Some(&json!("/tmp/cp1.txt")));
    }

    #[test]
    fn winlogbeat_reads_event_data_and_parses_string_pids() {
        let doc = json!({"winlog": {"event_id": "1", "computer_name": "WIN-01", "event_data": {
            "Image": "C:\\Windows\\System32\\cmd.exe", "ProcessId": "6120",
            "ParentProcessId": "5012", "ParentImage": "C:\\Office\\WINWORD.EXE"}}});
        let e = FieldProfile::WinlogbeatSysmon.event(&doc);
        assert_eq!(e.category, Category::ProcessCreation);
        assert_eq!(e.fields.get("ProcessId"), Some(&json!(6120)));
        assert_eq!(e.fields.get("ParentProcessId"), Some(&json!(5012)));
        assert_eq!(e.fields.get("host"), Some(&json!("WIN-01")));
        let file = json!({"winlog": {"event_id": 11, "event_data": {"TargetFilename": "C:\\t\\cp1.txt",
            "Image": "C:\\x.exe", "ProcessId": "7"}}});
        assert_eq!(
            FieldProfile::WinlogbeatSysmon.event(&file).category,
            Category::FileEvent
        );
    }

    #[test]
    fn wazuh_reads_windows_audit_and_syscheck_shapes() {
        let win = json!({"timestamp": "2025-06-01T10:03:13.120+0000", "agent": {"name": "lab-win-01"},
            "data": {"win": {"system": {"eventID": "1"}, "eventdata": {"image": "C:\\cmd.exe",
                "commandLine": "cmd /c echo cp1", "processId": "6120", "parentProcessId": "5012"}}}});
        let e = FieldProfile::Wazuh.event(&win);
        assert_eq!(e.category, Category::ProcessCreation);
        assert!(e.at.is_some(), "Wazuh's +0000 offset parses");
        assert_eq!(e.fields.get("ProcessId"), Some(&json!(6120)));
        assert_eq!(e.fields.get("host"), Some(&json!("lab-win-01")));
        let audit = json!({"data": {"audit": {"type": "SYSCALL", "pid": "4242", "ppid": "4241",
            "exe": "/usr/bin/bash", "execve": {"a0": "bash", "a1": "-c", "a2": "echo cp1"}}}});
        let e = FieldProfile::Wazuh.event(&audit);
        assert_eq!(e.category, Category::ProcessCreation);
        assert_eq!(
            e.fields.get("CommandLine"),
            Some(&json!("bash -c echo cp1"))
        );
        assert_eq!(e.fields.get("Image"), Some(&json!("/usr/bin/bash")));
        assert_eq!(e.fields.get("ParentProcessId"), Some(&json!(4241)));
        let fim = json!({"syscheck": {"path": "/tmp/cp1.txt", "event": "added"}});
        let e = FieldProfile::Wazuh.event(&fim);
        assert_eq!(e.category, Category::FileEvent);
        assert_eq!(e.fields.get("TargetFilename"), Some(&json!("/tmp/cp1.txt")));
    }

    #[test]
    fn profiles_parse_from_their_config_names() -> Result<(), serde_json::Error> {
        for (name, want) in [
            ("ecs", FieldProfile::Ecs),
            ("winlogbeat-sysmon", FieldProfile::WinlogbeatSysmon),
            ("wazuh", FieldProfile::Wazuh),
        ] {
            assert_eq!(serde_json::from_value::<FieldProfile>(json!(name))?, want);
        }
        assert!(serde_json::from_value::<FieldProfile>(json!("sysmon")).is_err());
        Ok(())
    }
}
