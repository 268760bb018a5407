//! What every test shares: a lab directory, root checks, residue checks.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Chains run one at a time on a host, as `chainproof run` runs them; tests
/// that run chains take this lock so their ground truth is not captured
/// under the load of other tests' chains.
static HOST: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn host() -> std::sync::MutexGuard<'static, ()> {
    HOST.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
    pub fn record(&self) -> Value {
        let dirs: Vec<PathBuf> = std::fs::read_dir(self.reports())
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.join("run.json").exists())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(dirs.len(), 1, "expected one report folder, found {dirs:?}");
        let text = std::fs::read_to_string(dirs[0].join("run.json")).unwrap_or_default();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("run.json: {e}"))
    }
    /// Nothing of the run is left: no process with a token, no mount, no run directory.
    pub fn assert_no_residue(&self, tokens: &[String]) {
        for token in tokens {
            assert!(
                token_processes(token).is_empty(),
                "processes of {token} are still running"
            );
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

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Tests that need root fail under CI when it is missing, and say so elsewhere.
pub fn needs_root(test: &str) -> bool {
    if is_root() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test} needs root, and CI must run as root"
    );
    eprintln!("{test}: needs root; not run");
    false
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
