//! Advanced hunting's alert rows (`AlertEvidence` joined with `AlertInfo`)
//! as alerts. The result table and the device tables are read by
//! [`microsoft`](crate::backend::microsoft), shared with `sentinel`.
//!
//! `AlertEvidence` holds one row per entity of an alert (the process, its
//! parent, the file, the user…), so its rows are first grouped by
//! `AlertId` ([`group_by`](crate::backend::microsoft::table::group_by)):
//! one alert is one alert, tied to the one entity it names as its subject
//! ([`subject`]), never once per evidence row.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::backend::attribution::Record as _;
use crate::backend::microsoft::attack;
use crate::backend::microsoft::table::{Group, Row, full_path, pid, put, put_pid, text, time_of};
use crate::backend::{BackendAlert, Response, ResponseKind};
use crate::telemetry::{Category, Event};

fn is(row: &Row, key: &str, want: &str) -> bool {
    text(row, key).is_some_and(|v| v.eq_ignore_ascii_case(want))
}

/// The evidence row an alert is about. The schema documents `EvidenceRole`
/// as whether an entity "is impacted or is merely related", so the subject
/// is the impacted process; else the impacted file; else (a service that
/// fills no role) the first process, then file, that mentions `token`;
/// else the first row. Parents, users and devices are context, never the
/// subject, so they never tie the alert to another hop.
pub fn subject<'a>(group: &'a Group, token: &str) -> Option<&'a Row> {
    let rows = &group.0;
    let impacted = |kind: &str| {
        rows.iter()
            .find(|r| is(r, "EntityType", kind) && is(r, "EvidenceRole", "Impacted"))
    };
    let mentioning = |kind: &str| {
        rows.iter()
            .find(|r| is(r, "EntityType", kind) && r.mentions(token))
    };
    impacted("Process")
        .or_else(|| impacted("File"))
        .or_else(|| mentioning("Process"))
        .or_else(|| mentioning("File"))
        .or_else(|| rows.first())
}

/// The evidence's `AdditionalFields` JSON, when it is an object.
fn additional(row: &Row) -> Map<String, Value> {
    text(row, "EvidenceAdditionalFields")
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// The process id an evidence's `AdditionalFields` JSON names, if any.
fn evidence_pid(row: &Row) -> Option<u64> {
    additional(row).get("ProcessId").and_then(pid)
}

/// What the product did to one evidence, from its remediation status: the
/// `EvidenceRemediationStatus` column the query fills where the table has
/// one (`column_ifexists`), else a `RemediationStatus` key of
/// `AdditionalFields`. The words are Graph's documented
/// `evidenceRemediationStatus` values: `prevented` ("prevented from
/// executing") stopped the chain; `blocked` ("blocked while executing")
/// and `remediated` acted on something that ran; `Quarantined` is the
/// portal's word for a remediated file. No time of the action is
/// documented, so none is given.
pub fn response(row: &Row) -> Option<Response> {
    let status = text(row, "EvidenceRemediationStatus").or_else(|| {
        additional(row)
            .get("RemediationStatus")
            .and_then(Value::as_str)
            .map(str::to_string)
    })?;
    let kind = match status.to_ascii_lowercase().as_str() {
        "prevented" => ResponseKind::Blocked,
        "blocked" | "remediated" | "quarantined" => ResponseKind::Contained,
        _ => return None,
    };
    let what = [text(row, "EntityType"), text(row, "EvidenceFileName")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Some(Response {
        kind,
        action: if what.is_empty() {
            status
        } else {
            format!("{status} ({what})")
        },
        at: None,
    })
}

/// The event an evidence row describes: a file event for file evidence,
/// else the process it names.
fn evidence_event(row: &Row, at: Option<OffsetDateTime>) -> Event {
    let t = |k: &str| text(row, k);
    let path = full_path(
        t("EvidenceFolderPath").as_deref(),
        t("EvidenceFileName").as_deref(),
    );
    let mut fields = Row::new();
    let category = if is(row, "EntityType", "File") {
        put(&mut fields, "TargetFilename", path);
        Category::FileEvent
    } else {
        put(&mut fields, "Image", path);
        put(&mut fields, "CommandLine", t("EvidenceProcessCommandLine"));
        put_pid(&mut fields, "ProcessId", evidence_pid(row));
        Category::ProcessCreation
    };
    put(&mut fields, "host", t("DeviceName"));
    Event {
        category,
        arrived: None,
        at,
        hop: None,
        fields,
    }
}

/// One alert from its evidence rows: title, severity, tags and time from
/// `AlertInfo` (the same on every row), the event from its [`subject`],
/// and what the product did from every row's remediation status.
pub fn alert(group: &Group, token: &str) -> BackendAlert {
    let empty = Row::new();
    let subject_row = subject(group, token).unwrap_or(&empty);
    let t = |k: &str| text(subject_row, k);
    let mut tags = attack::technique_tags(&t("AttackTechniques").unwrap_or_default());
    tags.extend(attack::tactic_tags(&t("Category").unwrap_or_default()));
    // AlertInfo's Timestamp: when the product raised the alert.
    let at = time_of(subject_row, "Timestamp");
    let mut responses: Vec<Response> = Vec::new();
    for r in group.0.iter().filter_map(response) {
        if !responses.contains(&r) {
            responses.push(r);
        }
    }
    BackendAlert {
        responses,
        rule_id: t("AlertId"),
        rule_title: t("Title").unwrap_or_else(|| "Defender alert".into()),
        level: t("Severity"),
        tags,
        at,
        event: evidence_event(subject_row, at),
    }
}

#[cfg(test)]
mod tests;
