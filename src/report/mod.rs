//! Reports rendered from a run record: the coverage matrix as a terminal
//! table, Markdown and JSON, and the run's report folder.
//!
//! Reads the record only. Every string that came from a scenario, the host
//! or a backend is escaped for the format it lands in.

pub mod csv;
pub mod html;
pub mod junit;
pub mod latency;
mod markdown;
pub mod matrix;
pub mod navigator;
pub mod readiness;
pub mod recording;

use std::path::{Path, PathBuf};

use crate::record::RunRecord;

pub use matrix::{Matrix, Row};

/// Output formats of `chainproof report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A terminal table.
    Table,
    /// Markdown, for a CI job summary or a pull-request comment.
    Md,
    /// The run record itself, as JSON.
    Json,
    /// JUnit XML: a suite per scenario, a case per hop and one for the chain
    /// (`missed`/`blocked` fail, `inconclusive` errs, `not-applicable` skips).
    Junit,
    /// One self-contained HTML page (no network): summary, heat map, each
    /// chain's process tree and alerts, IR readiness, metadata, trend.
    Html,
    /// An ATT&CK Navigator layer (enterprise) scoring T1204.002 by coverage.
    Navigator,
    /// CSV, one row per scenario × hop × host.
    Csv,
}

/// Renders `record` in `format`.
pub fn render(record: &RunRecord, format: Format) -> String {
    match format {
        Format::Table => table(record, None),
        Format::Md => markdown::render(record),
        Format::Json => serde_json::to_string_pretty(record).unwrap_or_default() + "\n",
        Format::Junit => junit::render(record),
        Format::Html => html::render(record, &[]),
        Format::Navigator => navigator::render(record),
        Format::Csv => csv::render(record),
    }
}

/// The terminal table of `record` (the matrix, its summary and the
/// readiness lines) for `width` columns, `None` for no limit: what
/// `render(record, Format::Table)` gives at full width. Callers printing to
/// the terminal pass [`crate::term::width::columns`].
pub fn table(record: &RunRecord, width: Option<usize>) -> String {
    let mut t = matrix::table_for(&Matrix::of(record), width);
    for line in readiness::terminal(record) {
        t.push_str(&crate::term::width::wrap_lines(
            &crate::term::safe(&line),
            width,
        ));
        t.push('\n');
    }
    t
}

/// Every report file of a folder rendered from `record`: run.json,
/// matrix.md, junit.xml, navigator.json, matrix.csv and report.html (without
/// a trend). What `verify`, `merge` and fleet runs write.
pub fn outputs(record: &RunRecord) -> [(&'static str, String); 6] {
    [
        ("run.json", render(record, Format::Json)),
        ("matrix.md", render(record, Format::Md)),
        ("junit.xml", render(record, Format::Junit)),
        ("navigator.json", render(record, Format::Navigator)),
        ("matrix.csv", render(record, Format::Csv)),
        ("report.html", html::render(record, &[])),
    ]
}

/// Why a report could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Filesystem error.
    #[error("write report {path}")]
    Write {
        /// Path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Reading a record.
    #[error("read run record {path}")]
    Read {
        /// Path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A record refused before parsing (not a regular file, too large,
    /// not UTF-8; see [`crate::intake`]).
    #[error("read run record {}", source.path().display())]
    Refused {
        /// Why.
        #[source]
        source: crate::intake::IntakeError,
    },
    /// The evidence bundle could not be sealed or signed.
    #[error("seal the evidence bundle {path}: {message}")]
    Bundle {
        /// The report folder.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The file is not a run record.
    #[error("parse run record {path}: {message}")]
    Parse {
        /// Path.
        path: PathBuf,
        /// Parser message, with line and column.
        message: String,
    },
}

/// Writes `reports_root/<UTC time>-<run id>/{run.json,matrix.md}`; returns the folder.
pub fn write_folder(record: &RunRecord, reports_root: &Path) -> Result<PathBuf, ReportError> {
    let stamp = record
        .started_at
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    let dir = reports_root.join(format!("{stamp}-{}", record.run_id));
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| ReportError::Write { path, source })
    };
    std::fs::create_dir_all(&dir).map_err(|source| ReportError::Write {
        path: dir.clone(),
        source,
    })?;
    write("run.json", render(record, Format::Json))?;
    write("matrix.md", render(record, Format::Md))?;
    write("junit.xml", render(record, Format::Junit))?;
    Ok(dir)
}

/// Reads a run record, checking its schema.
pub fn read_record(path: &Path) -> Result<RunRecord, ReportError> {
    let text = crate::intake::read_text(path, crate::intake::Kind::Record)
        .map_err(|source| ReportError::Refused { source })?;
    let record: RunRecord = serde_json::from_str(&text).map_err(|e| ReportError::Parse {
        path: path.into(),
        message: e.to_string(),
    })?;
    if record.schema != crate::record::SCHEMA {
        return Err(ReportError::Parse {
            path: path.into(),
            message: format!(
                "schema `{}` is not `{}`",
                record.schema,
                crate::record::SCHEMA
            ),
        });
    }
    // Every backend searches for these tokens: one that is not a run token
    // (hand-edited, truncated) would turn a query malformed and every run of
    // the batch inconclusive, so it is refused here, named.
    for (i, s) in record.scenarios.iter().enumerate() {
        if !crate::token::is_token(&s.token) {
            return Err(ReportError::Parse {
                path: path.into(),
                message: format!(
                    "scenarios[{i}] ({}): token `{}` is not a run token (`cp` and 10 lowercase \
                     hex digits)",
                    crate::term::safe(&s.id),
                    crate::term::safe(&s.token)
                ),
            });
        }
    }
    Ok(record)
}

#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;
