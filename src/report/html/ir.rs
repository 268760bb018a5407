//! IR readiness: per chain, the questions an incident responder asks, answered
//! from the ground truth with the evidence, and marked `answered` only when
//! the backend observed the hop that answers it. The ground truth is what
//! happened; the question is whether the SOC's data shows it.

use std::fmt::Write;

use super::{escape, hop_label, seen};
use crate::record::{HopTruth, RunRecord, ScenarioRun, Verdict};
use crate::vocab::HopKind;

/// Marker for an answer the backend's data holds.
pub(super) const ANSWERED: &str = "answered";
/// Marker for an answer it does not.
pub(super) const NOT_ANSWERABLE: &str = "not answerable from the backend's data";

/// Writes the IR readiness section.
pub(super) fn write(out: &mut String, record: &RunRecord, anchors: &[String]) {
    out.push_str(
        "<section id=\"ir-readiness\">\n<h2>IR readiness</h2>\n<p>For each chain, what an \
         incident responder would ask. The answer comes from the ground truth (what really \
         happened), with its evidence; it is marked <em>answered</em> only when the backend \
         observed the hop that answers it (verdict observed or alerted), else <em>not \
         answerable from the backend's data</em>.</p>\n",
    );
    for (run, anchor) in record.scenarios.iter().zip(anchors) {
        let _ = write!(
            out,
            "<div class=\"ir\" id=\"ir-{}\">\n<h3><a href=\"#{}\">{}</a> <span class=\"title\">{}</span></h3>\n",
            escape(anchor),
            escape(anchor),
            escape(&run.id),
            escape(&run.title)
        );
        chain(out, run);
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
}

fn chain(out: &mut String, run: &ScenarioRun) {
    match &run.verification {
        None => {
            out.push_str("<p>Not verified: no answer can be checked against a backend.</p>\n");
            return;
        }
        Some(v) if v.chain.verdict == Verdict::NotApplicable => {
            let _ = writeln!(
                out,
                "<p>Not applicable{}.</p>",
                v.chain
                    .reason
                    .as_deref()
                    .or(run.reason.as_deref())
                    .map(|r| format!(": {}", escape(r)))
                    .unwrap_or_default()
            );
            return;
        }
        Some(_) => {}
    }
    out.push_str(
        "<table class=\"data ir-table\"><thead><tr><th>question</th><th>what happened \
         (ground truth)</th><th>in the backend's data</th></tr></thead><tbody>\n",
    );
    let first = |kind| run.hops.iter().find(|h| h.kind == kind);
    row(
        out,
        run,
        "Who opened the file?",
        first(HopKind::Open),
        who(run),
    );
    row(
        out,
        run,
        "Where did it come from?",
        first(HopKind::File),
        origin(run),
    );
    if let Some(answer) = super::delivery::message(run) {
        row(
            out,
            run,
            "Which message delivered it?",
            first(HopKind::Mail),
            answer,
        );
    }
    if let Some(answer) = super::delivery::marks(run) {
        row(
            out,
            run,
            "Did its origin mark survive the hand-off?",
            first(HopKind::File),
            answer,
        );
    }
    let spawns: Vec<&HopTruth> = run
        .hops
        .iter()
        .filter(|h| h.kind == HopKind::Spawn)
        .collect();
    if spawns.is_empty() {
        row(
            out,
            run,
            "What did it launch?",
            None,
            "the chain expects no process to be launched".into(),
        );
    }
    for h in spawns {
        let q = format!("What did it launch? ({})", escape(&h.label));
        row(out, run, &q, Some(h), launched(run, h));
    }
    let (answer, hop) = contained(run);
    row(out, run, "Was it contained?", hop, answer);
    out.push_str("</tbody></table>\n");
}

/// Writes one row; `question` and `answer` are HTML already escaped.
fn row(
    out: &mut String,
    run: &ScenarioRun,
    question: &str,
    hop: Option<&HopTruth>,
    answer: String,
) {
    let verdict = hop.and_then(|h| super::hop_verdict(run, h.index).map(|v| v.verdict));
    let mark = match (hop, verdict) {
        (Some(h), Some(v)) if seen(v) => format!(
            "<span class=\"ans yes\">{ANSWERED}</span> <span class=\"why\">hop {} {}</span>",
            escape(&h.label),
            v.as_str()
        ),
        (Some(h), v) => format!(
            "<span class=\"ans no\">{NOT_ANSWERABLE}</span> <span class=\"why\">hop {} {}</span>",
            escape(&h.label),
            v.map_or("unverified", Verdict::as_str)
        ),
        (None, _) => "<span class=\"ans na\">no hop to observe</span>".into(),
    };
    let _ = writeln!(
        out,
        "<tr><th scope=\"row\">{question}</th><td>{answer}</td><td>{mark}</td></tr>"
    );
}

fn process<'a>(run: &'a ScenarioRun, hop: &HopTruth) -> Option<&'a crate::record::ProcessTruth> {
    hop.pid
        .and_then(|pid| run.truth.processes.iter().find(|p| p.pid == pid))
}

