//! Sentinel against a local server shaped like the identity platform's
//! token endpoint and the Log Analytics query API.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::backend::conformance::suite::Fixture;
use crate::backend::conformance::{Answer, Server};
use crate::backend::microsoft::fixture::{self, ACCESS_TOKEN, CMD, DOC, TOKEN, WORD};
use crate::record::Verdict;

mod alerts;
mod mail;

const WORKSPACE: &str = "b438b4f6-912a-46d5-9cb1-b44069212abc";
const SYSMON: &str = "TimeGenerated Computer EventID Image CommandLine ProcessId ParentProcessId ParentImage ParentCommandLine User TargetFilename";
const ALERT: &str = "TimeGenerated AlertName SystemAlertId AlertSeverity Tactics Techniques Entities ExtendedProperties ProviderName";

fn backend(url: &str, table: ProcessTable) -> Result<Sentinel, BackendError> {
    let mut config = SentinelFixture::config(url);
    config.process_table = table;
    Sentinel::new("lab-sentinel", &config)
}

/// A Log Analytics answer; every cell a string, as the service often sends.
fn answer(columns: &str, rows: &[Vec<Value>]) -> String {
    let cols: Vec<Value> = columns
        .split_whitespace()
        .map(|c| json!({"name": c, "type": if c.ends_with("Id") { "long" } else { "string" }}))
        .collect();
    json!({"tables": [{"name": "PrimaryResult", "columns": cols, "rows": rows}]}).to_string()
}

fn sysmon(token: &str, pid: u64, ppid: u64, image: &str, parent: &str) -> Vec<Value> {
    let s = |v: &str| json!(v);
    vec![
        s("2026-11-26T10:00:00.123Z"),
        s("lab-win-01"),
        s("1"),
        s(image),
        json!(format!("{image} {token}")),
        json!(pid.to_string()),
        json!(ppid.to_string()),
        s(parent),
        s(parent),
        s("LAB\\user"),
        s(""),
    ]
}

fn sysmon_file(path: &str) -> Vec<Value> {
    let mut r = sysmon("", 7, 1, r"C:\Edge\msedge.exe", "");
    r[2] = json!("11");
    r[4] = json!("");
    r[10] = json!(path);
    r
}

fn chain(parent_of_cmd: u64) -> String {
    answer(
        SYSMON,
        &[
            sysmon_file(DOC),
            sysmon(TOKEN, 10, 4, WORD, r"C:\Windows\explorer.exe"),
            sysmon(TOKEN, 11, parent_of_cmd, CMD, WORD),
        ],
    )
}

fn alert(token: &str) -> String {
    let entities = json!([
        {"$id": "2", "Directory": r"C:\Windows\System32", "Name": "cmd.exe", "Type": "file"},
        {"$id": "3", "ProcessId": "11", "CommandLine": format!("cmd.exe /c echo {token}"),
         "ImageFile": {"$ref": "2"}, "Type": "process"}
    ])
    .to_string();
    alert_with(&entities)
}

/// A `SecurityAlert` answer of one alert with `entities`.
fn alert_with(entities: &str) -> String {
    answer(
        ALERT,
        &[vec![
            json!("2026-11-26T10:00:05Z"),
            json!("Office spawned a shell"),
            json!("5d5a-alert"),
            json!("High"),
            json!("Execution"),
            json!("[\"T1204\"]"),
            json!(entities),
            json!("{}"),
            json!("ASI Scheduled Alerts"),
        ]],
    )
}

fn empty(columns: &str) -> Answer {
    Answer::ok(answer(columns, &[]))
}

fn token() -> Answer {
    Answer::ok(fixture::token_answer(3599))
}

async fn ask(table: ProcessTable, script: Vec<Answer>) -> (Result<Vec<RunAnswer>, String>, Server) {
    fixture::ask(script, |url| backend(url, table)).await
}

fn verdicts(got: &Result<Vec<RunAnswer>, String>) -> Result<Vec<Verdict>, String> {
    fixture::verdicts_of(got)
}

#[tokio::test]
async fn hit_with_an_alert_is_alerted_with_one_token_and_two_queries() {
    let script = vec![token(), Answer::ok(chain(10)), Answer::ok(alert(TOKEN))];
    let (got, server) = ask(ProcessTable::Sysmon, script).await;
    assert_eq!(
        verdicts(&got),
        Ok(vec![
            Verdict::Observed,
            Verdict::Observed,
            Verdict::Alerted,
            Verdict::Alerted
        ])
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].path, "/contoso.onmicrosoft.com/oauth2/v2.0/token");
    assert!(
        seen[0]
            .body
            .contains("scope=https%3A%2F%2Fapi.loganalytics.io%2F.default")
    );
    for s in &seen[1..] {
        assert_eq!(s.path, format!("/v1/workspaces/{WORKSPACE}/query"));
        assert_eq!(
            s.authorization.as_deref(),
            Some(&*format!("Bearer {ACCESS_TOKEN}"))
        );
        let body: Value = serde_json::from_str(&s.body).unwrap_or_default();
        let span = body["timespan"].as_str().unwrap_or_default();
        assert!(span.contains('/') && span.ends_with('Z'), "{span}");
        assert!(body["query"].as_str().unwrap_or_default().contains(TOKEN));
    }
    assert!(seen[2].body.contains("SecurityAlert"));
    let alerts = got.map(|mut a| a.remove(0).alerts).unwrap_or_default();
    assert_eq!(alerts[0].tags, ["attack.t1204", "attack.execution"]);
    assert_eq!(alerts[0].event.fields["Image"], json!(CMD));
}

