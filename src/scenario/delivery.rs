//! The delivery part of the scenario format: how the artifact reaches the
//! host (a download, a copy, a message), the message a delivery by email
//! sends, and an archive's protection.

use serde::{Deserialize, Serialize};

use super::Open;

/// How the artifact reaches the host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// `http`: a real download from the harness's loopback server; `copy`: written in place.
    pub via: Via,
    /// Set the origin mark a browser sets (xattrs, Zone.Identifier, quarantine).
    #[serde(default = "yes")]
    pub mark_origin: bool,
    /// For delivery by email: the message that carries the artifact.
    #[serde(default)]
    pub mail: Option<MailSpec>,
}

/// The message a delivery by email sends (templates; `{token}` and
/// `{password}` allowed in the subject and body).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MailSpec {
    /// The sender's address.
    pub from: String,
    /// The recipient's address.
    #[serde(default = "default_recipient")]
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The body (plain text).
    #[serde(default)]
    pub body: String,
    /// The mail client that opens the message and saves the attachment
    /// (`OUTLOOK.EXE`, `thunderbird`, `Mail`), played by the stage program;
    /// defaults to the emulated opener. A real opener (a disk image the
    /// desktop mounts) takes over from the file the client saved.
    #[serde(default)]
    pub client: Option<String>,
}

impl MailSpec {
    /// The mail client's image name for `open`.
    pub fn client<'a>(&'a self, open: &'a Open) -> Option<&'a str> {
        self.client
            .as_deref()
            .or(open.emulated.as_ref().map(|e| e.as_name.as_str()))
    }
}

fn default_recipient() -> String {
    "j.doe@corp.example".into()
}

fn yes() -> bool {
    true
}

/// Delivery mechanisms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// HTTP GET from the harness's own server on 127.0.0.1.
    Http,
    /// Written directly into the download folder.
    Copy,
    /// An email message with the artifact attached, sent over SMTP to a
    /// loopback listener the harness runs (or a lab mail server), delivered
    /// into the run's mailbox, and opened in the mail client, which saves
    /// the attachment where that client saves it and opens it.
    Email,
}

/// How an archive is protected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Protect {
    /// The cipher: `zipcrypto` (the traditional PKWARE cipher, ZIP only)
    /// or `aes` (WinZip AES-256 in a ZIP; 7z always uses AES-256).
    pub encryption: Encryption,
    /// The password (a template; `{token}` allowed).
    pub password: String,
}

/// Archive ciphers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encryption {
    /// ZipCrypto, which every unzip reads.
    Zipcrypto,
    /// AES-256.
    Aes,
}
