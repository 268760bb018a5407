//! Splunk against a local server shaped like its export API.

use std::time::Duration;

use time::OffsetDateTime;

use super::*;
use crate::backend::conformance::{Answer, Seen, Server};
use crate::backend::http::AuthConfig;
use crate::record::{ScenarioRun, Verdict};

use crate::backend::conformance::suite::{Fixture, TOKEN};
const SECRET: &str = "s3cr3t-splunk-token-value";

fn config(url: &str) -> SplunkConfig {
    SplunkConfig {
        url: url.into(),
        ca_file: None,
        timeout: Duration::from_millis(800),
        auth: AuthConfig::Bearer {
            token: crate::backend::conformance::env_secret("SPLUNK", SECRET),
        },
        events_search: "search index=*".into(),
        notables_search: "search `notable`".into(),
    }
}

fn run() -> ScenarioRun {
    crate::backend::conformance::run(TOKEN)
}

fn row(token: &str, pid: u32, ppid: u32, image: &str) -> String {
    format!(
        r#"{{"preview":false,"result":{{"_time":"2026-11-26T10:00:00.000+00:00","EventCode":"1","Image":"{image}","CommandLine":"{image} {token}","ProcessId":"{pid}","ParentProcessId":"{ppid}"}}}}"#
    )
}

const NOTABLE: &str = r#"{"preview":false,"result":{"_time":"2026-11-26T10:00:01.000+00:00","rule_name":"Office Spawns Shell","rule_id":"r-1","severity":"high","annotations.mitre_attack":["T1204.002"],"process":"/bin/sh -c touch cp00000000aa","process_id":"11"}}"#;

async fn verdicts(script: Vec<Answer>) -> (Result<Vec<Verdict>, String>, Server) {
    let server = Server::start(script).await;
    let backend = Splunk::new("lab-splunk", &config(&server.url));
    let backend = match backend {
        Ok(b) => b,
        Err(e) => return (Err(e.to_string()), server),
    };
    let runs = [run()];
    let got = backend
        .query(Query { runs: &runs })
        .await
        .map_err(|e| e.to_string())
        .map(|answers| {
            let v = crate::verify::decide(
                &runs[0],
                None,
                Ok(answers[0].clone()),
                "splunk",
                OffsetDateTime::now_utc(),
            );
            let mut all: Vec<Verdict> = v.hops.iter().map(|h| h.verdict).collect();
            all.push(v.chain.verdict);
            all
        });
    (got, server)
}

#[tokio::test]
async fn hit_with_notable_is_alerted_and_one_export_per_kind() {
    let events = format!(
        "{}\n{}\n",
        row(TOKEN, 10, 1, "/w/program/soffice.bin"),
        row(TOKEN, 11, 10, "/usr/bin/dash")
    );
    let (got, server) = verdicts(vec![Answer::ok(events), Answer::ok(NOTABLE)]).await;
    assert_eq!(
        got,
        Ok(vec![Verdict::Observed, Verdict::Alerted, Verdict::Alerted])
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 2, "one events export and one notables export");
    assert!(
        seen.iter()
            .all(|s| s.path == "/services/search/v2/jobs/export")
    );
    assert!(seen[0].body.contains("output_mode=json") && seen[0].body.contains(TOKEN));
    let notables = crate::backend::conformance::form_field(&seen[1].body, "search");
    assert!(notables.contains("notable"), "{notables}");
    // Correlation searches copy different fields into their notables:
    // every field is asked for, so any of them can tie one to its run.
    assert!(!notables.contains("| table"), "{notables}");
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(&*format!("Bearer {SECRET}"))
    );
}

