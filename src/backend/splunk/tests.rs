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
    assert!(seen[1].body.contains("notable"));
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(&*format!("Bearer {SECRET}"))
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

    const HOSTILE: &'static str = r#"cp"x\y | delete"#;

    fn escaped() -> Option<&'static str> {
        Some(r#""cp\"x\\y | delete""#)
    }

    fn query_text(seen: &Seen) -> String {
        crate::backend::conformance::form_field(&seen.body, "search")
    }
}

crate::backend::conformance::conformance_suite!(SplunkFixture);
