//! History of runs: one summary line per run in `<reports>/history.jsonl`,
//! read back for trends and compared run to run.
//!
//! [`append`] adds one [`Entry`] per run; [`read`] reads them back (sorted by
//! start time, malformed lines skipped and counted); [`trend_text`] renders a
//! terminal view of coverage over time; [`diff`] compares two run records cell
//! by cell and [`render_diff`] shows the result. Reads records only; it runs
//! and verifies nothing.

mod diff;
mod trend;

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::record::RunRecord;
use crate::record::summary::Summary;

pub use diff::{CellChange, diff, render_diff, render_diff_for};
pub use trend::trend_text;

/// Name of the history file inside the reports folder.
pub const FILE: &str = "history.jsonl";

/// One run's summary, as appended to the history file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// The run's id.
    pub run_id: String,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// Host name.
    pub host: String,
    /// Backend that verified it (the first scenario's), or empty.
    pub backend: String,
    /// Attack chains verified (not negative controls, not not-applicable).
    pub chains: usize,
    /// Of those, alerted at any grade.
    pub alerted: usize,
    /// Of those, alerted at technique grade.
    pub technique: usize,
    /// Of those, fully observed.
    pub fully_observed: usize,
    /// Chains whose verdict was inconclusive.
    pub inconclusive: usize,
    /// Negative controls verified.
    pub controls: usize,
    /// Negative controls on which an alert fired.
    pub false_positives: usize,
    /// The run's record, relative to the reports folder.
    pub record: String,
}

impl Entry {
    /// The summary of `record`, whose `run.json` lies at `record_path_rel`
    /// relative to the reports folder (e.g. `20261126T113938Z-cp…/run.json`).
    ///
    /// Counts come from [`Summary::of`]; the backend is that of the first
    /// scenario that was verified (empty when none was).
    pub fn of(record: &RunRecord, record_path_rel: &str) -> Entry {
        let s = Summary::of(record);
        let backend = record
            .scenarios
            .iter()
            .find_map(|run| run.verification.as_ref())
            .map_or_else(String::new, |v| v.backend.clone());
        Entry {
            run_id: record.run_id.clone(),
            started_at: record.started_at,
            host: record.host.name.clone(),
            backend,
            chains: s.chains,
            alerted: s.alerted,
            technique: s.technique,
            fully_observed: s.fully_observed,
            inconclusive: s.inconclusive,
            controls: s.controls,
            false_positives: s.false_positives,
            record: record_path_rel.to_string(),
        }
    }
}

/// The history as read back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Entries sorted by `started_at` (file order among equal times).
    pub entries: Vec<Entry>,
    /// Non-empty lines that were not an entry (a crash's half line, a hand
    /// edit, a newer format); skipped, not fatal.
    pub skipped: usize,
}

/// Why the history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file exists but could not be read.
    #[error("read run history {path}")]
    Read {
        /// Path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// Appends `entry` as one JSON line to `<reports>/history.jsonl`, creating
/// the folder and file when missing.
///
/// The file is opened in append mode and the whole line goes out in one
/// `write_all`, then is synced, so concurrent runs add whole lines rather than
/// interleaving pieces. When a crashed run left a half line at the end, a line
/// break is written first, so that only the half line is lost (and skipped by
/// [`read`]), not the new entry.
pub fn append(reports: &Path, entry: &Entry) -> std::io::Result<()> {
    std::fs::create_dir_all(reports)?;
    let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(reports.join(FILE))?;
    if !ends_with_newline(&mut file)? {
        line.insert(0, '\n');
    }
    file.write_all(line.as_bytes())?;
    file.sync_all()
}

/// Whether `file` is empty or its last byte is a line break.
fn ends_with_newline(file: &mut std::fs::File) -> std::io::Result<bool> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Reads `<reports>/history.jsonl`.
///
/// A missing file is an empty history. Blank lines are ignored; any other
/// line that is not an [`Entry`] (including one that is not UTF-8) is skipped
/// and counted in [`History::skipped`]. Entries are sorted by `started_at`.
pub fn read(reports: &Path) -> Result<History, HistoryError> {
    let path = reports.join(FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(History::default()),
        Err(source) => return Err(HistoryError::Read { path, source }),
    };
    let mut history = History::default();
    for line in bytes.split(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Entry>(line) {
            Ok(entry) => history.entries.push(entry),
            Err(_) => history.skipped += 1,
        }
    }
    history.entries.sort_by_key(|e| e.started_at);
    Ok(history)
}

#[cfg(test)]
mod tests;
