//! macOS: images through `hdiutil` at a planned mount point, processes
//! through sysinfo, the quarantine mark as an extended attribute. No
//! registry. Built on every Unix under test, so Linux checks it.

use std::path::Path;

use super::{Effects, Mounted, Tidied, run, which};
use crate::platform::macos as data;

/// The macOS host.
pub struct Macos;

impl Effects for Macos {
    fn mount_unavailable(&self) -> Option<String> {
        which("hdiutil").map_or_else(|| Some("no hdiutil on this host".into()), |_| None)
    }

    fn mount(
        &self,
        image: &Path,
        at: Option<&Path>,
        env: &[(&str, &str)],
    ) -> Result<Mounted, String> {
        let at = at.ok_or_else(|| "macOS mounts at a planned folder; none given".to_string())?;
        std::fs::create_dir_all(at).map_err(|e| format!("create {}: {e}", at.display()))?;
        run(
            &data::hdiutil_attach(&image.display().to_string(), &at.display().to_string()),
            env,
        )?;
        Ok(Mounted {
            method: "hdiutil",
            point: at.to_path_buf(),
        })
    }

    fn is_mounted(&self, handle: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        // A mount point lies on another device than its parent folder.
        let dev = |p: &Path| std::fs::metadata(p).map(|m| m.dev()).ok();
        match (dev(handle), handle.parent().and_then(dev)) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        }
    }

    fn unmount(&self, handle: &Path) -> Result<bool, String> {
        if !self.is_mounted(handle) {
            return Ok(false);
        }
        run(&data::hdiutil_detach(&handle.display().to_string()), &[])?;
        Ok(!self.is_mounted(handle))
    }

    fn after_unmount(&self, _env_entry: &str, _handle: &Path) -> Tidied {
        Tidied::default()
    }

    fn set_xattr(&self, path: &Path, name: &str, value: &str) -> Result<(), String> {
        xattr::set(path, name, value.as_bytes())
            .map_err(|e| format!("set {name} on {}: {e}", path.display()))
    }

    fn delete_registry_keys(&self, _keys: &[String]) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parts of the macOS host that need no macOS, checked on any Unix.
    #[test]
    fn a_plain_folder_is_not_a_mount_and_nothing_is_unmounted() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        assert!(!Macos.is_mounted(dir.path()));
        assert_eq!(Macos.unmount(dir.path()), Ok(false));
        assert!(Macos.is_mounted(Path::new("/proc")) || !Path::new("/proc").exists());
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").map_err(|e| e.to_string())?;
        Macos.set_xattr(&file, "user.chainproof.test", "v")?;
        assert!(Macos.mount(&file, None, &[]).is_err(), "no planned folder");
        Ok(())
    }
}
