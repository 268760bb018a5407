//! The `recorded` backend: telemetry recorded earlier (`run --record`
//! recordings, EVTX, Sysmon JSON, audit logs — anything `telemetry::input` reads) as
//! the backend, and Sigma rules as the alerting layer. It lets CI verify a
//! recorded run against changed detection content without a lab:
//! `verify run.json --telemetry telemetry.jsonl --rules detections/`.

use std::path::PathBuf;

use super::attribution::Record;
use super::{BackendError, Query, RunAnswer};
use crate::detect::Rules;
use crate::telemetry::Event;
use crate::vocab::Platform;

/// The recorded backend.
#[derive(Debug)]
pub struct Recorded {
    events: Vec<(Event, Platform)>,
    rules: Rules,
}

impl Recorded {
    /// Loads every file (or folder) of `telemetry`; errors name the file.
    pub fn load(telemetry: &[PathBuf], rules: Rules) -> Result<Recorded, BackendError> {
        let mut events = Vec::new();
        for path in telemetry {
            let loaded = crate::telemetry::input::load(path)
                .map_err(|e| BackendError::other("recorded", e.to_string()))?;
            events.extend(loaded.events);
        }
        Ok(Recorded { events, rules })
    }
}

impl super::Backend for Recorded {
    const NAME: &'static str = "recorded";
    // Recorded telemetry never changes: one round is final.
    const POLLS: bool = false;
    // Alerts are chainproof's own rules, evaluated with the events.
    const ALERT_LATENCY: std::time::Duration = std::time::Duration::ZERO;

    /// Always answers: the telemetry is already here.
    async fn check(&self) -> Result<(), BackendError> {
        Ok(())
    }

    /// Each run's recorded events (those carrying its token) and the rules' alerts on them.
    async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        Ok(q.runs
            .iter()
            .map(|run| {
                let mine: Vec<&(Event, Platform)> = self
                    .events
                    .iter()
                    .filter(|(e, _)| e.mentions(&run.token))
                    .collect();
                let events: Vec<Event> = mine.into_iter().map(|(e, _)| e.clone()).collect();
                let alerts = super::rule_alerts(&self.rules, &events, run.platform);
                RunAnswer {
                    untied: Default::default(),
                    events,
                    alerts,
                    answered_at: None,
                }
            })
            .collect())
    }
}
