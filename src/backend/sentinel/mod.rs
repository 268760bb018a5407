//! The `sentinel` backend: a Microsoft Sentinel (Log Analytics) workspace
//! through the query API (`POST {url}/v1/workspaces/{workspace_id}/query`,
//! body `{"query": "<KQL>", "timespan": "<start>/<end>"}`), authenticated
//! with the client-credentials tokens of [`super::microsoft`].
//!
//! Process telemetry comes from the table the profile names — Sysmon in
//! `Event`, Windows security event 4688 in `SecurityEvent`, or the Defender
//! tables exported to the workspace — and alerts from `SecurityAlert`.
//! Each poll round sends one query per kind covering every token; an answer
//! holds every row (there is no paging). A profile with
//! `mail_evidence: true` adds a third query, over the `EmailEvents` and
//! `EmailAttachmentInfo` tables the Microsoft Defender XDR connector
//! streams into the workspace ([`microsoft::mail`]); off by default, since
//! a workspace without them fails the round. Exercised only against a
//! local server shaped like the documented answers.

pub mod query;
pub mod wire;

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::attribution::{self, Window};
use super::microsoft::table::{self, Row};
use super::microsoft::{self, Client, kql, sensor};
use super::{BackendError, Query, RunAnswer};
use crate::secret::SecretRef;

/// Where process creations live in the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ProcessTable {
    /// Sysmon events 1 and 11 in `Event`, unpacked by `sysmon_query`.
    #[serde(rename = "sysmon")]
    Sysmon,
    /// Windows security event 4688 in `SecurityEvent`.
    #[serde(rename = "security-4688")]
    Security4688,
    /// Defender's `DeviceProcessEvents` and `DeviceFileEvents`.
    #[serde(rename = "device")]
    Device,
}

/// A `sentinel` profile.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SentinelConfig {
    /// Directory (tenant) id or domain.
    pub tenant_id: String,
    /// Application (client) id of an app with read access to the workspace.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: SecretRef,
    /// The workspace id (a GUID, "Workspace ID" in the portal).
    pub workspace_id: String,
    /// Where process creations live.
    pub process_table: ProcessTable,
    /// For `process_table: sysmon`: KQL yielding Sysmon-named columns
    /// (`TimeGenerated, Computer, EventID, Image, CommandLine, ProcessId,
    /// ParentProcessId, ParentImage, ParentCommandLine, User, TargetFilename`).
    #[serde(default = "default_sysmon")]
    pub sysmon_query: String,
    /// Log Analytics query API base URL.
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
    /// Also search `EmailEvents` with `EmailAttachmentInfo` for the runs'
    /// messages: one more query per round. Only for workspaces the
    /// Defender XDR connector feeds those tables (Defender for Office 365).
    #[serde(default)]
    pub mail_evidence: bool,
}

fn default_sysmon() -> String {
    query::DEFAULT_SYSMON.into()
}

fn default_url() -> String {
    "https://api.loganalytics.io".into()
}

fn default_scope() -> String {
    "https://api.loganalytics.io/.default".into()
}

impl SentinelConfig {
    /// Checks shape, no I/O.
    pub fn validate(&self) -> Result<(), String> {
        microsoft::validate_app(&microsoft::app_of!(self))?;
        let id_ok = !self.workspace_id.is_empty()
            && self
                .workspace_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !id_ok {
            return Err(format!(
                "workspace_id `{}` is not a workspace GUID",
                self.workspace_id.escape_debug()
            ));
        }
        if self.process_table == ProcessTable::Sysmon && self.sysmon_query.trim().is_empty() {
            return Err("sysmon_query is empty".into());
        }
        Ok(())
    }
}

/// A connected Sentinel backend.
#[derive(Debug)]
pub struct Sentinel {
    name: String,
    client: Client,
    config: SentinelConfig,
}

impl Sentinel {
    /// Where the HTTP exchanges are recorded.
    pub fn transcript(&self) -> &super::transcript::Transcript {
        self.client.transcript()
    }

    /// Builds the clients; reads the client secret.
    pub fn new(name: &str, config: &SentinelConfig) -> Result<Sentinel, BackendError> {
        let refuse = |message: String| BackendError::config(name, message);
        config.validate().map_err(refuse)?;
        Ok(Sentinel {
            name: name.into(),
            client: Client::connect(name, microsoft::app_of!(config))?,
            config: config.clone(),
        })
    }

    /// Proves the credentials, the workspace and the process table with a
    /// query that returns nothing.
    pub async fn check(&self) -> Result<(), BackendError> {
        let kql = query::check(self.config.process_table, &self.config.sysmon_query);
        self.run(&kql, "PT1H").await.map(|_| ())
    }

    /// Runs one query over `timespan`.
    async fn run(&self, kql: &str, timespan: &str) -> Result<Vec<Row>, BackendError> {
        let path = format!("/v1/workspaces/{}/query", self.config.workspace_id);
        let body = serde_json::json!({ "query": kql, "timespan": timespan });
        let answer = self.client.post_json(&path, &body).await?;
        table::parse_query(&answer).map_err(|kind| BackendError::new(self.name.clone(), kind))
    }

