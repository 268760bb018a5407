//! Origin marks: what a browser attaches to a file it downloads, so the
//! operating system (and detection content) knows the file came from the
//! internet.
//!
//! - Windows: the Mark-of-the-Web, an NTFS alternate data stream named
//!   [`ZONE_STREAM`] holding INI text ([`zone_identifier`]). Chromium-based
//!   browsers (Chrome, Edge) write `ZoneId=3` (the Internet zone), then
//!   `ReferrerUrl` when there is a referrer, then `HostUrl` (or
//!   `about:internet` when the source URL is unusable), each line ended by
//!   CRLF, which is the order and shape Windows' attachment services use.
//! - macOS: the `com.apple.quarantine` extended attribute
//!   ([`quarantine_value`]).
//! - Linux: the freedesktop.org `user.xdg.origin.url` and
//!   `user.xdg.referrer.url` extended attributes ([`linux_origin_xattrs`]),
//!   as Chromium and Firefox set them.
//!
//! Builders here are pure; [`write_zone_identifier`] is the one helper that
//! touches the disk, through the `<file>:Zone.Identifier` path that Windows
//! and ntfs-3g (mounted with `streams_interface=windows`) both understand.

// These tests run host tools (Unix).
#[cfg(test)]
#[cfg(unix)]
mod tests;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Name of the NTFS alternate data stream holding the Mark-of-the-Web.
pub const ZONE_STREAM: &str = "Zone.Identifier";

/// `URLZONE_INTERNET`, the zone browsers record for downloads.
pub const INTERNET_ZONE: u32 = 3;

/// What `HostUrl` holds when there is no usable source URL (the value
/// Windows' attachment services and Chromium fall back to).
pub const UNKNOWN_HOST_URL: &str = "about:internet";

/// The macOS extended attribute marking a file as quarantined.
pub const QUARANTINE_XATTR: &str = "com.apple.quarantine";

/// Quarantine flags on a download saved by an app that is not sandboxed
/// (Chrome, and AirDrop, are commonly reported with `0081`).
///
/// Apple does not document the bits. Public observations
/// (eclecticlight.co, "Quarantine and the quarantine flag", 2020; "xattr:
/// com.apple.quarantine", 2017): bit `0x0001` asks Gatekeeper for its full
/// first-run check, `0x0002` is added for files written by a sandboxed app
/// (Safari downloads read `0083`, Preview's documents `0082`), `0x0040`
/// appears once the user approved the file (`00c3`), and `0x0080` is set on
/// every browser download. chainproof defaults to this value because its
/// simulated downloader, like Chrome, is not sandboxed.
pub const QUARANTINE_FLAGS_DOWNLOAD: u16 = 0x0081;

/// The agent a browser download's quarantine value names: the browser that
/// saved it, never the harness, so no rule can key on a tool's name. Google
/// Chrome because [`QUARANTINE_FLAGS_DOWNLOAD`] is the value a browser that
/// is not sandboxed writes (Safari's would be `0083`): agent and flags agree.
pub const QUARANTINE_AGENT_BROWSER: &str = "Google Chrome";

/// Quarantine flags on a download saved by a sandboxed app such as Safari
/// (see [`QUARANTINE_FLAGS_DOWNLOAD`] for the bits).
pub const QUARANTINE_FLAGS_SANDBOXED_DOWNLOAD: u16 = 0x0083;

/// The freedesktop.org attribute holding the URL a file was downloaded from.
pub const XDG_ORIGIN_URL_XATTR: &str = "user.xdg.origin.url";

/// The freedesktop.org attribute holding the page that linked the download.
pub const XDG_REFERRER_URL_XATTR: &str = "user.xdg.referrer.url";

/// The fields of a `Zone.Identifier` stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneIdentifier {
    /// `ZoneId`: 3 is the Internet zone, 4 restricted sites.
    pub zone_id: u32,
    /// `ReferrerUrl`, if present.
    pub referrer_url: Option<String>,
    /// `HostUrl`, if present.
    pub host_url: Option<String>,
}

/// The fields of a `com.apple.quarantine` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantine {
    /// Quarantine flags (the first field, four hex digits).
    pub flags: u16,
    /// When the mark was set, seconds since the Unix epoch.
    pub unix_time: i64,
    /// The app or agent that saved the file, e.g. "Safari".
    pub agent: String,
    /// Uppercase UUID of the event in the QuarantineEventsV2 database; empty
    /// when the value has none.
    pub uuid: String,
}

