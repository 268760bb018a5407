//! The SMTP client: lettre's SMTP connection (EHLO, MAIL, RCPT, DATA with
//! dot-stuffing, QUIT) over a TCP stream that notes what crosses the wire,
//! so the record's transcript is what was exchanged, not what was meant.
//!
//! Plain SMTP only: to the loopback listener nothing else makes sense, and
//! a lab mail server must accept plain SMTP from the lab network. STARTTLS
//! would hide the rest of the exchange from the wire this transcript is
//! read from (see docs/email.md).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
use lettre::transport::smtp::extension::ClientId;
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::{MailError, Message, SmtpRecord, View, cut, reply_summary, sha256_hex};

/// Sends `message` from `from` to `to` over plain SMTP to `server`
/// (`host:port`: the loopback [`super::Listener`] or a lab server) and
/// returns the client's record of the exchange. The HELO name is the
/// Message-ID's domain; the whole exchange has `timeout`.
pub async fn send(
    server: &str,
    from: &str,
    to: &str,
    message: &Message,
    timeout: Duration,
) -> Result<SmtpRecord, MailError> {
    let envelope =
        Envelope::new(Some(address(from)?), vec![address(to)?]).map_err(|_| MailError::Field {
            field: "recipient",
            reason: "is missing",
        })?;
    let helo = message
        .message_id
        .rsplit_once('@')
        .map_or("localhost", |(_, domain)| domain)
        .to_string();
    // SMTP ends the DATA with CRLF.CRLF whose first CRLF ends the message's
    // last line, and lettre writes that whole terminator itself: handing it
    // the message without its final CRLF makes the server store exactly
    // `message.bytes` (compose always ends them in CRLF).
    let body = message
        .bytes
        .strip_suffix(b"\r\n")
        .unwrap_or(&message.bytes);
    let wire = Arc::new(Mutex::new(Wire::default()));
    let started_at = OffsetDateTime::now_utc();
    let outcome = tokio::time::timeout(
        timeout,
        exchange(server, &helo, &envelope, body, Arc::clone(&wire)),
    )
    .await;
    let finished_at = OffsetDateTime::now_utc();
    let transcript = std::mem::take(&mut lock(&wire).lines);
    let queued_as = match outcome {
        Err(_) => {
            return Err(MailError::Timeout {
                during: "send the message",
                waited: timeout,
                peer: server.to_string(),
            });
        }
        Ok(Err(Failure::Connect(source))) => {
            return Err(MailError::Io {
                during: "connect to the SMTP server",
                peer: server.to_string(),
                source,
            });
        }
        Ok(Err(Failure::Smtp(error))) => {
            return Err(MailError::Rejected {
                server: server.to_string(),
                reason: error.to_string(),
                transcript,
            });
        }
        Ok(Ok(queued_as)) => queued_as,
    };
    Ok(SmtpRecord {
        server: server.to_string(),
        view: View::Client,
        helo,
        mail_from: from.to_string(),
        rcpt_to: vec![to.to_string()],
        message_id: message.message_id.clone(),
        size: message.bytes.len(),
        sha256: sha256_hex(&message.bytes),
        queued_as,
        transcript,
        started_at,
        finished_at,
    })
}

fn address(text: &str) -> Result<Address, MailError> {
    text.parse().map_err(|source| MailError::Address {
        address: text.to_string(),
        source,
    })
}

enum Failure {
    Connect(io::Error),
    Smtp(lettre::transport::smtp::Error),
}

/// The exchange itself; returns the queue id the server gave, if any.
async fn exchange(
    server: &str,
    helo: &str,
    envelope: &Envelope,
    body: &[u8],
    wire: Arc<Mutex<Wire>>,
) -> Result<Option<String>, Failure> {
    let tcp = TcpStream::connect(server).await.map_err(Failure::Connect)?;
    let stream = Box::new(Tee { inner: tcp, wire });
    let mut conn =
        AsyncSmtpConnection::connect_with_transport(stream, &ClientId::Domain(helo.to_string()))
            .await
            .map_err(Failure::Smtp)?;
    let accepted = conn.send(envelope, body).await.map_err(Failure::Smtp)?;
    // The message is queued once DATA is accepted; a QUIT that fails after
    // that changes nothing the record says (its transcript shows it).
    let _ = conn.quit().await;
    Ok(accepted
        .message()
        .find_map(|line| Some(line.split_once("queued as ")?.1))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string))
}

fn lock(wire: &Mutex<Wire>) -> std::sync::MutexGuard<'_, Wire> {
    // A panic while noting a line leaves the notes usable.
    wire.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A TCP stream that notes the SMTP lines crossing it.
#[derive(Debug)]
struct Tee {
    inner: TcpStream,
    wire: Arc<Mutex<Wire>>,
}

impl AsyncTokioStream for Tee {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }
}

