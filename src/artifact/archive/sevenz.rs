//! The 7z side of [`super`], through sevenz-rust2 (pure Rust, so the
//! Windows build needs no C toolchain for it).

use std::fs::File;
use std::io::Cursor;
use std::path::Path;

use sevenz_rust2::encoder_options::AesEncoderOptions;
use sevenz_rust2::{ArchiveEntry, ArchiveReader, ArchiveWriter, EncoderMethod, NtTime, Password};

use super::{ArchiveError, Format, Member, PINNED_UNIX_TIME};

/// `FILE_ATTRIBUTE_ARCHIVE`: what Windows sets on every file written.
const ATTRIBUTE_ARCHIVE: u32 = 0x20;
/// `FILE_ATTRIBUTE_UNIX_EXTENSION`: p7zip's and 7-Zip's mark that the high
/// 16 bits of the attributes hold a Unix `st_mode`.
const ATTRIBUTE_UNIX_EXTENSION: u32 = 0x8000;
/// `S_IFREG`, the file-type bits of a regular file.
const MODE_REGULAR: u32 = 0o100_000;
/// `S_IFMT`, the file-type bits of a mode.
const MODE_TYPE: u32 = 0o170_000;
/// 7-Zip's own key-derivation cost (2^19 SHA-256 rounds); sevenz-rust2
/// defaults to 2^8, which no 7-Zip-made archive has.
const AES_CYCLES_POWER: u8 = 19;
/// 100 ns ticks from 1601-01-01 to the Unix epoch.
const NT_TICKS_AT_UNIX_EPOCH: u64 = 116_444_736_000_000_000;

/// The pinned member time as a Windows FILETIME.
fn pinned_time() -> NtTime {
    NtTime::new(NT_TICKS_AT_UNIX_EPOCH + PINNED_UNIX_TIME.unsigned_abs() * 10_000_000)
}

/// Builds the archive; names and password are checked by the caller.
pub(super) fn write(members: &[Member], password: Option<&str>) -> Result<Vec<u8>, ArchiveError> {
    let fail = |member: &str, source| ArchiveError::SevenZWrite {
        member: member.to_string(),
        source,
    };
    let mut writer = ArchiveWriter::new(Cursor::new(Vec::new())).map_err(|e| fail("(start)", e))?;
    if let Some(pw) = password {
        // Built by hand rather than with `AesEncoderOptions::new`, which
        // panics if the system has no randomness and uses a weaker cost.
        let aes = AesEncoderOptions {
            password: Password::new(pw),
            iv: rand::random(),
            salt: rand::random(),
            num_cycles_power: AES_CYCLES_POWER,
        };
        writer.set_content_methods(vec![aes.into(), EncoderMethod::LZMA2.into()]);
        // The names are encrypted too: listing needs the password.
        writer.set_encrypt_header(true);
    }
    for m in members {
        let mode = MODE_REGULAR | if m.executable { 0o755 } else { 0o644 };
        let entry = ArchiveEntry {
            has_last_modified_date: true,
            last_modified_date: pinned_time(),
            has_windows_attributes: true,
            windows_attributes: ATTRIBUTE_ARCHIVE | ATTRIBUTE_UNIX_EXTENSION | (mode << 16),
            ..ArchiveEntry::new_file(m.name)
        };
        writer
            .push_archive_entry(entry, Some(m.bytes))
            .map_err(|e| fail(m.name, e))?;
    }
    let done = writer
        .finish()
        .map_err(|e| fail("(header)", sevenz_rust2::Error::Io(e, "finish".into())))?;
    Ok(done.into_inner())
}

/// Opens the archive and reads its header (decrypting it with the password).
fn open(path: &Path, password: Option<&str>) -> Result<ArchiveReader<File>, ArchiveError> {
    let file = File::open(path).map_err(|e| ArchiveError::Open {
        path: path.to_path_buf(),
        format: Format::SevenZ,
        source: e.into(),
    })?;
    let pw = password.map_or_else(Password::empty, Password::new);
    ArchiveReader::new(file, pw).map_err(|e| classify(path, "(header)", password, e))
}

/// Maps the crate's error, naming password failures as such.
fn classify(
    path: &Path,
    member: &str,
    password: Option<&str>,
    error: sevenz_rust2::Error,
) -> ArchiveError {
    use sevenz_rust2::Error as E;
    let path = path.to_path_buf();
    let member = member.to_string();
    match error {
        E::PasswordRequired => ArchiveError::PasswordRequired { path, member },
        // An AES stream decrypted with the wrong key decodes to garbage: the
        // crate reports a bad password, or the LZMA or CRC check fails.
        E::MaybeBadPassword(_) | E::ChecksumVerificationFailed | E::NextHeaderCrcMismatch
            if password.is_some() =>
        {
            ArchiveError::WrongPassword { path, member }
        }
        other if member == "(header)" => ArchiveError::Open {
            path,
            format: Format::SevenZ,
            source: other.into(),
        },
        other => ArchiveError::Read {
            path,
            member,
            source: other.into(),
        },
    }
}

/// The names of the archive's files, in header order.
pub(super) fn list(path: &Path, password: Option<&str>) -> Result<Vec<String>, ArchiveError> {
    let reader = open(path, password)?;
    Ok(reader
        .archive()
        .files
        .iter()
        .filter(|e| !e.is_directory && !e.is_anti_item)
        .map(|e| e.name.clone())
        .collect())
}

/// The contents of member `name` and whether it is marked executable.
pub(super) fn read(
    path: &Path,
    password: Option<&str>,
    name: &str,
) -> Result<(Vec<u8>, bool), ArchiveError> {
    let mut reader = open(path, password)?;
    let Some(entry) = reader.archive().files.iter().find(|e| e.name == name) else {
        return Err(ArchiveError::NotFound {
            path: path.to_path_buf(),
            member: name.to_string(),
        });
    };
    // The Unix mode, where the archive was made on Unix (or by us).
    let mode = (entry.has_windows_attributes
        && entry.windows_attributes & ATTRIBUTE_UNIX_EXTENSION != 0)
        .then_some(entry.windows_attributes >> 16);
    // A link or device has other file-type bits than a regular file.
    let special = mode.is_some_and(|m| m & MODE_TYPE != MODE_REGULAR);
    if entry.is_directory || entry.is_anti_item || special {
        return Err(ArchiveError::NotAFile {
            path: path.to_path_buf(),
            member: name.to_string(),
        });
    }
    let executable = mode.is_some_and(|m| m & 0o111 != 0);
    let bytes = reader
        .read_file(name)
        .map_err(|e| classify(path, name, password, e))?;
    Ok((bytes, executable))
}
