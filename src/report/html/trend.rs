//! The trend over past runs: an inline SVG line chart of technique-grade and
//! fully-observed coverage, with a table holding the same figures as text.

use std::fmt::Write;

use super::{escape, pct, when};
use crate::history::Entry;

const W: f64 = 760.0;
const H: f64 = 320.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 48.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 70.0;

/// Writes the trend section: a chart and its table with two history
/// entries or more, else a sentence saying there is no trend yet.
pub(super) fn write(out: &mut String, history: &[Entry]) {
    out.push_str("<section id=\"trend\">\n<h2>Trend</h2>\n");
    if history.len() < 2 {
        let _ = writeln!(
            out,
            "<p class=\"no-trend\">No trend yet: the history holds {} run{}; a trend needs \
             two or more.</p>\n</section>",
            history.len(),
            if history.len() == 1 { "" } else { "s" }
        );
        return;
    }
    let mut runs: Vec<&Entry> = history.iter().collect();
    runs.sort_by_key(|e| e.started_at);
    chart(out, &runs);
    table(out, &runs);
    out.push_str("</section>\n");
}

/// Percentage of attack chains, `None` when a run verified none.
fn share(n: usize, of: usize) -> Option<f64> {
    (of > 0).then(|| n as f64 * 100.0 / of as f64)
}

