//! Windows shortcuts (`.lnk`, the Shell Link Binary File Format of
//! [MS-SHLLINK]), the file a user double-clicks in many T1204.002 lures.
//!
//! [`build`] writes, in the specification's order:
//!
//! 1. the ShellLinkHeader: HeaderSize 0x4C, LinkCLSID
//!    00021401-0000-0000-C000-000000000046, LinkFlags, FileAttributes
//!    `ARCHIVE`, the three FILETIMEs pinned to 2024-01-01T00:00:00Z
//!    ([`PINNED_FILETIME`]), FileSize (the target's), IconIndex, ShowCommand, HotKey 0;
//! 2. a LinkTargetIDList a shell can resolve: My Computer, the volume, then
//!    one file entry item per path component with its 8.3 name and its
//!    long name in a 0xBEEF0004 extension block (see the private `idlist`
//!    module);
//! 3. a LinkInfo with VolumeIDAndLocalBasePath (a fixed drive, the target
//!    as LocalBasePath, and as LocalBasePathUnicode when it is not ASCII);
//! 4. StringData in UTF-16LE, each string a `u16` character count and the
//!    characters: NAME_STRING (the description), WORKING_DIR,
//!    COMMAND_LINE_ARGUMENTS, ICON_LOCATION, each present only when
//!    non-empty (RELATIVE_PATH is never written);
//! 5. ExtraData: an IconEnvironmentDataBlock (signature 0xA0000007, flag
//!    HasExpIcon) when the icon location holds a `%VARIABLE%` and fits its
//!    260-character fields, then the 4-byte TerminalBlock.
//!
//! The LinkFlags are HasLinkTargetIDList, HasLinkInfo and IsUnicode, plus
//! HasName, HasWorkingDir, HasArguments, HasIconLocation and HasExpIcon as
//! the strings call for. The output depends only on the [`Shortcut`], so the
//! same shortcut always gives the same bytes.
//!
//! The target must be an absolute drive path, `X:\dir\file.exe`, of at most
//! 259 UTF-16 units (MAX_PATH) whose components are valid Windows file
//! names. The other strings may not hold NUL; the arguments may be up to
//! 32767 UTF-16 units (the longest command line `CreateProcess` takes), the
//! description, working directory and icon location up to 259, because
//! Windows reads no more than that of them (see [`MAX_PATH_STRING_UNITS`]).
//!
//! [`read`] parses what `build` writes and ordinary shortcuts written by
//! Windows: the target comes from the LinkInfo (local base path and common
//! path suffix, or a network share), else from the IDList, and the strings
//! from StringData (Unicode or ANSI), with the same 260-character cap as
//! Windows. ANSI text is taken as Windows-1252.
//!
//! [MS-SHLLINK]: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-shllink/

mod bytes;
mod idlist;
mod linkinfo;
#[cfg(test)]
mod read_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tool_tests;

use bytes::{Reader, cp1252_decode, cp1252_encode, decode_utf16, put_u16, put_u32, put_u64};

/// The FILETIME written as creation, access and write time:
/// 2024-01-01T00:00:00Z in 100-ns ticks since 1601-01-01.
pub const PINNED_FILETIME: u64 = (11_644_473_600 + 1_704_067_200) * 10_000_000;

/// The longest arguments string (in UTF-16 units) [`build`] stores: the
/// longest command line `CreateProcess` takes.
pub const MAX_ARGUMENTS_UNITS: usize = 32_767;

/// The longest description, working directory or icon location (in UTF-16
/// units) [`build`] stores. Windows reads at most 260 characters of the
/// first three StringData strings and takes the 260th as the terminating
/// NUL (COMMAND_LINE_ARGUMENTS has no such cap), so a longer string would
/// shift every later field; the icon location is a MAX_PATH path too.
pub const MAX_PATH_STRING_UNITS: usize = 259;

/// How many characters Windows reads of NAME_STRING, RELATIVE_PATH and
/// WORKING_DIR, whatever their count says.
const WINDOWS_STRING_CAP: usize = 260;

