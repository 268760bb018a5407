//! The "Containment and visibility" section: what the product did about
//! each chain (from its own responses, not the harness's view that IR
//! readiness gives), and per hop which IR questions the backend's own
//! events answer (field by field), summarised per backend, with the answers
//! that matched the search but named no run and the loaded rules that can
//! never fire on the backend's events. Text from
//! [`crate::report::readiness`], escaped here.

use std::fmt::Write;

use super::{escape, hop_label};
use crate::record::{Question, RunRecord, ScenarioRun};
use crate::report::readiness;

/// Writes the section.
pub(super) fn write(out: &mut String, record: &RunRecord, anchors: &[String]) {
    out.push_str(
        "<section id=\"readiness\">\n<h2>Containment and visibility</h2>\n<p>What the \
         product reports having done about each chain, and which incident questions the \
         backend's own events of each hop answer, field by field (not the ground truth).</p>\n",
    );
    let mut said = false;
    for line in readiness::untied_line(record)
        .into_iter()
        .chain(readiness::containment_line(record))
        .chain(readiness::marks_line(record))
    {
        let _ = writeln!(out, "<p class=\"line\">{}.</p>", escape(&line));
        said = true;
    }
    let backends = readiness::visibility_by_backend(record);
    if !backends.is_empty() {
        out.push_str("<ul class=\"findings\">\n");
        for (backend, sentence) in &backends {
            let _ = writeln!(
                out,
                "<li>backend <strong>{}</strong>: its data {}</li>",
                escape(backend),
                escape(sentence)
            );
        }
        out.push_str("</ul>\n");
        said = true;
    }
    if let Some(line) = readiness::blind_line(record) {
        let _ = writeln!(
            out,
            "<p class=\"line\">{}:</p>\n<ul class=\"findings\">",
            escape(&line)
        );
        for b in &record.rules.blind {
            let _ = writeln!(out, "<li>{}</li>", escape(&readiness::blind_text(b)));
        }
        out.push_str("</ul>\n");
        said = true;
    }
    for (run, anchor) in record.scenarios.iter().zip(anchors) {
        said |= chain(out, run, anchor);
    }
    if !said {
        out.push_str("<p>No verification in this record says anything of either.</p>\n");
    }
    out.push_str("</section>\n");
}

/// One chain's containment line and visibility grid; false when it has
/// neither.
fn chain(out: &mut String, run: &ScenarioRun, anchor: &str) -> bool {
    let Some(v) = &run.verification else {
        return false;
    };
    if v.containment.is_none() && v.visibility.is_empty() {
        return false;
    }
    let _ = writeln!(
        out,
        "<h3><a href=\"#{}\">{}</a> <span class=\"title\">{}</span></h3>",
        escape(anchor),
        escape(&run.id),
        escape(&run.title)
    );
    if let Some(c) = &v.containment {
        let _ = writeln!(
            out,
            "<p>Containment: {}</p>",
            escape(&readiness::containment_text(c, run))
        );
    }
    if v.visibility.is_empty() {
        return true;
    }
    out.push_str("<table class=\"data\"><thead><tr><th>hop</th><th>events</th>");
    for q in Question::ALL {
        let _ = write!(out, "<th>{}</th>", escape(q.words()));
    }
    out.push_str("</tr></thead><tbody>\n");
    for h in &v.visibility {
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td>",
            escape(&hop_label(run, h.index)),
            h.events
        );
        for q in Question::ALL {
            let cell = if h.answered.contains(&q) {
                "<td class=\"ans yes\">yes</td>"
            } else if h.unanswered.contains(&q) {
                "<td class=\"ans no\">no</td>"
            } else {
                "<td class=\"ans na\">not asked</td>"
            };
            out.push_str(cell);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    true
}
