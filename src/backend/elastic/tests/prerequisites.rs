//! What `prerequisites` verifies before runs, against scripted answers.

use serde_json::json;

use super::{config, secret};
use crate::backend::ErrorKind;
use crate::backend::conformance::{Answer, Server};
use crate::backend::elastic::Elastic;

/// A `size: 0` answer over `shards` shards with `total` hits.
fn counted(shards: u64, total: u64) -> Answer {
    Answer::ok(
        json!({"took": 1, "timed_out": false,
            "_shards": {"total": shards, "successful": shards, "skipped": 0, "failed": 0},
            "hits": {"total": {"value": total, "relation": "eq"}, "max_score": null, "hits": []}})
        .to_string(),
    )
}

async fn prerequisites(
    script: Vec<Answer>,
) -> (Result<Vec<String>, crate::backend::BackendError>, Server) {
    let server = Server::start(script).await;
    let key = secret();
    let backend = Elastic::new("lab-elastic", &config(&server.url, key.path()))
        .unwrap_or_else(|e| panic!("{e}"));
    (backend.prerequisites().await, server)
}

#[tokio::test]
async fn a_recent_process_event_and_a_readable_alerts_index_are_said() {
    let (got, server) = prerequisites(vec![counted(3, 1), counted(1, 0)]).await;
    assert_eq!(
        got,
        Ok(vec![
            "events index logs-* resolves (3 shards searched)".to_string(),
            "logs-* holds a process event of the last hour".to_string(),
            "alerts index .alerts-security.alerts-* is readable".to_string(),
        ])
    );
    let seen = server.requests();
    assert_eq!(seen[0].path, "/logs-*/_search");
    assert_eq!(seen[1].path, "/.alerts-security.alerts-*/_search");
    let body: serde_json::Value = serde_json::from_str(&seen[0].body).unwrap_or_default();
    assert_eq!(body["size"], 0);
    assert_eq!(
        body["query"]["bool"]["filter"],
        json!([{"term": {"event.category": "process"}}, {"range": {"@timestamp": {"gte": "now-1h"}}}])
    );
}

#[tokio::test]
async fn a_quiet_index_and_an_alerts_index_not_yet_created_are_said_not_stops() {
    let (got, _s) = prerequisites(vec![counted(2, 0), counted(0, 0)]).await;
    let lines = got.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        lines[1].contains("holds no process event of the last hour"),
        "{lines:?}"
    );
    assert!(lines[2].contains("matches no index yet"), "{lines:?}");
}

#[tokio::test]
async fn an_index_that_cannot_be_searched_stops_the_run() {
    // A pattern matching no index: nothing could ever be found there.
    let (got, _s) = prerequisites(vec![counted(0, 0)]).await;
    let e = got.err().unwrap_or_else(|| panic!("an error expected"));
    assert!(
        matches!(&e.kind, ErrorKind::Other(m) if m.contains("matches no index")),
        "{e}"
    );
    // A missing index, refused credentials: the errors the HTTP layer gives.
    let missing = r#"{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [logs-x]"}],"type":"index_not_found_exception","reason":"no such index [logs-x]"},"status":404}"#;
    let (got, _s) = prerequisites(vec![Answer::status(404, missing)]).await;
    let e = got.err().unwrap_or_else(|| panic!("an error expected"));
    assert!(
        matches!(e.kind, ErrorKind::Status { status: 404, .. }),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("count the last hour's process events in logs-*"),
        "{e}"
    );
    let (got, _s) = prerequisites(vec![counted(1, 1), Answer::status(403, "{}")]).await;
    let e = got.err().unwrap_or_else(|| panic!("an error expected"));
    assert!(
        matches!(e.kind, ErrorKind::Credentials { status: 403, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("read the alerts index"), "{e}");
}
