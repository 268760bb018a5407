//! Mounting a disk image read-only and unmounting it on Windows
//! (`Mount-DiskImage`, which picks a drive letter) and macOS (`hdiutil
//! attach` at the run directory's mount point). The commands are data from
//! [`crate::platform`]; this file runs them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How an image was mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Windows `Mount-DiskImage`.
    MountDiskImage,
    /// macOS `hdiutil attach`.
    Hdiutil,
}

impl Method {
    /// Name for the record.
    pub fn name(self) -> &'static str {
        match self {
            Method::MountDiskImage => "Mount-DiskImage",
            Method::Hdiutil => "hdiutil",
        }
    }
}

/// Why an image cannot be mounted here, or `None` when it can.
pub fn unavailable() -> Option<String> {
    let (tool, what) = if cfg!(windows) {
        ("powershell.exe", "Windows PowerShell (Mount-DiskImage)")
    } else {
        ("hdiutil", "hdiutil")
    };
    which(tool).map_or_else(|| Some(format!("no {what} on this host")), |_| None)
}

/// The full path of `program` on `PATH` (or `program` itself when it is a
/// path to an existing file).
pub fn which(program: &str) -> Option<PathBuf> {
    let p = PathBuf::from(program);
    if p.is_absolute() {
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    let exts: &[&str] = if cfg!(windows) { &["", ".exe"] } else { &[""] };
    std::env::split_paths(&path)
        .flat_map(|d| exts.iter().map(move |e| d.join(format!("{program}{e}"))))
        .find(|p| p.is_file())
}

fn run(argv: &[String], env: &[(&str, &str)]) -> Result<String, String> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| "empty command".to_string())?;
    let out = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("start {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            crate::platform::show(argv),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Mounts `image` read-only. macOS attaches it at `mount_point`; Windows
/// chooses a drive letter. Returns the method and where it is mounted.
pub fn mount(
    image: &Path,
    mount_point: Option<&Path>,
    env: &[(&str, &str)],
) -> Result<(Method, PathBuf), String> {
    let image_text = image.display().to_string();
    if cfg!(windows) {
        let out = run(
            &crate::platform::windows::mount_disk_image(&image_text),
            env,
        )?;
        let letter = out
            .lines()
            .map(str::trim)
            .find(|l| l.len() == 1 && l.chars().all(|c| c.is_ascii_alphabetic()))
            .ok_or_else(|| format!("Mount-DiskImage printed no drive letter: {out}"))?;
        return Ok((
            Method::MountDiskImage,
            PathBuf::from(format!("{letter}:\\")),
        ));
    }
    let mount_point = mount_point.ok_or_else(|| "no mount point planned".to_string())?;
    std::fs::create_dir_all(mount_point)
        .map_err(|e| format!("create {}: {e}", mount_point.display()))?;
    let mp = mount_point.display().to_string();
    run(
        &crate::platform::macos::hdiutil_attach(&image_text, &mp),
        env,
    )?;
    Ok((Method::Hdiutil, mount_point.to_path_buf()))
}

/// Whether something is mounted at `handle` (see [`handle`]).
pub fn is_mounted(handle: &Path) -> bool {
    if cfg!(windows) {
        let image = handle.display().to_string();
        return run(&crate::platform::windows::disk_image_attached(&image), &[])
            .is_ok_and(|out| out.trim().eq_ignore_ascii_case("true"));
    }
    // A mount point lies on another device than its parent folder.
    let dev = |p: &Path| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(p).map(|m| m.dev()).ok()
        }
        #[cfg(not(unix))]
        {
            std::fs::metadata(p).ok().map(|_| 0u64)
        }
    };
    match (dev(handle), handle.parent().and_then(dev)) {
        (Some(a), Some(b)) => a != b,
        _ => false,
    }
}

/// Unmounts what `handle` names; `Ok(false)` when nothing was mounted.
pub fn unmount(handle: &Path) -> Result<bool, String> {
    if !is_mounted(handle) {
        return Ok(false);
    }
    let text = handle.display().to_string();
    let argv = if cfg!(windows) {
        crate::platform::windows::dismount_disk_image(&text)
    } else {
        crate::platform::macos::hdiutil_detach(&text)
    };
    run(&argv, &[])?;
    Ok(!is_mounted(handle))
}
