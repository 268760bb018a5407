//! One target's run: probe it, put the harness there (once per version),
//! run the suite with it, fetch the run folder back, and remove the run's
//! files from the target. Each step is one ssh command; the target needs a
//! POSIX shell, `uname`, `tar` and the usual file tools (Linux, macOS).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::ssh::{Ssh, SshError, check, quote, tail};
use super::target::Target;

/// What to run on every target.
#[derive(Debug, Clone)]
pub struct Job {
    /// How to call ssh.
    pub ssh: Ssh,
    /// The folder on targets for the harness and per-run files, relative to
    /// the login's home unless absolute.
    pub remote_dir: String,
    /// The controller's own chainproof (copied to targets of its OS and CPU).
    pub local_exe: PathBuf,
    /// A harness for every target (`--harness`), else per target or local.
    pub harness: Option<PathBuf>,
    /// The controller's run id (names the per-run folder on targets).
    pub run_id: String,
    /// Arguments for the remote `chainproof run` (scenario ids, fidelity).
    pub run_args: Vec<String>,
    /// Scenario files to send (file name, text); empty means the built-in set.
    pub scenarios: Vec<(String, String)>,
}

/// The step a target failed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Connecting and asking the OS (unreachable, host key, login).
    Connect,
    /// Choosing or copying the harness.
    Harness,
    /// The remote run.
    Run,
    /// Fetching the run folder.
    Fetch,
}

/// A target's result.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The suite ran and its folder is here.
    Ran {
        /// The fetched run folder.
        folder: PathBuf,
        /// Whether the harness was copied this time (else it was there).
        copied: bool,
        /// `uname -s -m` of the target.
        system: String,
    },
    /// The target could not be run; the others go on.
    Failed {
        /// Where it failed.
        step: Step,
        /// Why, for the user.
        reason: String,
    },
}

fn fail(step: Step) -> impl Fn(SshError) -> Outcome {
    move |e| Outcome::Failed {
        step,
        reason: e.to_string(),
    }
}

/// The `uname -s` / `uname -m` pair a binary built here runs on.
fn local_system() -> (&'static str, &'static str) {
    let os = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Darwin",
        "windows" => "Windows",
        other => other,
    };
    (os, std::env::consts::ARCH)
}

fn same_arch(remote: &str, local: &str) -> bool {
    remote == local || matches!((remote, local), ("arm64", "aarch64") | ("amd64", "x86_64"))
}

