//! Alert documents as [`BackendAlert`]s: Elastic Security detection alerts
//! (`kibana.alert.*`, legacy `signal.*`) and Wazuh alerts (`rule.*`).
//! ATT&CK technique ids become `attack.t1204.002` tags and tactic names
//! `attack.execution` tags, the form the grading reads; the alert's event
//! is built from the alert's own process and file fields so verification
//! can tie it to a hop.
//!
//! The alert's time is its own `@timestamp` (Elastic Security: "the time
//! when the alert was created or most recently updated"; Wazuh:
//! `timestamp`), never `kibana.alert.original_time`, which is the source
//! event's. What the product did is read only from documented fields:
//! ECS `event.type: denied` (the action was denied: blocked) and Elastic
//! Defend's `Responses[]` ("rule response action results": the action's
//! name, its message, when it was taken: contained).

use serde_json::Value;

use super::profile::FieldProfile;
use super::wire::{text, texts, time, values};
use crate::backend::{BackendAlert, Response, ResponseKind};

/// An alert document of `profile`'s product as an alert.
pub fn alert(profile: FieldProfile, doc: &Value) -> BackendAlert {
    let first = |paths: &[&str]| paths.iter().find_map(|p| text(doc, p));
    let all =
        |paths: &[&str]| -> Vec<String> { paths.iter().flat_map(|p| texts(doc, p)).collect() };
    let (rule_id, rule_title, level, techniques, tactics) = match profile {
        FieldProfile::Wazuh => (
            first(&["rule.id"]),
            first(&["rule.description"]).unwrap_or_else(|| "wazuh alert".into()),
            first(&["rule.level"]),
            all(&["rule.mitre.id"]),
            all(&["rule.mitre.tactic"]),
        ),
        FieldProfile::Ecs | FieldProfile::WinlogbeatSysmon => (
            first(&[
                "kibana.alert.rule.uuid",
                "kibana.alert.rule.rule_id",
                "signal.rule.id",
            ]),
            first(&["kibana.alert.rule.name", "signal.rule.name"])
                .unwrap_or_else(|| "detection alert".into()),
            first(&["kibana.alert.severity", "signal.rule.severity"]),
            all(&[
                "kibana.alert.rule.threat.technique.id",
                "kibana.alert.rule.threat.technique.subtechnique.id",
                "signal.rule.threat.technique.id",
                "signal.rule.threat.technique.subtechnique.id",
            ]),
            all(&[
                "kibana.alert.rule.threat.tactic.name",
                "signal.rule.threat.tactic.name",
            ]),
        ),
    };
    let at = time(doc, &["@timestamp", "timestamp"]);
    let mut event = profile.event(doc);
    event.at = at.or(event.at);
    let responses = match profile {
        FieldProfile::Wazuh => Vec::new(),
        FieldProfile::Ecs | FieldProfile::WinlogbeatSysmon => responses(doc),
    };
    BackendAlert {
        responses,
        rule_id,
        rule_title,
        level,
        tags: tags(&techniques, &tactics),
        at,
        event,
    }
}

/// What an Elastic alert says the product did. A denied event (ECS
/// `event.type: denied`, as Elastic Defend's prevention alerts carry) was
/// blocked, at the source event's time; each of Defend's `Responses[]` is
/// an action on a process that ran, named as Defend names it with its
/// result message (the result codes are not documented, so a failed action
/// shows its message rather than being dropped or guessed at).
fn responses(doc: &Value) -> Vec<Response> {
    let mut out = Vec::new();
    let denied = values(doc, "event.type")
        .iter()
        .any(|t| t.as_str().is_some_and(|t| t.eq_ignore_ascii_case("denied")));
    if denied {
        out.push(Response {
            kind: ResponseKind::Blocked,
            action: text(doc, "event.action")
                .map_or_else(|| "denied".to_string(), |a| format!("denied ({a})")),
            at: time(doc, &["kibana.alert.original_time", "@timestamp"]),
        });
    }
    for r in values(doc, "Responses") {
        let Some(name) = text(r, "action.action") else {
            continue;
        };
        let action = match text(r, "message") {
            Some(m) if !m.trim().is_empty() => format!("{name} ({})", m.trim()),
            _ => name,
        };
        out.push(Response {
            kind: ResponseKind::Contained,
            action,
            at: time(r, &["@timestamp"]),
        });
    }
    out
}

