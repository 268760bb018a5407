//! Backends: where verification asks whether each hop was seen and alerted.
//!
//! A backend turns a batch of runs (tokens, hosts, time window) into its own
//! queries and returns normalised [`telemetry`](crate::telemetry) events and
//! alerts; it never decides verdicts — matching answers to hops lives in
//! [`verify`](crate::verify), once, for every backend. A backend that cannot
//! answer returns an error, which verification turns into `inconclusive`.
//!
//! Adding a backend touches: a folder `src/backend/<name>/` (config with
//! `deny_unknown_fields`, client, wire types, `tests.rs` passing the cases
//! of the `conformance` module's local servers), an entry in `api_backends!` and a
//! variant of [`AnyBackend`] here, a variant of `config::Profile` with its
//! `validate` and `build` arms, a commented profile in
//! `examples/chainproof.yaml`, and a section in `docs/backends.md`.

pub mod attribution;
pub mod auditd;
pub mod command;
#[cfg(test)]
mod conformance;
pub mod crowdstrike;
pub mod defender;
pub mod elastic;
mod error;
#[cfg(test)]
pub(crate) mod fake;
pub mod http;
pub mod local;
pub mod microsoft;
pub mod recorded;
pub mod sentinel;
pub mod splunk;
pub mod transcript;

use time::OffsetDateTime;

pub use error::{BackendError, ErrorKind, Said};

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
    /// When the alert was raised.
    pub at: OffsetDateTime,
    /// The event it fired on.
    pub event: Event,
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
}

/// Alerts raised by `rules` over the events of one run (the embedded
/// alerting layer of `local`, `auditd` and `recorded`), each carrying the
/// event it fired on and that event's time.
pub(crate) fn rule_alerts(
    rules: &crate::detect::Rules,
    events: &[Event],
    platform: crate::scenario::Platform,
) -> Vec<BackendAlert> {
    rules
        .evaluate_all(events, platform)
        .into_iter()
        .map(|(i, hit)| BackendAlert {
            rule_id: hit.rule_id,
            rule_title: hit.title,
            level: hit.level,
            tags: hit.tags,
            at: events[i].at.unwrap_or_else(OffsetDateTime::now_utc),
            event: events[i].clone(),
        })
        .collect()
}

/// What every backend does: prove it can answer, then answer a batch.
///
/// `check` is called once, before anything runs on the host: it proves
/// connectivity and credentials (an error stops the run). `query` answers
/// every run of the batch in order with the telemetry and alerts that
/// mention its token; one call is one poll round, so an implementation
/// sends one request per query kind for the whole batch (paging to the
/// end), escapes every value for its query language, and returns an error —
/// never an empty answer — when it could not ask.
pub trait Backend {
    /// Proves connectivity and credentials.
    fn check(&self) -> impl std::future::Future<Output = Result<(), BackendError>>;
    /// Answers for each run of the query, in order.
    fn query(
        &self,
        q: Query<'_>,
    ) -> impl std::future::Future<Output = Result<Vec<RunAnswer>, BackendError>>;
}

/// The API backends implement [`Backend`] with their own `check` and `query`.
macro_rules! api_backends {
    ($($t:ty),* $(,)?) => {$(
        impl Backend for $t {
            fn check(&self) -> impl std::future::Future<Output = Result<(), BackendError>> {
                <$t>::check(self)
            }
            fn query(&self, q: Query<'_>) -> impl std::future::Future<Output = Result<Vec<RunAnswer>, BackendError>> {
                <$t>::query(self, q)
            }
        }
    )*};
}

api_backends!(
    splunk::Splunk,
    elastic::Elastic,
    defender::Defender,
    sentinel::Sentinel,
    crowdstrike::CrowdStrike,
    command::Command,
    auditd::Auditd,
    recorded::Recorded,
);

impl Backend for local::Local {
    async fn check(&self) -> Result<(), BackendError> {
        Ok(())
    }
    async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        Ok(local::Local::query(self, q))
    }
}

