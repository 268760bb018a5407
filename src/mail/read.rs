//! Reading a message back as a mail client does, with mail-parser (the
//! parser from the same author as mail-builder, but an independent reading
//! of the bytes): its attachments with their names, content types and
//! decoded bytes, and the headers an incident responder asks about.

use mail_parser::{MessageParser, MimeHeaders as _};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::MailError;

/// One attachment as a mail client would save it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name the message gives it (`Content-Disposition` filename,
    /// else the `Content-Type` name); empty when it gives none.
    pub name: String,
    /// `type/subtype` as labelled in the message, lowercase (content types
    /// are case-insensitive; mail-parser and Python both fold them).
    pub content_type: String,
    /// The decoded bytes (base64 or quoted-printable undone).
    pub bytes: Vec<u8>,
}

/// Where a message came from: the answer to "where did it come from" in the
/// incident-response section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    /// The `From:` address, where there is one.
    pub from: Option<String>,
    /// The `From:` display name, where there is one.
    pub from_name: Option<String>,
    /// The `Subject:`, where there is one.
    pub subject: Option<String>,
    /// The Message-ID without angle brackets.
    pub message_id: String,
    /// The `Date:`, where there is one that parses.
    pub date: Option<OffsetDateTime>,
}

fn parse(raw: &[u8]) -> Result<mail_parser::Message<'_>, MailError> {
    MessageParser::default()
        .parse(raw)
        .ok_or_else(|| MailError::Parse {
            reason: "no header block".to_string(),
        })
}

/// The message's attachments, in order, decoded.
pub fn attachments(raw: &[u8]) -> Result<Vec<Attachment>, MailError> {
    let message = parse(raw)?;
    Ok(message
        .attachments()
        .map(|part| Attachment {
            name: part.attachment_name().unwrap_or_default().to_string(),
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(subtype) => format!("{}/{subtype}", ct.ctype()),
                    None => ct.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".to_string()),
            bytes: part.contents().to_vec(),
        })
        .collect())
}

/// The sender, subject, Message-ID and Date of a raw message. A message
/// without a Message-ID is an error: it is what ties the mail to its run.
pub fn headers(raw: &[u8]) -> Result<Headers, MailError> {
    let message = parse(raw)?;
    let message_id = message
        .message_id()
        .ok_or_else(|| MailError::Parse {
            reason: "no Message-ID header".to_string(),
        })?
        .to_string();
    let sender = message.from().and_then(|from| from.first());
    Ok(Headers {
        from: sender.and_then(|s| s.address()).map(str::to_string),
        from_name: sender.and_then(|s| s.name()).map(str::to_string),
        subject: message.subject().map(str::to_string),
        message_id,
        // mail-parser's own date type; its RFC 3339 text is the bridge to
        // the `time` type every record uses.
        date: message
            .date()
            .and_then(|date| OffsetDateTime::parse(&date.to_rfc3339(), &Rfc3339).ok()),
    })
}
