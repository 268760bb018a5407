//! The IR readiness rows of a delivery beyond a download: which message
//! delivered the file (sender, subject, Message-ID, time, the SMTP server),
//! and whether the origin mark survived each hand-off (an archive tool
//! extracting, a mail client saving) — a mark that did not is a finding for
//! the host.

use super::escape;
use crate::record::ScenarioRun;

/// The answer to "which message delivered it?", if one did.
pub(super) fn message(run: &ScenarioRun) -> Option<String> {
    let m = run.truth.mail.as_ref()?;
    let at = m
        .delivered_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Some(format!(
        "from <code>{}</code> to <code>{}</code>, subject <q>{}</q><br>Message-ID \
         <code>&lt;{}&gt;</code>, delivered {} through <code>{}</code>{}<br>attachment \
         <code>{}</code> (SHA-256 <code>{}</code>)",
        escape(&m.from),
        escape(&m.to.join(", ")),
        escape(&m.subject),
        escape(&m.message_id),
        escape(&at),
        escape(&m.server),
        m.queued_as
            .as_deref()
            .map(|q| format!(" (queued as <code>{}</code>)", escape(q)))
            .unwrap_or_default(),
        escape(&m.attachment),
        escape(&m.attachment_sha256)
    ))
}

/// The answer to "did its origin mark survive?", if the file was handed on.
pub(super) fn marks(run: &ScenarioRun) -> Option<String> {
    if run.truth.handoffs.is_empty() {
        return None;
    }
    let lines: Vec<String> = run
        .truth
        .handoffs
        .iter()
        .map(|h| {
            let how = if h.emulated { " (emulated)" } else { "" };
            let state = match h.finding() {
                Some(f) => format!("<strong>finding:</strong> {}", escape(&f)),
                None => format!("marked: <code>{}</code>", escape(&h.marks.join(", "))),
            };
            format!(
                "<code>{}</code> written by <code>{}</code>{how} from the {}: {state}",
                escape(&h.file),
                escape(&h.by),
                escape(&h.from)
            )
        })
        .collect();
    Some(lines.join("<br>"))
}
