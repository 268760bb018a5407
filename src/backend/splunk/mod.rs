//! The `splunk` backend: Splunk's REST export endpoint
//! (`POST /services/search/v2/jobs/export`, form-encoded, `output_mode=json`,
//! one JSON object per line) for process and file events with Sysmon field
//! names, and Enterprise Security notables (the `notable` macro) for alerts.
//!
//! One export per query kind per poll round covers every pending token.
//! Exercised only against a local server shaped like Splunk's documented
//! answers, never against a real Splunk.

mod query;
mod wire;

use serde::Deserialize;
use time::OffsetDateTime;

use super::attribution::{self, Window};
use super::http::{AuthConfig, Http, HttpConfig};
use super::microsoft::sensor;
use super::{BackendAlert, BackendError, Query, RunAnswer};
use crate::telemetry::{Category, Event};

pub use query::{escape_spl, events_search, notables_search};

/// A `splunk` profile.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SplunkConfig {
    /// Management endpoint, e.g. `https://splunk.lab:8089`.
    pub url: String,
    /// Extra CA certificate (PEM) to trust.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Timeout of one request.
    #[serde(default = "default_timeout", with = "crate::vocab::duration_text")]
    pub timeout: std::time::Duration,
    /// Authentication.
    pub auth: AuthConfig,
    /// SPL that selects process-creation and file-creation events, before the
    /// token filter (default: Sysmon EventCode 1 and 11 in any index).
    #[serde(default = "default_events")]
    pub events_search: String,
    /// SPL that selects alerts (default: the ES `notable` macro).
    #[serde(default = "default_notables")]
    pub notables_search: String,
}

fn default_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(30)
}

fn default_events() -> String {
    "search index=* (EventCode=1 OR EventCode=11)".into()
}

fn default_notables() -> String {
    "search `notable`".into()
}

/// A connected Splunk backend.
#[derive(Debug)]
pub struct Splunk {
    name: String,
    http: Http,
    config: SplunkConfig,
}

impl Splunk {
    /// Where the HTTP exchanges are recorded.
    pub fn transcript(&self) -> &super::transcript::Transcript {
        self.http.transcript()
    }

    /// Builds the client; reads the secrets.
    pub fn new(name: &str, config: &SplunkConfig) -> Result<Splunk, BackendError> {
        let auth = config
            .auth
            .resolve()
            .map_err(|message| BackendError::config(name, message))?;
        let http = HttpConfig {
            url: config.url.clone(),
            ca_file: config.ca_file.clone(),
            timeout: config.timeout,
            max_attempts: 4,
        };
        Ok(Splunk {
            name: name.into(),
            http: Http::new(name, &http, auth)?,
            config: config.clone(),
        })
    }

    /// Proves connectivity and credentials with a search that returns nothing.
    pub async fn check(&self) -> Result<(), BackendError> {
        self.export("| makeresults count=0", None).await.map(|_| ())
    }

    async fn export(
        &self,
        search: &str,
        window: Option<(&str, &str)>,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, BackendError> {
        let url = self.http.url("/services/search/v2/jobs/export");
        let mut form = vec![
            ("search".to_string(), search.to_string()),
            ("output_mode".into(), "json".into()),
        ];
        if let Some((from, to)) = window {
            form.push(("earliest_time".into(), from.into()));
            form.push(("latest_time".into(), to.into()));
        }
        let body = self.http.send(|c| c.post(&url).form(&form)).await?;
        wire::parse_export(&body).map_err(|kind| BackendError::new(self.name.clone(), kind))
    }

    /// One events export and one notables export for all runs of the query.
    pub async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        let tokens: Vec<&str> = q.runs.iter().map(|r| r.token.as_str()).collect();
        let w = Window::of(q.runs);
        let (from, to) = (
            w.from.unix_timestamp().to_string(),
            w.to.unix_timestamp().to_string(),
        );
        let window = (from.as_str(), to.as_str());
        let refuse = |message: String| BackendError::other(self.name.clone(), message);
        let events_spl = events_search(&self.config.events_search, &tokens).map_err(refuse)?;
        let notables_spl =
            notables_search(&self.config.notables_search, &tokens).map_err(refuse)?;
        let events = self.export(&events_spl, Some(window)).await?;
        let notables = self.export(&notables_spl, Some(window)).await?;
        let answered_at = Some(OffsetDateTime::now_utc());
        Ok(attribution::answers(
            q.runs,
            &events,
            &notables,
            wire::event,
            |row, _| wire::notable(row),
            answered_at,
        ))
    }
}

