//! What `chainproof run --target ssh://… / --targets FILE` prints: the
//! targets a dry run would contact, and after a run each failed target,
//! the fleet matrix and the exit code. The work is [`crate::pipeline`]'s.

use super::RunArgs;
use crate::exit;
use crate::pipeline::FleetOutcome;
use crate::record::RunRecord;
use crate::remote::fleet::Summary;
use crate::remote::target::Target;
use crate::report;

/// The targets of a dry run, allowed by the lab guard and not contacted.
pub fn list_targets(targets: &[Target], parallel: u16) {
    outln!("targets (allowed by the lab guard; not contacted), at most {parallel} at once:");
    for t in targets {
        outln!("  {}  {}", t.name, crate::term::safe(&t.url));
    }
    outln!(
        "each target runs its own platform's variants; the plans below are for --platform \
         (default: this host's)\n"
    );
}

/// `--require`'s verdict on `record`: 1 when a chain falls short.
pub fn require(record: Option<&RunRecord>, level: Option<&str>) -> u8 {
    match (record, level) {
        (Some(record), Some(level)) if !crate::suite::meets(record, level) => {
            errln!("coverage policy failed: not every chain is {level}");
            exit::POLICY
        }
        _ => exit::OK,
    }
}

/// Prints the fleet matrix and what happened to each target; picks the
/// exit code.
pub fn conclude(args: &RunArgs, fleet: &FleetOutcome) -> u8 {
    if let Some(record) = &fleet.record {
        crate::term::out(&report::table(record, crate::term::width::columns()));
    }
    let failed: Vec<Summary> = fleet
        .results
        .iter()
        .map(Summary::of)
        .filter(|s| s.status == "failed")
        .collect();
    outln!(
        "targets: {} ran, {} failed{}",
        fleet.results.len() - failed.len(),
        failed.len(),
        if failed.is_empty() {
            ""
        } else {
            " (see targets.json)"
        }
    );
    for s in &failed {
        outln!("  {}", crate::term::safe(&s.line()));
    }
    outln!("report: {}", fleet.folder.display());
    if fleet.interrupted {
        errln!("interrupted: runs already started on targets were told to stop and clean up");
        return exit::INTERRUPTED;
    }
    if !failed.is_empty() {
        return exit::RUNTIME;
    }
    require(fleet.record.as_ref(), args.require.as_deref())
}
