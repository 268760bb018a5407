//! `report`, `bundle verify`, `trend` and `diff`: commands that read report
//! folders and change nothing.

use std::path::Path;

use super::BundleAction;
use super::error::CliError;
use crate::exit;
use crate::report::{self, Format};

/// `chainproof report <run.json> --format F`; the HTML report draws the
/// trend from the history of the reports folder the record lies in.
pub fn report(record: &Path, format: Format) -> Result<u8, CliError> {
    let r = report::read_record(record).map_err(CliError::Record)?;
    let text = match format {
        Format::Html => {
            let reports = record.parent().and_then(Path::parent);
            let history = reports
                .and_then(|dir| crate::history::read(dir).ok())
                .map(|h| h.entries)
                .unwrap_or_default();
            report::html::render(&r, &history)
        }
        Format::Table => report::table(&r, crate::term::width::columns()),
        other => report::render(&r, other),
    };
    match format {
        // serde escaped the controls already; only what it leaves raw goes.
        Format::Json | Format::Navigator => crate::term::out_json(&text),
        _ => crate::term::out(&text),
    }
    Ok(exit::OK)
}

/// `chainproof bundle verify <dir>`.
pub fn bundle_command(action: BundleAction) -> Result<u8, CliError> {
    match action {
        BundleAction::Verify {
            dir,
            allowed_signers,
        } => {
            let mut v = crate::bundle::verify(&dir).map_err(CliError::Bundle)?;
            if allowed_signers.is_some() {
                v.signature = crate::bundle::verify_signature(&dir, allowed_signers.as_deref());
            }
            crate::term::out(&crate::bundle::render(&v));
            Ok(if v.is_intact() {
                exit::OK
            } else {
                exit::POLICY
            })
        }
    }
}

/// `chainproof trend`.
pub fn trend(reports: &Path) -> Result<u8, CliError> {
    let h = crate::history::read(reports).map_err(CliError::History)?;
    crate::term::out(&crate::history::trend_text(&h.entries));
    if h.skipped > 0 {
        errln!(
            "{} line(s) of {} were not runs and were skipped",
            h.skipped,
            reports.join(crate::history::FILE).display()
        );
    }
    Ok(exit::OK)
}

/// `chainproof diff <before> <after>`.
pub fn diff(before: &Path, after: &Path) -> Result<u8, CliError> {
    let (a, b) = match (report::read_record(before), report::read_record(after)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Err(CliError::Record(e)),
    };
    let changes = crate::history::diff(&a, &b);
    let width = crate::term::width::columns();
    crate::term::out(&crate::history::render_diff_for(&changes, width));
    Ok(exit::OK)
}
