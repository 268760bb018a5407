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

use super::{BackendAlert, RunAnswer, Untied};
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

/// How many rows tied to no run a round keeps as a sample.
pub const UNTIED_SAMPLE: usize = 3;

/// How many characters of each sampled row are kept.
pub const UNTIED_CHARS: usize = 400;

/// Something a backend returned that the rule can be asked about.
pub trait Record {
    /// Whether [`mentions`] holds for this record and `token`.
    fn mentions(&self, token: &str) -> bool;
    /// Every string of the record, lowercased, joined by NUL (which no
    /// token holds, so no match spans two strings): what [`answers`]
    /// searches once per row instead of once per row and run.
    fn haystack(&self) -> String;
    /// The record as compact JSON, for the sample of untied rows.
    fn json(&self) -> String;
}

fn gather(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push_str(&s.to_ascii_lowercase());
            out.push('\0');
        }
        Value::Array(items) => items.iter().for_each(|x| gather(x, out)),
        Value::Object(map) => map.values().for_each(|x| gather(x, out)),
        _ => {}
    }
}

impl Record for Value {
    fn mentions(&self, token: &str) -> bool {
        mentions(self, token)
    }
    fn haystack(&self) -> String {
        let mut out = String::new();
        gather(self, &mut out);
        out
    }
    fn json(&self) -> String {
        self.to_string()
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
    fn haystack(&self) -> String {
        let mut out = String::new();
        self.values().for_each(|v| gather(v, &mut out));
        out
    }
    fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Record for Event {
    fn mentions(&self, token: &str) -> bool {
        self.fields.mentions(token)
    }
    fn haystack(&self) -> String {
        self.fields.haystack()
    }
    fn json(&self) -> String {
        self.fields.json()
    }
}

/// Which of `tokens` (lowercase, none empty) each row mentions, by index,
/// ascending. When every token has the run-token shape (`cp` and 10 hex
/// digits, as records hold them), each row's text is scanned once and
/// every `cp…` found is looked up, so a batch costs its rows' length, not
/// rows × runs; other tokens (tests, hand-made batches) are searched one
/// by one, with the same result.
fn tie<R: Record>(rows: &[R], tokens: &[String]) -> Vec<Vec<usize>> {
    let index: Option<HashMap<&str, usize>> =
        tokens.iter().all(|t| crate::token::is_token(t)).then(|| {
            tokens
                .iter()
                .enumerate()
                .map(|(k, t)| (t.as_str(), k))
                .collect()
        });
    rows.iter()
        .map(|row| {
            let hay = row.haystack();
            let mut ties: Vec<usize> = match &index {
                Some(index) => hay
                    .match_indices("cp")
                    .filter_map(|(at, _)| index.get(hay.get(at..at + TOKEN_LEN)?).copied())
                    .collect(),
                None => tokens
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| hay.contains(t.as_str()))
                    .map(|(k, _)| k)
                    .collect(),
            };
            ties.sort_unstable();
            ties.dedup();
            ties
        })
        .collect()
}

/// Length of a run token (`cp` and 10 hex digits).
const TOKEN_LEN: usize = 12;

/// For each token, the rows that mention it, from each row's ties.
fn by_token(ties: &[Vec<usize>], tokens: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); tokens];
    for (row, ks) in ties.iter().enumerate() {
        for &k in ks {
            out[k].push(row);
        }
    }
    out
}

/// `text` cut to [`UNTIED_CHARS`] characters, saying so when cut.
fn truncated(text: String) -> String {
    match text.char_indices().nth(UNTIED_CHARS) {
        Some((at, _)) => format!("{}… (truncated)", &text[..at]),
        None => text,
    }
}

