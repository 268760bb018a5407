//! The `defender` backend: Microsoft Defender XDR advanced hunting through
//! Microsoft Graph (`POST {url}/v1.0/security/runHuntingQuery`, body
//! `{"Query": "<KQL>"}`), authenticated with an app's client-credentials
//! token (see [`super::microsoft`]).
//!
//! Each poll round sends exactly two hunting queries whatever the batch
//! size (three with `mail_evidence`, below) — process and file events (`DeviceProcessEvents` and
//! `DeviceFileEvents`), then alerts (`AlertEvidence` joined with
//! `AlertInfo`, one row per evidence, grouped back into one alert per
//! `AlertId`) — because the service allows about 45 calls a minute per
//! tenant. An answer holds every row (there is no paging). A profile
//! with `mail_evidence: true` adds a third query per round, over
//! `EmailEvents` with `EmailAttachmentInfo` ([`microsoft::mail`]): off by
//! default, because those tables exist only with Defender for Office 365
//! and a query naming a missing table fails the whole round. Exercised
//! only against a local server shaped like the documented answers.

pub mod query;
pub mod wire;

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;

use super::attribution::{self, Window};
use super::microsoft::{self, Client, kql, mail, sensor, table};
use super::{BackendError, Query, RunAnswer};
use crate::secret::SecretRef;

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
    #[serde(default = "microsoft::default_token_url")]
    pub token_url: String,
    /// Token scope.
    #[serde(default = "default_scope")]
    pub scope: String,
    /// Timeout of one request.
    #[serde(
        default = "microsoft::default_timeout",
        with = "crate::vocab::duration_text"
    )]
    pub timeout: Duration,
    /// Extra CA certificate (PEM) to trust.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Also search the mail tables (`EmailEvents`, `EmailAttachmentInfo`)
    /// for the runs' messages: one more query per round. Only for tenants
    /// with Defender for Office 365, where those tables exist.
    #[serde(default)]
    pub mail_evidence: bool,
}

fn default_url() -> String {
    "https://graph.microsoft.com".into()
}

fn default_scope() -> String {
    "https://graph.microsoft.com/.default".into()
}

impl DefenderConfig {
    /// Checks shape, no I/O.
    pub fn validate(&self) -> Result<(), String> {
        microsoft::validate_app(&microsoft::app_of!(self))
    }
}

/// A connected Defender backend.
#[derive(Debug)]
pub struct Defender {
    name: String,
    client: Client,
    mail_evidence: bool,
}

impl Defender {
    /// Where the HTTP exchanges are recorded.
    pub fn transcript(&self) -> &super::transcript::Transcript {
        self.client.transcript()
    }

    /// Builds the clients; reads the client secret.
    pub fn new(name: &str, config: &DefenderConfig) -> Result<Defender, BackendError> {
        let refuse = |message: String| BackendError::config(name, message);
        config.validate().map_err(refuse)?;
        Ok(Defender {
            name: name.into(),
            client: Client::connect(name, microsoft::app_of!(config))?,
            mail_evidence: config.mail_evidence,
        })
    }

    /// Proves the credentials and the hunting permission with a query that
    /// returns nothing.
    pub async fn check(&self) -> Result<(), BackendError> {
        self.hunt(query::CHECK).await.map(|_| ())
    }

    /// Runs one hunting query.
    async fn hunt(&self, kql: &str) -> Result<Vec<table::Row>, BackendError> {
        let answer = self
            .client
            .post_json(
                "/v1.0/security/runHuntingQuery",
                &serde_json::json!({ "Query": kql }),
            )
            .await?;
        table::parse_hunting(&answer).map_err(|kind| BackendError::new(self.name.clone(), kind))
    }

    /// One events query and one alerts query for all runs of the query,
    /// and with `mail_evidence` one mail query, whose rows join the events.
    pub async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        if q.runs.is_empty() {
            return Ok(Vec::new());
        }
        let tokens: Vec<&str> = q.runs.iter().map(|r| r.token.as_str()).collect();
        let Window { from, to } = Window::of(q.runs);
        let refuse = |e: kql::KqlError| BackendError::other(self.name.clone(), e.to_string());
        let events_kql = query::events("Timestamp", from, to, &tokens).map_err(refuse)?;
        let alerts_kql = query::alerts(from, to, &tokens).map_err(refuse)?;
        let mut events = self.hunt(&events_kql).await?;
        if self.mail_evidence {
            let mail_kql = mail::events("Timestamp", from, to, &tokens).map_err(refuse)?;
            events.extend(self.hunt(&mail_kql).await?);
        }
        let alerts = table::group_by(self.hunt(&alerts_kql).await?, "AlertId");
        let answered_at = Some(OffsetDateTime::now_utc());
        Ok(attribution::answers(
            q.runs,
            &events,
            &alerts,
            |r| {
                if mail::is_mail_row(r) {
                    mail::mail_event(r, "Timestamp")
                } else {
                    microsoft::device::device_event(r, "Timestamp")
                }
            },
            wire::alert,
            answered_at,
        ))
    }

    /// Before runs: a process event of the last hour in
    /// `DeviceProcessEvents` (none means no onboarded device reports, so
    /// nothing could be seen: an error), and the alert tables readable.
    pub async fn prerequisites(&self) -> Result<Vec<String>, BackendError> {
        let events = self.hunt(query::RECENT_PROCESS).await;
        let mut lines = vec![sensor::recent_events(
            &self.name,
            "DeviceProcessEvents",
            "process event",
            events,
        )?];
        let alerts = self.hunt(query::ALERTS_READABLE).await;
        lines.push(sensor::alerts_readable(
            "AlertInfo and AlertEvidence",
            alerts,
        )?);
        Ok(lines)
    }
}

inherent_backend!(Defender, "defender", polls: true, transcript {
    // Each row's own ingestion time, projected by the events query.
    const ARRIVAL: Option<&'static str> = Some("ingestion_time()");

    fn prerequisites(
        &self,
    ) -> impl std::future::Future<Output = Result<Vec<String>, BackendError>> {
        Defender::prerequisites(self)
    }
});

impl super::Plugin for Defender {
    type Config = DefenderConfig;

    fn validate(c: &DefenderConfig) -> Result<(), String> {
        c.validate()
    }

    fn build(c: &DefenderConfig, ctx: super::Context<'_>) -> Result<Defender, BackendError> {
        Defender::new(ctx.name, c)
    }
}

#[cfg(test)]
mod tests;