/// Why an origin mark could not be built or read.
///
/// Messages are lowercase fragments that read after "failed to".
#[derive(Debug, thiserror::Error)]
pub enum OriginError {
    /// A value holds a character that would end or corrupt its field.
    #[error("use {value:?} as the {field}: {reason}")]
    Field {
        /// Which field, e.g. "host url".
        field: &'static str,
        /// The rejected value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A `Zone.Identifier` text did not have the expected shape.
    #[error("parse the zone.identifier text: {detail}")]
    ZoneIdentifier {
        /// What was missing or malformed.
        detail: String,
    },
    /// A `com.apple.quarantine` value did not have the expected shape.
    #[error("parse the quarantine value {value:?}: {detail}")]
    Quarantine {
        /// The value being parsed.
        value: String,
        /// What was missing or malformed.
        detail: String,
    },
}

fn check_line(field: &'static str, value: &str) -> Result<(), OriginError> {
    if value.contains(['\r', '\n', '\0']) {
        return Err(OriginError::Field {
            field,
            value: value.to_string(),
            reason: "it contains a line break or nul",
        });
    }
    Ok(())
}

/// Builds the `Zone.Identifier` text a Chromium-based browser writes for a
/// download from `host_url`, linked from `referrer_url`:
/// `[ZoneTransfer]\r\nZoneId=3\r\nReferrerUrl=<r>\r\nHostUrl=<h>\r\n`.
///
/// An empty `referrer_url` leaves the `ReferrerUrl` line out and an empty
/// `host_url` is written as [`UNKNOWN_HOST_URL`], as the browsers do. URLs
/// are written as given (browsers strip credentials before this point); one
/// holding CR, LF or NUL is rejected.
pub fn zone_identifier(host_url: &str, referrer_url: &str) -> Result<String, OriginError> {
    check_line("host url", host_url)?;
    check_line("referrer url", referrer_url)?;
    let mut text = format!("[ZoneTransfer]\r\nZoneId={INTERNET_ZONE}\r\n");
    if !referrer_url.is_empty() {
        text.push_str(&format!("ReferrerUrl={referrer_url}\r\n"));
    }
    let host = if host_url.is_empty() {
        UNKNOWN_HOST_URL
    } else {
        host_url
    };
    text.push_str(&format!("HostUrl={host}\r\n"));
    Ok(text)
}

/// Parses `Zone.Identifier` text (CRLF or LF lines, an optional UTF-8 BOM,
/// keys matched without regard to case, unknown keys such as `AppZoneId`
/// ignored). The `[ZoneTransfer]` section and a numeric `ZoneId` are
/// required.
pub fn parse_zone_identifier(text: &str) -> Result<ZoneIdentifier, OriginError> {
    let bad = |detail: String| OriginError::ZoneIdentifier { detail };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut in_section = false;
    let mut seen_section = false;
    let (mut zone_id, mut referrer_url, mut host_url) = (None, None, None);
    for raw in text.split('\n') {
        let line = raw.trim_end_matches(['\r', '\0']).trim();
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_section = name.trim().eq_ignore_ascii_case("ZoneTransfer");
            seen_section |= in_section;
            continue;
        }
        if !in_section {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(bad(format!("line {line:?} is not key=value")));
        };
        let (key, value) = (key.trim(), value.trim());
        if key.eq_ignore_ascii_case("ZoneId") {
            let id = value
                .parse::<u32>()
                .map_err(|_| bad(format!("zoneid {value:?} is not a number")))?;
            zone_id = Some(id);
        } else if key.eq_ignore_ascii_case("ReferrerUrl") {
            referrer_url = Some(value.to_string());
        } else if key.eq_ignore_ascii_case("HostUrl") {
            host_url = Some(value.to_string());
        }
    }
    if !seen_section {
        return Err(bad("there is no [ZoneTransfer] section".into()));
    }
    let zone_id = zone_id.ok_or_else(|| bad("there is no ZoneId".into()))?;
    Ok(ZoneIdentifier {
        zone_id,
        referrer_url,
        host_url,
    })
}

/// The path through which the `Zone.Identifier` stream of `file` is opened:
/// `<file>:Zone.Identifier`.
///
/// Windows and ntfs-3g mounted with `streams_interface=windows` open the
/// alternate data stream through it; on any other Linux filesystem the same
/// path names an ordinary sibling file.
pub fn zone_stream_path(file: &Path) -> PathBuf {
    let mut path = OsString::from(file.as_os_str());
    path.push(":");
    path.push(ZONE_STREAM);
    PathBuf::from(path)
}

