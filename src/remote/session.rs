//! One target's run: probe it, put the harness there (once per version),
//! run the suite with it, fetch the run folder back, and remove the run's
//! files from the target. Each step is one ssh command run by `sh`; the
//! target needs `uname`, `tar` and the usual file tools (Linux, macOS).

use std::path::{Path, PathBuf};

use super::ssh::{Ssh, SshError, check, quote, tail};
use super::target::Target;
use super::{stop, transfer};

/// What to run on every target.
#[derive(Debug, Clone)]
pub struct Job {
    /// How to call ssh.
    pub ssh: Ssh,
    /// The folder on targets for the harness and per-run files, as a shell
    /// word ([`transfer::remote_dir`]).
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
    /// Verifying the fetched record on the controller.
    Verify,
    /// Not started or cut short: the controller was asked to stop.
    Interrupted,
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
    let mut outcome = steps(job, &ssh, target, dest);
    ssh.close(target);
    if stop::requested(&job.ssh.stop)
        && let Outcome::Failed { step, reason } = &mut outcome
        && *step != Step::Interrupted
    {
        *reason = format!(
            "stopped during the {} step ({reason})",
            super::fleet::step_text(Some(*step))
        );
        *step = Step::Interrupted;
    }
    outcome
}

fn failed(step: Step, reason: impl Into<String>) -> Outcome {
    Outcome::Failed {
        step,
        reason: reason.into(),
    }
}

/// The harness for `target`: given, or ours when the system matches.
fn choose_harness(job: &Job, target: &Target, os: &str, arch: &str) -> Result<PathBuf, String> {
    let (lo, la) = local_system();
    match job.harness.as_ref().or(target.harness.as_ref()) {
        Some(h) => Ok(h.clone()),
        None if os == lo && same_arch(arch, la) => Ok(job.local_exe.clone()),
        None => Err(format!(
            "the target is {os} {arch} and this chainproof is built for {lo} {la}: give a \
             chainproof built for it with --harness or the inventory's `harness`"
        )),
    }
}

