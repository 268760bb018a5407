//! The summary: coverage overall, by platform and by hop kind, time to
//! telemetry and to alert, false positives on negative controls, and the
//! inconclusive cells with their reasons.

use std::fmt::Write;

use super::{escape, hop_label, pct, seen};
use crate::record::{Basis, Grade, RunRecord, ScenarioRun, Verdict};
use crate::report::matrix::Summary;
use crate::vocab::{HopKind, Platform};

/// Writes the summary section.
pub(super) fn write(out: &mut String, record: &RunRecord, anchors: &[String]) {
    let s = Summary::of(record);
    out.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"tiles\">\n");
    tile(
        out,
        "technique-grade alert",
        s.technique,
        s.chains,
        "attack chains",
    );
    tile(
        out,
        "fully observed",
        s.fully_observed,
        s.chains,
        "attack chains",
    );
    tile(
        out,
        "alerted, any grade",
        s.alerted,
        s.chains,
        "attack chains",
    );
    let _ = write!(
        out,
        "<div class=\"tile{}\"><span class=\"big\">{}</span> false positive{} \
         <span class=\"of\">on {} negative control{}</span></div>\n\
         <div class=\"tile\"><span class=\"big\">{}</span> inconclusive \
         <span class=\"of\">chain{}</span></div>\n</div>\n",
        if s.false_positives > 0 { " bad" } else { "" },
        s.false_positives,
        if s.false_positives == 1 { "" } else { "s" },
        s.controls,
        if s.controls == 1 { "" } else { "s" },
        s.inconclusive,
        if s.inconclusive == 1 { "" } else { "s" },
    );
    let _ = writeln!(out, "<p class=\"line\">{}.</p>", escape(&s.line()));
    not_run(out, record);
    platforms(out, record);
    kinds(out, record);
    timings(out, record);
    controls(out, record, anchors);
    inconclusive(out, record, anchors);
    out.push_str("</section>\n");
}

/// Fleet records: the targets that gave no record, and why. Their chains
/// are absent from every table below.
fn not_run(out: &mut String, record: &RunRecord) {
    if record.targets_not_run.is_empty() {
        return;
    }
    out.push_str(
        "<h3>Targets not run</h3>\n<p>These hosts gave no record: their chains are \
         absent from every table below.</p>\n<table class=\"data\"><thead><tr><th>target</th>\
         <th>address</th><th>step</th><th>why</th></tr></thead><tbody>\n",
    );
    for t in &record.targets_not_run {
        let _ = writeln!(
            out,
            "<tr class=\"v-miss\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&t.name),
            escape(&t.url),
            escape(&t.step),
            escape(&t.reason)
        );
    }
    out.push_str("</tbody></table>\n");
}

fn tile(out: &mut String, what: &str, n: usize, of: usize, unit: &str) {
    let _ = writeln!(
        out,
        "<div class=\"tile\"><span class=\"big\">{}</span> {what} \
         <span class=\"of\">{n} of {of} {unit}</span></div>",
        pct(n, of)
    );
}

/// Verified chains that ran (not `not-applicable`).
fn verified(record: &RunRecord) -> impl Iterator<Item = &ScenarioRun> {
    record.scenarios.iter().filter(|s| {
        s.verification
            .as_ref()
            .is_some_and(|v| v.chain.verdict != Verdict::NotApplicable)
    })
}

fn platforms(out: &mut String, record: &RunRecord) {
    out.push_str(
        "<h3>Coverage by platform</h3>\n<table class=\"data\"><thead><tr><th>platform</th>\
         <th>attack chains</th><th>fully observed</th><th>alerted (any grade)</th>\
         <th>alerted (technique)</th><th>negative controls</th><th>false positives</th>\
         </tr></thead><tbody>\n",
    );
    for p in Platform::ALL {
        let runs: Vec<&ScenarioRun> = verified(record).filter(|s| s.platform == p).collect();
        let n_all = record.scenarios.iter().filter(|s| s.platform == p).count();
        if n_all == 0 {
            continue;
        }
        let attack: Vec<_> = runs.iter().filter(|s| !s.negative_control).collect();
        let count = |f: &dyn Fn(&crate::record::ChainVerdict) -> bool| {
            attack
                .iter()
                .filter(|s| s.verification.as_ref().is_some_and(|v| f(&v.chain)))
                .count()
        };
        let chains = attack.len();
        let full = count(&|c| c.fully_observed);
        let alerted = count(&|c| c.verdict == Verdict::Alerted);
        let technique = count(&|c| c.grade == Some(Grade::Technique));
        let controls = runs.len() - chains;
        let fps = runs
            .iter()
            .filter(|s| s.negative_control)
            .filter(|s| {
                s.verification
                    .as_ref()
                    .is_some_and(|v| v.chain.false_positive)
            })
            .count();
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{p}</th><td>{chains}</td><td>{full} ({})</td>\
             <td>{alerted} ({})</td><td>{technique} ({})</td><td>{controls}</td><td>{fps}</td></tr>",
            pct(full, chains),
            pct(alerted, chains),
            pct(technique, chains)
        );
    }
    out.push_str("</tbody></table>\n");
}

