//! The coverage matrix: one row per scenario run, one cell per hop; in a
//! fleet record (scenarios from several hosts, see `chainproof merge`) a
//! `host` column comes first.

use tabled::builder::Builder;
use tabled::settings::Style;

use crate::record::{RunRecord, RunStatus, Verdict};

/// One row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Host the scenario ran on (the record's host unless the scenario names one).
    pub host: String,
    /// Scenario id.
    pub scenario: String,
    /// Platform.
    pub platform: String,
    /// Fidelity, or `-`.
    pub fidelity: String,
    /// Cell text per hop, in hop order, with the hop label.
    pub hops: Vec<(String, String)>,
    /// Chain verdict text.
    pub chain: String,
    /// First alert time, e.g. `412ms`, or `-`.
    pub time_to_alert: String,
}

/// The matrix of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Rows in record order.
    pub rows: Vec<Row>,
    /// Most hops any row has.
    pub width: usize,
    /// Whether the rows come from more than one host: a `host` column then
    /// comes first.
    pub by_host: bool,
    /// Counts over the chains.
    pub summary: Summary,
}

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
            s.technique +=
                usize::from(alerted && v.chain.grade == Some(crate::record::Grade::Technique));
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
pub fn cell(verdict: Verdict, grade: Option<crate::record::Grade>) -> String {
    match (verdict, grade) {
        (Verdict::Alerted, Some(g)) => format!("alerted ({})", format!("{g:?}").to_lowercase()),
        (v, _) => v.as_str().to_string(),
    }
}

impl Matrix {
    /// Builds the matrix of `record`.
    pub fn of(record: &RunRecord) -> Matrix {
        let rows: Vec<Row> = record
            .scenarios
            .iter()
            .map(|s| {
                let v = s.verification.as_ref();
                let hops = s
                    .hops
                    .iter()
                    .map(|h| {
                        let hv = v.and_then(|v| v.hops.iter().find(|x| x.index == h.index));
                        let text =
                            hv.map_or("unverified".to_string(), |hv| cell(hv.verdict, hv.grade));
                        (h.label.clone(), text)
                    })
                    .collect();
                let tta = v
                    .and_then(|v| v.hops.iter().filter_map(|h| h.time_to_alert_ms).min())
                    .map_or("-".to_string(), |ms| format!("{ms}ms"));
                Row {
                    host: crate::record::merge::host_of(record, s).to_string(),
                    scenario: s.id.clone(),
                    platform: s.platform.to_string(),
                    fidelity: s
                        .fidelity
                        .map_or("-".into(), |f| format!("{f:?}").to_lowercase()),
                    hops,
                    chain: v.map_or("unverified".into(), |v| {
                        if s.negative_control {
                            return control_cell(&v.chain);
                        }
                        let text = cell(v.chain.verdict, v.chain.grade);
                        // Why a chain is not alerted or observed belongs next to it.
                        match &v.chain.reason {
                            Some(r) if v.chain.verdict != Verdict::Alerted => {
                                format!("{text}\n{}", short(r))
                            }
                            _ => text,
                        }
                    }),
                    time_to_alert: tta,
                }
            })
            .collect();
        let width = rows.iter().map(|r| r.hops.len()).max().unwrap_or(0);
        Matrix {
            rows,
            width,
            by_host: crate::record::merge::is_fleet(record),
            summary: Summary::of(record),
        }
    }

    /// Column headers: hop positions named by their kind (after `host` in a
    /// fleet matrix).
    pub fn headers(&self) -> Vec<String> {
        let mut h = if self.by_host {
            vec!["host".to_string()]
        } else {
            Vec::new()
        };
        h.extend(["scenario".to_string(), "platform".into(), "fidelity".into()]);
        for i in 0..self.width {
            h.push(match i {
                0 => "file".into(),
                1 => "open".into(),
                n => format!("spawn {}", n - 1),
            });
        }
        h.extend(["chain".to_string(), "time to alert".into()]);
        h
    }

    /// Cells of a row, padded to the matrix width; hop cells carry their label.
    pub fn cells(&self, row: &Row) -> Vec<String> {
        let mut c = if self.by_host {
            vec![row.host.clone()]
        } else {
            Vec::new()
        };
        c.extend([
            row.scenario.clone(),
            row.platform.clone(),
            row.fidelity.clone(),
        ]);
        for i in 0..self.width {
            c.push(row.hops.get(i).map_or("-".to_string(), |(label, text)| {
                if i == 0 {
                    text.clone()
                } else {
                    format!("{text}\n{label}")
                }
            }));
        }
        c.extend([row.chain.clone(), row.time_to_alert.clone()]);
        c
    }
}

/// The chain cell of a negative control: a false positive when anything
/// alerted, else `no alert (control)` (or why it could not be told).
fn control_cell(chain: &crate::record::ChainVerdict) -> String {
    match chain.verdict {
        _ if chain.false_positive => format!(
            "FALSE POSITIVE\n{}",
            short(chain.reason.as_deref().unwrap_or(""))
        ),
        Verdict::Observed => "no alert (control)".to_string(),
        _ => format!(
            "{} (control)\n{}",
            chain.verdict.as_str(),
            short(chain.reason.as_deref().unwrap_or(""))
        ),
    }
}

/// The first 60 characters of a reason, on one line.
fn short(reason: &str) -> String {
    let one_line: String = reason
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    match one_line.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

/// The matrix as a terminal table.
pub fn table(m: &Matrix) -> String {
    let mut b = Builder::default();
    b.push_record(m.headers());
    for row in &m.rows {
        b.push_record(
            m.cells(row)
                .iter()
                .map(|c| crate::term::safe(c).into_owned()),
        );
    }
    let mut t = b.build();
    t.with(Style::rounded());
    format!("{t}\n{}\n", m.summary.line())
}
