//! One section per chain: its facts, the verdict per hop, the process tree,
//! the artifact and its origin, the alerts and what the capture saw.

use std::fmt::Write;

use super::heatmap::{class, lines};
use super::{escape, hop_label, status, when};
use crate::record::{ScenarioRun, Verdict};

/// Writes the section of `run` with id `anchor`.
pub(super) fn write(out: &mut String, run: &ScenarioRun, anchor: &str) {
    let _ = write!(
        out,
        "<section class=\"chain\" id=\"{}\">\n<h2>Chain {}{} <span class=\"title\">{}</span></h2>\n",
        escape(anchor),
        escape(&run.id),
        // A fleet record names the host each chain ran on.
        run.host
            .as_deref()
            .map(|h| format!(" on {}", escape(h)))
            .unwrap_or_default(),
        escape(&run.title)
    );
    facts(out, run);
    hops(out, run);
    out.push_str("<details open><summary>Process tree (ground truth)</summary>\n");
    super::tree::write(out, &run.truth.processes, &run.hops);
    out.push_str("</details>\n");
    artifact(out, run);
    alerts(out, run);
    capture(out, run);
    out.push_str(
        "<p class=\"raw\">raw backend answers: see telemetry.jsonl in this folder when recorded \
         (run --record)</p>\n</section>\n",
    );
}

fn facts(out: &mut String, run: &ScenarioRun) {
    let v = run.verification.as_ref();
    let chain = match v {
        Some(v) => {
            let c = &v.chain;
            let cls = if run.negative_control && c.false_positive {
                "v-fp"
            } else {
                class(Some(c.verdict), c.grade, false)
            };
            let mut text = crate::report::matrix::cell(c.verdict, c.grade);
            if run.negative_control && c.false_positive {
                text = format!("false positive ({text})");
            }
            format!(
                "<span class=\"cell {cls}\">{}</span>{}{}",
                escape(&text),
                if c.fully_observed {
                    " · every hop observed"
                } else {
                    " · not every hop observed"
                },
                c.reason
                    .as_deref()
                    .map(|r| format!(" · {}", escape(r)))
                    .unwrap_or_default()
            )
        }
        None => "<span class=\"cell v-unv\">unverified</span>".into(),
    };
    let _ = write!(
        out,
        "<dl class=\"facts\">\n<dt>technique</dt><dd>{}</dd>\n<dt>platform</dt><dd>{}</dd>\n\
         <dt>fidelity</dt><dd>{}</dd>\n<dt>kind</dt><dd>{}</dd>\n<dt>status</dt><dd>{}{}</dd>\n\
         <dt>token</dt><dd><code>{}</code></dd>\n<dt>ran</dt><dd>{} → {}</dd>\n\
         <dt>chain verdict</dt><dd>{chain}</dd>\n",
        escape(&run.technique),
        run.platform,
        run.fidelity
            .map_or("none ran", |f| if f == crate::vocab::Fidelity::Real {
                "real (the host's own application opened the file)"
            } else {
                "emulated (the stage program played the opener)"
            }),
        if run.negative_control {
            "negative control: a legitimate chain, any alert is a false positive"
        } else {
            "attack chain"
        },
        escape(&status(run)),
        run.reason
            .as_deref()
            .map(|r| format!(": {}", escape(r)))
            .unwrap_or_default(),
        escape(&run.token),
        when(run.started_at),
        when(run.finished_at),
    );
    if let Some(v) = v {
        let _ = writeln!(
            out,
            "<dt>backend</dt><dd>{} (verified {})</dd>",
            escape(&v.backend),
            when(v.verified_at)
        );
        if !v.chain.expected_rules_missing.is_empty() {
            let _ = writeln!(
                out,
                "<dt>expected rules that did not fire</dt><dd>{}</dd>",
                escape(&v.chain.expected_rules_missing.join(", "))
            );
        }
    }
    if let Some(t) = &run.timings {
        let _ = writeln!(
            out,
            "<dt>timings</dt><dd>prepare {} ms · chain {} ms · grace {} ms · cleanup {} ms</dd>",
            t.prepare_ms, t.chain_ms, t.grace_ms, t.cleanup_ms
        );
    }
    out.push_str("</dl>\n");
}

fn hops(out: &mut String, run: &ScenarioRun) {
    out.push_str(
        "<h3>Verdict per hop</h3>\n<div class=\"scroll\"><table class=\"data hops\"><thead><tr>\
         <th>#</th><th>hop</th><th>expected</th><th>on the host</th><th>verdict</th>\
         <th>time to telemetry</th><th>time to alert</th><th>linked to parent</th><th>reason</th>\
         </tr></thead><tbody>\n",
    );
    for h in &run.hops {
        let hv = super::hop_verdict(run, h.index);
        let cls = class(
            hv.map(|x| x.verdict),
            hv.and_then(|x| x.grade),
            run.negative_control,
        );
        let verdict = hv.map_or("unverified".to_string(), |x| {
            crate::report::matrix::cell(x.verdict, x.grade)
        });
        let host = if h.happened {
            format!(
                "happened{}{}",
                h.at.map(|t| format!(" at {}", when(t))).unwrap_or_default(),
                h.image
                    .as_deref()
                    .or(h.path.as_deref())
                    .map(|x| format!("<br><code class=\"path\">{}</code>", escape(x)))
                    .unwrap_or_default()
            )
        } else {
            format!(
                "did not happen{}",
                h.reason
                    .as_deref()
                    .map(|r| format!(": {}", escape(r)))
                    .unwrap_or_default()
            )
        };
        let reason = hv.and_then(|x| x.reason.as_deref()).unwrap_or("");
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{host}</td>\
             <td class=\"cell {cls}\">{}{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            h.index,
            escape(&h.label),
            escape(&h.expected),
            escape(&verdict),
            if cls == "v-fp" {
                " — false positive"
            } else {
                ""
            },
            if hv.is_some_and(|x| x.delayed) {
                " (delayed)"
            } else {
                ""
            },
            escape(
                &hv.and_then(crate::report::latency::telemetry)
                    .unwrap_or_else(|| "-".into())
            ),
            escape(
                &hv.and_then(crate::report::latency::alert)
                    .unwrap_or_else(|| "-".into())
            ),
            match hv.and_then(|x| x.linked) {
                Some(true) => "yes",
                Some(false) => "no",
                None => "-",
            },
            lines(reason)
        );
    }
    out.push_str("</tbody></table></div>\n");
}

