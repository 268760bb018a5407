//! What can be verified of the sensor behind an `elastic` profile before
//! anything runs: the events index pattern resolves to at least one index
//! and holds a process event of the last hour, and the alerts index is
//! readable. Two `size: 0` searches, no document read.
//!
//! An index that cannot be searched (missing, refused, unreachable) stops
//! the run (exit 3), and so does an events pattern matching no index: no
//! hop could ever be found there. No process event in the last hour is
//! said, not a stop — a quiet lab host writes none — and an alerts pattern
//! matching no index is said too, since Elastic Security creates its
//! alerts index with the first alert.

use bytes::Bytes;
use serde_json::{Value, json};

use super::{Elastic, wire};
use crate::backend::BackendError;

impl Elastic {
    /// One line per thing verified; an error when the telemetry cannot be
    /// searched.
    pub async fn prerequisites(&self) -> Result<Vec<String>, BackendError> {
        let events = self.config.events_index();
        let alerts = self.config.alerts_index();
        let profile = self.config.fields;
        let recent = json!({ "bool": { "filter": [
            profile.process_filter(),
            { "range": { profile.time_field(): { "gte": "now-1h" } } },
        ] } });
        let (shards, total) = self
            .count(events, recent)
            .await
            .map_err(|e| e.doing(format!("count the last hour's process events in {events}")))?;
        if shards == Some(0) {
            return Err(self.error(format!(
                "events_index `{events}` matches no index: no hop of a run could be found; \
                 check the pattern and that the sensor ships there"
            )));
        }
        let mut lines = vec![match shards {
            Some(n) => format!("events index {events} resolves ({n} shards searched)"),
            None => format!("events index {events} answers"),
        }];
        lines.push(if total > 0 {
            format!("{events} holds a process event of the last hour")
        } else {
            format!(
                "{events} holds no process event of the last hour: the sensor may not be \
                 shipping (a quiet host writes none, so the runs go ahead)"
            )
        });
        let (shards, _) = self
            .count(alerts, json!({ "match_all": {} }))
            .await
            .map_err(|e| e.doing(format!("read the alerts index {alerts}")))?;
        lines.push(if shards == Some(0) {
            format!(
                "alerts index {alerts} is readable but matches no index yet (Elastic \
                 Security creates it with the first alert)"
            )
        } else {
            format!("alerts index {alerts} is readable")
        });
        Ok(lines)
    }

    /// `(shards searched, hits up to 1)` of `query` over `index`; the
    /// shards are unknown when the answer leaves out `_shards`.
    async fn count(&self, index: &str, query: Value) -> Result<(Option<u64>, u64), BackendError> {
        // `track_total_hits: 1` stops counting at the first hit: existence
        // is all the check needs.
        let body = json!({ "size": 0, "track_total_hits": 1, "query": query });
        let body = serde_json::to_vec(&body)
            .map(Bytes::from)
            .map_err(|e| self.error(format!("encode the count of {index}: {e}")))?;
        let url = self.http.url(&format!("/{index}/_search"));
        let answer = self
            .http
            .send(|c| {
                c.post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
            })
            .await
            .map_err(wire::explain)?;
        let page =
            wire::parse_page(&answer).map_err(|kind| BackendError::new(self.name.clone(), kind))?;
        Ok((page.shards, page.total.unwrap_or(0)))
    }
}
