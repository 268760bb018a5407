//! The controller's half after the targets ran: verify each fetched record
//! with the configured backend, reseal its folder, merge the records into
//! one fleet record labelled by target name, and write the fleet folder.

use std::path::Path;

use super::fleet::{Summary, TargetResult};
use super::session::{Outcome, Step};
use tokio::sync::watch;

use crate::record::{RuleSet, RunRecord};
use crate::report::{self, ReportError};
use crate::scenario::Loaded;
use crate::schedule::service::error_chain;

/// Verifies every target that ran, each with the expectations its record
/// ran with ([`crate::verify::expectations`]: the scenarios loaded here, or
/// the copies in its fetched folder), all in one batch
/// ([`crate::verify::again_all`]: one query per round for every target's
/// runs); a target whose record cannot be read, matched or rewritten
/// becomes a failure at the `verify` step and the others go on. `stop`
/// ends verification; every folder then keeps its target's own verdicts.
/// Returns the records, each labelled with its target's name.
pub async fn verify_all(
    results: &mut [TargetResult],
    scenarios: &[Loaded],
    verifier: &crate::verifier::Verifier,
    polling: &crate::verify::Polling,
    stop: &watch::Receiver<bool>,
) -> Vec<RunRecord> {
    // Read every record first: one that cannot be read or matched fails
    // its target alone.
    let mut read: Vec<(usize, std::path::PathBuf)> = Vec::new();
    let mut pending: Vec<crate::verify::Pending> = Vec::new();
    for (i, r) in results.iter_mut().enumerate() {
        let Outcome::Ran { folder, .. } = &r.outcome else {
            continue;
        };
        let folder = folder.clone();
        match read_one(&folder, scenarios) {
            Ok(p) => {
                read.push((i, folder));
                pending.push(p);
            }
            Err(reason) => {
                r.outcome = Outcome::Failed {
                    step: Step::Verify,
                    reason,
                }
            }
        }
    }
    if pending.is_empty() {
        return Vec::new();
    }
    // A stop request during verification (which may poll a SIEM for
    // minutes) ends it: every folder keeps its target's own verdicts
    // rather than half a verification.
    let mut stopping = stop.clone();
    let never = crate::stop::never();
    let exchanges = tokio::select! {
        x = crate::verify::again_all(
            &mut pending,
            &verifier.backend,
            &verifier.rule_set,
            &verifier.needs,
            polling,
            &never,
        ) => Some(x),
        () = crate::stop::requested(&mut stopping) => None,
    };
    let mut records = Vec::new();
    for ((i, folder), p) in read.into_iter().zip(pending) {
        let r = &mut results[i];
        let Some(exchanges) = &exchanges else {
            r.outcome = Outcome::Failed {
                step: Step::Interrupted,
                reason: "stopped before its verification ended; the folder holds the \
                         target's own verdicts"
                    .into(),
            };
            continue;
        };
        let mut record = p.record;
        match crate::bundle::rewrite(&folder, &record, exchanges) {
            Ok(_) => {
                // The fleet shows the name the operator gave the target;
                // the host's own run.json keeps its real host name.
                record.host.name = r.target.name.clone();
                records.push(record);
            }
            Err(e) => {
                r.outcome = Outcome::Failed {
                    step: Step::Verify,
                    reason: error_chain(&e),
                }
            }
        }
    }
    records
}

/// The scenario copies a report folder keeps (`scenarios/`), or none.
pub fn bundled_scenarios(folder: &Path) -> Vec<Loaded> {
    let dir = folder.join("scenarios");
    if !dir.is_dir() {
        return Vec::new();
    }
    // Only a fallback for a scenario changed or missing here: a copy that
    // does not load leaves the choice to the scenarios loaded here, and a
    // mismatch still names the way out.
    crate::scenario::load_paths_as_ran(&[dir]).unwrap_or_default()
}

/// A fetched folder's record with the expectations it ran with.
fn read_one(folder: &Path, scenarios: &[Loaded]) -> Result<crate::verify::Pending, String> {
    let record = report::read_record(&folder.join("run.json")).map_err(|e| error_chain(&e))?;
    let expectations = crate::verify::expectations(&record, scenarios, &bundled_scenarios(folder))
        .map_err(|e| error_chain(&e))?;
    Ok(crate::verify::Pending {
        record,
        scenarios: expectations.scenarios,
    })
}

/// A fleet record of no host (every target failed).
fn empty_fleet() -> RunRecord {
    let now = time::OffsetDateTime::now_utc();
    RunRecord {
        schema: crate::record::SCHEMA.to_string(),
        run_id: crate::token::new(),
        chainproof_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: now,
        finished_at: now,
        host: crate::record::Host {
            name: "fleet of 0 hosts".into(),
            platform: crate::vocab::Platform::current().unwrap_or(crate::vocab::Platform::Linux),
            os: "none".into(),
            kernel: String::new(),
            user: String::new(),
            privileged: false,
            environment: None,
        },
        rules: RuleSet {
            sources: Vec::new(),
            count: 0,
            load: None,
            blind: Vec::new(),
        },
        scenarios: Vec::new(),
        targets_not_run: Vec::new(),
    }
}

/// The targets that gave no record, for the fleet record.
fn not_run(results: &[TargetResult]) -> Vec<crate::record::TargetNotRun> {
    results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Failed { step, reason } => Some(crate::record::TargetNotRun {
                name: r.target.name.clone(),
                url: r.target.url.clone(),
                step: super::fleet::step_text(Some(*step)).to_string(),
                reason: reason.clone(),
            }),
            Outcome::Ran { .. } => None,
        })
        .collect()
}

/// Writes `targets.json`, the fleet record's reports (a record of no host
/// when every target failed)
/// and `SHA256SUMS` (signed with `sign`) into `folder`. Returns the fleet
/// record.
pub fn write(
    folder: &Path,
    results: &[TargetResult],
    records: Vec<RunRecord>,
    sign: Option<&Path>,
) -> Result<Option<RunRecord>, ReportError> {
    let put = |name: &str, text: String| {
        let path = folder.join(name);
        std::fs::write(&path, text).map_err(|source| ReportError::Write { path, source })
    };
    let summaries: Vec<Summary> = results.iter().map(Summary::of).collect();
    put(
        "targets.json",
        serde_json::to_string_pretty(&summaries).unwrap_or_default() + "\n",
    )?;
    let mut fleet = match records.is_empty() {
        // No target ran: a record of none, so the reports still say which
        // targets were tried and why each gave nothing.
        true if results.is_empty() => None,
        true => Some(empty_fleet()),
        false => Some(
            crate::record::merge::merge(records).map_err(|e| ReportError::Bundle {
                path: folder.to_path_buf(),
                message: e.to_string(),
            })?,
        ),
    };
    if let Some(record) = &mut fleet {
        record.targets_not_run = not_run(results);
    }
    if let Some(record) = &fleet {
        for (name, text) in report::outputs(record) {
            put(name, text)?;
        }
    }
    let bundle_error = |e: crate::bundle::BundleError| ReportError::Bundle {
        path: folder.to_path_buf(),
        message: e.to_string(),
    };
    crate::bundle::write_manifest(folder).map_err(bundle_error)?;
    if let Some(key) = sign {
        crate::bundle::sign(folder, key).map_err(bundle_error)?;
    }
    Ok(fleet)
}