fn artifact(out: &mut String, run: &ScenarioRun) {
    out.push_str("<h3>Artifact and its origin</h3>\n");
    let files: Vec<_> = run
        .truth
        .files
        .iter()
        .filter(|f| f.role == "artifact")
        .collect();
    if files.is_empty() {
        out.push_str("<p>No artifact file in the ground truth.</p>\n");
    }
    for f in files {
        let _ = write!(
            out,
            "<dl class=\"facts\">\n<dt>path</dt><dd><code>{}</code></dd>\n<dt>size</dt>\
             <dd>{} bytes</dd>\n<dt>written</dt><dd>{}</dd>\n",
            escape(&f.path),
            f.size,
            when(f.written_at)
        );
        if !f.sha256.is_empty() {
            let _ = writeln!(
                out,
                "<dt>SHA-256</dt><dd><code>{}</code></dd>",
                escape(&f.sha256)
            );
        }
        if f.origin.is_empty() {
            out.push_str("<dt>origin marks</dt><dd>none</dd>\n");
        } else {
            for (k, val) in &f.origin {
                let _ = writeln!(
                    out,
                    "<dt>origin <code>{}</code></dt><dd><code>{}</code></dd>",
                    escape(k),
                    escape(val)
                );
            }
        }
        out.push_str("</dl>\n");
    }
    if let Some(m) = &run.truth.mount {
        let _ = writeln!(
            out,
            "<p>Mounted <code>{}</code> at <code>{}</code> with {}; {}.</p>",
            escape(&m.image),
            escape(&m.mount_point),
            escape(&m.method),
            if m.unmounted {
                "unmounted at cleanup"
            } else {
                "NOT unmounted at cleanup"
            }
        );
    }
}

fn alerts(out: &mut String, run: &ScenarioRun) {
    out.push_str("<h3>Alerts</h3>\n");
    let Some(v) = &run.verification else {
        out.push_str("<p>Not verified.</p>\n");
        return;
    };
    if v.alerts.is_empty() {
        let _ = writeln!(
            out,
            "<p>No alert references this chain{}.</p>",
            if run.negative_control {
                " (as a negative control should)"
            } else {
                ""
            }
        );
        return;
    }
    out.push_str(
        "<div class=\"scroll\"><table class=\"data\"><thead><tr><th>rule</th><th>id</th>\
         <th>level</th><th>ATT&amp;CK tags</th><th>grade</th><th>hop</th><th>raised</th>\
         </tr></thead><tbody>\n",
    );
    for a in &v.alerts {
        let grade = format!("{:?}", a.grade).to_lowercase();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td>\
             <td class=\"cell {}\">{grade}</td><td>{}</td><td>{}</td></tr>",
            escape(&a.rule_title),
            escape(a.rule_id.as_deref().unwrap_or("no id")),
            escape(a.level.as_deref().unwrap_or("-")),
            escape(&a.tags.join(", ")),
            class(Some(Verdict::Alerted), Some(a.grade), run.negative_control),
            a.hop
                .map_or("-".to_string(), |i| escape(&hop_label(run, i))),
            when(a.at)
        );
    }
    out.push_str("</tbody></table></div>\n");
}

fn capture(out: &mut String, run: &ScenarioRun) {
    let t = &run.truth;
    let _ = write!(
        out,
        "<details><summary>Capture: {} source{}, {} warning{}</summary>\n<ul>\n\
         <li>sources: {}</li>\n",
        t.sources.len(),
        if t.sources.len() == 1 { "" } else { "s" },
        t.warnings.len(),
        if t.warnings.len() == 1 { "" } else { "s" },
        escape(&t.sources.join(", "))
    );
    for w in &t.warnings {
        let _ = writeln!(out, "<li>warning: {}</li>", escape(w));
    }
    for r in &t.removed_outside {
        let _ = writeln!(
            out,
            "<li>removed outside the run directory: <code>{}</code></li>",
            escape(r)
        );
    }
    for f in t.files.iter().filter(|f| f.role != "artifact") {
        let _ = writeln!(
            out,
            "<li>{} file <code>{}</code> ({} bytes)</li>",
            escape(&f.role),
            escape(&f.path),
            f.size
        );
    }
    out.push_str("</ul>\n</details>\n");
}
