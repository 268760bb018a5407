//! Composing the lure message with mail-builder (Stalwart's MIME builder):
//! multipart/mixed, a text/plain body and the artifact as a base64
//! attachment whose content type follows its file extension, as a mail
//! client sending it would label it.

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::message_id::MessageId;
use rand::Rng as _;

use super::{MailError, sha256_hex};

/// What the message says, all already rendered with the run token by the
/// caller.
#[derive(Debug, Clone, Copy)]
pub struct Letter<'a> {
    /// The `From:` mailbox: `addr@domain` or `Display Name <addr@domain>`.
    pub from: &'a str,
    /// The `To:` mailbox, in the same forms.
    pub to: &'a str,
    /// The `Subject:` text.
    pub subject: &'a str,
    /// The text/plain body.
    pub body: &'a str,
    /// The attachment's file name, as the recipient sees it.
    pub attachment_name: &'a str,
    /// The attachment's bytes (the artifact, or the archive holding it).
    pub attachment: &'a [u8],
    /// The run token, carried in the Message-ID so mail evidence ties to the
    /// run.
    pub token: &'a str,
    /// The domain part of the Message-ID (the sending domain).
    pub domain: &'a str,
}

/// A composed message.
#[derive(Debug, Clone)]
pub struct Message {
    /// The whole message (headers and body), CRLF line ends, ending in CRLF.
    pub bytes: Vec<u8>,
    /// The Message-ID without angle brackets: `<random>.<token>@<domain>`.
    pub message_id: String,
    /// SHA-256 (hex) of the attachment's bytes.
    pub attachment_sha256: String,
}

/// Content types by file extension for the kinds the scenarios attach. The
/// first five are IANA-registered; the others are the freedesktop
/// shared-mime-info names mail clients use (Windows has no registered type
/// for `.lnk` or disk images either).
const CONTENT_TYPES: &[(&str, &str)] = &[
    ("docm", "application/vnd.ms-word.document.macroEnabled.12"),
    ("xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12"),
    ("odt", "application/vnd.oasis.opendocument.text"),
    ("pdf", "application/pdf"),
    ("zip", "application/zip"),
    ("7z", "application/x-7z-compressed"),
    ("iso", "application/x-iso9660-image"),
    ("img", "application/x-raw-disk-image"),
    ("lnk", "application/x-ms-shortcut"),
    ("desktop", "application/x-desktop"),
];

/// The content type an attachment named `name` gets: from the table above
/// by extension (any case), else `application/octet-stream`.
pub fn content_type_for(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    extension
        .and_then(|ext| {
            CONTENT_TYPES
                .iter()
                .find(|(known, _)| *known == ext)
                .map(|(_, content_type)| *content_type)
        })
        .unwrap_or("application/octet-stream")
}

/// Composes `letter` into a message: From, To, Subject, Date, a Message-ID
/// carrying the token, a text/plain body and the attachment in base64.
pub fn compose(letter: &Letter) -> Result<Message, MailError> {
    for (field, value) in [
        ("sender", letter.from),
        ("recipient", letter.to),
        ("subject", letter.subject),
        ("attachment name", letter.attachment_name),
    ] {
        if value.contains(['\r', '\n']) {
            return Err(MailError::Field {
                field,
                reason: "holds a line break",
            });
        }
    }
    for (field, value) in [("token", letter.token), ("domain", letter.domain)] {
        // Both go into the Message-ID's dot-atoms (RFC 5322 3.6.4): an
        // empty or odd part would give an id mail-parser and Python read
        // differently, and the id is how mail evidence finds the run.
        let atom = !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !atom {
            return Err(MailError::Field {
                field,
                reason: "is not made of letters, digits, '.', '-' and '_'",
            });
        }
    }
    let from = mailbox("sender", letter.from)?;
    let to = mailbox("recipient", letter.to)?;
    let random: u64 = rand::rng().random();
    let message_id = format!("{random:016x}.{}@{}", letter.token, letter.domain);
    let bytes = MessageBuilder::new()
        .from(from)
        .to(to)
        .subject(letter.subject)
        .message_id(MessageId::new(message_id.as_str()))
        .text_body(crlf(letter.body))
        .attachment(
            content_type_for(letter.attachment_name),
            letter.attachment_name,
            letter.attachment,
        )
        .write_to_vec()
        .map_err(|source| MailError::Compose { source })?;
    Ok(Message {
        bytes: ends_in_crlf(bytes),
        message_id,
        attachment_sha256: sha256_hex(letter.attachment),
    })
}

/// `Name <addr>` or `addr` as mail-builder's (name, address) pair: given a
/// bare string it takes the whole as the address, display name and all.
fn mailbox<'a>(field: &'static str, value: &'a str) -> Result<Address<'a>, MailError> {
    let (name, address) = match value.trim().strip_suffix('>') {
        Some(head) => match head.rsplit_once('<') {
            Some((name, address)) => (name.trim().trim_matches('"'), address),
            None => ("", head),
        },
        None => ("", value.trim()),
    };
    let plain = address.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.is_empty()
            && !address.contains(|c: char| c.is_whitespace() || "<>\",;:".contains(c))
    });
    if !plain {
        return Err(MailError::Field {
            field,
            reason: "is not `addr@domain` or `Name <addr@domain>`",
        });
    }
    let name = (!name.is_empty()).then_some(name);
    Ok(Address::new_address(name, address))
}

/// The body with every line ending as CRLF: SMTP lines end in CRLF, and a
/// bare LF reads differently in different servers (the root of "SMTP
/// smuggling"), so none is sent.
fn crlf(body: &str) -> String {
    body.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// SMTP carries a message as lines: one not ending in CRLF arrives with one
/// added, so the hash of what was sent would not be the hash of what was
/// received.
fn ends_in_crlf(mut bytes: Vec<u8>) -> Vec<u8> {
    if !bytes.ends_with(b"\r\n") {
        bytes.extend_from_slice(b"\r\n");
    }
    bytes
}
