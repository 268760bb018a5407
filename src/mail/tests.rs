//! Tests of the mail path over real loopback TCP: compose → send → listener
//! → read back, and a third party's reading of the message (Python's
//! `email` package). The listener's edge cases are in `smtp_tests.rs`.

use std::time::Duration;

use super::*;

pub(super) const TOKEN: &str = "cp3f9a1c0d7e";
pub(super) const WAIT: Duration = Duration::from_secs(20);

/// Bytes of every value, so base64 and the hashes see all of them.
pub(super) fn artifact() -> Vec<u8> {
    (0..5000u32).map(|i| (i * 7 % 256) as u8).collect()
}

pub(super) fn letter<'a>(body: &'a str, attachment: &'a [u8]) -> Letter<'a> {
    Letter {
        from: "Accounts Payable <ap@supplier.example>",
        to: "victim@lab.example",
        subject: "Invoice 4471 overdue",
        body,
        attachment_name: "Invoice-4471.docm",
        attachment,
        token: TOKEN,
        domain: "supplier.example",
    }
}

/// Sends `message` to a fresh listener; both sides' results.
pub(super) async fn round_trip(
    message: &Message,
    listener: Listener,
) -> (Result<SmtpRecord, MailError>, Result<Received, MailError>) {
    let server = listener.addr().to_string();
    let receiving = tokio::spawn(listener.receive(WAIT));
    let sent = send(
        &server,
        "ap@supplier.example",
        "victim@lab.example",
        message,
        WAIT,
    )
    .await;
    let received = match receiving.await {
        Ok(received) => received,
        Err(join) => panic!("the listener task failed: {join}"),
    };
    (sent, received)
}

#[tokio::test]
async fn a_message_crosses_loopback_smtp_and_its_attachment_reads_back_whole() {
    let bytes = artifact();
    let message = compose(&letter("Please find the invoice attached.\n", &bytes)).unwrap();
    assert!(message.message_id.contains(TOKEN), "{}", message.message_id);
    assert!(message.message_id.ends_with("@supplier.example"));
    let listener = Listener::bind().await.unwrap();
    let server = listener.addr().to_string();
    let (sent, received) = round_trip(&message, listener).await;
    let record = sent.unwrap();
    let received = received.unwrap();

    // The DATA as received is the message as composed, byte for byte.
    assert_eq!(received.data, message.bytes);
    assert_eq!(record.sha256, sha256_hex(&received.data));
    assert_eq!(record.size, received.data.len());
    assert_eq!(
        record.queued_as.as_deref(),
        Some(received.queued_as.as_str())
    );
    assert_eq!(record.view, View::Client);
    assert_eq!(record.server, server);
    assert_eq!(record.helo, "supplier.example");
    assert_eq!(received.helo, "supplier.example");
    assert_eq!(received.mail_from, "ap@supplier.example");
    assert_eq!(received.rcpt_to, ["victim@lab.example"]);

    let found = attachments(&received.data).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "Invoice-4471.docm");
    // Content types are case-insensitive; mail-parser gives them lowercase.
    assert_eq!(
        found[0].content_type,
        "application/vnd.ms-word.document.macroenabled.12"
    );
    assert_eq!(sha256_hex(&found[0].bytes), message.attachment_sha256);
    assert_eq!(message.attachment_sha256, sha256_hex(&bytes));

    let read = headers(&received.data).unwrap();
    assert_eq!(read.message_id, message.message_id);
    assert_eq!(read.from.as_deref(), Some("ap@supplier.example"));
    assert_eq!(read.from_name.as_deref(), Some("Accounts Payable"));
    assert_eq!(read.subject.as_deref(), Some("Invoice 4471 overdue"));
    assert!(read.date.is_some());

    // Both views name every step and never the DATA.
    for transcript in [&record.transcript, &received.transcript] {
        let text = transcript.join("\n");
        for step in [
            "S: 220 ",
            "C: EHLO supplier.example",
            "SIZE 52428800, 8BITMIME]",
            "C: MAIL FROM:<ap@supplier.example>",
            "C: RCPT TO:<victim@lab.example>",
            "C: DATA",
            "S: 354 ",
            "bytes on the wire, not kept)",
            "queued as",
            "C: QUIT",
            "S: 221 ",
        ] {
            assert!(text.contains(step), "{step:?} missing from\n{text}");
        }
        assert!(!text.contains("invoice attached"), "{text}");
        assert!(!text.contains("Subject"), "{text}");
    }

    let listened =
        SmtpRecord::from_received(server, &received, record.started_at, record.finished_at)
            .unwrap();
    assert_eq!(listened.view, View::Listener);
    assert_eq!(listened.sha256, record.sha256);
    assert_eq!(listened.message_id, record.message_id);
}