fn steps(job: &Job, ssh: &Ssh, target: &Target, dest: &Path) -> Outcome {
    let dir = &job.remote_dir;
    // 1. Probe: reachable, host key known, login works, which system.
    let out = match ssh.exec(target, "uname -s; uname -m", None) {
        Ok(o) => o,
        Err(SshError::Remote { code, stderr }) => {
            return failed(
                Step::Connect,
                format!(
                    "no POSIX `sh` and `uname` there (exit {code}: {stderr}); remote runs need \
                     Linux or macOS targets — on Windows, run chainproof on the host and \
                     `chainproof merge` the records"
                ),
            );
        }
        Err(e) => return failed(Step::Connect, e.to_string()),
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines().map(str::trim);
    let (os, arch) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
    let system = format!("{os} {arch}");
    // 2. The harness, content-addressed: a target runs exactly the bytes
    // we would copy (checked by hash, also when it is already there).
    let harness = match choose_harness(job, target, os, arch) {
        Ok(h) => h,
        Err(why) => return failed(Step::Harness, why),
    };
    let sha = match transfer::file_sha256(&harness) {
        Ok(s) => s,
        Err(e) => {
            let why = format!("cannot read the harness {}: {e}", harness.display());
            return failed(Step::Harness, why);
        }
    };
    let exe = format!(
        "{dir}/bin/chainproof-{}-{}",
        env!("CARGO_PKG_VERSION"),
        &sha[..16]
    );
    let copied = match transfer::ensure_harness(ssh, target, dir, &exe, &harness, &sha) {
        Ok(c) => c,
        Err(e) => return failed(Step::Harness, e.to_string()),
    };
    // 3. Run, in a folder of this run and this target (two addresses of one
    // host, or a shared home, never share one).
    let run_dir = format!(
        "{dir}/runs/{}",
        quote(&format!("{}-{}", job.run_id, target.name))
    );
    let outcome = run_and_fetch(job, ssh, target, dest, &exe, &run_dir);
    let keep = matches!(&outcome, Err((_, _, true)));
    if stop::requested(&ssh.stop) {
        // Tell the run there to stop; it cleans up and exits, and a
        // background shell removes its folder once it has.
        let pid = format!("$(cat {run_dir}/pid 2>/dev/null)");
        let stop_run = format!(
            "kill -TERM {pid} 2>/dev/null; (while kill -0 {pid} 2>/dev/null; do sleep 0.2; done; \
             rm -rf {run_dir}) >/dev/null 2>&1 </dev/null &"
        );
        let mut quick = ssh.clone();
        quick.connect_timeout = 3;
        let _ = quick.command(target, &stop_run).output();
    } else if !keep && let Err(e) = ssh.exec(target, &format!("rm -rf {run_dir}"), None) {
        errln!(
            "warning: {}: could not remove {run_dir} on the target: {}",
            target.name,
            crate::term::safe(&e.to_string())
        );
    }
    match outcome {
        Ok(()) => Outcome::Ran {
            folder: dest.to_path_buf(),
            copied,
            system,
        },
        Err((step, reason, _)) => failed(step, reason),
    }
}

/// The run and the fetch; on failure the step, why, and whether the run's
/// folder must stay on the target (the run there did not end normally: its
/// journal is what `chainproof cleanup` needs).
fn run_and_fetch(
    job: &Job,
    ssh: &Ssh,
    target: &Target,
    dest: &Path,
    exe: &str,
    run_dir: &str,
) -> Result<(), (Step, String, bool)> {
    let mut remote = format!("{exe} run --reports {run_dir}/reports");
    if !job.scenarios.is_empty() {
        transfer::send_scenarios(ssh, target, run_dir, &job.scenarios)
            .map_err(|e| (Step::Run, e.to_string(), false))?;
        remote.push_str(&format!(" --scenarios {run_dir}/scenarios"));
    }
    for a in &job.run_args {
        remote.push(' ');
        remote.push_str(&quote(a));
    }
    // Output goes to a file there first: if the connection drops, the run
    // goes on to its end and cleans up instead of dying on a closed pipe.
    // Its pid is kept for a stop request.
    let remote = format!(
        "mkdir -p {run_dir}/reports || exit 3; {remote} > {run_dir}/run.log 2>&1 </dev/null & \
         echo $! > {run_dir}/pid; wait $!; code=$?; cat {run_dir}/run.log; exit $code"
    );
    let spawned = ssh
        .command(target, &remote)
        .spawn()
        .map_err(|e| (Step::Run, format!("cannot start ssh: {e}"), false))?;
    let out = stop::wait(spawned, &ssh.stop).map_err(|e| (Step::Run, e.to_string(), true))?;
    match out.status.code() {
        // 1: a coverage policy failed there; the record is still whole.
        Some(0 | 1) => {}
        // ssh lost the connection, or was ended: the run there goes on.
        Some(255) | None => {
            return Err((
                Step::Run,
                check(out).err().map(|e| e.to_string()).unwrap_or_default(),
                true,
            ));
        }
        // 2: nothing ran there (a usage or scenario error): nothing to keep.
        Some(code) => {
            let keep = code != 2;
            let why = format!(
                "the run there exited {code}: {} (`chainproof cleanup --reports {run_dir}/reports` \
                 there finishes any cleanup)",
                tail(&out.stdout, 400)
            );
            return Err((Step::Run, why, keep));
        }
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let folder = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("report: "))
        .next_back()
        .and_then(|p| p.trim().rsplit('/').next())
        .filter(|n| {
            n.starts_with(|c: char| c.is_ascii_alphanumeric())
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .map(String::from)
        .ok_or_else(|| {
            let why = format!(
                "the remote run printed no report folder: {}",
                tail(&out.stdout, 300)
            );
            (Step::Run, why, false)
        })?;
    // 4. Fetch the folder as a tar stream.
    let fetch = format!("cd {run_dir}/reports && tar -cf - ./{}", quote(&folder));
    transfer::fetch(ssh, target, &fetch, &folder, dest).map_err(|e| (Step::Fetch, e, false))
}