#[tokio::test]
async fn security_4688_reads_hex_pids_and_has_no_file_events() {
    let cols = "TimeGenerated Computer NewProcessName NewProcessId ProcessId ParentProcessName CommandLine SubjectUserName";
    let row = |pid: &str, ppid: &str, image: &str, parent: &str| {
        vec![
            json!("2026-11-26T10:00:00Z"),
            json!("lab-win-01"),
            json!(image),
            json!(pid),
            json!(ppid),
            json!(parent),
            json!(format!("{image} {TOKEN}")),
            json!("user"),
        ]
    };
    let rows = answer(
        cols,
        &[
            row("0xa", "0x4", WORD, "explorer.exe"),
            row("0xb", "0xa", CMD, WORD),
        ],
    );
    let script = vec![token(), Answer::ok(rows), empty(ALERT)];
    let (got, server) = ask(ProcessTable::Security4688, script).await;
    assert_eq!(
        verdicts(&got),
        Ok(vec![
            Verdict::Missed,
            Verdict::Observed,
            Verdict::Observed,
            Verdict::Missed
        ])
    );
    let run = fixture::run();
    let answers = got.unwrap_or_default();
    assert_eq!(
        fixture::spawn_linked(&run, &answers[0], "sentinel"),
        Some(true)
    );
    assert!(server.requests()[1].body.contains("EventID == 4688"));
}

#[tokio::test]
async fn the_device_profile_reads_defender_tables_from_the_workspace() {
    let cols = "TimeGenerated SourceTable FileName FolderPath ProcessCommandLine ProcessId InitiatingProcessId InitiatingProcessFileName InitiatingProcessFolderPath InitiatingProcessCommandLine AccountName DeviceName FileOriginUrl ActionType";
    let proc_row = |pid: &str, ppid: &str, path: &str| {
        let name = path.rsplit_once('\\').map_or(path, |(_, n)| n);
        vec![
            json!("2026-11-26T10:00:00Z"),
            json!("DeviceProcessEvents"),
            json!(name),
            json!(path),
            json!(format!("{name} {TOKEN}")),
            json!(pid),
            json!(ppid),
            json!("x.exe"),
            json!(r"C:\x.exe"),
            json!("x.exe"),
            json!("lab"),
            json!("lab-win-01"),
            Value::Null,
            json!("ProcessCreated"),
        ]
    };
    let (folder, name) = DOC.rsplit_once('\\').unwrap_or_default();
    let file_row = vec![
        json!("2026-11-26T09:59:59Z"),
        json!("DeviceFileEvents"),
        json!(name),
        json!(folder),
        Value::Null,
        Value::Null,
        json!("7"),
        json!("msedge.exe"),
        json!(r"C:\Edge"),
        json!("msedge.exe"),
        Value::Null,
        json!("lab-win-01"),
        json!("http://127.0.0.1/x"),
        json!("FileCreated"),
    ];
    let rows = answer(
        cols,
        &[
            file_row,
            proc_row("10", "4", WORD),
            proc_row("11", "10", CMD),
        ],
    );
    let script = vec![token(), Answer::ok(rows), empty(ALERT)];
    let (got, server) = ask(ProcessTable::Device, script).await;
    assert_eq!(verdicts(&got), Ok(vec![Verdict::Observed; 4]));
    assert!(
        server.requests()[1]
            .body
            .contains("DeviceProcessEvents, DeviceFileEvents")
    );
}

#[tokio::test]
async fn a_failed_or_partial_query_is_an_error_not_a_miss() {
    let partial =
        r#"{"tables":[],"error":{"code":"PartialError","message":"query exceeded limits"}}"#;
    let (got, _s) = ask(ProcessTable::Sysmon, vec![token(), Answer::ok(partial)]).await;
    assert!(got.err().unwrap_or_default().contains("PartialError"));
}

