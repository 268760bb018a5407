//! The coverage gate: a current run record compared with a baseline, cell by
//! cell, to decide whether detection coverage regressed.
//!
//! A cell is one hop of one scenario variant, keyed by (scenario id, platform,
//! hop index and label), plus one chain cell per (scenario id, platform).
//! Known verdicts are ranked `alerted (technique)` > `alerted (tactic)` >
//! `alerted (general)` > `observed` > `missed` = `blocked`; a cell that ends
//! lower than it started is a regression. `inconclusive`, `not-applicable` and
//! unverified cells are unknown: the [`Policy`] says whether they fail the gate.
//! A `not-applicable` cell that was `not-applicable` in the baseline is
//! unchanged, so a suite with variants for other platforms can still pass.
//! A `not-visible` cell (the backend can never hold that hop) is not
//! counted at all: neither a regression nor a threshold's miss, whatever
//! the policy, because it says nothing of the detection content.
//!
//! Reads records and a policy only; it neither runs nor verifies anything, and
//! it maps nothing to exit codes: the binary gives a failed gate
//! [`crate::exit::POLICY`], the code `replay --fail-on` shares (its
//! conditions, [`crate::replay::fail_on::FailOn`], are there for a gate on
//! alerts too).

mod policy;
mod render;

pub use render::render;

use std::collections::{BTreeMap, BTreeSet};

use crate::record::{Grade, RunRecord, ScenarioRun, Verdict};
use crate::vocab::Platform;

pub use policy::{Action, Fraction, GateError, Policy, load_policy, parse_policy};

/// One cell whose verdict moved (or that appeared or vanished).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Scenario id.
    pub scenario: String,
    /// Platform of the variant.
    pub platform: Platform,
    /// `chain`, or `hop <index> <label>`.
    pub cell: String,
    /// Verdict in the baseline, e.g. `alerted (technique)`, or `absent`.
    pub before: String,
    /// Verdict in the current run.
    pub after: String,
    /// Why it counts, e.g. `alert lost`.
    pub reason: String,
}

/// What the gate decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Cells that got worse, or that the policy counts as failures.
    pub regressions: Vec<Change>,
    /// Cells that got better.
    pub improvements: Vec<Change>,
    /// Cells with the same rank in both records.
    pub unchanged: usize,
    /// Cells the policy left out (ignored scenarios, unknown verdicts under
    /// `inconclusive: ignore`, new scenarios, no baseline verdict).
    pub ignored: usize,
    /// Thresholds the current run did not meet, one sentence each.
    pub thresholds: Vec<String>,
}

impl Outcome {
    /// No regression and every threshold met.
    pub fn passed(&self) -> bool {
        self.regressions.is_empty() && self.thresholds.is_empty()
    }
}

/// Chain cells sort before hop cells, hops by index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum CellKey {
    Chain,
    Hop(usize, String),
}

impl CellKey {
    fn label(&self) -> String {
        match self {
            CellKey::Chain => "chain".into(),
            CellKey::Hop(index, label) => format!("hop {index} {label}"),
        }
    }
}

/// A cell's verdict; `verdict: None` means the record holds none (unverified).
#[derive(Debug, Clone)]
struct Cell {
    verdict: Option<Verdict>,
    grade: Option<Grade>,
    reason: Option<String>,
}

impl Cell {
    /// Rank of a known verdict, higher is better; `None` when unknown.
    fn rank(&self) -> Option<u8> {
        match self.verdict? {
            Verdict::Missed | Verdict::Blocked => Some(0),
            Verdict::Observed => Some(1),
            Verdict::Alerted => Some(match self.grade {
                Some(Grade::Technique) => 4,
                Some(Grade::Tactic) => 3,
                Some(Grade::General) | None => 2,
            }),
            // Not-visible says nothing of the detection content: the
            // backend can never hold the hop, so it is no cell to rank.
            Verdict::Inconclusive | Verdict::NotApplicable | Verdict::NotVisible => None,
        }
    }

    fn shown(&self) -> String {
        match (self.verdict, self.grade) {
            (None, _) => "unverified".into(),
            (Some(Verdict::Alerted), Some(g)) => {
                format!("alerted ({})", format!("{g:?}").to_lowercase())
            }
            (Some(v), _) => v.as_str().into(),
        }
    }

