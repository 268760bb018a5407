//! The Markdown report: the matrix and, per chain, its process tree.

use std::fmt::Write;

mod readiness;

use super::matrix::Matrix;
use crate::record::RunRecord;

/// Escapes text for a Markdown table cell or paragraph: HTML-significant
/// characters become entities, Markdown punctuation is backslash-escaped,
/// newlines become `<br>`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            // Control and bidirectional-override characters could disguise a
            // command line; show that something was there instead.
            c if c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c) =>
            {
                out.push('\u{fffd}')
            }
            '|' | '`' | '*' | '_' | '[' | ']' | '\\' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Renders the record as Markdown.
pub fn render(record: &RunRecord) -> String {
    let m = Matrix::of(record);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# chainproof coverage — run {}\n",
        escape(&record.run_id)
    );
    // A fleet record's host is synthetic (no kernel): name the hosts instead.
    let host = if m.by_host {
        let mut hosts: Vec<&str> = Vec::new();
        for s in &record.scenarios {
            let h = crate::record::merge::host_of(record, s);
            if !hosts.contains(&h) {
                hosts.push(h);
            }
        }
        format!(
            "Hosts {} ({})",
            escape(&hosts.join(", ")),
            escape(&record.host.os)
        )
    } else {
        format!(
            "Host {} ({}, {})",
            escape(&record.host.name),
            escape(&record.host.os),
            escape(&record.host.kernel)
        )
    };
    let _ = writeln!(
        out,
        "{host}, rules: {} from {}{}. Started {}.\n",
        record.rules.count,
        escape(&record.rules.sources.join(", ")),
        refused(&record.rules),
        rfc3339(record.started_at)
    );
    if let Some(line) = crate::report::readiness::environment_line(record) {
        let _ = writeln!(out, "**{}.**\n", escape(&line));
    }
    let headers = m.headers();
    let _ = writeln!(
        out,
        "| {} |",
        headers
            .iter()
            .map(|h| escape(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "|{}", " --- |".repeat(headers.len()));
    for row in &m.rows {
        let cells: Vec<String> = m.cells(row).iter().map(|c| escape(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    let _ = writeln!(out, "\n{}.", escape(&m.summary.line()));
    if let Some(q) = super::latency::quiet_window(record) {
        let _ = writeln!(out, "\n{}.", escape(&q));
    }
    readiness::record(&mut out, record);
    for s in &record.scenarios {
        let on = if m.by_host {
            format!(" on {}", escape(crate::record::merge::host_of(record, s)))
        } else {
            String::new()
        };
        let _ = writeln!(out, "\n## {}{on} ({})\n", escape(&s.id), escape(&s.title));
        let status = serde_json::to_value(s.status)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let _ = writeln!(out, "Token {}, status {status}.", escape(&s.token));
        if let Some(t) = &s.timings {
            let _ = writeln!(
                out,
                "Harness {} ms (prepare {} ms, cleanup {} ms), chain {} ms, grace {} ms.",
                t.prepare_ms + t.cleanup_ms,
                t.prepare_ms,
                t.cleanup_ms,
                t.chain_ms,
                t.grace_ms
            );
        }
        if let Some(r) = &s.reason {
            let _ = writeln!(out, "Reason: {}.", escape(r));
        }
        for h in &s.hops {
            let proc = h
                .pid
                .and_then(|pid| s.truth.processes.iter().find(|p| p.pid == pid));
            let what = match (h.happened, proc, &h.path) {
                (false, ..) => format!(
                    "did not happen: {}",
                    escape(h.reason.as_deref().unwrap_or(""))
                ),
                (true, Some(p), _) => format!(
                    "pid {} ppid {} {} — {}",
                    p.pid,
                    p.ppid,
                    escape(p.image.as_deref().unwrap_or("?")),
                    escape(p.command_line.as_deref().unwrap_or("?"))
                ),
                (true, None, Some(path)) => escape(path),
                (true, None, None) => match h.pid {
                    Some(pid) => format!("pid {pid}, not among the recorded processes"),
                    None => "happened".to_string(),
                },
            };
            // A hop that happened can still carry a note (an exec whose
            // image could not be read, say): it is part of the evidence.
            let what = match (h.happened, &h.reason) {
                (true, Some(note)) => format!("{what} ({})", escape(note)),
                _ => what,
            };
            let hv = s
                .verification
                .as_ref()
                .and_then(|v| v.hops.iter().find(|x| x.index == h.index));
            let times: Vec<String> = hv
                .into_iter()
                .flat_map(|hv| {
                    let t = super::latency::telemetry(hv).map(|t| format!("telemetry {t}"));
                    let a = super::latency::alert(hv).map(|a| format!("alert {a}"));
                    [t, a]
                })
                .flatten()
                .collect();
            let times = if times.is_empty() {
                String::new()
            } else {
                format!("; {}", escape(&times.join(", ")))
            };
            let _ = writeln!(out, "- **{}**: {what}{times}", escape(&h.label));
        }
        delivery(&mut out, s);
        if let Some(v) = &s.verification {
            for r in &v.chain.expected_rules_missing {
                let _ = writeln!(out, "- expected rule did not fire: {}", escape(r));
            }
            for a in &v.alerts {
                let _ = writeln!(
                    out,
                    "- alert: {} ({}, {})",
                    escape(&a.rule_title),
                    escape(a.rule_id.as_deref().unwrap_or("no id")),
                    format!("{:?}", a.grade).to_lowercase()
                );
            }
            readiness::chain(&mut out, s, v);
        }
    }
    out
}

/// The message that delivered the artifact, and whether the origin mark
/// survived each hand-off (a mark that did not is a finding for the host).
fn delivery(out: &mut String, s: &crate::record::ScenarioRun) {
    if let Some(m) = &s.truth.mail {
        let _ = writeln!(
            out,
            "- message: from {} to {}, subject \"{}\", Message-ID <{}>, through {}; attachment {} (SHA-256 {})",
            escape(&m.from),
            escape(&m.to.join(", ")),
            escape(&m.subject),
            escape(&m.message_id),
            escape(&m.server),
            escape(&m.attachment),
            escape(&m.attachment_sha256)
        );
    }
    for h in &s.truth.handoffs {
        let _ = match h.finding() {
            Some(f) => writeln!(out, "- **finding**: {}", escape(&f)),
            None => writeln!(
                out,
                "- origin mark kept: {} ({}) after {} wrote it",
                escape(&h.file),
                escape(&h.marks.join(", ")),
                escape(&h.by)
            ),
        };
    }
}

/// ` (N refused: parse 2, compile 1)` when the rule load refused any, so a
/// reader of the report knows rules were missing from it.
fn refused(rules: &crate::record::RuleSet) -> String {
    match &rules.load {
        Some(load) if !load.refused.is_empty() => {
            let reasons: Vec<String> = load
                .by_reason
                .iter()
                .map(|(r, n)| format!("{} {n}", escape(r)))
                .collect();
            format!(" ({} refused: {})", load.refused.len(), reasons.join(", "))
        }
        _ => String::new(),
    }
}
