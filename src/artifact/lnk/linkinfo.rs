//! The LinkInfo structure (MS-SHLLINK 2.3): where the target lives, as a
//! volume and a local base path (or, read only, a network share).
//!
//! [`build`] writes VolumeIDAndLocalBasePath: a VolumeID for a fixed drive
//! (DriveType 3, a constant serial number, an empty label), the target as
//! the LocalBasePath in Windows-1252 and an empty CommonPathSuffix. When the
//! target is not ASCII, the header grows to 0x24 bytes and the target is
//! also written as LocalBasePathUnicode (the ANSI copy then holds `?` for
//! characters Windows-1252 lacks), with an empty CommonPathSuffixUnicode.

use super::LnkError;
use super::bytes::{
    Reader, cp1252_decode, cp1252_encode, cstr_at, decode_utf16, patch_u32, put_u16, put_u32,
    put_utf16z, wstr_at,
};

/// LinkInfoFlags: VolumeID and LocalBasePath are present.
const VOLUME_ID_AND_LOCAL_BASE_PATH: u32 = 0x1;
/// LinkInfoFlags: CommonNetworkRelativeLink is present.
const COMMON_NETWORK_RELATIVE_LINK: u32 = 0x2;
/// DriveType DRIVE_FIXED.
const DRIVE_FIXED: u32 = 3;
/// The constant DriveSerialNumber every shortcut carries.
pub(super) const DRIVE_SERIAL: u32 = 0xC4A1_0E5D;

/// Builds the LinkInfo structure for `target` (already validated).
pub(super) fn build(target: &str) -> Vec<u8> {
    let unicode = !target.is_ascii();
    let header_size: u32 = if unicode { 0x24 } else { 0x1C };
    let mut out = Vec::with_capacity(64 + 3 * target.len());
    put_u32(&mut out, 0); // LinkInfoSize, patched below
    put_u32(&mut out, header_size);
    put_u32(&mut out, VOLUME_ID_AND_LOCAL_BASE_PATH);
    while out.len() < header_size as usize {
        put_u32(&mut out, 0); // offsets, patched below
    }

    let volume_id = out.len() as u32;
    put_u32(&mut out, 0x11); // VolumeIDSize: 16 bytes and the label's NUL
    put_u32(&mut out, DRIVE_FIXED);
    put_u32(&mut out, DRIVE_SERIAL);
    put_u32(&mut out, 0x10); // VolumeLabelOffset
    out.push(0); // empty label

    let local = out.len() as u32;
    out.extend_from_slice(&cp1252_encode(target));
    out.push(0);
    let suffix = out.len() as u32;
    out.push(0);

    patch_u32(&mut out, 12, volume_id);
    patch_u32(&mut out, 16, local);
    // 20: CommonNetworkRelativeLinkOffset stays 0.
    patch_u32(&mut out, 24, suffix);
    if unicode {
        if out.len() % 2 == 1 {
            out.push(0);
        }
        let local_unicode = out.len() as u32;
        put_utf16z(&mut out, target);
        let suffix_unicode = out.len() as u32;
        put_u16(&mut out, 0);
        // LnkParse3 1.6 reads CommonPathSuffixUnicode 4 bytes past its
        // offset; zeros there keep it from reading the StringData.
        put_u32(&mut out, 0);
        patch_u32(&mut out, 28, local_unicode);
        patch_u32(&mut out, 32, suffix_unicode);
    }
    let size = out.len() as u32;
    patch_u32(&mut out, 0, size);
    out
}

/// Reads the target path from a LinkInfo structure (`info` is exactly
/// LinkInfoSize bytes): LocalBasePath (Unicode if present) followed by
/// CommonPathSuffix, or a network share name joined with the suffix.
/// `Ok(None)` when neither is present.
pub(super) fn read(info: &[u8]) -> Result<Option<String>, LnkError> {
    const STRUCTURE: &str = "link info";
    let mut r = Reader::new(info, 0, STRUCTURE);
    let _size = r.u32()?;
    let header_size = r.u32()?;
    let flags = r.u32()?;
    let _volume_id = r.u32()?;
    let local = r.u32()? as usize;
    let network = r.u32()? as usize;
    let suffix = r.u32()? as usize;
    let (local_unicode, suffix_unicode) = if header_size >= 0x24 {
        (r.u32()? as usize, r.u32()? as usize)
    } else {
        (0, 0)
    };

    let suffix_text = if suffix_unicode != 0 {
        decode_utf16(
            &wstr_at(info, suffix_unicode, STRUCTURE)?,
            "common path suffix",
        )?
    } else if suffix != 0 {
        cp1252_decode(cstr_at(info, suffix, STRUCTURE)?)
    } else {
        String::new()
    };

    if flags & VOLUME_ID_AND_LOCAL_BASE_PATH != 0 {
        let mut base = if local_unicode != 0 {
            decode_utf16(&wstr_at(info, local_unicode, STRUCTURE)?, "local base path")?
        } else {
            cp1252_decode(cstr_at(info, local, STRUCTURE)?)
        };
        base.push_str(&suffix_text);
        return Ok(Some(base));
    }
    if flags & COMMON_NETWORK_RELATIVE_LINK != 0 && network != 0 {
        const NETWORK: &str = "common network relative link";
        let link = info.get(network..).ok_or(LnkError::Truncated {
            structure: STRUCTURE,
            offset: network,
        })?;
        let mut r = Reader::new(link, 0, NETWORK);
        let _size = r.u32()?;
        let _flags = r.u32()?;
        let net_name = r.u32()? as usize;
        let _device_name = r.u32()?;
        let _provider = r.u32()?;
        let mut share = if net_name > 0x14 {
            let net_name_unicode = r.u32()? as usize;
            decode_utf16(&wstr_at(link, net_name_unicode, NETWORK)?, "net name")?
        } else {
            cp1252_decode(cstr_at(link, net_name, NETWORK)?)
        };
        if !suffix_text.is_empty() {
            share.push('\\');
            share.push_str(&suffix_text);
        }
        return Ok(Some(share));
    }
    Ok(None)
}