fn who(run: &ScenarioRun) -> String {
    let Some(hop) = run.hops.iter().find(|h| h.kind == HopKind::Open) else {
        return "the chain has no open hop".into();
    };
    if !hop.happened {
        return format!(
            "nobody: the file was not opened{}",
            hop.reason
                .as_deref()
                .map(|r| format!(" ({})", escape(r)))
                .unwrap_or_default()
        );
    }
    let p = process(run, hop);
    let user = p.and_then(|p| p.user.as_deref());
    format!(
        "user <strong>{}</strong>{} — pid {}, <code>{}</code>",
        escape(user.unwrap_or("unknown")),
        p.and_then(|p| p.uid)
            .map(|u| format!(" (uid {u})"))
            .unwrap_or_default(),
        hop.pid.map_or("?".into(), |p| p.to_string()),
        escape(
            hop.image
                .as_deref()
                .or(p.and_then(|p| p.image.as_deref()))
                .unwrap_or(&hop.expected)
        )
    )
}

fn origin(run: &ScenarioRun) -> String {
    let Some(file) = run.truth.files.iter().find(|f| f.role == "artifact") else {
        return "no artifact file in the ground truth".into();
    };
    let marks: Vec<String> = file
        .origin
        .iter()
        .filter(|(k, _)| {
            let k = k.to_lowercase();
            ["url", "referrer", "where", "zone", "quarantine"]
                .iter()
                .any(|w| k.contains(w))
        })
        .map(|(k, v)| format!("<code>{}</code> = <code>{}</code>", escape(k), escape(v)))
        .collect();
    let marks = if marks.is_empty() {
        "no origin mark on the file".to_string()
    } else {
        marks.join("<br>")
    };
    format!(
        "{marks}<br>file <code>{}</code>{}",
        escape(&file.path),
        if file.sha256.is_empty() {
            String::new()
        } else {
            format!(" (SHA-256 <code>{}</code>)", escape(&file.sha256))
        }
    )
}

fn launched(run: &ScenarioRun, hop: &HopTruth) -> String {
    if !hop.happened {
        return format!(
            "not launched{}",
            hop.reason
                .as_deref()
                .map(|r| format!(": {}", escape(r)))
                .unwrap_or_default()
        );
    }
    let p = process(run, hop);
    let image = hop
        .image
        .as_deref()
        .or(p.and_then(|p| p.image.as_deref()))
        .unwrap_or(&hop.expected);
    format!(
        "<code>{}</code>{}{}",
        escape(image),
        p.and_then(|p| p.command_line.as_deref())
            .map(|c| format!("<br><code>{}</code>", escape(c)))
            .unwrap_or_default(),
        p.map(|p| format!("<br>pid {}, parent {}", p.pid, p.ppid))
            .unwrap_or_default()
    )
}

/// Whether the chain was contained, and the hop whose observation answers
/// it: the last hop that ran before a block, or the chain's last hop.
fn contained(run: &ScenarioRun) -> (String, Option<&HopTruth>) {
    let blocked = run.verification.as_ref().and_then(|v| {
        v.hops
            .iter()
            .filter(|h| h.verdict == Verdict::Blocked)
            .min_by_key(|h| h.index)
    });
    match blocked {
        Some(b) => {
            let before = run
                .hops
                .iter()
                .filter(|h| h.index < b.index)
                .max_by_key(|h| h.index);
            let answer = format!(
                "<strong>yes</strong>: blocked at hop {}{}; the SOC sees it stop after {}",
                escape(&hop_label(run, b.index)),
                b.reason
                    .as_deref()
                    .map(|r| format!(" ({})", escape(r)))
                    .unwrap_or_default(),
                before.map_or("nothing".into(), |h| escape(&h.label))
            );
            (answer, before)
        }
        None => {
            let last = run.hops.iter().max_by_key(|h| h.index);
            let answer = match last {
                Some(h) if h.happened => {
                    "<strong>no</strong>: the chain ran to its end".to_string()
                }
                Some(h) => format!(
                    "<strong>no block recorded</strong>, but hop {} did not happen{}",
                    escape(&h.label),
                    h.reason
                        .as_deref()
                        .map(|r| format!(": {}", escape(r)))
                        .unwrap_or_default()
                ),
                None => "no hop recorded".into(),
            };
            (answer, last)
        }
    }
}
