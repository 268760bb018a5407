//! The FAT16 volume inside a disk image, with folders (an `.app` bundle is
//! three levels deep), formatted and filled in memory with `fatfs`.
//!
//! The VHD builder's FAT writer keeps every file in the root directory;
//! this one creates the folders a path names. Both pin the same instant.

use std::io::{Cursor, Write};

use fatfs::{Date, DateTime, FileSystem, FormatVolumeOptions, FsOptions, Time, TimeProvider};

use super::{DmgError, DmgFile};
use crate::artifact::vhd;

/// 2024-04-17 09:00:00, the instant every other builder pins.
#[derive(Debug)]
struct Pinned;

const DATE: Date = Date {
    year: 2024,
    month: 4,
    day: 17,
};

impl TimeProvider for Pinned {
    fn get_current_date(&self) -> Date {
        DATE
    }

    fn get_current_date_time(&self) -> DateTime {
        DateTime {
            date: DATE,
            time: Time {
                hour: 9,
                min: 0,
                sec: 0,
                millis: 0,
            },
        }
    }
}

static PINNED: Pinned = Pinned;

/// Checks the label and the paths before anything is allocated.
fn check(label: &str, files: &[DmgFile]) -> Result<(), DmgError> {
    let bad = |name: &str, reason| {
        Err(DmgError::Name {
            name: name.to_string(),
            reason,
        })
    };
    if label.is_empty() || label.len() > 11 {
        return bad(label, "a fat label has 1 to 11 characters");
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"_-".contains(&b))
    {
        return bad(label, "a fat label uses only A-Z 0-9 _ -");
    }
    for f in files {
        let parts: Vec<&str> = f.path.split('/').collect();
        let allowed = |c: char| {
            c.is_ascii_alphanumeric()
                || ('\u{80}'..='\u{ffff}').contains(&c)
                || "$%'-_@~`!(){}.,;=[]^#&+ ".contains(c)
        };
        for part in parts {
            if part.is_empty() || part.len() > 255 || part == "." || part == ".." {
                return bad(
                    &f.path,
                    "each part of a path has 1 to 255 bytes and is not . or ..",
                );
            }
            if !part.chars().all(allowed) || part.ends_with(['.', ' ']) {
                return bad(
                    &f.path,
                    "a path part holds a character fat long names cannot",
                );
            }
        }
        if u32::try_from(f.data.len()).is_err() {
            return bad(&f.path, "fat files hold at most 4 GiB - 1 bytes");
        }
    }
    Ok(())
}

/// A FAT16 volume labelled `label` holding `files`, sized to fit them
/// (at least 8 MiB, where fatfs stops making FAT12).
pub(super) fn volume(label: &str, files: &[DmgFile]) -> Result<Vec<u8>, DmgError> {
    check(label, files)?;
    let data: u64 = files.iter().map(|f| f.data.len() as u64).sum();
    // Whole clusters (at most 8 KiB at these sizes) per file and folder,
    // the two FATs, and a MiB to spare.
    let wanted = data + data / 32 + files.len() as u64 * 4 * 8192 + (1 << 20);
    let size = vhd::MIN_FAT_BYTES.max(wanted.div_ceil(1 << 20) << 20);
    let mut buf = vec![0u8; usize::try_from(size).unwrap_or(usize::MAX)];
    let fat = |source| DmgError::Fat { source };
    let mut label_bytes = [b' '; 11];
    label_bytes[..label.len()].copy_from_slice(label.as_bytes());
    let options = FormatVolumeOptions::new()
        .volume_id(vhd::VOLUME_ID)
        .volume_label(label_bytes);
    fatfs::format_volume(Cursor::new(&mut buf[..]), options).map_err(fat)?;
    write_label_entry(&mut buf, &label_bytes);
    let fs = FileSystem::new(
        Cursor::new(&mut buf[..]),
        FsOptions::new().time_provider(&PINNED),
    )
    .map_err(fat)?;
    {
        let root = fs.root_dir();
        for f in files {
            let mut parent = String::new();
            let parts: Vec<&str> = f.path.split('/').collect();
            for part in &parts[..parts.len() - 1] {
                if !parent.is_empty() {
                    parent.push('/');
                }
                parent.push_str(part);
                root.create_dir(&parent).map_err(fat)?;
            }
            let mut file = root.create_file(&f.path).map_err(fat)?;
            file.truncate().map_err(fat)?;
            file.write_all(&f.data).map_err(fat)?;
            file.flush().map_err(fat)?;
        }
    }
    fs.unmount().map_err(fat)?;
    drop_dot_long_names(&mut buf);
    Ok(buf)
}

