//! The `elastic` backend: Elasticsearch or OpenSearch `_search` over
//! configurable index patterns, for telemetry and for alerts — Elastic
//! Security detection alerts, or Wazuh alerts in the Wazuh indexer.
//!
//! Each poll round searches the events and then the alerts for every
//! pending token (Query DSL: a time `range` filter and a `wildcard` per
//! token and field, split into several searches when a batch would pass
//! the clause limit, `query.rs`), each paged with `search_after` within a
//! point-in-time where the cluster has one, until a page comes back empty
//! (`paging.rs`). A hit belongs to the run whose token appears in any
//! string of its `_source` (the one attribution rule). A field profile
//! maps the product's names to the Sysmon names verification reads.
//!
//! Exercised only against a local server shaped like the documented
//! answers, never against a real cluster.

mod alert;
mod config;
mod mapping;
mod paging;
mod prerequisites;
mod profile;
mod query;
mod search;
mod wire;

use std::sync::OnceLock;

use time::OffsetDateTime;

use super::attribution;
use super::http::{Http, HttpConfig};
use super::{BackendError, Query, RunAnswer};

pub use config::ElasticConfig;
pub use profile::FieldProfile;
pub use query::escape_wildcard;

use paging::Paging;

/// A connected Elasticsearch or OpenSearch backend.
#[derive(Debug)]
pub struct Elastic {
    name: String,
    http: Http,
    config: ElasticConfig,
    /// How this cluster pages, learnt from its `GET /` answer once.
    paging: OnceLock<Paging>,
}

impl Elastic {
    /// Where the HTTP exchanges are recorded.
    pub fn transcript(&self) -> &super::transcript::Transcript {
        self.http.transcript()
    }

    /// Validates the profile, reads the secrets, builds the client.
    pub fn new(name: &str, config: &ElasticConfig) -> Result<Elastic, BackendError> {
        let refuse = |message: String| BackendError::config(name, message);
        config.validate().map_err(refuse)?;
        let auth = config.auth.resolve().map_err(refuse)?;
        let http = HttpConfig {
            url: config.url.clone(),
            ca_file: config.ca_file.clone(),
            timeout: config.timeout,
            max_attempts: 4,
        };
        Ok(Elastic {
            name: name.into(),
            http: Http::new(name, &http, auth)?,
            config: config.clone(),
            paging: OnceLock::new(),
        })
    }

    fn error(&self, message: String) -> BackendError {
        BackendError::other(self.name.clone(), message)
    }

    /// Proves connectivity and credentials: `GET /` (cluster info) answers
    /// 2xx; its flavour and version decide the paging.
    pub async fn check(&self) -> Result<(), BackendError> {
        self.learn_paging().await.map(|_| ())
    }

    /// The paging of this cluster, asking `GET /` the first time (when
    /// [`Elastic::check`] has not).
    async fn paging(&self) -> Result<Paging, BackendError> {
        match self.paging.get() {
            Some(p) => Ok(*p),
            None => self.learn_paging().await,
        }
    }

    async fn learn_paging(&self) -> Result<Paging, BackendError> {
        let url = self.http.url("/");
        let info = self
            .http
            .send(|c| c.get(&url))
            .await
            .map_err(wire::explain)?;
        let paging = Paging::of(&info).map_err(|kind| {
            BackendError::new(self.name.clone(), kind).doing("read the cluster info")
        })?;
        // Two rounds racing here read the same answer: either value is right.
        let _ = self.paging.set(paging);
        Ok(paging)
    }

    /// The events and the alerts of every run of the query (each search
    /// paged to its end); one answer per run, in order.
    pub async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        if q.runs.is_empty() {
            return Ok(Vec::new());
        }
        let tokens: Vec<&str> = q.runs.iter().map(|r| r.token.as_str()).collect();
        let events = self
            .search_all(self.config.events_index(), &tokens, q)
            .await?;
        let alerts = self
            .search_all(self.config.alerts_index(), &tokens, q)
            .await?;
        let answered_at = Some(OffsetDateTime::now_utc());
        let profile = self.config.fields;
        Ok(attribution::answers(
            q.runs,
            &events,
            &alerts,
            |d| profile.event(d),
            |d, _| alert::alert(profile, d),
            answered_at,
        ))
    }
}

inherent_backend!(Elastic, "elastic", polls: true, transcript {
    const ARRIVAL: Option<&'static str> = Some("event.ingested");

    fn prerequisites(
        &self,
    ) -> impl std::future::Future<Output = Result<Vec<String>, BackendError>> {
        Elastic::prerequisites(self)
    }
});

impl super::Plugin for Elastic {
    type Config = ElasticConfig;

    fn validate(c: &ElasticConfig) -> Result<(), String> {
        c.validate()
    }

    fn build(c: &ElasticConfig, ctx: super::Context<'_>) -> Result<Elastic, BackendError> {
        Elastic::new(ctx.name, c)
    }
}

#[cfg(test)]
mod tests;