#[tokio::test]
async fn a_large_answer_is_read_whole_and_the_token_is_reused() {
    let mut rows: Vec<Vec<Value>> = (0..5000u64)
        .map(|i| sysmon(TOKEN, 100_000 + i, 1, r"C:\x\noise.exe", r"C:\x\p.exe"))
        .collect();
    rows.push(sysmon_file(DOC));
    rows.push(sysmon(TOKEN, 10, 4, WORD, r"C:\Windows\explorer.exe"));
    rows.push(sysmon(TOKEN, 11, 10, CMD, WORD));
    let big = Answer::ok(answer(SYSMON, &rows));
    let server = Server::start(vec![token(), big.clone(), empty(ALERT), big, empty(ALERT)]).await;
    let b = backend(&server.url, ProcessTable::Sysmon).unwrap_or_else(|e| panic!("{e}"));
    let runs = [fixture::run()];
    for _ in 0..2 {
        let got = b
            .query(Query { runs: &runs })
            .await
            .map_err(|e| e.to_string());
        assert_eq!(got.as_ref().map(|a| a[0].events.len()), Ok(5003));
        assert_eq!(verdicts(&got), Ok(vec![Verdict::Observed; 4]));
    }
    let seen = server.requests();
    assert_eq!(
        seen.len(),
        5,
        "one token request, two queries per round, no paging"
    );
    assert_eq!(
        seen.iter().filter(|s| s.path.ends_with("/token")).count(),
        1
    );
}

#[tokio::test]
async fn check_queries_the_process_table() {
    let server = Server::start(vec![token(), empty(SYSMON)]).await;
    let b = backend(&server.url, ProcessTable::Security4688).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b.check().await, Ok(()));
    let body: Value = serde_json::from_str(&server.requests()[1].body).unwrap_or_default();
    assert_eq!(body["query"], json!("SecurityEvent\n| take 0"));
}

#[test]
fn profiles_parse_with_defaults_and_bad_values_are_refused() {
    let yaml = "tenant_id: contoso.onmicrosoft.com\nclient_id: app\nclient_secret: { file: /run/secrets/la }\n\
                workspace_id: b438b4f6-912a-46d5-9cb1-b44069212abc\nprocess_table: security-4688\n";
    let c: SentinelConfig = serde_yaml_ng::from_str(yaml).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.url, "https://api.loganalytics.io");
    assert_eq!(c.process_table, ProcessTable::Security4688);
    assert_eq!(c.validate(), Ok(()));
    assert!(serde_yaml_ng::from_str::<SentinelConfig>(&format!("{yaml}extra: 1\n")).is_err());
    let bad_table = yaml.replace("security-4688", "security4688");
    assert!(serde_yaml_ng::from_str::<SentinelConfig>(&bad_table).is_err());
    let mut bad = c.clone();
    bad.workspace_id = "x/../../other?".into();
    assert!(bad.validate().is_err_and(|e| e.contains("workspace_id")));
}

/// The Log Analytics query API's answers for the shared conformance cases.
struct SentinelFixture;

impl Fixture for SentinelFixture {
    type Backend = Sentinel;

    fn config(url: &str) -> SentinelConfig {
        SentinelConfig {
            tenant_id: "contoso.onmicrosoft.com".into(),
            client_id: "app-id".into(),
            client_secret: fixture::secret_env(),
            workspace_id: WORKSPACE.into(),
            process_table: ProcessTable::Sysmon,
            sysmon_query: default_sysmon(),
            url: url.into(),
            token_url: url.into(),
            scope: default_scope(),
            timeout: Duration::from_millis(800),
            ca_file: None,
            mail_evidence: false,
        }
    }

    fixture::microsoft_fixture!();

    fn chain(token: &str, parent: u32) -> Vec<Answer> {
        let events = answer(
            SYSMON,
            &[
                sysmon_file(&DOC.replace(TOKEN, token)),
                sysmon(token, 10, 4, WORD, r"C:\Windows\explorer.exe"),
                sysmon(token, 11, parent.into(), CMD, WORD),
            ],
        );
        vec![Answer::ok(events), Answer::ok(alert(token))]
    }

    fn miss() -> Vec<Answer> {
        vec![empty(SYSMON), empty(ALERT)]
    }

    /// The token only in a file entity's name within `Entities` (the
    /// alert query looks in `Entities` and `ExtendedProperties`): the
    /// process entity names none.
    fn tied_by_field(token: &str) -> Option<Vec<(&'static str, Vec<Answer>)>> {
        let entities = json!([
            {"$id": "2", "Directory": r"C:\Windows\System32", "Name": "cmd.exe", "Type": "file"},
            {"$id": "3", "ProcessId": "11", "CommandLine": "cmd.exe /c whoami",
             "ImageFile": {"$ref": "2"}, "Type": "process"},
            {"$id": "4", "Directory": r"C:\Users\lab\Downloads",
             "Name": format!("invoice-{token}.docm"), "Type": "file"}
        ]);
        let mut round = Self::chain(token, 10);
        round[1] = Answer::ok(alert_with(&entities.to_string()));
        Some(vec![("Entities", round)])
    }

    /// `SecurityAlert` writes an alert again under the same
    /// `SystemAlertId` each time it changes.
    fn several_rows(token: &str) -> Option<Vec<Answer>> {
        let mut round = Self::chain(token, 10);
        round[1] = Answer::ok(alerts::written_twice(token));
        Some(round)
    }
}

crate::backend::conformance::conformance_suite!(
    SentinelFixture,
    alert_tied_by_any_field,
    one_alert_several_rows
);
