//! Archives that carry other artifacts, as phishing mails and downloads ship
//! them: ZIP (plain, ZipCrypto or WinZip AES-256) and 7z (plain or AES-256),
//! and the reading side an emulated archive tool needs.
//!
//! [`zip()`] and [`seven_z()`] build the bytes; [`list`] and [`extract`] read an
//! archive file the way an archive tool does, so the stage program can play
//! Explorer's ZIP folder, 7-Zip, file-roller or `unzip`. Writing is pure;
//! reading touches only the archive and the destination folder. This module
//! does not decide where a tool extracts to or what opens the member: that is
//! the stage program's part.
//!
//! Determinism: every member is stamped 2024-04-17 09:00:00 (the ISO
//! builder's [`crate::artifact::iso::PINNED_UNIX_TIME`], so an ISO inside a ZIP carries the same
//! date as its files), a recent date, since the DOS epoch 1980-01-01 that the
//! zip crate writes by default marks an archive as synthetic. A plain ZIP,
//! a ZipCrypto ZIP and a plain 7z are the same bytes for the same members.
//! AES is not: WinZip AES draws a fresh salt per member and 7z AES a fresh
//! salt and IV per archive, as their formats require, so two AES archives of
//! the same members differ (each still decrypts with the password).
//!
//! Modes: executable members get Unix mode 0755, others 0644, in the ZIP's
//! external attributes (so `unzip` restores the exec bit) and in the 7z
//! attributes' high half as p7zip and 7-Zip write it
//! (`FILE_ATTRIBUTE_UNIX_EXTENSION`).
//!
//! Names: a member name is a relative path with `/` separators. The builders
//! and [`extract`] refuse a name that could leave the destination folder or
//! means something else on Windows (absolute, a drive, `..`, a backslash, a
//! `:` that Windows reads as a drive or an alternate data stream), and a
//! builder refuses two members with one name.

mod sevenz;
mod zipfile;
// These tests run host tools (Unix).
#[cfg(test)]
#[cfg(unix)]
mod tests;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::artifact::iso::PINNED_UNIX_TIME;

/// A file inside an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member<'a> {
    /// Relative path inside the archive, `/` between folders.
    pub name: &'a str,
    /// File contents.
    pub bytes: &'a [u8],
    /// Whether the member gets Unix mode 0755 (else 0644).
    pub executable: bool,
}

/// How a ZIP archive is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encryption {
    /// Traditional PKWARE encryption ("ZipCrypto"): weak, but every tool
    /// opens it, Windows Explorer included, which is why lures use it.
    Zipcrypto,
    /// WinZip AES-256 (AE-2): 7-Zip and WinZip open it; Explorer and
    /// Info-ZIP `unzip` cannot.
    Aes,
}

/// An archive format, for the reading side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// PKWARE ZIP.
    Zip,
    /// 7-Zip's 7z.
    SevenZ,
}

