//! The FAT16/FAT32 volume inside the disk image, formatted and filled with
//! the `fatfs` crate over an in-memory buffer.

use std::collections::HashSet;
use std::io::{Cursor, Write};

use fatfs::{Date, DateTime, FileSystem, FormatVolumeOptions, FsOptions, Time, TimeProvider};

use super::{MAX_FAT_BYTES, MIN_FAT_BYTES, SECTOR, VOLUME_ID, VhdError};

/// Every FAT timestamp: 2024-04-17 09:00:00 (FAT times carry no zone).
#[derive(Debug)]
struct PinnedTime;

const PINNED_DATE: Date = Date {
    year: 2024,
    month: 4,
    day: 17,
};
const PINNED_TIME: Time = Time {
    hour: 9,
    min: 0,
    sec: 0,
    millis: 0,
};
/// The same instant as DOS date and time words (for the label entry).
const DOS_DATE: u16 = ((2024 - 1980) << 9) | (4 << 5) | 17;
const DOS_TIME: u16 = 9 << 11;

impl TimeProvider for PinnedTime {
    fn get_current_date(&self) -> Date {
        PINNED_DATE
    }

    fn get_current_date_time(&self) -> DateTime {
        DateTime {
            date: PINNED_DATE,
            time: PINNED_TIME,
        }
    }
}

static PINNED: PinnedTime = PinnedTime;

/// Builds a FAT volume of `size_bytes` (a multiple of 512 from
/// [`MIN_FAT_BYTES`] to [`MAX_FAT_BYTES`]) labelled `volume_label`, holding `files` (long name,
/// contents) in its root directory.
///
/// fatfs picks FAT16 below 512 MiB and FAT32 from there, with its default
/// cluster sizes; short (8.3) names are generated from the long ones. The
/// label (1 to 11 characters from `A-Z 0-9 _ -` and inner spaces) goes in
/// the boot sector and, as Windows reads it, in a root directory entry.
/// Names: 1 to 255 bytes of letters, digits, `$%'-_@~`!(){}.,;=[]^#&+` and
/// spaces, or characters from U+0080 to U+FFFF, not ending in a dot or a
/// space, unique ignoring case; files are at most 4 GiB - 1.
pub fn fat_image(
    volume_label: &str,
    files: &[(String, Vec<u8>)],
    size_bytes: u64,
) -> Result<Vec<u8>, VhdError> {
    check_inputs(volume_label, files)?;
    check_size(size_bytes)?;
    let mut image = vec![0u8; size_bytes as usize];
    format_into(&mut image, volume_label, files)?;
    Ok(image)
}

/// Checks a volume size before the buffer is allocated.
pub(super) fn check_size(size: u64) -> Result<(), VhdError> {
    let bad_size = |reason| Err(VhdError::Size { size, reason });
    if !size.is_multiple_of(SECTOR) {
        return bad_size("it is not a whole number of 512-byte sectors");
    }
    if size < MIN_FAT_BYTES {
        return bad_size("it is under 8 MiB, which would make fat12");
    }
    if size > MAX_FAT_BYTES {
        return bad_size("it is over 4 GiB, too much to build in memory");
    }
    Ok(())
}