/// Writes the Mark-of-the-Web ([`zone_identifier`]) on an existing `file`
/// through [`zone_stream_path`], with plain `std::fs`.
///
/// Works on Windows and on an ntfs-3g mount with `streams_interface=windows`;
/// elsewhere it creates a sibling file named `<file>:Zone.Identifier`. A URL
/// that cannot be written is an `InvalidInput` error, a missing `file`
/// `NotFound` (opening the stream path on Windows would create the file).
pub fn write_zone_identifier(
    file: &Path,
    host_url: &str,
    referrer_url: &str,
) -> std::io::Result<()> {
    let text = zone_identifier(host_url, referrer_url)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    if !std::fs::metadata(file)?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", file.display()),
        ));
    }
    std::fs::write(zone_stream_path(file), text)
}

/// Builds a `com.apple.quarantine` value:
/// `<flags, 4 hex digits>;<unix time, lowercase hex, at least 8 digits>;<agent>;<UUID>`,
/// e.g. `0081;661f8f90;Google Chrome;4A3C...`.
///
/// Flags are written in lowercase hex as macOS does (`00c3`); see
/// [`QUARANTINE_FLAGS_DOWNLOAD`] for the usual values. `uuid` is either
/// empty (no QuarantineEvents entry) or a hyphenated UUID, written in
/// uppercase. The agent may not hold `;` or line breaks, the time may not be
/// negative.
pub fn quarantine_value(
    flags: u16,
    unix_time: i64,
    agent: &str,
    uuid: &str,
) -> Result<String, OriginError> {
    let field = |field, value: &str, reason| OriginError::Field {
        field,
        value: value.to_string(),
        reason,
    };
    if unix_time < 0 {
        return Err(field(
            "quarantine time",
            &unix_time.to_string(),
            "it is before 1970",
        ));
    }
    if agent.contains([';', '\r', '\n', '\0']) {
        return Err(field(
            "quarantine agent",
            agent,
            "it contains ';' or a line break",
        ));
    }
    if !uuid.is_empty() && !is_uuid(uuid) {
        return Err(field(
            "quarantine uuid",
            uuid,
            "it is not a hyphenated uuid",
        ));
    }
    Ok(format!(
        "{flags:04x};{unix_time:08x};{agent};{}",
        uuid.to_ascii_uppercase()
    ))
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Parses a `com.apple.quarantine` value (the inverse of
/// [`quarantine_value`]; a missing fourth field reads as an empty UUID, a
/// trailing NUL is ignored).
pub fn parse_quarantine(value: &str) -> Result<Quarantine, OriginError> {
    let bad = |detail: &str| OriginError::Quarantine {
        value: value.to_string(),
        detail: detail.to_string(),
    };
    let trimmed = value.trim_end_matches('\0');
    let mut fields = trimmed.splitn(4, ';');
    let (Some(flags), Some(time), Some(agent)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(bad("it has fewer than three ';'-separated fields"));
    };
    let uuid = fields.next().unwrap_or("");
    if flags.len() != 4 {
        return Err(bad("the flags are not four hex digits"));
    }
    let flags =
        u16::from_str_radix(flags, 16).map_err(|_| bad("the flags are not four hex digits"))?;
    let unix_time = if time.is_empty() || !time.bytes().all(|b| b.is_ascii_hexdigit()) {
        None
    } else {
        i64::from_str_radix(time, 16).ok()
    }
    .ok_or_else(|| bad("the time is not hex"))?;
    if !uuid.is_empty() && !is_uuid(uuid) {
        return Err(bad("the last field is not a hyphenated uuid"));
    }
    Ok(Quarantine {
        flags,
        unix_time,
        agent: agent.to_string(),
        uuid: uuid.to_ascii_uppercase(),
    })
}

/// The extended attributes a Linux browser sets on a download:
/// ([`XDG_ORIGIN_URL_XATTR`], `url`) then ([`XDG_REFERRER_URL_XATTR`],
/// `referrer`), in the order `runner::serve::mark_origin` sets them.
///
/// As in Chromium, an attribute whose URL is empty is left out.
pub fn linux_origin_xattrs(url: &str, referrer: &str) -> Vec<(&'static str, String)> {
    [
        (XDG_ORIGIN_URL_XATTR, url),
        (XDG_REFERRER_URL_XATTR, referrer),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .map(|(name, value)| (name, value.to_string()))
    .collect()
}
