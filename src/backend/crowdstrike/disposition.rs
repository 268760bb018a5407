//! What Falcon did about an alert: its `pattern_disposition_details`
//! flags turned into [`Response`]s.
//!
//! The flags are the booleans of the alert's `pattern_disposition_details`
//! object as Elastic's CrowdStrike integration lists them (its alert data
//! stream's field list and test alerts; CrowdStrike's own reference is
//! inside the Falcon console). Only flags whose meaning their name states
//! are read: `process_blocked` is a process prevented from running
//! (the chain stopped there); killing, suspending or quarantining a process,
//! its parent or children, a file or the machine, and a blocked operation,
//! are the product acting on something that had run. The numeric
//! `pattern_disposition` bit mask is not decoded (its bits are not
//! documented publicly), and no field says when the action happened, so
//! `at` stays unknown.

use serde_json::Value;

use super::wire::Alert;
use crate::backend::{Response, ResponseKind};

/// The flags read, in the order responses are listed, with their kind.
const FLAGS: &[(&str, ResponseKind)] = &[
    ("process_blocked", ResponseKind::Blocked),
    ("kill_process", ResponseKind::Contained),
    ("kill_parent", ResponseKind::Contained),
    ("kill_subprocess", ResponseKind::Contained),
    ("suspend_process", ResponseKind::Contained),
    ("suspend_parent", ResponseKind::Contained),
    ("quarantine_file", ResponseKind::Contained),
    ("quarantine_machine", ResponseKind::Contained),
    ("operation_blocked", ResponseKind::Contained),
    ("fs_operation_blocked", ResponseKind::Contained),
    ("registry_operation_blocked", ResponseKind::Contained),
];

/// The responses an alert reports, each named by its flag as Falcon spells
/// it. A kill is not reported when `kill_action_failed` says it failed.
pub fn responses(a: &Alert) -> Vec<Response> {
    let Some(details) = a
        .get("pattern_disposition_details")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    let set = |k: &str| details.get(k).and_then(Value::as_bool) == Some(true);
    let kill_failed = set("kill_action_failed");
    FLAGS
        .iter()
        .filter(|(flag, _)| set(flag))
        .filter(|(flag, _)| !(kill_failed && flag.starts_with("kill_")))
        .map(|&(flag, kind)| Response {
            kind,
            action: flag.to_string(),
            at: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn alert(details: Value) -> Alert {
        let mut a = Alert::new();
        a.insert("pattern_disposition".into(), json!(2048));
        a.insert("pattern_disposition_details".into(), details);
        a
    }

    #[test]
    fn disposition_flags_become_blocked_or_contained() {
        use ResponseKind::{Blocked, Contained};
        let all_false = json!({"detect": false, "indicator": false, "kill_process": false,
            "process_blocked": false, "quarantine_file": false, "sensor_only": false});
        let cases = [
            (
                json!({"process_blocked": true, "detect": false}),
                vec![(Blocked, "process_blocked")],
            ),
            (
                json!({"kill_process": true, "quarantine_file": true, "kill_parent": false}),
                vec![(Contained, "kill_process"), (Contained, "quarantine_file")],
            ),
            (
                json!({"quarantine_machine": true}),
                vec![(Contained, "quarantine_machine")],
            ),
            (
                json!({"kill_process": true, "kill_action_failed": true, "fs_operation_blocked": true}),
                vec![(Contained, "fs_operation_blocked")],
            ),
            (all_false, vec![]),
            (json!({"process_blocked": "true"}), vec![]),
            (json!("not an object"), vec![]),
        ];
        for (details, want) in cases {
            let got: Vec<(ResponseKind, String)> = responses(&alert(details.clone()))
                .into_iter()
                .map(|r| {
                    assert_eq!(r.at, None, "no documented action time");
                    (r.kind, r.action)
                })
                .collect();
            let want: Vec<(ResponseKind, String)> =
                want.into_iter().map(|(k, a)| (k, a.to_string())).collect();
            assert_eq!(got, want, "{details}");
        }
        assert!(responses(&Alert::new()).is_empty());
    }
}