    fn not_applicable(&self) -> bool {
        self.verdict == Some(Verdict::NotApplicable)
    }

    fn not_visible(&self) -> bool {
        self.verdict == Some(Verdict::NotVisible)
    }
}

/// Every cell of one scenario variant.
fn cells(run: &ScenarioRun) -> BTreeMap<CellKey, Cell> {
    let unverified = |reason: &str| Cell {
        // A variant that could not run has no verification, and needs none.
        verdict: (run.status == crate::record::RunStatus::NotApplicable)
            .then_some(Verdict::NotApplicable),
        grade: None,
        reason: run.reason.clone().or_else(|| Some(reason.into())),
    };
    let mut out = BTreeMap::new();
    let verification = run.verification.as_ref();
    out.insert(
        CellKey::Chain,
        verification.map_or_else(
            || unverified("not verified"),
            |v| Cell {
                verdict: Some(v.chain.verdict),
                grade: v.chain.grade,
                reason: v.chain.reason.clone(),
            },
        ),
    );
    for hop in &run.hops {
        let verdict = verification.and_then(|v| v.hops.iter().find(|h| h.index == hop.index));
        let cell = match verdict {
            Some(h) => Cell {
                verdict: Some(h.verdict),
                grade: h.grade,
                reason: h.reason.clone(),
            },
            None if verification.is_some() => unverified("no verdict for this hop"),
            None => unverified("not verified"),
        };
        out.insert(CellKey::Hop(hop.index, hop.label.clone()), cell);
    }
    out
}

/// Scenario variants by (id, platform), the id scoped by host in a fleet
/// record; the first wins if a record repeats one.
fn by_variant(record: &RunRecord) -> BTreeMap<(String, Platform), &ScenarioRun> {
    let mut out = BTreeMap::new();
    for run in &record.scenarios {
        out.entry((crate::record::merge::scoped_id(run), run.platform))
            .or_insert(run);
    }
    out
}

enum Judgement {
    Unchanged,
    Ignored,
    Regression(String),
    Improvement(String),
}

fn with_reason(base: &str, cell: &Cell) -> String {
    match &cell.reason {
        Some(r) if !r.is_empty() => format!("{base}: {r}"),
        _ => base.to_string(),
    }
}

/// Judges one cell present in both records.
fn judge(before: &Cell, after: &Cell, policy: &Policy) -> Judgement {
    match (before.rank(), after.rank()) {
        (Some(b), Some(a)) if a < b => {
            let base = match (b, a) {
                (2.., 2..) => "alert grade lowered",
                (2.., 1) => "alert lost",
                (2.., _) => "alert and telemetry lost",
                _ => "telemetry lost",
            };
            Judgement::Regression(with_reason(base, after))
        }
        (Some(b), Some(a)) if a > b => Judgement::Improvement(
            match (b, a) {
                (2.., _) => "alert grade raised",
                (_, 2..) => "alert gained",
                _ => "telemetry gained",
            }
            .into(),
        ),
        (Some(_), Some(_)) => Judgement::Unchanged,
        (_, None) if before.not_applicable() && after.not_applicable() => Judgement::Unchanged,
        (_, None) if after.not_visible() => Judgement::Ignored,
        (_, None) => match policy.inconclusive {
            Action::Ignore => Judgement::Ignored,
            Action::Fail => Judgement::Regression(with_reason(
                "unknown verdict counts as a regression (inconclusive: fail)",
                after,
            )),
        },
        // Nothing known to compare against; the current verdict stands alone.
        (None, Some(_)) => Judgement::Ignored,
    }
}

