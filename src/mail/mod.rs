//! The email delivery path's building blocks: a message composed with a real
//! MIME library ([`compose`]), carried over real SMTP to a one-message
//! loopback [`Listener`] or a lab mail server ([`send`]), and read back as a
//! mail client reads it ([`attachments`], [`headers`]).
//!
//! This module owns bytes and the SMTP exchange, nothing of a run: the caller
//! renders the lure's text with the run token, decides where the message
//! goes, and files the [`SmtpRecord`] in its run record. It must never keep
//! the DATA of a message or a credential in a record or a transcript: the
//! artifact is recorded elsewhere by its hash, and a transcript is shown to
//! people.

mod client;
mod compose;
mod data;
mod read;
mod smtp;
#[cfg(test)]
mod smtp_tests;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use client::send;
pub use compose::{Letter, Message, compose, content_type_for};
pub use read::{Attachment, Headers, attachments, headers};
pub use smtp::{DEFAULT_MAX_SIZE, Listener, Received};

/// What went wrong building, carrying or reading a message. Messages read
/// after "failed to".
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A letter's field cannot go into its header: a CR or LF could smuggle
    /// a header of its own, and the Message-ID's parts must be atoms.
    #[error("compose the message: the {field} {reason}")]
    Field {
        /// Which field of the letter.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The MIME library could not write the message.
    #[error("compose the message")]
    Compose {
        /// The writer's error.
        #[source]
        source: std::io::Error,
    },
    /// An envelope address lettre does not accept.
    #[error("use {address:?} as an envelope address")]
    Address {
        /// The address as given.
        address: String,
        /// lettre's reason.
        #[source]
        source: lettre::address::AddressError,
    },
    /// A socket operation of the listener or the client.
    #[error("{during} ({peer})")]
    Io {
        /// What was being done, e.g. "bind the SMTP listener".
        during: &'static str,
        /// The address involved.
        peer: String,
        /// The socket error.
        #[source]
        source: std::io::Error,
    },
    /// The exchange did not end within its time limit.
    #[error("{during} within {waited:?} ({peer})")]
    Timeout {
        /// What was being waited for.
        during: &'static str,
        /// The limit given.
        waited: std::time::Duration,
        /// The address involved.
        peer: String,
    },
    /// The server refused a command, or the exchange broke, as seen by the
    /// client. The transcript up to that point is kept for the record.
    #[error("send the message to {server}: {reason}")]
    Rejected {
        /// The server as `host:port`.
        server: String,
        /// lettre's reading of the failure (a reply code and its text, or a
        /// network error).
        reason: String,
        /// What was exchanged up to the failure (the client's view).
        transcript: Vec<String>,
    },
    /// The listener refused a message over its size limit.
    #[error("accept a message of more than {limit} bytes (the listener's limit)")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
        /// What was exchanged (the listener's view).
        transcript: Vec<String>,
    },
    /// The client left the listener without a message accepted.
    #[error("receive a message: the client ended the session without one")]
    NoMessage {
        /// What was exchanged (the listener's view).
        transcript: Vec<String>,
    },
    /// The bytes are not a message mail-parser can read.
    #[error("parse the message: {reason}")]
    Parse {
        /// What is missing or malformed.
        reason: String,
    },
}

/// Whose view of the exchange a [`SmtpRecord`] gives: what the client sent
/// and the replies it read, or what the listener read and replied. Both are
/// from the wire, not from what either side meant to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// The harness's client ([`send`]): the only view when the server is a
    /// lab mail server.
    Client,
    /// The harness's own loopback [`Listener`].
    Listener,
}

/// What the SMTP exchange left, for the run record: the envelope, the
/// Message-ID, the size and hash of the DATA and a one-line-per-step
/// transcript summary. Never the DATA itself, never a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpRecord {
    /// The server as `host:port` (`127.0.0.1:PORT` for the loopback listener).
    pub server: String,
    /// Whose view the transcript is.
    pub view: View,
    /// The name the client gave in EHLO/HELO.
    pub helo: String,
    /// The envelope sender (MAIL FROM), without angle brackets.
    pub mail_from: String,
    /// The envelope recipients (RCPT TO), without angle brackets.
    pub rcpt_to: Vec<String>,
    /// The message's Message-ID, without angle brackets.
    pub message_id: String,
    /// The DATA's size in bytes, after dot-unstuffing and without the final
    /// `.` line: the message as the server stores it.
    pub size: usize,
    /// SHA-256 (hex) of those bytes.
    pub sha256: String,
    /// The queue id from the server's reply to the DATA, where it gave one.
    #[serde(default)]
    pub queued_as: Option<String>,
    /// One line per command (`C: …`) and per reply (`S: code text`); the
    /// DATA appears as its size only, an AUTH command as `(redacted)`.
    pub transcript: Vec<String>,
    /// When the exchange started (the client connected or the listener
    /// accepted).
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When it finished (the QUIT reply, or the connection's end).
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
}

impl SmtpRecord {
    /// The listener's record of a message it received: the DATA is hashed as
    /// received and its Message-ID read from its headers.
    pub fn from_received(
        server: String,
        received: &Received,
        started_at: OffsetDateTime,
        finished_at: OffsetDateTime,
    ) -> Result<SmtpRecord, MailError> {
        let message_id = headers(&received.data)?.message_id;
        Ok(SmtpRecord {
            server,
            view: View::Listener,
            helo: received.helo.clone(),
            mail_from: received.mail_from.clone(),
            rcpt_to: received.rcpt_to.clone(),
            message_id,
            size: received.data.len(),
            sha256: sha256_hex(&received.data),
            queued_as: Some(received.queued_as.clone()),
            transcript: received.transcript.clone(),
            started_at,
            finished_at,
        })
    }
}

/// SHA-256 of `bytes` as lowercase hex, the form every record uses.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A transcript line of a reply or command cut to a readable length: a
/// server's text is not ours to keep whole, and a long line is noise.
pub(crate) fn cut(line: &str) -> String {
    const MAX: usize = 120;
    let line = line.trim_end_matches(['\r', '\n']);
    // A peer's control characters must not reach a terminal or a report
    // raw; the reports escape markup, this keeps the line one line.
    let mut out: String = line
        .chars()
        .take(MAX)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    if line.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

/// One transcript line for a reply of one or more lines: `S: 250 first
/// line [the other lines' texts]`, so a multi-line EHLO reply stays one
/// line and shows its extensions.
pub(crate) fn reply_summary(lines: &[&str]) -> String {
    let Some((first, rest)) = lines.split_first() else {
        return "S:".to_string();
    };
    let mut first = (*first).to_string();
    if first.as_bytes().get(3) == Some(&b'-') {
        first.replace_range(3..4, " ");
    }
    if rest.is_empty() {
        return cut(&format!("S: {first}"));
    }
    let rest: Vec<&str> = rest.iter().map(|l| l.get(4..).unwrap_or("")).collect();
    cut(&format!("S: {first} [{}]", rest.join(", ")))
}