/// Counts of one hop kind over the attack chains.
#[derive(Default)]
struct KindCount {
    hops: usize,
    seen: usize,
    alerted: usize,
    technique: usize,
    missed: usize,
    blocked: usize,
    inconclusive: usize,
}

fn kinds(out: &mut String, record: &RunRecord) {
    out.push_str(
        "<h3>Coverage by hop</h3>\n<p>Hops of the attack chains (negative controls \
         excluded), by kind. Observed counts every hop whose telemetry the backend holds, \
         alerted or not.</p>\n<table class=\"data\"><thead><tr><th>hop kind</th><th>hops</th>\
         <th>observed</th><th>alerted (any grade)</th><th>alerted (technique)</th>\
         <th>missed</th><th>blocked</th><th>inconclusive</th></tr></thead><tbody>\n",
    );
    for (kind, name) in [
        (HopKind::Mail, "mail"),
        (HopKind::File, "file"),
        (HopKind::Open, "open"),
        (HopKind::Spawn, "spawn"),
    ] {
        let mut c = KindCount::default();
        // A kind no chain has (mail, in a suite without mail delivery) gets no row.
        if kind == HopKind::Mail
            && !record
                .scenarios
                .iter()
                .any(|s| s.hops.iter().any(|h| h.kind == kind))
        {
            continue;
        }
        for run in verified(record).filter(|s| !s.negative_control) {
            for hop in run.hops.iter().filter(|h| h.kind == kind) {
                let Some(hv) = super::hop_verdict(run, hop.index) else {
                    continue;
                };
                // Neither can the host run it nor the backend hold it: not
                // a hop of the coverage figures.
                if matches!(hv.verdict, Verdict::NotApplicable | Verdict::NotVisible) {
                    continue;
                }
                c.hops += 1;
                c.seen += usize::from(seen(hv.verdict));
                c.alerted += usize::from(hv.verdict == Verdict::Alerted);
                c.technique += usize::from(
                    hv.verdict == Verdict::Alerted && hv.grade == Some(Grade::Technique),
                );
                c.missed += usize::from(hv.verdict == Verdict::Missed);
                c.blocked += usize::from(hv.verdict == Verdict::Blocked);
                c.inconclusive += usize::from(hv.verdict == Verdict::Inconclusive);
            }
        }
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{name}</th><td>{}</td><td>{} ({})</td><td>{} ({})</td>\
             <td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.hops,
            c.seen,
            pct(c.seen, c.hops),
            c.alerted,
            pct(c.alerted, c.hops),
            c.technique,
            pct(c.technique, c.hops),
            c.missed,
            c.blocked,
            c.inconclusive
        );
    }
    out.push_str("</tbody></table>\n");
}

/// Median (lower middle pair's mean, rounded down) of sorted values.
fn median(sorted: &[u64]) -> Option<u64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => sorted.get(n / 2).copied(),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