impl AsyncRead for Tee {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            lock(&this.wire).read(&buf.filled()[before..]);
        }
        poll
    }
}

impl AsyncWrite for Tee {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &poll {
            lock(&this.wire).sent(buf.get(..*n).unwrap_or(buf));
        }
        poll
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// What the client has seen on the wire, as transcript lines.
#[derive(Debug, Default)]
struct Wire {
    lines: Vec<String>,
    client_line: Vec<u8>,
    server_line: Vec<u8>,
    /// The text of a multi-line reply's lines so far.
    reply: Vec<String>,
    state: State,
    /// An AUTH exchange is under way: the client's lines are credentials.
    auth: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Commands,
    /// DATA sent, its 354 not yet read.
    DataAwaited,
    /// Sending the message: its bytes so far and the last five of them.
    Data { bytes: usize, tail: [u8; 5] },
}

impl Wire {
    /// Notes bytes the client wrote.
    fn sent(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if let State::Data { bytes, mut tail } = self.state {
                tail.rotate_left(1);
                tail[4] = byte;
                let bytes = bytes + 1;
                self.state = if &tail == b"\r\n.\r\n" {
                    self.lines.push(format!(
                        "C: (message data: {bytes} bytes on the wire, not kept)"
                    ));
                    State::Commands
                } else {
                    State::Data { bytes, tail }
                };
                continue;
            }
            self.client_line.push(byte);
            if byte == b'\n' {
                let line = std::mem::take(&mut self.client_line);
                let text = String::from_utf8_lossy(&line);
                let verb = text.split_whitespace().next().unwrap_or("");
                let shown = if self.auth {
                    "(redacted)".to_string()
                } else if verb.eq_ignore_ascii_case("AUTH") {
                    self.auth = true;
                    "AUTH (redacted)".to_string()
                } else {
                    cut(&text)
                };
                if verb.eq_ignore_ascii_case("DATA") {
                    self.state = State::DataAwaited;
                }
                self.lines.push(format!("C: {shown}"));
            }
        }
    }

    /// Notes bytes the client read from the server.
    fn read(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.server_line.push(byte);
            if byte != b'\n' {
                continue;
            }
            let line = std::mem::take(&mut self.server_line);
            let text = String::from_utf8_lossy(&line).trim_end().to_string();
            if text.as_bytes().get(3) == Some(&b'-') {
                self.reply.push(text);
                continue;
            }
            let code = text.get(..3).unwrap_or("").to_string();
            let mut reply = std::mem::take(&mut self.reply);
            reply.push(text);
            let reply: Vec<&str> = reply.iter().map(String::as_str).collect();
            self.lines.push(reply_summary(&reply));
            if code != "334" {
                self.auth = false;
            }
            if self.state == State::DataAwaited {
                self.state = if code == "354" {
                    // The message starts a line: the terminator's first CRLF
                    // may be the message's own last line end.
                    State::Data {
                        bytes: 0,
                        tail: *b"\0\0\0\r\n",
                    }
                } else {
                    State::Commands
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client's notes never hold credentials or the DATA, whatever the
    /// server asks (the loopback listener offers no AUTH, so this is fed by
    /// hand).
    #[test]
    fn the_wire_notes_redact_auth_and_summarise_data() {
        let mut wire = Wire::default();
        wire.read(b"220 mx ready\r\n");
        wire.sent(b"EHLO lab.example\r\n");
        wire.read(b"250-mx\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n");
        wire.sent(b"AUTH LOGIN\r\n");
        wire.read(b"334 VXNlcm5hbWU6\r\n");
        wire.sent(b"dXNlcg==\r\n");
        wire.read(b"334 UGFzc3dvcmQ6\r\n");
        wire.sent(b"c2VjcmV0\r\n");
        wire.read(b"235 2.7.0 ok\r\n");
        wire.sent(b"DATA\r\n");
        wire.read(b"354 go\r\n");
        // Split writes, a stuffed line and the terminator on its own.
        wire.sent(b"Subject: s\r\n\r\n..dot");
        wire.sent(b"\r\nbody\r\n");
        wire.sent(b"\r\n.\r\n");
        wire.read(b"250 2.0.0 Ok: queued as ABC\r\n");
        wire.sent(b"QUIT\r\n");
        assert_eq!(
            wire.lines,
            [
                "S: 220 mx ready",
                "C: EHLO lab.example",
                "S: 250 mx [AUTH PLAIN LOGIN, 8BITMIME]",
                "C: AUTH (redacted)",
                "S: 334 VXNlcm5hbWU6",
                "C: (redacted)",
                "S: 334 UGFzc3dvcmQ6",
                "C: (redacted)",
                "S: 235 2.7.0 ok",
                "C: DATA",
                "S: 354 go",
                "C: (message data: 32 bytes on the wire, not kept)",
                "S: 250 2.0.0 Ok: queued as ABC",
                "C: QUIT",
            ]
        );
    }
}
