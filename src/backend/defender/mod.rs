//! The `defender` backend: Microsoft Defender XDR advanced hunting through
//! Microsoft Graph (`POST {url}/v1.0/security/runHuntingQuery`, body
//! `{"Query": "<KQL>"}`), authenticated with an app's client-credentials
//! token (see [`token`]).
//!
//! Each poll round sends exactly two hunting queries whatever the batch
//! size — process and file events (`DeviceProcessEvents` and
//! `DeviceFileEvents`), then alerts (`AlertEvidence` joined with
//! `AlertInfo`) — because the service allows about 45 calls a minute per
//! tenant. An answer holds every row (there is no paging). Exercised only
//! against a local server shaped like the documented answers.

pub mod attack;
pub mod query;
pub mod token;
pub mod wire;

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;

use super::http::Http;
use super::{BackendError, Query, RunAnswer};
use crate::secret::SecretRef;
use token::TokenSource;

/// A `defender` profile.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DefenderConfig {
    /// Directory (tenant) id or domain.
    pub tenant_id: String,
    /// Application (client) id of the app granted `ThreatHunting.Read.All`.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: SecretRef,
    /// Microsoft Graph base URL.
    #[serde(default = "default_url")]
    pub url: String,
    /// Identity platform base URL (the tenant and `/oauth2/v2.0/token` follow).
    #[serde(default = "default_token_url")]
    pub token_url: String,
    /// Token scope.
    #[serde(default = "default_scope")]
    pub scope: String,
    /// Timeout of one request.
    #[serde(default = "default_timeout", with = "crate::scenario::duration_text")]
    pub timeout: Duration,
    /// Extra CA certificate (PEM) to trust.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_url() -> String {
    "https://graph.microsoft.com".into()
}

fn default_token_url() -> String {
    token::MICROSOFT_LOGIN.into()
}

fn default_scope() -> String {
    "https://graph.microsoft.com/.default".into()
}

fn default_timeout() -> Duration {
    Duration::from_secs(60)
}

impl DefenderConfig {
    /// Checks shape, no I/O.
    pub fn validate(&self) -> Result<(), String> {
        token::validate_tenant(&self.tenant_id)?;
        if self.client_id.trim().is_empty() {
            return Err("client_id is empty".into());
        }
        self.client_secret
            .validate()
            .map_err(|e| format!("client_secret: {e}"))
    }
}

/// A connected Defender backend.
#[derive(Debug)]
pub struct Defender {
    name: String,
    http: Http,
    tokens: TokenSource,
}

impl Defender {
    /// Builds the clients; reads the client secret.
    pub fn new(name: &str, config: &DefenderConfig) -> Result<Defender, BackendError> {
        let refuse = |message: String| BackendError::config(name, message);
        config.validate().map_err(refuse)?;
        let (tokens, http) = token::connect(
            name,
            token::MicrosoftApp {
                tenant_id: &config.tenant_id,
                client_id: &config.client_id,
                client_secret: &config.client_secret,
                token_url: &config.token_url,
                scope: &config.scope,
                url: &config.url,
                ca_file: config.ca_file.as_deref(),
                timeout: config.timeout,
            },
        )?;
        Ok(Defender {
            name: name.into(),
            http,
            tokens,
        })
    }

    /// Proves the credentials and the hunting permission with a query that
    /// returns nothing.
    pub async fn check(&self) -> Result<(), BackendError> {
        self.hunt(query::CHECK).await.map(|_| ())
    }

    /// Runs one hunting query.
    async fn hunt(&self, kql: &str) -> Result<Vec<wire::Row>, BackendError> {
        let token = self.tokens.token().await?;
        let url = self.http.url("/v1.0/security/runHuntingQuery");
        let body = serde_json::json!({ "Query": kql }).to_string();
        let answer = self
            .http
            .send(|c| {
                c.post(&url)
                    .bearer_auth(token.expose())
                    .header("content-type", "application/json; charset=utf-8")
                    .body(body.clone())
            })
            .await?;
        wire::parse_hunting(&answer).map_err(|kind| BackendError::new(self.name.clone(), kind))
    }

    /// One events query and one alerts query for all runs of the query.
    pub async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        if q.runs.is_empty() {
            return Ok(Vec::new());
        }
        let tokens: Vec<&str> = q.runs.iter().map(|r| r.token.as_str()).collect();
        let (from, to) = window(q);
        let refuse =
            |e: super::kql::KqlError| BackendError::other(self.name.clone(), e.to_string());
        let events_kql = query::events("Timestamp", from, to, &tokens).map_err(refuse)?;
        let alerts_kql = query::alerts(from, to, &tokens).map_err(refuse)?;
        let events = self.hunt(&events_kql).await?;
        let alerts = self.hunt(&alerts_kql).await?;
        let answered_at = Some(OffsetDateTime::now_utc());
        Ok(q.runs
            .iter()
            .map(|run| {
                let mine = |row: &&wire::Row| wire::mentions(row, &run.token);
                RunAnswer {
                    events: events
                        .iter()
                        .filter(mine)
                        .map(|r| wire::device_event(r, "Timestamp"))
                        .collect(),
                    alerts: alerts.iter().filter(mine).map(wire::alert).collect(),
                    answered_at,
                }
            })
            .collect())
    }
}

/// The searched window: from a minute before the earliest run to a minute
/// from now (host clocks drift).
pub fn window(q: Query<'_>) -> (OffsetDateTime, OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    let slack = time::Duration::minutes(1);
    let first = q.runs.iter().map(|r| r.started_at).min().unwrap_or(now);
    (first - slack, now + slack)
}

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod tests;
