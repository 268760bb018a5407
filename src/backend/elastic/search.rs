//! One kind's searches for a batch, paged until a page comes back empty.
//!
//! A page shorter than the size asked for is not the last: a cluster (or
//! a proxy in front of it) may cap the page size, and taking a short page
//! for the end would leave every later hit — every hop — `missed`. Only
//! an empty page ends a search; the point-in-time, where there is one, is
//! closed afterwards, after a failure too, except when the cluster cannot
//! be reached (asking again would only delay the error; the PIT expires
//! after its keep-alive). The close is recorded like every request; its
//! failure does not spoil hits already complete.

use std::collections::HashSet;

use bytes::Bytes;
use serde_json::Value;

use super::paging::{Paging, PitApi};
use super::query::{self, Search};
use super::{Elastic, wire};
use crate::backend::attribution::Window;
use crate::backend::{BackendError, ErrorKind, Query};

/// Pages followed per search before the answer counts as too large to trust.
const MAX_PAGES: usize = 100;

/// The documents of a kind's searches, each once: a document holding
/// tokens of two slices of a batch is found by both searches.
#[derive(Default)]
struct Found {
    docs: Vec<Value>,
    seen: HashSet<(String, String)>,
}

impl Found {
    fn extend(&mut self, hits: Vec<wire::Hit>) {
        for hit in hits {
            if let Some(key) = hit.key
                && !self.seen.insert(key)
            {
                continue;
            }
            self.docs.push(hit.source);
        }
    }
}

impl Elastic {
    /// Every `_source` matching the batch's tokens in `index`.
    pub(super) async fn search_all(
        &self,
        index: &str,
        tokens: &[&str],
        q: Query<'_>,
    ) -> Result<Vec<Value>, BackendError> {
        let paging = self.paging().await?;
        let profile = self.config.fields;
        let window = Window::of(q.runs);
        let searches = query::searches(
            tokens,
            profile.token_fields(),
            profile.time_field(),
            &paging.tiebreaker(),
            (window.from, window.to),
            self.config.page_size,
        )
        .map_err(|m| self.error(m))?;
        let mut found = Found::default();
        match paging {
            Paging::ById => {
                let url = self.http.url(&format!("/{index}/_search"));
                for search in &searches {
                    self.pages(&url, index, search, None, &mut found).await?;
                }
            }
            Paging::Pit(api) => {
                let mut pit = self.open_pit(api, index).await?;
                let url = self.http.url("/_search");
                let mut result = Ok(());
                for search in &searches {
                    result = self
                        .pages(&url, index, search, Some(&mut pit), &mut found)
                        .await;
                    if result.is_err() {
                        break;
                    }
                }
                let unreachable = matches!(&result, Err(e) if matches!(
                    e.kind,
                    ErrorKind::Timeout { .. } | ErrorKind::Connection { .. }
                ));
                if !unreachable {
                    self.close_pit(api, &pit).await;
                }
                result?;
            }
        }
        Ok(found.docs)
    }

    /// Pages of one search until an empty one; `pit` is updated to the
    /// newest id each answer gives (the documented contract).
    async fn pages(
        &self,
        url: &str,
        index: &str,
        search: &Search,
        mut pit: Option<&mut String>,
        found: &mut Found,
    ) -> Result<(), BackendError> {
        let mut after: Option<Vec<Value>> = None;
        for _ in 0..MAX_PAGES {
            let page = search.page(after.as_deref(), pit.as_deref().map(String::as_str));
            let body = serde_json::to_vec(&page)
                .map(Bytes::from)
                .map_err(|e| self.error(format!("encode the search of {index}: {e}")))?;
            let answer = self
                .http
                .send(|c| {
                    c.post(url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                })
                .await
                .map_err(wire::explain)?;
            let page = wire::parse_page(&answer).map_err(|kind| {
                BackendError::new(self.name.clone(), kind).doing(format!("search {index}"))
            })?;
            if let (Some(slot), Some(newer)) = (pit.as_deref_mut(), page.pit_id.clone()) {
                *slot = newer;
            }
            let Some(last) = page.hits.last() else {
                return Ok(());
            };
            let next = last.sort.clone().ok_or_else(|| {
                self.error(format!(
                    "search {index}: a page ended in a hit without sort values"
                ))
            })?;
            if after.as_ref() == Some(&next) {
                return Err(self.error(format!(
                    "search {index}: paging did not advance past {next:?}"
                )));
            }
            found.extend(page.hits);
            after = Some(next);
        }
        Err(self.error(format!(
            "search {index}: more than {MAX_PAGES} pages of up to {} hits; narrow the index pattern",
            self.config.page_size
        )))
    }

    async fn open_pit(&self, api: PitApi, index: &str) -> Result<String, BackendError> {
        let url = self.http.url(&api.open_path(index));
        let answer =
            self.http.send(|c| c.post(&url)).await.map_err(|e| {
                wire::explain(e).doing(format!("open a point-in-time over {index}"))
            })?;
        api.opened(&answer).map_err(|kind| {
            BackendError::new(self.name.clone(), kind)
                .doing(format!("open a point-in-time over {index}"))
        })
    }

    /// Closes the PIT `id`; the outcome is in the transcript, and a PIT
    /// left open expires after its keep-alive.
    async fn close_pit(&self, api: PitApi, id: &str) {
        let (path, body) = api.close(id);
        let url = self.http.url(path);
        let Ok(body) = serde_json::to_vec(&body).map(Bytes::from) else {
            return;
        };
        let _ = self
            .http
            .send(|c| {
                c.delete(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
            })
            .await;
    }
}
