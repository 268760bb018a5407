//! The telemetry a backend returned, recorded as JSON lines (`run --record`,
//! `telemetry.jsonl` in the report folder) so it can be replayed through
//! other rules later. One flat object per event: the Sysmon-style fields
//! the rules read, `EventID` 1 (process creation) or 11 (file event),
//! `UtcTime`, and `chainproof.*` keys tying it to its run and hop.

use serde_json::{Map, Value, json};

use crate::backend::RunAnswer;
use crate::record::RunRecord;
use crate::telemetry::Category;

/// Schema name in every line.
pub const SCHEMA: &str = "chainproof.telemetry/v1";

/// The JSON lines for `record`, from each run's last backend answer.
pub fn render(record: &RunRecord, answers: &[Option<RunAnswer>]) -> String {
    let mut out = String::new();
    for (run, answer) in record.scenarios.iter().zip(answers) {
        let Some(answer) = answer else { continue };
        let backend = run
            .verification
            .as_ref()
            .map(|v| v.backend.clone())
            .unwrap_or_default();
        for event in &answer.events {
            let hop = run
                .hops
                .iter()
                .find(|h| crate::verify::event_matches(event, h))
                .map(|h| h.index);
            let mut line = Map::new();
            line.insert("chainproof.schema".into(), json!(SCHEMA));
            line.insert("chainproof.token".into(), json!(run.token));
            line.insert("chainproof.scenario".into(), json!(run.id));
            line.insert("chainproof.platform".into(), json!(run.platform));
            line.insert("chainproof.backend".into(), json!(backend));
            line.insert("chainproof.hop".into(), json!(hop));
            let id = match event.category {
                Category::ProcessCreation => Some(1),
                Category::FileEvent => Some(11),
                // Keeps the EventID of its fields, if any.
                Category::Other => None,
            };
            if let Some(id) = id {
                line.insert("EventID".into(), json!(id));
            }
            if let Some(t) = event.at.and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            }) {
                line.insert("UtcTime".into(), json!(t));
            }
            for (k, v) in &event.fields {
                line.entry(k.clone()).or_insert_with(|| v.clone());
            }
            out.push_str(&Value::Object(line).to_string());
            out.push('\n');
        }
    }
    out
}