/// Every backend, closed set.
#[derive(Debug)]
pub enum AnyBackend {
    /// The embedded backend (boxed: its compiled rules are large).
    Local(Box<local::Local>),
    /// Splunk.
    Splunk(Box<splunk::Splunk>),
    /// Elasticsearch / OpenSearch / Elastic Security / Wazuh indexer.
    Elastic(Box<elastic::Elastic>),
    /// Microsoft Defender XDR advanced hunting over Graph.
    Defender(Box<defender::Defender>),
    /// Microsoft Sentinel / Log Analytics.
    Sentinel(Box<sentinel::Sentinel>),
    /// CrowdStrike Falcon alerts.
    CrowdStrike(Box<crowdstrike::CrowdStrike>),
    /// An external program answering the documented JSON contract.
    Command(Box<command::Command>),
    /// The Linux kernel audit trail.
    Auditd(Box<auditd::Auditd>),
    /// Recorded telemetry (`verify --telemetry`).
    Recorded(Box<recorded::Recorded>),
    /// A scripted backend for the verifier's own tests.
    #[cfg(test)]
    Fake(fake::Fake),
}

impl AnyBackend {
    /// The backend a run verifies with: the named profile, or the local
    /// backend with `rules` when none is named. Not yet checked.
    pub fn chosen(
        profile: Option<&(String, crate::config::Profile)>,
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
        profile: Option<&(String, crate::config::Profile)>,
        rules: &crate::detect::Rules,
    ) -> crate::record::RuleSet {
        match profile {
            Some((name, _)) => crate::record::RuleSet {
                sources: vec![format!("the detection content of backend {name}")],
                count: 0,
                load: None,
            },
            None => crate::record::RuleSet {
                sources: rules.sources.clone(),
                count: rules.count,
                load: Some(rules.summary.to_record()),
            },
        }
    }

    /// Kind, as in the record.
    pub fn name(&self) -> &'static str {
        match self {
            AnyBackend::Local(_) => "local",
            AnyBackend::Splunk(_) => "splunk",
            AnyBackend::Elastic(_) => "elastic",
            AnyBackend::Defender(_) => "defender",
            AnyBackend::Sentinel(_) => "sentinel",
            AnyBackend::CrowdStrike(_) => "crowdstrike",
            AnyBackend::Command(_) => "command",
            AnyBackend::Auditd(_) => "auditd",
            AnyBackend::Recorded(_) => "recorded",
            #[cfg(test)]
            AnyBackend::Fake(_) => "fake",
        }
    }

    /// Whether answers can change over time (remote backends ingest with a
    /// lag, so verification polls them until a deadline).
    pub fn polls(&self) -> bool {
        !matches!(self, AnyBackend::Local(_) | AnyBackend::Recorded(_))
    }

    /// Proves connectivity and credentials.
    pub async fn check(&self) -> Result<(), BackendError> {
        match self {
            AnyBackend::Local(b) => Backend::check(b.as_ref()).await,
            AnyBackend::Splunk(b) => Backend::check(b.as_ref()).await,
            AnyBackend::Elastic(b) => Backend::check(b.as_ref()).await,
            AnyBackend::Defender(b) => Backend::check(b.as_ref()).await,
            AnyBackend::Sentinel(b) => Backend::check(b.as_ref()).await,
            AnyBackend::CrowdStrike(b) => Backend::check(b.as_ref()).await,
            AnyBackend::Command(b) => Backend::check(b.as_ref()).await,
            AnyBackend::Auditd(b) => Backend::check(b.as_ref()).await,
            AnyBackend::Recorded(b) => Backend::check(b.as_ref()).await,
            #[cfg(test)]
            AnyBackend::Fake(_) => Ok(()),
        }
    }

    /// Answers for each run of the query, in order.
    pub async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        match self {
            AnyBackend::Local(b) => Backend::query(b.as_ref(), q).await,
            AnyBackend::Splunk(b) => Backend::query(b.as_ref(), q).await,
            AnyBackend::Elastic(b) => Backend::query(b.as_ref(), q).await,
            AnyBackend::Defender(b) => Backend::query(b.as_ref(), q).await,
            AnyBackend::Sentinel(b) => Backend::query(b.as_ref(), q).await,
            AnyBackend::CrowdStrike(b) => Backend::query(b.as_ref(), q).await,
            AnyBackend::Command(b) => Backend::query(b.as_ref(), q).await,
            AnyBackend::Auditd(b) => Backend::query(b.as_ref(), q).await,
            AnyBackend::Recorded(b) => Backend::query(b.as_ref(), q).await,
            #[cfg(test)]
            AnyBackend::Fake(b) => b.query(q),
        }
    }
}
