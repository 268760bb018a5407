//! Many targets at once: each runs [`session::run`] on a worker thread, at
//! most `parallel` at a time; a target that fails is reported and the others
//! go on. Results come back in the order the targets were given.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde::Serialize;

use super::session::{self, Job, Outcome, Step};
use super::target::Target;

/// One target's result.
#[derive(Debug, Clone)]
pub struct TargetResult {
    /// The target.
    pub target: Target,
    /// What happened.
    pub outcome: Outcome,
    /// Wall time of the whole session (probe to fetch), seconds.
    pub seconds: f64,
}

/// Runs `job` on every target, at most `parallel` at once, fetching each
/// run folder to `folder/<target name>`. `done` is called as each finishes.
pub fn run_all(
    job: &Job,
    targets: &[Target],
    folder: &Path,
    parallel: usize,
    done: &(dyn Fn(&TargetResult) + Sync),
) -> Vec<TargetResult> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<TargetResult>>> = Mutex::new(vec![None; targets.len()]);
    let workers = parallel.clamp(1, targets.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(target) = targets.get(i) else { break };
                    let started = Instant::now();
                    let outcome = if super::stop::requested(&job.ssh.stop) {
                        Outcome::Failed {
                            step: Step::Interrupted,
                            reason: "not started: the controller was asked to stop".into(),
                        }
                    } else {
                        session::run(job, target, &folder.join(&target.name))
                    };
                    let result = TargetResult {
                        target: target.clone(),
                        outcome,
                        seconds: started.elapsed().as_secs_f64(),
                    };
                    done(&result);
                    if let Some(slot) = results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .get_mut(i)
                    {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}

/// A target's line in `targets.json`.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Its name in the fleet folder and reports.
    pub name: String,
    /// The address.
    pub url: String,
    /// `ran` or `failed`.
    pub status: &'static str,
    /// The step it failed at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its run folder, relative to the fleet folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder: Option<PathBuf>,
    /// `uname -s -m` of the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Whether the harness was copied this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub harness_copied: Option<bool>,
    /// Session wall time, seconds.
    pub seconds: f64,
}

impl Summary {
    /// The summary of `r`.
    pub fn of(r: &TargetResult) -> Summary {
        let mut s = Summary {
            name: r.target.name.clone(),
            url: r.target.url.clone(),
            status: "ran",
            step: None,
            reason: None,
            folder: None,
            system: None,
            harness_copied: None,
            seconds: (r.seconds * 10.0).round() / 10.0,
        };
        match &r.outcome {
            Outcome::Ran { copied, system, .. } => {
                s.folder = Some(PathBuf::from(&r.target.name));
                s.system = Some(system.clone());
                s.harness_copied = Some(*copied);
            }
            Outcome::Failed { step, reason } => {
                s.status = "failed";
                s.step = Some(*step);
                s.reason = Some(reason.clone());
            }
        }
        s
    }

    /// One line for the terminal.
    pub fn line(&self) -> String {
        match (&self.system, &self.reason) {
            (_, Some(why)) => format!("{}: failed ({}): {why}", self.name, step_text(self.step)),
            (system, None) => format!(
                "{}: ran on {} in {:.1} s (harness {})",
                self.name,
                system.as_deref().unwrap_or("?"),
                self.seconds,
                if self.harness_copied == Some(true) {
                    "copied"
                } else {
                    "already there"
                }
            ),
        }
    }
}

/// A step as a word (`connect`, `harness`, …).
pub fn step_text(step: Option<Step>) -> &'static str {
    match step {
        Some(Step::Connect) => "connect",
        Some(Step::Harness) => "harness",
        Some(Step::Run) => "run",
        Some(Step::Fetch) => "fetch",
        Some(Step::Verify) => "verify",
        Some(Step::Interrupted) => "interrupted",
        None => "?",
    }
}
