//! The conformance cases about which alerts a run's answer holds: an alert
//! tied to its run by a documented field other than the process fields,
//! and one alert the product writes as several rows. Invoked through
//! `conformance_suite!` like the cases of [`super::suite`], only for a
//! fixture whose vendor documents such a field or such rows.

use super::suite::{Fixture, NAME, TOKEN, ask, only, with_preamble};
use crate::backend::RunAnswer;
use crate::record::{ScenarioRun, Verdict, Verification};
use crate::vocab::HopKind;

fn decide(run: &ScenarioRun, answer: &RunAnswer) -> Verification {
    crate::verify::decide(
        run,
        None,
        Ok(answer.clone()),
        "conformance",
        time::OffsetDateTime::now_utc(),
    )
}

/// An alert whose run token sits only in a field other than the process
/// fields (a notable's `orig_raw`, an evidence row's `FileName`, an
/// entity's name…) is tied to its run: the run's answer holds it once and
/// the chain is alerted. A backend that tied alerts through a list of
/// process fields dropped such alerts in silence.
pub async fn alert_tied_by_any_field<F: Fixture>() {
    let Some(rounds) = F::tied_by_field(TOKEN) else {
        panic!("a backend whose suite includes this case names its alert's fields");
    };
    assert!(!rounds.is_empty(), "{NAME}: at least one field");
    let run = F::run(TOKEN);
    for (field, script) in rounds {
        let (got, _s) = ask::<F>(with_preamble::<F>(script), std::slice::from_ref(&run)).await;
        let answer = only::<F>(got);
        assert_eq!(answer.alerts.len(), 1, "{field}: {:#?}", answer.alerts);
        let v = decide(&run, &answer);
        assert_eq!(v.chain.verdict, Verdict::Alerted, "{field}: {v:#?}");
        assert_eq!(v.alerts.len(), 1, "{field}: {:#?}", v.alerts);
    }
}

/// One alert the product writes as several rows (evidence rows sharing an
/// alert id, an alert row rewritten on update) is one alert on the run's
/// answer, on the hop whose process it names as its subject (the run's
/// spawn hop) and on no other: the parent and the document in its other
/// rows are context.
pub async fn one_alert_several_rows<F: Fixture>() {
    let Some(script) = F::several_rows(TOKEN) else {
        panic!("a backend whose suite includes this case writes an alert as several rows");
    };
    let run = F::run(TOKEN);
    let (got, _s) = ask::<F>(with_preamble::<F>(script), std::slice::from_ref(&run)).await;
    let answer = only::<F>(got);
    assert_eq!(answer.alerts.len(), 1, "{:#?}", answer.alerts);
    let spawn = run
        .hops
        .iter()
        .rposition(|h| h.kind == HopKind::Spawn)
        .unwrap_or_else(|| panic!("the sample run has a spawn hop"));
    let v = decide(&run, &answer);
    assert_eq!(v.alerts.len(), 1, "{:#?}", v.alerts);
    assert_eq!(v.alerts[0].hop, Some(run.hops[spawn].index), "{v:#?}");
    for (n, hop) in v.hops.iter().enumerate() {
        assert_eq!(
            hop.verdict == Verdict::Alerted,
            n == spawn,
            "hop {n}: {:?}",
            v.hops
        );
    }
    assert_eq!(v.chain.verdict, Verdict::Alerted);
}
