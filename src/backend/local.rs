//! The embedded `local` backend: the run's own ground truth is the
//! telemetry, and Sigma rules (the shipped `detections/` or the user's
//! folders) are the alerting layer. Needs no service; it shows what the
//! rules catch when telemetry is perfect.

use super::{BackendError, Query, RunAnswer};
use crate::detect::Rules;
use crate::record::ScenarioRun;
use crate::telemetry::{self, Event};

/// The local backend.
#[derive(Debug)]
pub struct Local {
    rules: Rules,
}

impl Local {
    /// A local backend alerting with `rules`.
    pub fn new(rules: Rules) -> Local {
        Local { rules }
    }

    /// The rules it alerts with.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Telemetry and alerts for each run.
    pub fn query(&self, q: Query<'_>) -> Vec<RunAnswer> {
        q.runs.iter().map(|run| self.answer(run)).collect()
    }

    fn answer(&self, run: &ScenarioRun) -> RunAnswer {
        let events = events_of(run);
        // An inline engine alerts as the event arrives: alerts carry the
        // event's own time, not when this run got round to evaluating it.
        let alerts = super::rule_alerts(&self.rules, &events, run.platform);
        RunAnswer {
            untied: Default::default(),
            events,
            alerts,
            // The ground truth is the telemetry: no ingestion delay to report.
            answered_at: None,
        }
    }
}

impl super::Backend for Local {
    const NAME: &'static str = "local";
    // The ground truth is already complete when verification starts.
    const POLLS: bool = false;
    // Alerts are chainproof's own rules, evaluated with the events.
    const ALERT_LATENCY: std::time::Duration = std::time::Duration::ZERO;

    async fn check(&self) -> Result<(), BackendError> {
        Ok(())
    }

    async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        Ok(Local::query(self, q))
    }
}

impl super::Plugin for Local {
    type Config = super::NoConfig;

    fn validate(_: &super::NoConfig) -> Result<(), String> {
        Ok(())
    }

    fn build(_: &super::NoConfig, ctx: super::Context<'_>) -> Result<Local, BackendError> {
        Ok(Local::new(ctx.rules))
    }
}

/// The ground truth of `run` as telemetry: one process event per process
/// (with its parent's image and command line), one file event per file.
pub fn events_of(run: &ScenarioRun) -> Vec<Event> {
    let procs = &run.truth.processes;
    let mut events: Vec<Event> = procs
        .iter()
        .flat_map(|p| {
            let parent = procs.iter().find(|q| q.pid == p.ppid);
            telemetry::exec_views(p)
                .into_iter()
                .map(move |e| telemetry::process_event(p, e, parent, None))
        })
        .collect();
    let downloader = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    for f in &run.truth.files {
        let writer = f.writer.as_deref().unwrap_or(&downloader);
        events.push(telemetry::file_event(f, writer, None));
    }
    events
}
