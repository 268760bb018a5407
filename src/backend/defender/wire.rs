//! Advanced hunting's alert rows (`AlertEvidence` joined with `AlertInfo`)
//! as alerts. The result table and the device tables are read by
//! [`microsoft`](crate::backend::microsoft), shared with `sentinel`.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::backend::BackendAlert;
use crate::backend::microsoft::attack;
use crate::backend::microsoft::table::{Row, full_path, pid, put, put_pid, text, time_of};
use crate::telemetry::{Category, Event};

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
 responses: Vec::new(),
        rule_id: t("AlertId"),
        rule_title: t("Title").unwrap_or_else(|| "Defender alert".into()),
        level: t("Severity"),
        tags,
        at,
        event: Event {
            category,
            arrived: None,
            at: Some(at),
            hop: None,
            fields,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::microsoft::fixture::row;
    use serde_json::json;

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
