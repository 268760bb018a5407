//! The chain's verdict from its hops', and the expected rules that did not
//! fire.

use super::{Alert, ChainVerdict, Grade, HopKind, HopTruth, HopVerdict, Verdict};

/// The chain's verdict from its hops' verdicts: inconclusive first, then
/// alerted, observed, blocked, missed.
pub(super) fn chain_verdict(
    truth: &[HopTruth],
    hops: &[HopVerdict],
    observe: &[HopKind],
) -> ChainVerdict {
    let required = |i: usize| truth.get(i).is_some_and(|h| observe.contains(&h.kind));
    let seen = |v: &HopVerdict| matches!(v.verdict, Verdict::Alerted | Verdict::Observed);
    let fully_observed = hops.iter().filter(|v| required(v.index)).all(seen);
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
