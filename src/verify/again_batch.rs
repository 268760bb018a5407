//! Verifying several records again in one batch (`chainproof verify` of
//! several run.json files, or of a reports folder a schedule or fleet
//! filled), and judging a record whose backend failed its check.
//!
//! Every run of every record goes into one [`verify`] call, so a round
//! sends one batched query for all of them: 100 records cost about what
//! one does. The one exception is a scenario id that two records ran with
//! different texts: [`verify`] takes one scenario per id, so such records
//! are verified in a batch of their own, concurrently with the others, each
//! judged with the expectations it ran with (never a silent pick).
//!
//! It never reads or writes files: the caller reads the records, picks
//! their expectations ([`super::expectations`], the hash check per record)
//! and writes each one back.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use time::OffsetDateTime;

use super::{Polling, decide, verify};
use crate::backend::transcript::Exchange;
use crate::backend::{AnyBackend, RunAnswer};
use crate::record::{RuleSet, RunRecord, ScenarioRun};
use crate::scenario::Scenario;

/// One record to verify, with the scenarios chosen for it.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The record; its runs get their new verifications.
    pub record: RunRecord,
    /// One scenario per id the record holds (from [`super::expectations`]).
    pub scenarios: Vec<Scenario>,
}

/// Verifies every run of every record of `pending` with `backend` (already
/// checked) in as few batches as their scenario texts allow (one when they
/// agree), names `rule_set` as each record's alerting content (with the
/// rules of `needs` that can never fire on that record's answers: its
/// blind rules), and returns
/// every request sent with its answer: one transcript for the whole batch,
/// since each round's query covered every record.
pub async fn again_all(
    pending: &mut [Pending],
    backend: &AnyBackend,
    rule_set: &RuleSet,
    needs: &[crate::detect::needs::Needs],
    polling: &Polling,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Vec<Exchange> {
    backend.start_transcript();
    let groups = groups(pending);
    let mut batches: Vec<(Vec<ScenarioRun>, Vec<Scenario>)> = groups
        .iter()
        .map(|members| {
            let runs = members
                .iter()
                .flat_map(|&r| pending[r].record.scenarios.iter().cloned())
                .collect();
            let mut scenarios: Vec<Scenario> = Vec::new();
            for &r in members {
                for s in &pending[r].scenarios {
                    if !scenarios.iter().any(|x| x.id == s.id) {
                        scenarios.push(s.clone());
                    }
                }
            }
            (runs, scenarios)
        })
        .collect();
    let mut answers: Vec<Vec<Option<RunAnswer>>> = vec![Vec::new(); batches.len()];
    let mut futures: Vec<Pin<Box<dyn Future<Output = ()> + '_>>> = Vec::new();
    for ((runs, scenarios), last) in batches.iter_mut().zip(answers.iter_mut()) {
        let mut stop = stop.clone();
        futures.push(Box::pin(async move {
            *last = verify(runs, scenarios, backend, polling, &mut stop).await;
        }));
    }
    join(futures).await;
    for ((members, (runs, _)), last) in groups.iter().zip(batches).zip(answers) {
        let mut runs = runs.into_iter();
        let mut last = last.into_iter();
        for &r in members {
            let mut mine = Vec::new();
            for run in &mut pending[r].record.scenarios {
                if let Some(done) = runs.next() {
                    *run = done;
                }
                mine.push(last.next().flatten());
            }
            let p = &mut pending[r];
            p.record.rules = rule_set.clone();
            p.record.rules.blind = super::visibility::blind::rules(needs, &mine);
        }
    }
    backend.take_transcript()
}

/// The records of `pending` in batches whose runs agree on the text
/// (SHA-256) of every scenario id they share, in order: the first batch
/// takes every record it can.
fn groups(pending: &[Pending]) -> Vec<Vec<usize>> {
    // Each batch: the (id, SHA-256) pairs its records ran, and its records.
    type Batch = (Vec<(String, String)>, Vec<usize>);
    let mut groups: Vec<Batch> = Vec::new();
    for (i, p) in pending.iter().enumerate() {
        let texts: Vec<(String, String)> = p
            .record
            .scenarios
            .iter()
            .map(|s| (s.id.clone(), s.source_sha256.clone()))
            .collect();
        let fits = |known: &[(String, String)]| {
            texts
                .iter()
                .all(|(id, sha)| known.iter().all(|(k, s)| k != id || s == sha))
        };
        match groups.iter_mut().find(|(known, _)| fits(known)) {
            Some((known, members)) => {
                known.extend(texts);
                members.push(i);
            }
            None => groups.push((texts, vec![i])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// Runs `futures` concurrently on this task until all are done (the few
/// batches of [`again_all`] share borrowed runs, so they cannot be spawned).
async fn join(mut futures: Vec<Pin<Box<dyn Future<Output = ()> + '_>>>) {
    std::future::poll_fn(|cx| {
        futures.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if futures.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
}

/// Judges every run of `record` `inconclusive` with `reason` (the backend
/// that should have answered failed its check), keeping what a run's own
/// status decides (`not-applicable`, a run stopped before any hop): the
/// record is still written, saying why nothing could be verified.
pub fn unverifiable(record: &mut RunRecord, scenarios: &[Scenario], backend: &str, reason: &str) {
    let now = OffsetDateTime::now_utc();
    for run in &mut record.scenarios {
        let scenario = scenarios.iter().find(|s| s.id == run.id);
        run.verification = Some(decide(run, scenario, Err(reason.to_string()), backend, now));
    }
}

/// The indexes of `runs` a backend can be asked about; every other run
/// (its token is not a run token, so no query language could carry it
/// safely) is judged `inconclusive` at once, saying so, and never sent:
/// one bad run must not turn the batch's query malformed and every run of
/// it inconclusive. Records are checked when read; this holds for runs
/// built any other way.
pub fn searchable(runs: &mut [ScenarioRun], scenarios: &[Scenario], backend: &str) -> Vec<usize> {
    let now = OffsetDateTime::now_utc();
    let mut ok = Vec::with_capacity(runs.len());
    for (i, run) in runs.iter_mut().enumerate() {
        if crate::token::is_token(&run.token) {
            ok.push(i);
            continue;
        }
        let scenario = scenarios.iter().find(|s| s.id == run.id);
        let why = format!(
            "token `{}` is not a run token (`cp` and 10 lowercase hex digits): not searched",
            run.token.escape_debug()
        );
        run.verification = Some(decide(run, scenario, Err(why), backend, now));
    }
    ok
}

#[cfg(test)]
#[path = "again_batch_tests.rs"]
mod tests;
