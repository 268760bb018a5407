//! Elasticsearch against a local server shaped like its `_search` API:
//! scripted answers here, a small cluster that really pages in
//! [`paging`].

mod cluster;
mod fixture;
mod mail;
mod paging;
mod prerequisites;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::*;
use crate::backend::conformance::{Answer, Seen, Server, run};
use crate::backend::http::AuthConfig;
use crate::record::{ScenarioRun, Verdict};
use crate::secret::SecretRef;

use crate::backend::conformance::suite::{self, Fixture, OTHER, TOKEN};
use fixture::ElasticFixture;

const SECRET: &str = "s3cr3t-elastic-api-key-value";

/// The API key in a file; the handle keeps the file alive.
fn secret() -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(file.path(), SECRET).unwrap_or_else(|e| panic!("{e}"));
    file
}

fn config(url: &str, key: &Path) -> ElasticConfig {
    ElasticConfig {
        url: url.into(),
        ca_file: None,
        timeout: Duration::from_millis(800),
        auth: AuthConfig::Scheme {
            scheme: "ApiKey".into(),
            credential: SecretRef {
                env: None,
                file: Some(key.to_path_buf()),
            },
        },
        fields: FieldProfile::Ecs,
        events_index: None,
        alerts_index: None,
        page_size: 500,
    }
}

/// An ECS process-start document.
fn process(token: &str, pid: u32, ppid: u32, image: &str) -> Value {
    json!({
        "@timestamp": "2026-11-26T10:00:00.000Z",
        "event": {"category": ["process"], "type": ["start"], "id": format!("ev-{pid}")},
        "host": {"name": "lab-01"},
        "process": {"pid": pid, "executable": image, "command_line": format!("{image} {token}"),
            "entity_id": format!("e-{pid}"), "parent": {"pid": ppid, "entity_id": format!("e-{ppid}")}}
    })
}

/// An Elastic Security alert on pid 11, with dotted `kibana.*` keys.
fn detection(token: &str) -> Value {
    json!({
        "@timestamp": "2026-11-26T10:00:01.000Z",
        "event": {"kind": "signal", "category": ["process"]},
        "kibana.alert.uuid": "a-1",
        "kibana.alert.rule.name": "Office Spawns Shell",
        "kibana.alert.rule.uuid": "r-1",
        "kibana.alert.severity": "high",
        "kibana.alert.rule.threat": [{"framework": "MITRE ATT&CK", "tactic": {"name": "Execution"},
            "technique": [{"id": "T1204", "subtechnique": [{"id": "T1204.002"}]}]}],
        "process": {"pid": 11, "executable": "/usr/bin/dash", "command_line": format!("/bin/sh -c touch {token}")}
    })
}

/// A `_search` answer in a PIT holding `docs`, sort values
/// `[time, _shard_doc]` (`[1700000000000 + n, n]`), each document's `_id`
/// its text (distinct documents are told apart by index and id).
fn page(docs: &[Value]) -> String {
    let hits: Vec<Value> = docs
        .iter()
        .enumerate()
        .map(|(n, d)| {
            json!({"_index": ".ds-logs-x", "_id": d.to_string(), "_score": null,
            "_source": d, "sort": [1_700_000_000_000_i64 + n as i64, n]})
        })
        .collect();
    json!({"pit_id": "pit-1", "took": 2, "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": hits.len(), "relation": "eq"}, "max_score": null, "hits": hits}})
    .to_string()
}

/// `GET /` of an Elasticsearch 8 cluster (point-in-time with `_shard_doc`).
fn info() -> Answer {
    Answer::ok(
        r#"{"name":"n1","cluster_name":"lab","version":{"number":"8.15.0","build_flavor":"default"},"tagline":"You Know, for Search"}"#,
    )
}

