//! Splunk against a local server shaped like its export API.

use std::time::Duration;

use time::OffsetDateTime;

use super::*;
use crate::backend::conformance::{Answer, Server};
use crate::backend::http::AuthConfig;
use crate::record::{ScenarioRun, Verdict};
use crate::secret::SecretRef;

const TOKEN: &str = "cp00000000aa";
const SECRET: &str = "s3cr3t-splunk-token-value";

fn config(url: &str) -> SplunkConfig {
    // SAFETY of the test: a unique variable name per process, set before any thread reads it.
    let var = format!("CHAINPROOF_TEST_SPLUNK_{}", std::process::id());
    unsafe { std::env::set_var(&var, SECRET) };
    SplunkConfig {
        url: url.into(),
        ca_file: None,
        timeout: Duration::from_millis(800),
        auth: AuthConfig::Bearer {
            token: SecretRef {
                env: Some(var),
                file: None,
            },
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

#[tokio::test]
async fn miss_and_another_runs_token_are_missed() {
    let other = row("cp00000000bb", 10, 1, "/w/program/soffice.bin");
    let (got, _s) = verdicts(vec![Answer::ok(format!("{other}\n")), Answer::ok("")]).await;
    assert_eq!(
        got,
        Ok(vec![Verdict::Missed, Verdict::Missed, Verdict::Missed])
    );
}

#[tokio::test]
async fn a_child_under_another_parent_is_observed_but_not_linked() {
    let events = format!(
        "{}\n{}\n",
        row(TOKEN, 10, 1, "/w/program/soffice.bin"),
        row(TOKEN, 11, 99, "/usr/bin/dash")
    );
    let server = Server::start(vec![Answer::ok(events), Answer::ok("")]).await;
    let backend = Splunk::new("lab-splunk", &config(&server.url)).unwrap_or_else(|e| panic!("{e}"));
    let mut r = run();
    r.hops[1].parent_pid = Some(10);
    let runs = [r];
    let answers = backend
        .query(Query { runs: &runs })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let v = crate::verify::decide(
        &runs[0],
        None,
        Ok(answers[0].clone()),
        "splunk",
        OffsetDateTime::now_utc(),
    );
    assert_eq!(v.hops[1].verdict, Verdict::Observed);
    assert_eq!(v.hops[1].linked, Some(false));
}

#[tokio::test]
async fn auth_failures_name_backend_and_status_and_never_the_secret() {
    for status in [401, 403] {
        let body = r#"{"messages":[{"type":"WARN","text":"call not properly authenticated"}]}"#;
        let (got, server) = verdicts(vec![Answer::status(status, body)]).await;
        let err = got.err().unwrap_or_default();
        assert!(
            err.contains("lab-splunk") && err.contains(&status.to_string()),
            "{err}"
        );
        assert!(!err.contains(SECRET), "{err}");
        assert_eq!(
            server.requests().len(),
            1,
            "credentials errors are not retried"
        );
    }
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    let mut limited = Answer::status(429, "slow down");
    limited.headers.push(("retry-after", "1".into()));
    let script = vec![
        limited,
        Answer::status(500, "oops"),
        Answer::ok(""),
        Answer::ok(""),
    ];
    let (got, server) = verdicts(script).await;
    assert_eq!(
        got,
        Ok(vec![Verdict::Missed, Verdict::Missed, Verdict::Missed])
    );
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn timeouts_and_malformed_answers_are_errors_not_misses() {
    let mut slow = Answer::ok("");
    slow.delay = Duration::from_secs(3);
    let (got, _s) = verdicts(vec![slow]).await;
    let err = got.err().unwrap_or_default();
    assert!(err.contains("timed out"), "{err}");
    let (got, _s) = verdicts(vec![Answer::ok("{not json\n")]).await;
    assert!(got.err().unwrap_or_default().contains("malformed"));
}
