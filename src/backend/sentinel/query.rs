//! The KQL of one poll round against a Log Analytics workspace: one query
//! over the profile's process table and one over `SecurityAlert`, each
//! covering every token of the batch. Tokens enter only through
//! [`kql::string_literal`].

use time::OffsetDateTime;

use super::ProcessTable;
use crate::backend::microsoft::device;
use crate::backend::microsoft::kql::{self, KqlError};

/// The default `sysmon_query`: Sysmon process (1) and file (11) events
/// from the legacy agent's `Event` table, their `EventData` XML unpacked
/// into the Sysmon field names.
pub const DEFAULT_SYSMON: &str = "Event\n\
| where Source == \"Microsoft-Windows-Sysmon\" and EventID in (1, 11)\n\
| extend SysmonData = parse_xml(EventData).DataItem.EventData.Data\n\
| mv-apply SysmonData on (summarize SysmonFields = make_bag(bag_pack(tostring(SysmonData['@Name']), tostring(SysmonData['#text']))))\n\
| extend Image = tostring(SysmonFields.Image), CommandLine = tostring(SysmonFields.CommandLine), \
ProcessId = tostring(SysmonFields.ProcessId), ParentProcessId = tostring(SysmonFields.ParentProcessId), \
ParentImage = tostring(SysmonFields.ParentImage), ParentCommandLine = tostring(SysmonFields.ParentCommandLine), \
User = tostring(SysmonFields.User), TargetFilename = tostring(SysmonFields.TargetFilename)";

/// Process (and, where the table has them, file) events of any of
/// `tokens` in the window.
pub fn events(
    table: ProcessTable,
    sysmon: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
    tokens: &[&str],
) -> Result<String, KqlError> {
    let search = |source, filters, columns, project| {
        kql::search(&kql::Search {
            source,
            time: "TimeGenerated",
            from,
            to,
            filters,
            columns,
            tokens,
            project,
        })
    };
    match table {
        ProcessTable::Device => device::events("TimeGenerated", from, to, tokens),
        ProcessTable::Security4688 => search(
            "SecurityEvent",
            &["EventID == 4688"],
            &["CommandLine", "NewProcessName"],
            "TimeGenerated, Computer, NewProcessName, NewProcessId, ProcessId, \
             ParentProcessName, CommandLine, SubjectUserName, IngestionTime = ingestion_time()",
        ),
        ProcessTable::Sysmon => search(
            sysmon,
            &[],
            &[
                "CommandLine",
                "ParentCommandLine",
                "Image",
                "TargetFilename",
            ],
            "TimeGenerated, Computer, EventID, Image, CommandLine, ProcessId, \
             ParentProcessId, ParentImage, ParentCommandLine, User, TargetFilename, \
             IngestionTime = ingestion_time()",
        ),
    }
}

/// Alerts whose entities or extended properties mention any of `tokens`.
pub fn alerts(
    from: OffsetDateTime,
    to: OffsetDateTime,
    tokens: &[&str],
) -> Result<String, KqlError> {
    kql::search(&kql::Search {
        source: "SecurityAlert",
        time: "TimeGenerated",
        from,
        to,
        filters: &[],
        columns: &["Entities", "ExtendedProperties"],
        tokens,
        project: "TimeGenerated, AlertName, SystemAlertId, AlertSeverity, Tactics, Techniques, \
                  Entities, ExtendedProperties, ProviderName",
    })
}

/// The query `check` runs: proves the token, the workspace and the
/// profile's process table, returning nothing.
pub fn check(table: ProcessTable, sysmon: &str) -> String {
    let base = match table {
        ProcessTable::Device => "DeviceProcessEvents",
        ProcessTable::Security4688 => "SecurityEvent",
        ProcessTable::Sysmon => sysmon,
    };
    format!("{base}\n| take 0")
}

/// The prerequisite query proving process creations arrive in the
/// profile's table: 1 when one arrived in the last hour, else 0.
pub fn recent_process(table: ProcessTable, sysmon: &str) -> String {
    let (base, filter) = match table {
        ProcessTable::Device => ("DeviceProcessEvents", None),
        ProcessTable::Security4688 => ("SecurityEvent", Some("EventID == 4688")),
        ProcessTable::Sysmon => (sysmon, Some("EventID == 1")),
    };
    let filter = filter.map(|f| format!("| where {f}\n")).unwrap_or_default();
    format!("{base}\n| where TimeGenerated > ago(1h)\n{filter}| take 1\n| count")
}

/// The prerequisite query proving `SecurityAlert` can be read.
pub const ALERTS_READABLE: &str = "SecurityAlert\n| take 0";

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn each_profile_filters_its_columns_on_every_token() -> Result<(), KqlError> {
        let (from, to) = (
            datetime!(2025-06-01 10:00 UTC),
            datetime!(2025-06-01 10:30 UTC),
        );
        let tokens = ["cp0000000001", "cp0000000002"];
        let q = events(ProcessTable::Security4688, "", from, to, &tokens)?;
        assert!(q.starts_with("SecurityEvent\n| where TimeGenerated between (datetime(2025-06-01T10:00:00Z) .. datetime(2025-06-01T10:30:00Z))\n| where EventID == 4688\n"), "{q}");
        assert!(
            q.contains(
                r#"(CommandLine contains "cp0000000001" or CommandLine contains "cp0000000002")"#
            ),
            "{q}"
        );
        let q = events(ProcessTable::Sysmon, DEFAULT_SYSMON, from, to, &tokens)?;
        assert!(
            q.starts_with("Event\n| where Source == \"Microsoft-Windows-Sysmon\""),
            "{q}"
        );
        assert!(
            q.contains(r#"TargetFilename contains "cp0000000002"))"#),
            "{q}"
        );
        let q = events(ProcessTable::Device, "", from, to, &tokens)?;
        assert!(
            q.contains("DeviceProcessEvents, DeviceFileEvents\n| where TimeGenerated between"),
            "{q}"
        );
        let a = alerts(from, to, &[r#"a"b\"#])?;
        assert!(a.contains(r#"(Entities contains "a\"b\\")"#), "{a}");
        assert_eq!(
            check(ProcessTable::Device, ""),
            "DeviceProcessEvents\n| take 0"
        );
        assert_eq!(
            recent_process(ProcessTable::Security4688, ""),
            "SecurityEvent\n| where TimeGenerated > ago(1h)\n| where EventID == 4688\n| take 1\n| count"
        );
        assert!(
            recent_process(ProcessTable::Sysmon, DEFAULT_SYSMON).ends_with(
                "| where TimeGenerated > ago(1h)\n| where EventID == 1\n| take 1\n| count"
            )
        );
        for t in [
            ProcessTable::Security4688,
            ProcessTable::Sysmon,
            ProcessTable::Device,
        ] {
            let q = events(t, DEFAULT_SYSMON, from, to, &tokens)?;
            assert!(q.contains(", IngestionTime = ingestion_time()\n"), "{q}");
        }
        Ok(())
    }
}
