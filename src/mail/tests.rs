//! Tests of the mail path over real loopback TCP: compose → send → listener
//! → read back, the SMTP edge cases the listener must refuse, and a third
//! party's reading of the message (Python's `email` package).

use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

use super::*;

const TOKEN: &str = "cp3f9a1c0d7e";
const WAIT: Duration = Duration::from_secs(20);

/// Bytes of every value, so base64 and the hashes see all of them.
fn artifact() -> Vec<u8> {
    (0..5000u32).map(|i| (i * 7 % 256) as u8).collect()
}

fn letter<'a>(body: &'a str, attachment: &'a [u8]) -> Letter<'a> {
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
async fn round_trip(
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

/// A hand-written client: one command, its whole reply (the last line).
async fn say(reader: &mut BufReader<TcpStream>, line: &str) -> String {
    reader.get_mut().write_all(line.as_bytes()).await.unwrap();
    reply(reader).await
}

async fn reply(reader: &mut BufReader<TcpStream>) -> String {
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).await.unwrap() > 0,
            "connection closed"
        );
        if line.as_bytes().get(3) != Some(&b'-') {
            return line.trim_end().to_string();
        }
    }
}

/// Connects to a listener whose `receive` runs (the greeting comes from it).
async fn connect(addr: std::net::SocketAddr) -> BufReader<TcpStream> {
    let mut reader = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert!(reply(&mut reader).await.starts_with("220 "));
    reader
}

