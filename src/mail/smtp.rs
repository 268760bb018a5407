//! The one-message loopback SMTP listener: the server side of RFC 5321 just
//! far enough for one message, as the loopback HTTP server is for a
//! download. Written here rather than taken from an SMTP server crate: the
//! well-kept ones are whole mail servers (queues, storage, auth) whose
//! transcript we could not keep line by line, and one message needs ~200
//! lines.
//!
//! It greets, answers EHLO/HELO (advertising SIZE and 8BITMIME), takes MAIL
//! FROM, one or more RCPT TO and DATA (dot-unstuffed, ended by CRLF.CRLF),
//! queues the message under a random id, answers RSET, NOOP and QUIT, and
//! refuses everything else with 502, a second message with 554 and a message
//! over its size limit with 552. The whole session, from accept to QUIT, has
//! one deadline.

use std::net::SocketAddr;
use std::time::Duration;

use rand::Rng as _;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout_at};

use super::data::{Data, path_after, read_data};
use super::{MailError, cut, reply_summary};

/// The listener's default size limit (50 MiB): above any lure attachment,
/// below what would strain the host.
pub const DEFAULT_MAX_SIZE: usize = 50 * 1024 * 1024;

/// The longest command line read (RFC 5321 allows 512 octets; a little room
/// for extension parameters).
const MAX_COMMAND: u64 = 2048;

/// The most recipients one message may name.
const MAX_RECIPIENTS: usize = 100;

/// The name the listener gives in its greeting and EHLO reply.
const SERVER_NAME: &str = "localhost";

/// A one-message loopback SMTP listener the harness runs, as it runs a
/// loopback HTTP server for downloads.
#[derive(Debug)]
pub struct Listener {
    socket: TcpListener,
    addr: SocketAddr,
    max_size: usize,
}

/// What the listener received: the envelope, the message as stored (dot-
/// unstuffed, without the final `.` line) and the transcript of the session.
#[derive(Debug, Clone)]
pub struct Received {
    /// The name the client gave in EHLO/HELO.
    pub helo: String,
    /// The envelope sender, without angle brackets.
    pub mail_from: String,
    /// The envelope recipients, without angle brackets.
    pub rcpt_to: Vec<String>,
    /// The message as received.
    pub data: Vec<u8>,
    /// The queue id the listener replied with.
    pub queued_as: String,
    /// One line per command and reply, the DATA as its size only, an AUTH
    /// command as `(redacted)`.
    pub transcript: Vec<String>,
}

impl Listener {
    /// Binds a listener on `127.0.0.1:0` with the [`DEFAULT_MAX_SIZE`].
    pub async fn bind() -> Result<Listener, MailError> {
        let socket = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|source| MailError::Io {
                during: "bind the SMTP listener",
                peer: "127.0.0.1:0".to_string(),
                source,
            })?;
        let addr = socket.local_addr().map_err(|source| MailError::Io {
            during: "read the SMTP listener's address",
            peer: "127.0.0.1:0".to_string(),
            source,
        })?;
        Ok(Listener {
            socket,
            addr,
            max_size: DEFAULT_MAX_SIZE,
        })
    }

    /// The same listener with another size limit in bytes.
    pub fn with_max_size(self, max_size: usize) -> Listener {
        Listener { max_size, ..self }
    }

    /// The address to send to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Accepts one connection and serves it until QUIT, the client's close or
    /// `timeout` from now. A message accepted before the deadline is
    /// returned even if the client then stalls; later connections are
    /// refused by the closed socket.
    pub async fn receive(self, timeout: Duration) -> Result<Received, MailError> {
        let deadline = Instant::now() + timeout;
        let peer = self.addr.to_string();
        let timed_out = |during| MailError::Timeout {
            during,
            waited: timeout,
            peer: peer.clone(),
        };
        let (stream, _) = timeout_at(deadline, self.socket.accept())
            .await
            .map_err(|_| timed_out("accept an SMTP client"))?
            .map_err(|source| MailError::Io {
                during: "accept an SMTP client",
                peer: peer.clone(),
                source,
            })?;
        drop(self.socket);
        let mut session = Session::new(self.max_size);
        let served = timeout_at(deadline, session.serve(stream)).await;
        match (served, session.message.take()) {
            (Ok(Err(source)), None) => Err(MailError::Io {
                during: "talk to the SMTP client",
                peer,
                source,
            }),
            (Err(_), None) => Err(timed_out("receive a message")),
            (Err(_), Some(received)) => Ok(Received {
                transcript: session.ended("(deadline reached after the message, before QUIT)"),
                ..received
            }),
            (Ok(Err(_)), Some(received)) => Ok(Received {
                transcript: session.ended("(connection broke after the message, before QUIT)"),
                ..received
            }),
            (Ok(Ok(())), Some(received)) => Ok(Received {
                transcript: std::mem::take(&mut session.transcript),
                ..received
            }),
            (Ok(Ok(())), None) if session.refused_size => Err(MailError::TooLarge {
                limit: session.max_size,
                transcript: session.transcript,
            }),
            (Ok(Ok(())), None) => Err(MailError::NoMessage {
                transcript: session.transcript,
            }),
        }
    }
}

