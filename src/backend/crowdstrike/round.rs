//! One poll round against Falcon: the id queries of every pending token
//! (as few filters as [`fql::searches`] makes), each paged to the end, then
//! the alerts of all their ids in batches — every request of a stage sent
//! at most [`CONCURRENCY`] at a time.
//!
//! Parallel requests share the client's token and its rate-limit pause, so
//! a 429 or an exhausted window holds back every request, not only the one
//! that saw it. This module fetches; tying alerts to runs is [`super::tie`].

use std::future::Future;
use std::sync::Arc;

use time::OffsetDateTime;
use tokio::task::JoinSet;

use super::client::Client;
use super::fql::{self, TokenSearch};
use super::wire;
use crate::backend::{BackendError, ErrorKind};

/// Path of the alert-id query.
pub const IDS: &str = "/alerts/queries/alerts/v2";
/// Path of the alert entities.
pub const ENTITIES: &str = "/alerts/entities/alerts/v2";
/// Composite ids per entities request.
pub const ENTITY_BATCH: usize = 500;
/// Most ids one id query may match (its documented `offset` + `limit`
/// ceiling); past it the query is refused rather than cut short.
const MAX_IDS: usize = 10_000;
/// Requests in flight at once. Falcon documents 6,000 requests a minute
/// per customer account; four at a time stays far below it and leaves room
/// for other API clients of the same account.
pub const CONCURRENCY: usize = 4;

/// What a round asks.
pub struct Ask<'a> {
    /// How tokens are searched.
    pub search: TokenSearch,
    /// The distinct tokens of the pending runs (already checked).
    pub tokens: &'a [&'a str],
    /// Start of the search window.
    pub since: OffsetDateTime,
    /// The operator's extra FQL.
    pub extra: Option<&'a str>,
    /// Ids per page.
    pub page_size: u32,
}

/// Every alert the round's queries match, each once.
pub async fn alerts(client: &Arc<Client>, ask: &Ask<'_>) -> Result<Vec<wire::Alert>, BackendError> {
    let searches = fql::searches(ask.search, ask.tokens, ask.since, ask.extra)
        .map_err(|e| client.error(ErrorKind::Other(e)))?;
    let page_size = ask.page_size;
    let pages = in_parallel(client, searches, |c, params| ids(c, params, page_size)).await?;
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<String> = pages
        .into_iter()
        .flatten()
        .filter(|id| seen.insert(id.clone()))
        .collect();
    let batches: Vec<Vec<String>> = ids.chunks(ENTITY_BATCH).map(<[String]>::to_vec).collect();
    let alerts = in_parallel(client, batches, entities).await?;
    Ok(alerts.into_iter().flatten().collect())
}

/// Every alert id one search matches, all pages.
async fn ids(
    client: Arc<Client>,
    params: Vec<(&'static str, String)>,
    page_size: u32,
) -> Result<Vec<String>, BackendError> {
    let url = client.url(IDS);
    let mut ids = Vec::new();
    loop {
        let mut page_params = params.clone();
        page_params.push(("offset", ids.len().to_string()));
        page_params.push(("limit", page_size.to_string()));
        let body = client
            .api("query alert ids", |c| c.get(&url).query(&page_params))
            .await?;
        let page =
            wire::page::<String>(&body, "the alert-id query").map_err(|e| client.error(e))?;
        let got = page.resources.len();
        ids.extend(page.resources);
        let more = match page.total {
            Some(total) => (ids.len() as u64) < total,
            None => got == page_size as usize,
        };
        if got == 0 || !more {
            return Ok(ids);
        }
        if ids.len() >= MAX_IDS {
            return Err(client.error(ErrorKind::Other(format!(
                "more than {MAX_IDS} alerts match one id query; narrow them with `filter`"
            ))));
        }
    }
}

/// The alerts of one batch of ids.
async fn entities(
    client: Arc<Client>,
    batch: Vec<String>,
) -> Result<Vec<wire::Alert>, BackendError> {
    let url = client.url(ENTITIES);
    let body = serde_json::to_vec(&serde_json::json!({ "composite_ids": batch }))
        .map_err(|e| client.error(ErrorKind::Other(format!("encode the alert request: {e}"))))?;
    let answer = client
        .api("fetch alerts", |c| {
            c.post(&url)
                .header("content-type", "application/json")
                .body(body.clone())
        })
        .await?;
    wire::page::<wire::Alert>(&answer, "the alert request")
        .map(|p| p.resources)
        .map_err(|e| client.error(e))
}

/// `run` over every item, [`CONCURRENCY`] at a time, results in the
/// items' order. The first error ends the stage: the requests still in
/// flight are dropped with the task set.
async fn in_parallel<I, T, F, Fut>(
    client: &Arc<Client>,
    items: Vec<I>,
    run: F,
) -> Result<Vec<T>, BackendError>
where
    I: Send + 'static,
    T: Send + 'static,
    F: Fn(Arc<Client>, I) -> Fut,
    Fut: Future<Output = Result<T, BackendError>> + Send + 'static,
{
    let mut results: Vec<Option<T>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    let mut items = items.into_iter().enumerate();
    let mut tasks = JoinSet::new();
    loop {
        while tasks.len() < CONCURRENCY {
            let Some((i, item)) = items.next() else { break };
            let request = run(client.clone(), item);
            tasks.spawn(async move { (i, request.await) });
        }
        let Some(done) = tasks.join_next().await else {
            break;
        };
        let (i, result) = done.map_err(|e| {
            client.error(ErrorKind::Other(format!(
                "a parallel request was lost: {e}"
            )))
        })?;
        results[i] = Some(result?);
    }
    Ok(results.into_iter().flatten().collect())
}
