//! What the record keeps of a delivery beyond a download: the message that
//! carried the artifact, and whether the origin mark survived each hand-off
//! from one file to the next (an archive tool extracting a member, a mail
//! client saving an attachment).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The message that delivered the artifact, as the SMTP exchange and the
/// mailbox saw it. It never holds the message's body or any credential.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MailTruth {
    /// The Message-ID header, without angle brackets.
    pub message_id: String,
    /// The sender (the From header and the envelope's MAIL FROM).
    pub from: String,
    /// The envelope's recipients (RCPT TO).
    pub to: Vec<String>,
    /// The subject line.
    pub subject: String,
    /// The attachment's file name.
    pub attachment: String,
    /// SHA-256 of the attachment's bytes, as built.
    pub attachment_sha256: String,
    /// The SMTP server the message was sent to (`host:port`).
    pub server: String,
    /// The server's queue id for the message, when it gave one.
    #[serde(default)]
    pub queued_as: Option<String>,
    /// The SMTP exchange, one line per command and reply (never the DATA).
    pub transcript: Vec<String>,
    /// Size of the message as received, in bytes.
    pub size: usize,
    /// SHA-256 of the message as received.
    pub sha256: String,
    /// Where the mailbox delivered it on the host.
    pub mailbox: String,
    /// When the SMTP exchange began.
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    /// When the message was in the mailbox.
    #[serde(with = "time::serde::rfc3339")]
    pub delivered_at: OffsetDateTime,
}

/// One hand-off of the delivered file to the next: who wrote `file` from
/// what, and whether it carries an origin mark.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    /// The file written.
    pub file: String,
    /// What it was written from: `archive` (extracted) or `message` (a
    /// saved attachment).
    pub from: String,
    /// The application that wrote it (an image name).
    pub by: String,
    /// Whether that application ran for real or was played by the stage
    /// program.
    pub emulated: bool,
    /// Whether what it was written from carried an origin mark.
    pub source_marked: bool,
    /// The origin marks on the written file, read from the file itself.
    #[serde(default)]
    pub marks: Vec<String>,
    /// What the application is documented to do with the mark.
    pub policy: String,
}

impl Handoff {
    /// The file carries an origin mark.
    pub fn marked(&self) -> bool {
        !self.marks.is_empty()
    }

    /// A finding for the host: the file the user opens carries no origin
    /// mark, so content keyed on Mark-of-the-Web, quarantine or the xdg
    /// origin cannot tell it came from outside.
    pub fn finding(&self) -> Option<String> {
        if self.marked() {
            return None;
        }
        let what = match self.from.as_str() {
            "archive" if self.source_marked => {
                "the archive's origin mark did not survive extraction"
            }
            "archive" => "the archive carried no origin mark to pass on",
            _ => "the saved attachment carries no origin mark",
        };
        Some(format!(
            "{what}: {} has none after {} wrote it ({})",
            self.file, self.by, self.policy
        ))
    }
}
