//! ISO 9660 images holding other artifacts, as mailed or downloaded lures
//! are (the ISO container also dodged Mark-of-the-Web on older Windows).
//!
//! [`build`] writes, with hadris-iso, an image with Rock Ridge (POSIX names
//! and modes, read by Linux mounts such as `fuseiso`) and Joliet (Unicode
//! names, read by Windows), all files in the root directory. Executables get
//! mode 0755, other files 0644, owner and group 0. hadris-iso stamps the
//! volume descriptors, directory records and Rock Ridge `TF` entries with the
//! current time and offers no option to fix it, so the private `stamp`
//! module rewrites every one of those timestamps to 2024-04-17 09:00:00 UTC
//! afterwards: the same files give the same bytes.
//!
//! Names are limited to what both trees can hold: 1 to 64 UTF-16 units
//! (Joliet's limit), no control characters, none of `/ \ * : ; ?`, not `.` or
//! `..`, and unique. The volume id is 1 to 16 characters from `A-Z 0-9 _`
//! (ISO 9660 d-characters; 16 is what the Joliet descriptor holds).

mod stamp;
// These tests run host tools (Unix).
#[cfg(test)]
#[cfg(unix)]
mod tests;

use std::collections::HashSet;
use std::io::Cursor;
use std::sync::Arc;

use hadris_iso::joliet::JolietLevel;
use hadris_iso::read::PathSeparator;
use hadris_iso::rrip::RripOptions;
use hadris_iso::write::options::{BaseIsoLevel, CreationFeatures, IsoFormatOptions};
use hadris_iso::write::{InputEntry, InputEntryKind, InputMetadata, InputTree, IsoImageWriter};

use crate::artifact::ArtifactError;

/// One file in the image's root directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoFile {
    /// File name as Rock Ridge and Joliet show it.
    pub name: String,
    /// File contents.
    pub data: Vec<u8>,
    /// Whether the file gets mode 0755 (else 0644).
    pub executable: bool,
}

/// Seconds since the Unix epoch of the pinned timestamp, 2024-04-17 09:00 UTC.
pub const PINNED_UNIX_TIME: i64 = 1_713_344_400;

/// Builds an ISO 9660 image (Rock Ridge + Joliet) with `files` at its root.
pub fn build(volume_id: &str, files: &[IsoFile]) -> Result<Vec<u8>, ArtifactError> {
    check_volume_id(volume_id)?;
    let mut seen = HashSet::new();
    for file in files {
        check_name(&file.name)?;
        if !seen.insert(file.name.as_str()) {
            return Err(ArtifactError::IsoName {
                name: file.name.clone(),
                reason: "two files have this name",
            });
        }
    }
    let entries = files
        .iter()
        .map(|file| InputEntry {
            name: Arc::new(file.name.clone()),
            kind: InputEntryKind::File(file.data.clone()),
            metadata: InputMetadata {
                mode: Some(if file.executable { 0o755 } else { 0o644 }),
                uid: Some(0),
                gid: Some(0),
                created: Some(PINNED_UNIX_TIME),
                modified: Some(PINNED_UNIX_TIME),
                accessed: Some(PINNED_UNIX_TIME),
            },
        })
        .collect();
    let tree = InputTree {
        path_separator: PathSeparator::ForwardSlash,
        entries,
    };
    let options = IsoFormatOptions {
        volume_name: volume_id.to_owned(),
        system_id: Some("LINUX".to_owned()),
        volume_set_id: None,
        publisher_id: None,
        // No preparer or application: Windows' own ISO writers (IMAPI2, as
        // used by "Burn to disc" and most small lure builders) leave them
        // blank, and a value naming this harness would be a fingerprint.
        preparer_id: None,
        application_id: None,
        sector_size: 2048,
        features: CreationFeatures {
            filenames: BaseIsoLevel::Level1 {
                supports_lowercase: false,
                supports_rrip: true,
            },
            long_filenames: false,
            joliet: Some(JolietLevel::Level3),
            rock_ridge: Some(RripOptions::default()),
            el_torito: None,
            hybrid_boot: None,
        },
        path_separator: PathSeparator::ForwardSlash,
        strict_charset: false,
    };
    let mut image = IsoImageWriter::create(Cursor::new(Vec::new()), tree, options)
        .map_err(|source| ArtifactError::Iso { source })?
        .into_inner();
    stamp::pin_timestamps(&mut image)?;
    Ok(image)
}

fn check_volume_id(id: &str) -> Result<(), ArtifactError> {
    let reason = if id.is_empty() || id.len() > 16 {
        "a volume id has 1 to 16 characters"
    } else if !id
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        "a volume id uses only A-Z, 0-9 and _"
    } else {
        return Ok(());
    };
    Err(ArtifactError::IsoName {
        name: id.to_owned(),
        reason,
    })
}

fn check_name(name: &str) -> Result<(), ArtifactError> {
    let units = name.encode_utf16().count();
    let reason = if units == 0 || units > 64 {
        "a file name has 1 to 64 utf-16 units (the joliet limit)"
    } else if name == "." || name == ".." {
        "a file name cannot be . or .."
    } else if name.chars().any(char::is_control) {
        "a file name cannot hold control characters"
    } else if name.contains(['/', '\\', '*', ':', ';', '?']) {
        "a file name cannot hold / \\ * : ; or ? (joliet forbids them)"
    } else {
        return Ok(());
    };
    Err(ArtifactError::IsoName {
        name: name.to_owned(),
        reason,
    })
}