/// HeaderSize of the ShellLinkHeader.
const HEADER_SIZE: u32 = 0x4C;
/// LinkCLSID 00021401-0000-0000-C000-000000000046 as stored.
const LINK_CLSID: [u8; 16] = [
    0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
];
/// FILE_ATTRIBUTE_ARCHIVE, as a program file usually has.
const FILE_ATTRIBUTE_ARCHIVE: u32 = 0x20;

const HAS_LINK_TARGET_ID_LIST: u32 = 0x1;
const HAS_LINK_INFO: u32 = 0x2;
const HAS_NAME: u32 = 0x4;
const HAS_RELATIVE_PATH: u32 = 0x8;
const HAS_WORKING_DIR: u32 = 0x10;
const HAS_ARGUMENTS: u32 = 0x20;
const HAS_ICON_LOCATION: u32 = 0x40;
const IS_UNICODE: u32 = 0x80;
const FORCE_NO_LINK_INFO: u32 = 0x100;
const HAS_EXP_ICON: u32 = 0x4000;

/// BlockSize and BlockSignature of the IconEnvironmentDataBlock.
const ICON_ENVIRONMENT_SIZE: u32 = 0x314;
const ICON_ENVIRONMENT_SIGNATURE: u32 = 0xA000_0007;

/// How the target's window is shown (the header's ShowCommand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ShowCommand {
    /// SW_SHOWNORMAL (1): a normal, active window.
    #[default]
    Normal,
    /// SW_SHOWMAXIMIZED (3): a maximized, active window.
    Maximized,
    /// SW_SHOWMINNOACTIVE (7): minimized, without taking the focus.
    MinNoActive,
}

impl ShowCommand {
    /// The value stored in the header.
    pub fn code(self) -> u32 {
        match self {
            ShowCommand::Normal => 1,
            ShowCommand::Maximized => 3,
            ShowCommand::MinNoActive => 7,
        }
    }

    /// The command for a stored value; like Windows, any value other than
    /// 3 and 7 means [`ShowCommand::Normal`].
    pub fn from_code(code: u32) -> ShowCommand {
        match code {
            3 => ShowCommand::Maximized,
            7 => ShowCommand::MinNoActive,
            _ => ShowCommand::Normal,
        }
    }
}

/// What a shortcut runs and how it presents itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortcut {
    /// Absolute Windows path of the program, e.g.
    /// `C:\Windows\System32\cmd.exe`.
    pub target: String,
    /// Command line arguments, e.g. `/c "C:\...\run-cp0123456789.cmd"`
    /// (may be empty).
    pub arguments: String,
    /// Working directory (may be empty).
    pub working_dir: String,
    /// Icon file, e.g. `%SystemRoot%\System32\shell32.dll` (may be empty).
    pub icon_location: String,
    /// Index of the icon in the icon file.
    pub icon_index: i32,
    /// The description (NAME_STRING) shown as a tooltip (may be empty).
    pub description: String,
    /// How the program's window is shown.
    pub show_command: ShowCommand,
    /// The header's FileSize: the target's size in bytes as the shell saw
    /// it when the shortcut was made (low 32 bits). A shortcut made on a
    /// real host holds the program's size, never 0.
    pub target_size: u32,
}

