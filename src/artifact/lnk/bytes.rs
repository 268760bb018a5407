//! Little-endian integers, UTF-16 and Windows-1252 text: the primitives the
//! shell link writer and reader share.
//!
//! ANSI strings in a shell link are in "the system default code page"; this
//! module assumes Windows-1252 (Western European), the default of the
//! readers chainproof checks against (`lnkinfo`, `lnkparse`).

use super::LnkError;

/// Appends a little-endian `u16`.
pub(super) fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends a little-endian `u32`.
pub(super) fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends a little-endian `u64`.
pub(super) fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends UTF-16LE code units without a terminator.
pub(super) fn put_utf16(out: &mut Vec<u8>, text: &str) {
    for unit in text.encode_utf16() {
        put_u16(out, unit);
    }
}

/// Appends UTF-16LE code units and a 16-bit NUL.
pub(super) fn put_utf16z(out: &mut Vec<u8>, text: &str) {
    put_utf16(out, text);
    put_u16(out, 0);
}

/// Overwrites the little-endian `u16` at `at` (a size filled in late).
pub(super) fn patch_u16(out: &mut [u8], at: usize, value: u16) {
    if let Some(slot) = out.get_mut(at..at + 2) {
        slot.copy_from_slice(&value.to_le_bytes());
    }
}

/// Overwrites the little-endian `u32` at `at`.
pub(super) fn patch_u32(out: &mut [u8], at: usize, value: u32) {
    if let Some(slot) = out.get_mut(at..at + 4) {
        slot.copy_from_slice(&value.to_le_bytes());
    }
}

/// Windows-1252 bytes 0x80 to 0x9F; 0 marks the five undefined bytes.
const CP1252_HIGH: [u16; 32] = [
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
    0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
];

/// Encodes `text` as Windows-1252; characters it lacks become `?`, as
/// `WideCharToMultiByte` without best-fit mapping does.
pub(super) fn cp1252_encode(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| {
            let code = u32::from(c);
            if code < 0x80 || (0xA0..=0xFF).contains(&code) {
                return code as u8;
            }
            CP1252_HIGH
                .iter()
                .position(|&u| u != 0 && u32::from(u) == code)
                .map_or(b'?', |i| 0x80 + i as u8)
        })
        .collect()
}

/// Decodes Windows-1252; the undefined bytes map to the C1 control of the
/// same value, as Windows does.
pub(super) fn cp1252_decode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => match CP1252_HIGH[usize::from(b - 0x80)] {
                0 => char::from(b),
                u => char::from_u32(u32::from(u)).unwrap_or(char::REPLACEMENT_CHARACTER),
            },
            _ => char::from(b),
        })
        .collect()
}

/// Decodes UTF-16 code units, naming `field` in the error.
pub(super) fn decode_utf16(units: &[u16], field: &'static str) -> Result<String, LnkError> {
    String::from_utf16(units).map_err(|_| LnkError::BadUtf16 { field })
}

/// Reads little-endian UTF-16 units from `bytes` (an odd last byte is
/// ignored).
pub(super) fn utf16_units(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect()
}

/// The bytes of the NUL-terminated single-byte string at `offset` in `data`
/// (without the NUL).
pub(super) fn cstr_at<'a>(
    data: &'a [u8],
    offset: usize,
    structure: &'static str,
) -> Result<&'a [u8], LnkError> {
    let rest = data
        .get(offset..)
        .ok_or(LnkError::Truncated { structure, offset })?;
    let end = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or(LnkError::Truncated {
            structure,
            offset: data.len(),
        })?;
    Ok(&rest[..end])
}

/// The UTF-16 units of the NUL-terminated UTF-16LE string at `offset` in
/// `data` (without the NUL).
pub(super) fn wstr_at(
    data: &[u8],
    offset: usize,
    structure: &'static str,
) -> Result<Vec<u16>, LnkError> {
    let rest = data
        .get(offset..)
        .ok_or(LnkError::Truncated { structure, offset })?;
    let units = utf16_units(rest);
    let end = units
        .iter()
        .position(|&u| u == 0)
        .ok_or(LnkError::Truncated {
            structure,
            offset: data.len(),
        })?;
    Ok(units[..end].to_vec())
}

/// A cursor over a byte slice whose reads fail with
/// [`LnkError::Truncated`] naming the structure being read.
pub(super) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    structure: &'static str,
}

impl<'a> Reader<'a> {
    /// Starts at `pos` in `data`, reading `structure`.
    pub(super) fn new(data: &'a [u8], pos: usize, structure: &'static str) -> Self {
        Reader {
            data,
            pos,
            structure,
        }
    }

    /// Names the structure that following reads belong to.
    pub(super) fn reading(&mut self, structure: &'static str) {
        self.structure = structure;
    }

    /// The current offset.
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// The next `len` bytes.
    pub(super) fn take(&mut self, len: usize) -> Result<&'a [u8], LnkError> {
        let slice = self
            .pos
            .checked_add(len)
            .and_then(|end| self.data.get(self.pos..end))
            .ok_or(LnkError::Truncated {
                structure: self.structure,
                offset: self.pos,
            })?;
        self.pos += len;
        Ok(slice)
    }

    /// The next little-endian `u16`.
    pub(super) fn u16(&mut self) -> Result<u16, LnkError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    /// The next little-endian `u32`.
    pub(super) fn u32(&mut self) -> Result<u32, LnkError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}
