//! Defender against a local server shaped like the identity platform's
//! token endpoint and Graph's `runHuntingQuery`.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::backend::ErrorKind;
use crate::backend::conformance::suite::{self, Fixture};
use crate::backend::conformance::{Answer, Server};
use crate::backend::microsoft::fixture::{
    self, ACCESS_TOKEN, CLIENT_SECRET, CMD, DOC, TOKEN, WORD,
};
use crate::record::Verdict;

mod mail;
mod prerequisites;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const HUNT: &str = "/v1.0/security/runHuntingQuery";

fn backend(url: &str) -> Result<Defender, BackendError> {
    Defender::new("lab-defender", &DefenderFixture::config(url))
}

fn process(token: &str, pid: u64, ppid: u64, path: &str, parent: &str) -> Value {
    let name = path.rsplit_once('\\').map_or(path, |(_, n)| n);
    let (pfolder, pname) = parent.rsplit_once('\\').unwrap_or(("", parent));
    json!({
        "Timestamp": "2026-11-26T10:00:00.1234567Z", "SourceTable": "DeviceProcessEvents",
        "FileName": name, "FolderPath": path, "ProcessCommandLine": format!("{name} {token}"),
        "ProcessId": pid, "InitiatingProcessId": ppid, "InitiatingProcessFileName": pname,
        "InitiatingProcessFolderPath": pfolder, "InitiatingProcessCommandLine": pname,
        "AccountName": "lab", "DeviceName": "lab-win-01", "FileOriginUrl": null,
        "ActionType": "ProcessCreated"
    })
}

fn file(path: &str) -> Value {
    let (folder, name) = path.rsplit_once('\\').unwrap_or(("", path));
    json!({
        "Timestamp": "2026-11-26T09:59:59Z", "SourceTable": "DeviceFileEvents",
        "FileName": name, "FolderPath": folder, "ProcessCommandLine": null, "ProcessId": null,
        "InitiatingProcessId": 7, "InitiatingProcessFileName": "msedge.exe",
        "InitiatingProcessFolderPath": r"C:\Program Files\Edge\msedge.exe",
        "InitiatingProcessCommandLine": "msedge.exe", "AccountName": null,
        "DeviceName": "lab-win-01", "FileOriginUrl": "http://127.0.0.1:8000/x.docm",
        "ActionType": "FileCreated"
    })
}

fn hunting(rows: &[Value]) -> String {
    json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults",
        "schema": [{"name": "Timestamp", "type": "DateTime"}, {"name": "FileName", "type": "String"}],
        "results": rows,
    })
    .to_string()
}

fn alert_row(token: &str) -> Value {
    json!({
        "Timestamp": "2026-11-26T10:00:05Z", "AlertId": "da638", "Title": "Suspicious process launched by Word",
        "Severity": "High", "Category": "Execution",
        "AttackTechniques": "[\"User Execution: Malicious File (T1204.002)\"]", "EntityType": "Process",
        "EvidenceProcessCommandLine": format!("cmd.exe {token}"), "EvidenceFileName": "cmd.exe",
        "EvidenceFolderPath": CMD, "EvidenceAdditionalFields": "{\"ProcessId\":11}", "DeviceName": "lab-win-01"
    })
}

async fn ask(script: Vec<Answer>) -> (Result<Vec<RunAnswer>, String>, Server) {
    fixture::ask(script, backend).await
}

fn verdicts(got: &Result<Vec<RunAnswer>, String>) -> Result<Vec<Verdict>, String> {
    fixture::verdicts_of(got)
}

fn chain_rows(parent_of_cmd: u64) -> String {
    hunting(&[
        file(DOC),
        process(TOKEN, 10, 4, WORD, r"C:\Windows\explorer.exe"),
        process(TOKEN, 11, parent_of_cmd, CMD, WORD),
    ])
}

