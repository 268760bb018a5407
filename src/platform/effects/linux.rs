//! Linux: processes through /proc, images through a loop mount or FUSE
//! ([`super::linux_mount`]), origin marks as `user.xdg.*` xattrs. No
//! registry.

use std::path::Path;
use std::time::{Duration, Instant};

use super::linux_mount;
use super::{Effects, Mounted, Tidied};

/// The Linux host.
pub struct Linux;

impl Effects for Linux {
    fn mount_unavailable(&self) -> Option<String> {
        linux_mount::unavailable()
    }

    fn mount(
        &self,
        image: &Path,
        at: Option<&Path>,
        env: &[(&str, &str)],
    ) -> Result<Mounted, String> {
        let at = at.ok_or_else(|| "Linux mounts at a planned folder; none given".to_string())?;
        linux_mount::mount(image, at, env)
    }

    fn is_mounted(&self, handle: &Path) -> bool {
        linux_mount::is_mounted(handle)
    }

    fn unmount(&self, handle: &Path) -> Result<bool, String> {
        linux_mount::unmount(handle)
    }

    fn after_unmount(&self, env_entry: &str, handle: &Path) -> Tidied {
        // The FUSE daemon exits by itself once unmounted; a SIGTERM from the
        // process sweep in the middle of its own bookkeeping is what left
        // stale lines in its mount table.
        let daemon = |pid: &u32| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim_end() == "fuseiso")
        };
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.token_processes(env_entry).iter().any(daemon) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        linux_mount::scrub_mount_table(linux_mount::fuseiso_mtab(), handle)
    }

    fn set_xattr(&self, path: &Path, name: &str, value: &str) -> Result<(), String> {
        xattr::set(path, name, value.as_bytes())
            .map_err(|e| format!("set {name} on {}: {e}", path.display()))
    }

    fn token_processes(&self, entry: &str) -> Vec<u32> {
        let me = std::process::id();
        let Ok(proc) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let mut pids = Vec::new();
        for item in proc.flatten() {
            let Some(pid) = item
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if pid == me {
                continue;
            }
            let environ = std::fs::read(item.path().join("environ")).unwrap_or_default();
            if environ.split(|b| *b == 0).any(|e| e == entry.as_bytes()) {
                pids.push(pid);
            }
        }
        pids
    }

    fn start_ticks(&self, pid: u32) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name may hold spaces and parentheses: fields start after the last ')'.
        let rest = &stat[stat.rfind(')')? + 1..];
        rest.split_whitespace().nth(19)?.parse().ok()
    }

    fn looks_like_harness(&self, pid: u32) -> bool {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains("chainproof"))
    }

    fn delete_registry_keys(&self, _keys: &[String]) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_known_by_its_start_and_name() {
        let me = std::process::id();
        let ticks = Linux.start_ticks(me);
        assert!(ticks.is_some());
        assert_eq!(Linux.start_ticks(me), ticks);
        assert_eq!(Linux.start_ticks(u32::MAX - 7), None);
        assert!(
            Linux.looks_like_harness(me),
            "the test binary is chainproof's"
        );
        assert!(
            !Linux
                .token_processes("CHAINPROOF_TOKEN=cp-no-such-token")
                .contains(&me)
        );
    }
}