/// One search within a point-in-time: the PIT opened, `pages`, the empty
/// page that ends it, the PIT closed.
fn searched(pages: &[&[Value]]) -> Vec<Answer> {
    let mut script = vec![Answer::ok(
        r#"{"id":"pit-1","_shards":{"total":1,"successful":1,"skipped":0,"failed":0}}"#,
    )];
    script.extend(pages.iter().map(|docs| Answer::ok(page(docs))));
    script.push(Answer::ok(page(&[])));
    script.push(Answer::ok(r#"{"succeeded":true,"num_freed":1}"#));
    script
}

fn decide(run: &ScenarioRun, answer: &RunAnswer) -> crate::record::Verification {
    crate::verify::decide(
        run,
        None,
        Ok(answer.clone()),
        "elastic",
        OffsetDateTime::now_utc(),
    )
}

fn verdicts_of(run: &ScenarioRun, answer: &RunAnswer) -> Vec<Verdict> {
    let v = decide(run, answer);
    let mut all: Vec<Verdict> = v.hops.iter().map(|h| h.verdict).collect();
    all.push(v.chain.verdict);
    all
}

async fn answers(cfg: &ElasticConfig, runs: &[ScenarioRun]) -> Result<Vec<RunAnswer>, String> {
    let backend = Elastic::new("lab-elastic", cfg).map_err(|e| e.to_string())?;
    backend
        .query(Query { runs })
        .await
        .map_err(|e| e.to_string())
}

async fn verdicts(script: Vec<Answer>) -> (Result<Vec<Verdict>, String>, Server) {
    let server = Server::start(script).await;
    let key = secret();
    let runs = [run(TOKEN)];
    let got = answers(&config(&server.url, key.path()), &runs)
        .await
        .map(|a| verdicts_of(&runs[0], &a[0]));
    (got, server)
}

fn body(seen: &crate::backend::conformance::Seen) -> Value {
    serde_json::from_str(&seen.body).unwrap_or_default()
}

#[tokio::test]
async fn hit_with_alert_is_alerted_with_one_search_per_kind() {
    let events = [
        process(TOKEN, 10, 1, "/w/program/soffice.bin"),
        process(TOKEN, 11, 10, "/usr/bin/dash"),
    ];
    let mut script = vec![info()];
    script.extend(searched(&[&events]));
    script.extend(searched(&[&[detection(TOKEN)]]));
    let (got, server) = verdicts(script).await;
    assert_eq!(
        got,
        Ok(vec![Verdict::Observed, Verdict::Alerted, Verdict::Alerted])
    );
    let seen = server.requests();
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/",
            "/logs-*/_pit",
            "/_search",
            "/_search",
            "/_pit",
            "/.alerts-security.alerts-*/_pit",
            "/_search",
            "/_search",
            "/_pit"
        ],
        "the cluster info once, then per kind a PIT, pages to an empty one, the close"
    );
    assert!(
        seen.iter()
            .all(|s| s.authorization.as_deref() == Some(&*format!("ApiKey {SECRET}")))
    );
    let first = body(&seen[2]);
    assert_eq!(
        first["query"]["bool"]["should"][0],
        json!({"wildcard": {"process.command_line": {"value": format!("*{TOKEN}*")}}})
    );
    assert_eq!(first["query"]["bool"]["minimum_should_match"], 1);
    assert_eq!(first["pit"], json!({"id": "pit-1", "keep_alive": "1m"}));
    assert_eq!(first["sort"][1], json!({"_shard_doc": {"order": "asc"}}));
    assert_eq!(
        body(&seen[3])["search_after"],
        json!([1_700_000_000_001_i64, 1])
    );
    assert_eq!(body(&seen[4]), json!({"id": "pit-1"}));
    assert!(seen.iter().all(|s| !s.body.contains("query_string")));
}

#[tokio::test]
async fn a_batch_is_one_search_and_each_run_gets_only_its_own_hits() {
    let mut script = vec![info()];
    script.extend(searched(&[&[
        process(OTHER, 10, 1, "/w/program/soffice.bin"),
        process(TOKEN, 10, 1, "/w/program/soffice.bin"),
        process(TOKEN, 11, 10, "/usr/bin/dash"),
    ]]));
    script.extend(searched(&[&[detection(OTHER)]]));
    let server = Server::start(script).await;
    let key = secret();
    let runs = [run(TOKEN), run(OTHER)];
    let got = answers(&config(&server.url, key.path()), &runs)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].events.len(), got[0].alerts.len()), (2, 0));
    assert_eq!((got[1].events.len(), got[1].alerts.len()), (1, 1));
    let seen = server.requests();
    assert_eq!(seen.len(), 9);
    assert!(seen[2].body.contains(TOKEN) && seen[2].body.contains(OTHER));
}

#[tokio::test]
async fn partial_answers_are_errors_not_misses() {
    let failed = r#"{"timed_out":false,"_shards":{"total":2,"successful":1,"failed":1,"failures":[{"reason":{"type":"query_shard_exception","reason":"boom"}}]},"hits":{"hits":[]}}"#;
    let (got, server) = verdicts(vec![info(), searched(&[]).remove(0), Answer::ok(failed)]).await;
    let err = got.err().unwrap_or_default();
    assert!(
        err.contains("1 of 2 shards failed") && err.contains("boom"),
        "{err}"
    );
    let last = server.requests().pop().map(|s| s.path);
    assert_eq!(last.as_deref(), Some("/_pit"), "closed after the failure");
}