#[tokio::test]
async fn the_listener_unstuffs_crlf_lines_only_and_refuses_a_second_message() {
    let listener = Listener::bind().await.unwrap();
    let addr = listener.addr();
    let receiving = tokio::spawn(listener.receive(WAIT));
    let mut c = connect(addr).await;
    assert!(
        say(&mut c, "MAIL FROM:<a@x.example>\r\n")
            .await
            .starts_with("503 ")
    );
    assert!(
        say(&mut c, "EHLO client.example\r\n")
            .await
            .starts_with("250 ")
    );
    assert!(say(&mut c, "DATA\r\n").await.starts_with("503 "));
    assert!(say(&mut c, "NOOP\r\n").await.starts_with("250 "));
    assert!(say(&mut c, "VRFY root\r\n").await.starts_with("502 "));
    assert!(
        say(&mut c, "AUTH PLAIN AGFkbWluAHNlY3JldA==\r\n")
            .await
            .starts_with("502 ")
    );
    assert!(
        say(&mut c, "MAIL FROM:<a@x.example>\r\n")
            .await
            .starts_with("250 ")
    );
    assert!(say(&mut c, "RSET\r\n").await.starts_with("250 "));
    assert!(
        say(&mut c, "RCPT TO:<b@x.example>\r\n")
            .await
            .starts_with("503 ")
    );
    assert!(
        say(&mut c, "MAIL FROM:<a@x.example>\r\n")
            .await
            .starts_with("250 ")
    );
    assert!(
        say(&mut c, "RCPT TO:<b@x.example>\r\n")
            .await
            .starts_with("250 ")
    );
    assert!(
        say(&mut c, "rcpt to:<c@x.example>\r\n")
            .await
            .starts_with("250 ")
    );
    assert!(say(&mut c, "DATA\r\n").await.starts_with("354 "));
    // A bare LF neither ends a line nor starts one: the dot after it stays.
    // ".\n" after a CRLF does not end the DATA; its dot, at a line start,
    // is a stuffing dot like any other and goes.
    let queued = say(&mut c, "a\n.b\r\n..c\r\n.\nd\r\n.\r\n").await;
    assert!(queued.starts_with("250 2.0.0 Ok: queued as "), "{queued}");
    let second = say(&mut c, "MAIL FROM:<a@x.example>\r\n").await;
    assert!(second.starts_with("554 "), "{second}");
    assert!(say(&mut c, "QUIT\r\n").await.starts_with("221 "));

    let received = receiving.await.unwrap().unwrap();
    assert_eq!(received.data, b"a\n.b\r\n.c\r\n\nd\r\n");
    assert_eq!(received.rcpt_to, ["b@x.example", "c@x.example"]);
    assert!(queued.ends_with(&received.queued_as));
    let text = received.transcript.join("\n");
    assert!(text.contains("C: AUTH (redacted)"), "{text}");
    assert!(!text.contains("AGFkbWlu"), "{text}");
    // One message per listener: the socket is closed once it returns.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn an_oversize_message_is_refused_by_size_and_by_declared_size() {
    let bytes = artifact();
    let message = compose(&letter("body\n", &bytes)).unwrap();
    let (sent, received) = round_trip(
        &message,
        Listener::bind().await.unwrap().with_max_size(1000),
    )
    .await;
    match sent {
        Err(MailError::Rejected {
            reason, transcript, ..
        }) => {
            assert!(
                reason.contains("552") || reason.contains("exceeds"),
                "{reason}"
            );
            assert!(
                transcript.iter().any(|l| l.starts_with("S: 552 ")),
                "{transcript:?}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    match received {
        Err(MailError::TooLarge {
            limit: 1000,
            transcript,
        }) => {
            assert!(
                transcript.iter().any(|l| l.starts_with("S: 552 ")),
                "{transcript:?}"
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }

    let listener = Listener::bind().await.unwrap().with_max_size(1000);
    let addr = listener.addr();
    let receiving = tokio::spawn(listener.receive(WAIT));
    let mut c = connect(addr).await;
    assert!(say(&mut c, "EHLO c\r\n").await.starts_with("250 "));
    let refused = say(&mut c, "MAIL FROM:<a@x.example> SIZE=1001\r\n").await;
    assert!(refused.starts_with("552 "), "{refused}");
    assert!(say(&mut c, "QUIT\r\n").await.starts_with("221 "));
    assert!(matches!(
        receiving.await.unwrap(),
        Err(MailError::TooLarge { .. })
    ));
}

#[tokio::test]
async fn a_silent_peer_times_out_on_either_side() {
    // No client at all.
    let listener = Listener::bind().await.unwrap();
    let outcome = listener.receive(Duration::from_millis(50)).await;
    assert!(
        matches!(outcome, Err(MailError::Timeout { .. })),
        "{outcome:?}"
    );

    // A client that connects and says nothing.
    let listener = Listener::bind().await.unwrap();
    let _quiet = TcpStream::connect(listener.addr()).await.unwrap();
    let outcome = listener.receive(Duration::from_millis(50)).await;
    assert!(
        matches!(outcome, Err(MailError::Timeout { .. })),
        "{outcome:?}"
    );

    // A server that accepts and never greets.
    let mute = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = mute.local_addr().unwrap().to_string();
    let message = compose(&letter("body\n", b"x")).unwrap();
    let outcome = send(
        &server,
        "a@x.example",
        "b@x.example",
        &message,
        Duration::from_millis(50),
    )
    .await;
    assert!(
        matches!(outcome, Err(MailError::Timeout { .. })),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_message_accepted_before_the_deadline_is_kept_when_the_client_stalls() {
    let listener = Listener::bind().await.unwrap();
    let addr = listener.addr();
    let receiving = tokio::spawn(listener.receive(Duration::from_millis(300)));
    let mut c = connect(addr).await;
    for command in [
        "EHLO c\r\n",
        "MAIL FROM:<a@x.example>\r\n",
        "RCPT TO:<b@x.example>\r\n",
    ] {
        assert!(say(&mut c, command).await.starts_with("250 "));
    }
    assert!(say(&mut c, "DATA\r\n").await.starts_with("354 "));
    assert!(
        say(&mut c, "Subject: x\r\n\r\nhi\r\n.\r\n")
            .await
            .starts_with("250 ")
    );
    // No QUIT: the deadline ends the session.
    let received = receiving.await.unwrap().unwrap();
    assert_eq!(received.data, b"Subject: x\r\n\r\nhi\r\n");
    assert!(received.transcript.last().unwrap().contains("before QUIT"));
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
