//! When asking the backend again can change nothing: the rule that ends
//! polling for a run. Pure, so every case is a unit test.
//!
//! A positive chain is settled when every hop is decided (observed,
//! alerted, blocked, `not-visible`) and its expected alert, if any, has
//! come: an alert may come late (`delayed`), so a chain still waiting for
//! one is polled until the deadline. A negative control has no alert to
//! wait for: it is settled by a false positive, or once its telemetry is
//! complete and the quiet window (the profile's `alert_latency`) has passed
//! since without an alert. "Since" counts from the round that first saw the
//! telemetry complete — never earlier than the telemetry itself, so the
//! window is waited out in full; a deadline that comes first ends the
//! control as it ends every run, with its last verdict.

use std::time::Duration;

use crate::record::{ScenarioRun, Verdict, Verification};
use crate::scenario::Scenario;

/// True when `run` is a negative control.
pub(super) fn is_control(run: &ScenarioRun, scenario: Option<&Scenario>) -> bool {
    run.negative_control || scenario.is_some_and(|s| s.expect.no_alert)
}

/// True when every hop of `run` that happened has its telemetry decided:
/// observed, alerted, or not-visible (the backend can never hold it).
/// Hops that did not happen keep verdicts no later answer changes.
pub(super) fn telemetry_complete(run: &ScenarioRun, v: &Verification) -> bool {
    v.hops.iter().all(|h| {
        !happened(run, h.index)
            || matches!(
                h.verdict,
                Verdict::Observed | Verdict::Alerted | Verdict::NotVisible
            )
    })
}

/// Looked up by the hop's index, not its position: a record's hops are
/// numbered from 0 in order, but a hand-made or merged one need not be.
fn happened(run: &ScenarioRun, index: usize) -> bool {
    run.hops
        .iter()
        .find(|t| t.index == index)
        .is_some_and(|t| t.happened)
}

/// True when nothing more can be learned by asking again. `quiet` is how
/// long the run's telemetry has been complete (`None` while it is not),
/// `window` the quiet window a control waits out after that.
pub(super) fn settled(
    run: &ScenarioRun,
    v: &Verification,
    scenario: Option<&Scenario>,
    control: bool,
    quiet: Option<Duration>,
    window: Duration,
) -> bool {
    if v.chain.verdict == Verdict::NotApplicable {
        return true;
    }
    if control {
        // A false positive, once seen, is final; silence is only evidence
        // once the telemetry is in and the product has had its time.
        return v.chain.false_positive || quiet.is_some_and(|q| q >= window);
    }
    // A hop the harness never got to is inconclusive for good: no answer
    // changes it, so it keeps nothing open.
    let open = v.hops.iter().any(|h| {
        happened(run, h.index) && matches!(h.verdict, Verdict::Missed | Verdict::Inconclusive)
    });
    let wants_alert = scenario.is_some_and(|s| s.expect.alert.is_some());
    !open && (!wants_alert || v.chain.verdict == Verdict::Alerted)
}

/// How long until the first of `waiting` controls (each: how long its
/// telemetry has been complete) reaches the end of its quiet window, if
/// any is waiting: the next round need not come later than that.
pub(super) fn next_quiet_end(waiting: &[Duration], window: Duration) -> Option<Duration> {
    waiting.iter().map(|q| window.saturating_sub(*q)).min()
}
