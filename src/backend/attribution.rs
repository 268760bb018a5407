//! Which events and alerts belong to which run, and which time window a
//! batch is searched in: one rule and one window for every backend
//! (`docs/backends.md`, "Attribution").
//!
//! A backend sends one query per kind for a whole batch, so its answer
//! mixes the rows of every run (and whatever else matched the filter). This
//! module splits them: a row belongs to a run when it [`mentions`] the
//! run's token. Backends keep their query languages and wire types; they
//! never decide attribution themselves, so a token written in a nested
//! field or in another case counts the same for Splunk as for Falcon.

use std::collections::HashMap;

use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use super::{BackendAlert, RunAnswer};
use crate::record::ScenarioRun;
use crate::telemetry::Event;

/// How far before the earliest run and after now a batch is searched:
/// host and service clocks drift, and a hop may be stamped a little before
/// the run record says it started.
pub const SLACK: Duration = Duration::minutes(1);

/// THE attribution rule: true when `token` occurs in any string of
/// `record` — an object's values and an array's items, at any depth, so
/// nested fields (`process.parent.command_line`) count — with ASCII case
/// ignored (Windows and some pipelines change the case of paths and
/// command lines; tokens are lowercase hex, so no other run's token can
/// match by case). Keys, numbers and booleans are never searched: a token
/// is text that the run put into a file name, a command line or the
/// environment. A string that holds JSON (Sentinel's `Entities`) is
/// searched as text, which finds the token inside it too.
pub fn mentions(record: &Value, token: &str) -> bool {
    if token.is_empty() {
        // An empty token would mention everything: it names no run.
        return false;
    }
    let token = token.to_ascii_lowercase();
    contains(record, &token)
}

fn contains(v: &Value, lower_token: &str) -> bool {
    match v {
        Value::String(s) => s.to_ascii_lowercase().contains(lower_token),
        Value::Array(items) => items.iter().any(|x| contains(x, lower_token)),
        Value::Object(map) => map.values().any(|x| contains(x, lower_token)),
        _ => false,
    }
}

/// Something a backend returned that the rule can be asked about.
pub trait Record {
    /// Whether [`mentions`] holds for this record and `token`.
    fn mentions(&self, token: &str) -> bool;
}

impl Record for Value {
    fn mentions(&self, token: &str) -> bool {
        mentions(self, token)
    }
}

impl Record for Map<String, Value> {
    fn mentions(&self, token: &str) -> bool {
        if token.is_empty() {
            return false;
        }
        let token = token.to_ascii_lowercase();
        self.values().any(|v| contains(v, &token))
    }
}

impl Record for Event {
    fn mentions(&self, token: &str) -> bool {
        self.fields.mentions(token)
    }
}

