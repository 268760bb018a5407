//! What every test shares: a lab directory, prerequisites (the library's
//! own `testing` rules, compiled in here), residue checks.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

mod backend;

pub(crate) use crate::testing::{require, require_root, require_shared, require_tool};
pub use backend::{
    SECRET, assert_secret_absent_from, assert_shell_alerted, by_pid, requests, server,
    splunk_config, verify, write_config,
};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Chains run one at a time on a host, as `chainproof run` runs them; tests
/// that run chains take this lock so their ground truth is not captured
/// under the load of other tests' chains.
static HOST: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn host() -> std::sync::MutexGuard<'static, ()> {
    HOST.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// For a test that runs chains on this host: root (see [`require_root`]),
/// the host lock and a fresh lab; `None` when the test is skipped.
pub fn root_lab() -> Option<(std::sync::MutexGuard<'static, ()>, Lab)> {
    require_root().then(|| (host(), Lab::new()))
}

/// The stdout of an assert_cmd command that must succeed.
pub fn stdout_ok(mut cmd: impl std::borrow::BorrowMut<Command>) -> String {
    let out = cmd
        .borrow_mut()
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap_or_else(|e| panic!("stdout is not UTF-8: {e}"))
}

/// The stderr of an assert_cmd command that must exit with `code`.
pub fn stderr_with(mut cmd: impl std::borrow::BorrowMut<Command>, code: i32) -> String {
    let out = cmd
        .borrow_mut()
        .assert()
        .code(code)
        .get_output()
        .stderr
        .clone();
    String::from_utf8(out).unwrap_or_else(|e| panic!("stderr is not UTF-8: {e}"))
}

pub struct Lab {
    pub dir: tempfile::TempDir,
}

impl Lab {
    pub fn new() -> Lab {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        std::fs::create_dir_all(dir.path().join("work")).unwrap_or_else(|e| panic!("mkdir: {e}"));
        Lab { dir }
    }
    pub fn reports(&self) -> PathBuf {
        self.dir.path().join("reports")
    }
    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }
    /// `chainproof <args>` with reports and run directories inside the lab.
    pub fn run(&self, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("chainproof").unwrap_or_else(|e| panic!("binary: {e}"));
        c.arg("run")
            .args(args)
            .arg("--reports")
            .arg(self.reports())
            .arg("--work-root")
            .arg(self.work());
        c
    }
    /// The run folders (those holding a run.json), sorted: oldest first.
    pub fn folders(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(self.reports())
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.join("run.json").exists())
                    .collect()
            })
            .unwrap_or_default();
        dirs.sort();
        dirs
    }
    /// The folder of the lab's one run.
    pub fn folder(&self) -> PathBuf {
        let dirs = self.folders();
        assert_eq!(dirs.len(), 1, "expected one report folder, found {dirs:?}");
        dirs[0].clone()
    }
    /// The run.json of the lab's one run.
    pub fn run_json(&self) -> PathBuf {
        self.folder().join("run.json")
    }
    /// The record of the lab's one run.
    pub fn record(&self) -> Value {
        read_json(&self.run_json())
    }
    /// Nothing of the run is left: no process with a token, no mount, no run
    /// directory, no journal entry, and none of the files outside the run
    /// directory that the harness or its helpers could touch names the run
    /// (README, "What it touches on the host").
    pub fn assert_no_residue(&self, tokens: &[String]) {
        let home = nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map(|u| u.dir);
        let mtab = home
            .map(|h| std::fs::read_to_string(h.join(".mtab.fuseiso")).unwrap_or_default())
            .unwrap_or_default();
        for token in tokens {
            assert!(
                token_processes(token).is_empty(),
                "processes of {token} are still running"
            );
            assert!(
                !mtab.contains(token.as_str()),
                "fuseiso's mount table names {token}:\n{mtab}"
            );
            for dir in ["/tmp", "/var/tmp", "/dev/shm"] {
                let named: Vec<PathBuf> = entries(std::path::Path::new(dir))
                    .into_iter()
                    .filter(|p| p.to_string_lossy().contains(token.as_str()))
                    .collect();
                assert!(named.is_empty(), "files naming {token} left: {named:?}");
            }
        }
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let work = self.work().display().to_string();
        assert!(
            !mounts.contains(&work),
            "a mount under the run root remains:\n{mounts}"
        );
        let left: Vec<PathBuf> = std::fs::read_dir(self.work())
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "run directories left behind: {left:?}");
        let journal: Vec<PathBuf> = std::fs::read_dir(self.reports().join(".journal"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(
            journal.is_empty(),
            "journal entries left behind: {journal:?}"
        );
    }
}

