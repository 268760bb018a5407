//! Re-verification of recorded runs (`chainproof verify`): the same steps
//! as [`super::prepare`] (config read once, scenarios, one rule set, the
//! backend built and checked through [`super::verifier`]), then every
//! record judged again with the expectations it ran with, in one batch
//! ([`crate::verify::again_all`]: one query per round for all of them), and
//! each rewritten as a single-record verify rewrites it.
//!
//! Records are named as paths: a run.json, a report folder holding one, or
//! a folder of report folders (a schedule's reports folder; a fleet folder
//! is a report folder, its fleet record being its run.json). A record that
//! cannot be read or whose scenario text differs from every copy
//! ([`crate::verify::Mismatch`]) is set aside, named, and the others go on;
//! only when none is usable does the first one's error stop the command.
//!
//! A backend that fails its check still gets every record written, with
//! every hop `inconclusive` and the check's error as the reason
//! ([`Reverified::check_failed`]): the record says why it holds no verdict.
//!
//! Nothing runs on the host, so no lab guard applies.

use std::path::{Path, PathBuf};

use tokio::sync::watch;

use super::{Choice, PipelineError, Progress, config_ref, read_config};
use crate::backend::{BackendError, ErrorKind};
use crate::record::RunRecord;
use crate::verifier::{self, VerifierError};
use crate::verify::{Expectations, Pending, Polling};

/// What `chainproof verify` asks for.
#[derive(Debug, Clone)]
pub struct ReverifyRequest {
    /// The records: run.json files, report folders, or folders of them.
    pub records: Vec<PathBuf>,
    /// Scenario files or folders; empty means the built-in set.
    pub scenarios: Vec<PathBuf>,
    /// Sigma rule folders; empty means the shipped rules.
    pub rules: Vec<PathBuf>,
    /// The config file with backend profiles.
    pub config: Option<PathBuf>,
    /// The backend profile's name; `None` is `local`.
    pub backend: Option<String>,
    /// Recorded telemetry to verify against instead of a backend.
    pub telemetry: Vec<PathBuf>,
    /// How long to poll the backend.
    pub polling: Polling,
    /// Where to write the reports; `None` rewrites each record's own
    /// folder. With several records, each goes to a folder of `out` named
    /// after its own folder.
    pub out: Option<PathBuf>,
}

/// One record verified again.
#[derive(Debug)]
pub struct Rewritten {
    /// The run.json it was read from.
    pub path: PathBuf,
    /// The record with its new verdicts.
    pub record: RunRecord,
    /// Where it was written.
    pub folder: PathBuf,
    /// Which expectations judged each scenario.
    pub expectations: Expectations,
    /// What the bundle rewrite wants the user to know (a signature that
    /// no longer holds), if anything.
    pub note: Option<String>,
}

/// Records verified again, and those that could not be.
#[derive(Debug)]
pub struct Reverified {
    /// Every record written, in the order named.
    pub records: Vec<Rewritten>,
    /// Records that could not be read, matched or written, each with why.
    pub failed: Vec<(PathBuf, PipelineError)>,
    /// Subfolders of a named folder that hold no run.json (not records).
    pub skipped: Vec<PathBuf>,
    /// The backend's check failed: every record was written with every
    /// hop `inconclusive` and this reason.
    pub check_failed: Option<BackendError>,
}