#[tokio::test]
async fn request_errors_carry_the_elasticsearch_reason() {
    let bad = r#"{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [logs-x]"}],"type":"index_not_found_exception","reason":"no such index [logs-x]"},"status":404}"#;
    let (e, server) = suite::fails::<ElasticFixture>(vec![info(), Answer::status(404, bad)]).await;
    assert!(
        matches!(
            &e.kind,
            crate::backend::ErrorKind::Status { status: 404, said: crate::backend::Said::Reason(r), attempts: None }
                if r == "index_not_found_exception: no such index [logs-x]"
        ),
        "{e:?}"
    );
    assert_eq!(e.doing.as_deref(), Some("open a point-in-time over logs-*"));
    assert_eq!(server.requests().len(), 2, "no PIT, nothing to close");
}

#[tokio::test]
async fn paging_that_does_not_advance_is_an_error() {
    // The server repeats its last answer: the same full page forever.
    let full = page(&[process(TOKEN, 10, 1, "/a"), process(TOKEN, 11, 10, "/b")]);
    let mut script = vec![info()];
    script.push(searched(&[]).remove(0));
    script.push(Answer::ok(full));
    let server = Server::start(script).await;
    let key = secret();
    let mut cfg = config(&server.url, key.path());
    cfg.page_size = 2;
    let err = answers(&cfg, &[run(TOKEN)]).await.err().unwrap_or_default();
    assert!(err.contains("paging did not advance"), "{err}");
    assert_eq!(server.requests().len(), 5, "info, PIT, two pages, close");
}

#[tokio::test]
async fn check_gets_the_cluster_info() {
    let server = Server::start(vec![
        info(),
        Answer::status(401, r#"{"error":{"type":"security_exception","reason":"missing authentication credentials"},"status":401}"#),
    ])
    .await;
    let key = secret();
    let backend = Elastic::new("lab-elastic", &config(&server.url, key.path()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(backend.check().await, Ok(()));
    let err = backend.check().await.err();
    assert!(
        matches!(
            err.as_ref().map(|e| &e.kind),
            Some(crate::backend::ErrorKind::Credentials { status: 401, said: crate::backend::Said::Reason(r), .. })
                if r == "security_exception: missing authentication credentials"
        ),
        "{err:?}"
    );
    assert!(server.requests().iter().all(|s| s.path == "/"));
}

#[tokio::test]
async fn wazuh_profile_searches_wazuh_indices_and_reads_wazuh_alerts() {
    let event = json!({"@timestamp": "2026-11-26T10:00:00.000Z", "id": "1.1", "agent": {"name": "lab-01"},
        "data": {"audit": {"type": "SYSCALL", "pid": "11", "ppid": "10", "exe": "/usr/bin/dash",
            "execve": {"a0": "sh", "a1": "-c", "a2": format!("touch {TOKEN}")}}}});
    let mut alert = event.clone();
    alert["rule"] = json!({"id": "100200", "level": 10, "description": "Office spawned a shell",
        "mitre": {"id": ["T1204.002"], "tactic": ["Execution"]}});
    // The Wazuh indexer is OpenSearch 2.x: no `_shard_doc`, so no PIT.
    let server = Server::start(vec![
        Answer::ok(r#"{"name":"n1","version":{"distribution":"opensearch","number":"2.19.1"}}"#),
        Answer::ok(page(&[event])),
        Answer::ok(page(&[])),
        Answer::ok(page(&[alert])),
        Answer::ok(page(&[])),
    ])
    .await;
    let key = secret();
    let mut cfg = config(&server.url, key.path());
    cfg.fields = FieldProfile::Wazuh;
    let mut r = run(TOKEN);
    r.hops.remove(0);
    let runs = [r];
    let got = answers(&cfg, &runs).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        verdicts_of(&runs[0], &got[0]),
        [Verdict::Alerted, Verdict::Alerted]
    );
    assert_eq!(
        got[0].alerts[0].tags,
        ["attack.t1204.002", "attack.execution"]
    );
    let seen = server.requests();
    assert_eq!(seen[1].path, "/wazuh-archives-4.x-*/_search");
    assert_eq!(seen[3].path, "/wazuh-alerts-4.x-*/_search");
    assert_eq!(body(&seen[3])["sort"][1], json!({"_id": {"order": "asc"}}));
    assert!(body(&seen[3]).get("pit").is_none());
}
