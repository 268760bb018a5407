//! Sealing a run's report folder as an evidence bundle: the scenario files
//! as run, the backend's answers, the rendered reports (HTML with the trend,
//! Navigator layer, CSV, Markdown, JUnit), the answers tied to no run
//! (`untied-answers.json`, when any), a line in the reports folder's
//! history, and a `SHA256SUMS` manifest, signed on request.
//!
//! `report` renders; this module decides what a bundle holds and writes,
//! appends and seals it. Its functions fail with [`ReportError`], the error
//! of the report folder they complete, so a caller handles one error for
//! "write and seal the folder" (its `Bundle` variant carries a failure of
//! the manifest or the signature).

use std::path::Path;

use crate::backend::transcript::Exchange;
use crate::record::RunRecord;
use crate::report::{Format, ReportError, html, render};
use crate::scenario::Loaded;

/// What goes into a bundle besides the record.
#[derive(Debug, Default)]
pub struct Evidence<'a> {
    /// The scenarios as run (their files' exact text).
    pub scenarios: &'a [Loaded],
    /// The backend's answers, one event per line (`telemetry.jsonl`).
    pub telemetry: Option<String>,
    /// Every request sent to the backend and its raw answer
    /// (`backend-queries.jsonl`; none for the local backend).
    pub exchanges: &'a [Exchange],
    /// An OpenSSH Ed25519 private key to sign the manifest with.
    pub sign: Option<&'a Path>,
}

/// The file of backend requests and raw answers in a bundle.
pub const QUERIES: &str = "backend-queries.jsonl";

/// The file of answers a backend's search matched but the attribution
/// rule tied to no run, in a bundle whose verification had any.
pub const UNTIED: &str = "untied-answers.json";

/// The text of [`UNTIED`] for `record`: the most rows one round could not
/// tie and every distinct sampled row (each truncated), or `None` when
/// every row was tied.
pub fn untied_text(record: &RunRecord) -> Option<String> {
    let u = crate::report::readiness::untied(record);
    if u.is_empty() {
        return None;
    }
    let doc = serde_json::json!({
        "schema": "chainproof.untied/v1",
        "about": "rows of a verification round that matched the backend's search but named \
                  no run of its batch (the attribution rule of docs/backends.md); count is the \
                  most one round held, sample the distinct rows kept, each truncated",
        "count": u.count,
        "sample": u.sample,
    });
    serde_json::to_string_pretty(&doc).ok().map(|t| t + "\n")
}

/// Writes [`UNTIED`] into `folder`, or removes a stale one when the
/// record (verified again) has no untied rows.
fn write_untied(folder: &Path, record: &RunRecord) -> Result<(), ReportError> {
    match untied_text(record) {
        Some(text) => write(folder, UNTIED, text),
        None => {
            let path = folder.join(UNTIED);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(ReportError::Write { path, source: e })
                }
                _ => Ok(()),
            }
        }
    }
}

/// One JSON line per exchange.
pub fn queries_text(exchanges: &[Exchange]) -> String {
    exchanges
        .iter()
        .filter_map(|e| serde_json::to_string(e).ok())
        .map(|l| l + "\n")
        .collect()
}

/// Rewrites every report of `folder` from `record` (after verifying it
/// again), with the backend exchanges when there are any, and reseals it.
/// Returns a note when a stale signature was removed.
pub fn rewrite(
    folder: &Path,
    record: &RunRecord,
    exchanges: &[Exchange],
) -> Result<Option<String>, ReportError> {
    for (name, text) in crate::report::outputs(record) {
        write(folder, name, text)?;
    }
    if !exchanges.is_empty() {
        write(folder, QUERIES, queries_text(exchanges))?;
    }
    write_untied(folder, record)?;
    reseal(folder)
}

/// After `chainproof verify` rewrote a sealed folder: the new manifest (a
/// signature over the old one no longer holds and is removed, with a note).
pub fn reseal(folder: &Path) -> Result<Option<String>, ReportError> {
    if !folder.join(super::MANIFEST).exists() {
        return Ok(None);
    }
    let sig = folder.join(super::SIGNATURE);
    let note = if sig.exists() {
        std::fs::remove_file(&sig).map_err(|source| ReportError::Write {
            path: sig.clone(),
            source,
        })?;
        Some(format!(
            "{} no longer matched the re-verified folder and was removed; sign it again",
            sig.display()
        ))
    } else {
        None
    };
    super::write_manifest(folder).map_err(|e| ReportError::Bundle {
        path: folder.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(note)
}

fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> Result<(), ReportError> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| ReportError::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(&path, text).map_err(|source| ReportError::Write { path, source })
}

/// Seals `folder` (written by [`crate::report::write_folder`] under `reports`):
/// adds the evidence and the HTML report, appends the history line, writes
/// `SHA256SUMS` and, with a key, `SHA256SUMS.sig`.
pub fn seal(
    record: &RunRecord,
    folder: &Path,
    reports: &Path,
    evidence: &Evidence<'_>,
) -> Result<(), ReportError> {
    for loaded in evidence.scenarios {
        let name = loaded.file_name();
        write(folder, &format!("scenarios/{name}"), &loaded.source.text)?;
    }
    if let Some(t) = &evidence.telemetry {
        write(folder, "telemetry.jsonl", t)?;
    }
    if !evidence.exchanges.is_empty() {
        write(folder, QUERIES, queries_text(evidence.exchanges))?;
    }
    write_untied(folder, record)?;
    let rel = folder
        .strip_prefix(reports)
        .unwrap_or(folder)
        .join("run.json")
        .to_string_lossy()
        .replace('\\', "/");
    crate::history::append(reports, &crate::history::Entry::of(record, &rel)).map_err(
        |source| ReportError::Write {
            path: reports.join(crate::history::FILE),
            source,
        },
    )?;
    let history = crate::history::read(reports)
        .map(|h| h.entries)
        .unwrap_or_default();
    write(folder, "report.html", html::render(record, &history))?;
    write(folder, "navigator.json", render(record, Format::Navigator))?;
    write(folder, "matrix.csv", render(record, Format::Csv))?;
    let bundle_error = |e: super::BundleError| ReportError::Bundle {
        path: folder.to_path_buf(),
        message: e.to_string(),
    };
    super::write_manifest(folder).map_err(bundle_error)?;
    if let Some(key) = evidence.sign {
        super::sign(folder, key).map_err(bundle_error)?;
    }
    Ok(())
}