/// Checks the label and names before any buffer is allocated.
pub(super) fn check_inputs(label: &str, files: &[(String, Vec<u8>)]) -> Result<(), VhdError> {
    let bad_label = |reason| VhdError::Label {
        label: label.to_string(),
        reason,
    };
    if label.is_empty() || label.len() > 11 {
        return Err(bad_label("it must be 1 to 11 characters"));
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"_- ".contains(&b))
    {
        return Err(bad_label("it may hold only A-Z 0-9 _ - and spaces"));
    }
    if label.starts_with(' ') {
        return Err(bad_label("it starts with a space"));
    }
    let mut seen = HashSet::new();
    for (name, data) in files {
        let bad = |reason| VhdError::File {
            name: name.clone(),
            reason,
        };
        if name.is_empty() || name.len() > 255 {
            return Err(bad("the name must be 1 to 255 bytes"));
        }
        let allowed = |c: char| {
            c.is_ascii_alphanumeric()
                || ('\u{80}'..='\u{ffff}').contains(&c)
                || "$%'-_@~`!(){}.,;=[]^#&+ ".contains(c)
        };
        if !name.chars().all(allowed) {
            return Err(bad("the name holds a character fat long names cannot"));
        }
        if name.ends_with(['.', ' ']) {
            return Err(bad("the name ends in a dot or a space"));
        }
        if !seen.insert(name.to_lowercase()) {
            return Err(bad("two files have this name (fat ignores case)"));
        }
        if data.len() as u64 > u64::from(u32::MAX) {
            return Err(bad("fat files hold at most 4 GiB - 1 bytes"));
        }
    }
    Ok(())
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Whether `part` starts with a FAT boot sector with 512-byte sectors.
fn is_fat(part: &[u8]) -> bool {
    part.len() >= 512
        && part[510..512] == [0x55, 0xAA]
        && matches!(part[0], 0xEB | 0xE9)
        && u64::from(le16(part, 11)) == SECTOR
}

/// Whether `part` starts with a FAT32 boot sector (no 16-bit FAT size).
pub(super) fn is_fat32(part: &[u8]) -> bool {
    is_fat(part) && le16(part, 22) == 0 && le32(part, 36) != 0
}

/// Sets the boot sector's hidden-sectors field (and the FAT32 backup's).
pub(super) fn set_hidden_sectors(part: &mut [u8], hidden: u32) {
    if !is_fat(part) {
        return;
    }
    let mut sectors = vec![0];
    if is_fat32(part) {
        sectors.push(usize::from(le16(part, 50)));
    }
    for sector in sectors {
        let at = sector * SECTOR as usize;
        if sector == 0 || part.get(at..at + 512).is_some_and(is_fat) {
            part[at + 28..at + 32].copy_from_slice(&hidden.to_le_bytes());
        }
    }
}

/// Formats `buf` as a FAT volume and writes the label entry and the files.
pub(super) fn format_into(
    buf: &mut [u8],
    label: &str,
    files: &[(String, Vec<u8>)],
) -> Result<(), VhdError> {
    check_size(buf.len() as u64)?;
    let fat = |source| VhdError::Fat { source };
    let mut label_bytes = [b' '; 11];
    label_bytes[..label.len()].copy_from_slice(label.as_bytes());
    let options = FormatVolumeOptions::new()
        .volume_id(VOLUME_ID)
        .volume_label(label_bytes);
    fatfs::format_volume(Cursor::new(&mut *buf), options).map_err(fat)?;

    // Root directory (FAT16's fixed region, or FAT32's first cluster, which
    // fatfs puts first in the data region): its first entry is the label.
    let fats = u64::from(buf[16]);
    let fat_sectors = match le16(buf, 22) {
        0 => u64::from(le32(buf, 36)),
        n => u64::from(n),
    };
    let root = ((u64::from(le16(buf, 14)) + fats * fat_sectors) * SECTOR) as usize;
    let entry = &mut buf[root..root + 32];
    entry[..11].copy_from_slice(&label_bytes);
    entry[11] = 0x08;
    entry[22..24].copy_from_slice(&DOS_TIME.to_le_bytes());
    entry[24..26].copy_from_slice(&DOS_DATE.to_le_bytes());

    let fat32 = is_fat32(buf);
    let root_capacity = u64::from(le16(buf, 17));
    let fs = FileSystem::new(
        Cursor::new(&mut *buf),
        FsOptions::new().time_provider(&PINNED),
    )
    .map_err(fat)?;
    let stats = fs.stats().map_err(fat)?;
    let cluster = u64::from(stats.cluster_size());
    // Directory entries: the label, then per file its long-name entries
    // (13 UTF-16 units each) and its short entry.
    let entries: u64 = 1 + files
        .iter()
        .map(|(name, _)| 1 + (name.encode_utf16().count() as u64).div_ceil(13))
        .sum::<u64>();
    let mut needed: u64 = files
        .iter()
        .map(|(_, d)| (d.len() as u64).div_ceil(cluster) * cluster)
        .sum();
    if fat32 {
        // The root directory grows past its first cluster as a chain.
        needed += ((entries * 32).div_ceil(cluster).max(1) - 1) * cluster;
    } else {
        if entries > root_capacity {
            return Err(VhdError::RootDirectoryFull {
                needed: entries,
                capacity: root_capacity,
            });
        }
    }
    let available = u64::from(stats.free_clusters()) * cluster;
    if needed > available {
        return Err(VhdError::NoSpace { needed, available });
    }
    let root_dir = fs.root_dir();
    for (name, data) in files {
        let mut file = root_dir.create_file(name).map_err(fat)?;
        file.write_all(data).map_err(fat)?;
        file.flush().map_err(fat)?;
    }
    drop(root_dir);
    fs.unmount().map_err(fat)
}
