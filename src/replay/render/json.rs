//! `--format json`: one document, written at the end.
//!
//! `{schema, rules, inputs, summary, alerts, chains}` — see docs/replay.md.
//! It holds every alert and chain until the end, as any single document
//! must; for inputs with millions of alerts use [`super::ndjson`].

use std::io::{self, Write};

use serde::Serialize;

use super::{Finish, Guarded, Output, RuleReport, SCHEMA, summary_value, to_json};
use crate::replay::model::{Alert, Chain, InputStats, Sink};

/// The JSON document sink.
pub struct Json<'w> {
    out: Guarded<'w>,
    alerts: Vec<Alert>,
    chains: Vec<Chain>,
}

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    rules: &'a RuleReport,
    inputs: &'a [InputStats],
    summary: serde_json::Value,
    alerts: &'a [Alert],
    chains: &'a [Chain],
}

impl<'w> Json<'w> {
    /// A document sink writing to `out`.
    pub fn new(out: Box<dyn Write + 'w>) -> Json<'w> {
        Json {
            out: Guarded::new(out),
            alerts: Vec::new(),
            chains: Vec::new(),
        }
    }
}

impl Sink for Json<'_> {
    fn alert(&mut self, alert: &Alert) {
        self.alerts.push(alert.clone());
    }
    fn chain(&mut self, chain: &Chain) {
        self.chains.push(chain.clone());
    }
}

impl Output for Json<'_> {
    fn finish(&mut self, end: &Finish<'_>) -> io::Result<()> {
        let document = Document {
            schema: SCHEMA,
            rules: end.rules,
            inputs: &end.summary.inputs,
            summary: summary_value(end.summary)?,
            alerts: &self.alerts,
            chains: &self.chains,
        };
        let text = to_json(&document)?;
        self.out.write(&text);
        self.out.write("\n");
        self.out.finish()
    }
}
