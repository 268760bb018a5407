//! The LinkTargetIDList: the target as a shell item ID list (MS-SHLLINK
//! 2.2), laid out as Windows 8.1 and 10 write it (the layouts are those of
//! the "Windows Shell Item format" notes of the libfwsi project):
//!
//! - a root folder item, class type 0x1F, sort index 0x50, CLSID of
//!   "My Computer" (20D04FE0-3AEA-1069-A2D8-08002B30309D), 20 bytes;
//! - a volume item, class type 0x2F (has name), the drive `X:\` in a
//!   20-byte NUL-padded field and two zero bytes, 25 bytes;
//! - per path component a file entry item: class type 0x31 (directory) or
//!   0x32 (file), a zero byte, file size (0), modification FAT date and
//!   time, the low 16 bits of the file attributes, the short (8.3) name in
//!   ASCII with its NUL padded to an even length, then a file entry
//!   extension block 0xBEEF0004 version 9: size, version, signature,
//!   creation and access FAT date and time, identifier 0x2E, two zero bytes,
//!   NTFS file reference (0), eight unknown zero bytes, long string size (0:
//!   no localized name), eight zero bytes, the long name in UTF-16LE with
//!   its NUL, and the offset of the block within the item;
//! - the TerminalID, a zero `u16`.
//!
//! [`parse`] walks such a list back to a path, taking each component's
//! long name from its 0xBEEF0004 block (versions 3 to 9) or, failing that,
//! its primary name.

use super::LnkError;
use super::bytes::{
    cp1252_decode, cstr_at, decode_utf16, patch_u16, put_u16, put_u32, put_u64, put_utf16z,
    utf16_units, wstr_at,
};

/// The CLSID of "My Computer", in its on-disk (mixed-endian) byte order.
const MY_COMPUTER: [u8; 16] = [
    0xE0, 0x4F, 0xD0, 0x20, 0xEA, 0x3A, 0x69, 0x10, 0xA2, 0xD8, 0x08, 0x00, 0x2B, 0x30, 0x30, 0x9D,
];

/// FAT date of 2024-01-01: (2024 - 1980) << 9 | 1 << 5 | 1.
const FAT_DATE: u16 = (44 << 9) | (1 << 5) | 1;
/// FAT time of 00:00:00.
const FAT_TIME: u16 = 0;

/// Longest path component (NTFS limit, in UTF-16 units).
const MAX_COMPONENT: usize = 255;
/// Longest target (MAX_PATH less the NUL, in UTF-16 units).
pub(super) const MAX_TARGET: usize = 259;

/// Characters Windows forbids in a file name (besides controls).
const FORBIDDEN: &[char] = &['<', '>', ':', '"', '/', '\\', '|', '?', '*'];

/// A validated absolute drive path: `X:\a\b\c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DrivePath {
    /// Upper-case drive letter.
    drive: char,
    /// The components after `X:\`, at least one.
    components: Vec<String>,
}

impl DrivePath {
    /// Checks that `target` is `X:\` and one or more valid components.
    pub(super) fn parse(target: &str) -> Result<DrivePath, LnkError> {
        let fail = |reason| LnkError::Target {
            target: target.to_owned(),
            reason,
        };
        let mut chars = target.chars();
        let (Some(drive), Some(':'), Some('\\')) = (chars.next(), chars.next(), chars.next())
        else {
            return Err(fail(
                "it is not an absolute drive path like C:\\dir\\file.exe",
            ));
        };
        if !drive.is_ascii_alphabetic() {
            return Err(fail("the drive is not a letter a to z"));
        }
        if target.encode_utf16().count() > MAX_TARGET {
            return Err(fail("it is longer than 259 utf-16 units (max_path)"));
        }
        let rest = chars.as_str();
        if rest.is_empty() {
            return Err(fail("it names a drive, not a file"));
        }
        let mut components = Vec::new();
        for part in rest.split('\\') {
            if part.is_empty() {
                return Err(fail("it has an empty component (a doubled or trailing \\)"));
            }
            if part == "." || part == ".." {
                return Err(fail("it has a . or .. component"));
            }
            if part.ends_with('.') || part.ends_with(' ') {
                return Err(fail("a component ends with a dot or space"));
            }
            if part.chars().any(|c| c < ' ' || FORBIDDEN.contains(&c)) {
                return Err(fail(
                    "a component holds a control character or one of < > : \" / | ? *",
                ));
            }
            if part.encode_utf16().count() > MAX_COMPONENT {
                return Err(fail("a component is longer than 255 utf-16 units"));
            }
            components.push(part.to_owned());
        }
        Ok(DrivePath {
            drive: drive.to_ascii_uppercase(),
            components,
        })
    }
}