/// Why a shortcut could not be built or read.
///
/// Messages are lowercase fragments that read after "failed to".
#[derive(Debug, thiserror::Error)]
pub enum LnkError {
    /// The target is not an absolute drive path a shortcut can hold.
    #[error("use {target:?} as the shortcut target: {reason}")]
    Target {
        /// The rejected target.
        target: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A string holds a NUL character, which StringData cannot carry.
    #[error("store the {field} in the shortcut: it contains a nul character")]
    Nul {
        /// Which string (e.g. "arguments").
        field: &'static str,
    },
    /// A string is longer than [`MAX_ARGUMENTS_UNITS`] (arguments) or
    /// [`MAX_PATH_STRING_UNITS`] (the others).
    #[error("store the {field} in the shortcut: {units} utf-16 units is more than {limit}")]
    TooLong {
        /// Which string.
        field: &'static str,
        /// Its length in UTF-16 units.
        units: usize,
        /// The limit.
        limit: usize,
    },
    /// A structure outgrew its 16-bit size field.
    #[error("fit the {structure} in its 16-bit size field")]
    TooLarge {
        /// The structure.
        structure: &'static str,
    },
    /// The data ended (or a size or offset pointed) past its end.
    #[error("read the {structure} at byte {offset}: the data ends early")]
    Truncated {
        /// The structure being read.
        structure: &'static str,
        /// Where reading stopped.
        offset: usize,
    },
    /// The data does not start with a ShellLinkHeader.
    #[error("read the shell link header: {detail}")]
    Header {
        /// What is wrong.
        detail: &'static str,
    },
    /// A UTF-16 string is not valid UTF-16.
    #[error("decode the {field} as utf-16")]
    BadUtf16 {
        /// Which string.
        field: &'static str,
    },
    /// Neither the LinkInfo nor the IDList gives a file system path.
    #[error("find the target path: neither the link info nor the id list holds a file system path")]
    NoTarget,
}

/// Builds the bytes of a `.lnk` file for `s`.
///
/// Fails if the target is not a valid absolute drive path, or a string
/// holds NUL or is longer than its limit ([`MAX_ARGUMENTS_UNITS`] for the
/// arguments, [`MAX_PATH_STRING_UNITS`] for the others).
pub fn build(s: &Shortcut) -> Result<Vec<u8>, LnkError> {
    let path = idlist::DrivePath::parse(&s.target)?;
    let (path_cap, args_cap) = (MAX_PATH_STRING_UNITS, MAX_ARGUMENTS_UNITS);
    let strings = [
        (HAS_NAME, "description", &s.description, path_cap),
        (
            HAS_WORKING_DIR,
            "working directory",
            &s.working_dir,
            path_cap,
        ),
        (HAS_ARGUMENTS, "arguments", &s.arguments, args_cap),
        (
            HAS_ICON_LOCATION,
            "icon location",
            &s.icon_location,
            path_cap,
        ),
    ];
    let mut flags = HAS_LINK_TARGET_ID_LIST | HAS_LINK_INFO | IS_UNICODE;
    for (flag, field, text, limit) in strings {
        check_text(field, text, limit)?;
        if !text.is_empty() {
            flags |= flag;
        }
    }
    let icon_block = icon_environment_block(&s.icon_location);
    if icon_block.is_some() {
        flags |= HAS_EXP_ICON;
    }

    let mut out = Vec::with_capacity(1024);
    put_u32(&mut out, HEADER_SIZE);
    out.extend_from_slice(&LINK_CLSID);
    put_u32(&mut out, flags);
    put_u32(&mut out, FILE_ATTRIBUTE_ARCHIVE);
    for _ in 0..3 {
        put_u64(&mut out, PINNED_FILETIME); // creation, access, write
    }
    put_u32(&mut out, s.target_size); // FileSize
    out.extend_from_slice(&s.icon_index.to_le_bytes());
    put_u32(&mut out, s.show_command.code());
    put_u16(&mut out, 0); // HotKey
    out.extend_from_slice(&[0; 10]); // Reserved1, Reserved2, Reserved3

    out.extend_from_slice(&idlist::build(&path)?);
    out.extend_from_slice(&linkinfo::build(&s.target));
    for (_, _, text, _) in strings {
        if !text.is_empty() {
            // check_text bounded the length to 32767 units.
            put_u16(&mut out, text.encode_utf16().count() as u16);
            bytes::put_utf16(&mut out, text);
        }
    }
    if let Some(block) = icon_block {
        out.extend_from_slice(&block);
    }
    put_u32(&mut out, 0); // TerminalBlock
    Ok(out)
}

/// Rejects NUL and strings over `limit` UTF-16 units.
fn check_text(field: &'static str, text: &str, limit: usize) -> Result<(), LnkError> {
    if text.contains('\0') {
        return Err(LnkError::Nul { field });
    }
    let units = text.encode_utf16().count();
    if units > limit {
        return Err(LnkError::TooLong {
            field,
            units,
            limit,
        });
    }
    Ok(())
}

/// The IconEnvironmentDataBlock for an icon location holding an
/// environment variable, if it fits the block's 260-character fields.
fn icon_environment_block(icon: &str) -> Option<Vec<u8>> {
    if !icon.contains('%') {
        return None;
    }
    let ansi = cp1252_encode(icon);
    let wide: Vec<u16> = icon.encode_utf16().collect();
    if ansi.len() >= 260 || wide.len() >= 260 {
        return None;
    }
    let mut out = Vec::with_capacity(ICON_ENVIRONMENT_SIZE as usize);
    put_u32(&mut out, ICON_ENVIRONMENT_SIZE);
    put_u32(&mut out, ICON_ENVIRONMENT_SIGNATURE);
    out.extend_from_slice(&ansi);
    out.resize(8 + 260, 0); // TargetAnsi, NUL-padded
    for unit in wide {
        put_u16(&mut out, unit);
    }
    out.resize(ICON_ENVIRONMENT_SIZE as usize, 0); // TargetUnicode, NUL-padded
    Some(out)
}

/// Parses a `.lnk` file back into a [`Shortcut`].
///
/// The target is the LinkInfo path (Unicode when present), else the path
/// the IDList spells; extra data blocks are skipped.
pub fn read(bytes: &[u8]) -> Result<Shortcut, LnkError> {
    let mut r = Reader::new(bytes, 0, "shell link header");
    if r.u32()? != HEADER_SIZE {
        return Err(LnkError::Header {
            detail: "its headersize is not 0x4c",
        });
    }
    if r.take(16)? != LINK_CLSID {
        return Err(LnkError::Header {
            detail: "its linkclsid is not 00021401-0000-0000-c000-000000000046",
        });
    }
    let flags = r.u32()?;
    let _attributes = r.u32()?;
    let _times = r.take(24)?;
    let target_size = r.u32()?;
    let icon_index = i32::from_le_bytes(r.u32()?.to_le_bytes());
    let show_command = ShowCommand::from_code(r.u32()?);
    let _hotkey_and_reserved = r.take(12)?;

    let mut id_path = None;
    if flags & HAS_LINK_TARGET_ID_LIST != 0 {
        r.reading("link target id list");
        let size = usize::from(r.u16()?);
        // Real lists hold items this reader does not know; the LinkInfo
        // usually names the target anyway.
        id_path = idlist::parse(r.take(size)?).ok().flatten();
    }
    let mut info_path = None;
    if flags & HAS_LINK_INFO != 0 {
        r.reading("link info");
        let start = r.pos();
        let size = r.u32()? as usize;
        let _rest = r.take(size.saturating_sub(4))?;
        if flags & FORCE_NO_LINK_INFO == 0 {
            info_path = linkinfo::read(&bytes[start..r.pos()])?;
        }
    }

    let unicode = flags & IS_UNICODE != 0;
    // Like Windows, read at most 260 characters of the first three strings
    // and end them at the 259th.
    let mut next = |flag: u32, field: &'static str, capped: bool| -> Result<String, LnkError> {
        if flags & flag == 0 {
            return Ok(String::new());
        }
        r.reading(field);
        let mut count = usize::from(r.u16()?);
        let mut keep = count;
        if capped && count >= WINDOWS_STRING_CAP {
            count = WINDOWS_STRING_CAP;
            keep = WINDOWS_STRING_CAP - 1;
        }
        if unicode {
            let units = bytes::utf16_units(r.take(2 * count)?);
            decode_utf16(&units[..keep], field)
        } else {
            Ok(cp1252_decode(&r.take(count)?[..keep]))
        }
    };
    let description = next(HAS_NAME, "description", true)?;
    let _relative_path = next(HAS_RELATIVE_PATH, "relative path", true)?;
    let working_dir = next(HAS_WORKING_DIR, "working directory", true)?;
    let arguments = next(HAS_ARGUMENTS, "arguments", false)?;
    let icon_location = next(HAS_ICON_LOCATION, "icon location", false)?;

    Ok(Shortcut {
        target: info_path.or(id_path).ok_or(LnkError::NoTarget)?,
        arguments,
        working_dir,
        icon_location,
        icon_index,
        description,
        show_command,
        target_size,
    })
}