fn chart(out: &mut String, runs: &[&Entry]) {
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let t0 = runs
        .first()
        .map_or(0.0, |e| e.started_at.unix_timestamp_nanos() as f64);
    let t1 = runs
        .last()
        .map_or(0.0, |e| e.started_at.unix_timestamp_nanos() as f64);
    let last = (runs.len().max(2) - 1) as f64;
    let x = |i: usize, e: &Entry| {
        let f = if t1 > t0 {
            (e.started_at.unix_timestamp_nanos() as f64 - t0) / (t1 - t0)
        } else {
            i as f64 / last
        };
        LEFT + f * pw
    };
    let y = |p: f64| TOP + (1.0 - p / 100.0) * ph;
    let _ = write!(
        out,
        "<figure class=\"trend\">\n<svg id=\"trend-chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
         aria-labelledby=\"trend-title trend-desc\">\n<title id=\"trend-title\">Coverage over \
         {} runs</title>\n<desc id=\"trend-desc\">Share of attack chains alerted at technique \
         grade (solid line, circles) and fully observed (dashed line, squares), per run, \
         from 0 to 100 percent.</desc>\n",
        runs.len()
    );
    // Grid and y axis.
    for p in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\"/>\
             <text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{p:.0}%</text>",
            LEFT + pw,
            LEFT - 6.0,
            y(p) + 4.0,
            yy = y(p)
        );
    }
    let _ = writeln!(
        out,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{b:.1}\"/>\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"{b:.1}\" x2=\"{:.1}\" y2=\"{b:.1}\"/>\
         <text class=\"label\" transform=\"translate(14 {:.1}) rotate(-90)\" \
         text-anchor=\"middle\">attack chains (%)</text>\
         <text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">run start (UTC)</text>",
        LEFT + pw,
        TOP + ph / 2.0,
        LEFT + pw / 2.0,
        H - 8.0,
        b = TOP + ph
    );
    // X labels: every run up to 6, else 6 spread evenly.
    let n = runs.len();
    let picks: Vec<usize> = if n <= 6 {
        (0..n).collect()
    } else {
        (0..6).map(|k| (k * (n - 1) + 2) / 5).collect()
    };
    for i in picks {
        let Some(e) = runs.get(i) else { continue };
        let stamp = when(e.started_at);
        let (date, clock) = stamp.split_at(stamp.find(' ').unwrap_or(stamp.len()));
        let xx = x(i, e);
        let _ = writeln!(
            out,
            "<line class=\"axis\" x1=\"{xx:.1}\" y1=\"{b:.1}\" x2=\"{xx:.1}\" y2=\"{:.1}\"/>\
             <text class=\"tick\" x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">\
             <tspan x=\"{xx:.1}\">{}</tspan><tspan x=\"{xx:.1}\" dy=\"13\">{}</tspan></text>",
            TOP + ph + 4.0,
            TOP + ph + 17.0,
            escape(date),
            escape(clock.get(1..6).unwrap_or("")),
            b = TOP + ph
        );
    }
    type Pick = fn(&Entry) -> Option<f64>;
    let series: [(&str, &str, Pick); 2] = [
        ("s-tech", "technique-grade alert", |e| {
            share(e.technique, e.chains)
        }),
        ("s-full", "fully observed", |e| {
            share(e.fully_observed, e.chains)
        }),
    ];
    for (cls, name, pick) in series {
        let pts: Vec<(f64, f64, &Entry, f64)> = runs
            .iter()
            .enumerate()
            .filter_map(|(i, e)| pick(e).map(|p| (x(i, e), y(p), *e, p)))
            .collect();
        let line: Vec<String> = pts
            .iter()
            .map(|(a, b, _, _)| format!("{a:.1},{b:.1}"))
            .collect();
        let _ = writeln!(
            out,
            "<polyline class=\"{cls}\" fill=\"none\" points=\"{}\"/>",
            line.join(" ")
        );
        for (a, b, e, p) in pts {
            let tip = format!(
                "<title>run {} · {}: {name} {p:.0}%</title>",
                escape(&e.run_id),
                when(e.started_at)
            );
            if cls == "s-tech" {
                let _ = writeln!(
                    out,
                    "<circle class=\"{cls}\" cx=\"{a:.1}\" cy=\"{b:.1}\" r=\"4\">{tip}</circle>"
                );
            } else {
                let _ = writeln!(
                    out,
                    "<rect class=\"{cls}\" x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\">{tip}</rect>",
                    a - 4.0,
                    b - 4.0
                );
            }
        }
    }
    // Legend, above the plot.
    let _ = writeln!(
        out,
        "<line class=\"s-tech\" x1=\"{LEFT}\" y1=\"16\" x2=\"{:.1}\" y2=\"16\"/>\
         <circle class=\"s-tech\" cx=\"{:.1}\" cy=\"16\" r=\"4\"/>\
         <text class=\"label\" x=\"{:.1}\" y=\"20\">technique-grade alert</text>\
         <line class=\"s-full\" x1=\"{:.1}\" y1=\"16\" x2=\"{:.1}\" y2=\"16\"/>\
         <rect class=\"s-full\" x=\"{:.1}\" y=\"12\" width=\"8\" height=\"8\"/>\
         <text class=\"label\" x=\"{:.1}\" y=\"20\">fully observed</text>\n</svg>\n\
         <figcaption>Coverage of attack chains per run (negative controls excluded); the \
         table below holds the same figures.</figcaption>\n</figure>",
        LEFT + 28.0,
        LEFT + 14.0,
        LEFT + 36.0,
        LEFT + 210.0,
        LEFT + 238.0,
        LEFT + 220.0,
        LEFT + 246.0
    );
}

fn table(out: &mut String, runs: &[&Entry]) {
    out.push_str(
        "<div class=\"scroll\"><table class=\"data\" id=\"trend-table\"><thead><tr><th>run</th>\
         <th>started</th><th>host</th><th>backend</th><th>attack chains</th>\
         <th>technique-grade alert</th><th>fully observed</th><th>inconclusive</th>\
         <th>false positives</th></tr></thead><tbody>\n",
    );
    for e in runs {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{} ({})</td><td>{} ({})</td><td>{}</td><td>{} of {}</td></tr>",
            escape(&e.run_id),
            when(e.started_at),
            escape(&e.host),
            escape(if e.backend.is_empty() {
                "-"
            } else {
                &e.backend
            }),
            e.chains,
            e.technique,
            pct(e.technique, e.chains),
            e.fully_observed,
            pct(e.fully_observed, e.chains),
            e.inconclusive,
            e.false_positives,
            e.controls
        );
    }
    out.push_str("</tbody></table></div>\n");
}