    fn error(&self, message: String) -> BackendError {
        BackendError::other(self.name.clone(), message)
    }

    /// One process query and one alert query for all runs of the query,
    /// and with `mail_evidence` one mail query, whose rows join the events.
    pub async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        if q.runs.is_empty() {
            return Ok(Vec::new());
        }
        let tokens: Vec<&str> = q.runs.iter().map(|r| r.token.as_str()).collect();
        let Window { from, to } = Window::of(q.runs);
        let table = self.config.process_table;
        let kql_error = |e: kql::KqlError| self.error(e.to_string());
        let events_kql = query::events(table, &self.config.sysmon_query, from, to, &tokens)
            .map_err(kql_error)?;
        let alerts_kql = query::alerts(from, to, &tokens).map_err(kql_error)?;
        let timespan = interval(from, to).map_err(|e| self.error(e))?;
        let mut events = self.run(&events_kql, &timespan).await?;
        if self.config.mail_evidence {
            let mail_kql =
                microsoft::mail::events("TimeGenerated", from, to, &tokens).map_err(kql_error)?;
            events.extend(self.run(&mail_kql, &timespan).await?);
        }
        let alerts = table::group_by(self.run(&alerts_kql, &timespan).await?, "SystemAlertId");
        let answered_at = Some(OffsetDateTime::now_utc());
        Ok(attribution::answers(
            q.runs,
            &events,
            &alerts,
            |r| {
                if microsoft::mail::is_mail_row(r) {
                    microsoft::mail::mail_event(r, "TimeGenerated")
                } else {
                    wire::event(table, r)
                }
            },
            wire::alert,
            answered_at,
        ))
    }
}

impl Sentinel {
    /// Why the profile's table can never hold a hop of `kind`: windows
    /// security event 4688 records process creation only, so a file landing
    /// on disk is never in `SecurityEvent`. The Sysmon (events 1 and 11)
    /// and device profiles hold both kinds. A message arriving is seen as
    /// the file the mailbox writes or in the mail tables, so with neither
    /// file events nor `mail_evidence` the mail hop cannot be held either.
    pub fn cannot_hold(&self, kind: crate::vocab::HopKind) -> Option<&'static str> {
        use crate::vocab::HopKind;
        match (self.config.process_table, kind) {
            (ProcessTable::Security4688, HopKind::File) => Some(
                "process_table security-4688 holds process creations (event 4688) only, no file events",
            ),
            (ProcessTable::Security4688, HopKind::Mail) if !self.config.mail_evidence => Some(
                "process_table security-4688 holds no file events (the delivered message) and mail_evidence is off",
            ),
            _ => None,
        }
    }

    /// Before runs: a process creation of the last hour in the profile's
    /// table (none means nothing feeds it: an error), and `SecurityAlert`
    /// readable (a query every round makes; a table the workspace lacks
    /// would leave every verdict inconclusive, so that stops too).
    pub async fn prerequisites(&self) -> Result<Vec<String>, BackendError> {
        let table = self.config.process_table;
        let what = match table {
            ProcessTable::Device => "DeviceProcessEvents",
            ProcessTable::Security4688 => "SecurityEvent (4688)",
            ProcessTable::Sysmon => "sysmon_query (event 1)",
        };
        let recent = query::recent_process(table, &self.config.sysmon_query);
        let events = self.run(&recent, "PT1H").await;
        let mut lines = vec![sensor::recent_events(
            &self.name,
            what,
            "process event",
            events,
        )?];
        let alerts = self.run(query::ALERTS_READABLE, "PT1H").await;
        lines.push(sensor::alerts_readable("SecurityAlert", alerts)?);
        Ok(lines)
    }
}

/// An ISO 8601 interval `start/end` in UTC.
fn interval(from: OffsetDateTime, to: OffsetDateTime) -> Result<String, String> {
    let utc = |t: OffsetDateTime| {
        t.to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(|e| format!("format the query timespan: {e}"))
    };
    Ok(format!("{}/{}", utc(from)?, utc(to)?))
}

inherent_backend!(Sentinel, "sentinel", polls: true, transcript {
    // Each row's own ingestion time, projected by the events query.
    const ARRIVAL: Option<&'static str> = Some("ingestion_time()");

    fn cannot_hold(&self, kind: crate::vocab::HopKind) -> Option<&'static str> {
        Sentinel::cannot_hold(self, kind)
    }

    fn prerequisites(
        &self,
    ) -> impl std::future::Future<Output = Result<Vec<String>, BackendError>> {
        Sentinel::prerequisites(self)
    }
});

impl super::Plugin for Sentinel {
    type Config = SentinelConfig;

    fn validate(c: &SentinelConfig) -> Result<(), String> {
        c.validate()
    }

    fn build(c: &SentinelConfig, ctx: super::Context<'_>) -> Result<Sentinel, BackendError> {
        Sentinel::new(ctx.name, c)
    }
}

#[cfg(test)]
mod tests;
