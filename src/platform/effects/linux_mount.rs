//! Linux: mounting a disk image read-only and unmounting it, and
//! fuseiso's mount table.
//!
//! On Linux the order of preference is a kernel loop mount where the kernel
//! has iso9660, then FUSE `fuseiso`. This machine's kind has no iso9660
//! driver and no loadable modules, so FUSE is the path that is exercised;
//! the loop mount is tried first only when `/proc/filesystems` lists iso9660.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Mounted, Tidied, which};

const LOOP: &str = "loop";
const FUSEISO: &str = "fuseiso";

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

/// Mounts `image` read-only at `mount_point` (created), with `env` given to
/// the mount daemon so cleanup can find it by token.
pub fn mount(image: &Path, mount_point: &Path, env: &[(&str, &str)]) -> Result<Mounted, String> {
    std::fs::create_dir_all(mount_point)
        .map_err(|e| format!("create {}: {e}", mount_point.display()))?;
    let (method, mut cmd) = if kernel_has_iso9660() && crate::platform::host::is_privileged() {
        let mut c = Command::new("mount");
        c.args(["-t", "iso9660", "-o", "loop,ro"])
            .arg(image)
            .arg(mount_point);
        (LOOP, c)
    } else {
        // `-n`: fuseiso otherwise keeps `$HOME/.mtab.fuseiso` (the home of
        // the user's passwd entry, whatever `HOME` says), a file outside the
        // run directory that a lazy unmount followed by the sweep's SIGTERM
        // leaves with a stale line about 3 % of the time.
        let mut c = Command::new("fuseiso");
        c.arg("-n").arg(image).arg(mount_point);
        (FUSEISO, c)
    };
    cmd.envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let out = cmd.output().map_err(|e| format!("start {method}: {e}"))?;
    if !out.status.success() || !is_mounted(mount_point) {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(format!("{method} failed ({}): {stderr}", out.status));
    }
    Ok(Mounted {
        method,
        point: mount_point.to_path_buf(),
    })
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

/// fuseiso's mount table of the current user (`~/.mtab.fuseiso`, where
/// `~` is the passwd entry's home: fuseiso ignores `HOME`).
pub fn fuseiso_mtab() -> Option<PathBuf> {
    let user = nix::unistd::User::from_uid(nix::unistd::getuid()).ok()??;
    Some(user.dir.join(".mtab.fuseiso"))
}

/// Removes from fuseiso's mount table `mtab` every line whose mount point
/// (its second field) is `mount_point`, rewriting the file in place through
/// a sibling temporary file. Returns how many lines went. Other lines, and
/// a table that names no such mount, are left untouched.
pub fn remove_mtab_lines(
    mtab: &std::path::Path,
    mount_point: &std::path::Path,
) -> std::io::Result<usize> {
    let text = match std::fs::read_to_string(mtab) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    // getmntent-style tables escape space, tab, newline and backslash as
    // octal; accept the field either way.
    let want = mount_point.to_string_lossy().to_string();
    let escaped: String = want
        .chars()
        .map(|c| match c {
            ' ' | '\t' | '\n' | '\\' => format!("\\{:03o}", c as u32),
            c => c.to_string(),
        })
        .collect();
    let names_it = |line: &str| {
        line.split(' ')
            .nth(1)
            .is_some_and(|f| f == want || f == escaped)
    };
    let gone = text.lines().filter(|l| names_it(l)).count();
    if gone == 0 {
        return Ok(0);
    }
    let mut kept: String = text
        .lines()
        .filter(|l| !names_it(l))
        .map(|l| format!("{l}\n"))
        .collect();
    if !text.ends_with('\n') && kept.ends_with('\n') {
        kept.pop();
    }
    let tmp = mtab.with_extension(format!("chainproof-{}", std::process::id()));
    std::fs::write(&tmp, kept)?;
    std::fs::rename(&tmp, mtab)?;
    Ok(gone)
}

/// Removes lines naming `mount_point` from fuseiso's mount table `mtab`
/// (left there by versions that mounted without `-n`).
pub fn scrub_mount_table(mtab: Option<PathBuf>, mount_point: &Path) -> Tidied {
    let mut tidied = Tidied::default();
    let Some(mtab) = mtab else {
        return tidied;
    };
    match remove_mtab_lines(&mtab, mount_point) {
        Ok(0) => {}
        Ok(n) => tidied.removed.push(format!(
            "{} ({n} stale line(s) of this run)",
            mtab.display()
        )),
        Err(e) => tidied.problems.push(format!(
            "remove this run's line from {}: {e}",
            mtab.display()
        )),
    }
    tidied
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn mtab_lines_of_other_mounts_stay() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let mtab = dir.path().join(".mtab.fuseiso");
        let ours = "/w/chainproof-cp1/media/Setup-cp1";
        std::fs::write(
            &mtab,
            format!(
                "/a.iso /mnt/user fuseiso defaults 0 0\n/w/I.iso {ours} fuseiso defaults 0 0\n/b.iso {ours}-2 fuseiso defaults 0 0\n"
            ),
        )?;
        assert_eq!(remove_mtab_lines(&mtab, std::path::Path::new(ours))?, 1);
        assert_eq!(
            std::fs::read_to_string(&mtab)?,
            format!(
                "/a.iso /mnt/user fuseiso defaults 0 0\n/b.iso {ours}-2 fuseiso defaults 0 0\n"
            )
        );
        let before = std::fs::metadata(&mtab)?.modified()?;
        assert_eq!(remove_mtab_lines(&mtab, std::path::Path::new(ours))?, 0);
        assert_eq!(
            std::fs::metadata(&mtab)?.modified()?,
            before,
            "untouched when nothing matches"
        );
        assert_eq!(
            remove_mtab_lines(&dir.path().join("absent"), std::path::Path::new(ours))?,
            0
        );
        Ok(())
    }

    #[test]
    fn a_stale_mount_table_line_of_the_run_is_removed_and_reported() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let mtab = dir.path().join(".mtab.fuseiso");
        let mp = dir
            .path()
            .join("chainproof-cp1")
            .join("media")
            .join("Setup-cp1");
        let other = "/x.iso /mnt/other fuseiso defaults 0 0\n";
        std::fs::write(
            &mtab,
            format!("{other}/y.iso {} fuseiso defaults 0 0\n", mp.display()),
        )?;
        let report = scrub_mount_table(Some(mtab.clone()), &mp);
        assert_eq!(std::fs::read_to_string(&mtab)?, other);
        assert_eq!(report.removed.len(), 1, "{report:?}");
        assert!(report.problems.is_empty(), "{report:?}");
        let again = scrub_mount_table(Some(mtab), &mp);
        assert_eq!(again, Tidied::default());
        Ok(())
    }
}
