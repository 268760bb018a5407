//! The chain's verdict from its hops', and the expected rules that did not
//! fire.

use crate::record::{Alert, ChainVerdict, Grade, HopTruth, HopVerdict, Verdict};
use crate::vocab::HopKind;

/// The chain's verdict from its hops' verdicts: inconclusive first, then
/// alerted, observed, blocked, not-visible, missed.
///
/// A `not-visible` hop (the backend can never hold its kind) does not count
/// against the chain: the chain is fully observed "as far as the backend
/// can see" when every required hop it can hold was seen and at least one
/// required hop was. When it can hold none of the required hops, nothing
/// was seen and nothing missed: the chain is `not-visible`.
pub(super) fn chain_verdict(
    truth: &[HopTruth],
    hops: &[HopVerdict],
    observe: &[HopKind],
) -> ChainVerdict {
    let required = |i: usize| truth.get(i).is_some_and(|h| observe.contains(&h.kind));
    let seen = |v: &HopVerdict| matches!(v.verdict, Verdict::Alerted | Verdict::Observed);
    let visible: Vec<&HopVerdict> = hops
        .iter()
        .filter(|v| required(v.index) && v.verdict != Verdict::NotVisible)
        .collect();
    // A chain with no required hop at all stays fully observed (nothing
    // was asked of the backend), as before not-visible existed.
    let none_required = !hops.iter().any(|v| required(v.index));
    let fully_observed = none_required || (!visible.is_empty() && visible.iter().all(|v| seen(v)));
    let blind = hops
        .iter()
        .find(|v| required(v.index) && v.verdict == Verdict::NotVisible);
    let grade: Option<Grade> = hops.iter().filter_map(|v| v.grade).min();
    let first = |want: Verdict| hops.iter().find(|v| v.verdict == want);
    let (verdict, reason) = if let Some(v) = first(Verdict::Inconclusive) {
        (Verdict::Inconclusive, v.reason.clone())
    } else if grade.is_some() {
        (Verdict::Alerted, None)
    } else if fully_observed {
        (Verdict::Observed, None)
    } else if let Some(v) = first(Verdict::Blocked) {
        (
            Verdict::Blocked,
            Some(format!(
                "hop {}: {}",
                v.index,
                v.reason.clone().unwrap_or_default()
            )),
        )
    } else if let (true, Some(v)) = (visible.is_empty(), blind) {
        (
            Verdict::NotVisible,
            Some(format!(
                "no required hop is visible to the backend; hop {}: {}",
                v.index,
                v.reason.clone().unwrap_or_default()
            )),
        )
    } else {
        let missed = hops.iter().filter(|v| v.verdict == Verdict::Missed).count();
        (
            Verdict::Missed,
            Some(format!("{missed} required hop(s) without telemetry")),
        )
    };
    ChainVerdict {
        verdict,
        grade,
        fully_observed,
        false_positive: false,
        expected_rules_missing: Vec::new(),
        reason,
    }
}

/// The expected rules (ids or titles) that no alert matches.
pub(super) fn missing_rules(expected: &[String], alerts: &[Alert]) -> Vec<String> {
    expected
        .iter()
        .filter(|want| {
            !alerts.iter().any(|a| {
                a.rule_id.as_deref() == Some(want.as_str())
                    || a.rule_title.eq_ignore_ascii_case(want)
            })
        })
        .cloned()
        .collect()
}