/// Each run's answer from one round's rows: the events and alerts that
/// mention its token, converted by `event` and `alert` (which gets the
/// token, for backends whose alert shape depends on which entity holds
/// it). A row that mentions two runs' tokens belongs to both.
///
/// Rows are grouped by token first, then returned in the order of `runs`
/// (the [`Backend::query`](super::Backend::query) contract); a token that
/// appears twice in a batch gets the same answer twice.
pub fn answers<E: Record, A: Record>(
    runs: &[ScenarioRun],
    events: &[E],
    alerts: &[A],
    event: impl Fn(&E) -> Event,
    alert: impl Fn(&A, &str) -> BackendAlert,
    answered_at: Option<OffsetDateTime>,
) -> Vec<RunAnswer> {
    let mut by_token: HashMap<&str, RunAnswer> = HashMap::new();
    for run in runs {
        let token = run.token.as_str();
        if by_token.contains_key(token) {
            continue;
        }
        let answer = RunAnswer {
            untied: Default::default(),
            events: events
                .iter()
                .filter(|e| e.mentions(token))
                .map(&event)
                .collect(),
            alerts: alerts
                .iter()
                .filter(|a| a.mentions(token))
                .map(|a| alert(a, token))
                .collect(),
            answered_at,
        };
        by_token.insert(token, answer);
    }
    runs.iter()
        .map(|run| {
            by_token
                .get(run.token.as_str())
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

/// The time window a batch is searched in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// [`SLACK`] before the earliest run started.
    pub from: OffsetDateTime,
    /// [`SLACK`] after `now`.
    pub to: OffsetDateTime,
}

/// THE query window: from [`SLACK`] before the earliest start in the runs'
/// ground truth to [`SLACK`] after `now`. An empty batch searches the last
/// minute — never from the epoch, which would ask a SIEM for all of its
/// history.
pub fn window(runs: &[ScenarioRun], now: OffsetDateTime) -> Window {
    let earliest = runs.iter().map(|r| r.started_at).min().unwrap_or(now);
    Window {
        from: earliest.min(now) - SLACK,
        to: now + SLACK,
    }
}

impl Window {
    /// The window of `runs` as of the wall clock.
    pub fn of(runs: &[ScenarioRun]) -> Window {
        window(runs, OffsetDateTime::now_utc())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::backend::conformance::run;

    #[test]
    fn the_rule_searches_every_string_at_any_depth_ignoring_ascii_case() {
        let token = "cp00000000aa";
        let cases = [
            (
                json!({"CommandLine": "sh -c touch /tmp/cp00000000aa"}),
                true,
            ),
            (
                json!({"process": {"parent": {"args": ["x", "cp00000000aa"]}}}),
                true,
            ),
            (json!([[{"deep": ["CP00000000AA.DOCM"]}]]), true),
            (
                json!({"Entities": "[{\"Name\":\"cp00000000aa.docm\"}]"}),
                true,
            ),
            (json!({"cp00000000aa": "key only"}), false),
            (json!({"pid": 1234, "ok": true, "none": null}), false),
            (json!({"CommandLine": "cp00000000bb"}), false),
            (json!("cp00000000a"), false),
        ];
        for (record, want) in cases {
            assert_eq!(mentions(&record, token), want, "{record}");
            if let Value::Object(map) = &record {
                assert_eq!(map.mentions(token), want, "{record}");
            }
        }
        assert!(!mentions(&json!({"a": "anything"}), ""));
    }

    #[test]
    fn rows_go_to_the_runs_whose_tokens_they_mention_in_run_order() {
        let runs = [run("cp01"), run("cp02"), run("cp01")];
        let rows = [
            json!({"cmd": "a cp02"}),
            json!({"cmd": "b CP01"}),
            json!({"cmd": "both cp01 cp02"}),
            json!({"cmd": "neither"}),
        ];
        let event = |v: &Value| Event {
            category: crate::telemetry::Category::ProcessCreation,
            arrived: None,
            at: None,
            hop: None,
            fields: v.as_object().cloned().unwrap_or_default(),
        };
        let alert = |v: &Value, token: &str| BackendAlert {
            responses: Vec::new(),
            rule_id: Some(token.into()),
            rule_title: v["cmd"].as_str().unwrap_or_default().into(),
            level: None,
            tags: vec![],
            at: OffsetDateTime::UNIX_EPOCH,
            event: event(v),
        };
        let got = answers(&runs, &rows, &rows, event, alert, None);
        let cmds = |a: &RunAnswer| -> Vec<String> {
            a.events
                .iter()
                .map(|e| e.fields["cmd"].as_str().unwrap_or_default().to_string())
                .collect()
        };
        assert_eq!(got.len(), 3);
        assert_eq!(cmds(&got[0]), ["b CP01", "both cp01 cp02"]);
        assert_eq!(cmds(&got[1]), ["a cp02", "both cp01 cp02"]);
        assert_eq!(got[2], got[0]);
        assert_eq!(got[1].alerts[0].rule_id.as_deref(), Some("cp02"));
    }

    #[test]
    fn the_window_runs_from_the_earliest_start_to_now_never_from_the_epoch() {
        let now = OffsetDateTime::from_unix_timestamp(1_764_151_200)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let mut early = run("cp01");
        early.started_at = now - Duration::minutes(30);
        let mut late = run("cp02");
        late.started_at = now - Duration::minutes(5);
        assert_eq!(
            window(&[late.clone(), early], now),
            Window {
                from: now - Duration::minutes(31),
                to: now + SLACK,
            }
        );
        assert_eq!(
            window(&[], now),
            Window {
                from: now - SLACK,
                to: now + SLACK,
            }
        );
        // A run stamped in the future (a host clock ahead) still yields a
        // window that contains now.
        late.started_at = now + Duration::hours(1);
        assert_eq!(window(&[late], now).from, now - SLACK);
    }
}
