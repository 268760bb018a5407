//! Evidence rows as alerts: grouping, the subject, remediation statuses.

use super::*;
use crate::backend::microsoft::fixture::row;
use serde_json::json;

fn evidence(id: &str, kind: &str, role: &str, extra: Value) -> Row {
    let mut r = row(json!({
        "Timestamp": "2024-03-26T09:40:00Z", "AlertId": id, "Title": "Suspicious doc",
        "Severity": "High", "Category": "Execution",
        "AttackTechniques": "[\"User Execution: Malicious File (T1204.002)\"]",
        "EntityType": kind, "EvidenceRole": role, "DeviceName": "win1"
    }));
    if let Value::Object(extra) = extra {
        r.extend(extra);
    }
    r
}

fn cmd(role: &str) -> Row {
    evidence(
        "da1",
        "Process",
        role,
        json!({"EvidenceProcessCommandLine": "cmd /c cp1", "EvidenceFileName": "cmd.exe",
            "EvidenceFolderPath": "C:\\Windows\\System32", "EvidenceAdditionalFields": "{\"ProcessId\":11}"}),
    )
}

fn word() -> Row {
    evidence(
        "da1",
        "Process",
        "Related",
        json!({"EvidenceProcessCommandLine": "WINWORD.EXE /n C:\\Users\\lab\\cp1.docm",
            "EvidenceFileName": "WINWORD.EXE", "EvidenceFolderPath": "C:\\Office",
            "EvidenceAdditionalFields": "{\"ProcessId\":10}"}),
    )
}

fn doc() -> Row {
    evidence(
        "da1",
        "File",
        "Related",
        json!({"EvidenceFileName": "cp1.docm", "EvidenceFolderPath": "C:\\Users\\lab"}),
    )
}

fn user() -> Row {
    evidence("da1", "User", "Impacted", json!({"AccountName": "lab"}))
}

#[test]
fn rows_group_by_alert_id_in_answer_order() {
    let other = evidence("da2", "Process", "Impacted", json!({}));
    let mut anonymous = cmd("Impacted");
    anonymous.remove("AlertId");
    let groups = crate::backend::microsoft::table::group_by(
        vec![word(), other, cmd("Impacted"), anonymous, doc()],
        "AlertId",
    );
    let sizes: Vec<usize> = groups.iter().map(|g| g.0.len()).collect();
    assert_eq!(sizes, [3, 1, 1]);
    assert_eq!(text(&groups[1].0[0], "AlertId").as_deref(), Some("da2"));
    assert!(groups[0].mentions("CP1") && !groups[1].mentions("cp1"));
}

#[test]
fn the_subject_is_the_impacted_process_whatever_the_row_order() {
    // Related parent first, impacted child later, file and user around.
    let g = Group(vec![word(), doc(), user(), cmd("Impacted")]);
    let a = alert(&g, "cp1");
    assert_eq!(a.event.category, Category::ProcessCreation);
    assert_eq!(a.event.fields["ProcessId"], json!(11));
    assert_eq!(
        a.event.fields["Image"],
        json!("C:\\Windows\\System32\\cmd.exe")
    );
    assert_eq!(a.tags, ["attack.t1204.002", "attack.execution"]);
    assert_eq!(a.rule_id.as_deref(), Some("da1"));
    assert_eq!(a.level.as_deref(), Some("High"));
    // No role filled: the first process mentioning the token, never the user.
    let g = Group(vec![user(), doc(), cmd(""), word()]);
    assert_eq!(alert(&g, "cp1").event.fields["ProcessId"], json!(11));
    // Only file evidence: the alert is about the file.
    let g = Group(vec![user(), doc()]);
    let f = alert(&g, "cp1");
    assert_eq!(f.event.category, Category::FileEvent);
    assert_eq!(
        f.event.fields["TargetFilename"],
        json!("C:\\Users\\lab\\cp1.docm")
    );
}

#[test]
fn remediation_statuses_become_responses_and_others_none() {
    let with = |status: &str, in_column: bool| {
        let mut r = cmd("Impacted");
        if in_column {
            r.insert("EvidenceRemediationStatus".into(), json!(status));
        } else {
            r.insert(
                "EvidenceAdditionalFields".into(),
                json!(format!(
                    "{{\"ProcessId\":11,\"RemediationStatus\":\"{status}\"}}"
                )),
            );
        }
        response(&r).map(|r| (r.kind, r.action, r.at))
    };
    let cases = [
        ("Prevented", Some(ResponseKind::Blocked)),
        ("prevented", Some(ResponseKind::Blocked)),
        ("Blocked", Some(ResponseKind::Contained)),
        ("Remediated", Some(ResponseKind::Contained)),
        ("Quarantined", Some(ResponseKind::Contained)),
        ("None", None),
        ("NotFound", None),
        ("Active", None),
    ];
    for (status, want) in cases {
        for in_column in [true, false] {
            let got = with(status, in_column);
            assert_eq!(got.as_ref().map(|g| g.0), want, "{status} {in_column}");
            if let Some((_, action, at)) = got {
                assert_eq!(action, format!("{status} (Process cmd.exe)"));
                assert_eq!(at, None, "no documented time");
            }
        }
    }
    assert_eq!(response(&cmd("Impacted")), None);
    // Two rows reporting the same action give one response.
    let mut a = cmd("Impacted");
    a.insert("EvidenceRemediationStatus".into(), json!("Prevented"));
    let g = Group(vec![a.clone(), word(), a]);
    assert_eq!(alert(&g, "cp1").responses.len(), 1);
}
