//! The listener's SMTP edge cases, spoken by a hand-written client over
//! loopback TCP: commands out of order, a second message, dot-unstuffing
//! with bare LFs, size limits and deadlines.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

use super::tests::{WAIT, artifact, letter, round_trip};
use super::*;

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