/// Builds an alert from a notable row; the event is what the notable says
/// of the process, with the Sysmon names the hop matching uses.
pub(crate) fn alert_from(
    row: &serde_json::Map<String, serde_json::Value>,
    at: Option<OffsetDateTime>,
) -> BackendAlert {
    let text = |k: &str| wire::text(row, k);
    let techniques: Vec<String> = [
        "annotations.mitre_attack",
        "mitre_technique_id",
        "technique",
    ]
    .iter()
    .flat_map(|k| wire::texts(row, k))
    .map(|t| format!("attack.{}", t.to_lowercase()))
    .collect();
    let mut tags = techniques;
    for tactic in wire::texts(row, "annotations.mitre_attack.mitre_tactic") {
        tags.push(format!(
            "attack.{}",
            tactic.to_lowercase().replace(' ', "-")
        ));
    }
    let mut fields = serde_json::Map::new();
    for (from, to) in [
        ("process_id", "ProcessId"),
        ("process_path", "Image"),
        ("process", "CommandLine"),
        ("parent_process_id", "ParentProcessId"),
    ] {
        if let Some(v) = row.get(from) {
            let v = match (to, v.as_str().and_then(|s| s.parse::<u64>().ok())) {
                ("ProcessId" | "ParentProcessId", Some(n)) => serde_json::json!(n),
                _ => v.clone(),
            };
            fields.insert(to.into(), v);
        }
    }
    BackendAlert {
        responses: Vec::new(),
        rule_id: text("rule_id").or_else(|| text("orig_sid")),
        rule_title: text("rule_name")
            .or_else(|| text("search_name"))
            .unwrap_or_else(|| "notable".into()),
        level: text("severity").or_else(|| text("urgency")),
        tags,
        at,
        event: Event {
            category: Category::ProcessCreation,
            arrived: None,
            at,
            hop: None,
            fields,
        },
    }
}

impl Splunk {
    /// Before runs: `events_search` found an event in the last hour (none
    /// means no process or file event reaches the index this account can
    /// read, so no hop could be seen: an error), and `notables_search` runs
    /// (a missing `notable` macro fails every round's notables export).
    /// When the first search meets a passing failure (a 5xx, a timeout),
    /// the second is not tried: the service is not answering.
    pub async fn prerequisites(&self) -> Result<Vec<String>, BackendError> {
        let last_hour = Some(("-1h", "now"));
        let events = self
            .export(&query::count_search(&self.config.events_search), last_hour)
            .await;
        let passing = events.as_ref().is_err_and(|e| !sensor::lasting(e));
        let mut lines = vec![sensor::recent_events(
            &self.name,
            "events_search",
            "process or file event",
            events,
        )?];
        if passing {
            lines.push("notables_search: not verified to run (the service did not answer)".into());
            return Ok(lines);
        }
        let notables = self
            .export(
                &query::count_search(&self.config.notables_search),
                last_hour,
            )
            .await;
        lines.push(sensor::alerts_readable("notables_search", notables)?);
        Ok(lines)
    }
}

inherent_backend!(Splunk, "splunk", polls: true, transcript {
    // The events export tables `_indextime` into each row.
    const ARRIVAL: Option<&'static str> = Some("_indextime");

    fn prerequisites(
        &self,
    ) -> impl std::future::Future<Output = Result<Vec<String>, BackendError>> {
        Splunk::prerequisites(self)
    }
});

impl super::Plugin for Splunk {
    type Config = SplunkConfig;

    fn validate(c: &SplunkConfig) -> Result<(), String> {
        c.auth.validate()
    }

    fn build(c: &SplunkConfig, ctx: super::Context<'_>) -> Result<Splunk, BackendError> {
        Splunk::new(ctx.name, c)
    }
}

#[cfg(test)]
mod tests;
