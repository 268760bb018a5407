//! The KQL of one poll round: one query over process and file events (the
//! device tables, [`microsoft::device`](crate::backend::microsoft::device))
//! and one over alert evidence, each covering every token of the batch.
//! Tokens enter only through [`kql::string_literal`]; columns are fixed here.

use time::OffsetDateTime;

use crate::backend::microsoft::kql::{self, KqlError};

pub use crate::backend::microsoft::device::events;

/// Alerts whose evidence names any of `tokens` in a command line or a file
/// name, with every evidence row of each (one row per alert and entity):
/// the rows are grouped back into one alert by `AlertId`
/// ([`group_by`](crate::backend::microsoft::table::group_by)).
/// `EvidenceRole` says which entity is the alert's subject;
/// `RemediationStatus` is read only where the table has such a column
/// (`column_ifexists`: the schema reference lists none), else from
/// `AdditionalFields`.
pub fn alerts(
    from: OffsetDateTime,
    to: OffsetDateTime,
    tokens: &[&str],
) -> Result<String, KqlError> {
    let window = kql::between("Timestamp", from, to)?;
    // Every evidence row of a matching alert, not only those naming a
    // token: the subject (the impacted process) may not carry it.
    Ok(format!(
        "let ChainproofAlerts = AlertEvidence\n\
         | where {window}\n\
         | where {}\n\
         | distinct AlertId;\n\
         AlertEvidence\n\
         | where {window}\n\
         | where AlertId in (ChainproofAlerts)\n\
         | project AlertId, EntityType, EvidenceRole, \
         EvidenceProcessCommandLine = ProcessCommandLine, \
         EvidenceFileName = FileName, EvidenceFolderPath = FolderPath, \
         EvidenceAdditionalFields = AdditionalFields, \
         EvidenceRemediationStatus = column_ifexists(\"RemediationStatus\", \"\"), DeviceName\n\
         | join kind=inner (AlertInfo | project AlertId, Title, Severity, Category, \
         AttackTechniques, Timestamp) on AlertId\n\
         | project Timestamp, AlertId, Title, Severity, Category, AttackTechniques, EntityType, \
         EvidenceRole, EvidenceProcessCommandLine, EvidenceFileName, EvidenceFolderPath, \
         EvidenceAdditionalFields, EvidenceRemediationStatus, DeviceName\n\
         | order by Timestamp asc",
        kql::any_column_contains(&["ProcessCommandLine", "FileName"], tokens)?,
    ))
}

/// The query `check` runs: proves the token and the hunting permission.
pub const CHECK: &str = "DeviceProcessEvents | take 0";

/// The prerequisite query proving process events arrive: 1 when any
/// device reported a process creation in the last hour, else 0.
pub const RECENT_PROCESS: &str =
    "DeviceProcessEvents\n| where Timestamp > ago(1h)\n| take 1\n| count";

/// The prerequisite query proving both alert tables can be read (a
/// `union` fails when either cannot be resolved).
pub const ALERTS_READABLE: &str = "union AlertInfo, AlertEvidence\n| take 0";

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn one_query_per_kind_covers_every_token_and_escapes_them() -> Result<(), KqlError> {
        let (from, to) = (
            datetime!(2025-06-01 10:00 UTC),
            datetime!(2025-06-01 10:20 UTC),
        );
        let q = events("Timestamp", from, to, &["cp0000000001", r#"x" or 1==1 //"#])?;
        assert!(q.starts_with("union withsource=SourceTable DeviceProcessEvents, DeviceFileEvents\n| where Timestamp between (datetime(2025-06-01T10:00:00Z) .. datetime(2025-06-01T10:20:00Z))\n"), "{q}");
        assert!(q.contains(r#"(ProcessCommandLine contains "cp0000000001" or ProcessCommandLine contains "x\" or 1==1 //")"#), "{q}");
        assert!(q.contains(r#"(FileName contains "cp0000000001""#), "{q}");
        assert!(
            q.contains("| project Timestamp, SourceTable, FileName, FolderPath"),
            "{q}"
        );
        assert!(
            q.contains(
                ", DeviceName, FileOriginUrl, ActionType, IngestionTime = ingestion_time()\n"
            ),
            "{q}"
        );
        let a = alerts(from, to, &["cp0000000001"])?;
        assert!(
            a.starts_with("let ChainproofAlerts = AlertEvidence\n| where Timestamp between"),
            "{a}"
        );
        assert!(
            a.contains("| distinct AlertId;\nAlertEvidence\n| where Timestamp between"),
            "{a}"
        );
        assert!(a.contains("| where AlertId in (ChainproofAlerts)\n"), "{a}");
        assert!(a.contains("EvidenceRole"), "{a}");
        assert!(a.contains(r#"((ProcessCommandLine contains "cp0000000001") or (FileName contains "cp0000000001"))"#), "{a}");
        assert!(a.contains("join kind=inner (AlertInfo"), "{a}");
        assert!(events("Time Generated", from, to, &["t"]).is_err());
        Ok(())
    }
}
