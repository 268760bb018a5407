//! A scripted backend for testing the verifier: each query returns the next
//! scripted answer (the last repeats) and is counted with its batch size.

use std::sync::Mutex;

use super::{BackendError, Query, RunAnswer};

/// One scripted round: an answer builder per run, or a failure.
pub type Round = Result<fn(&crate::record::ScenarioRun) -> RunAnswer, String>;

/// The fake backend.
#[derive(Debug, Default)]
pub struct Fake {
    script: Mutex<Vec<Round>>,
    /// Batch size of every query received, in order.
    pub calls: Mutex<Vec<usize>>,
    /// How long each query takes to answer (tokio's clock).
    delay: std::time::Duration,
    /// Hop kinds it declares it can never hold, with why.
    blind: Vec<(crate::vocab::HopKind, &'static str)>,
}

impl Fake {
    /// A backend answering `script`.
    pub fn new(script: Vec<Round>) -> Fake {
        Fake {
            script: Mutex::new(script),
            calls: Mutex::default(),
            delay: std::time::Duration::ZERO,
            blind: Vec::new(),
        }
    }

    /// The same backend, declaring it can never hold a hop of `kind`.
    pub fn blind(mut self, kind: crate::vocab::HopKind, why: &'static str) -> Fake {
        self.blind.push((kind, why));
        self
    }

    /// The same backend, taking `delay` to answer each query.
    pub fn slow(self, delay: std::time::Duration) -> Fake {
        Fake { delay, ..self }
    }

    /// Answers the next scripted round.
    pub fn answer(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        if let Ok(mut c) = self.calls.lock() {
            c.push(q.runs.len());
        }
        let round = {
            let mut s = self
                .script
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if s.len() > 1 {
                s.remove(0)
            } else {
                s.first().cloned().unwrap_or(Err("no script".into()))
            }
        };
        match round {
            Ok(f) => Ok(q.runs.iter().map(f).collect()),
            Err(message) => Err(BackendError::other("fake", message)),
        }
    }
}

impl super::Backend for Fake {
    const NAME: &'static str = "fake";
    const POLLS: bool = true;
    // Scripted answers fill `Event::arrived` where a test wants a measured latency.
    const ARRIVAL: Option<&'static str> = Some("arrived");

    fn cannot_hold(&self, kind: crate::vocab::HopKind) -> Option<&'static str> {
        self.blind
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, why)| *why)
    }

    async fn check(&self) -> Result<(), BackendError> {
        Ok(())
    }

    async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
        tokio::time::sleep(self.delay).await;
        self.answer(q)
    }
}
