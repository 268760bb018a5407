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
    /// Calls `f` with every string the rule searches (values at any
    /// depth, never keys), so a batch's tokens are found in one pass.
    fn each_string(&self, f: &mut dyn FnMut(&str));
}

fn strings(v: &Value, f: &mut dyn FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|x| strings(x, f)),
        Value::Object(map) => map.values().for_each(|x| strings(x, f)),
        _ => {}
    }
}

impl Record for Value {
    fn mentions(&self, token: &str) -> bool {
        mentions(self, token)
    }
    fn each_string(&self, f: &mut dyn FnMut(&str)) {
        strings(self, f);
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
    fn each_string(&self, f: &mut dyn FnMut(&str)) {
        self.values().for_each(|v| strings(v, f));
    }
}

impl Record for Event {
    fn mentions(&self, token: &str) -> bool {
        self.fields.mentions(token)
    }
    fn each_string(&self, f: &mut dyn FnMut(&str)) {
        self.fields.each_string(f);
    }
}

/// Length of a run token (`cp` and 10 hex digits, `crate::token`).
const TOKEN_LEN: usize = 12;

/// True when `w` (lowercase) has the run-token shape.
fn token_shaped(w: &[u8]) -> bool {
    w.len() == TOKEN_LEN
        && w.starts_with(b"cp")
        && w[2..]
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A batch's tokens, looked up per row in one pass over its strings: the
/// same answers as asking [`mentions`] for every token, in time linear in
/// the rows' text instead of rows × tokens. Run tokens have one shape, so
/// every 12-byte window of a string that has it (ASCII case ignored) is
/// looked up in a map; a token of another shape (a hand-made record) is
/// searched for as [`mentions`] does.
struct TokenIndex<'a> {
    /// Token-shaped tokens by their lowercase form (two spellings of one
    /// token in a batch share an entry).
    shaped: HashMap<String, Vec<&'a str>>,
    /// Other non-empty tokens, with their lowercase form.
    other: Vec<(&'a str, String)>,
}

impl<'a> TokenIndex<'a> {
    fn new(tokens: impl Iterator<Item = &'a str>) -> TokenIndex<'a> {
        let mut index = TokenIndex {
            shaped: HashMap::new(),
            other: Vec::new(),
        };
        for token in tokens.filter(|t| !t.is_empty()) {
            let lower = token.to_ascii_lowercase();
            if token_shaped(lower.as_bytes()) {
                let spellings = index.shaped.entry(lower).or_default();
                if !spellings.contains(&token) {
                    spellings.push(token);
                }
            } else if !index.other.iter().any(|(t, _)| *t == token) {
                index.other.push((token, lower));
            }
        }
        index
    }

    /// The batch's tokens `record` mentions, each once.
    fn mentioned(&self, record: &impl Record) -> Vec<&'a str> {
        let mut found: Vec<&'a str> = Vec::new();
        let mut add = |t: &'a str| {
            if !found.contains(&t) {
                found.push(t);
            }
        };
        record.each_string(&mut |s| {
            let bytes = s.as_bytes();
            if !self.shaped.is_empty() {
                for w in bytes.windows(TOKEN_LEN) {
                    if w[0] | 0x20 != b'c' || w[1] | 0x20 != b'p' {
                        continue;
                    }
                    let mut lower = [0u8; TOKEN_LEN];
                    lower.copy_from_slice(w);
                    lower.make_ascii_lowercase();
                    if !token_shaped(&lower) {
                        continue;
                    }
                    let key = std::str::from_utf8(&lower).unwrap_or_default();
                    for t in self.shaped.get(key).into_iter().flatten() {
                        add(t);
                    }
                }
            }
            if !self.other.is_empty() {
                let lower = s.to_ascii_lowercase();
                for (t, l) in &self.other {
                    if lower.contains(l.as_str()) {
                        add(t);
                    }
                }
            }
        });
        found
    }
}

/// Each run's answer from one round's rows: the events and alerts that
/// mention its token, converted by `event` and `alert` (which gets the
/// token, for backends whose alert shape depends on which entity holds
/// it). A row that mentions two runs' tokens belongs to both.
///
/// Each row's tokens are found in one pass over its strings (a map
/// lookup per token-shaped window, so a round costs the rows' text, not
/// rows × runs), each row is converted once, and the answers are returned
/// in the order of `runs` (the [`Backend::query`](super::Backend::query)
/// contract); a token that appears twice in a batch gets the same answer
/// twice.
pub fn answers<E: Record, A: Record>(
    runs: &[ScenarioRun],
    events: &[E],
    alerts: &[A],
    event: impl Fn(&E) -> Event,
    alert: impl Fn(&A, &str) -> BackendAlert,
    answered_at: Option<OffsetDateTime>,
) -> Vec<RunAnswer> {
    let index = TokenIndex::new(runs.iter().map(|r| r.token.as_str()));
    let mut by_token: HashMap<&str, RunAnswer> = runs
        .iter()
        .map(|run| {
            let answer = RunAnswer {
                untied: Default::default(),
                events: Vec::new(),
                alerts: Vec::new(),
                answered_at,
            };
            (run.token.as_str(), answer)
        })
        .collect();
    for row in events {
        let tokens = index.mentioned(row);
        if tokens.is_empty() {
            continue;
        }
        let converted = event(row);
        for token in tokens {
            if let Some(answer) = by_token.get_mut(token) {
                answer.events.push(converted.clone());
            }
        }
    }
    for row in alerts {
        for token in index.mentioned(row) {
            if let Some(answer) = by_token.get_mut(token) {
                answer.alerts.push(alert(row, token));
            }
        }
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
    fn the_index_finds_exactly_what_the_rule_finds() {
        let fresh = crate::token::new();
        let tokens = [
            "cp00000000aa",
            "CP00000000BB",
            "cp00000000cc",
            fresh.as_str(),
            "cp0000000000",
            "",
            "hand-made token",
            "cp0",
        ];
        let upper = fresh.to_ascii_uppercase();
        let records = [
            json!({"a": "x cp00000000AA y", "b": ["CP00000000bb.docm"]}),
            json!({"n": {"deep": [upper, "cpcp0000000000"]}}),
            json!({"cmd": "cp00000000aacp00000000cc", "k": "Hand-Made TOKEN here"}),
            json!({"cp00000000aa": 1, "pid": 7, "s": "cp00000000a", "t": "cp0"}),
            json!({"é": "ñcp00000000ccé", "x": "cp00000000ga"}),
        ];
        let index = TokenIndex::new(tokens.iter().copied());
        for record in &records {
            let mut got = index.mentioned(record);
            got.sort_unstable();
            let mut want: Vec<&str> = tokens
                .iter()
                .copied()
                .filter(|t| mentions(record, t))
                .collect();
            want.sort_unstable();
            want.dedup();
            assert_eq!(got, want, "{record}");
        }
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
