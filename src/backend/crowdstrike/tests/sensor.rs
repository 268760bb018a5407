//! What Falcon tells beyond hits: its prerequisites before runs, the hop
//! kinds it can never hold, the arrival time of its events and what the
//! product did (pattern disposition).

use serde_json::{Value, json};

use super::*;
use crate::backend::{Backend, ErrorKind, ResponseKind};
use crate::vocab::HopKind;

#[tokio::test]
async fn prerequisites_prove_the_alerts_scope_and_count_recent_alerts() -> Result<(), String> {
    let server = Server::start(vec![oauth(), ids(&["a1"], 42)]).await;
    let (cfg, _dir) = config(&server.url);
    let backend = CrowdStrike::new("lab-falcon", &cfg).map_err(|e| e.to_string())?;
    let lines = Backend::prerequisites(&backend)
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("Alerts read scope"), "{}", lines[0]);
    assert!(lines[0].contains("42 alert(s)"), "{}", lines[0]);
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].path, IDS);
    // A client without the Alerts scope stops the run.
    let denied = r#"{"errors":[{"code":403,"message":"access denied, authorization failed"}]}"#;
    let server = Server::start(vec![oauth(), Answer::status(403, denied)]).await;
    let (cfg, _dir) = config(&server.url);
    let backend = CrowdStrike::new("lab-falcon", &cfg).map_err(|e| e.to_string())?;
    let e = Backend::prerequisites(&backend).await.err();
    assert!(
        matches!(&e, Some(e) if matches!(e.kind, ErrorKind::Credentials { status: 403, .. })),
        "{e:?}"
    );
    Ok(())
}

#[test]
fn a_file_hop_cannot_be_held_and_process_hops_can() {
    let (cfg, _dir) = config("https://127.0.0.1:9");
    let backend = CrowdStrike::new("lab-falcon", &cfg).unwrap_or_else(|e| panic!("{e}"));
    let file = backend.cannot_hold(HopKind::File).unwrap_or_default();
    assert!(file.contains("file"), "{file}");
    assert_eq!(backend.cannot_hold(HopKind::Open), None);
    assert_eq!(backend.cannot_hold(HopKind::Spawn), None);
    assert_eq!(CrowdStrike::ARRIVAL, Some("created_timestamp"));
}

/// The test alert with `pattern_disposition_details` added.
fn disposed(token: &str, details: Value) -> String {
    let mut a: Value = serde_json::from_str(&alert(token, 10)).unwrap_or_default();
    a["pattern_disposition"] = json!(2048);
    a["pattern_disposition_description"] = json!("Prevention, process blocked.");
    a["pattern_disposition_details"] = details;
    a.to_string()
}

#[tokio::test]
async fn events_arrive_at_the_alerts_creation_and_dispositions_become_responses()
-> Result<(), String> {
    let blocked = disposed(TOKEN, json!({"detect": false, "process_blocked": true}));
    let mut later: Value = serde_json::from_str(&disposed(
        TOKEN,
        json!({"kill_process": true, "quarantine_file": true, "process_blocked": false}),
    ))
    .unwrap_or_default();
    later["created_timestamp"] = json!("2026-11-26T10:00:09Z");
    let script = vec![
        oauth(),
        ids(&["a1", "a2"], 2),
        entities(&[blocked, later.to_string()]),
    ];
    let server = Server::start(script).await;
    let (cfg, _dir) = config(&server.url);
    let backend = CrowdStrike::new("lab-falcon", &cfg).map_err(|e| e.to_string())?;
    let runs = [run(TOKEN)];
    let answers = backend
        .query(Query { runs: &runs })
        .await
        .map_err(|e| e.to_string())?;
    let answer = &answers[0];
    let created = time::macros::datetime!(2026-11-26 10:00:01.995794943 UTC);
    assert_eq!(answer.alerts[0].at, Some(created));
    // Both alerts name the same three processes: kept once, arriving with
    // the earlier alert.
    assert_eq!(answer.events.len(), 3, "{:?}", answer.events);
    assert!(answer.events.iter().all(|e| e.arrived == Some(created)));
    let event_time = time::macros::datetime!(2026-11-26 10:00:00.328 UTC);
    assert_eq!(answer.alerts[0].event.at, Some(event_time));
    let kinds = |i: usize| -> Vec<(ResponseKind, &str)> {
        answer.alerts[i]
            .responses
            .iter()
            .map(|r| (r.kind, r.action.as_str()))
            .collect()
    };
    assert_eq!(kinds(0), [(ResponseKind::Blocked, "process_blocked")]);
    assert_eq!(
        kinds(1),
        [
            (ResponseKind::Contained, "kill_process"),
            (ResponseKind::Contained, "quarantine_file")
        ]
    );
    // An alert without disposition details reports no response.
    let server = Server::start(vec![
        oauth(),
        ids(&["a1"], 1),
        entities(&[alert(TOKEN, 10)]),
    ])
    .await;
    let (cfg, _dir) = config(&server.url);
    let backend = CrowdStrike::new("lab-falcon", &cfg).map_err(|e| e.to_string())?;
    let got = backend.query(Query { runs: &runs }).await;
    let plain = got.map_err(|e| e.to_string())?;
    assert!(plain[0].alerts[0].responses.is_empty());
    Ok(())
}