/// What went wrong building or reading an archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A member name that could leave the destination folder, or is unusable.
    #[error("use archive member name {name:?}: {reason}")]
    MemberName {
        /// The name as given or as stored in the archive.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// An empty password (both formats would derive a key from nothing).
    #[error("protect an archive with an empty password")]
    EmptyPassword,
    /// The zip crate refused to write a member.
    #[error("write ZIP member {member:?}")]
    ZipWrite {
        /// The member being written.
        member: String,
        /// The zip crate's error.
        #[source]
        source: ::zip::result::ZipError,
    },
    /// The 7z writer failed.
    #[error("write 7z member {member:?}")]
    SevenZWrite {
        /// The member being written, or `(header)` when finishing.
        member: String,
        /// The 7z crate's error.
        #[source]
        source: sevenz_rust2::Error,
    },
    /// The archive file cannot be opened or its directory read.
    #[error("open {format:?} archive {path}")]
    Open {
        /// The archive file.
        path: PathBuf,
        /// Its format.
        format: Format,
        /// The reader's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The member is encrypted and no password was given.
    #[error("read member {member:?} of {path}: it is encrypted and no password was given")]
    PasswordRequired {
        /// The archive file.
        path: PathBuf,
        /// The member.
        member: String,
    },
    /// The password does not decrypt the archive or member.
    #[error("read member {member:?} of {path}: wrong password")]
    WrongPassword {
        /// The archive file.
        path: PathBuf,
        /// The member, or `(header)` for a 7z whose directory is encrypted.
        member: String,
    },
    /// No member has this name.
    #[error("find member {member:?} in {path}")]
    NotFound {
        /// The archive file.
        path: PathBuf,
        /// The name asked for.
        member: String,
    },
    /// The member is a folder or a link, not a file to open.
    #[error("extract member {member:?} of {path}: not a regular file")]
    NotAFile {
        /// The archive file.
        path: PathBuf,
        /// The member.
        member: String,
    },
    /// Decompressing or decrypting the member failed.
    #[error("read member {member:?} of {path}")]
    Read {
        /// The archive file.
        path: PathBuf,
        /// The member.
        member: String,
        /// The reader's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Writing the extracted member (or its folders) failed.
    #[error("write extracted member to {path}")]
    Write {
        /// The file or folder being written.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Builds a ZIP archive of `members`, Deflate-compressed, optionally
/// encrypted with the password. ZipCrypto output is deterministic (the
/// zip crate's encryption header carries no random bytes); AES output is not
/// (a random salt per member).
pub fn zip(
    members: &[Member],
    protect: Option<(Encryption, &str)>,
) -> Result<Vec<u8>, ArchiveError> {
    check_members(members)?;
    if protect.is_some_and(|(_, pw)| pw.is_empty()) {
        return Err(ArchiveError::EmptyPassword);
    }
    zipfile::write(members, protect)
}

/// Builds a 7z archive of `members`, each LZMA2-compressed in its own block.
/// With a password, the contents *and* the header (the member names) are
/// AES-256 encrypted, as 7-Zip's "Encrypt file names" does: sevenz-rust2
/// encrypts the header whenever an AES method is set, so even listing needs
/// the password. Without a password the bytes are deterministic.
pub fn seven_z(members: &[Member], password: Option<&str>) -> Result<Vec<u8>, ArchiveError> {
    check_members(members)?;
    if password.is_some_and(str::is_empty) {
        return Err(ArchiveError::EmptyPassword);
    }
    sevenz::write(members, password)
}

/// Extracts the member `name` of the archive file at `archive` into `dest`
/// (created, with any folders the name holds), as an archive tool does, and
/// returns the extracted path. The file gets mode 0755 when the archive marks
/// it executable, else 0644 (on Unix). An existing file there is replaced.
/// Refuses names that would leave `dest` (absolute, `..`, backslash
/// traversal) with an error naming the member. The member is decrypted and
/// checked (CRC, AES authentication) in memory before anything is written, so
/// a wrong password leaves no partial file.
pub fn extract(
    archive: &Path,
    format: Format,
    password: Option<&str>,
    name: &str,
    dest: &Path,
) -> Result<PathBuf, ArchiveError> {
    check_name(name)?;
    let (bytes, executable) = match format {
        Format::Zip => zipfile::read(archive, password, name)?,
        Format::SevenZ => sevenz::read(archive, password, name)?,
    };
    let target = dest.join(name);
    let folder = target.parent().unwrap_or(dest);
    std::fs::create_dir_all(folder).map_err(|source| ArchiveError::Write {
        path: folder.to_path_buf(),
        source,
    })?;
    write_file(&target, &bytes, executable)?;
    Ok(target)
}

/// Lists member names (for the record and for the stage program to pick the
/// one to open): the files, in archive order, as stored (unchecked; folders
/// left out). A ZIP's names are readable without the password; an encrypted
/// 7z's header needs it.
pub fn list(
    archive: &Path,
    format: Format,
    password: Option<&str>,
) -> Result<Vec<String>, ArchiveError> {
    match format {
        Format::Zip => zipfile::list(archive),
        Format::SevenZ => sevenz::list(archive, password),
    }
}

/// Refuses names [`check_name`] refuses and duplicates.
fn check_members(members: &[Member]) -> Result<(), ArchiveError> {
    let mut seen = HashSet::new();
    for m in members {
        check_name(m.name)?;
        if !seen.insert(m.name) {
            return Err(ArchiveError::MemberName {
                name: m.name.to_string(),
                reason: "two members have this name",
            });
        }
    }
    Ok(())
}

/// Whether `name` stays inside the folder it is extracted to, on Unix and
/// on Windows alike (a backslash is a separator there, a `:` a drive or an
/// alternate data stream).
fn check_name(name: &str) -> Result<(), ArchiveError> {
    let refuse = |reason| {
        Err(ArchiveError::MemberName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return refuse("empty");
    }
    if name.starts_with('/') {
        return refuse("absolute path");
    }
    if name.contains('\\') {
        return refuse("backslash, a folder separator on Windows");
    }
    if name.contains(':') {
        return refuse("colon, a drive or alternate data stream on Windows");
    }
    if name.chars().any(char::is_control) {
        return refuse("control character");
    }
    for part in name.split('/') {
        match part {
            ".." => return refuse("`..` leaves the destination folder"),
            "" | "." => return refuse("empty or `.` path component"),
            _ => {}
        }
    }
    Ok(())
}

/// Writes an extracted member, replacing (not following) whatever is there.
fn write_file(path: &Path, bytes: &[u8], executable: bool) -> Result<(), ArchiveError> {
    let fail = |source| ArchiveError::Write {
        path: path.to_path_buf(),
        source,
    };
    // A link planted at the target must not redirect the write.
    if std::fs::symlink_metadata(path).is_ok() {
        std::fs::remove_file(path).map_err(fail)?;
    }
    std::fs::write(path, bytes).map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if executable { 0o755 } else { 0o644 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(fail)?;
    }
    #[cfg(not(unix))]
    let _ = executable;
    Ok(())
}