/// SHA-256 of a file, hex.
fn file_sha256(path: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

/// Runs `job` on `target`, fetching its run folder to `dest` (which must
/// not exist yet). On Unix the steps share one ssh connection, through a
/// control socket in a private temporary folder, closed at the end.
pub fn run(job: &Job, target: &Target, dest: &Path) -> Outcome {
    let mut ssh = job.ssh.clone();
    let sockets = if cfg!(unix) {
        tempfile::Builder::new().prefix("cp-ssh-").tempdir().ok()
    } else {
        None
    };
    ssh.control = sockets.as_ref().map(|d| d.path().join("c"));
    let outcome = steps(job, &ssh, target, dest);
    ssh.close(target);
    outcome
}

fn steps(job: &Job, ssh: &Ssh, target: &Target, dest: &Path) -> Outcome {
    let dir = quote(&job.remote_dir);
    // 1. Probe: reachable, host key known, login works, which system.
    let out = match ssh.exec(target, "uname -s; uname -m", None) {
        Ok(o) => o,
        Err(SshError::Remote { code, stderr }) => {
            return Outcome::Failed {
                step: Step::Connect,
                reason: format!(
                    "the login shell there is not a POSIX shell (`uname` exited {code}: \
                     {stderr}); remote runs need Linux or macOS targets — on Windows, run \
                     chainproof on the host and `chainproof merge` the records"
                ),
            };
        }
        Err(e) => return fail(Step::Connect)(e),
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines().map(str::trim);
    let (os, arch) = (
        lines.next().unwrap_or("").to_string(),
        lines.next().unwrap_or("").to_string(),
    );
    let system = format!("{os} {arch}");
    // 2. The harness: the target's own, else ours when the system matches.
    let (lo, la) = local_system();
    let harness = match job.harness.as_ref().or(target.harness.as_ref()) {
        Some(h) => h.clone(),
        None if os == lo && same_arch(&arch, la) => job.local_exe.clone(),
        None => {
            return Outcome::Failed {
                step: Step::Harness,
                reason: format!(
                    "the target is {system} and this chainproof is built for {lo} {la}: \
                     give a chainproof built for it with --harness or the inventory's `harness`"
                ),
            };
        }
    };
    let sha = match file_sha256(&harness) {
        Ok(s) => s,
        Err(e) => {
            return Outcome::Failed {
                step: Step::Harness,
                reason: format!("cannot read the harness {}: {e}", harness.display()),
            };
        }
    };
    // Content-addressed: a target runs exactly the bytes we would copy.
    let exe = format!(
        "{dir}/bin/chainproof-{}-{}",
        env!("CARGO_PKG_VERSION"),
        &sha[..16]
    );
    let copied = match ensure_harness(ssh, target, &dir, &exe, &harness) {
        Ok(c) => c,
        Err(e) => return fail(Step::Harness)(e),
    };
    // 3. Run: scenario files sent first, reports in a per-run folder.
    let run_dir = format!("{dir}/runs/{}", quote(&job.run_id));
    let mut remote = format!("{exe} run --reports {run_dir}/reports");
    if !job.scenarios.is_empty() {
        if let Err(e) = send_scenarios(ssh, target, &run_dir, &job.scenarios) {
            return fail(Step::Run)(e);
        }
        remote.push_str(&format!(" --scenarios {run_dir}/scenarios"));
    }
    for a in &job.run_args {
        remote.push(' ');
        remote.push_str(&quote(a));
    }
    // Output goes to a file there first: if the connection drops, the run
    // goes on to its end and cleans up instead of dying on a closed pipe.
    let remote = format!(
        "mkdir -p {run_dir}/reports && {{ {remote} > {run_dir}/run.log 2>&1; code=$?; \
         cat {run_dir}/run.log; exit $code; }}"
    );
    let out = match ssh.command(target, &remote).output() {
        Ok(o) => o,
        Err(e) => {
            return Outcome::Failed {
                step: Step::Run,
                reason: format!("cannot start ssh: {e}"),
            };
        }
    };
    // 0: done; 1: a coverage policy failed, the record is still whole.
    if !matches!(out.status.code(), Some(0 | 1)) {
        let why = match check(out) {
            Err(e) => e.to_string(),
            Ok(_) => "the remote run exited without a status".into(),
        };
        return Outcome::Failed {
            step: Step::Run,
            reason: format!(
                "{why} (its journal is kept under {run_dir}/reports on the target: \
                 `chainproof cleanup --reports {run_dir}/reports` there finishes any cleanup)"
            ),
        };
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(folder) = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("report: "))
        .next_back()
        .and_then(|p| p.trim().rsplit('/').next())
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(String::from)
    else {
        return Outcome::Failed {
            step: Step::Run,
            reason: format!(
                "the remote run printed no report folder: {}",
                tail(&out.stdout, 300)
            ),
        };
    };
    // 4. Fetch the folder as a tar stream, then remove the run's files.
    let fetch = format!("cd {run_dir}/reports && tar -cf - {}", quote(&folder));
    if let Err(reason) = fetch_tar(ssh, target, &fetch, &folder, dest) {
        return Outcome::Failed {
            step: Step::Fetch,
            reason,
        };
    }
    if let Err(e) = ssh.exec(target, &format!("rm -rf {run_dir}"), None) {
        // The record is here; the leftover is only our own report folder.
        eprintln!(
            "warning: {}: could not remove {run_dir} on the target: {e}",
            target.name
        );
    }
    Outcome::Ran {
        folder: dest.to_path_buf(),
        copied,
        system,
    }
}

/// Copies the harness unless the target has these exact bytes already;
/// `Ok(true)` when it copied.
fn ensure_harness(
    ssh: &Ssh,
    target: &Target,
    dir: &str,
    exe: &str,
    harness: &Path,
) -> Result<bool, SshError> {
    let check = format!("if [ -x {exe} ]; then echo present; else echo absent; fi");
    let out = ssh.exec(target, &check, None)?;
    let copied = if String::from_utf8_lossy(&out.stdout).trim() == "present" {
        false
    } else {
        let file = std::fs::File::open(harness).map_err(|e| SshError::Spawn {
            program: harness.display().to_string(),
            message: e.to_string(),
        })?;
        let upload = format!(
            "umask 077 && mkdir -p {dir}/bin && cat > {exe}.part && chmod 700 {exe}.part \
             && mv -f {exe}.part {exe}"
        );
        ssh.exec(target, &upload, Some(file))?;
        true
    };
    let out = ssh.exec(target, &format!("{exe} --version"), None)?;
    let version = String::from_utf8_lossy(&out.stdout);
    if !version.starts_with("chainproof ") {
        return Err(SshError::Remote {
            code: 0,
            stderr: format!(
                "{exe} --version printed {:?}, not chainproof's version",
                tail(&out.stdout, 80)
            ),
        });
    }
    Ok(copied)
}

fn send_scenarios(
    ssh: &Ssh,
    target: &Target,
    run_dir: &str,
    files: &[(String, String)],
) -> Result<(), SshError> {
    ssh.exec(target, &format!("mkdir -p {run_dir}/scenarios"), None)?;
    for (name, text) in files {
        let mut tmp = tempfile::tempfile().map_err(|e| SshError::Spawn {
            program: "a temporary file".into(),
            message: e.to_string(),
        })?;
        use std::io::{Seek, Write};
        tmp.write_all(text.as_bytes())
            .and_then(|_| tmp.rewind())
            .map_err(|e| SshError::Spawn {
                program: "a temporary file".into(),
                message: e.to_string(),
            })?;
        let put = format!("cat > {run_dir}/scenarios/{}", quote(name));
        ssh.exec(target, &put, Some(tmp))?;
    }
    Ok(())
}

/// Streams `remote` (a `tar -cf -` of `folder`) into `dest`. Entries that
/// would land outside the staging folder are refused by the tar reader.
fn fetch_tar(
    ssh: &Ssh,
    target: &Target,
    remote: &str,
    folder: &str,
    dest: &Path,
) -> Result<(), String> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    let staging = tempfile::Builder::new()
        .prefix(".fetch-")
        .tempdir_in(parent)
        .map_err(|e| format!("cannot create a folder in {}: {e}", parent.display()))?;
    let mut child = ssh
        .command(target, remote)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start ssh: {e}"))?;
    let unpacked = match child.stdout.take() {
        Some(out) => tar::Archive::new(out).unpack(staging.path()),
        None => Err(std::io::Error::other("no output pipe")),
    };
    let out = child
        .wait_with_output()
        .map_err(|e| format!("ssh failed: {e}"))?;
    check(out).map_err(|e| e.to_string())?;
    unpacked.map_err(|e| format!("the fetched archive is not valid: {e}"))?;
    std::fs::rename(staging.path().join(folder), dest)
        .map_err(|e| format!("the fetched archive has no folder {folder} ({e}); nothing was kept"))
}