#[tokio::test]
async fn hit_with_an_alert_is_alerted_with_one_token_and_two_hunts() {
    let script = vec![
        Answer::ok(fixture::token_answer(3599)),
        Answer::ok(chain_rows(10)),
        Answer::ok(hunting(&[alert_row(TOKEN)])),
    ];
    let (got, server) = ask(script).await;
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
    assert_eq!(seen.len(), 3, "one token request, one hunt per kind");
    assert_eq!(seen[0].path, format!("/{TENANT}/oauth2/v2.0/token"));
    for part in [
        "grant_type=client_credentials",
        "client_id=app-id",
        "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
    ] {
        assert!(seen[0].body.contains(part), "{}", seen[0].body);
    }
    for s in &seen[1..] {
        assert_eq!(s.path, HUNT);
        assert_eq!(
            s.authorization.as_deref(),
            Some(&*format!("Bearer {ACCESS_TOKEN}"))
        );
    }
    let body: Value = serde_json::from_str(&seen[1].body).unwrap_or_default();
    let kql = body["Query"].as_str().unwrap_or_default();
    assert!(
        kql.starts_with("union withsource=SourceTable DeviceProcessEvents, DeviceFileEvents"),
        "{kql}"
    );
    assert!(
        kql.contains(&format!("ProcessCommandLine contains \"{TOKEN}\"")),
        "{kql}"
    );
    let body: Value = serde_json::from_str(&seen[2].body).unwrap_or_default();
    assert!(
        body["Query"]
            .as_str()
            .unwrap_or_default()
            .starts_with("let ChainproofAlerts = AlertEvidence")
    );
    let answer = got.unwrap_or_default().remove(0);
    let tags = &answer.alerts[0].tags;
    assert_eq!(tags, &["attack.t1204.002", "attack.execution"]);
}

/// One alert's four evidence rows, as `AlertEvidence` holds them: the
/// user, the parent (Word, opened with the token's document), the
/// document, and cmd.exe as the impacted process.
fn evidence_rows(token: &str) -> Vec<Value> {
    let mut user = alert_row(token);
    let mut word = alert_row(token);
    let mut doc = alert_row(token);
    let mut cmd = alert_row(token);
    cmd["EvidenceRole"] = json!("Impacted");
    for (row, kind, role, cmdline, name, folder, pid) in [
        (&mut user, "User", "Impacted", None, None, None, None),
        (
            &mut word,
            "Process",
            "Related",
            Some(format!("WINWORD.EXE /n {}", DOC.replace(TOKEN, token))),
            Some("WINWORD.EXE"),
            Some(r"C:\Program Files\Microsoft Office\root\Office16"),
            Some(10),
        ),
        (
            &mut doc,
            "File",
            "Related",
            None,
            Some("invoice.docm"),
            Some(r"C:\Users\lab\Downloads"),
            None,
        ),
    ] {
        row["EntityType"] = json!(kind);
        row["EvidenceRole"] = json!(role);
        row["EvidenceProcessCommandLine"] = json!(cmdline);
        row["EvidenceFileName"] = json!(name);
        row["EvidenceFolderPath"] = json!(folder);
        row["EvidenceAdditionalFields"] = json!(pid.map(|p: u64| format!("{{\"ProcessId\":{p}}}")));
    }
    doc["EvidenceFileName"] = json!(DOC.rsplit_once('\\').map(|(_, n)| n.replace(TOKEN, token)));
    vec![user, word, doc, cmd]
}

