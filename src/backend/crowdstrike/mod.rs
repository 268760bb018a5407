//! The `crowdstrike` backend: CrowdStrike Falcon's Alerts API v2, with an
//! OAuth2 client-credentials token.
//!
//! Per poll round: the ids of the alerts that mention each run token
//! (`GET /alerts/queries/alerts/v2`, followed page by page to the end), then
//! the alerts themselves for every token at once
//! (`POST /alerts/entities/alerts/v2`, in batches). An alert belongs to the
//! runs whose token appears in it; its process, parent and grandparent
//! become the run's process events, since Falcon exposes no raw telemetry
//! through this API — a hop is `observed` only when an alert names it.
//!
//! The id query takes one free-text string, so there is one id query per
//! token; everything after it is batched. Exercised only against a local
//! server shaped like Falcon's documented answers, never a real tenant.

mod client;
mod fql;
mod wire;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;

use super::attribution::{Record, Window};
use super::http::{Auth, Http, HttpConfig};
use super::{BackendError, ErrorKind, Query, RunAnswer};
use crate::secret::SecretRef;
use client::Client;

use fql::{id_query, token};

pub use fql::TokenSearch;

/// Path of the alert-id query.
const IDS: &str = "/alerts/queries/alerts/v2";
/// Path of the alert entities.
const ENTITIES: &str = "/alerts/entities/alerts/v2";
/// Composite ids per entities request.
const ENTITY_BATCH: usize = 500;
/// Most ids followed for one token (the id query's documented page limit).
const MAX_IDS: usize = 10_000;

/// A `crowdstrike` profile.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CrowdStrikeConfig {
    /// API base URL of the tenant's cloud (US-1 by default; e.g.
    /// `https://api.eu-1.crowdstrike.com`).
    #[serde(default = "default_url")]
    pub url: String,
    /// OAuth2 API client id (not a secret).
    pub client_id: String,
    /// OAuth2 API client secret.
    pub client_secret: SecretRef,
    /// Extra CA certificate (PEM) to trust.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Timeout of one request.
    #[serde(default = "default_timeout", with = "crate::vocab::duration_text")]
    pub timeout: Duration,
    /// Alert ids per page of the id query (1 to 10000).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// How the token is looked for: `text` (the `q` free-text search) or
    /// `cmdline` (an FQL wildcard on the alert's command line).
    #[serde(default)]
    pub token_search: TokenSearch,
    /// Extra FQL ANDed to every id query, e.g. `device.hostname:'lab-win-01'`
    /// (from the config, so trusted and sent as written).
    #[serde(default)]
    pub filter: Option<String>,
}

fn default_url() -> String {
    "https://api.crowdstrike.com".into()
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

fn default_page_size() -> u32 {
    500
}

impl CrowdStrikeConfig {
    /// Checks the profile's shape (no I/O).
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=10_000).contains(&self.page_size) {
            return Err(format!(
                "`page_size` {} is outside 1..=10000",
                self.page_size
            ));
        }
        if self.client_id.trim().is_empty() {
            return Err("`client_id` is empty".into());
        }
        if self
            .filter
            .as_deref()
            .is_some_and(|f| f.chars().any(char::is_control))
        {
            return Err("`filter` holds a control character".into());
        }
        self.client_secret
            .validate()
            .map_err(|e| format!("`client_secret`: {e}"))
    }
}

/// A connected Falcon backend.
#[derive(Debug)]
pub struct CrowdStrike {
    client: Client,
    config: CrowdStrikeConfig,
}

impl CrowdStrike {
    /// Where the HTTP exchanges are recorded.
    pub fn transcript(&self) -> &super::transcript::Transcript {
        self.client.transcript()
    }

    /// Checks the profile, reads the client secret and builds the HTTP client.
    pub fn new(name: &str, config: &CrowdStrikeConfig) -> Result<CrowdStrike, BackendError> {
        let err = |message: String| BackendError::config(name, message);
        config.validate().map_err(err)?;
        let secret = config
            .client_secret
            .resolve()
            .map_err(|e| err(format!("`client_secret`: {e}")))?;
        let http = HttpConfig {
            url: config.url.clone(),
            ca_file: config.ca_file.clone(),
            timeout: config.timeout,
            max_attempts: client::ATTEMPTS,
        };
        let http = Http::new(name, &http, Auth::None)?;
        Ok(CrowdStrike {
            client: Client::new(name, http, config.client_id.clone(), secret),
            config: config.clone(),
        })
    }

