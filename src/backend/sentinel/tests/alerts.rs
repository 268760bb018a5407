//! Sentinel's alert path (one alert however often `SecurityAlert` writes
//! it, tied to its subject entity), the hop kinds a profile cannot hold,
//! arrival times and the prerequisite checks.

use super::*;
use crate::backend::Backend as _;
use crate::vocab::HopKind;

/// Word (opened with the token's document) as the parent of cmd.exe,
/// the parent listed first, and the user.
fn entities(token: &str) -> String {
    json!([
        {"$id": "2", "Directory": r"C:\Program Files\Microsoft Office\root\Office16",
         "Name": "WINWORD.EXE", "Type": "file"},
        {"$id": "3", "ProcessId": "10", "CommandLine": format!("WINWORD.EXE /n {}", DOC.replace(TOKEN, token)),
         "ImageFile": {"$ref": "2"}, "Type": "process"},
        {"$id": "4", "Directory": r"C:\Windows\System32", "Name": "cmd.exe", "Type": "file"},
        {"$id": "5", "ProcessId": "11", "CommandLine": format!("cmd.exe /c echo {token}"),
         "ImageFile": {"$ref": "4"}, "ParentProcess": {"$ref": "3"}, "Type": "process"},
        {"$id": "6", "Name": "lab", "Type": "account"}
    ])
    .to_string()
}

fn alert_row(token: &str, at: &str, status: &str) -> Vec<Value> {
    vec![
        json!(at),
        json!("Office spawned a shell"),
        json!("5d5a-alert"),
        json!("High"),
        json!("Execution"),
        json!("[\"T1204\"]"),
        json!(entities(token)),
        json!(format!("{{\"Status\":\"{status}\"}}")),
        json!("ASI Scheduled Alerts"),
    ]
}

/// One alert as `SecurityAlert` writes it twice: raised `New`, then
/// rewritten `InProgress` under the same `SystemAlertId`, newest first.
pub(super) fn written_twice(token: &str) -> String {
    answer(
        ALERT,
        &[
            alert_row(token, "2026-11-26T10:07:00Z", "InProgress"),
            alert_row(token, "2026-11-26T10:00:05Z", "New"),
        ],
    )
}

/// One alert however often it is written (the conformance case
/// `one_alert_several_rows`) is raised when first written, on cmd.exe.
#[tokio::test]
async fn an_alert_written_twice_is_raised_when_first_written() {
    let script = vec![
        token(),
        Answer::ok(chain(10)),
        Answer::ok(written_twice(TOKEN)),
    ];
    let (got, _s) = ask(ProcessTable::Sysmon, script).await;
    let answer = got.unwrap_or_default().remove(0);
    let a = &answer.alerts[0];
    assert_eq!(a.event.fields["Image"], json!(CMD));
    assert_eq!(
        a.at,
        Some(time::macros::datetime!(2026-11-26 10:00:05 UTC)),
        "raised when first written"
    );
    assert!(a.responses.is_empty(), "SecurityAlert reports no response");
}

#[test]
fn only_the_4688_profile_cannot_hold_file_hops() -> Result<(), BackendError> {
    for table in [
        ProcessTable::Security4688,
        ProcessTable::Sysmon,
        ProcessTable::Device,
    ] {
        let b = backend("https://127.0.0.1:1", table)?;
        for kind in [HopKind::File, HopKind::Open, HopKind::Spawn] {
            let why = b.cannot_hold(kind);
            let want = table == ProcessTable::Security4688 && kind == HopKind::File;
            assert_eq!(why.is_some(), want, "{table:?} {kind:?}");
            if let Some(why) = why {
                assert!(why.contains("4688") && why.contains("no file events"));
            }
        }
    }
    assert_eq!(Sentinel::ARRIVAL, Some("ingestion_time()"));
    Ok(())
}

#[test]
fn rows_arrive_at_their_ingestion_time() {
    let row = |ingested: Value| -> Row {
        json!({"TimeGenerated": "2025-06-01T10:00:00Z", "IngestionTime": ingested,
            "NewProcessName": CMD, "NewProcessId": "0xb", "CommandLine": "cmd"})
        .as_object()
        .cloned()
        .unwrap_or_default()
    };
    let e = wire::event(
        ProcessTable::Security4688,
        &row(json!("2025-06-01T10:00:42.5Z")),
    );
    assert_eq!(
        e.arrived,
        Some(time::macros::datetime!(2025-06-01 10:00:42.5 UTC))
    );
    let e = wire::event(ProcessTable::Security4688, &row(Value::Null));
    assert_eq!(e.arrived, None, "no ingestion time, none made up");
}

fn count(n: u64) -> Answer {
    Answer::ok(answer("Count", &[vec![json!(n.to_string())]]))
}

async fn prerequisites(
    table: ProcessTable,
    script: Vec<Answer>,
) -> (Result<Vec<String>, BackendError>, Server) {
    let server = Server::start(script).await;
    let got = match backend(&server.url, table) {
        Ok(b) => b.prerequisites().await,
        Err(e) => Err(e),
    };
    (got, server)
}

#[tokio::test]
async fn prerequisites_count_recent_process_creations_and_read_security_alert() {
    let script = vec![token(), count(1), empty(ALERT)];
    let (got, server) = prerequisites(ProcessTable::Security4688, script).await;
    let lines = got.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        lines,
        [
            "SecurityEvent (4688): process events arrived in the last hour",
            "SecurityAlert: readable by this account"
        ]
    );
    let seen = server.requests();
    let body = |i: usize| -> Value { serde_json::from_str(&seen[i].body).unwrap_or_default() };
    assert_eq!(
        body(1)["query"],
        json!(query::recent_process(ProcessTable::Security4688, ""))
    );
    assert_eq!(body(1)["timespan"], json!("PT1H"));
    assert_eq!(body(2)["query"], json!(query::ALERTS_READABLE));
    // Nothing in the last hour: the table is not fed, stop before runs.
    let (got, server) = prerequisites(ProcessTable::Sysmon, vec![token(), count(0)]).await;
    let e = got.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        e.contains("lab-sentinel") && e.contains("sysmon_query") && e.contains("no process event"),
        "{e}"
    );
    assert_eq!(server.requests().len(), 2);
    // A workspace without SecurityAlert would fail every round: stop.
    let missing = r#"{"error":{"code":"BadArgumentError","message":"Failed to resolve table expression named 'SecurityAlert'"}}"#;
    let script = vec![token(), count(1), Answer::status(400, missing)];
    let (got, _s) = prerequisites(ProcessTable::Device, script).await;
    assert!(got.is_err_and(|e| e.to_string().contains("SecurityAlert")));
}