/// Builds the LinkTargetIDList (IDListSize, items, TerminalID) for `path`;
/// the last component is the file, the others are directories.
pub(super) fn build(path: &DrivePath) -> Result<Vec<u8>, LnkError> {
    let mut list = Vec::with_capacity(64 + 128 * path.components.len());
    put_u16(&mut list, 0); // IDListSize, patched below
    put_u16(&mut list, 0x14);
    list.extend_from_slice(&[0x1F, 0x50]);
    list.extend_from_slice(&MY_COMPUTER);

    put_u16(&mut list, 0x19);
    list.push(0x2F);
    let mut volume = [0u8; 22];
    volume[..3].copy_from_slice(&[path.drive as u8, b':', b'\\']);
    list.extend_from_slice(&volume);

    let last = path.components.len().saturating_sub(1);
    for (i, name) in path.components.iter().enumerate() {
        file_entry(&mut list, name, i < last);
    }
    put_u16(&mut list, 0); // TerminalID
    let size = u16::try_from(list.len() - 2).map_err(|_| LnkError::TooLarge {
        structure: "link target id list",
    })?;
    patch_u16(&mut list, 0, size);
    Ok(list)
}

/// Appends one file entry shell item for `name`.
fn file_entry(out: &mut Vec<u8>, name: &str, directory: bool) {
    let start = out.len();
    put_u16(out, 0); // item size, patched below
    out.push(if directory { 0x31 } else { 0x32 });
    out.push(0);
    put_u32(out, 0); // file size
    put_u16(out, FAT_DATE);
    put_u16(out, FAT_TIME);
    put_u16(out, if directory { 0x10 } else { 0x20 });
    out.extend_from_slice(short_name(name).as_bytes());
    out.push(0);
    if (out.len() - start) % 2 == 1 {
        out.push(0);
    }

    let ext = out.len();
    let ext_offset = (ext - start) as u16;
    put_u16(out, 0); // extension size, patched below
    put_u16(out, 9); // extension version (Windows 8.1, 10)
    put_u32(out, 0xBEEF_0004);
    for _ in 0..2 {
        // creation, then last access
        put_u16(out, FAT_DATE);
        put_u16(out, FAT_TIME);
    }
    put_u16(out, 0x2E);
    put_u16(out, 0);
    put_u64(out, 0); // NTFS file reference
    put_u64(out, 0);
    put_u16(out, 0); // long string size: no localized name
    put_u32(out, 0);
    put_u32(out, 0);
    put_utf16z(out, name);
    put_u16(out, ext_offset);

    // A component is at most 255 units, so both sizes fit in a u16.
    let ext_size = (out.len() - ext) as u16;
    patch_u16(out, ext, ext_size);
    let item_size = (out.len() - start) as u16;
    patch_u16(out, start, item_size);
}

/// Characters allowed in a short (8.3) name besides ASCII letters and digits.
const SHORT_EXTRA: &str = "!#$%&'()-@^_`{}~";

/// Whether `c` may appear in a short name.
fn short_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || SHORT_EXTRA.contains(c)
}

