//! Ending a verification on a stop signal: what was decided stays, what
//! could still change is `inconclusive` with the reason `interrupted`.

use time::OffsetDateTime;

use super::uniform;
use crate::record::{ScenarioRun, Verdict, Verification};
use crate::scenario::Scenario;

/// The reason an unsettled hop or chain gets when a stop signal ends
/// verification.
pub const INTERRUPTED: &str = "interrupted";

/// Marks every run of `pending` [`interrupted`].
pub(super) fn interrupt_all(
    runs: &mut [ScenarioRun],
    pending: &[usize],
    scenarios: &[Scenario],
    backend: &str,
) {
    let now = OffsetDateTime::now_utc();
    for &i in pending {
        let run = &mut runs[i];
        let scenario = scenarios.iter().find(|s| s.id == run.id);
        let v = interrupted(run, scenario, backend, now);
        run.verification = Some(v);
    }
}

/// The verification of a run whose verification a stop signal cut short:
/// hops already seen keep their verdicts, hops still `missed` (their
/// telemetry may yet arrive) become `inconclusive`, and so does the chain,
/// unless it already alerted — an alert that arrived stays a fact.
pub fn interrupted(
    run: &ScenarioRun,
    scenario: Option<&Scenario>,
    backend: &str,
    verified_at: OffsetDateTime,
) -> Verification {
    let Some(mut v) = run.verification.clone() else {
        return uniform(
            run,
            Verdict::Inconclusive,
            Some(INTERRUPTED.into()),
            backend,
            verified_at,
        );
    };
    for h in &mut v.hops {
        if h.verdict == Verdict::Missed {
            h.verdict = Verdict::Inconclusive;
            h.reason = Some(INTERRUPTED.into());
        }
    }
    let negative = run.negative_control || scenario.is_some_and(|s| s.expect.no_alert);
    if negative || v.chain.verdict != Verdict::Alerted {
        v.chain.verdict = Verdict::Inconclusive;
        v.chain.reason = Some(INTERRUPTED.into());
    }
    v.verified_at = verified_at;
    v
}
