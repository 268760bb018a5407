//! Disk images Windows mounts with a double click (`Mount-DiskImage`): a
//! fixed VHD holding an MBR disk with one FAT partition, the stage program
//! in its root directory.
//!
//! Three layers, each usable alone: [`fat_image`] formats a FAT16/FAT32
//! volume in memory with the `fatfs` crate; [`mbr_disk`] puts a partition at
//! LBA 2048 behind a master boot record; [`fixed_vhd`] appends the 512-byte
//! footer of Microsoft's *Virtual Hard Disk Image Format Specification*
//! (version 1.0). [`vhd_with_files`] does all three in one buffer, sized to
//! fit the files.
//!
//! Output is deterministic: the FAT volume id, the MBR disk signature and
//! the footer timestamp are constants, every FAT timestamp is 2024-04-17
//! 09:00:00 (the instant [`crate::artifact::iso::PINNED_UNIX_TIME`] pins),
//! and the VHD's unique id is derived from a SHA-256 of the disk.
//!
//! The footer's creator application is `cpf `. Windows and qemu take the
//! disk size from the footer's current size; Virtual PC (and qemu, for
//! images whose creator is `vpc ` or `qemu`) from the CHS geometry, which
//! the spec's algorithm rounds down. So [`vhd_with_files`] picks a disk size
//! whose geometry is exact and every reader agrees on it; [`fixed_vhd`]
//! keeps the size it is given.

mod fat;
mod footer;
#[cfg(test)]
mod tests;

pub use fat::fat_image;
pub use footer::{Footer, Geometry, read_footer};
use sha2::{Digest, Sha256};

/// Bytes in a sector (of the disk and of the FAT volume).
pub const SECTOR: u64 = 512;
/// First sector of the partition [`mbr_disk`] writes (1 MiB alignment).
pub const PARTITION_START_LBA: u32 = 2048;
/// The MBR disk signature (bytes 440..444), pinned.
pub const DISK_SIGNATURE: u32 = 0x4346_5043;
/// The FAT volume serial number, pinned.
pub const VOLUME_ID: u32 = 0x2024_0417;
/// Smallest FAT volume [`fat_image`] makes (anything smaller would be FAT12).
pub const MIN_FAT_BYTES: u64 = 8 << 20;
/// Largest FAT volume [`fat_image`] makes (it is built in memory).
pub const MAX_FAT_BYTES: u64 = 4 << 30;
/// The footer's creator application: `win `, what Windows' own disk tools
/// (Disk Management, `diskpart`, `New-VHD`) write. The VHD specification
/// lists `vpc ` and `vs  ` for Virtual PC and Virtual Server; a value naming
/// this harness would be a fingerprint a rule could learn.
pub const CREATOR_APP: [u8; 4] = *b"win ";
/// The footer's creator version: 10.0, Windows 10's version number (the
/// field holds the creating application's major and minor version).
pub const CREATOR_VERSION: u32 = 0x000A_0000;
/// The footer's creator host OS, Windows.
pub const CREATOR_HOST_OS: [u8; 4] = *b"Wi2k";
/// Seconds between the Unix epoch and the VHD epoch (2000-01-01 00:00 UTC).
pub const VHD_EPOCH_UNIX: i64 = 946_684_800;
/// The footer timestamp: [`crate::artifact::iso::PINNED_UNIX_TIME`] in VHD time.
pub const FOOTER_TIMESTAMP: u32 = (crate::artifact::iso::PINNED_UNIX_TIME - VHD_EPOCH_UNIX) as u32;

/// Bytes in a VHD footer.
const FOOTER_LEN: usize = 512;
const PARTITION_OFFSET: usize = PARTITION_START_LBA as usize * SECTOR as usize;
const FAT16_LBA: u8 = 0x0E;
const FAT32_LBA: u8 = 0x0C;

