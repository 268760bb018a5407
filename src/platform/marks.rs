//! Reading and copying the origin marks a file carries on this host: the
//! `user.xdg.*` and `com.apple.quarantine` extended attributes on Unix, the
//! `Zone.Identifier` alternate data stream on Windows. The run reads them on
//! every file it records (so a mark that an archive tool or mail client did
//! not carry over is seen, not assumed), and an emulated application copies
//! them when the application it plays does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The extended attributes that mark a file's origin on Unix hosts.
pub const XATTRS: [&str; 3] = [
    "user.xdg.origin.url",
    "user.xdg.referrer.url",
    "com.apple.quarantine",
];

/// The name under which a Windows file's Mark-of-the-Web is recorded.
pub const ZONE_STREAM: &str = "Zone.Identifier";

/// The origin marks present on `path` (mark name → value); empty when it
/// has none or they cannot be read.
pub fn read(path: &Path) -> BTreeMap<String, String> {
    let mut marks = BTreeMap::new();
    #[cfg(unix)]
    for name in XATTRS {
        if let Ok(Some(v)) = xattr::get(path, name) {
            marks.insert(name.to_string(), String::from_utf8_lossy(&v).into_owned());
        }
    }
    if cfg!(windows)
        && let Ok(text) = std::fs::read_to_string(stream(path))
    {
        marks.insert(ZONE_STREAM.to_string(), text);
    }
    marks
}

/// Copies every origin mark of `from` onto `to`, as an application that
/// propagates them does; returns the names copied.
pub fn copy(from: &Path, to: &Path) -> Result<Vec<String>, String> {
    let marks = read(from);
    for (name, value) in &marks {
        if name == ZONE_STREAM {
            std::fs::write(stream(to), value)
                .map_err(|e| format!("write {}: {e}", stream(to).display()))?;
        } else {
            #[cfg(unix)]
            xattr::set(to, name, value.as_bytes())
                .map_err(|e| format!("set {name} on {}: {e}", to.display()))?;
        }
    }
    Ok(marks.into_keys().collect())
}

/// Sets one mark on `path`: an extended attribute on Unix, the
/// `Zone.Identifier` stream when `name` is [`ZONE_STREAM`].
pub fn set(path: &Path, name: &str, value: &str) -> Result<(), String> {
    if name == ZONE_STREAM {
        return std::fs::write(stream(path), value)
            .map_err(|e| format!("write {}: {e}", stream(path).display()));
    }
    #[cfg(unix)]
    return xattr::set(path, name, value.as_bytes())
        .map_err(|e| format!("set {name} on {}: {e}", path.display()));
    #[cfg(not(unix))]
    Err(format!(
        "extended attribute {name} on {}: not on this host",
        path.display()
    ))
}

fn stream(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(":");
    s.push(ZONE_STREAM);
    PathBuf::from(s)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn marks_are_read_and_copied_as_they_are() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let (a, b) = (dir.path().join("a.zip"), dir.path().join("b.desktop"));
        std::fs::write(&a, b"a").map_err(|e| e.to_string())?;
        std::fs::write(&b, b"b").map_err(|e| e.to_string())?;
        assert!(read(&a).is_empty());
        set(&a, "user.xdg.origin.url", "http://127.0.0.1:1/files/a.zip")?;
        assert_eq!(copy(&a, &b)?, ["user.xdg.origin.url"]);
        assert_eq!(
            read(&b).get("user.xdg.origin.url").map(String::as_str),
            Some("http://127.0.0.1:1/files/a.zip")
        );
        Ok(())
    }
}
