//! The `elastic` backend: Elasticsearch or OpenSearch `_search` over
//! configurable index patterns, for telemetry and for alerts — Elastic
//! Security detection alerts, or Wazuh alerts in the Wazuh indexer.
//!
//! Each poll round sends one events search and one alerts search covering
//! every pending token (`POST /<pattern>/_search`, Query DSL: a time
//! `range` filter and a `wildcard` per token and field), each followed
//! page by page with `search_after` to the end. A hit belongs to the run
//! whose token appears in any string of its `_source`. A field profile
//! maps the product's names to the Sysmon names verification reads.
//!
//! Exercised only against a local server shaped like the documented
//! answers, never against a real cluster.

mod alert;
mod mapping;
mod profile;
mod query;
mod wire;

use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::attribution::{self, Window};
use super::http::{AuthConfig, Http, HttpConfig};
use super::{BackendError, Query, RunAnswer};

pub use profile::{FieldProfile, Kind};
pub use query::escape_wildcard;

/// Pages followed per search before the answer counts as too large to trust.
const MAX_PAGES: usize = 100;

/// The largest page Elasticsearch serves by default (`index.max_result_window`).
const MAX_PAGE_SIZE: u32 = 10_000;

/// An `elastic` profile.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ElasticConfig {
    /// Cluster endpoint, e.g. `https://es.lab:9200`.
    pub url: String,
    /// Extra CA certificate (PEM) to trust.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Timeout of one request.
    #[serde(default = "default_timeout", with = "crate::vocab::duration_text")]
    pub timeout: Duration,
    /// Authentication; Elastic API keys are `type: scheme`, `scheme: ApiKey`.
    pub auth: AuthConfig,
    /// How the documents name their fields, and which alerts they hold.
    #[serde(default)]
    pub fields: FieldProfile,
    /// Index pattern of the telemetry (default by profile: `logs-*`,
    /// `winlogbeat-*`, `wazuh-archives-4.x-*`).
    #[serde(default)]
    pub events_index: Option<String>,
    /// Index pattern of the alerts (default by profile:
    /// `.alerts-security.alerts-*`, or `wazuh-alerts-4.x-*` for `wazuh`).
    #[serde(default)]
    pub alerts_index: Option<String>,
    /// Hits per page.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

fn default_page_size() -> u32 {
    500
}

impl ElasticConfig {
    /// The events index pattern, the profile's default if none is set.
    pub fn events_index(&self) -> &str {
        self.events_index
            .as_deref()
            .unwrap_or(self.fields.default_events_index())
    }

    /// The alerts index pattern, the profile's default if none is set.
    pub fn alerts_index(&self) -> &str {
        self.alerts_index
            .as_deref()
            .unwrap_or(self.fields.default_alerts_index())
    }

    /// Checks shape, no I/O: index patterns fit in a URL path, the page
    /// size is one Elasticsearch serves, the auth references are sound.
    pub fn validate(&self) -> Result<(), String> {
        check_index("events_index", self.events_index())?;
        check_index("alerts_index", self.alerts_index())?;
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(format!(
                "page_size {} is outside 1..={MAX_PAGE_SIZE}",
                self.page_size
            ));
        }
        self.auth.validate()
    }
}

/// An index pattern goes into the URL path as is, so it may hold only
/// what index names and multi-target syntax use (`logs-*,-logs-x`,
/// `cluster:index`, `.alerts-*`).
fn check_index(field: &str, pattern: &str) -> Result<(), String> {
    let bad = pattern.chars().find(|c| {
        !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '*' | ',' | ':' | '+'))
    });
    if let Some(c) = bad {
        return Err(format!("{field} `{pattern}` holds {c:?}"));
    }
    if pattern.split(',').any(str::is_empty) {
        return Err(format!("{field} `{pattern}` has an empty index name"));
    }
    Ok(())
}