impl Lab {
    /// The token of a run in the journal whose chain is at its
    /// `/usr/bin/sleep` (with `mounted`, only a run that mounted an image).
    pub fn sleeping_token(&self, mounted: bool) -> Option<String> {
        for entry in std::fs::read_dir(self.reports().join(".journal"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let v: Value = serde_json::from_str(&text).unwrap_or_default();
            let Some(token) = v["token"].as_str() else {
                continue;
            };
            if mounted && v["mount_point"].as_str().is_none() {
                continue;
            }
            let sleeping = token_processes(token).iter().any(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| c.starts_with(b"/usr/bin/sleep"))
            });
            if sleeping {
                return Some(token.to_string());
            }
        }
        None
    }
}

/// The entries of `dir`, sorted (none when it does not exist).
pub fn entries(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    all.sort();
    all
}

/// A JSON file, parsed.
pub fn read_json(path: &std::path::Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Writes `text` to `path` as an executable script.
pub fn write_script(path: &std::path::Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// A Linux scenario (id `slow-macro`) whose chain's shell sleeps `seconds`
/// before its child, written to `<dir>/slow/` and checked with `chainproof
/// validate`. Returns that folder.
pub fn slow_scenario(dir: &std::path::Path, seconds: u32) -> PathBuf {
    let folder = dir.join("slow");
    std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
    let yaml = format!(
        r#"id: slow-macro
title: Macro document whose shell sleeps before its child (tests)
technique: T1204.002
description: A macro document starts a shell that sleeps, then creates a proof file.
variants:
  linux:
    artifact: {{ kind: odt-macro, name: "Invoice-{{token}}.odt" }}
    delivery: {{ via: http, mark_origin: true }}
    open:
      emulated: {{ as: soffice.bin, args: ["--writer", "{{artifact}}"] }}
    chain:
      - run: ["/bin/sh", "-c", "/usr/bin/sleep {seconds}; /usr/bin/touch {{workdir}}/proof-{{token}}.txt; exit 0"]
      - run: ["/usr/bin/touch", "{{workdir}}/proof-{{token}}.txt"]
    proof: "{{workdir}}/proof-{{token}}.txt"
    timeout: 120s
expect:
  observe: [file, open, spawn]
  alert: {{ technique: T1204.002, within: 5m, rules: [305adda7-dc83-4e73-b683-2c709d9cc250] }}
"#
    );
    std::fs::write(folder.join("slow-macro.yaml"), yaml).unwrap_or_else(|e| panic!("{e}"));
    Command::cargo_bin("chainproof")
        .unwrap_or_else(|e| panic!("binary: {e}"))
        .arg("validate")
        .arg(&folder)
        .assert()
        .success();
    folder
}

pub fn token_processes(token: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        for file in ["cmdline", "environ"] {
            let bytes = std::fs::read(entry.path().join(file)).unwrap_or_default();
            if bytes.windows(token.len()).any(|w| w == token.as_bytes()) {
                pids.push(pid);
                break;
            }
        }
    }
    pids
}

pub fn tokens(record: &Value) -> Vec<String> {
    record["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["token"].as_str().map(String::from))
        .collect()
}

pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Checks the ground truth of one chain: at least three processes linked
/// parent → child, the opener named as declared, the token everywhere.
pub fn assert_chain(s: &Value, opener: &str) {
    let id = s["id"].as_str().unwrap_or_default();
    let token = s["token"].as_str().unwrap_or_default();
    let procs = s["truth"]["processes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let hops = s["hops"].as_array().cloned().unwrap_or_default();
    let pids: Vec<u64> = hops
        .iter()
        .skip(1)
        .filter_map(|h| h["pid"].as_u64())
        .collect();
    assert!(
        pids.len() >= 3,
        "{id}: fewer than 3 chain processes: {hops:#?}\n{procs:#?}"
    );
    let find = |pid: u64| {
        procs
            .iter()
            .find(|p| p["pid"].as_u64() == Some(pid))
            .cloned()
            .unwrap_or_default()
    };
    let open = find(pids[0]);
    let image = open["image"].as_str().unwrap_or_default();
    assert!(
        basename(image) == opener
            || (opener.ends_with('*') && basename(image).starts_with(opener.trim_end_matches('*'))),
        "{id}: opener image {image}, want {opener}"
    );
    for pair in pids.windows(2) {
        assert_eq!(
            find(pair[1])["ppid"].as_u64(),
            Some(pair[0]),
            "{id}: {} is not the child of {}",
            pair[1],
            pair[0]
        );
    }
    for pid in &pids {
        let cmd = find(*pid)["command_line"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            cmd.contains(token),
            "{id}: command line of {pid} lacks the token: {cmd}"
        );
    }
}

/// Whether the audit daemon owns the kernel's audit socket (`auditctl -s`
/// names its pid).
pub fn auditd_running() -> bool {
    std::process::Command::new("auditctl")
        .arg("-s")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.starts_with("pid ") && l != "pid 0")
        })
        .unwrap_or(false)
}
