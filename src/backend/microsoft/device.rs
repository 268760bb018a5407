//! Defender's device tables (`DeviceProcessEvents`, `DeviceFileEvents`),
//! read by the `defender` backend through advanced hunting and by the
//! `sentinel` backend's `device` profile from the same tables exported to
//! Log Analytics (there the time column is `TimeGenerated`): the query that
//! selects a batch's rows and their conversion to events with Sysmon names.

use time::OffsetDateTime;

use super::kql::{self, KqlError};
use super::table::{Row, full_path, pid_of, put, put_pid, text, time_of};
use crate::telemetry::{Category, Event};

/// Columns the token must appear in for a process or file event.
const EVENT_SEARCH: [&str; 4] = [
    "ProcessCommandLine",
    "InitiatingProcessCommandLine",
    "FolderPath",
    "FileName",
];

/// Columns an event row carries.
const EVENT_COLUMNS: &str = "SourceTable, FileName, FolderPath, ProcessCommandLine, ProcessId, \
    InitiatingProcessId, InitiatingProcessFileName, InitiatingProcessFolderPath, \
    InitiatingProcessCommandLine, AccountName, DeviceName, FileOriginUrl, ActionType";

/// The column that says when a row reached the service: KQL's
/// `ingestion_time()` (the time the record was ingested, which Azure
/// Monitor's latency docs name as the way to measure it), projected as a
/// column so each row carries its own. Empty where the table keeps none.
pub const INGESTION: &str = "IngestionTime = ingestion_time()";

/// Process creations and file events that mention any of `tokens` in the
/// window, `time` being the table's time column (`Timestamp` in advanced
/// hunting, `TimeGenerated` in Log Analytics).
pub fn events(
    time: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
    tokens: &[&str],
) -> Result<String, KqlError> {
    kql::search(&kql::Search {
        source: "union withsource=SourceTable DeviceProcessEvents, DeviceFileEvents",
        time,
        from,
        to,
        filters: &[],
        columns: &EVENT_SEARCH,
        tokens,
        project: &format!("{time}, {EVENT_COLUMNS}, {INGESTION}"),
    })
}

/// True for a `DeviceFileEvents` row: by the `union withsource` column, or
/// by its `File*` action type where that column is missing.
fn is_file_row(row: &Row) -> bool {
    match text(row, "SourceTable") {
        Some(t) => t.ends_with("DeviceFileEvents"),
        None => text(row, "ActionType").is_some_and(|a| a.starts_with("File")),
    }
}

/// A `DeviceProcessEvents` or `DeviceFileEvents` row as an event with the
/// Sysmon names; `time` names the time column.
pub fn device_event(row: &Row, time: &str) -> Event {
    let t = |k: &str| text(row, k);
    let image = |folder: &str, name: &str| full_path(t(folder).as_deref(), t(name).as_deref());
    let mut fields = Row::new();
    let category = if is_file_row(row) {
        put(
            &mut fields,
            "TargetFilename",
            image("FolderPath", "FileName"),
        );
        put(
            &mut fields,
            "Image",
            image("InitiatingProcessFolderPath", "InitiatingProcessFileName"),
        );
        put(
            &mut fields,
            "CommandLine",
            t("InitiatingProcessCommandLine"),
        );
        put_pid(&mut fields, "ProcessId", pid_of(row, "InitiatingProcessId"));
        put(&mut fields, "OriginUrl", t("FileOriginUrl"));
        Category::FileEvent
    } else {
        put(&mut fields, "Image", image("FolderPath", "FileName"));
        put(&mut fields, "CommandLine", t("ProcessCommandLine"));
        put_pid(&mut fields, "ProcessId", pid_of(row, "ProcessId"));
        put_pid(
            &mut fields,
            "ParentProcessId",
            pid_of(row, "InitiatingProcessId"),
        );
        put(
            &mut fields,
            "ParentImage",
            image("InitiatingProcessFolderPath", "InitiatingProcessFileName"),
        );
        put(
            &mut fields,
            "ParentCommandLine",
            t("InitiatingProcessCommandLine"),
        );
        put(&mut fields, "User", t("AccountName"));
        Category::ProcessCreation
    };
    put(&mut fields, "host", t("DeviceName"));
    Event {
        category,
        arrived: time_of(row, "IngestionTime"),
        at: time_of(row, time),
        hop: None,
        fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::microsoft::fixture::row;
    use serde_json::json;

    #[test]
    fn process_and_file_rows_get_sysmon_names() {
        let p = row(
            json!({"SourceTable":"DeviceProcessEvents","Timestamp":"2024-03-26T09:39:50.7688641Z",
            "FileName":"cmd.exe","FolderPath":"C:\\Windows\\System32\\cmd.exe","ProcessId":11,
            "ProcessCommandLine":"cmd /c echo cp1","InitiatingProcessId":"10",
            "InitiatingProcessFileName":"WINWORD.EXE","InitiatingProcessFolderPath":"c:\\office",
            "AccountName":"lab","DeviceName":"win1","ActionType":"ProcessCreated","FileOriginUrl":null,
            "IngestionTime":"2024-03-26T09:40:02.5Z"}),
        );
        let e = device_event(&p, "Timestamp");
        assert_eq!(
            e.arrived
                .map(|t| t.unix_timestamp_nanos() - e.at.map_or(0, |a| a.unix_timestamp_nanos())),
            Some(11_731_135_900)
        );
        assert_eq!(e.category, Category::ProcessCreation);
        assert_eq!(e.fields["Image"], json!("C:\\Windows\\System32\\cmd.exe"));
        assert_eq!(e.fields["ParentImage"], json!("c:\\office\\WINWORD.EXE"));
        assert_eq!(e.fields["ProcessId"], json!(11));
        assert_eq!(e.fields["ParentProcessId"], json!(10));
        assert_eq!(e.fields["User"], json!("lab"));
        assert!(e.at.is_some());
        let f = row(
            json!({"ActionType":"FileCreated","FileName":"cp1.lnk","FolderPath":"C:\\Users\\lab\\Downloads",
            "InitiatingProcessId":5,"InitiatingProcessFileName":"msedge.exe","InitiatingProcessFolderPath":"C:\\Edge\\msedge.exe",
            "FileOriginUrl":"http://127.0.0.1/cp1.lnk"}),
        );
        let e = device_event(&f, "Timestamp");
        assert_eq!(e.category, Category::FileEvent);
        assert_eq!(e.arrived, None, "no ingestion time, none made up");
        assert_eq!(
            e.fields["TargetFilename"],
            json!("C:\\Users\\lab\\Downloads\\cp1.lnk")
        );
        assert_eq!(e.fields["Image"], json!("C:\\Edge\\msedge.exe"));
        assert_eq!(e.fields["ProcessId"], json!(5));
        assert_eq!(e.fields["OriginUrl"], json!("http://127.0.0.1/cp1.lnk"));
    }
}
