//! Two run records compared cell by cell: which hop and chain verdicts moved,
//! and whether for the better.
//!
//! Scenario variants are matched by (scenario id, platform), the first one
//! winning if a record repeats a variant; hops by index, shown by label. A
//! cell changes when its text ([`cell`]) differs. Known verdicts rank
//! `alerted (technique)` > `alerted (tactic)` > `alerted (general)` >
//! `observed` > `missed` = `blocked`; `inconclusive`, `not-applicable`,
//! unverified and absent cells have no rank, so a change to or from one is
//! neither better nor worse.
//!
//! On a negative control an alert is a false positive, not coverage: its
//! verdict cells rank only telemetry (`alerted` = `observed` > `missed` =
//! `blocked`), and the alert itself is judged by a `false positive` cell
//! (`yes` → `no` is better).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tabled::builder::Builder;
use tabled::settings::Style;

use crate::record::summary::cell;
use crate::record::{Grade, RunRecord, RunStatus, ScenarioRun, Verdict};
use crate::vocab::Platform;

/// One cell whose text differs between two runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellChange {
    /// Scenario id.
    pub scenario: String,
    /// Platform of the variant.
    pub platform: String,
    /// The hop's label, `chain`, or `false positive` (negative controls).
    pub cell: String,
    /// Text in the first run, e.g. `alerted (technique)`, or `absent`.
    pub before: String,
    /// Text in the second run.
    pub after: String,
    /// `Some(true)` when the cell got better, `Some(false)` when worse, `None`
    /// when either side has no rank (inconclusive, not-applicable,
    /// unverified, absent) or both rank the same.
    pub better: Option<bool>,
}

/// Text shown for a cell one run does not have.
const ABSENT: &str = "absent";

/// A cell's verdict; `verdict: None` when the record holds none.
#[derive(Debug, Clone, Copy)]
struct Cell {
    verdict: Option<Verdict>,
    grade: Option<Grade>,
}

impl Cell {
    fn text(self) -> String {
        self.verdict
            .map_or_else(|| "unverified".into(), |v| cell(v, self.grade))
    }

    /// Rank, higher is better; `control` ranks telemetry only.
    fn rank(self, control: bool) -> Option<u8> {
        match (self.verdict?, control) {
            (Verdict::Missed | Verdict::Blocked, _) => Some(0),
            (Verdict::Observed, _) | (Verdict::Alerted, true) => Some(1),
            (Verdict::Alerted, false) => Some(match self.grade {
                Some(Grade::Technique) => 4,
                Some(Grade::Tactic) => 3,
                Some(Grade::General) | None => 2,
            }),
            (Verdict::Inconclusive | Verdict::NotApplicable | Verdict::NotVisible, _) => None,
        }
    }
}

/// The cell of an unverified run: not-applicable when it could not run.
fn unverified(run: &ScenarioRun) -> Cell {
    Cell {
        verdict: (run.status == RunStatus::NotApplicable).then_some(Verdict::NotApplicable),
        grade: None,
    }
}

fn chain_cell(run: &ScenarioRun) -> Cell {
    run.verification.as_ref().map_or_else(
        || unverified(run),
        |v| Cell {
            verdict: Some(v.chain.verdict),
            grade: v.chain.grade,
        },
    )
}

/// The cell of hop `index`, or `None` when the run has no such hop.
fn hop_cell(run: &ScenarioRun, index: usize) -> Option<Cell> {
    run.hops.iter().find(|h| h.index == index)?;
    let verdict = run
        .verification
        .as_ref()
        .and_then(|v| v.hops.iter().find(|h| h.index == index));
    Some(verdict.map_or_else(
        || unverified(run),
        |h| Cell {
            verdict: Some(h.verdict),
            grade: h.grade,
        },
    ))
}

fn better(before: Option<u8>, after: Option<u8>) -> Option<bool> {
    match (before?, after?) {
        (b, a) if a == b => None,
        (b, a) => Some(a > b),
    }
}

/// A scenario variant: (scenario id, platform).
type Key = (String, Platform);

/// Variants of a record by (id, platform), first one winning, and their
/// order; ids are scoped by host in a fleet record.
fn variants(record: &RunRecord) -> (Vec<Key>, BTreeMap<Key, &ScenarioRun>) {
    let mut order = Vec::new();
    let mut map = BTreeMap::new();
    for run in &record.scenarios {
        let key = (crate::record::merge::scoped_id(run), run.platform);
        if let std::collections::btree_map::Entry::Vacant(slot) = map.entry(key.clone()) {
            slot.insert(run);
            order.push(key);
        }
    }
    (order, map)
}

