//! The ZIP side of [`super`], through the zip crate.

use std::fs::File;
use std::io::{Cursor, Read, Write};
use std::path::Path;

use ::zip::result::ZipError;
use ::zip::unstable::write::FileOptionsExt;
use ::zip::write::SimpleFileOptions;
use ::zip::{AesMode, CompressionMethod, DateTime, ZipArchive, ZipReadOptions, ZipWriter};

use super::{ArchiveError, Encryption, Format, Member};

/// 2024-04-17 09:00:00, [`super::PINNED_UNIX_TIME`] as a DOS date and time
/// (DOS times carry no zone; the ISO builder's date is UTC, and so is this).
#[expect(
    clippy::expect_used,
    reason = "a constant date inside the DOS range (1980-2107), checked by a test"
)]
fn pinned_time() -> DateTime {
    DateTime::from_date_and_time(2024, 4, 17, 9, 0, 0).expect("2024-04-17 09:00:00 is a DOS date")
}

/// Builds the archive; names and password are checked by the caller.
pub(super) fn write(
    members: &[Member],
    protect: Option<(Encryption, &str)>,
) -> Result<Vec<u8>, ArchiveError> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for m in members {
        let fail = |source| ArchiveError::ZipWrite {
            member: m.name.to_string(),
            source,
        };
        let plain = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(pinned_time())
            .unix_permissions(if m.executable { 0o755 } else { 0o644 });
        let options = match protect {
            None => plain,
            Some((Encryption::Zipcrypto, pw)) => plain
                .with_deprecated_encryption(pw.as_bytes())
                .map_err(fail)?,
            Some((Encryption::Aes, pw)) => plain.with_aes_encryption(AesMode::Aes256, pw),
        };
        writer.start_file(m.name, options).map_err(fail)?;
        writer
            .write_all(m.bytes)
            .map_err(|e| fail(ZipError::Io(e)))?;
    }
    let done = writer.finish().map_err(|source| ArchiveError::ZipWrite {
        member: "(central directory)".to_string(),
        source,
    })?;
    Ok(done.into_inner())
}

/// Opens the archive and reads its central directory.
fn open(path: &Path) -> Result<ZipArchive<File>, ArchiveError> {
    let fail = |source: Box<dyn std::error::Error + Send + Sync>| ArchiveError::Open {
        path: path.to_path_buf(),
        format: Format::Zip,
        source,
    };
    let file = File::open(path).map_err(|e| fail(e.into()))?;
    ZipArchive::new(file).map_err(|e| fail(e.into()))
}

/// The names of the archive's files, in central-directory order.
pub(super) fn list(path: &Path) -> Result<Vec<String>, ArchiveError> {
    let mut archive = open(path)?;
    let mut names = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        // Raw: the directory entry only, so no password is needed.
        let entry = archive.by_index_raw(i).map_err(|e| ArchiveError::Open {
            path: path.to_path_buf(),
            format: Format::Zip,
            source: e.into(),
        })?;
        if !entry.is_dir() {
            names.push(entry.name().to_string());
        }
    }
    Ok(names)
}

/// The contents of member `name` and whether it is marked executable.
pub(super) fn read(
    path: &Path,
    password: Option<&str>,
    name: &str,
) -> Result<(Vec<u8>, bool), ArchiveError> {
    let mut archive = open(path)?;
    let member = || name.to_string();
    let index = archive
        .index_for_name(name)
        .ok_or_else(|| ArchiveError::NotFound {
            path: path.to_path_buf(),
            member: member(),
        })?;
    let read_fail = |e: ZipError| match e {
        ZipError::InvalidPassword => ArchiveError::WrongPassword {
            path: path.to_path_buf(),
            member: member(),
        },
        ZipError::UnsupportedArchive(ZipError::PASSWORD_REQUIRED) => {
            ArchiveError::PasswordRequired {
                path: path.to_path_buf(),
                member: member(),
            }
        }
        other => ArchiveError::Read {
            path: path.to_path_buf(),
            member: member(),
            source: other.into(),
        },
    };
    let options = ZipReadOptions::new().password(password.map(str::as_bytes));
    let mut file = archive
        .by_index_with_options(index, options)
        .map_err(read_fail)?;
    if !file.is_file() {
        return Err(ArchiveError::NotAFile {
            path: path.to_path_buf(),
            member: member(),
        });
    }
    // Any execute bit counts, as `unzip` restores it.
    let executable = file.unix_mode().is_some_and(|mode| mode & 0o111 != 0);
    let mut bytes = Vec::new();
    // A CRC or AES authentication failure lands here: with ZipCrypto a wrong
    // password passes the one-byte check 1 time in 256 and fails the CRC.
    file.read_to_end(&mut bytes)
        .map_err(|e| read_fail(e.into()))?;
    Ok((bytes, executable))
}
