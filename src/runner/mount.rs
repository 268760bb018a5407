//! Mounting a disk image read-only and unmounting it.
//!
//! On Linux the order of preference is a kernel loop mount where the kernel
//! has iso9660, then FUSE `fuseiso`. This machine's kind has no iso9660
//! driver and no loadable modules, so FUSE is the path that is exercised;
//! the loop mount is tried first only when `/proc/filesystems` lists iso9660.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How an image was mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `mount -o loop,ro -t iso9660`.
    Loop,
    /// `fuseiso` (FUSE).
    Fuseiso,
}

impl Method {
    /// Name for the record.
    pub fn name(self) -> &'static str {
        match self {
            Method::Loop => "loop",
            Method::Fuseiso => "fuseiso",
        }
    }
}

/// Why an image cannot be mounted here, or `None` when it can.
pub fn unavailable() -> Option<String> {
    if kernel_has_iso9660() && crate::platform::host::is_privileged() {
        return None;
    }
    if which("fuseiso").is_none() {
        return Some("no iso9660 in the kernel and no `fuseiso` (Debian package fuseiso)".into());
    }
    if which("fusermount")
        .or_else(|| which("fusermount3"))
        .is_none()
    {
        return Some("no `fusermount` to unmount a FUSE image (Debian package fuse3)".into());
    }
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
    {
        Ok(_) => None,
        Err(e) => Some(format!(
            "cannot open /dev/fuse ({e}); FUSE needs root on this host"
        )),
    }
}

fn kernel_has_iso9660() -> bool {
    std::fs::read_to_string("/proc/filesystems")
        .map(|t| t.lines().any(|l| l.trim_end().ends_with("iso9660")))
        .unwrap_or(false)
}

/// Looks `program` up on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Mounts `image` read-only at `mount_point` (created), with `env` given to
/// the mount daemon so cleanup can find it by token.
pub fn mount(
    image: &Path,
    mount_point: Option<&Path>,
    env: &[(&str, &str)],
) -> Result<(Method, PathBuf), String> {
    let mount_point = mount_point.ok_or_else(|| "no mount point planned".to_string())?;
    std::fs::create_dir_all(mount_point)
        .map_err(|e| format!("create {}: {e}", mount_point.display()))?;
    let (method, mut cmd) = if kernel_has_iso9660() && crate::platform::host::is_privileged() {
        let mut c = Command::new("mount");
        c.args(["-t", "iso9660", "-o", "loop,ro"])
            .arg(image)
            .arg(mount_point);
        (Method::Loop, c)
    } else {
        // `-n`: fuseiso otherwise keeps `$HOME/.mtab.fuseiso` (the home of
        // the user's passwd entry, whatever `HOME` says), a file outside the
        // run directory that a lazy unmount followed by the sweep's SIGTERM
        // leaves with a stale line about 3 % of the time.
        let mut c = Command::new("fuseiso");
        c.arg("-n").arg(image).arg(mount_point);
        (Method::Fuseiso, c)
    };
    cmd.envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let out = cmd
        .output()
        .map_err(|e| format!("start {}: {e}", method.name()))?;
    if !out.status.success() || !is_mounted(mount_point) {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(format!(
            "{} failed ({}): {stderr}",
            method.name(),
            out.status
        ));
    }
    Ok((method, mount_point.to_path_buf()))
}

/// True when `mount_point` is a mount point in this mount namespace.
pub fn is_mounted(mount_point: &Path) -> bool {
    // A FUSE mount whose daemon died cannot be canonicalised; use the path as given.
    let canon = std::fs::canonicalize(mount_point).unwrap_or_else(|_| mount_point.to_path_buf());
    let want = canon.as_os_str().as_encoded_bytes();
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|t| {
            t.lines()
                .any(|l| l.split(' ').nth(4).is_some_and(|f| unescape(f) == want))
        })
        .unwrap_or(false)
}

/// Decodes mountinfo's octal escapes (`\040` space, `\011` tab, `\012`
/// newline, `\134` backslash).
fn unescape(field: &str) -> Vec<u8> {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    out
}

/// Unmounts `mount_point` if mounted; `Ok(true)` when it did.
pub fn unmount(mount_point: &Path) -> Result<bool, String> {
    if !is_mounted(mount_point) {
        return Ok(false);
    }
    let attempts: [(&str, &[&str]); 3] = [
        ("fusermount", &["-u", "-z"]),
        ("fusermount3", &["-u", "-z"]),
        ("umount", &["-l"]),
    ];
    let mut errors = Vec::new();
    for (program, args) in attempts {
        if which(program).is_none() {
            continue;
        }
        let out = Command::new(program)
            .args(args)
            .arg(mount_point)
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() && !is_mounted(mount_point) => return Ok(true),
            Ok(o) => errors.push(format!(
                "{program}: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => errors.push(format!("{program}: {e}")),
        }
    }
    Err(errors.join("; "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn mountinfo_escapes_decode() {
        assert_eq!(
            super::unescape("/tmp/a\\040b\\011c\\012d\\134e"),
            b"/tmp/a b\tc\nd\\e"
        );
        assert_eq!(super::unescape("/plain"), b"/plain");
        assert_eq!(super::unescape("/odd\\9x"), b"/odd\\9x");
    }

    #[test]
    fn root_is_mounted_and_a_plain_folder_is_not() -> std::io::Result<()> {
        assert!(super::is_mounted(std::path::Path::new("/")));
        let dir = tempfile::tempdir()?;
        assert!(!super::is_mounted(dir.path()));
        Ok(())
    }
}
