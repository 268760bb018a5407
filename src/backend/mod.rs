//! Backends: where verification asks whether each hop was seen and alerted.
//!
//! A backend turns a batch of runs (tokens, hosts, time window) into its own
//! queries and returns normalised [`telemetry`](crate::telemetry) events and
//! alerts; it never decides verdicts — matching answers to hops lives in
//! [`verify`](crate::verify), once, for every backend. A backend that cannot
//! answer returns an error, which verification turns into `inconclusive`.
//!
//! Adding a backend touches its folder `src/backend/<name>/` (a config type
//! with `deny_unknown_fields`, [`Plugin`] and [`Backend`] implementations,
//! client, wire types, tests passing the `conformance` suite) and ONE line
//! in the `backends!` list below, which generates the module declaration,
//! the config's [`Profile`] variant with its validation and building, and
//! the [`AnyBackend`] variant with its dispatch. Users also want a commented
//! profile in `examples/chainproof.yaml` and a section in `docs/backends.md`.

pub mod attribution;
#[cfg(test)]
mod conformance;
mod error;
pub mod http;
pub mod microsoft;
#[macro_use]
mod plugin;
pub mod transcript;

backends! {
    profiles {
        /// The embedded backend (ground truth + Sigma rules).
        Local {} => local::Local,
        /// Splunk REST export + ES notables.
        Splunk(splunk::SplunkConfig) => splunk::Splunk,
        /// Elasticsearch / OpenSearch `_search`, Elastic Security and Wazuh alerts.
        Elastic(elastic::ElasticConfig) => elastic::Elastic,
        /// Microsoft Defender XDR advanced hunting (Graph).
        Defender(defender::DefenderConfig) => defender::Defender,
        /// Microsoft Sentinel / Log Analytics query API.
        Sentinel(sentinel::SentinelConfig) => sentinel::Sentinel,
        /// CrowdStrike Falcon Alerts API v2.
        CrowdStrike(crowdstrike::CrowdStrikeConfig) => crowdstrike::CrowdStrike,
        /// An external program speaking the JSON contract of docs/command-backend.md.
        Command(command::CommandConfig) => command::Command,
        /// The Linux kernel audit trail (audit.log, ausearch --raw, laurel).
        Auditd(auditd::AuditdConfig) => auditd::Auditd,
        #[cfg(test)]
        Toy(toy::ToyConfig) => toy::Toy,
    }
    others {
        /// Recorded telemetry (`verify --telemetry`).
        Recorded => recorded::Recorded,
        /// A scripted backend for the verifier's own tests.
        #[cfg(test)]
        Fake => fake::Fake,
    }
}

use time::OffsetDateTime;

pub use error::{BackendError, ErrorKind, Said};
pub use plugin::{Context, NoConfig, Plugin, Tuned};

use crate::record::ScenarioRun;
use crate::telemetry::Event;

/// What a backend is asked: the runs to look for.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The runs, each with its token and ground truth.
    pub runs: &'a [ScenarioRun],
}

/// An alert as a backend reports it, with the event it fired on.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendAlert {
    /// Rule id.
    pub rule_id: Option<String>,
    /// Rule title.
    pub rule_title: String,
    /// Severity.
    pub level: Option<String>,
    /// ATT&CK tags.
    pub tags: Vec<String>,
    /// When the product says the alert was raised; `None` when its answer
    /// gives no time (the latency to it is then only bounded by polling —
    /// never the time the answer was read, passed off as the alert's).
    pub at: Option<OffsetDateTime>,
    /// The event it fired on.
    pub event: Event,
    /// What the product did about the alert's subject, as its API reports
    /// it (empty where it reports nothing or did nothing).
    pub responses: Vec<Response>,
}

/// One action a product reports having taken on an alert's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Whether the action stopped the process before it ran, or acted on
    /// it (or its file) afterwards.
    pub kind: ResponseKind,
    /// The product's own word for it ("Prevented", "Quarantined",
    /// "process killed"), shown as the product says it.
    pub action: String,
    /// When the product says it acted, where it says.
    pub at: Option<OffsetDateTime>,
}

/// What kind of response a product reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// The process was prevented from running: the chain stopped there.
    Blocked,
    /// The product acted on a process or file that had run (killed,
    /// quarantined, host isolated).
    Contained,
}

/// One run's answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunAnswer {
    /// Telemetry found for the run.
    pub events: Vec<Event>,
    /// Alerts that reference the run.
    pub alerts: Vec<BackendAlert>,
    /// When the backend answered.
    pub answered_at: Option<OffsetDateTime>,
    /// What the round's answer held that matched the search but that the
    /// attribution rule could tie to no run of the batch (the same for
    /// every run of one round): counted and sampled, never dropped.
    pub untied: Untied,
}

