//! A mail document of the events index (ECS `email.*`, as a mail gateway
//! integration writes it) observes the mail hop by its Message-ID.

use super::*;

/// An ECS email document: `event.category: email`, the Message-ID as the
/// header holds it (brackets included), sender, recipients and the
/// attachment's name and hash as the ECS email field set describes them.
fn mail_doc(message_id: &str) -> Value {
    json!({
        "@timestamp": "2026-11-26T09:59:58.000Z",
        "event": {"category": ["email"], "type": ["info"], "ingested": "2026-11-26T10:00:20.000Z"},
        "email": {
            "message_id": format!("<{message_id}>"), "subject": "Invoice 2211 overdue",
            "direction": "inbound", "from": {"address": ["billing@fastfreight-delivery.example"]},
            "to": {"address": ["lab@lab.example"]},
            "attachments": [{"file": {"name": "invoice.docm", "hash": {"sha256": "9f86d081"}}}]
        }
    })
}

#[tokio::test]
async fn an_ecs_email_document_observes_the_mail_hop() {
    let (run, message_id) = crate::backend::conformance::by_mail(run(TOKEN));
    let mut script = vec![info()];
    script.extend(searched(&[&[mail_doc(&message_id)]]));
    script.extend(searched(&[&[]]));
    let server = Server::start(script).await;
    let key = secret();
    let got = answers(&config(&server.url, key.path()), std::slice::from_ref(&run)).await;
    let answer = got
        .map(|mut a| a.remove(0))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(decide(&run, &answer).hops[0].verdict, Verdict::Observed);
    let e = &answer.events[0];
    assert_eq!(e.category, crate::telemetry::Category::Other);
    assert_eq!(e.fields["AttachmentFileName"], json!("invoice.docm"));
    assert!(e.arrived.is_some(), "its event.ingested");
    let seen = server.requests();
    let search = body(&seen[2]);
    assert!(
        search.to_string().contains(&format!(
            r#"{{"wildcard":{{"email.message_id":{{"value":"*{TOKEN}*"}}}}}}"#
        )),
        "{search}"
    );
}