#[test]
fn the_record_round_trips_and_refuses_unknown_fields() {
    let now = time::OffsetDateTime::UNIX_EPOCH;
    let record = SmtpRecord {
        server: "127.0.0.1:2525".into(),
        view: View::Listener,
        helo: "lab.example".into(),
        mail_from: "a@lab.example".into(),
        rcpt_to: vec!["b@lab.example".into()],
        message_id: "x.cp3f9a1c0d7e@lab.example".into(),
        size: 10,
        sha256: "00".into(),
        queued_as: None,
        transcript: vec!["C: QUIT".into(), "S: 221 bye".into()],
        started_at: now,
        finished_at: now,
    };
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["view"], "listener");
    assert_eq!(json["started_at"], "1970-01-01T00:00:00Z");
    let back: SmtpRecord = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, record);
    let mut extra = json;
    extra["data"] = "the message".into();
    assert!(serde_json::from_value::<SmtpRecord>(extra).is_err());
}

#[tokio::test]
async fn lines_starting_with_a_dot_survive_the_round_trip() {
    let body = ".hidden first line\n..two dots\n.\nlast\n";
    let bytes = artifact();
    let message = compose(&letter(body, &bytes)).unwrap();
    // The composed message must hold lines that need stuffing, or this test
    // proves nothing.
    let raw = String::from_utf8_lossy(&message.bytes).to_string();
    assert!(raw.contains("\r\n.\r\n"), "{raw}");
    assert!(raw.contains("\r\n..two dots\r\n"), "{raw}");
    let (sent, received) = round_trip(&message, Listener::bind().await.unwrap()).await;
    let received = received.unwrap();
    assert_eq!(received.data, message.bytes);
    assert_eq!(sent.unwrap().sha256, sha256_hex(&message.bytes));
    assert_eq!(
        sha256_hex(&attachments(&received.data).unwrap()[0].bytes),
        sha256_hex(&bytes)
    );
}

#[test]
fn content_types_follow_the_extension() {
    for (name, expected) in [
        ("a.docm", "application/vnd.ms-word.document.macroEnabled.12"),
        ("A.XLSM", "application/vnd.ms-excel.sheet.macroEnabled.12"),
        ("report.odt", "application/vnd.oasis.opendocument.text"),
        ("invoice.pdf", "application/pdf"),
        ("x.zip", "application/zip"),
        ("x.7z", "application/x-7z-compressed"),
        ("x.iso", "application/x-iso9660-image"),
        ("x.img", "application/x-raw-disk-image"),
        ("x.pdf.lnk", "application/x-ms-shortcut"),
        ("x.desktop", "application/x-desktop"),
        ("x.exe", "application/octet-stream"),
        ("noextension", "application/octet-stream"),
    ] {
        assert_eq!(content_type_for(name), expected, "{name}");
    }
}

#[test]
fn fields_that_would_break_the_header_are_refused() {
    let bytes = artifact();
    let injected = Letter {
        subject: "hi\r\nBcc: everyone@lab.example",
        ..letter("body", &bytes)
    };
    assert!(matches!(
        compose(&injected),
        Err(MailError::Field {
            field: "subject",
            ..
        })
    ));
    let spaced = Letter {
        token: "cp 1",
        ..letter("body", &bytes)
    };
    assert!(matches!(
        compose(&spaced),
        Err(MailError::Field { field: "token", .. })
    ));
    let unnamed = Letter {
        to: "Victim <victim@lab.example",
        ..letter("body", &bytes)
    };
    assert!(matches!(
        compose(&unnamed),
        Err(MailError::Field {
            field: "recipient",
            ..
        })
    ));
    let bare = Letter {
        to: "victim@lab.example",
        ..letter("body", &bytes)
    };
    let raw = compose(&bare).unwrap().bytes;
    assert!(String::from_utf8_lossy(&raw).contains("To: <victim@lab.example>\r\n"));
    let empty = Letter {
        domain: "",
        ..letter("body", &bytes)
    };
    assert!(matches!(
        compose(&empty),
        Err(MailError::Field {
            field: "domain",
            ..
        })
    ));
}

#[test]
fn a_message_without_a_message_id_is_an_error_to_read() {
    let outcome = headers(b"From: a@x.example\r\nSubject: s\r\n\r\nbody\r\n");
    assert!(
        matches!(outcome, Err(MailError::Parse { .. })),
        "{outcome:?}"
    );
}

/// Python's `email` package reads the message as a mail client would: the
/// third party's reading of the attachment must hash like the artifact.
#[test]
fn python_email_reads_the_attachment_whole() {
    if !crate::testing::require_tool("python3") {
        return;
    }
    let bytes = artifact();
    let message = compose(&letter("Please find the invoice attached.\n", &bytes)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("message.eml");
    std::fs::write(&path, &message.bytes).unwrap();
    let script = r#"
import email, hashlib, sys
from email import policy
with open(sys.argv[1], "rb") as f:
    msg = email.message_from_bytes(f.read(), policy=policy.default)
print("message-id", msg["Message-ID"])
print("content-type", msg.get_content_type())
for part in msg.iter_attachments():
    data = part.get_payload(decode=True)
    print("attachment", part.get_filename(), part.get_content_type(), hashlib.sha256(data).hexdigest())
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            format!("message-id <{}>", message.message_id).as_str(),
            "content-type multipart/mixed",
            format!(
                "attachment Invoice-4471.docm application/vnd.ms-word.document.macroenabled.12 {}",
                sha256_hex(&bytes)
            )
            .as_str(),
        ],
        "{text}"
    );
}