/// Why a disk image could not be built or read.
///
/// Messages are lowercase fragments that read after "failed to".
#[derive(Debug, thiserror::Error)]
pub enum VhdError {
    /// The volume label cannot be stored.
    #[error("use {label:?} as the fat volume label: {reason}")]
    Label {
        /// The rejected label.
        label: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A file name or size cannot be stored on the volume.
    #[error("store {name:?} on the fat volume: {reason}")]
    File {
        /// The file name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The volume size is not one a FAT16/FAT32 volume can have.
    #[error("make a fat volume of {size} bytes: {reason}")]
    Size {
        /// The requested size in bytes.
        size: u64,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The files do not fit on the volume.
    #[error("fit {needed} bytes of files in {available} free bytes of the fat volume")]
    NoSpace {
        /// Bytes the files take, in whole clusters.
        needed: u64,
        /// Free bytes on the freshly formatted volume.
        available: u64,
    },
    /// The FAT16 root directory cannot hold this many names.
    #[error("list {needed} directory entries in a root directory of {capacity}")]
    RootDirectoryFull {
        /// Entries the files and the label need.
        needed: u64,
        /// Entries the root directory holds.
        capacity: u64,
    },
    /// The fatfs crate failed.
    #[error("write the fat volume")]
    Fat {
        /// Error from fatfs.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a disk a VHD footer can describe.
    #[error("wrap a disk of {size} bytes in a vhd: {reason}")]
    Disk {
        /// Size of the disk in bytes.
        size: u64,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The footer could not be read back.
    #[error("read the vhd footer: {detail}")]
    Footer {
        /// What was missing or malformed.
        detail: String,
    },
}

/// A UUID (RFC 9562 version 8) made of the SHA-256 of the disk.
fn unique_id(disk: &[u8]) -> [u8; 16] {
    let digest = Sha256::digest(disk);
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    id[6] = (id[6] & 0x0f) | 0x80;
    id[8] = (id[8] & 0x3f) | 0x80;
    id
}

/// Wraps a raw disk in a fixed VHD: the disk, zero-padded to a whole number
/// of sectors, then the footer (timestamp pinned, unique id from the disk's
/// SHA-256). The size is kept as given; see the module notes on geometry.
pub fn fixed_vhd(disk: &[u8]) -> Result<Vec<u8>, VhdError> {
    let size = (disk.len() as u64).div_ceil(SECTOR) * SECTOR;
    // The spec's geometry stops at 65535 × 16 × 255 sectors (about 127 GiB).
    if size == 0 || size > 65535 * 16 * 255 * SECTOR {
        return Err(VhdError::Disk {
            size,
            reason: "the size must be 1 sector to 127 GiB",
        });
    }
    let mut out = Vec::with_capacity(size as usize + FOOTER_LEN);
    out.extend_from_slice(disk);
    out.resize(size as usize, 0);
    let footer = Footer::fixed(size, unique_id(&out)).encode();
    out.extend_from_slice(&footer);
    Ok(out)
}

/// A disk with a master boot record and `partition` as its one primary
/// partition, starting at LBA [`PARTITION_START_LBA`] and padded to whole
/// sectors.
///
/// The partition type is 0x0C (FAT32, LBA) when the partition's boot sector
/// is FAT32's, else 0x0E (FAT16, LBA). The disk signature is
/// [`DISK_SIGNATURE`]; no boot code, not marked active. A FAT boot sector
/// gets its hidden-sectors field set to the partition's start, as the FAT
/// specification asks.
pub fn mbr_disk(partition: &[u8]) -> Vec<u8> {
    let sectors = (partition.len() as u64).div_ceil(SECTOR);
    let mut disk = vec![0u8; PARTITION_OFFSET + (sectors * SECTOR) as usize];
    disk[PARTITION_OFFSET..PARTITION_OFFSET + partition.len()].copy_from_slice(partition);
    finish_mbr(&mut disk);
    disk
}

/// Writes the MBR in the first sector of `disk` (partition = the rest) and
/// patches the partition's hidden-sectors field.
fn finish_mbr(disk: &mut [u8]) {
    let (mbr, part) = disk.split_at_mut(PARTITION_OFFSET);
    let sectors = u32::try_from(part.len() as u64 / SECTOR).unwrap_or(u32::MAX);
    let kind = if fat::is_fat32(part) {
        FAT32_LBA
    } else {
        FAT16_LBA
    };
    fat::set_hidden_sectors(part, PARTITION_START_LBA);
    let last = PARTITION_START_LBA.saturating_add(sectors.saturating_sub(1));
    mbr[440..444].copy_from_slice(&DISK_SIGNATURE.to_le_bytes());
    let entry = &mut mbr[446..462];
    entry[0] = 0x00;
    entry[1..4].copy_from_slice(&chs(PARTITION_START_LBA));
    entry[4] = kind;
    entry[5..8].copy_from_slice(&chs(last));
    entry[8..12].copy_from_slice(&PARTITION_START_LBA.to_le_bytes());
    entry[12..16].copy_from_slice(&sectors.to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
}

/// The CHS address of `lba` in an MBR entry (255 heads, 63 sectors; past
/// cylinder 1023 the conventional 1023/254/63).
fn chs(lba: u32) -> [u8; 3] {
    let cylinder = lba / (255 * 63);
    if cylinder > 1023 {
        return [0xFE, 0xFF, 0xFF];
    }
    let head = (lba / 63) % 255;
    let sector = lba % 63 + 1;
    [
        head as u8,
        (sector as u8) | (((cylinder >> 2) & 0xC0) as u8),
        (cylinder & 0xFF) as u8,
    ]
}

/// The smallest sector count at or above `sectors` that the VHD geometry
/// addresses exactly (so CHS-based readers see the whole disk).
fn exact_geometry_sectors(sectors: u64) -> u64 {
    (sectors..sectors + 1_000_000)
        .find(|n| Geometry::for_size(n * SECTOR).sectors() == *n)
        .unwrap_or(sectors)
}

/// A fixed VHD holding an MBR disk whose FAT partition holds `files` in its
/// root directory: the same bytes as [`fat_image`], [`mbr_disk`] and
/// [`fixed_vhd`] in turn, built in one buffer.
///
/// The partition is the smallest that fits the files (at least
/// [`MIN_FAT_BYTES`]), grown so the disk's CHS geometry is exact.
pub fn vhd_with_files(label: &str, files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, VhdError> {
    fat::check_inputs(label, files)?;
    let data: u64 = files.iter().map(|(_, d)| d.len() as u64).sum();
    // Files in whole clusters, plus the FATs, plus room to spare.
    let mut wanted = data + data / 64 + files.len() as u64 * 4096 + (1 << 20);
    for _ in 0..8 {
        let part = MIN_FAT_BYTES.max(wanted.div_ceil(1 << 20) << 20);
        let disk_sectors = exact_geometry_sectors(u64::from(PARTITION_START_LBA) + part / SECTOR);
        let disk_len = disk_sectors * SECTOR;
        fat::check_size(disk_len - PARTITION_OFFSET as u64)?;
        let disk_len = disk_len as usize;
        let mut out = vec![0u8; disk_len + FOOTER_LEN];
        match fat::format_into(&mut out[PARTITION_OFFSET..disk_len], label, files) {
            Ok(()) => {}
            Err(VhdError::NoSpace { needed, available }) => {
                wanted = (disk_len - PARTITION_OFFSET) as u64 + (needed - available);
                continue;
            }
            Err(e) => return Err(e),
        }
        finish_mbr(&mut out[..disk_len]);
        let footer = Footer::fixed(disk_len as u64, unique_id(&out[..disk_len])).encode();
        out[disk_len..].copy_from_slice(&footer);
        return Ok(out);
    }
    Err(VhdError::Size {
        size: wanted,
        reason: "no size tried fits the files",
    })
}
