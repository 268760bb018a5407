//! The 512-byte footer of a fixed VHD and the CHS geometry it records,
//! per Microsoft's *Virtual Hard Disk Image Format Specification* 1.0.

use super::{
    CREATOR_APP, CREATOR_HOST_OS, CREATOR_VERSION, FOOTER_LEN, FOOTER_TIMESTAMP, SECTOR, VhdError,
};

/// Cylinders, heads and sectors per track, as the VHD footer stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Cylinders.
    pub cylinders: u16,
    /// Heads.
    pub heads: u8,
    /// Sectors per track.
    pub sectors_per_track: u8,
}

impl Geometry {
    /// The geometry of a disk of `size` bytes, by the algorithm in appendix
    /// "CHS Calculation" of the VHD specification.
    pub fn for_size(size: u64) -> Geometry {
        let total = (size / SECTOR).min(65535 * 16 * 255);
        let (spt, heads, cth);
        if total >= 65535 * 16 * 63 {
            (spt, heads) = (255, 16);
            cth = total / spt;
        } else {
            let mut s = 17;
            let mut c = total / s;
            let mut h = c.div_ceil(1024).max(4);
            if c >= h * 1024 || h > 16 {
                (s, h) = (31, 16);
                c = total / s;
            }
            if c >= h * 1024 {
                (s, h) = (63, 16);
                c = total / s;
            }
            (spt, heads, cth) = (s, h, c);
        }
        Geometry {
            cylinders: u16::try_from(cth / heads).unwrap_or(u16::MAX),
            heads: u8::try_from(heads).unwrap_or(u8::MAX),
            sectors_per_track: u8::try_from(spt).unwrap_or(u8::MAX),
        }
    }

    /// Sectors the geometry addresses (cylinders × heads × sectors).
    pub fn sectors(self) -> u64 {
        u64::from(self.cylinders) * u64::from(self.heads) * u64::from(self.sectors_per_track)
    }
}

/// The fields of a VHD footer (all big-endian on disk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footer {
    /// Features (2: the reserved bit, always set).
    pub features: u32,
    /// File format version (0x00010000).
    pub format_version: u32,
    /// Offset of the dynamic header; all ones for a fixed disk.
    pub data_offset: u64,
    /// Creation time, seconds since 2000-01-01 00:00:00 UTC.
    pub timestamp: u32,
    /// Creator application, four bytes.
    pub creator_app: [u8; 4],
    /// Creator version.
    pub creator_version: u32,
    /// Creator host OS, four bytes ("Wi2k" or "Mac ").
    pub creator_host_os: [u8; 4],
    /// Size of the disk at creation, in bytes.
    pub original_size: u64,
    /// Current size of the disk, in bytes.
    pub current_size: u64,
    /// CHS geometry.
    pub geometry: Geometry,
    /// Disk type: 2 fixed, 3 dynamic, 4 differencing.
    pub disk_type: u32,
    /// One's complement of the byte sum of the footer without this field.
    pub checksum: u32,
    /// Unique id of the disk.
    pub unique_id: [u8; 16],
    /// Saved state (1 if the disk is in a saved state).
    pub saved_state: u8,
}

impl Footer {
    /// The footer of a fixed disk of `size` bytes.
    pub(super) fn fixed(size: u64, unique_id: [u8; 16]) -> Footer {
        let mut footer = Footer {
            features: 2,
            format_version: 0x0001_0000,
            data_offset: u64::MAX,
            timestamp: FOOTER_TIMESTAMP,
            creator_app: CREATOR_APP,
            creator_version: CREATOR_VERSION,
            creator_host_os: CREATOR_HOST_OS,
            original_size: size,
            current_size: size,
            geometry: Geometry::for_size(size),
            disk_type: 2,
            checksum: 0,
            unique_id,
            saved_state: 0,
        };
        footer.checksum = checksum(&footer.encode());
        footer
    }

    /// The 512 bytes of the footer, with `checksum` as stored in `self`.
    pub fn encode(&self) -> [u8; FOOTER_LEN] {
        let mut b = [0u8; FOOTER_LEN];
        b[0..8].copy_from_slice(b"conectix");
        b[8..12].copy_from_slice(&self.features.to_be_bytes());
        b[12..16].copy_from_slice(&self.format_version.to_be_bytes());
        b[16..24].copy_from_slice(&self.data_offset.to_be_bytes());
        b[24..28].copy_from_slice(&self.timestamp.to_be_bytes());
        b[28..32].copy_from_slice(&self.creator_app);
        b[32..36].copy_from_slice(&self.creator_version.to_be_bytes());
        b[36..40].copy_from_slice(&self.creator_host_os);
        b[40..48].copy_from_slice(&self.original_size.to_be_bytes());
        b[48..56].copy_from_slice(&self.current_size.to_be_bytes());
        b[56..58].copy_from_slice(&self.geometry.cylinders.to_be_bytes());
        b[58] = self.geometry.heads;
        b[59] = self.geometry.sectors_per_track;
        b[60..64].copy_from_slice(&self.disk_type.to_be_bytes());
        b[64..68].copy_from_slice(&self.checksum.to_be_bytes());
        b[68..84].copy_from_slice(&self.unique_id);
        b[84] = self.saved_state;
        b
    }
}

/// One's complement of the sum of the footer bytes, skipping the checksum.
fn checksum(footer: &[u8; FOOTER_LEN]) -> u32 {
    let sum = footer
        .iter()
        .enumerate()
        .filter(|(i, _)| !(64..68).contains(i))
        .fold(0u32, |sum, (_, b)| sum.wrapping_add(u32::from(*b)));
    !sum
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn be64(b: &[u8], at: usize) -> u64 {
    (u64::from(be32(b, at)) << 32) | u64::from(be32(b, at + 4))
}

/// Reads the footer in the last 512 bytes of a VHD, checking its cookie
/// and checksum.
pub fn read_footer(bytes: &[u8]) -> Result<Footer, VhdError> {
    let bad = |detail: String| VhdError::Footer { detail };
    let Some(start) = bytes.len().checked_sub(FOOTER_LEN) else {
        return Err(bad(format!("{} bytes cannot hold a footer", bytes.len())));
    };
    let b: &[u8; FOOTER_LEN] = bytes[start..]
        .try_into()
        .map_err(|_| bad("the footer is not 512 bytes".into()))?;
    if &b[0..8] != b"conectix" {
        return Err(bad(format!("the cookie is {:?}, not conectix", &b[0..8])));
    }
    let stored = be32(b, 64);
    let computed = checksum(b);
    if stored != computed {
        return Err(bad(format!(
            "the checksum is {stored:#010x}, the bytes sum to {computed:#010x}"
        )));
    }
    let four = |at: usize| [b[at], b[at + 1], b[at + 2], b[at + 3]];
    let mut unique_id = [0u8; 16];
    unique_id.copy_from_slice(&b[68..84]);
    Ok(Footer {
        features: be32(b, 8),
        format_version: be32(b, 12),
        data_offset: be64(b, 16),
        timestamp: be32(b, 24),
        creator_app: four(28),
        creator_version: be32(b, 32),
        creator_host_os: four(36),
        original_size: be64(b, 40),
        current_size: be64(b, 48),
        geometry: Geometry {
            cylinders: u16::from_be_bytes([b[56], b[57]]),
            heads: b[58],
            sectors_per_track: b[59],
        },
        disk_type: be32(b, 60),
        checksum: stored,
        unique_id,
        saved_state: b[84],
    })
}