/// The short name Windows would store for `long`: `long` itself when it is
/// a valid 8.3 name, else an upper-case `BASE~1.EXT` (the `~1` cannot know
/// about siblings, so it is "8.3-ish").
pub(super) fn short_name(long: &str) -> String {
    let (base, ext) = match long.rfind('.') {
        Some(i) if i > 0 => (&long[..i], &long[i + 1..]),
        _ => (long, ""),
    };
    let valid = |s: &str, max: usize| s.chars().count() <= max && s.chars().all(short_char);
    if !base.is_empty() && valid(base, 8) && valid(ext, 3) {
        return long.to_owned();
    }
    let clean = |s: &str, max: usize| -> String {
        s.chars()
            .filter(|&c| c != ' ' && c != '.')
            .map(|c| {
                if short_char(c) {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .take(max)
            .collect()
    };
    let mut base = clean(base, 6);
    if base.is_empty() {
        base.push('_');
    }
    let ext = clean(ext, 3);
    if ext.is_empty() {
        format!("{base}~1")
    } else {
        format!("{base}~1.{ext}")
    }
}

/// Walks an IDList (the bytes after IDListSize) back to a drive path.
///
/// Returns `Ok(None)` when the list does not name a file system path
/// through a volume item (for example a Control Panel item); fails only
/// when an item overruns the list.
pub(super) fn parse(list: &[u8]) -> Result<Option<String>, LnkError> {
    const STRUCTURE: &str = "link target id list";
    let mut path: Option<String> = None;
    let mut pos = 0;
    while let Some(size_bytes) = list.get(pos..pos + 2) {
        let size = usize::from(u16::from_le_bytes([size_bytes[0], size_bytes[1]]));
        if size == 0 {
            return Ok(path);
        }
        let item = list
            .get(pos..pos + size)
            .filter(|_| size >= 3)
            .ok_or(LnkError::Truncated {
                structure: STRUCTURE,
                offset: pos,
            })?;
        pos += size;
        let class = item[2];
        match (class, class & 0x70, &mut path) {
            (0x1F, _, _) => {}
            (_, 0x20, _) if class & 0x01 != 0 => {
                let field = &item[..item.len().min(23)];
                let name = cstr_at(field, 3, STRUCTURE)?;
                let mut volume = cp1252_decode(name);
                if !volume.ends_with('\\') {
                    volume.push('\\');
                }
                path = Some(volume);
            }
            (_, 0x30, Some(dir)) => {
                if !dir.ends_with('\\') {
                    dir.push('\\');
                }
                dir.push_str(&entry_name(item)?);
            }
            _ => return Ok(None),
        }
    }
    Err(LnkError::Truncated {
        structure: STRUCTURE,
        offset: pos,
    })
}

/// The long name of a file entry item, or its primary name.
fn entry_name(item: &[u8]) -> Result<String, LnkError> {
    const STRUCTURE: &str = "file entry shell item";
    if let Some(name) = long_name(item)? {
        return Ok(name);
    }
    if item[2] & 0x04 != 0 {
        decode_utf16(&wstr_at(item, 14, STRUCTURE)?, "file entry name")
    } else {
        Ok(cp1252_decode(cstr_at(item, 14, STRUCTURE)?))
    }
}

/// The long name from the item's 0xBEEF0004 block, found through the
/// offset in the item's last two bytes.
fn long_name(item: &[u8]) -> Result<Option<String>, LnkError> {
    let Some(tail) = item.len().checked_sub(2).and_then(|at| item.get(at..)) else {
        return Ok(None);
    };
    let offset = usize::from(u16::from_le_bytes([tail[0], tail[1]]));
    let Some(block) = item.get(offset..item.len() - 2).filter(|_| offset >= 14) else {
        return Ok(None);
    };
    if block.len() < 8 || block[4..8] != 0xBEEF_0004u32.to_le_bytes() {
        return Ok(None);
    }
    let name_at = match u16::from_le_bytes([block[2], block[3]]) {
        3..=6 => 20,
        7 => 38,
        8 => 42,
        _ => 46,
    };
    let Some(rest) = block.get(name_at..) else {
        return Ok(None);
    };
    let units = utf16_units(rest);
    match units.iter().position(|&u| u == 0) {
        Some(end) => decode_utf16(&units[..end], "file entry long name").map(Some),
        None => Ok(None),
    }
}