fn timings(out: &mut String, record: &RunRecord) {
    out.push_str(
        "<h3>Time to telemetry and to alert</h3>\n<table class=\"data\"><thead><tr>\
         <th>measure</th><th>hops measured</th><th>median</th><th>worst</th><th>worst hop</th>\
         </tr></thead><tbody>\n",
    );
    type Pick = fn(&crate::record::HopVerdict) -> Option<(u64, Basis)>;
    let measures: [(&str, Pick); 2] = [
        ("time to telemetry", |h| {
            h.time_to_telemetry_ms
                .map(|ms| (ms, crate::report::latency::telemetry_basis(h)))
        }),
        ("time to alert", |h| {
            h.time_to_alert_ms
                .map(|ms| (ms, crate::report::latency::alert_basis(h)))
        }),
    ];
    for (name, pick) in measures {
        // One row per basis: a measurement and a bound set by polling are
        // different figures, never one median.
        let mut by_basis: Vec<(Basis, Vec<(u64, String)>)> = Vec::new();
        for run in verified(record).filter(|s| !s.negative_control) {
            for hv in run.verification.iter().flat_map(|v| &v.hops) {
                if let Some((ms, basis)) = pick(hv) {
                    let at = format!("{} · {}", run.id, hop_label(run, hv.index));
                    match by_basis.iter_mut().find(|(b, _)| *b == basis) {
                        Some((_, all)) => all.push((ms, at)),
                        None => by_basis.push((basis, vec![(ms, at)])),
                    }
                }
            }
        }
        if by_basis.is_empty() {
            let _ = writeln!(
                out,
                "<tr><th scope=\"row\">{name}</th><td>0</td><td colspan=\"3\">not measured: \
                 no hop of an attack chain carries it (the local backend has no ingestion \
                 delay to measure)</td></tr>"
            );
        }
        for (basis, all) in by_basis {
            let mut values: Vec<u64> = all.iter().map(|(ms, _)| *ms).collect();
            values.sort_unstable();
            let worst = all.iter().max_by_key(|(ms, _)| *ms);
            if let (Some(med), Some((w, at))) = (median(&values), worst) {
                let _ = writeln!(
                    out,
                    "<tr><th scope=\"row\">{name}</th><td>{}</td><td>{}</td>\
                     <td>{}</td><td>{}</td></tr>",
                    values.len(),
                    escape(&basis.show(med)),
                    escape(&basis.show(*w)),
                    escape(at)
                );
            }
        }
    }
    out.push_str("</tbody></table>\n");
}

fn controls(out: &mut String, record: &RunRecord, anchors: &[String]) {
    out.push_str("<h3>False positives on negative controls</h3>\n");
    if let Some(q) = crate::report::latency::quiet_window(record) {
        let _ = writeln!(out, "<p>{}.</p>", escape(&q));
    }
    let runs: Vec<(&ScenarioRun, &String)> = record
        .scenarios
        .iter()
        .zip(anchors)
        .filter(|(s, _)| s.negative_control)
        .collect();
    if runs.is_empty() {
        out.push_str("<p>No negative control ran: false positives were not measured.</p>\n");
        return;
    }
    out.push_str("<ul class=\"findings\">\n");
    for (run, anchor) in runs {
        let (cls, text) = match &run.verification {
            None => ("v-unv", "not verified".to_string()),
            Some(v) if v.chain.false_positive => (
                "v-fp",
                format!(
                    "FALSE POSITIVE: {}",
                    v.chain.reason.as_deref().unwrap_or("an alert fired")
                ),
            ),
            Some(v) if v.chain.verdict == Verdict::Observed => (
                "v-obs",
                "no alert: observed, as a legitimate chain should be".into(),
            ),
            Some(v) => (
                super::heatmap::class(Some(v.chain.verdict), None, false),
                format!(
                    "{}{}",
                    v.chain.verdict.as_str(),
                    v.chain
                        .reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ),
            ),
        };
        let _ = writeln!(
            out,
            "<li><a href=\"#{}\">{}</a> ({}): <span class=\"cell {cls}\">{}</span></li>",
            escape(anchor),
            escape(&run.id),
            run.platform,
            escape(&text)
        );
    }
    out.push_str("</ul>\n");
}

fn inconclusive(out: &mut String, record: &RunRecord, anchors: &[String]) {
    out.push_str("<h3>Inconclusive cells</h3>\n");
    let mut items: Vec<(&str, &str, String)> = Vec::new();
    for (run, anchor) in record.scenarios.iter().zip(anchors) {
        let link = format!("<a href=\"#{}\">{}</a>", escape(anchor), escape(&run.id));
        let Some(v) = &run.verification else {
            items.push((
                "v-unv",
                "unverified",
                format!(
                    "{link}: no verdict (status {})",
                    escape(&super::status(run))
                ),
            ));
            continue;
        };
        for hv in v.hops.iter().filter(|h| h.verdict == Verdict::Inconclusive) {
            items.push((
                "v-inc",
                "inconclusive",
                format!(
                    "{link} · {}: {}",
                    escape(&hop_label(run, hv.index)),
                    escape(hv.reason.as_deref().unwrap_or("no reason recorded"))
                ),
            ));
        }
        if v.chain.verdict == Verdict::Inconclusive {
            items.push((
                "v-inc",
                "inconclusive",
                format!(
                    "{link} · chain: {}",
                    escape(v.chain.reason.as_deref().unwrap_or("no reason recorded"))
                ),
            ));
        }
    }
    if items.is_empty() {
        out.push_str("<p>None: the backend answered for every hop.</p>\n");
        return;
    }
    out.push_str("<ul class=\"findings\">\n");
    for (cls, label, text) in items {
        let _ = writeln!(
            out,
            "<li><span class=\"cell {cls}\">{label}</span> {text}</li>"
        );
    }
    out.push_str("</ul>\n");
}