fn le16(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

/// fatfs 0.3 writes a long-name entry before each `.` and `..` entry of a
/// new folder; the FAT specification wants `.` and `..` as a folder's
/// first two entries, and 7-Zip reports the image's headers as broken
/// otherwise. This walks the tree from the root and moves the dot entries
/// to the front, marking the two freed slots deleted. Only a folder's first
/// cluster is looked at: the dot entries are there, and the folders made
/// here (a bundle's) fit in one.
fn drop_dot_long_names(buf: &mut [u8]) {
    let cluster_bytes = usize::from(buf[13]) * vhd::SECTOR as usize;
    let root = (le16(buf, 14) + usize::from(buf[16]) * le16(buf, 22)) * vhd::SECTOR as usize;
    let root_len = le16(buf, 17) * 32;
    let data = root + root_len;
    let mut pending = subfolders(&buf[root..root + root_len]);
    while let Some(cluster) = pending.pop() {
        let Some(at) = cluster
            .checked_sub(2)
            .map(|n| data + n * cluster_bytes)
            .filter(|at| at + cluster_bytes <= buf.len())
        else {
            continue;
        };
        let dir = &mut buf[at..at + cluster_bytes];
        let is = |d: &[u8], i: usize, name: &[u8; 11]| d[i * 32..i * 32 + 11] == *name;
        if dir[11] == 0x0F
            && is(dir, 1, b".          ")
            && dir[2 * 32 + 11] == 0x0F
            && is(dir, 3, b"..         ")
        {
            let mut fixed = Vec::with_capacity(cluster_bytes);
            fixed.extend_from_slice(&dir[32..64]);
            fixed.extend_from_slice(&dir[96..]);
            fixed.extend_from_slice(&[0u8; 64]);
            // A full first cluster may continue in the next one: the freed
            // slots are then deleted (0xE5), not the end of the folder (0x00).
            if dir[cluster_bytes - 32] != 0 {
                fixed[cluster_bytes - 64] = 0xE5;
                fixed[cluster_bytes - 32] = 0xE5;
            }
            dir.copy_from_slice(&fixed);
        }
        pending.extend(subfolders(dir));
    }
}

/// First clusters of the folders listed in a directory region (not `.`,
/// `..`, long-name or deleted entries); stops at the end marker.
fn subfolders(region: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    for entry in region.chunks_exact(32) {
        match entry[0] {
            0x00 => break,
            0xE5 | b'.' => continue,
            _ => {}
        }
        if entry[11] != 0x0F && entry[11] & 0x10 != 0 {
            out.push(le16(entry, 26));
        }
    }
    out
}

/// Writes the label as the root directory's first entry too: fatfs puts it
/// only in the boot sector, and macOS and Windows read this entry.
fn write_label_entry(buf: &mut [u8], label: &[u8; 11]) {
    // FAT16 (what these sizes give): reserved sectors + FATs × FAT size.
    let root = (le16(buf, 14) + usize::from(buf[16]) * le16(buf, 22)) * vhd::SECTOR as usize;
    if let Some(entry) = buf.get_mut(root..root + 32) {
        entry[..11].copy_from_slice(label);
        entry[11] = 0x08;
        // 09:00:00 on 2024-04-17 as DOS time and date words.
        entry[22..24].copy_from_slice(&(9u16 << 11).to_le_bytes());
        entry[24..26].copy_from_slice(&(((2024u16 - 1980) << 9) | (4 << 5) | 17).to_le_bytes());
    }
}
