//! Windows: images through `Mount-DiskImage` (Windows picks the drive
//! letter; unmounting goes by the image), processes through sysinfo, the
//! run's registry keys through reg.exe. No extended attributes: the origin
//! mark is the `Zone.Identifier` stream, written as a file.

use std::path::{Path, PathBuf};

use super::{Effects, Mounted, Tidied, run, which};
use crate::platform::windows as data;

/// The Windows host.
pub struct Windows;

impl Effects for Windows {
    fn mount_unavailable(&self) -> Option<String> {
        which("powershell.exe").map_or_else(
            || Some("no Windows PowerShell (Mount-DiskImage) on this host".into()),
            |_| None,
        )
    }

    fn mount(
        &self,
        image: &Path,
        _at: Option<&Path>,
        env: &[(&str, &str)],
    ) -> Result<Mounted, String> {
        let out = run(&data::mount_disk_image(&image.display().to_string()), env)?;
        let letter = out
            .lines()
            .map(str::trim)
            .find(|l| l.len() == 1 && l.chars().all(|c| c.is_ascii_alphabetic()))
            .ok_or_else(|| format!("Mount-DiskImage printed no drive letter: {out}"))?;
        Ok(Mounted {
            method: "Mount-DiskImage",
            point: PathBuf::from(format!("{letter}:\\")),
        })
    }

    fn is_mounted(&self, handle: &Path) -> bool {
        let image = handle.display().to_string();
        run(&data::disk_image_attached(&image), &[])
            .is_ok_and(|out| out.trim().eq_ignore_ascii_case("true"))
    }

    fn unmount(&self, handle: &Path) -> Result<bool, String> {
        if !self.is_mounted(handle) {
            return Ok(false);
        }
        run(
            &data::dismount_disk_image(&handle.display().to_string()),
            &[],
        )?;
        Ok(!self.is_mounted(handle))
    }

    fn after_unmount(&self, _env_entry: &str, _handle: &Path) -> Tidied {
        Tidied::default()
    }

    fn set_xattr(&self, path: &Path, name: &str, _value: &str) -> Result<(), String> {
        Err(format!(
            "set {name} on {}: Windows has no extended attributes",
            path.display()
        ))
    }

    fn delete_registry_keys(&self, keys: &[String]) -> Vec<String> {
        let mut problems = Vec::new();
        let status = |argv: &[String]| {
            std::process::Command::new(&argv[0])
                .args(&argv[1..])
                .stdin(std::process::Stdio::null())
                .output()
        };
        for key in keys {
            // reg.exe query: 0 found, 1 not found; anything else is a problem.
            match status(&data::reg_query(key)).map(|o| o.status.code()) {
                Ok(Some(0)) => {}
                Ok(Some(1)) => continue,
                Ok(code) => {
                    problems.push(format!("query registry key {key}: exit {code:?}"));
                    continue;
                }
                Err(e) => {
                    problems.push(format!("query registry key {key}: {e}"));
                    continue;
                }
            }
            match status(&data::reg_delete(key)) {
                Ok(o) if o.status.success() => {}
                Ok(o) => problems.push(format!(
                    "delete registry key {key}: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                )),
                Err(e) => problems.push(format!("delete registry key {key}: {e}")),
            }
        }
        problems
    }
}
