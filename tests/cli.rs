//! End-to-end tests of the `chainproof` binary, each in a fresh temporary
//! directory (reports, journal and run directories all inside it).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Chains run one at a time on a host, as `chainproof run` runs them; tests
/// that run chains take this lock so their ground truth is not captured
/// under the load of other tests' chains.
static HOST: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn host() -> std::sync::MutexGuard<'static, ()> {
    HOST.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        std::fs::create_dir_all(dir.path().join("work")).unwrap_or_else(|e| panic!("mkdir: {e}"));
        Lab { dir }
    }
    fn reports(&self) -> PathBuf {
        self.dir.path().join("reports")
    }
    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }
    /// `chainproof <args>` with reports and run directories inside the lab.
    fn run(&self, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("chainproof").unwrap_or_else(|e| panic!("binary: {e}"));
        c.arg("run")
            .args(args)
            .arg("--reports")
            .arg(self.reports())
            .arg("--work-root")
            .arg(self.work());
        c
    }
    fn record(&self) -> Value {
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
    fn assert_no_residue(&self, tokens: &[String]) {
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

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Tests that need root fail under CI when it is missing, and say so elsewhere.
fn needs_root(test: &str) -> bool {
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

fn token_processes(token: &str) -> Vec<u32> {
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

fn tokens(record: &Value) -> Vec<String> {
    record["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["token"].as_str().map(String::from))
        .collect()
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Checks the ground truth of one chain: at least three processes linked
/// parent → child, the opener named as declared, the token everywhere.
fn assert_chain(s: &Value, opener: &str) {
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

#[test]
fn default_run_alerts_every_chain_with_linked_ground_truth_and_leaves_nothing() -> TestResult {
    if !needs_root("default run") {
        return Ok(());
    }
    let _host = host();
    let lab = Lab::new();
    let out = lab.run(&[]).assert().success().get_output().stdout.clone();
    let stdout = String::from_utf8(out)?;
    assert!(
        stdout.contains("macro-doc-shell") && stdout.contains("alerted (technique)"),
        "{stdout}"
    );
    let record = lab.record();
    assert_eq!(record["schema"], "chainproof.run/v1");
    let scenarios = record["scenarios"].as_array().cloned().unwrap_or_default();
    assert_eq!(scenarios.len(), 3);
    for s in &scenarios {
        let chain = &s["verification"]["chain"];
        assert_eq!(
            (chain["verdict"].as_str(), chain["grade"].as_str()),
            (Some("alerted"), Some("technique")),
            "{s:#}"
        );
        let opener = match s["id"].as_str() {
            Some("macro-doc-shell") => "soffice.bin",
            Some("shortcut-script") => "nautilus",
            _ => "Setup-cp*",
        };
        assert_chain(s, opener);
        let artifact = s["truth"]["files"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["role"] == "artifact");
        let origin = artifact.map(|f| {
            f["origin"]["user.xdg.origin.url"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        });
        assert!(
            origin.is_some_and(|u| u.starts_with("http://127.0.0.1:")),
            "{}: no origin mark",
            s["id"]
        );
    }
    assert_eq!(scenarios[2]["truth"]["mount"]["unmounted"], true);
    let folder = lab
        .reports()
        .read_dir()?
        .flatten()
        .find(|e| e.path().join("matrix.md").exists());
    assert!(folder.is_some(), "matrix.md not written");
    lab.assert_no_residue(&tokens(&record));
    Ok(())
}

#[test]
fn empty_rule_folder_observes_every_hop_and_alerts_none() -> TestResult {
    if !needs_root("empty rules") {
        return Ok(());
    }
    let _host = host();
    let lab = Lab::new();
    let rules = lab.dir.path().join("no-rules");
    std::fs::create_dir_all(&rules)?;
    lab.run(&["--rules", rules.to_str().unwrap_or_default()])
        .assert()
        .success();
    let record = lab.record();
    for s in record["scenarios"].as_array().into_iter().flatten() {
        for h in s["verification"]["hops"].as_array().into_iter().flatten() {
            assert_eq!(h["verdict"], "observed", "{}: {h}", s["id"]);
        }
        assert_eq!(
            s["verification"]["alerts"].as_array().map(Vec::len),
            Some(0)
        );
        assert_eq!(s["verification"]["chain"]["verdict"], "observed");
    }
    assert_eq!(record["rules"]["count"], 0);
    Ok(())
}

#[test]
fn validate_names_file_line_and_field_and_runs_nothing() -> TestResult {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid");
    for entry in std::fs::read_dir(&fixtures)?.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let want = std::fs::read_to_string(path.with_extension("err"))?;
        let out = Command::cargo_bin("chainproof")?
            .arg("validate")
            .arg(&path)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8(out.stderr)?;
        assert!(
            stderr.contains(want.trim()),
            "{}:\n got: {stderr}\nwant: {want}",
            path.display()
        );
        assert!(stderr.contains("nothing was run"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    let ok = Command::cargo_bin("chainproof")?
        .arg("validate")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(ok)?
            .lines()
            .filter(|l| l.starts_with("ok "))
            .count(),
        3
    );
    Ok(())
}

#[test]
fn dry_run_prints_the_windows_plan_and_executes_nothing() -> TestResult {
    let lab = Lab::new();
    let out = lab
        .run(&["--dry-run", "--platform", "windows"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out)?;
    for want in [
        "macro-doc-shell · windows",
        "WINWORD.EXE",
        "Zone.Identifier",
        "Mount-DiskImage",
        "powershell.exe",
        "nothing was executed",
    ] {
        assert!(text.contains(want), "plan lacks {want}:\n{text}");
    }
    assert!(!lab.reports().exists(), "a dry run wrote reports");
    assert_eq!(
        std::fs::read_dir(lab.work())?.count(),
        0,
        "a dry run created a run directory"
    );
    Ok(())
}

#[test]
fn list_shows_scenarios_by_platform() -> TestResult {
    let out = Command::cargo_bin("chainproof")?
        .arg("list")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out)?;
    for want in [
        "macro-doc-shell",
        "shortcut-script",
        "iso-exec",
        "emulated+real",
        "T1204.002",
    ] {
        assert!(text.contains(want), "list lacks {want}:\n{text}");
    }
    Ok(())
}

/// Starts a slow iso-exec run, waits until its chain is running from the
/// mounted image, and returns the child process and the run's token.
fn start_slow_iso(lab: &Lab) -> Result<(std::process::Child, String), Box<dyn std::error::Error>> {
    let slow = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slow/iso-exec.yaml");
    let bin = assert_cmd::cargo::cargo_bin("chainproof");
    let child = std::process::Command::new(bin)
        .arg("run")
        .arg("--scenarios")
        .arg(&slow)
        .arg("--reports")
        .arg(lab.reports())
        .arg("--work-root")
        .arg(lab.work())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        for entry in std::fs::read_dir(lab.reports().join(".journal"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let v: Value = serde_json::from_str(&text).unwrap_or_default();
            let (Some(token), Some(_)) = (v["token"].as_str(), v["mount_point"].as_str()) else {
                continue;
            };
            let sleeping = token_processes(token).iter().any(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| c.starts_with(b"/usr/bin/sleep"))
            });
            if sleeping {
                return Ok((child, token.to_string()));
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err("the slow iso-exec chain never reached its sleep".into())
}

#[test]
fn sigint_in_the_middle_of_iso_exec_cleans_up() -> TestResult {
    if !needs_root("sigint cleanup") {
        return Ok(());
    }
    let _host = host();
    let lab = Lab::new();
    let (mut child, token) = start_slow_iso(&lab)?;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )?;
    let status = child.wait()?;
    assert_eq!(status.code(), Some(130), "an interrupted run exits 130");
    Command::cargo_bin("chainproof")?
        .arg("cleanup")
        .arg("--reports")
        .arg(lab.reports())
        .assert()
        .success();
    lab.assert_no_residue(&[token]);
    let record = lab.record();
    assert_eq!(record["scenarios"][0]["status"], "interrupted");
    Ok(())
}

#[test]
fn cleanup_finishes_after_sigkill_from_the_journal() -> TestResult {
    if !needs_root("sigkill cleanup") {
        return Ok(());
    }
    let _host = host();
    let lab = Lab::new();
    let (mut child, token) = start_slow_iso(&lab)?;
    child.kill()?;
    child.wait()?;
    assert!(
        !token_processes(&token).is_empty(),
        "SIGKILL should leave the chain behind for cleanup to find"
    );
    let out = Command::cargo_bin("chainproof")?
        .arg("cleanup")
        .arg("--reports")
        .arg(lab.reports())
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone())?;
    assert!(text.contains(&token) && text.contains("removed"), "{text}");
    lab.assert_no_residue(&[token]);
    Ok(())
}

#[test]
fn report_renders_a_record_again_in_every_format() -> TestResult {
    if !needs_root("report") {
        return Ok(());
    }
    let _host = host();
    let lab = Lab::new();
    lab.run(&["macro-doc-shell"]).assert().success();
    let folder = lab
        .reports()
        .read_dir()?
        .flatten()
        .find(|e| e.path().join("run.json").exists())
        .ok_or("no report")?;
    let record = folder.path().join("run.json");
    for (format, want) in [
        ("table", "macro-doc-shell"),
        ("md", "| scenario |"),
        ("json", "\"schema\": \"chainproof.run/v1\""),
    ] {
        let out = Command::cargo_bin("chainproof")?
            .args(["report", "--format", format])
            .arg(&record)
            .assert()
            .success();
        let text = String::from_utf8(out.get_output().stdout.clone())?;
        assert!(text.contains(want), "{format}: {text}");
    }
    Command::cargo_bin("chainproof")?
        .arg("report")
        .arg(lab.dir.path().join("missing.json"))
        .assert()
        .code(2);
    Ok(())
}

#[test]
fn real_libreoffice_runs_the_macro_with_a_throwaway_profile() -> TestResult {
    if !needs_root("real LibreOffice") {
        return Ok(());
    }
    let _host = host();
    if which("soffice").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install LibreOffice (ci/test does)"
        );
        eprintln!("soffice not installed; not run");
        return Ok(());
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let profile = Path::new(&home).join(".config/libreoffice");
    let before = snapshot(&profile);
    let lab = Lab::new();
    lab.run(&["--fidelity", "real", "macro-doc-shell"])
        .timeout(Duration::from_secs(240))
        .assert()
        .success();
    let record = lab.record();
    let s = &record["scenarios"][0];
    assert_eq!(s["fidelity"], "real");
    assert_chain(s, "soffice.bin");
    let shell = s["hops"][2]["pid"].as_u64();
    let procs = s["truth"]["processes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let sh = procs
        .iter()
        .find(|p| p["pid"].as_u64() == shell)
        .cloned()
        .unwrap_or_default();
    assert_eq!(sh["argv"][0], "/bin/sh", "{sh}");
    assert_eq!(
        snapshot(&profile),
        before,
        "the user's LibreOffice profile changed"
    );
    lab.assert_no_residue(&tokens(&record));
    Ok(())
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Paths and modification times below `dir` (empty when it does not exist).
fn snapshot(dir: &Path) -> Vec<(PathBuf, Option<std::time::SystemTime>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push((p.clone(), e.metadata().and_then(|m| m.modified()).ok()));
        }
    }
    out.sort();
    out
}
