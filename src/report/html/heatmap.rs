//! The matrix as a heat map: scenarios × hops (hosts × scenarios × hops in a
//! fleet record), each cell with a colour class and the verdict as text
//! (readable without colour), and its legend.

use std::fmt::Write;

use super::escape;
use crate::record::{Grade, RunRecord, Verdict};
use crate::report::matrix::Matrix;

/// Colour classes, their label in the legend, and what they mean.
pub(super) const LEGEND: [(&str, &str, &str); 10] = [
    (
        "v-tech",
        "alerted (technique)",
        "an alert mapped to T1204 / T1204.002 references the hop",
    ),
    (
        "v-alert",
        "alerted (tactic / general)",
        "an alert references the hop, mapped to the Execution tactic or to nothing specific",
    ),
    (
        "v-obs",
        "observed",
        "the backend holds telemetry of the hop, no alert",
    ),
    (
        "v-miss",
        "missed",
        "the backend answered and the hop is not there",
    ),
    (
        "v-block",
        "blocked",
        "the chain did not get past this hop on the host",
    ),
    ("v-inc", "inconclusive", "the backend could not answer"),
    (
        "v-na",
        "not-applicable",
        "the variant cannot run on this host",
    ),
    (
        "v-nv",
        "not-visible",
        "the hop happened, but the backend can never hold a hop of its kind",
    ),
    (
        "v-fp",
        "false positive",
        "an alert fired on a negative control (a legitimate chain)",
    ),
    ("v-unv", "unverified", "no verdict in the record"),
];

/// The colour class of a verdict; `control` marks a negative control, on
/// which any alert is a false positive.
pub(super) fn class(verdict: Option<Verdict>, grade: Option<Grade>, control: bool) -> &'static str {
    match verdict {
        None => "v-unv",
        Some(Verdict::Alerted) if control => "v-fp",
        Some(Verdict::Alerted) if grade == Some(Grade::Technique) => "v-tech",
        Some(Verdict::Alerted) => "v-alert",
        Some(Verdict::Observed) => "v-obs",
        Some(Verdict::Missed) => "v-miss",
        Some(Verdict::Blocked) => "v-block",
        Some(Verdict::Inconclusive) => "v-inc",
        Some(Verdict::NotApplicable) => "v-na",
        Some(Verdict::NotVisible) => "v-nv",
    }
}

/// Escaped text with line breaks as `<br>`.
pub(super) fn lines(text: &str) -> String {
    escape(text).replace('\n', "<br>")
}

/// Writes the matrix section.
pub(super) fn write(out: &mut String, record: &RunRecord, anchors: &[String]) {
    let m = Matrix::of(record);
    out.push_str(
        "<section id=\"matrix-section\">\n<h2>Matrix</h2>\n<p>One row per scenario run, \
         one cell per hop of its chain (file → open → spawns). Every cell names its verdict \
         in text; the colour only repeats it.</p>\n",
    );
    legend(out);
    out.push_str("<div class=\"scroll\"><table id=\"matrix\" class=\"matrix\">\n<thead><tr>");
    for h in m.headers() {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(&h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for ((row, run), anchor) in m.rows.iter().zip(&record.scenarios).zip(anchors) {
        if m.by_host {
            let _ = write!(out, "<tr><td>{}</td>", escape(&row.host));
        } else {
            out.push_str("<tr>");
        }
        let _ = write!(
            out,
            "<th scope=\"row\"><a href=\"#{}\">{}</a>{}</th><td>{}</td><td>{}</td>",
            escape(anchor),
            escape(&row.scenario),
            if run.negative_control {
                " <span class=\"badge\">negative control</span>"
            } else {
                ""
            },
            escape(&row.platform),
            escape(&row.fidelity)
        );
        for i in 0..m.width {
            let hop = row
                .indices
                .get(i)
                .copied()
                .flatten()
                .and_then(|ix| run.hops.iter().find(|h| h.index == ix));
            let (Some((label, text)), Some(hop)) = (row.hops.get(i), hop) else {
                out.push_str("<td class=\"cell v-none\">-</td>");
                continue;
            };
            let hv = super::hop_verdict(run, hop.index);
            let cls = class(
                hv.map(|h| h.verdict),
                hv.and_then(|h| h.grade),
                run.negative_control,
            );
            let why = hv
                .and_then(|h| h.reason.as_deref())
                .or(hop.reason.as_deref())
                .map(|r| format!(" title=\"{}\"", escape(r)))
                .unwrap_or_default();
            let _ = write!(
                out,
                "<td class=\"cell {cls}\"{why}><span class=\"verdict\">{}</span>{}\
                 <span class=\"hop\">{}</span></td>",
                escape(text),
                if cls == "v-fp" {
                    "<span class=\"note\">false positive</span>"
                } else {
                    ""
                },
                escape(label)
            );
        }
        let chain = run.verification.as_ref().map(|v| &v.chain);
        let cls = match chain {
            Some(c) if run.negative_control && c.false_positive => "v-fp",
            Some(c) => class(Some(c.verdict), c.grade, false),
            None => "v-unv",
        };
        let _ = writeln!(
            out,
            "<td class=\"cell {cls}\">{}</td><td>{}</td></tr>",
            lines(&row.chain),
            escape(&row.time_to_alert)
        );
    }
    let _ = write!(
        out,
        "</tbody>\n</table></div>\n<p class=\"line\">{}.</p>\n</section>\n",
        escape(&m.summary.line())
    );
}

/// Writes the legend: a swatch per class with its name and meaning.
fn legend(out: &mut String) {
    out.push_str("<ul class=\"legend\" id=\"legend\" aria-label=\"Legend\">\n");
    for (cls, name, meaning) in LEGEND {
        let _ = writeln!(
            out,
            "<li><span class=\"swatch cell {cls}\">{name}</span> {meaning}</li>"
        );
    }
    out.push_str("</ul>\n");
}
