//! How every report words a latency: measured from the field the backend
//! gave, or `≤ N s (bounded by polling)` where the backend gives no time of
//! its own — never a poll time as a measurement. Records written before the
//! distinction carry no basis: their telemetry figure was the poll's (so a
//! bound), their alert figure the alert's own time.

use crate::record::{Basis, HopVerdict, RunRecord};

/// The basis of `hv`'s time to telemetry (a bound in older records).
pub fn telemetry_basis(hv: &HopVerdict) -> Basis {
    hv.telemetry_basis.clone().unwrap_or(Basis::Polling)
}

/// The basis of `hv`'s time to alert (the alert's own time in older records).
pub fn alert_basis(hv: &HopVerdict) -> Basis {
    hv.alert_basis
        .clone()
        .unwrap_or_else(|| Basis::Measured(crate::verify::ALERT_TIME.into()))
}

/// `hv`'s time to telemetry in words, e.g. `≤ 4.0 s (bounded by polling)`.
pub fn telemetry(hv: &HopVerdict) -> Option<String> {
    hv.time_to_telemetry_ms
        .map(|ms| telemetry_basis(hv).show(ms))
}

/// `hv`'s time to alert in words, e.g. `0.9 s (measured from the alert's own time)`.
pub fn alert(hv: &HopVerdict) -> Option<String> {
    hv.time_to_alert_ms.map(|ms| alert_basis(hv).show(ms))
}

/// The quiet windows the record's negative controls were judged with, in
/// words, or `None` when no verification names one (older records).
pub fn quiet_window(record: &RunRecord) -> Option<String> {
    let mut windows: Vec<u64> = record
        .scenarios
        .iter()
        .filter_map(|s| s.verification.as_ref()?.alert_latency_ms)
        .collect();
    windows.sort_unstable();
    windows.dedup();
    if windows.is_empty() {
        return None;
    }
    let text: Vec<String> = windows
        .iter()
        .map(|ms| crate::vocab::duration_text::render(std::time::Duration::from_millis(*ms)))
        .collect();
    Some(format!(
        "Negative controls were judged with a quiet window (alert_latency) of {}: a control \
         whose telemetry is complete is settled without an alert once that much time has passed",
        text.join(" / ")
    ))
}
