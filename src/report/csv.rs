//! The run as CSV: one row per scenario × hop × host (the `host` column is
//! the scenario's host in a fleet record, else the record's), for
//! spreadsheets and data tools.
//!
//! The text follows RFC 4180: fields are separated by commas, records end in
//! CRLF (the last one too), and a field holding a comma, a double quote, CR
//! or LF is enclosed in double quotes with its quotes doubled.
//!
//! Record strings can hold anything a scenario, the host or a backend put
//! there, and a spreadsheet evaluates a cell that starts like a formula
//! (CSV or formula injection, e.g. `=cmd|' /C calc'!A0`). Following OWASP's
//! guidance on CSV injection, a field starting with `=`, `+`, `-`, `@`, a tab,
//! CR or NUL gets a leading `'`, which makes spreadsheets read it as text; the
//! field is then quoted as usual. Readers of the raw file see the `'`; the
//! numeric and boolean columns never start with one of those characters.

use crate::record::{HopTruth, HopVerdict, RunRecord, ScenarioRun};

/// Column names, in order.
pub const HEADER: [&str; 19] = [
    "run_id",
    "host",
    "platform",
    "scenario",
    "fidelity",
    "negative_control",
    "hop_index",
    "hop_label",
    "hop_kind",
    "verdict",
    "grade",
    "time_to_telemetry_ms",
    "time_to_alert_ms",
    "linked",
    "reason",
    "chain_verdict",
    "false_positive",
    // Last, so the earlier columns keep their positions: what each
    // latency is (`measured: <field>` or `bounded: polling`).
    "time_to_telemetry_basis",
    "time_to_alert_basis",
];

/// Renders `record` as CSV: the header, then a row per hop of each scenario
/// in record order. A scenario without hops (one that could not run) still
/// gets one row, with the hop columns empty.
///
/// `verdict` and `chain_verdict` are `unverified` when the record holds no
/// verification; `reason` is the verifier's reason for the hop, else the
/// ground truth's reason why the hop did not happen (on a row without a hop:
/// the chain's reason, else the scenario's).
pub fn render(record: &RunRecord) -> String {
    let mut out = String::new();
    push_row(&mut out, HEADER.iter().map(|h| h.to_string()));
    for s in &record.scenarios {
        if s.hops.is_empty() {
            push_row(&mut out, row(record, s, None));
        }
        for h in &s.hops {
            push_row(&mut out, row(record, s, Some(h)));
        }
    }
    out
}

/// The fields of one row, unescaped.
fn row(record: &RunRecord, s: &ScenarioRun, hop: Option<&HopTruth>) -> Vec<String> {
    let v = s.verification.as_ref();
    let hv: Option<&HopVerdict> =
        hop.and_then(|h| v.and_then(|v| v.hops.iter().find(|x| x.index == h.index)));
    let opt = |n: Option<u64>| n.map_or(String::new(), |n| n.to_string());
    let verdict = match (hop, hv) {
        (None, _) => String::new(),
        (Some(_), Some(hv)) => hv.verdict.as_str().to_string(),
        (Some(_), None) => "unverified".to_string(),
    };
    let reason = hv
        .and_then(|hv| hv.reason.clone())
        .or_else(|| hop.and_then(|h| h.reason.clone()))
        .or_else(|| match hop {
            Some(_) => None,
            None => v
                .and_then(|v| v.chain.reason.clone())
                .or_else(|| s.reason.clone()),
        })
        .unwrap_or_default();
    vec![
        record.run_id.clone(),
        crate::record::merge::host_of(record, s).to_string(),
        s.platform.to_string(),
        s.id.clone(),
        s.fidelity
            .map_or(String::new(), |f| format!("{f:?}").to_lowercase()),
        s.negative_control.to_string(),
        hop.map_or(String::new(), |h| h.index.to_string()),
        hop.map_or(String::new(), |h| h.label.clone()),
        hop.map_or(String::new(), |h| format!("{:?}", h.kind).to_lowercase()),
        verdict,
        hv.and_then(|hv| hv.grade)
            .map_or(String::new(), |g| format!("{g:?}").to_lowercase()),
        opt(hv.and_then(|hv| hv.time_to_telemetry_ms)),
        opt(hv.and_then(|hv| hv.time_to_alert_ms)),
        hv.and_then(|hv| hv.linked)
            .map_or(String::new(), |l| l.to_string()),
        reason,
        v.map_or("unverified".to_string(), |v| {
            v.chain.verdict.as_str().to_string()
        }),
        v.map_or(String::new(), |v| v.chain.false_positive.to_string()),
        hv.filter(|hv| hv.time_to_telemetry_ms.is_some())
            .map_or(String::new(), |hv| {
                String::from(crate::report::latency::telemetry_basis(hv))
            }),
        hv.filter(|hv| hv.time_to_alert_ms.is_some())
            .map_or(String::new(), |hv| {
                String::from(crate::report::latency::alert_basis(hv))
            }),
    ]
}

/// Appends one record: escaped fields, commas, CRLF.
fn push_row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&field(&f));
    }
    out.push_str("\r\n");
}

/// One field: defused against formula injection, then quoted if RFC 4180
/// needs it.
pub fn field(text: &str) -> String {
    let defused = match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\0') => format!("'{text}"),
        _ => text.to_string(),
    };
    if defused.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests;
