//! `chainproof cleanup`: finishing killed runs from the journal.

use super::error::CliError;
use crate::exit;
use crate::pipeline::absolute;
use crate::runner::{cleanup, journal::Journal};

/// Runs `cleanup` on the journal under `reports`.
pub fn cleanup_command(reports: &std::path::Path) -> Result<u8, CliError> {
    let journal = Journal::under(&absolute(reports));
    let (done, refused) = cleanup::finish(&journal).map_err(|source| CliError::Journal {
        dir: journal.dir().to_path_buf(),
        source,
    })?;
    for (path, why) in &refused {
        errln!(
            "warning: journal entry {} left in place: {why}",
            path.display()
        );
    }
    if done.is_empty() {
        outln!("nothing to clean up in {}", journal.dir().display());
    }
    let mut failed = !refused.is_empty();
    for item in done {
        match item {
            cleanup::Finished::InProgress(e) => {
                outln!(
                    "{} ({}): run still in progress (pid {}); skipped",
                    e.token,
                    e.scenario,
                    e.harness_pid
                );
            }
            cleanup::Finished::Cleaned(e, r) => {
                let dir = match (r.removed_workdir, e.workdir.exists()) {
                    (true, _) => "removed",
                    (false, false) => "already gone",
                    (false, true) => "NOT removed",
                };
                outln!(
                    "{} ({}): ended {} process(es), {}unmounted, run directory {dir}",
                    e.token,
                    e.scenario,
                    r.killed.len(),
                    if r.unmounted { "" } else { "nothing " },
                );
                for p in &r.removed_outside {
                    outln!("  removed {p}");
                }
                for p in &r.problems {
                    errln!("  problem: {p}");
                }
                failed |= !r.problems.is_empty();
            }
        }
    }
    Ok(if failed { exit::RUNTIME } else { exit::OK })
}
