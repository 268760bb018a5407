//! Counts over a record's chains ([`Summary`], the line under a coverage
//! matrix and each history entry's figures) and the text of a verdict cell
//! ([`cell`]).
//!
//! They live with the record rather than with `report` because `history`
//! stores and compares them and `report` renders history: both use them,
//! neither owns them.

use super::{Grade, RunRecord, RunStatus, Verdict};

/// Counts over a record's chains, for the line under the matrix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Chains of attack scenarios (not negative controls), verified.
    pub chains: usize,
    /// Of those, alerted at any grade.
    pub alerted: usize,
    /// Of those, alerted at technique grade.
    pub technique: usize,
    /// Of those, every expected hop observed or alerted.
    pub fully_observed: usize,
    /// Verdicts `inconclusive` (backend could not answer).
    pub inconclusive: usize,
    /// Verdicts `not-applicable`.
    pub not_applicable: usize,
    /// Chains none of whose required hops the backend can hold
    /// (`not-visible`): counted among `chains`, never fully observed, and
    /// said, because they say nothing of the detection content.
    pub not_visible: usize,
    /// Negative controls run and verified.
    pub controls: usize,
    /// Negative controls on which an alert fired.
    pub false_positives: usize,
    /// Fleet records: targets that gave no record.
    pub targets_not_run: usize,
    /// Chains a signal or a timeout stopped, or the harness failed in:
    /// counted among `chains`, and said, because their verdicts are about
    /// the harness rather than the host.
    pub unfinished: usize,
    /// Scenario runs that have no verification at all (never verified).
    pub not_verified: usize,
}

impl Summary {
    /// Counts the chains of `record`.
    pub fn of(record: &RunRecord) -> Summary {
        let mut s = Summary {
            targets_not_run: record.targets_not_run.len(),
            ..Summary::default()
        };
        for run in &record.scenarios {
            let Some(v) = &run.verification else {
                s.not_verified += 1;
                continue;
            };
            match v.chain.verdict {
                Verdict::NotApplicable => {
                    s.not_applicable += 1;
                    continue;
                }
                Verdict::Inconclusive => s.inconclusive += 1,
                Verdict::NotVisible => s.not_visible += 1,
                _ => {}
            }
            if run.negative_control {
                s.controls += 1;
                s.false_positives += usize::from(v.chain.false_positive);
                continue;
            }
            s.chains += 1;
            let alerted = v.chain.verdict == Verdict::Alerted;
            s.alerted += usize::from(alerted);
            // A grade without an alerted verdict (a hop of a chain that did
            // not finish) is not a technique-grade alert of the chain.
            s.technique += usize::from(alerted && v.chain.grade == Some(Grade::Technique));
            s.unfinished += usize::from(matches!(
                run.status,
                RunStatus::Interrupted | RunStatus::TimedOut | RunStatus::Failed
            ));
            s.fully_observed += usize::from(v.chain.fully_observed);
        }
        s
    }

    /// One line, e.g. `3 chains: 2 alerted (2 technique), 3 fully observed;
    /// 2 negative controls: 0 false positives; 1 inconclusive`.
    pub fn line(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let unfinished = match self.unfinished {
            0 => String::new(),
            n => format!(" ({n} did not finish: interrupted, timed out or failed)"),
        };
        let mut out = format!(
            "{}{unfinished}: {} alerted ({} technique), {} fully observed",
            plural(self.chains, "chain", "chains"),
            self.alerted,
            self.technique,
            self.fully_observed
        );
        if self.controls > 0 {
            out.push_str(&format!(
                "; {}: {}",
                plural(self.controls, "negative control", "negative controls"),
                plural(self.false_positives, "false positive", "false positives")
            ));
        }
        if self.inconclusive > 0 {
            out.push_str(&format!("; {} inconclusive", self.inconclusive));
        }
        if self.not_applicable > 0 {
            out.push_str(&format!("; {} not applicable", self.not_applicable));
        }
        if self.not_visible > 0 {
            out.push_str(&format!(
                "; {} not visible to the backend",
                self.not_visible
            ));
        }
        if self.not_verified > 0 {
            out.push_str(&format!("; {} not verified", self.not_verified));
        }
        if self.targets_not_run > 0 {
            out.push_str(&format!(
                "; {} NOT RUN",
                plural(self.targets_not_run, "target", "targets")
            ));
        }
        out
    }
}

/// Text of a verdict cell, e.g. `alerted (technique)`.
pub fn cell(verdict: Verdict, grade: Option<Grade>) -> String {
    match (verdict, grade) {
        (Verdict::Alerted, Some(g)) => format!("alerted ({})", format!("{g:?}").to_lowercase()),
        (v, _) => v.as_str().to_string(),
    }
}
