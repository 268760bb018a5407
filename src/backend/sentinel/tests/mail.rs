//! Sentinel's mail evidence: with `mail_evidence` a third query over the
//! `EmailEvents` and `EmailAttachmentInfo` tables the Defender XDR
//! connector streams into the workspace; the mail hop is observed by
//! `InternetMessageId`. Without it no such query is sent, and a
//! `security-4688` profile (no file events) cannot hold the mail hop.

use super::*;
use crate::backend::conformance::suite;
use crate::backend::microsoft::fixture::{MESSAGE_ID, mail_run};
use crate::vocab::HopKind;

const MAIL: &str = "TimeGenerated SourceTable NetworkMessageId InternetMessageId SenderFromAddress RecipientEmailAddress Subject DeliveryAction DeliveryLocation AttachmentCount AttachmentFileName AttachmentSHA256 IngestionTime";

/// One mail row in Log Analytics' positional shape, every cell a string.
fn mail_answer() -> String {
    let row: Vec<Value> = [
        "2026-11-26T09:59:58Z",
        "EmailEvents",
        "5c3c5f2e-8a1b-4d8e-9c51-08dcb0f5a1e2",
        &format!("<{MESSAGE_ID}>"),
        "billing@fastfreight-delivery.example",
        "lab@contoso.example",
        "Invoice 2211 overdue",
        "Delivered",
        "Inbox/folder",
        "1",
        "invoice-cp00000000aa.docm",
        "",
        "2026-11-26T10:01:30Z",
    ]
    .iter()
    .map(|c| json!(c))
    .collect();
    answer(MAIL, &[row])
}

fn with_mail(url: &str, table: ProcessTable, on: bool) -> Result<Sentinel, BackendError> {
    let mut config = SentinelFixture::config(url);
    config.process_table = table;
    config.mail_evidence = on;
    Sentinel::new("lab-sentinel", &config)
}

async fn ask_mail(on: bool, script: Vec<Answer>) -> (Option<Verdict>, Vec<String>) {
    let (got, server) = fixture::ask_run(script, mail_run(), |u| {
        with_mail(u, ProcessTable::Sysmon, on)
    })
    .await;
    let verdict = got
        .as_ref()
        .ok()
        .and_then(|a| a.first())
        .and_then(|a| suite::verdicts(&mail_run(), a).first().copied());
    let queries = server
        .requests()
        .iter()
        .filter(|s| s.path.ends_with("/query"))
        .map(|s| {
            let body: Value = serde_json::from_str(&s.body).unwrap_or_default();
            body["query"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    (verdict, queries)
}

#[tokio::test]
async fn with_mail_evidence_a_message_row_observes_the_mail_hop() {
    let script = vec![
        Answer::ok(fixture::token_answer(3599)),
        Answer::ok(chain(10)),
        Answer::ok(mail_answer()),
        Answer::ok(answer(ALERT, &[])),
    ];
    let (verdict, queries) = ask_mail(true, script).await;
    assert_eq!(verdict, Some(Verdict::Observed));
    assert_eq!(queries.len(), 3, "{queries:?}");
    assert!(
        queries[1].starts_with("EmailEvents\n| where TimeGenerated between"),
        "{}",
        queries[1]
    );
}

#[tokio::test]
async fn without_mail_evidence_no_mail_table_is_named() {
    let script = vec![
        Answer::ok(fixture::token_answer(3599)),
        Answer::ok(chain(10)),
        Answer::ok(answer(ALERT, &[])),
    ];
    let (verdict, queries) = ask_mail(false, script).await;
    assert_eq!(verdict, Some(Verdict::Missed));
    assert_eq!(queries.len(), 2, "{queries:?}");
    assert!(queries.iter().all(|q| !q.contains("Email")), "{queries:?}");
}

#[test]
fn security_4688_cannot_hold_the_mail_hop_unless_mail_is_queried() -> Result<(), BackendError> {
    let url = "https://127.0.0.1:1";
    let why = with_mail(url, ProcessTable::Security4688, false)?.cannot_hold(HopKind::Mail);
    assert!(why.is_some_and(|w| w.contains("mail_evidence")), "{why:?}");
    for (table, on) in [
        (ProcessTable::Security4688, true),
        (ProcessTable::Sysmon, false),
        (ProcessTable::Device, false),
    ] {
        let why = with_mail(url, table, on)?.cannot_hold(HopKind::Mail);
        assert_eq!(why, None, "{table:?} {on}");
    }
    Ok(())
}
