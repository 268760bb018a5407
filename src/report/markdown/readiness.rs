//! The Markdown sections on what verification says beyond verdicts: under
//! the matrix, the untied answers, containment counts and each backend's
//! visibility; per chain, what the product did and which IR questions the
//! backend's events of each hop answer. Text from [`crate::report::readiness`].

use std::fmt::Write;

use super::escape;
use crate::record::{Question, RunRecord, ScenarioRun, Verification};
use crate::report::readiness;

/// The lines under the matrix's summary line (nothing when there is
/// nothing to say, so older records render as before).
pub(super) fn record(out: &mut String, record: &RunRecord) {
    for line in readiness::untied_line(record)
        .into_iter()
        .chain(readiness::containment_line(record))
        .chain(readiness::marks_line(record))
    {
        let _ = writeln!(out, "\n{}.", escape(&line));
    }
    if let Some(line) = readiness::blind_line(record) {
        let _ = writeln!(out, "\n{}:\n", escape(&line));
        for b in &record.rules.blind {
            let _ = writeln!(out, "- {}", escape(&readiness::blind_text(b)));
        }
    }
    for (backend, sentence) in readiness::visibility_by_backend(record) {
        let _ = writeln!(
            out,
            "\nVisibility, backend {}: its data {}.",
            escape(&backend),
            escape(&sentence)
        );
    }
}

/// A chain's containment bullet and its visibility table.
pub(super) fn chain(out: &mut String, run: &ScenarioRun, v: &Verification) {
    if let Some(c) = &v.containment {
        let _ = writeln!(
            out,
            "- containment: {}",
            escape(&readiness::containment_text(c, run))
        );
    }
    if v.visibility.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n| hop | backend events | answers | cannot answer |\n| --- | --- | --- | --- |"
    );
    let words = |qs: &[Question]| match qs {
        [] => "-".to_string(),
        qs => qs.iter().map(|q| q.words()).collect::<Vec<_>>().join(", "),
    };
    for h in &v.visibility {
        let label = run
            .hops
            .iter()
            .find(|t| t.index == h.index)
            .map_or(format!("hop {}", h.index), |t| t.label.clone());
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            escape(&label),
            h.events,
            escape(&words(&h.answered)),
            escape(&words(&h.unanswered))
        );
    }
}