/// Compares `current` with `baseline` under `policy`.
pub fn compare(baseline: &RunRecord, current: &RunRecord, policy: &Policy) -> Outcome {
    let mut out = Outcome::default();
    let before = by_variant(baseline);
    let after = by_variant(current);
    let keys: BTreeSet<&(String, Platform)> = before.keys().chain(after.keys()).collect();
    for key in keys {
        let change = |cell: &CellKey, b: String, a: String, reason: String| Change {
            scenario: key.0.clone(),
            platform: key.1,
            cell: cell.label(),
            before: b,
            after: a,
            reason,
        };
        let chain_of = |run: &ScenarioRun| cells(run).remove(&CellKey::Chain);
        let shown = |run: &ScenarioRun| chain_of(run).map_or_else(String::new, |c| c.shown());
        match (before.get(key), after.get(key)) {
            // `ignore` names scenario ids, on every host of a fleet.
            (b, a) if a.or(b).is_some_and(|r| policy.ignore.contains(&r.id)) => {
                let run = after.get(key).or_else(|| before.get(key));
                out.ignored += run.map_or(0, |r| cells(r).len());
            }
            (Some(b), Some(a)) => compare_variant(key, b, a, policy, &mut out),
            (Some(b), None) => match policy.missing_scenarios {
                Action::Ignore => out.ignored += cells(b).len(),
                Action::Fail => out.regressions.push(change(
                    &CellKey::Chain,
                    shown(b),
                    "absent".into(),
                    "scenario missing from the current run (missing_scenarios: fail)".into(),
                )),
            },
            (None, Some(a)) if policy.allow_new_scenarios => out.ignored += cells(a).len(),
            (None, Some(a)) => out.regressions.push(change(
                &CellKey::Chain,
                "absent".into(),
                shown(a),
                "new scenario not in the baseline (allow_new_scenarios: false)".into(),
            )),
            (None, None) => {}
        }
    }
    out.thresholds = thresholds(current, policy);
    out
}

fn compare_variant(
    key: &(String, Platform),
    baseline: &ScenarioRun,
    current: &ScenarioRun,
    policy: &Policy,
    out: &mut Outcome,
) {
    let before = cells(baseline);
    let mut after = cells(current);
    for (cell, b) in &before {
        let change = |after: String, reason: String| Change {
            scenario: key.0.clone(),
            platform: key.1,
            cell: cell.label(),
            before: b.shown(),
            after,
            reason,
        };
        let Some(a) = after.remove(cell) else {
            // A hop the scenario no longer has: its coverage is no longer checked.
            match policy.missing_scenarios {
                Action::Ignore => out.ignored += 1,
                Action::Fail => out.regressions.push(change(
                    "absent".into(),
                    "hop missing from the current run (missing_scenarios: fail)".into(),
                )),
            }
            continue;
        };
        match judge(b, &a, policy) {
            Judgement::Unchanged => out.unchanged += 1,
            Judgement::Ignored => out.ignored += 1,
            Judgement::Regression(r) => out.regressions.push(change(a.shown(), r)),
            Judgement::Improvement(r) => out.improvements.push(change(a.shown(), r)),
        }
    }
    // Hops only the current run has: no baseline to regress from.
    out.ignored += after.len();
}

/// Threshold sentences the current run fails. Not-applicable cells are never
/// measured; other unknown cells count as not covered unless the policy
/// ignores them. Nothing to measure fails a threshold that is set.
fn thresholds(current: &RunRecord, policy: &Policy) -> Vec<String> {
    let mut chains = (0usize, 0usize);
    let mut hops = (0usize, 0usize);
    for run in by_variant(current).values() {
        if policy.ignore.contains(&run.id) {
            continue;
        }
        for (key, cell) in cells(run) {
            let measured = match cell.rank() {
                Some(_) => true,
                None => {
                    !cell.not_applicable()
                        && !cell.not_visible()
                        && policy.inconclusive == Action::Fail
                }
            };
            if !measured {
                continue;
            }
            let rank = cell.rank().unwrap_or(0);
            let (tally, covered) = match key {
                CellKey::Chain => (&mut chains, rank >= 2),
                CellKey::Hop(..) => (&mut hops, rank >= 1),
            };
            tally.0 += usize::from(covered);
            tally.1 += 1;
        }
    }
    let mut failed = Vec::new();
    let mut check = |what: &str, field: &str, (met, total): (usize, usize), min: Fraction| {
        #[expect(clippy::cast_precision_loss, reason = "cell counts are small")]
        let share = if total == 0 {
            0.0
        } else {
            met as f64 / total as f64
        };
        if total == 0 || share < min.get() {
            failed.push(format!(
                "{what} {met}/{total} ({:.1}%) below {field} {:.1}%",
                share * 100.0,
                min.get() * 100.0
            ));
        }
    };
    if let Some(min) = policy.min_alerted_chains {
        check("alerted chains", "min_alerted_chains", chains, min);
    }
    if let Some(min) = policy.min_observed_hops {
        check("observed hops", "min_observed_hops", hops, min);
    }
    failed
}

#[cfg(test)]
mod tests;
