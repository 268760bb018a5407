//! Listing and hashing the plain files of a bundle folder.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{BundleError, MANIFEST, SIGNATURE};

/// Every regular file under `dir`, as sorted relative paths with `/`
/// separators, leaving out the root-level manifest and signature.
///
/// Symlinks and special files are errors, as are names `sha256sum` would
/// escape (newline, carriage return, backslash) or that are not UTF-8.
pub(super) fn files(dir: &Path) -> Result<Vec<String>, BundleError> {
    let mut out = Vec::new();
    let mut pending: Vec<(PathBuf, String)> = vec![(dir.to_path_buf(), String::new())];
    while let Some((folder, prefix)) = pending.pop() {
        let entries = fs::read_dir(&folder).map_err(|e| BundleError::io("list", &folder, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| BundleError::io("list", &folder, e))?;
            let path = entry.path();
            let file_name = entry.file_name();
            let name = checked_name(&path, &file_name)?;
            let rel = if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}/{name}")
            };
            let kind = entry
                .file_type()
                .map_err(|e| BundleError::io("inspect", &path, e))?;
            if kind.is_symlink() {
                return Err(BundleError::Symlink { path });
            } else if kind.is_dir() {
                pending.push((path, rel));
            } else if kind.is_file() {
                if !(prefix.is_empty() && (rel == MANIFEST || rel == SIGNATURE)) {
                    out.push(rel);
                }
            } else {
                return Err(BundleError::NotRegular { path });
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The UTF-8 name of `path`, if `sha256sum` would print it verbatim.
fn checked_name<'a>(path: &Path, name: &'a std::ffi::OsStr) -> Result<&'a str, BundleError> {
    let bad = |reason| BundleError::BadName {
        path: path.to_path_buf(),
        reason,
    };
    let name = name.to_str().ok_or_else(|| bad("the name is not UTF-8"))?;
    if let Some(reason) = name_problem(name) {
        return Err(bad(reason));
    }
    Ok(name)
}

/// Why a single name (no `/`) cannot appear verbatim in a manifest, if so.
pub(super) fn name_problem(name: &str) -> Option<&'static str> {
    if name.contains('\n') || name.contains('\r') {
        Some("the name holds a line break, which sha256sum would escape")
    } else if name.contains('\\') {
        Some("the name holds a backslash, which sha256sum would escape")
    } else {
        None
    }
}

/// The absolute path of relative manifest path `rel` inside `dir`.
pub(super) fn resolve(dir: &Path, rel: &str) -> PathBuf {
    rel.split('/')
        .fold(dir.to_path_buf(), |acc, part| acc.join(part))
}

/// Lowercase hex SHA-256 of the file at `path`, read in chunks.
pub(super) fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}
