//! The audit rules the T1204.002 hops need, and installing or removing them
//! with `auditctl` (`docs/audit-rules.md`). Only rules carrying chainproof's
//! keys are ever added or removed; the host's own rules stay as they are.

use std::path::Path;
use std::process::Command;

/// Key of the process-execution rules.
pub const KEY_EXEC: &str = "chainproof_exec";
/// Key of the file-creation rules.
pub const KEY_FILE: &str = "chainproof_file";
/// Backlog the kernel needs for bursts of executions (its default is 64).
pub const BACKLOG: u32 = 8192;

/// Folders where downloads and mounted media land: file creation there is watched.
pub const WATCHED: [&str; 4] = ["/tmp", "/home", "/media", "/run/media"];

/// The rules as `auditctl` arguments, one rule per line. Folders that do not
/// exist on this host are left out (auditctl refuses them).
pub fn rules() -> Vec<String> {
    let mut all = vec![
        format!("-a always,exit -F arch=b64 -S execve,execveat -k {KEY_EXEC}"),
        format!("-a always,exit -F arch=b32 -S execve,execveat -k {KEY_EXEC}"),
    ];
    // Only creations: O_CREAT (0100 octal) in open's a1 or openat's a2,
    // creat, and renames — plain reads of these busy folders stay out.
    for dir in WATCHED.iter().filter(|d| Path::new(d).is_dir()) {
        let tail = format!("-F dir={dir} -F success=1 -k {KEY_FILE}");
        all.push(format!(
            "-a always,exit -F arch=b64 -S openat -F a2&0100 {tail}"
        ));
        all.push(format!(
            "-a always,exit -F arch=b64 -S open -F a1&0100 {tail}"
        ));
        all.push(format!(
            "-a always,exit -F arch=b64 -S creat,rename,renameat,renameat2 {tail}"
        ));
    }
    all
}

fn auditctl(args: &[&str]) -> Result<String, String> {
    let out = Command::new("auditctl")
        .args(args)
        .output()
        .map_err(|e| format!("run auditctl: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).to_string())
    } else {
        Err(format!(
            "auditctl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Raises the backlog and adds the rules (after removing older copies of
/// them). On failure, removes what it added. Returns the rules added.
pub fn install() -> Result<Vec<String>, String> {
    remove()?;
    auditctl(&["-b", &BACKLOG.to_string()])?;
    let mut added = Vec::new();
    for rule in rules() {
        let args: Vec<&str> = rule.split(' ').collect();
        if let Err(e) = auditctl(&args) {
            let _ = remove();
            return Err(e);
        }
        added.push(rule);
    }
    Ok(added)
}

/// Removes every rule carrying chainproof's keys; returns how many were there.
pub fn remove() -> Result<usize, String> {
    let before = installed()?;
    for key in [KEY_EXEC, KEY_FILE] {
        if before.iter().any(|r| r.contains(&format!("key={key}"))) {
            auditctl(&["-D", "-k", key])?;
        }
    }
    Ok(before.len())
}

/// The pid of the audit daemon the kernel sends its records to, `None`
/// when none is (`auditctl -s` says `pid 0`).
pub fn daemon_pid() -> Result<Option<u32>, String> {
    Ok(parse_status_pid(&auditctl(&["-s"])?))
}

/// The `pid` line of `auditctl -s`.
fn parse_status_pid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("pid "))
        .and_then(|p| p.trim().parse().ok())
        .filter(|p| *p != 0)
}

/// chainproof's rules currently loaded in the kernel.
pub fn installed() -> Result<Vec<String>, String> {
    Ok(auditctl(&["-l"])?
        .lines()
        .filter(|l| {
            l.contains(&format!("key={KEY_EXEC}")) || l.contains(&format!("key={KEY_FILE}"))
        })
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_daemon_pid_is_read_from_the_status() {
        let status = "enabled 1\nfailure 1\npid 1668\nrate_limit 0\n";
        assert_eq!(super::parse_status_pid(status), Some(1668));
        assert_eq!(super::parse_status_pid("enabled 1\npid 0\n"), None);
        assert_eq!(super::parse_status_pid(""), None);
    }

    #[test]
    fn rules_cover_both_abis_and_carry_keys() {
        let rules = super::rules();
        assert!(
            rules
                .iter()
                .any(|r| r.contains("arch=b64 -S execve,execveat"))
        );
        assert!(
            rules
                .iter()
                .any(|r| r.contains("arch=b32 -S execve,execveat"))
        );
        assert!(
            rules.iter().any(|r| r.contains("-F dir=/tmp")),
            "/tmp always exists"
        );
        assert!(
            rules
                .iter()
                .all(|r| r.ends_with("-k chainproof_exec") || r.ends_with("-k chainproof_file"))
        );
    }
}
