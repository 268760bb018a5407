//! Replay's output: [`Sink`]s that write alerts and chains as evaluation
//! produces them, then the counts once it ends ([`Output::finish`]).
//!
//! Three formats, one per file: [`table`] for people (chains with their
//! alerts, alerts outside chains listed, counts), [`json`] one document for
//! tools that read the whole answer, [`ndjson`] one object per line that
//! never holds alerts in memory (the format for large inputs and
//! benchmarks). Each writes to any [`Write`]; the CLI hands them stdout.
//!
//! Every string that came from telemetry or a rule (command lines, titles,
//! paths) is attacker-like: text goes through [`crate::term::safe`], JSON
//! through [`crate::term::json_safe`], here, so the output is safe whatever
//! writer it reaches. Nothing here evaluates or decides an exit code.

pub mod json;
pub mod ndjson;
pub mod table;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::model::{Alert, Chain, Sink, Summary};
use crate::detect::Rules;
use crate::detect::load::{Reason, Summary as LoadSummary};

/// Identifies the JSON document and tags ndjson's `summary` line; bump on a
/// breaking change.
pub const SCHEMA: &str = "chainproof.replay/v1";

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned text for a terminal.
    #[default]
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line, streamed.
    Ndjson,
}

/// What the rule load read, loaded and refused, as the machine formats
/// write it (`rules` in JSON, the `rules` line in ndjson).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleReport {
    /// The rule folders (or `<embedded>/detections`).
    pub sources: Vec<String>,
    /// Rules loaded.
    pub loaded: usize,
    /// Rule files read.
    pub files: usize,
    /// Every refused rule or file.
    pub refused: Vec<RefusalView>,
    /// Refusals counted by reason (`parse`, `aggregation`, `correlation`,
    /// `compile`, `filter`, `input`).
    pub by_reason: BTreeMap<Reason, usize>,
    /// The one-line summary the table prints.
    #[serde(skip)]
    pub line: String,
}

/// One refusal with its path as text (a path that is not UTF-8 must not
/// make the whole document fail to serialise).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefusalView {
    /// The rule file.
    pub path: String,
    /// The rule's id or title, absent when the whole file was refused.
    pub rule: Option<String>,
    /// Why, as a class.
    pub reason: Reason,
    /// The parser's or engine's words.
    pub message: String,
}

impl RuleReport {
    /// The report of a loaded rule set.
    pub fn of(rules: &Rules) -> RuleReport {
        RuleReport::from_parts(&rules.sources, &rules.summary)
    }

    /// The report of a load summary from `sources`.
    pub fn from_parts(sources: &[String], summary: &LoadSummary) -> RuleReport {
        RuleReport {
            sources: sources.to_vec(),
            loaded: summary.loaded,
            files: summary.files,
            refused: summary
                .refused
                .iter()
                .map(|r| RefusalView {
                    path: r.path.display().to_string(),
                    rule: r.rule.clone(),
                    reason: r.reason,
                    message: r.message.clone(),
                })
                .collect(),
            by_reason: summary.by_reason(),
            line: summary.line(),
        }
    }
}

/// What is known once a replay ended.
#[derive(Debug, Clone, Copy)]
pub struct Finish<'a> {
    /// The replay's counts.
    pub summary: &'a Summary,
    /// The rule load.
    pub rules: &'a RuleReport,
}

/// A sink that writes a format: alerts and chains as they come, the rest
/// at [`Output::finish`].
pub trait Output: Sink {
    /// Writes what only the end knows and flushes; returns the first write
    /// error met since the sink was made (later writes are skipped once one
    /// failed).
    fn finish(&mut self, end: &Finish<'_>) -> io::Result<()>;
}

/// The sink for `format`, writing to `out`.
pub fn output<'w>(
    format: Format,
    out: Box<dyn Write + 'w>,
    table: table::Options,
) -> Box<dyn Output + 'w> {
    match format {
        Format::Table => Box::new(table::Table::new(out, table)),
        Format::Json => Box::new(json::Json::new(out)),
        Format::Ndjson => Box::new(ndjson::Ndjson::new(out)),
    }
}

/// Passes every alert on, and only the chains a rule fired in: what the
/// machine formats write unless `--all-chains` asks for every chain. A
/// million records make a million quiet processes; written out they cost
/// more than the replay (230 MB of ndjson for the benchmark's 1M records),
/// and the summary counts them anyway (`chains`, `alerted_chains`).
pub struct AlertedChains<'a>(pub &'a mut dyn Sink);

impl Sink for AlertedChains<'_> {
    fn alert(&mut self, alert: &Alert) {
        self.0.alert(alert);
    }
    fn chain(&mut self, chain: &Chain) {
        if chain.alerted() {
            self.0.chain(chain);
        }
    }
}

/// Hands every alert and chain to each of its sinks in turn (the output and
/// the `--fail-on` watch, say).
pub struct Tee<'a>(pub Vec<&'a mut dyn Sink>);

impl Sink for Tee<'_> {
    fn alert(&mut self, alert: &Alert) {
        for s in &mut self.0 {
            s.alert(alert);
        }
    }
    fn chain(&mut self, chain: &Chain) {
        for s in &mut self.0 {
            s.chain(chain);
        }
    }
}

/// A writer that remembers its first error and then writes nothing, so a
/// [`Sink`] (whose methods return nothing) can report it at the end.
struct Guarded<'w> {
    out: Box<dyn Write + 'w>,
    error: Option<io::Error>,
}

impl<'w> Guarded<'w> {
    fn new(out: Box<dyn Write + 'w>) -> Guarded<'w> {
        Guarded { out, error: None }
    }

    fn write(&mut self, text: &str) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(text.as_bytes())
        {
            self.error = Some(e);
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        if self.error.is_none()
            && let Err(e) = self.out.flush()
        {
            self.error = Some(e);
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// `value` as one line of JSON, terminal-safe.
fn to_json<T: Serialize + ?Sized>(value: &T) -> io::Result<String> {
    let text = serde_json::to_string(value).map_err(io::Error::other)?;
    Ok(crate::term::json_safe(&text).into_owned())
}

/// The summary as JSON without its per-input list (written on its own as
/// `inputs` / `input` lines), so new summary fields reach the output
/// without a change here.
fn summary_value(summary: &Summary) -> io::Result<serde_json::Value> {
    let mut value = serde_json::to_value(summary).map_err(io::Error::other)?;
    if let Some(map) = value.as_object_mut() {
        map.remove("inputs");
    }
    Ok(value)
}