#[tokio::test]
async fn events_carry_their_index_time_and_the_search_asks_for_it() {
    let indexed = r#"{"preview":false,"result":{"_time":"2026-11-26T10:00:00.000+00:00","_indextime":"1795687207","EventCode":"1","Image":"/usr/bin/dash","CommandLine":"sh cp00000000aa","ProcessId":"11"}}"#;
    let server = Server::start(vec![Answer::ok(indexed), Answer::ok("")]).await;
    let b = Splunk::new("lab-splunk", &config(&server.url)).unwrap_or_else(|e| panic!("{e}"));
    let runs = [run()];
    let got = b.query(Query { runs: &runs }).await.unwrap_or_default();
    assert_eq!(
        got[0].events[0].arrived,
        OffsetDateTime::from_unix_timestamp(1_795_687_207).ok()
    );
    let search = crate::backend::conformance::form_field(&server.requests()[0].body, "search");
    assert!(search.contains(" _indextime "), "{search}");
    assert_eq!(
        <Splunk as crate::backend::Backend>::ARRIVAL,
        Some("_indextime")
    );
}

/// A mail gateway's event as the export answers it: the CIM Email data
/// model's fields (`message_id` as the header holds it, brackets included,
/// `subject`, `src_user`, `recipient`, `file_name`) beside `_raw`.
fn mail_row(message_id: &str) -> String {
    let raw = format!("msgid=<{message_id}> from=billing@fastfreight-delivery.example");
    serde_json::json!({"preview": false, "result": {
        "_time": "2026-11-26T09:59:58.000+00:00", "_indextime": "1795687210",
        "host": "mx1", "message_id": format!("<{message_id}>"),
        "subject": "Invoice 2211 overdue", "src_user": "billing@fastfreight-delivery.example",
        "recipient": "lab@lab.example", "file_name": "invoice.docm", "_raw": raw}})
    .to_string()
}

#[tokio::test]
async fn a_cim_email_row_observes_the_mail_hop_by_its_message_id() {
    let (run, message_id) = crate::backend::conformance::by_mail(run());
    let server = Server::start(vec![
        Answer::ok(format!(
            "{}
",
            mail_row(&message_id)
        )),
        Answer::ok(""),
    ])
    .await;
    let backend = Splunk::new("lab-splunk", &config(&server.url));
    let got = match backend {
        Ok(b) => {
            b.query(Query {
                runs: std::slice::from_ref(&run),
            })
            .await
        }
        Err(e) => Err(e),
    };
    let answers = got.unwrap_or_else(|e| panic!("{e}"));
    let v = crate::verify::decide(
        &run,
        None,
        Ok(answers[0].clone()),
        "splunk",
        OffsetDateTime::now_utc(),
    );
    assert_eq!(
        v.hops[0].verdict,
        Verdict::Observed,
        "{:?}",
        answers[0].events
    );
    assert_eq!(
        answers[0].events[0].category,
        crate::telemetry::Category::Other
    );
    assert!(answers[0].events[0].arrived.is_some(), "its _indextime");
    let seen = server.requests();
    assert_eq!(seen.len(), 2, "no export of its own");
    let search = crate::backend::conformance::form_field(&seen[0].body, "search");
    assert!(
        search.contains(" message_id subject src_user recipient "),
        "{search}"
    );
}

fn count(n: u32) -> Answer {
    Answer::ok(format!(
        "{{\"preview\":false,\"offset\":0,\"lastrow\":true,\"result\":{{\"count\":\"{n}\"}}}}\n"
    ))
}