/// Each run's answer from one round's rows: the events and alerts that
/// mention its token, converted by `event` and `alert` (which gets the
/// token, for backends whose alert shape depends on which entity holds
/// it). A row that mentions two runs' tokens belongs to both; a row that
/// mentions no run of the batch (the search matched it on something the
/// rule does not read, or the backend's filter is wider than the tokens)
/// is counted and sampled in every answer's [`RunAnswer::untied`].
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
    // Unique non-empty tokens of the batch, lowercased, in run order, and
    // each one as its first run spells it (what `alert` is given).
    let mut tokens: Vec<String> = Vec::new();
    let mut spelled: Vec<&str> = Vec::new();
    for run in runs {
        let t = run.token.to_ascii_lowercase();
        if !t.is_empty() && !tokens.contains(&t) {
            tokens.push(t);
            spelled.push(&run.token);
        }
    }
    let event_ties = tie(events, &tokens);
    let alert_ties = tie(alerts, &tokens);
    let loose_events = events.iter().zip(&event_ties).filter(|(_, t)| t.is_empty());
    let loose_alerts = alerts.iter().zip(&alert_ties).filter(|(_, t)| t.is_empty());
    let untied = untied_of(
        loose_events
            .map(|(e, _)| e.json())
            .chain(loose_alerts.map(|(a, _)| a.json())),
    );
    let events_of = by_token(&event_ties, tokens.len());
    let alerts_of = by_token(&alert_ties, tokens.len());
    let mut by_token: HashMap<&str, RunAnswer> = HashMap::new();
    for (k, token) in tokens.iter().enumerate() {
        let answer = RunAnswer {
            untied: untied.clone(),
            events: events_of[k].iter().map(|&i| event(&events[i])).collect(),
            alerts: alerts_of[k]
                .iter()
                .map(|&i| alert(&alerts[i], spelled[k]))
                .collect(),
            answered_at,
        };
        by_token.insert(token.as_str(), answer);
    }
    runs.iter()
        .map(|run| {
            by_token
                .get(run.token.to_ascii_lowercase().as_str())
                .cloned()
                // A run with an empty token names nothing: it gets nothing
                // tied, but still hears what the round could not tie.
                .unwrap_or_else(|| RunAnswer {
                    untied: untied.clone(),
                    answered_at,
                    ..RunAnswer::default()
                })
        })
        .collect()
}

/// The rows of one kind that belong to each run of `runs` (by index into
/// `rows`, in the order of `runs`), by the one rule, and the rows that
/// belong to none — for a backend that builds its answers itself from rows
/// of one kind (CrowdStrike's alerts carry their events).
pub fn rows_of<R: Record>(runs: &[ScenarioRun], rows: &[R]) -> (Vec<Vec<usize>>, Untied) {
    let lower: Vec<String> = runs.iter().map(|r| r.token.to_ascii_lowercase()).collect();
    let mut tokens: Vec<String> = Vec::new();
    for t in &lower {
        if !t.is_empty() && !tokens.contains(t) {
            tokens.push(t.clone());
        }
    }
    let ties = tie(rows, &tokens);
    let untied = untied_of(
        rows.iter()
            .zip(&ties)
            .filter(|(_, t)| t.is_empty())
            .map(|(r, _)| r.json()),
    );
    let of_token = by_token(&ties, tokens.len());
    let of_run = lower
        .iter()
        .map(|t| {
            tokens
                .iter()
                .position(|x| x == t)
                .map(|k| of_token[k].clone())
                .unwrap_or_default()
        })
        .collect();
    (of_run, untied)
}

/// Rows tied to no run, counted, the first [`UNTIED_SAMPLE`] kept (each cut
/// to [`UNTIED_CHARS`] characters).
fn untied_of(rows: impl Iterator<Item = String>) -> Untied {
    let mut untied = Untied::default();
    for json in rows {
        untied.count += 1;
        if untied.sample.len() < UNTIED_SAMPLE {
            untied.sample.push(truncated(json));
        }
    }
    untied
}

impl From<&Untied> for crate::record::UntiedAnswers {
    fn from(u: &Untied) -> Self {
        crate::record::UntiedAnswers {
            count: u.count,
            sample: u.sample.clone(),
        }
    }
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
mod tests;
