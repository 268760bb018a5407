//! The `crowdstrike` backend: CrowdStrike Falcon's Alerts API v2, with an
//! OAuth2 client-credentials token.
//!
//! Per poll round (`round`): the ids of the alerts that mention the
//! pending runs' tokens — every token ORed into a few FQL filters, each
//! within a length bound, sent in parallel and followed page by page to the
//! end (`GET /alerts/queries/alerts/v2`) — then the alerts themselves
//! (`POST /alerts/entities/alerts/v2`, in batches). `tie` gives each run
//! the alerts the attribution rule ties to it; an alert's process, parent
//! and grandparent become the run's process events, since Falcon exposes no
//! raw telemetry through this API — a hop is `observed` only when an alert
//! names it, and a file hop can never be (`cannot_hold`).
//!
//! Exercised only against a local server shaped like Falcon's documented
//! answers, never a real tenant.

mod client;
mod disposition;
mod fql;
mod round;
mod tie;
mod wire;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;

use super::attribution::Window;
use super::http::{Auth, Http, HttpConfig};
use super::{BackendError, ErrorKind, Query, RunAnswer};
use crate::secret::SecretRef;
use crate::vocab::HopKind;
use client::Client;

use fql::token;
#[cfg(test)]
use round::{ENTITIES, ENTITY_BATCH, IDS};

pub use fql::TokenSearch;

/// Why Falcon's Alerts API never holds a file hop.
const NO_FILE_EVENTS: &str = "CrowdStrike's Alerts API returns detections on processes, \
     not file-creation telemetry: a file landing on disk is never in its answers";

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
    /// How the token is looked for: `cmdline` (an FQL wildcard on the
    /// alert's command line, many tokens per query; the default) or `text`
    /// (the `q` free-text search, one query per token).
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
    /// Shared with the parallel requests of a round.
    client: Arc<Client>,
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
            client: Arc::new(Client::new(name, http, config.client_id.clone(), secret)),
            config: config.clone(),
        })
    }

    /// Proves the credentials and the Alerts scope: a token, then one id query.
    pub async fn check(&self) -> Result<(), BackendError> {
        self.alerts_visible(None).await.map(|_| ())
    }

    /// How many alerts an id query for those created since `since` (all
    /// time when `None`) matches, as Falcon counts them; `None` when the
    /// answer states no total. A refusal (401, 403: no Alerts read scope)
    /// is an error.
    async fn alerts_visible(
        &self,
        since: Option<OffsetDateTime>,
    ) -> Result<Option<u64>, BackendError> {
        let url = self.client.url(round::IDS);
        let mut params = vec![("limit", "1".to_string())];
        if let Some(since) = since {
            params.push((
                "filter",
                format!("created_timestamp:>={}", fql::timestamp(since)),
            ));
        }
        let body = self
            .client
            .api("query alert ids", |c| c.get(&url).query(&params))
            .await?;
        wire::page::<String>(&body, "the alert-id query")
            .map(|p| p.total)
            .map_err(|e| self.client.error(e))
    }

    /// What the API can tell before anything runs: the client's token and
    /// Alerts read scope (a one-id query), and how many alerts of the last
    /// day it can see. Falcon's Alerts API exposes no raw telemetry, so
    /// whether a sensor reports process events cannot be asked here.
    pub async fn sensor_ready(&self) -> Result<Vec<String>, BackendError> {
        let day = OffsetDateTime::now_utc() - time::Duration::days(1);
        let total = self.alerts_visible(Some(day)).await?;
        let seen = total.map_or_else(
            || "the answer states no total".to_string(),
            |n| format!("{n} alert(s) created in the last 24 hours visible"),
        );
        Ok(vec![format!(
            "alerts: the API client obtained a token and may read alerts \
             (Alerts read scope; an alert-id query answered); {seen}"
        )])
    }

    /// One round: every pending token's alert ids (a few FQL filters, in
    /// parallel, all pages), the alerts, then each run's share of them.
    pub async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        let mut tokens: Vec<&str> = Vec::new();
        for run in q.runs {
            let t = token(&run.token).map_err(|e| self.client.error(ErrorKind::Other(e)))?;
            if !tokens.contains(&t) {
                tokens.push(t);
            }
        }
        let ask = round::Ask {
            search: self.config.token_search,
            tokens: &tokens,
            since: Window::of(q.runs).from,
            extra: self.config.filter.as_deref(),
            page_size: self.config.page_size,
        };
        let alerts = round::alerts(&self.client, &ask).await?;
        let answered_at = Some(OffsetDateTime::now_utc());
        Ok(tie::answers(q.runs, &alerts, answered_at))
    }
}

inherent_backend!(CrowdStrike, "crowdstrike", polls: true, transcript {
    /// An alert's `created_timestamp`: when Falcon created the alert that
    /// carries the events (they reach the API no earlier).
    const ARRIVAL: Option<&'static str> = Some("created_timestamp");

    fn cannot_hold(&self, kind: HopKind) -> Option<&'static str> {
        match kind {
            HopKind::Mail | HopKind::File => Some(NO_FILE_EVENTS),
            HopKind::Open | HopKind::Spawn => None,
        }
    }

    fn prerequisites(
        &self,
    ) -> impl std::future::Future<Output = Result<Vec<String>, BackendError>> {
        self.sensor_ready()
    }
});

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
