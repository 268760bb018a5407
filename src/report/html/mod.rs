//! The HTML report: one self-contained page (inline style and SVG, no script,
//! no external resource) that opens offline and prints well.
//!
//! Sections: a summary of coverage, the matrix as a heat map, one section per
//! chain (process tree, artifact, alerts, verdicts), IR readiness per chain,
//! the run's metadata and, with a history, the trend of coverage.
//!
//! Every string that came from the record or the history goes through
//! [`escape`] before it lands in the page, in text and in attributes alike;
//! the page is built from literals, numbers and escaped text only. A strict
//! Content-Security-Policy forbids scripts and every resource but `data:`
//! images, so even a missed escape could not load or run anything.

use std::fmt::Write;

use time::OffsetDateTime;

use crate::history::Entry;
use crate::record::{RunRecord, ScenarioRun, Verdict};

mod chain;
mod delivery;
mod heatmap;
mod ir;
mod meta;
mod readiness;
mod style;
mod summary;
mod tree;
mod trend;

/// The page's Content-Security-Policy: nothing but inline style and `data:`
/// images.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// Escapes text for HTML text and quoted attribute values: `& < > " '`
/// become entities; control characters (but line breaks and tabs) and
/// bidirectional overrides, which could disguise a command line, become
/// U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c) =>
            {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
    out
}

/// Renders `record` as one HTML5 page; `history` (past runs, any order)
/// feeds the trend chart when it holds two entries or more.
pub fn render(record: &RunRecord, history: &[Entry]) -> String {
    let anchors = anchors(record);
    let mut out = String::with_capacity(64 * 1024);
    let title = format!("chainproof report — run {}", escape(&record.run_id));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"chainproof {}\">\n\
         <title>{title}</title>\n<style>{}</style>\n</head>\n<body>\n",
        escape(CSP),
        escape(&record.chainproof_version),
        style::CSS
    );
    let _ = write!(
        out,
        "<header>\n<h1>{title}</h1>\n<p class=\"sub\">Host <strong>{}</strong> ({}) · \
         {} → {} · backend {}</p>\n<nav><a href=\"#summary\">Summary</a> \
         <a href=\"#matrix-section\">Matrix</a> <a href=\"#chains\">Chains</a> \
         <a href=\"#ir-readiness\">IR readiness</a> <a href=\"#readiness\">Containment and visibility</a> \
         <a href=\"#metadata\">Run metadata</a> \
         <a href=\"#trend\">Trend</a></nav>\n</header>\n<main>\n",
        escape(&record.host.name),
        escape(&record.host.os),
        when(record.started_at),
        when(record.finished_at),
        escape(&backends(record).join(", "))
    );
    if let Some(line) = crate::report::readiness::environment_line(record) {
        let _ = writeln!(
            out,
            "<p class=\"line\"><strong>{}.</strong></p>",
            escape(&line)
        );
    }
    summary::write(&mut out, record, &anchors);
    heatmap::write(&mut out, record, &anchors);
    out.push_str("<div id=\"chains\">\n");
    for (run, anchor) in record.scenarios.iter().zip(&anchors) {
        chain::write(&mut out, run, anchor);
    }
    out.push_str("</div>\n");
    ir::write(&mut out, record, &anchors);
    readiness::write(&mut out, record, &anchors);
    meta::write(&mut out, record);
    trend::write(&mut out, history);
    let _ = write!(
        out,
        "</main>\n<footer>Written by chainproof {} from run record {}. Self-contained: \
         no script, no external resource.</footer>\n</body>\n</html>\n",
        escape(&record.chainproof_version),
        escape(&record.run_id)
    );
    out
}

/// One `id` per scenario run, `chain-<scenario id>`, made unique with the
/// platform (and then the position) when an id repeats. Not yet escaped.
fn anchors(record: &RunRecord) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    record
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut a = format!("chain-{}", s.id);
            if seen.contains(&a) {
                a = format!("chain-{}-{}", s.id, s.platform);
            }
            if seen.contains(&a) {
                a = format!("chain-{}-{}-{i}", s.id, s.platform);
            }
            seen.insert(a.clone());
            a
        })
        .collect()
}

/// The distinct backends that verified the record's scenarios.
fn backends(record: &RunRecord) -> Vec<String> {
    let mut b: Vec<String> = Vec::new();
    for v in record
        .scenarios
        .iter()
        .filter_map(|s| s.verification.as_ref())
    {
        if !b.contains(&v.backend) {
            b.push(v.backend.clone());
        }
    }
    if b.is_empty() {
        b.push("none (not verified)".into());
    }
    b
}

/// A time as `2026-11-26 11:39:38.234 UTC` (safe text: digits and literals).
fn when(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3] UTC"
        ))
        .unwrap_or_else(|_| "?".into())
}

/// `n/d` as a whole percentage, or `n/a` when `d` is 0.
fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "n/a".into()
    } else {
        format!("{:.0}%", n as f64 * 100.0 / d as f64)
    }
}

/// A run's status as in the record, e.g. `timed-out`.
fn status(run: &ScenarioRun) -> String {
    serde_json::to_value(run.status)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// Whether the backend's data holds the hop (observed or alerted).
fn seen(v: Verdict) -> bool {
    matches!(v, Verdict::Observed | Verdict::Alerted)
}

/// The verdict of hop `index` of `run`, when verified.
fn hop_verdict(run: &ScenarioRun, index: usize) -> Option<&crate::record::HopVerdict> {
    run.verification
        .as_ref()
        .and_then(|v| v.hops.iter().find(|h| h.index == index))
}

/// The label of hop `index` of `run`, or `hop <index>`.
fn hop_label(run: &ScenarioRun, index: usize) -> String {
    run.hops
        .iter()
        .find(|h| h.index == index)
        .map_or(format!("hop {index}"), |h| h.label.clone())
}

#[cfg(test)]
mod test_records;
#[cfg(test)]
mod tests;

#[cfg(test)]
#[cfg(unix)]
mod browser_tests;