/// A connected Elasticsearch or OpenSearch backend.
#[derive(Debug)]
pub struct Elastic {
    name: String,
    http: Http,
    config: ElasticConfig,
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
        })
    }

    fn error(&self, message: String) -> BackendError {
        BackendError::other(self.name.clone(), message)
    }

    /// Proves connectivity and credentials: `GET /` (cluster info) answers 2xx.
    pub async fn check(&self) -> Result<(), BackendError> {
        let url = self.http.url("/");
        self.http
            .send(|c| c.get(&url))
            .await
            .map(|_| ())
            .map_err(wire::explain)
    }

    /// One events search and one alerts search (each paged to the end) for
    /// all runs of the query; one answer per run, in order.
    pub async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        if q.runs.is_empty() {
            return Ok(Vec::new());
        }
        let tokens: Vec<&str> = q.runs.iter().map(|r| r.token.as_str()).collect();
        let events = self
            .search_all(Kind::Events, self.config.events_index(), &tokens, q)
            .await?;
        let alerts = self
            .search_all(Kind::Alerts, self.config.alerts_index(), &tokens, q)
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

    /// Every hit's `_source` of one search, following `search_after` until
    /// a page comes back short.
    async fn search_all(
        &self,
        kind: Kind,
        index: &str,
        tokens: &[&str],
        q: Query<'_>,
    ) -> Result<Vec<Value>, BackendError> {
        let profile = self.config.fields;
        let search = query::search(
            tokens,
            profile.token_fields(),
            profile.time_field(),
            profile.tiebreaker(kind),
            {
                let w = Window::of(q.runs);
                (w.from, w.to)
            },
            self.config.page_size,
        )
        .map_err(|m| self.error(m))?;
        let url = self.http.url(&format!("/{index}/_search"));
        let page_size = usize::try_from(self.config.page_size).unwrap_or(usize::MAX);
        let mut docs = Vec::new();
        let mut after: Option<Vec<Value>> = None;
        for _ in 0..MAX_PAGES {
            let body = serde_json::to_vec(&search.page(after.as_deref()))
                .map(Bytes::from)
                .map_err(|e| self.error(format!("encode the search of {index}: {e}")))?;
            let answer = self
                .http
                .send(|c| {
                    c.post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                })
                .await
                .map_err(wire::explain)?;
            let hits = wire::parse_page(&answer).map_err(|kind| {
                BackendError::new(self.name.clone(), kind).doing(format!("search {index}"))
            })?;
            let full = hits.len() >= page_size;
            let next = hits.last().and_then(|h| h.sort.clone());
            docs.extend(hits.into_iter().map(|h| h.source));
            if !full {
                return Ok(docs);
            }
            let next = next.ok_or_else(|| {
                self.error(format!(
                    "search {index}: a full page ended in a hit without sort values"
                ))
            })?;
            if after.as_ref() == Some(&next) {
                return Err(self.error(format!(
                    "search {index}: paging did not advance past {next:?}"
                )));
            }
            after = Some(next);
        }
        Err(self.error(format!(
            "search {index}: more than {MAX_PAGES} pages of {page_size} hits; narrow the index pattern"
        )))
    }
}

inherent_backend!(Elastic, "elastic", polls: true, transcript);

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

#[cfg(test)]
mod config_tests {
    use super::*;

    const YAML: &str = "url: https://es.lab:9200\ntimeout: 20s\nauth: {type: scheme, scheme: ApiKey, credential: {env: ES_API_KEY}}\n";

    #[test]
    fn profiles_parse_with_defaults_and_refuse_unknown_fields() -> Result<(), serde_yaml_ng::Error>
    {
        let yaml = YAML;
        let cfg: ElasticConfig = serde_yaml_ng::from_str(yaml)?;
        assert_eq!(cfg.fields, FieldProfile::Ecs);
        assert_eq!(cfg.timeout, Duration::from_secs(20));
        assert_eq!(
            (cfg.events_index(), cfg.alerts_index()),
            ("logs-*", ".alerts-security.alerts-*")
        );
        assert_eq!(cfg.page_size, 500);
        assert_eq!(cfg.validate(), Ok(()));
        let wazuh: ElasticConfig = serde_yaml_ng::from_str(&format!(
            "{yaml}fields: wazuh\nalerts_index: wazuh-alerts-4.x-2026.*\npage_size: 100\n"
        ))?;
        assert_eq!(wazuh.events_index(), "wazuh-archives-4.x-*");
        assert_eq!(wazuh.alerts_index(), "wazuh-alerts-4.x-2026.*");
        assert!(serde_yaml_ng::from_str::<ElasticConfig>(&format!("{yaml}index: x\n")).is_err());
        assert!(
            serde_yaml_ng::from_str::<ElasticConfig>(&format!("{yaml}fields: sysmon\n")).is_err()
        );
        Ok(())
    }

    #[test]
    fn validation_refuses_unsafe_index_patterns_and_page_sizes() {
        let good: ElasticConfig = serde_yaml_ng::from_str(YAML).unwrap_or_else(|e| panic!("{e}"));
        for pattern in [
            "logs-*",
            "logs-*,-logs-x",
            "remote:logs-*",
            ".alerts-security.alerts-default",
        ] {
            let mut c = good.clone();
            c.events_index = Some(pattern.into());
            assert_eq!(c.validate(), Ok(()), "{pattern}");
        }
        for pattern in [
            "",
            "logs-*/_delete_by_query",
            "a b",
            "logs?x",
            "a,,b",
            "x#y",
            "é",
        ] {
            let mut c = good.clone();
            c.alerts_index = Some(pattern.into());
            assert!(c.validate().is_err(), "{pattern:?}");
        }
        for size in [0, 10_001] {
            let mut c = good.clone();
            c.page_size = size;
            assert!(c.validate().is_err(), "{size}");
        }
    }
}
