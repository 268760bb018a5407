//! Writing and checking `SHA256SUMS` in GNU coreutils format.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::walk::{files, name_problem, resolve, sha256_file};
use super::{BundleError, MANIFEST, SIGNATURE, Verification, verify_signature};

/// Hashes every regular file under `dir` and writes `dir/SHA256SUMS`.
///
/// The walk is recursive and sorted by relative path (byte order, `/`
/// separators), so the same content always yields the same manifest. Each
/// line is `<64 lowercase hex><two spaces><relative path>\n`, exactly what
/// `sha256sum` prints, so `sha256sum -c SHA256SUMS` run inside `dir`
/// verifies it. The root-level manifest and signature are left out.
///
/// Fails, writing nothing, on a symlink or special file anywhere in the tree
/// and on a name that is not UTF-8 or holds a newline, carriage return or
/// backslash (which `sha256sum` would escape). Returns the manifest path.
pub fn write_manifest(dir: &Path) -> Result<PathBuf, BundleError> {
    let mut text = String::new();
    for rel in files(dir)? {
        let path = resolve(dir, &rel);
        let digest = sha256_file(&path).map_err(|e| BundleError::io("hash", &path, e))?;
        text.push_str(&digest);
        text.push_str("  ");
        text.push_str(&rel);
        text.push('\n');
    }
    let manifest = dir.join(MANIFEST);
    fs::write(&manifest, text).map_err(|e| BundleError::io("write", &manifest, e))?;
    Ok(manifest)
}

/// Checks `dir` against its `SHA256SUMS` and its signature, if present.
///
/// Every listed file is hashed again: equal ones go to
/// [`Verification::ok`], different ones to [`Verification::changed`],
/// absent ones to [`Verification::missing`]; plain files present but not
/// listed go to [`Verification::extra`]. The signature is checked against
/// the key embedded in it ([`verify_signature`] with no allowed-signers
/// file) and reported with that key's SHA256 fingerprint.
///
/// Errors (rather than findings) are: no manifest, a malformed manifest line
/// (named by line number), a symlink or special file in the folder, and a
/// file that exists but cannot be read.
pub fn verify(dir: &Path) -> Result<Verification, BundleError> {
    let manifest = dir.join(MANIFEST);
    let bytes = match fs::read(&manifest) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BundleError::NoManifest { path: manifest });
        }
        Err(e) => return Err(BundleError::io("read", &manifest, e)),
    };
    let listed = parse(&manifest, &bytes)?;
    let present: BTreeSet<String> = files(dir)?.into_iter().collect();

    let mut v = Verification {
        ok: Vec::new(),
        changed: Vec::new(),
        missing: Vec::new(),
        extra: Vec::new(),
        signature: verify_signature(dir, None),
    };
    for (rel, expected) in &listed {
        if !present.contains(rel) {
            v.missing.push(rel.clone());
            continue;
        }
        let path = resolve(dir, rel);
        let actual = sha256_file(&path).map_err(|e| BundleError::io("hash", &path, e))?;
        if actual == *expected {
            v.ok.push(rel.clone());
        } else {
            v.changed.push(rel.clone());
        }
    }
    v.extra = present
        .into_iter()
        .filter(|rel| !listed.contains_key(rel))
        .collect();
    Ok(v)
}

/// Parses manifest `bytes` into relative path → lowercase hex digest.
///
/// Accepts what `sha256sum` writes in text (`  `) or binary (` *`) mode,
/// upper- or lowercase hex, and a missing final newline. Rejects, naming
/// the line: empty lines, escaped (`\`-prefixed) lines, bad digests,
/// absolute or `..` paths, names the manifest cannot hold, and duplicates.
pub(super) fn parse(path: &Path, bytes: &[u8]) -> Result<BTreeMap<String, String>, BundleError> {
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let mut out = BTreeMap::new();
    let mut first_seen: BTreeMap<String, usize> = BTreeMap::new();
    for (index, raw) in lines.into_iter().enumerate() {
        let line = index + 1;
        let bad = |reason: String| BundleError::Malformed {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let text = std::str::from_utf8(raw).map_err(|_| bad("it is not UTF-8".into()))?;
        let (digest, rel) = parse_line(text).map_err(bad)?;
        if let Some(first) = first_seen.insert(rel.to_owned(), line) {
            return Err(bad(format!(
                "{rel} is listed again (first on line {first})"
            )));
        }
        out.insert(rel.to_owned(), digest);
    }
    Ok(out)
}

/// Splits one manifest line into (lowercase digest, relative path).
fn parse_line(text: &str) -> Result<(String, &str), String> {
    if text.is_empty() {
        return Err("the line is empty".into());
    }
    if text.starts_with('\\') {
        return Err("escaped file names (lines starting with `\\`) are not supported".into());
    }
    let digest = text
        .get(..64)
        .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or("expected 64 hex digits, two spaces and a path")?;
    let rel = match text.get(64..66) {
        Some("  " | " *") => &text[66..],
        _ => return Err("expected two spaces (or ` *`) after the digest".into()),
    };
    if let Some(reason) = path_problem(rel) {
        return Err(format!("path {rel:?}: {reason}"));
    }
    Ok((digest.to_ascii_lowercase(), rel))
}

/// Why `rel` cannot be a bundle-relative file path, if so.
fn path_problem(rel: &str) -> Option<&'static str> {
    if rel.is_empty() {
        return Some("it is empty");
    }
    if rel == MANIFEST || rel == SIGNATURE {
        return Some("the manifest cannot list itself or its signature");
    }
    if rel.starts_with('/') {
        return Some("it is absolute");
    }
    for part in rel.split('/') {
        match part {
            "" => return Some("it has an empty component"),
            "." | ".." => return Some("it has a `.` or `..` component"),
            _ => {}
        }
        if let Some(reason) = name_problem(part) {
            return Some(reason);
        }
    }
    None
}
