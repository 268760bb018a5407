//! Rewrites every timestamp of a finished ISO 9660 image to a constant.
//!
//! Timestamps live in three kinds of places (ECMA-119 and the Rock Ridge /
//! SUSP specifications):
//!
//! - primary and supplementary volume descriptors: creation and
//!   modification dates, 17-byte decimal strings at offsets 813 and 830
//!   (expiration and effective dates are left as written, unset);
//! - every directory record: a 7-byte binary date at offset 18, including
//!   the root record inside each volume descriptor;
//! - Rock Ridge `TF` entries in a record's system use area (or in a
//!   continuation area it points to with `CE`): a flags byte, then one 7- or
//!   17-byte stamp per set flag bit.
//!
//! The walk starts from each descriptor's root record and recurses into
//! subdirectories, so both the ISO 9660 tree and the Joliet tree are covered.

use std::collections::HashSet;
use std::ops::Range;

use crate::artifact::ArtifactError;

const SECTOR: usize = 2048;
/// 2024-04-17 09:00:00 UTC as a directory record date (years since 1900,
/// month, day, hour, minute, second, offset from GMT in 15-minute steps).
const RECORD_DATE: [u8; 7] = [124, 4, 17, 9, 0, 0, 0];
/// The same instant as a volume descriptor date: 16 digits and the offset.
const DECIMAL_DATE: &[u8; 17] = b"2024041709000000\0";

fn layout(detail: impl Into<String>) -> ArtifactError {
    ArtifactError::IsoLayout {
        detail: detail.into(),
    }
}

fn slice(image: &mut [u8], range: Range<usize>) -> Result<&mut [u8], ArtifactError> {
    let (start, end) = (range.start, range.end);
    image
        .get_mut(range)
        .ok_or_else(|| layout(format!("bytes {start}..{end} lie outside the image")))
}

fn u32_le(image: &[u8], at: usize) -> Result<usize, ArtifactError> {
    let bytes: [u8; 4] = image
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| layout(format!("no 32-bit field at byte {at}")))?;
    usize::try_from(u32::from_le_bytes(bytes)).map_err(|_| layout("field does not fit usize"))
}

/// Pins every timestamp in `image` (see the module docs).
pub(crate) fn pin_timestamps(image: &mut [u8]) -> Result<(), ArtifactError> {
    let mut visited = HashSet::new();
    let mut sector = 16;
    loop {
        let base = sector * SECTOR;
        let header = slice(image, base..base + 6)?;
        if &header[1..6] != b"CD001" {
            return Err(layout(format!(
                "sector {sector} is not a volume descriptor"
            )));
        }
        match header[0] {
            255 => return Ok(()),
            1 | 2 => {
                slice(image, base + 813..base + 830)?.copy_from_slice(DECIMAL_DATE);
                slice(image, base + 830..base + 847)?.copy_from_slice(DECIMAL_DATE);
                let root = base + 156;
                slice(image, root + 18..root + 25)?.copy_from_slice(&RECORD_DATE);
                let extent = u32_le(image, root + 2)?;
                let size = u32_le(image, root + 10)?;
                pin_directory(image, extent, size, &mut visited)?;
            }
            _ => {}
        }
        sector += 1;
    }
}

fn pin_directory(
    image: &mut [u8],
    extent: usize,
    size: usize,
    visited: &mut HashSet<usize>,
) -> Result<(), ArtifactError> {
    if !visited.insert(extent) {
        return Ok(());
    }
    let start = extent * SECTOR;
    let end = start + size;
    let mut pos = start;
    while pos < end {
        let len = usize::from(slice(image, pos..pos + 1)?[0]);
        if len == 0 {
            // Records never cross a sector boundary; the rest is padding.
            pos = (pos / SECTOR + 1) * SECTOR;
            continue;
        }
        if len < 34 {
            return Err(layout(format!(
                "directory record at byte {pos} is {len} bytes"
            )));
        }
        let record = slice(image, pos..pos + len)?;
        record[18..25].copy_from_slice(&RECORD_DATE);
        let is_dir = record[25] & 0x02 != 0;
        let name_len = usize::from(record[32]);
        let name = record.get(33..33 + name_len).unwrap_or_default();
        let is_self_or_parent = name == [0] || name == [1];
        // The system use area follows the name and its padding byte.
        let system_use = 33 + name_len + usize::from(name_len % 2 == 0);
        if system_use < len {
            pin_system_use(image, pos + system_use..pos + len, 0)?;
        }
        if is_dir && !is_self_or_parent {
            let child = u32_le(image, pos + 2)?;
            let child_size = u32_le(image, pos + 10)?;
            pin_directory(image, child, child_size, visited)?;
        }
        pos += len;
    }
    Ok(())
}

fn pin_system_use(image: &mut [u8], area: Range<usize>, depth: u8) -> Result<(), ArtifactError> {
    if depth > 8 {
        return Err(layout("continuation areas nest too deeply"));
    }
    let mut pos = area.start;
    while pos + 4 <= area.end {
        let entry = slice(image, pos..pos + 4)?;
        let (signature, len) = ([entry[0], entry[1]], usize::from(entry[2]));
        if len < 4 || pos + len > area.end {
            // Zero padding after the last entry.
            break;
        }
        match &signature {
            b"TF" => {
                let flags = slice(image, pos + 4..pos + 5)?[0];
                let width = if flags & 0x80 != 0 { 17 } else { 7 };
                let count = (flags & 0x7f).count_ones() as usize;
                if 5 + count * width > len {
                    return Err(layout(format!("TF entry at byte {pos} is too short")));
                }
                for k in 0..count {
                    let at = pos + 5 + k * width;
                    let stamp = slice(image, at..at + width)?;
                    if width == 7 {
                        stamp.copy_from_slice(&RECORD_DATE);
                    } else {
                        stamp.copy_from_slice(DECIMAL_DATE);
                    }
                }
            }
            b"CE" => {
                let block = u32_le(image, pos + 4)?;
                let offset = u32_le(image, pos + 12)?;
                let length = u32_le(image, pos + 20)?;
                let start = block * SECTOR + offset;
                pin_system_use(image, start..start + length, depth + 1)?;
            }
            b"ST" => break,
            _ => {}
        }
        pos += len;
    }
    Ok(())
}