/// Verifies every record of `request` again and rewrites its reports.
/// `stop` ends the backend check and the verification.
pub async fn reverify(
    request: ReverifyRequest,
    progress: &dyn Progress,
    stop: &mut watch::Receiver<bool>,
) -> Result<Reverified, PipelineError> {
    let (paths, skipped) = record_paths(&request.records);
    // `--scenarios` names the texts the runs used: taken as they ran (the
    // record's hashes are compared before use), not checked again.
    let now = if request.scenarios.is_empty() {
        crate::scenario::load_paths(&[])
    } else {
        crate::scenario::load_paths_as_ran(&request.scenarios)
    }
    .map_err(PipelineError::Scenarios)?;
    let mut failed = Vec::new();
    let mut read = Vec::new();
    for path in paths {
        match read_one(&path, &now) {
            Ok((record, expectations)) => read.push((path, record, expectations)),
            Err(e) => failed.push((path, e)),
        }
    }
    if read.is_empty() {
        return Err(match failed.into_iter().next() {
            Some((_, first)) => first,
            None => PipelineError::NoRecords {
                named: request
                    .records
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
            },
        });
    }
    let folders = out_folders(&read, request.out.as_deref())?;
    let rules = verifier::load_rules(&request.rules, progress)?;
    let config = read_config(request.config.as_deref())?;
    let choice = Choice {
        profile: verifier::profile(config_ref(&config), request.backend.as_deref())?,
        rules: request.rules.clone(),
        telemetry: request.telemetry.clone(),
        // The runs happened: what the sensor holds now is what it held.
        before_runs: false,
    };
    let mut pending: Vec<Pending> = read
        .iter()
        .map(|(_, record, e)| Pending {
            record: record.clone(),
            scenarios: e.scenarios.clone(),
        })
        .collect();
    let (exchanges, check_failed) = match choice.check(rules, progress, stop).await {
        Ok(v) => {
            let polling = &v.polling(&request.polling);
            let x = crate::verify::again_all(
                &mut pending,
                &v.backend,
                &v.rule_set,
                &v.needs,
                polling,
                stop,
            );
            (x.await, None)
        }
        // A backend that cannot answer is data: each record says why it
        // holds no verdict. A profile that cannot even be built is not, nor
        // is recorded telemetry that cannot be read (no profile): that is
        // the user's input, refused as before.
        Err(VerifierError::Backend(e))
            if choice.profile.is_some() && !matches!(e.kind, ErrorKind::Config(_)) =>
        {
            let kind = choice.profile.as_ref().map_or("local", |(_, p)| p.name());
            for p in &mut pending {
                crate::verify::unverifiable(&mut p.record, &p.scenarios, kind, &e.to_string());
            }
            (Vec::new(), Some(e))
        }
        Err(e) => return Err(e.into()),
    };
    let mut records = Vec::new();
    for (((path, _, expectations), p), folder) in read.into_iter().zip(pending).zip(folders) {
        match write_one(&folder, &p.record, &exchanges) {
            Ok(note) => records.push(Rewritten {
                path,
                record: p.record,
                folder,
                expectations,
                note,
            }),
            Err(e) => failed.push((path, e)),
        }
    }
    Ok(Reverified {
        records,
        failed,
        skipped,
        check_failed,
    })
}

/// A record and the expectations it ran with (the scenarios loaded now,
/// or the copies in its folder).
fn read_one(
    path: &Path,
    now: &[crate::scenario::Loaded],
) -> Result<(RunRecord, Expectations), PipelineError> {
    let record = crate::report::read_record(path).map_err(PipelineError::Record)?;
    let bundle = crate::remote::central::bundled_scenarios(folder_of(path));
    let expectations = crate::verify::expectations(&record, now, &bundle)?;
    Ok((record, expectations))
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The run.json files `named` stands for, and the subfolders of a named
/// folder that hold none. A file is itself (read later, so an unreadable
/// one is named with its error); a folder with a run.json is that record;
/// any other folder stands for each of its subfolders holding a run.json,
/// sorted (hidden ones, such as the journal, are not report folders).
fn record_paths(named: &[PathBuf]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut paths, mut skipped) = (Vec::new(), Vec::new());
    for p in named {
        if !p.is_dir() {
            paths.push(p.clone());
        } else if p.join("run.json").exists() {
            paths.push(p.join("run.json"));
        } else {
            let mut subs: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|d| d.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            subs.sort();
            for sub in subs.into_iter().filter(|s| s.is_dir()) {
                let hidden = sub
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'));
                if hidden {
                    continue;
                }
                match sub.join("run.json") {
                    run if run.exists() => paths.push(run),
                    _ => skipped.push(sub),
                }
            }
        }
    }
    (paths, skipped)
}

/// Where each record is written: its own folder, `out`, or with several
/// records a folder of `out` named after the record's own (two records of
/// one folder name cannot share `out`: refused before anything is asked).
fn out_folders(
    read: &[(PathBuf, RunRecord, Expectations)],
    out: Option<&Path>,
) -> Result<Vec<PathBuf>, PipelineError> {
    let mut folders: Vec<PathBuf> = Vec::new();
    for (path, _, _) in read {
        let own = folder_of(path);
        let folder = match out {
            None => own.to_path_buf(),
            Some(dir) if read.len() == 1 => dir.to_path_buf(),
            Some(dir) => {
                let abs = super::absolute(own);
                let name = abs
                    .file_name()
                    .map(|n| n.to_os_string())
                    .unwrap_or_default();
                dir.join(name)
            }
        };
        if folders.contains(&folder) {
            return Err(PipelineError::SameFolder(folder));
        }
        folders.push(folder);
    }
    Ok(folders)
}

fn write_one(
    folder: &Path,
    record: &RunRecord,
    exchanges: &[crate::backend::transcript::Exchange],
) -> Result<Option<String>, PipelineError> {
    std::fs::create_dir_all(folder).map_err(|source| PipelineError::Folder {
        path: folder.to_path_buf(),
        source,
    })?;
    crate::bundle::rewrite(folder, record, exchanges).map_err(PipelineError::Write)
}
