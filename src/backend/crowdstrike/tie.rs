//! Falcon's alerts of one round tied to the runs of the batch by the one
//! attribution rule ([`attribution::mentions`](crate::backend::attribution::mentions)),
//! in time linear in the size of the answer.
//!
//! Asking the rule for every (run, alert) pair costs runs × alerts whole
//! scans of each alert (1,200 × 2,400 for a fleet batch). Instead every
//! string of an alert is lowercased once and each window of a token's
//! length is looked up among the batch's tokens: that finds exactly the
//! tokens the rule would find (a case-insensitive substring of some
//! string), and each candidate is then confirmed by the rule itself, so
//! the rule stays the only judge. An alert that names no run of the batch
//! is counted and sampled in [`Untied`], never dropped in silence.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;
use time::OffsetDateTime;

use super::wire::{self, Alert};
use crate::backend::attribution::Record;
use crate::backend::{RunAnswer, Untied};
use crate::record::ScenarioRun;
use crate::telemetry::Event;

/// Alerts kept as a sample of the untied ones.
const SAMPLE: usize = 3;

/// Each run's answer (in the order of `runs`) from the round's `alerts`.
pub fn answers(
    runs: &[ScenarioRun],
    alerts: &[Alert],
    answered_at: Option<OffsetDateTime>,
) -> Vec<RunAnswer> {
    let lower: Vec<String> = runs.iter().map(|r| r.token.to_ascii_lowercase()).collect();
    let tokens: HashSet<&[u8]> = lower
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| t.as_bytes())
        .collect();
    let lengths: BTreeSet<usize> = tokens.iter().map(|t| t.len()).collect();
    let mut by_token: HashMap<&[u8], Vec<usize>> = HashMap::new();
    let mut untied = Untied::default();
    for (i, alert) in alerts.iter().enumerate() {
        let mut found = HashSet::new();
        for v in alert.values() {
            candidates(v, &tokens, &lengths, &mut found);
        }
        // The rule decides; the index only spares asking it about tokens
        // the alert cannot hold.
        found.retain(|t| std::str::from_utf8(t).is_ok_and(|t| alert.mentions(t)));
        if found.is_empty() {
            untied.count += 1;
            if untied.sample.len() < SAMPLE {
                untied
                    .sample
                    .push(serde_json::to_string(alert).unwrap_or_default());
            }
        }
        for t in found {
            by_token.entry(t).or_default().push(i);
        }
    }
    runs.iter()
        .zip(&lower)
        .map(|(run, token)| {
            let mut answer = RunAnswer {
                answered_at,
                untied: untied.clone(),
                ..RunAnswer::default()
            };
            for &i in by_token.get(token.as_bytes()).into_iter().flatten() {
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

/// Adds to `found` the tokens some string of `v` holds (ASCII case ignored).
fn candidates<'t>(
    v: &Value,
    tokens: &HashSet<&'t [u8]>,
    lengths: &BTreeSet<usize>,
    found: &mut HashSet<&'t [u8]>,
) {
    match v {
        Value::String(s) => {
            let s = s.to_ascii_lowercase();
            for &n in lengths {
                for w in s.as_bytes().windows(n) {
                    if let Some(t) = tokens.get(w) {
                        found.insert(*t);
                    }
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|x| candidates(x, tokens, lengths, found)),
        Value::Object(map) => map
            .values()
            .for_each(|x| candidates(x, tokens, lengths, found)),
        _ => {}
    }
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
    use serde_json::json;

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
        assert_eq!(got[0].untied.sample.len(), SAMPLE);
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