async fn prerequisites(script: Vec<Answer>) -> (Result<Vec<String>, String>, Server) {
    let server = Server::start(script).await;
    let got = match Splunk::new("lab-splunk", &config(&server.url)) {
        Ok(b) => b.prerequisites().await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    (got, server)
}

#[tokio::test]
async fn prerequisites_count_the_last_hour_and_run_the_notables_search() {
    let (got, server) = prerequisites(vec![count(1), count(0)]).await;
    assert_eq!(
        got,
        Ok(vec![
            "events_search: process or file events arrived in the last hour".to_string(),
            "notables_search: readable by this account".to_string(),
        ])
    );
    let seen = server.requests();
    let field = |i: usize, f: &str| crate::backend::conformance::form_field(&seen[i].body, f);
    assert_eq!(field(0, "search"), "search index=* | head 1 | stats count");
    assert_eq!(
        field(1, "search"),
        "search `notable` | head 1 | stats count"
    );
    assert_eq!(
        (
            field(0, "earliest_time").as_str(),
            field(0, "latest_time").as_str()
        ),
        ("-1h", "now")
    );
    // No event in the last hour: nothing reaches the index, stop.
    let (got, server) = prerequisites(vec![count(0)]).await;
    let e = got.err().unwrap_or_default();
    assert!(
        e.contains("lab-splunk") && e.contains("no process or file event"),
        "{e}"
    );
    assert_eq!(server.requests().len(), 1);
    // Enterprise Security missing: every round's notables export would fail.
    let fatal = r#"{"messages":[{"type":"FATAL","text":"Error in 'SearchParser': The search specifies a macro 'notable' that cannot be found."}]}"#;
    let (got, _s) = prerequisites(vec![count(1), Answer::ok(fatal)]).await;
    assert!(got.is_err_and(|e| e.contains("macro 'notable'")));
}

#[tokio::test]
async fn a_service_that_does_not_answer_is_not_verified_and_asked_once() {
    let (got, server) = prerequisites(vec![Answer::status(503, "{\"messages\":[]}")]).await;
    let lines = got.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        lines[0].contains("not verified") && lines[0].contains("503"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("notables_search: not verified"),
        "{lines:?}"
    );
    assert_eq!(
        server.requests().len(),
        4,
        "the first search's attempts only"
    );
}

/// Splunk's export answers for the shared conformance cases.
struct SplunkFixture;

impl Fixture for SplunkFixture {
    type Backend = Splunk;

    fn config(url: &str) -> SplunkConfig {
        config(url)
    }

    fn secret() -> &'static str {
        SECRET
    }

    fn chain(token: &str, parent: u32) -> Vec<Answer> {
        let events = format!(
            "{}\n{}\n",
            row(token, 10, 1, "/w/program/soffice.bin"),
            row(token, 11, parent, "/usr/bin/dash")
        );
        vec![
            Answer::ok(events),
            Answer::ok(NOTABLE.replace(TOKEN, token)),
        ]
    }

    fn miss() -> Vec<Answer> {
        vec![Answer::ok(""), Answer::ok("")]
    }

    /// Correlation searches copy different fields into their notables;
    /// the token may sit in none of the process fields (and in another
    /// case, as a Windows pipeline writes it).
    fn tied_by_field(token: &str) -> Option<Vec<(&'static str, Vec<Answer>)>> {
        let fields = [
            (
                "orig_raw",
                serde_json::json!(format!("type=EXECVE a2=\"touch /tmp/{token}\"")),
            ),
            ("dest", serde_json::json!(format!("lab-{token}"))),
            (
                "file_name",
                serde_json::json!([format!("invoice-{}.docm", token.to_uppercase())]),
            ),
        ];
        let rounds = fields.into_iter().map(|(field, value)| {
            let mut result = serde_json::json!({"_time": "2026-11-26T10:00:01.000+00:00",
                "rule_name": "Suspicious Download", "severity": "medium"});
            result[field] = value;
            let notable = serde_json::json!({"preview": false, "result": result});
            let mut round = Self::chain(token, 10);
            round[1] = Answer::ok(notable.to_string());
            (field, round)
        });
        Some(rounds.collect())
    }

    const HOSTILE: &'static str = r#"cp"x\y | delete"#;

    fn escaped() -> Option<&'static str> {
        Some(r#""cp\"x\\y | delete""#)
    }

    fn query_text(seen: &Seen) -> String {
        crate::backend::conformance::form_field(&seen.body, "search")
    }
}

crate::backend::conformance::conformance_suite!(SplunkFixture, alert_tied_by_any_field);