#[tokio::test]
async fn an_invalid_client_secret_is_a_token_error_naming_the_backend() {
    let aadsts = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}"#;
    let (got, server) = ask(vec![Answer::status(401, aadsts)]).await;
    let err = got.err().unwrap_or_default();
    for part in ["lab-defender", "access token", "401", "AADSTS7000215"] {
        assert!(err.contains(part), "{err}");
    }
    assert!(!err.contains(CLIENT_SECRET), "{err}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_malformed_token_answer_is_an_error() {
    let (e, _s) = suite::fails::<DefenderFixture>(vec![Answer::ok("{not json")]).await;
    assert!(
        matches!(&e.kind, ErrorKind::Malformed { source_name, .. } if source_name == "token answer"),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_large_answer_is_read_whole_in_one_request() {
    let mut rows: Vec<Value> = (0..5000u64)
        .map(|i| process(TOKEN, 100_000 + i, 1, r"C:\x\noise.exe", r"C:\x\p.exe"))
        .collect();
    rows.push(process(TOKEN, 10, 4, WORD, r"C:\Windows\explorer.exe"));
    rows.push(process(TOKEN, 11, 10, CMD, WORD));
    rows.push(file(DOC));
    let script = vec![
        Answer::ok(fixture::token_answer(3599)),
        Answer::ok(hunting(&rows)),
        Answer::ok(hunting(&[])),
    ];
    let (got, server) = ask(script).await;
    assert_eq!(verdicts(&got), Ok(vec![Verdict::Observed; 4]));
    assert_eq!(got.map(|a| a[0].events.len()), Ok(5003));
    assert_eq!(
        server.requests().len(),
        3,
        "no paging: one request per kind"
    );
}

#[tokio::test]
async fn the_token_is_fetched_once_and_reused_until_it_nears_expiry() {
    let token = |s| Answer::ok(fixture::token_answer(s));
    let empty = || Answer::ok(hunting(&[]));
    // An expired token (expires_in 0) is renewed before every request.
    let cases = [
        (1, vec![token(3599), empty(), empty(), empty(), empty()]),
        (
            4,
            vec![
                token(0),
                empty(),
                token(0),
                empty(),
                token(0),
                empty(),
                token(0),
                empty(),
            ],
        ),
    ];
    for (token_requests, script) in cases {
        let server = Server::start(script).await;
        let b = backend(&server.url).unwrap_or_else(|e| panic!("{e}"));
        let runs = [fixture::run()];
        for round in 0..2 {
            let got = b.query(Query { runs: &runs }).await;
            assert!(got.is_ok(), "round {round}: {got:?}");
        }
        let asked = server
            .requests()
            .iter()
            .filter(|s| s.path.ends_with("/oauth2/v2.0/token"))
            .count();
        assert_eq!(asked, token_requests);
        assert_eq!(
            server.requests().len(),
            4 + token_requests,
            "two hunts a round"
        );
    }
}

#[tokio::test]
async fn check_runs_a_trivial_hunt_and_bad_config_is_refused() {
    let server = Server::start(vec![
        Answer::ok(fixture::token_answer(3599)),
        Answer::ok(hunting(&[])),
    ])
    .await;
    let b = backend(&server.url).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b.check().await, Ok(()));
    let body: Value = serde_json::from_str(&server.requests()[1].body).unwrap_or_default();
    assert_eq!(body["Query"], json!(query::CHECK));
    let bad = fixture::with_secret(|client_secret| {
        let config = DefenderConfig {
            tenant_id: "../common".into(),
            client_id: "app".into(),
            client_secret,
            url: default_url(),
            token_url: microsoft::default_token_url(),
            scope: default_scope(),
            timeout: microsoft::default_timeout(),
            ca_file: None,
            mail_evidence: false,
        };
        Defender::new("lab-defender", &config).err()
    });
    assert!(
        bad.is_some_and(|e| matches!(&e.kind, ErrorKind::Config(m) if m.contains("tenant_id")))
    );
}

#[test]
fn profiles_parse_with_defaults_and_reject_unknown_fields() {
    let yaml = "tenant_id: contoso.onmicrosoft.com\nclient_id: app\nclient_secret: { env: DEFENDER_SECRET }\n";
    let c: DefenderConfig = serde_yaml_ng::from_str(yaml).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.url, "https://graph.microsoft.com");
    assert_eq!(c.token_url, "https://login.microsoftonline.com");
    assert_eq!(c.timeout, Duration::from_secs(60));
    assert_eq!(c.validate(), Ok(()));
    let typo = format!("{yaml}urll: x\n");
    assert!(serde_yaml_ng::from_str::<DefenderConfig>(&typo).is_err());
}

/// Advanced hunting's answers for the shared conformance cases.
struct DefenderFixture;

impl Fixture for DefenderFixture {
    type Backend = Defender;

    fn config(url: &str) -> DefenderConfig {
        DefenderConfig {
            tenant_id: TENANT.into(),
            client_id: "app-id".into(),
            client_secret: fixture::secret_env(),
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
        vec![
            Answer::ok(hunting(&[
                file(&DOC.replace(TOKEN, token)),
                process(token, 10, 4, WORD, r"C:\Windows\explorer.exe"),
                process(token, 11, parent.into(), CMD, WORD),
            ])),
            Answer::ok(hunting(&[alert_row(token)])),
        ]
    }

    fn miss() -> Vec<Answer> {
        vec![Answer::ok(hunting(&[])), Answer::ok(hunting(&[]))]
    }

    /// The token only in the document's `FileName` (the alert query looks
    /// in `ProcessCommandLine` and `FileName`): the process rows name none.
    fn tied_by_field(token: &str) -> Option<Vec<(&'static str, Vec<Answer>)>> {
        let mut rows = evidence_rows(token);
        for row in &mut rows {
            if row["EntityType"] == "Process" {
                row["EvidenceProcessCommandLine"] = json!("cmd.exe /c whoami");
            }
        }
        let mut round = Self::chain(token, 10);
        round[1] = Answer::ok(hunting(&rows));
        Some(vec![("FileName", round)])
    }

    /// `AlertEvidence` holds one row per entity of an alert.
    fn several_rows(token: &str) -> Option<Vec<Answer>> {
        let mut round = Self::chain(token, 10);
        round[1] = Answer::ok(hunting(&evidence_rows(token)));
        Some(round)
    }
}

crate::backend::conformance::conformance_suite!(
    DefenderFixture,
    alert_tied_by_any_field,
    one_alert_several_rows
);
