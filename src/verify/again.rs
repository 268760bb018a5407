//! Verifying a recorded run again (`chainproof verify`, and the controller
//! verifying the records fetched from remote targets), and choosing the
//! expectations to judge it with.
//!
//! A record names each scenario's file and the SHA-256 of its text; the
//! expectations (which hops must be seen, which alert is due) come from that
//! text. Re-verifying with a scenario of the same id but other text would
//! judge the run against rules it never had, so [`expectations`] accepts a
//! scenario only when its hash is the recorded one, and refuses with a
//! [`Mismatch`] otherwise. It never reads files: the caller passes the
//! scenarios loaded now and those kept in the record's evidence bundle.

use sha2::Digest;

use super::{Polling, verify};
use crate::backend::AnyBackend;
use crate::backend::transcript::Exchange;
use crate::record::{RuleSet, RunRecord};
use crate::scenario::{Loaded, Scenario};

/// Verifies every scenario of `record` again with `backend` (already
/// checked), names `rule_set` as its alerting content, and returns every
/// request sent to the backend with its answer, for the evidence bundle.
/// `stop` ends it as it ends [`verify`].
pub async fn again(
    record: &mut RunRecord,
    scenarios: &[Scenario],
    backend: &AnyBackend,
    rule_set: &RuleSet,
    polling: &Polling,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Vec<Exchange> {
    backend.start_transcript();
    verify(&mut record.scenarios, scenarios, backend, polling, stop).await;
    record.rules = rule_set.clone();
    backend.take_transcript()
}

/// Where one recorded scenario's expectations came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A scenario loaded now (`--scenarios` or the built-in set) whose text
    /// has the recorded SHA-256.
    Loaded,
    /// The copy in the record's evidence bundle (`scenarios/`), with the
    /// recorded SHA-256: the scenario loaded now differs or is absent.
    Bundle,
    /// The record holds no SHA-256 (an old or hand-made record): the
    /// scenario loaded now with that id, unchecked.
    Unchecked,
    /// No scenario of that id anywhere: every hop is required, no alert due.
    Unknown,
}

/// The scenarios to judge a record with, and where each came from.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// One scenario per id the record holds (unknown ids have none).
    pub scenarios: Vec<Scenario>,
    /// Each recorded id and where its expectations came from, in record order.
    pub used: Vec<(String, Origin)>,
}

/// A recorded scenario whose text differs from every scenario of its id
/// that can be had now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "re-verify scenario `{id}` with the expectations it ran with: the record has {recorded_source} \
     with SHA-256 {recorded}, but {found_source} has SHA-256 {found}; give --scenarios with the \
     file(s) the run used (a report folder keeps them under scenarios/)"
)]
pub struct Mismatch {
    /// The scenario id.
    pub id: String,
    /// The recorded SHA-256 of its text.
    pub recorded: String,
    /// The file the record names.
    pub recorded_source: String,
    /// The SHA-256 of the text found now.
    pub found: String,
    /// Where that text came from.
    pub found_source: String,
}

/// SHA-256 of a scenario's text, as the runner records it.
pub fn sha256(loaded: &Loaded) -> String {
    hex::encode(sha2::Sha256::digest(loaded.source.text.as_bytes()))
}

/// Picks, for every scenario of `record`, the scenario whose text has the
/// recorded SHA-256: from `now` (loaded for this verification) first, then
/// from `bundle` (the copies in the record's folder). A scenario whose id
/// is found but whose every text differs is a [`Mismatch`]; an id found
/// nowhere keeps the old rule (every hop required).
pub fn expectations(
    record: &RunRecord,
    now: &[Loaded],
    bundle: &[Loaded],
) -> Result<Expectations, Mismatch> {
    let mut out = Expectations::default();
    let mut chosen_sha: Vec<(String, String)> = Vec::new();
    for run in &record.scenarios {
        let of_id = |set: &'_ [Loaded]| -> Vec<Loaded> {
            set.iter()
                .filter(|l| l.scenario.id == run.id)
                .cloned()
                .collect()
        };
        let (now, bundle) = (of_id(now), of_id(bundle));
        let matching =
            |set: &[Loaded]| set.iter().find(|l| sha256(l) == run.source_sha256).cloned();
        let (chosen, origin) = if run.source_sha256.is_empty() {
            match now.first().or(bundle.first()) {
                Some(l) => (Some(l.clone()), Origin::Unchecked),
                None => (None, Origin::Unknown),
            }
        } else if let Some(l) = matching(&now) {
            (Some(l), Origin::Loaded)
        } else if let Some(l) = matching(&bundle) {
            (Some(l), Origin::Bundle)
        } else if let Some(other) = now.first().or(bundle.first()) {
            return Err(Mismatch {
                id: run.id.clone(),
                recorded: run.source_sha256.clone(),
                recorded_source: run.source.clone(),
                found: sha256(other),
                found_source: other.source.path.display().to_string(),
            });
        } else {
            (None, Origin::Unknown)
        };
        // A fleet record holds an id once per host; verification takes one
        // scenario per id, so every host's run of it must have had the text
        // chosen first (a second text is a mismatch, not a silent pick).
        if let Some(l) = chosen {
            match chosen_sha.iter().find(|(id, _)| id == &run.id) {
                Some((_, sha)) if run.source_sha256.is_empty() || *sha == run.source_sha256 => {}
                Some((_, sha)) => {
                    return Err(Mismatch {
                        id: run.id.clone(),
                        recorded: run.source_sha256.clone(),
                        recorded_source: run.source.clone(),
                        found: sha.clone(),
                        found_source: "the text another host of this record ran".into(),
                    });
                }
                None => {
                    chosen_sha.push((run.id.clone(), sha256(&l)));
                    out.scenarios.push(l.scenario);
                }
            }
        }
        if !out.used.iter().any(|(id, _)| id == &run.id) {
            out.used.push((run.id.clone(), origin));
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "again_tests.rs"]
mod tests;