/// One SMTP session's state. Kept outside the future that serves it, so a
/// deadline that cuts the session short still finds the message accepted.
struct Session {
    max_size: usize,
    helo: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    message: Option<Received>,
    refused_size: bool,
    transcript: Vec<String>,
}

impl Session {
    fn new(max_size: usize) -> Session {
        Session {
            max_size,
            helo: None,
            mail_from: None,
            rcpt_to: Vec::new(),
            message: None,
            refused_size: false,
            transcript: Vec::new(),
        }
    }

    fn ended(&mut self, note: &str) -> Vec<String> {
        self.transcript.push(note.to_string());
        std::mem::take(&mut self.transcript)
    }

    async fn serve(&mut self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        let greeting = format!("220 {SERVER_NAME} ESMTP chainproof one-message listener");
        self.reply(&mut write, &[&greeting]).await?;
        loop {
            let mut line = Vec::new();
            let n = (&mut reader)
                .take(MAX_COMMAND)
                .read_until(b'\n', &mut line)
                .await?;
            if n == 0 {
                self.transcript
                    .push("(client closed the connection)".to_string());
                return Ok(());
            }
            if !line.ends_with(b"\n") {
                self.transcript
                    .push("C: (command line too long)".to_string());
                return self.reply(&mut write, &["500 5.5.2 line too long"]).await;
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\r', '\n']);
            let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
            let verb = verb.to_ascii_uppercase();
            // Credentials never reach a transcript (this listener offers no
            // AUTH, but a client may try).
            let shown = if verb == "AUTH" {
                "AUTH (redacted)"
            } else {
                text
            };
            self.transcript.push(format!("C: {}", cut(shown)));
            match verb.as_str() {
                "EHLO" | "HELO" => {
                    self.helo = Some(arg.trim().to_string());
                    self.reset();
                    if verb == "EHLO" {
                        let size = format!("250-SIZE {}", self.max_size);
                        let greets = format!("250-{SERVER_NAME} greets {}", arg.trim());
                        self.reply(&mut write, &[&greets, &size, "250 8BITMIME"])
                            .await?;
                    } else {
                        self.reply(&mut write, &["250 localhost"]).await?;
                    }
                }
                "MAIL" => {
                    let reply = self.mail(arg);
                    self.reply(&mut write, &[reply]).await?;
                }
                "RCPT" => {
                    let reply = self.rcpt(arg);
                    self.reply(&mut write, &[reply]).await?;
                }
                "DATA" if self.mail_from.is_none() || self.rcpt_to.is_empty() => {
                    self.reply(&mut write, &["503 5.5.1 MAIL FROM and RCPT TO first"])
                        .await?;
                }
                "DATA" => {
                    self.reply(&mut write, &["354 end data with <CR><LF>.<CR><LF>"])
                        .await?;
                    let reply = match read_data(&mut reader, self.max_size).await? {
                        (Data::Message(data), wire) => {
                            self.note_data(wire);
                            self.queue(data)
                        }
                        (Data::TooLarge, wire) => {
                            self.note_data(wire);
                            self.refused_size = true;
                            self.reset();
                            "552 5.3.4 message exceeds the size limit".to_string()
                        }
                    };
                    self.reply(&mut write, &[&reply]).await?;
                }
                "RSET" => {
                    self.reset();
                    self.reply(&mut write, &["250 2.0.0 ok"]).await?;
                }
                "NOOP" => self.reply(&mut write, &["250 2.0.0 ok"]).await?,
                "QUIT" => {
                    return self.reply(&mut write, &["221 2.0.0 bye"]).await;
                }
                _ => {
                    self.reply(&mut write, &["502 5.5.1 command not implemented"])
                        .await?;
                }
            }
        }
    }

    /// The reply to MAIL FROM.
    fn mail(&mut self, arg: &str) -> &'static str {
        if self.helo.is_none() {
            return "503 5.5.1 EHLO or HELO first";
        }
        if self.message.is_some() {
            return "554 5.5.0 this listener takes one message per run";
        }
        if self.mail_from.is_some() {
            return "503 5.5.1 nested MAIL command";
        }
        let Some((path, params)) = path_after(arg, "FROM:") else {
            return "501 5.5.4 syntax: MAIL FROM:<address>";
        };
        let declared = params.split_whitespace().find_map(|p| {
            p.to_ascii_uppercase()
                .strip_prefix("SIZE=")?
                .parse::<usize>()
                .ok()
        });
        if declared.is_some_and(|size| size > self.max_size) {
            self.refused_size = true;
            return "552 5.3.4 declared size exceeds the limit";
        }
        self.mail_from = Some(path);
        "250 2.1.0 ok"
    }