    /// Proves the credentials and the Alerts scope: a token, then one id query.
    pub async fn check(&self) -> Result<(), BackendError> {
        let url = self.client.url(IDS);
        let body = self
            .client
            .api("query alert ids", |c| c.get(&url).query(&[("limit", "1")]))
            .await?;
        wire::page::<String>(&body, "the alert-id query")
            .map(|_| ())
            .map_err(|e| self.client.error(e))
    }

    /// Every alert id that mentions `token` since `since`, all pages.
    async fn ids(&self, token: &str, since: OffsetDateTime) -> Result<Vec<String>, BackendError> {
        let url = self.client.url(IDS);
        let mut ids = Vec::new();
        loop {
            let params = id_query(
                self.config.token_search,
                token,
                since,
                self.config.filter.as_deref(),
                ids.len(),
                self.config.page_size,
            )
            .map_err(|e| self.client.error(ErrorKind::Other(e)))?;
            let body = self
                .client
                .api("query alert ids", |c| c.get(&url).query(&params))
                .await?;
            let page = wire::page::<String>(&body, "the alert-id query")
                .map_err(|e| self.client.error(e))?;
            let got = page.resources.len();
            ids.extend(page.resources);
            let more = match page.total {
                Some(total) => (ids.len() as u64) < total,
                None => got == self.config.page_size as usize,
            };
            if got == 0 || !more {
                return Ok(ids);
            }
            if ids.len() >= MAX_IDS {
                return Err(self.client.error(ErrorKind::Other(format!(
                    "more than {MAX_IDS} alerts mention token {token}; narrow them with `filter`"
                ))));
            }
        }
    }

    /// The alerts of `ids`, in batches.
    async fn alerts(&self, ids: &[String]) -> Result<Vec<wire::Alert>, BackendError> {
        let url = self.client.url(ENTITIES);
        let mut alerts = Vec::new();
        for batch in ids.chunks(ENTITY_BATCH) {
            let body = serde_json::to_vec(&serde_json::json!({ "composite_ids": batch })).map_err(
                |e| {
                    self.client
                        .error(ErrorKind::Other(format!("encode the alert request: {e}")))
                },
            )?;
            let answer = self
                .client
                .api("fetch alerts", |c| {
                    c.post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                })
                .await?;
            let page = wire::page::<wire::Alert>(&answer, "the alert request")
                .map_err(|e| self.client.error(e))?;
            alerts.extend(page.resources);
        }
        Ok(alerts)
    }

    /// One id query per token (all pages), then the alerts in batches.
    pub async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        for run in q.runs {
            token(&run.token).map_err(|e| self.client.error(ErrorKind::Other(e)))?;
        }
        let since = Window::of(q.runs).from;
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        for run in q.runs {
            for id in self.ids(&run.token, since).await? {
                if seen.insert(id.clone()) {
                    ids.push(id);
                }
            }
        }
        let alerts = self.alerts(&ids).await?;
        let answered_at = Some(OffsetDateTime::now_utc());
        Ok(q.runs
            .iter()
            .map(|run| {
                let mut answer = RunAnswer {
                    answered_at,
                    ..RunAnswer::default()
                };
                for a in &alerts {
                    if !a.mentions(&run.token) {
                        continue;
                    }
                    let (alert, events) = wire::alert(a, run);
                    answer.alerts.push(alert);
                    for e in events {
                        if !answer.events.contains(&e) {
                            answer.events.push(e);
                        }
                    }
                }
                answer
            })
            .collect())
    }
}

inherent_backend!(CrowdStrike, "crowdstrike", polls: true, transcript);

impl super::Plugin for CrowdStrike {
    type Config = CrowdStrikeConfig;

    fn validate(c: &CrowdStrikeConfig) -> Result<(), String> {
        c.validate()
    }

    fn build(c: &CrowdStrikeConfig, ctx: super::Context<'_>) -> Result<CrowdStrike, BackendError> {
        CrowdStrike::new(ctx.name, c)
    }
}

#[cfg(test)]
mod tests;
