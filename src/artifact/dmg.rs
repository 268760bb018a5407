//! Apple disk images (`.dmg`): the container Mac lures ship programs in.
//!
//! [`build`] writes a real UDIF image (the format `hdiutil` writes and
//! DiskImageMounter opens: zlib-compressed block chunks, an XML property
//! list of partitions, the 512-byte `koly` trailer) with the `apple-dmg`
//! crate. Inside is an MBR disk whose one partition (type 0x0E, at LBA 2048)
//! is a FAT16 volume holding the files, folders included, so an `.app`
//! bundle fits. Real DMGs hold HFS+ or APFS, which no maintained Rust crate
//! or Debian tool writes in-process; FAT (`hdiutil create -fs MS-DOS`) is a
//! file system macOS mounts from a DMG as readily. FAT stores no Unix
//! modes: macOS's msdos driver shows every file on it as executable, so a
//! `.command` or an app's program on the image starts, which is the mode
//! this container "keeps" (a ZIP keeps 0755 explicitly instead).
//!
//! Deterministic like every builder: FAT timestamps are pinned to
//! 2024-04-17 09:00:00, the FAT serial and MBR signature are constants, and
//! the trailer's segment id (random in `apple-dmg`) is replaced by one
//! derived from a SHA-256 of the image. The volume label is the caller's;
//! nothing in the image names the tool.

mod fat;
// These tests run host tools (Unix).
#[cfg(test)]
#[cfg(unix)]
mod tests;

use std::io::Cursor;

use sha2::{Digest, Sha256};

use super::vhd;

/// One file on the image: a path from its root, `/` between folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmgFile {
    /// Relative path, `/` between folders (folders are created).
    pub path: String,
    /// Contents.
    pub data: Vec<u8>,
}

/// Bytes of the UDIF trailer at the end of the image.
pub const KOLY_LEN: usize = 512;
/// Where the segment id sits in the trailer.
const SEGMENT_ID_AT: usize = 64;

/// Why a disk image could not be built.
///
/// Messages are lowercase fragments that read after "failed to".
#[derive(Debug, thiserror::Error)]
pub enum DmgError {
    /// A path or the label cannot be stored on the FAT volume.
    #[error("store {name:?} on the disk image: {reason}")]
    Name {
        /// The rejected path or label.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// Formatting or filling the FAT volume failed.
    #[error("write the disk image's fat volume")]
    Fat {
        /// Error from fatfs.
        #[source]
        source: std::io::Error,
    },
    /// The UDIF writer failed.
    #[error("write the udif container")]
    Udif {
        /// Error from apple-dmg.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Builds a UDIF disk image whose FAT16 volume, labelled `label` (1 to 11
/// characters from `A-Z 0-9 _ -`), holds `files`.
pub fn build(label: &str, files: &[DmgFile]) -> Result<Vec<u8>, DmgError> {
    let volume = fat::volume(label, files)?;
    let disk = vhd::mbr_disk(&volume);
    let start = vhd::PARTITION_START_LBA as usize * vhd::SECTOR as usize;
    let mut out = Vec::new();
    let mut writer = apple_dmg::DmgWriter::new(Cursor::new(&mut out));
    // Partition names as hdiutil writes them for an MBR disk.
    writer
        .add_partition("Master Boot Record (MBR : 0)", &disk[..512])
        .map_err(udif)?;
    writer
        .add_partition(" (Apple_Free : 1)", &disk[512..start])
        .map_err(udif)?;
    writer
        .add_partition(" (DOS_FAT_16 : 2)", &disk[start..])
        .map_err(udif)?;
    writer.finish().map_err(udif)?;
    pin_segment_id(&mut out);
    Ok(out)
}

/// Wraps an error of the UDIF writer (an `anyhow` error, which converts).
fn udif<E: Into<Box<dyn std::error::Error + Send + Sync>>>(source: E) -> DmgError {
    DmgError::Udif {
        source: source.into(),
    }
}

/// Replaces the trailer's random segment id with a UUID (version 8) made
/// of the SHA-256 of everything before the trailer.
fn pin_segment_id(image: &mut [u8]) {
    let Some(koly_at) = image.len().checked_sub(KOLY_LEN) else {
        return;
    };
    let digest = Sha256::digest(&image[..koly_at]);
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    id[6] = (id[6] & 0x0F) | 0x80;
    id[8] = (id[8] & 0x3F) | 0x80;
    let at = koly_at + SEGMENT_ID_AT;
    image[at..at + 16].copy_from_slice(&id);
}

/// A FAT volume label for a disk image named `file_name`: its first word,
/// upper case, `A-Z 0-9`, at most 11 characters (`DISK IMAGE`-like
/// `INSTALLER` when nothing is left), as a user's own image would be
/// labelled after what it holds; it never names the tool.
pub fn label_for(file_name: &str) -> String {
    let word: String = file_name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or("")
        .chars()
        .take(11)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if word.is_empty() {
        "INSTALLER".into()
    } else {
        word
    }
}