    /// The reply to RCPT TO.
    fn rcpt(&mut self, arg: &str) -> &'static str {
        if self.mail_from.is_none() {
            return "503 5.5.1 MAIL FROM first";
        }
        if self.rcpt_to.len() >= MAX_RECIPIENTS {
            return "452 4.5.3 too many recipients";
        }
        match path_after(arg, "TO:") {
            Some((path, _)) if !path.is_empty() => {
                self.rcpt_to.push(path);
                "250 2.1.5 ok"
            }
            _ => "501 5.5.4 syntax: RCPT TO:<address>",
        }
    }

    /// Queues an accepted message and returns the reply carrying its id.
    fn queue(&mut self, data: Vec<u8>) -> String {
        let queued_as = format!("{:012X}", rand::rng().random::<u64>() & 0xFFFF_FFFF_FFFF);
        self.message = Some(Received {
            helo: self.helo.clone().unwrap_or_default(),
            mail_from: self.mail_from.take().unwrap_or_default(),
            rcpt_to: std::mem::take(&mut self.rcpt_to),
            data,
            queued_as: queued_as.clone(),
            transcript: Vec::new(),
        });
        format!("250 2.0.0 Ok: queued as {queued_as}")
    }

    fn note_data(&mut self, wire: usize) {
        self.transcript.push(format!(
            "C: (message data: {wire} bytes on the wire, not kept)"
        ));
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
    }

    /// Writes a reply (its lines already carry `code-` / `code `) and notes
    /// it as one transcript line.
    async fn reply(
        &mut self,
        write: &mut (impl tokio::io::AsyncWrite + Unpin),
        lines: &[&str],
    ) -> std::io::Result<()> {
        let mut wire = String::new();
        for line in lines {
            wire.push_str(line);
            wire.push_str("\r\n");
        }
        self.transcript.push(reply_summary(lines));
        write.write_all(wire.as_bytes()).await?;
        write.flush().await
    }
}