/// Rows of one round's answer tied to no run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Untied {
    /// How many rows.
    pub count: usize,
    /// A few of them, as the backend returned them (compact JSON).
    pub sample: Vec<String>,
}

/// Alerts raised by `rules` over the events of one run (the embedded
/// alerting layer of `local`, `auditd` and `recorded`), each carrying the
/// event it fired on and that event's time.
pub(crate) fn rule_alerts(
    rules: &crate::detect::Rules,
    events: &[Event],
    platform: crate::vocab::Platform,
) -> Vec<BackendAlert> {
    rules
        .evaluate_all(events, platform)
        .into_iter()
        .map(|(i, hit)| BackendAlert {
            responses: Vec::new(),
            rule_id: hit.rule_id,
            rule_title: hit.title,
            level: hit.level,
            tags: hit.tags,
            at: events[i].at,
            event: events[i].clone(),
        })
        .collect()
}

/// What every backend does: prove it can answer, then answer a batch.
///
/// `check` is called once, before anything runs on the host: it proves
/// connectivity and credentials (an error stops the run). `query` answers
/// every run of the batch in order with the telemetry and alerts that
/// mention its token ([`attribution`]); one call is one poll round, so an
/// implementation sends one request per query kind for the whole batch
/// (paging to the end), escapes every value for its query language, and
/// returns an error — never an empty answer — when it could not ask.
pub trait Backend {
    /// The backend's kind, as records name it.
    const NAME: &'static str;
    /// Whether answers can change over time (so verification polls).
    const POLLS: bool;
    /// Proves connectivity and credentials.
    fn check(&self) -> impl std::future::Future<Output = Result<(), BackendError>>;
    /// Answers for each run of the query, in order.
    fn query(
        &self,
        q: Query<'_>,
    ) -> impl std::future::Future<Output = Result<Vec<RunAnswer>, BackendError>>;
    /// Where the backend records the requests it sends (backends that
    /// send none have no transcript).
    fn transcript(&self) -> Option<&transcript::Transcript> {
        None
    }
    /// The field of the backend's answer that says when an event reached
    /// it (filled into [`Event::arrived`]), named in the report as what a
    /// latency is measured from; `None` when its answers carry no such
    /// time and latencies are only bounded by polling.
    const ARRIVAL: Option<&'static str> = None;
    /// How long the product may take to raise an alert once a chain's
    /// telemetry is in: the default quiet window (a profile's
    /// `alert_latency` overrides it) after which a negative control whose
    /// telemetry is complete and unalerted is settled. Two minutes for a
    /// remote product, whose detections run on its own schedule; zero for
    /// the backends whose alerts are chainproof's own rules evaluated with
    /// the events (`local`, `auditd`, recorded telemetry).
    const ALERT_LATENCY: std::time::Duration = std::time::Duration::from_secs(120);
    /// Why this backend's data can never hold a hop of `kind` (the
    /// Sentinel 4688 table has no file events), so verification says
    /// `not-visible` at once instead of polling for it; `None` when it can.
    fn cannot_hold(&self, kind: crate::vocab::HopKind) -> Option<&'static str> {
        let _ = kind;
        None
    }
    /// Checks, before anything runs, that the sensor and data behind the
    /// backend can see the runs about to happen (audit rules loaded, an
    /// index holding recent process events, the alert API in scope), and
    /// says what it could verify, one line each. An error stops the run
    /// (exit 3); the default verifies nothing and says so by saying nothing.
    fn prerequisites(
        &self,
    ) -> impl std::future::Future<Output = Result<Vec<String>, BackendError>> {
        async { Ok(Vec::new()) }
    }
}

impl AnyBackend {
    /// The backend a run verifies with: the named profile, or the local
    /// backend with `rules` when none is named. Not yet checked.
    pub fn chosen(
        profile: Option<&(String, Profile)>,
        rules: crate::detect::Rules,
    ) -> Result<AnyBackend, BackendError> {
        match profile {
            None => Ok(AnyBackend::Local(Box::new(local::Local::new(rules)))),
            Some((name, p)) => p.build(name, rules),
        }
    }

    /// What a record verified with that choice names as its rules: the
    /// rule files, or the backend's own detection content.
    pub fn rule_set(
        profile: Option<&(String, Profile)>,
        rules: &crate::detect::Rules,
    ) -> crate::record::RuleSet {
        match profile {
            Some((name, _)) => crate::record::RuleSet {
                sources: vec![format!("the detection content of backend {name}")],
                count: 0,
                load: None,
                blind: Vec::new(),
            },
            None => crate::record::RuleSet {
                sources: rules.sources.clone(),
                count: rules.count,
                load: Some(rules.summary.to_record()),
                blind: Vec::new(),
            },
        }
    }
}
