//! A plan's targets: parsing the addresses and the inventory, the lab guard
//! for them, and running the suite on each (through [`crate::remote`]) with
//! every fetched record verified here and merged into one fleet record.

use std::path::{Path, PathBuf};

use tokio::sync::watch;

use super::{PipelineError, Progress, Request, Verifier};
use crate::config::Config;
use crate::record::RunRecord;
use crate::remote::fleet::{self, TargetResult};
use crate::remote::session::Job;
use crate::remote::ssh::Ssh;
use crate::remote::target::{self, Target};
use crate::remote::{central, transfer};
use crate::scenario::Loaded;
use crate::suite::Settings;

/// The targets of a request and how to reach them.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// `ssh://[USER@]HOST[:PORT]` addresses.
    pub targets: Vec<String>,
    /// A YAML inventory of targets.
    pub inventory: Option<PathBuf>,
    /// How many targets run at once.
    pub parallel: u16,
    /// An ssh config file instead of `~/.ssh/config` (`ssh -F`).
    pub ssh_config: Option<PathBuf>,
    /// A chainproof binary for targets whose OS or CPU differ.
    pub harness: Option<PathBuf>,
    /// The folder on each target for the harness and the run's files.
    pub remote_dir: String,
}

/// What happened on the targets.
#[derive(Debug)]
pub struct FleetOutcome {
    /// The fleet folder (`targets.json`, the merged reports, one folder per
    /// target).
    pub folder: PathBuf,
    /// Each target's result, in the order given.
    pub results: Vec<TargetResult>,
    /// The merged record (`None` when no target was given).
    pub record: Option<RunRecord>,
    /// Whether a stop cut the runs or their verification short.
    pub interrupted: bool,
}

/// The checked targets and what the request says about running there.
#[derive(Debug)]
pub(super) struct Plan {
    /// Unique names.
    pub targets: Vec<Target>,
    remote_dir: String,
    ssh: Ssh,
    parallel: usize,
    harness: Option<PathBuf>,
    /// Whether the request named scenario files (sent) or ids (passed on).
    send_files: bool,
    pass_ids: bool,
    work_root: Option<PathBuf>,
}

/// The targets of `--target` and `--targets`, names unique.
fn parse(fleet: &Fleet) -> Result<Vec<Target>, String> {
    let mut all = Vec::new();
    for url in &fleet.targets {
        all.push(target::parse(url)?);
    }
    if let Some(file) = &fleet.inventory {
        all.extend(target::load_inventory(file)?);
    }
    // Two addresses of one host (other ports, users): their folders and
    // report labels get the port, else a number.
    let mut seen = std::collections::BTreeSet::<String>::new();
    for t in &mut all {
        let mut n = 1;
        let mut name = t.name.clone();
        while seen.contains(&name) {
            n += 1;
            name = match t.port {
                Some(p) if n == 2 => format!("{}-{p}", t.name),
                _ => format!("{}-{n}", t.name),
            };
        }
        seen.insert(name.clone());
        t.name = name;
    }
    Ok(all)
}

/// Parses the targets and `--remote-dir` and applies the lab guard (which
/// resolves hosts with `ssh -G` and never connects).
pub(super) fn plan(fleet: &Fleet, config: Option<(&Path, &Config)>) -> Result<Plan, PipelineError> {
    let targets = parse(fleet).map_err(PipelineError::Targets)?;
    let remote_dir = transfer::remote_dir(&fleet.remote_dir).map_err(PipelineError::Targets)?;
    let ssh = Ssh {
        config: fleet.ssh_config.clone(),
        ..Ssh::default()
    };
    super::guard::targets(config, &targets, &ssh)?;
    Ok(Plan {
        targets,
        remote_dir,
        ssh,
        parallel: usize::from(fleet.parallel),
        harness: fleet.harness.clone(),
        send_files: false,
        pass_ids: false,
        work_root: None,
    })
}

impl Plan {
    /// Takes what the remote `chainproof run` needs from `request`.
    pub(super) fn with(mut self, request: &Request) -> Plan {
        self.send_files = !request.scenario_paths.is_empty();
        self.pass_ids = !request.scenario_ids.is_empty();
        self.work_root = request.work_root.clone();
        self
    }

    /// Scenario files to send: only when the request named files (the
    /// targets' harness has the built-in set). Names are numbered so two
    /// files of the same name from different folders stay apart.
    fn scenario_files(&self, loaded: &[Loaded]) -> Vec<(String, String)> {
        if !self.send_files {
            return Vec::new();
        }
        loaded
            .iter()
            .enumerate()
            .map(|(i, l)| (format!("{i:03}-{}", l.file_name()), l.source.text.clone()))
            .collect()
    }

    /// The remote `chainproof run`'s arguments besides reports and scenarios.
    fn run_args(&self, settings: &Settings) -> Vec<String> {
        let mut out: Vec<String> = settings
            .scenarios
            .iter()
            .filter(|_| self.pass_ids)
            .map(|l| l.scenario.id.clone())
            .collect();
        // Run directories on the target: its temporary folder unless given.
        if let Some(w) = &self.work_root {
            out.push("--work-root".into());
            out.push(w.to_string_lossy().into_owned());
        }
        if let Some(f) = settings.fidelity {
            out.push("--fidelity".into());
            out.push(f.as_str().to_string());
        }
        out
    }
}

/// Runs the suite on every target, verifies each fetched record with
/// `verifier` and writes the fleet folder.
pub(super) async fn run(
    plan: Plan,
    settings: &Settings,
    verifier: &Verifier,
    progress: &dyn Progress,
    stop: watch::Receiver<bool>,
) -> Result<FleetOutcome, PipelineError> {
    if *stop.borrow() {
        return Err(PipelineError::Interrupted);
    }
    let local_exe = std::env::current_exe().map_err(PipelineError::OwnPath)?;
    let mut ssh = plan.ssh.clone();
    ssh.stop = stop.clone();
    let job = Job {
        ssh,
        remote_dir: plan.remote_dir.clone(),
        local_exe,
        harness: plan.harness.clone(),
        run_id: crate::token::new(),
        run_args: plan.run_args(settings),
        scenarios: plan.scenario_files(&settings.scenarios),
    };
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    let folder = settings
        .reports
        .join(format!("{stamp}-fleet-{}", job.run_id));
    std::fs::create_dir_all(&folder).map_err(|source| PipelineError::Folder {
        path: folder.clone(),
        source,
    })?;
    progress.targets_start(plan.targets.len(), plan.parallel);
    let done =
        |r: &TargetResult| progress.target_done(&crate::remote::fleet::Summary::of(r).line());
    let mut results = fleet::run_all(&job, &plan.targets, &folder, plan.parallel, &done);
    let interrupted = *stop.borrow();
    let records = if interrupted {
        // No verification after a stop: the fetched folders keep the
        // targets' own verdicts; targets.json says what happened.
        Vec::new()
    } else {
        central::verify_all(
            &mut results,
            &settings.scenarios,
            verifier,
            &verifier.polling(&settings.polling),
            &stop,
        )
        .await
    };
    // A stop during verification counts as an interruption too.
    let interrupted = interrupted || *stop.borrow();
    let record = central::write(&folder, &results, records, settings.sign.as_deref())
        .map_err(PipelineError::Write)?;
    Ok(FleetOutcome {
        folder,
        results,
        record,
        interrupted,
    })
}
