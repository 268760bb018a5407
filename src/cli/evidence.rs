//! `report`, `bundle verify`, `trend` and `diff`: commands that read report
//! folders and change nothing.

use std::path::Path;

use super::{BundleAction, fail};
use crate::exit;
use crate::report::{self, Format};

/// `chainproof report <run.json> --format F`; the HTML report draws the
/// trend from the history of the reports folder the record lies in.
pub fn report(record: &Path, format: Format) -> u8 {
    let r = match report::read_record(record) {
        Ok(r) => r,
        Err(e) => return fail(&e, exit::INVALID),
    };
    let text = match format {
        Format::Html => {
            let reports = record.parent().and_then(Path::parent);
            let history = reports
                .and_then(|dir| crate::history::read(dir).ok())
                .map(|h| h.entries)
                .unwrap_or_default();
            report::html::render(&r, &history)
        }
        other => report::render(&r, other),
    };
    match format {
        // serde escaped the controls already; only what it leaves raw goes.
        Format::Json | Format::Navigator => crate::term::out_json(&text),
        _ => crate::term::out(&text),
    }
    exit::OK
}

/// `chainproof bundle verify <dir>`.
pub fn bundle_command(action: BundleAction) -> u8 {
    match action {
        BundleAction::Verify {
            dir,
            allowed_signers,
        } => {
            let mut v = match crate::bundle::verify(&dir) {
                Ok(v) => v,
                Err(e) => return fail(&e, exit::INVALID),
            };
            if allowed_signers.is_some() {
                v.signature = crate::bundle::verify_signature(&dir, allowed_signers.as_deref());
            }
            crate::term::out(&crate::bundle::render(&v));
            if v.is_intact() {
                exit::OK
            } else {
                exit::POLICY
            }
        }
    }
}

/// `chainproof trend`.
pub fn trend(reports: &Path) -> u8 {
    match crate::history::read(reports) {
        Ok(h) => {
            crate::term::out(&crate::history::trend_text(&h.entries));
            if h.skipped > 0 {
                errln!(
                    "{} line(s) of {} were not runs and were skipped",
                    h.skipped,
                    reports.join(crate::history::FILE).display()
                );
            }
            exit::OK
        }
        Err(e) => fail(&e, exit::INVALID),
    }
}

/// `chainproof diff <before> <after>`.
pub fn diff(before: &Path, after: &Path) -> u8 {
    let (a, b) = match (report::read_record(before), report::read_record(after)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return fail(&e, exit::INVALID),
    };
    crate::term::out(&crate::history::render_diff(&crate::history::diff(&a, &b)));
    exit::OK
}
