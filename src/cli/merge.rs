//! `merge`: run records of several hosts into one fleet record and its
//! reports.

use std::path::{Path, PathBuf};

use super::error::CliError;
use crate::exit;
use crate::record::RunRecord;
use crate::report::{self, ReportError};

/// `chainproof merge <run.json>... [--out DIR]`: prints the fleet matrix;
/// with `out`, writes the fleet's run.json and reports there. Exit 2 on an
/// unreadable record or records that cannot be merged, 3 when writing fails.
pub fn merge(records: &[PathBuf], out: Option<&Path>) -> Result<u8, CliError> {
    let mut read = Vec::with_capacity(records.len());
    for path in records {
        read.push(report::read_record(path).map_err(CliError::Record)?);
    }
    let record = crate::record::merge::merge(read).map_err(CliError::Merge)?;
    crate::term::out(&report::table(&record, crate::term::width::columns()));
    if let Some(dir) = out {
        write(&record, dir).map_err(CliError::Write)?;
        errln!("wrote the fleet's reports to {}", dir.display());
    }
    Ok(exit::OK)
}

/// Writes run.json, matrix.md, matrix.csv, navigator.json, report.html and
/// junit.xml of `record` into `dir`, creating it.
fn write(record: &RunRecord, dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.into(),
        source,
    })?;
    for (name, text) in report::outputs(record) {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| ReportError::Write { path, source })?;
    }
    Ok(())
}