/// Cells whose text differs from run `a` to run `b`: per variant, hops in
/// index order, then the chain, then (when both are verified and differ) the
/// false-positive flag. Variants in `a`'s order, then those only `b` has. A
/// variant only one run has is one `chain` change to or from `absent`.
pub fn diff(a: &RunRecord, b: &RunRecord) -> Vec<CellChange> {
    let (order_a, before) = variants(a);
    let (order_b, after) = variants(b);
    let mut out = Vec::new();
    let keys = order_a
        .iter()
        .chain(order_b.iter().filter(|k| !before.contains_key(*k)));
    for key in keys {
        let mut push = |cell: &str, before: String, after: String, better: Option<bool>| {
            if before != after {
                out.push(CellChange {
                    scenario: key.0.clone(),
                    platform: key.1.to_string(),
                    cell: cell.to_string(),
                    before,
                    after,
                    better,
                });
            }
        };
        match (before.get(key), after.get(key)) {
            (Some(x), Some(y)) => {
                let control = x.negative_control || y.negative_control;
                let indices: BTreeSet<usize> =
                    x.hops.iter().chain(&y.hops).map(|h| h.index).collect();
                for index in indices {
                    let label = y
                        .hops
                        .iter()
                        .chain(&x.hops)
                        .find(|h| h.index == index)
                        .map_or_else(|| format!("hop {index}"), |h| h.label.clone());
                    let (cx, cy) = (hop_cell(x, index), hop_cell(y, index));
                    let text = |c: Option<Cell>| c.map_or_else(|| ABSENT.into(), Cell::text);
                    let rank = |c: Option<Cell>| c.and_then(|c| c.rank(control));
                    push(&label, text(cx), text(cy), better(rank(cx), rank(cy)));
                }
                let (cx, cy) = (chain_cell(x), chain_cell(y));
                let judged = better(cx.rank(control), cy.rank(control));
                push("chain", cx.text(), cy.text(), judged);
                let fp = |r: &ScenarioRun| r.verification.as_ref().map(|v| v.chain.false_positive);
                if let (Some(fx), Some(fy)) = (fp(x), fp(y)) {
                    let yes_no = |f: bool| if f { "yes" } else { "no" }.to_string();
                    push("false positive", yes_no(fx), yes_no(fy), Some(!fy));
                }
            }
            (Some(x), None) => push("chain", chain_cell(x).text(), ABSENT.into(), None),
            (None, Some(y)) => push("chain", ABSENT.into(), chain_cell(y).text(), None),
            (None, None) => {}
        }
    }
    out
}

/// `changes` as a terminal table (scenario, platform, cell, before, after,
/// change), then `N cells changed (X better, Y worse)`; `no cell changed`
/// when there is none. Record strings are made terminal-safe. Full width.
pub fn render_diff(changes: &[CellChange]) -> String {
    render_diff_for(changes, None)
}

/// [`render_diff`] fitted to `width` columns (`None`: no limit; see
/// [`crate::term::width`]): cells wrapped between words.
pub fn render_diff_for(changes: &[CellChange], width: Option<usize>) -> String {
    if changes.is_empty() {
        return "no cell changed\n".into();
    }
    let mut b = Builder::default();
    b.push_record(["scenario", "platform", "cell", "before", "after", "change"]);
    for c in changes {
        let judged = match c.better {
            Some(true) => "better",
            Some(false) => "worse",
            None => "-",
        };
        b.push_record(
            [
                &c.scenario,
                &c.platform,
                &c.cell,
                &c.before,
                &c.after,
                judged,
            ]
            .map(|s| crate::term::safe(s).replace('\n', " ")),
        );
    }
    let mut t = b.build();
    t.with(Style::rounded());
    crate::term::width::fit(&mut t, width);
    let count = |want: bool| changes.iter().filter(|c| c.better == Some(want)).count();
    let n = changes.len();
    format!(
        "{t}\n{n} {} changed ({} better, {} worse)\n",
        if n == 1 { "cell" } else { "cells" },
        count(true),
        count(false)
    )
}