/// `attack.<technique id>` and `attack.<tactic name>` tags, lowercase,
/// tactic words joined by `-` (`Initial Access` → `attack.initial-access`),
/// without duplicates.
pub fn tags(techniques: &[String], tactics: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let technique_tags = techniques
        .iter()
        .map(|t| format!("attack.{}", t.trim().to_lowercase()));
    let tactic_tags = tactics.iter().map(|t| {
        let words: Vec<String> = t.split_whitespace().map(str::to_lowercase).collect();
        format!("attack.{}", words.join("-"))
    });
    for tag in technique_tags.chain(tactic_tags) {
        if tag != "attack." && !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::telemetry::Category;

    #[test]
    fn elastic_security_alert_with_dotted_kibana_keys() {
        let doc = json!({
            "@timestamp": "2025-06-01T10:08:01.220Z",
            "event": {"kind": "signal", "category": ["process"]},
            "kibana.alert.rule.name": "Microsoft Office spawning a command shell",
            "kibana.alert.rule.uuid": "rule-uuid-1",
            "kibana.alert.severity": "high",
            "kibana.alert.rule.threat": [{"framework": "MITRE ATT&CK",
                "tactic": {"id": "TA0002", "name": "Execution"},
                "technique": [{"id": "T1204", "name": "User Execution",
                    "subtechnique": [{"id": "T1204.002", "name": "Malicious File"}]}]}],
            "process": {"pid": 11, "executable": "/usr/bin/dash", "command_line": "sh -c cp1"}
        });
        let a = alert(FieldProfile::Ecs, &doc);
        assert_eq!(a.rule_id.as_deref(), Some("rule-uuid-1"));
        assert_eq!(a.rule_title, "Microsoft Office spawning a command shell");
        assert_eq!(a.level.as_deref(), Some("high"));
        assert_eq!(
            a.tags,
            ["attack.t1204", "attack.t1204.002", "attack.execution"]
        );
        assert_eq!(a.at.map(|t| t.unix_timestamp()), Some(1_748_772_481));
        assert_eq!(a.event.category, Category::ProcessCreation);
        assert_eq!(a.event.fields.get("ProcessId"), Some(&json!(11)));
        assert_eq!(a.event.fields.get("Image"), Some(&json!("/usr/bin/dash")));
        assert!(
            a.responses.is_empty(),
            "an alert that says nothing was done"
        );
    }

    #[test]
    fn denied_events_and_defend_responses_say_what_the_product_did() {
        let doc = json!({
            "@timestamp": "2025-06-01T10:08:01.220Z",
            "kibana.alert.original_time": "2025-06-01T10:03:12.511Z",
            "kibana.alert.rule.name": "Malicious Behavior Prevention Alert",
            "event": {"kind": "signal", "type": ["info", "denied"], "action": "rule_detection"},
            "Responses": [
                {"@timestamp": "2025-06-01T10:03:12.600Z", "message": "Success", "result": 0,
                 "action": {"action": "kill_process", "field": "process.entity_id", "state": 0, "tree": true},
                 "process": {"pid": 11, "name": "dash", "entity_id": "e-11"}},
                {"@timestamp": "2025-06-01T10:03:12.700Z", "result": 1,
                 "action": {"action": "suspend_process"}},
                {"message": "no action named"}
            ]
        });
        let a = alert(FieldProfile::Ecs, &doc);
        let got: Vec<(ResponseKind, &str, Option<i64>)> = a
            .responses
            .iter()
            .map(|r| {
                (
                    r.kind,
                    r.action.as_str(),
                    r.at.map(time::OffsetDateTime::unix_timestamp),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    ResponseKind::Blocked,
                    "denied (rule_detection)",
                    Some(1_748_772_192)
                ),
                (
                    ResponseKind::Contained,
                    "kill_process (Success)",
                    Some(1_748_772_192)
                ),
                (
                    ResponseKind::Contained,
                    "suspend_process",
                    Some(1_748_772_192)
                ),
            ]
        );
        assert_eq!(
            a.at.map(|t| t.unix_timestamp()),
            Some(1_748_772_481),
            "the alert's own time"
        );
        let mut wazuh = doc.clone();
        wazuh["rule"] = json!({"id": "1", "description": "x"});
        assert!(alert(FieldProfile::Wazuh, &wazuh).responses.is_empty());
    }

    #[test]
    fn wazuh_alert_with_mitre_arrays() {
        let doc = json!({
            "timestamp": "2025-06-01T10:03:13.120+0000",
            "rule": {"level": 6, "description": "Scripting interpreter spawned Windows command shell instance",
                "id": "92002", "mitre": {"id": ["T1059.003"], "tactic": ["Execution", "Defense Evasion"]}},
            "data": {"win": {"system": {"eventID": "1"}, "eventdata": {"image": "C:\\cmd.exe", "processId": "6120"}}}
        });
        let a = alert(FieldProfile::Wazuh, &doc);
        assert_eq!(a.rule_id.as_deref(), Some("92002"));
        assert_eq!(a.level.as_deref(), Some("6"));
        assert_eq!(
            a.tags,
            [
                "attack.t1059.003",
                "attack.execution",
                "attack.defense-evasion"
            ]
        );
        assert_eq!(a.event.fields.get("ProcessId"), Some(&json!(6120)));
    }

    #[test]
    fn tags_are_lowercase_and_unique() {
        let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            tags(
                &t(&["T1204.002", "t1204.002", " "]),
                &t(&["Initial  Access", ""])
            ),
            ["attack.t1204.002", "attack.initial-access"]
        );
    }
}
