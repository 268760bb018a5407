//! The gate's outcome as text for the terminal and CI logs.

use super::{Change, Outcome};

/// One line of a record string: control and bidirectional characters shown
/// escaped (the one sanitiser) and line ends as U+FFFD, so a hostile reason
/// cannot rewrite the terminal.
fn safe(text: &str) -> String {
    crate::term::safe(text).replace('\n', "\u{fffd}")
}

fn line(c: &Change) -> String {
    format!(
        "  {} · {} · {}: {} → {} ({})\n",
        safe(&c.scenario),
        c.platform,
        safe(&c.cell),
        safe(&c.before),
        safe(&c.after),
        safe(&c.reason)
    )
}

/// The outcome as text: regressions, improvements, failed thresholds, a
/// count line, and the verdict (`gate passed` / `gate FAILED: …`) last.
pub fn render(outcome: &Outcome) -> String {
    let mut out = String::new();
    for (title, changes) in [
        ("regressions", &outcome.regressions),
        ("improvements", &outcome.improvements),
    ] {
        if !changes.is_empty() {
            out.push_str(&format!("{title} ({}):\n", changes.len()));
            changes.iter().for_each(|c| out.push_str(&line(c)));
        }
    }
    if !outcome.thresholds.is_empty() {
        out.push_str(&format!(
            "thresholds not met ({}):\n",
            outcome.thresholds.len()
        ));
        for t in &outcome.thresholds {
            out.push_str(&format!("  {}\n", safe(t)));
        }
    }
    out.push_str(&format!(
        "{} unchanged, {} improved, {} ignored\n",
        outcome.unchanged,
        outcome.improvements.len(),
        outcome.ignored
    ));
    if outcome.passed() {
        out.push_str("gate passed\n");
    } else {
        out.push_str(&format!(
            "gate FAILED: {} regression(s)",
            outcome.regressions.len()
        ));
        if !outcome.thresholds.is_empty() {
            out.push_str(&format!(
                ", {} threshold(s) not met",
                outcome.thresholds.len()
            ));
        }
        out.push('\n');
    }
    out
}
