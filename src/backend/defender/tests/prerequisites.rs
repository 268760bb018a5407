//! Defender's prerequisite checks against advanced hunting answers.

use super::*;

async fn check(script: Vec<Answer>) -> (Result<Vec<String>, BackendError>, Server) {
    let server = Server::start(script).await;
    let got = match backend(&server.url) {
        Ok(b) => b.prerequisites().await,
        Err(e) => Err(e),
    };
    (got, server)
}

fn count(n: u64) -> Answer {
    Answer::ok(hunting(&[json!({ "Count": n })]))
}

fn kql(seen: &crate::backend::conformance::Seen) -> String {
    let body: Value = serde_json::from_str(&seen.body).unwrap_or_default();
    body["Query"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_recent_process_event_and_readable_alert_tables_are_two_lines() {
    let script = vec![
        Answer::ok(fixture::token_answer(3599)),
        count(1),
        Answer::ok(hunting(&[])),
    ];
    let (got, server) = check(script).await;
    let lines = got.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("DeviceProcessEvents: process events arrived"));
    assert!(lines[1].contains("AlertInfo and AlertEvidence: readable"));
    let seen = server.requests();
    assert_eq!(kql(&seen[1]), query::RECENT_PROCESS);
    assert!(kql(&seen[1]).contains("ago(1h)"));
    assert_eq!(kql(&seen[2]), query::ALERTS_READABLE);
}

#[tokio::test]
async fn no_process_event_in_the_last_hour_stops_before_runs() {
    let script = vec![Answer::ok(fixture::token_answer(3599)), count(0)];
    let (got, server) = check(script).await;
    let e = got.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        e.contains("lab-defender") && e.contains("no process event"),
        "{e}"
    );
    assert_eq!(server.requests().len(), 2, "no alert check after the stop");
}

#[tokio::test]
async fn an_unreadable_alert_table_stops_and_a_passing_failure_is_a_line() {
    let refused = r#"{"error":{"code":"BadRequest","message":"Failed to resolve table expression named 'AlertEvidence'"}}"#;
    let script = vec![
        Answer::ok(fixture::token_answer(3599)),
        count(1),
        Answer::status(400, refused),
    ];
    let (got, _s) = check(script).await;
    let e = got.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("400") && e.contains("prerequisites"), "{e}");
    // A service error on every attempt says what was not verified.
    let mut script = vec![Answer::ok(fixture::token_answer(3599))];
    script.extend(std::iter::repeat_n(Answer::status(503, "busy"), 4));
    script.push(Answer::ok(hunting(&[])));
    let (got, _s) = check(script).await;
    let lines = got.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        lines[0].contains("not verified") && lines[0].contains("503"),
        "{lines:?}"
    );
    assert!(lines[1].contains("readable"), "{lines:?}");
}
