//! Defender's mail evidence: with `mail_evidence` a third hunt over
//! `EmailEvents` and `EmailAttachmentInfo` whose rows observe the mail hop
//! by `InternetMessageId`; without it no such hunt, and the mail hop is
//! seen only as the delivered message file in `DeviceFileEvents`.

use super::*;
use crate::backend::conformance::suite;
use crate::backend::microsoft::fixture::{EML, MESSAGE_ID, mail_run};

/// One row of the mail hunt, shaped as the schema reference documents the
/// columns (`InternetMessageId` as the sending system set it, brackets
/// included).
fn mail_row() -> Value {
    json!({
        "Timestamp": "2026-11-26T09:59:58.0000000Z", "SourceTable": "EmailEvents",
        "NetworkMessageId": "5c3c5f2e-8a1b-4d8e-9c51-08dcb0f5a1e2",
        "InternetMessageId": format!("<{MESSAGE_ID}>"),
        "SenderFromAddress": "billing@fastfreight-delivery.example",
        "RecipientEmailAddress": "lab@contoso.example", "Subject": "Invoice 2211 overdue",
        "DeliveryAction": "Delivered", "DeliveryLocation": "Inbox/folder", "AttachmentCount": 1,
        "AttachmentFileName": "invoice-cp00000000aa.docm",
        "AttachmentSHA256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "IngestionTime": "2026-11-26T10:01:30Z"
    })
}

async fn ask_mail(
    mail_evidence: bool,
    script: Vec<Answer>,
) -> (Result<Vec<RunAnswer>, String>, Server) {
    fixture::ask_run(script, mail_run(), |url| {
        let mut config = DefenderFixture::config(url);
        config.mail_evidence = mail_evidence;
        Defender::new("lab-defender", &config)
    })
    .await
}

fn mail_verdict(got: &Result<Vec<RunAnswer>, String>) -> Option<Verdict> {
    let answer = got.as_ref().ok()?.first()?;
    suite::verdicts(&mail_run(), answer).first().copied()
}

fn queries(server: &Server) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter(|s| s.path == HUNT)
        .map(|s| {
            let body: Value = serde_json::from_str(&s.body).unwrap_or_default();
            body["Query"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

#[tokio::test]
async fn with_mail_evidence_a_message_row_observes_the_mail_hop() {
    let script = vec![
        Answer::ok(fixture::token_answer(3599)),
        Answer::ok(chain_rows(10)),
        Answer::ok(hunting(&[mail_row()])),
        Answer::ok(hunting(&[])),
    ];
    let (got, server) = ask_mail(true, script).await;
    assert_eq!(mail_verdict(&got), Some(Verdict::Observed), "{got:?}");
    let kql = queries(&server);
    assert_eq!(kql.len(), 3, "events, mail, alerts: {kql:?}");
    assert!(
        kql[1].starts_with("EmailEvents\n| where Timestamp between"),
        "{}",
        kql[1]
    );
    assert!(
        kql[1].contains(&format!("InternetMessageId contains \"{TOKEN}\"")),
        "{}",
        kql[1]
    );
    assert!(
        kql[1].contains("join kind=leftouter (EmailAttachmentInfo"),
        "{}",
        kql[1]
    );
    let answer = got.unwrap_or_default().remove(0);
    let mail = answer
        .events
        .iter()
        .find(|e| e.fields.contains_key("InternetMessageId"));
    assert_eq!(
        mail.and_then(|e| e.arrived),
        Some(time::macros::datetime!(2026-11-26 10:01:30 UTC)),
        "the ingestion time is the arrival"
    );
}

#[tokio::test]
async fn without_mail_evidence_no_mail_table_is_named_and_the_hop_needs_the_file() {
    let script = vec![
        Answer::ok(fixture::token_answer(3599)),
        Answer::ok(chain_rows(10)),
        Answer::ok(hunting(&[])),
    ];
    let (got, server) = ask_mail(false, script).await;
    assert_eq!(mail_verdict(&got), Some(Verdict::Missed), "{got:?}");
    let kql = queries(&server);
    assert_eq!(kql.len(), 2, "two hunts a round: {kql:?}");
    assert!(kql.iter().all(|q| !q.contains("Email")), "{kql:?}");

    // The delivered message file, as `DeviceFileEvents` reports it.
    let script = vec![
        Answer::ok(fixture::token_answer(3599)),
        Answer::ok(hunting(&[file(DOC), file(EML)])),
        Answer::ok(hunting(&[])),
    ];
    let (got, _server) = ask_mail(false, script).await;
    assert_eq!(mail_verdict(&got), Some(Verdict::Observed), "{got:?}");
}

#[test]
fn mail_evidence_is_off_unless_the_profile_says_so() {
    let yaml = "tenant_id: contoso.onmicrosoft.com\nclient_id: app\nclient_secret: { env: DEFENDER_SECRET }\n";
    let c: Result<DefenderConfig, _> = serde_yaml_ng::from_str(yaml);
    assert_eq!(c.map(|c| c.mail_evidence).ok(), Some(false));
    let on: Result<DefenderConfig, _> =
        serde_yaml_ng::from_str(&format!("{yaml}mail_evidence: true\n"));
    assert_eq!(on.map(|c| c.mail_evidence).ok(), Some(true));
}
