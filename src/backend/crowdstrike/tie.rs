//! Falcon's alerts of one round tied to the runs of the batch by the one
//! attribution rule ([`attribution::rows_of`], linear in the size of the
//! answer); an alert that names no run of the batch is counted and sampled
//! in [`Untied`](crate::backend::Untied), never dropped in silence. Each
//! alert carries its events, merged per run.

use time::OffsetDateTime;

use super::wire::{self, Alert};
use crate::backend::RunAnswer;
use crate::backend::attribution;
use crate::record::ScenarioRun;
use crate::telemetry::Event;

/// Each run's answer (in the order of `runs`) from the round's `alerts`.
pub fn answers(
    runs: &[ScenarioRun],
    alerts: &[Alert],
    answered_at: Option<OffsetDateTime>,
) -> Vec<RunAnswer> {
    let (of_run, untied) = attribution::rows_of(runs, alerts);
    runs.iter()
        .zip(of_run)
        .map(|(run, mine)| {
            let mut answer = RunAnswer {
                answered_at,
                untied: untied.clone(),
                ..RunAnswer::default()
            };
            for i in mine {
                let (alert, events) = wire::alert(&alerts[i], run);
                answer.alerts.push(alert);
                for e in events {
                    merge(&mut answer.events, e);
                }
            }
            answer
        })
        .collect()
}

/// Adds `e` to `events` unless the same process event (another alert on
/// the same process) is there; then the earlier arrival is kept, since the
/// event was in Falcon from the first alert that carried it.
fn merge(events: &mut Vec<Event>, e: Event) {
    let same = |x: &Event| {
        x.category == e.category && x.at == e.at && x.hop == e.hop && x.fields == e.fields
    };
    match events.iter_mut().find(|x| same(x)) {
        Some(x) => {
            x.arrived = match (x.arrived, e.arrived) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        None => events.push(e),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::backend::attribution::mentions;
    use crate::backend::conformance::run;

    fn object(v: Value) -> Alert {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_index_ties_exactly_what_the_rule_ties() {
        let tokens = ["cp00000000aa", "cp00000000bb", "CP0000000CC", "zz"];
        let runs: Vec<ScenarioRun> = tokens.iter().map(|t| run(t)).collect();
        let alerts = [
            json!({"cmdline": "sh -c touch /d/cp00000000aa.proof"}),
            json!({"parent_details": {"cmdline": "soffice /d/CP00000000BB.odt"}}),
            json!({"list": [["x", "prefix-cp0000000cc-suffix"]]}),
            json!({"cmdline": "both cp00000000aa and cp00000000bb"}),
            json!({"cp00000000aa": "a key is not searched", "pid": 5}),
            json!({"cmdline": "cp00000000a", "n": 12}),
            json!({"name": "fizz"}),
            json!({"composite_id": "stray"}),
        ];
        let alerts: Vec<Alert> = alerts.into_iter().map(object).collect();
        let got = answers(&runs, &alerts, None);
        for (run, answer) in runs.iter().zip(&got) {
            let want: Vec<&Alert> = alerts
                .iter()
                .filter(|a| mentions(&Value::Object((*a).clone()), &run.token))
                .collect();
            assert_eq!(answer.alerts.len(), want.len(), "{}", run.token);
        }
        let counts: Vec<usize> = got.iter().map(|a| a.alerts.len()).collect();
        assert_eq!(counts, [2, 2, 1, 1]);
        // The key-only, the short and the stray alerts name no run.
        assert_eq!(got[0].untied.count, 3);
        assert_eq!(got[0].untied.sample.len(), attribution::UNTIED_SAMPLE);
        assert!(got[0].untied.sample[0].contains("a key is not searched"));
    }

    #[test]
    fn the_same_process_from_two_alerts_is_one_event_arriving_first() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let event = |arrived: Option<OffsetDateTime>| Event {
            category: crate::telemetry::Category::ProcessCreation,
            arrived,
            at: Some(at),
            hop: None,
            fields: object(json!({"ProcessId": 11})),
        };
        let late = at + time::Duration::seconds(9);
        let mut events = vec![];
        for e in [
            event(Some(late)),
            event(None),
            event(Some(at)),
            event(Some(late)),
        ] {
            merge(&mut events, e);
        }
        assert_eq!(events, [event(Some(at))]);
    }
}
