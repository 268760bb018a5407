//! The alerting layer of the embedded backends: Sigma rules evaluated by
//! `rsigma-eval` over [`telemetry`](crate::telemetry) events.
//!
//! Owns loading rule folders (or the shipped `detections/`), evaluating
//! events, and grading rule tags. It knows nothing of runs or hops.

use std::path::PathBuf;

pub mod analytic;
pub mod load;
pub mod needs;

use rsigma_eval::Engine;
use rsigma_eval::event::JsonEvent;
use rsigma_parser::LogSource;
use serde_json::Value;

use crate::record::Grade;
use crate::telemetry::Event;
use crate::vocab::Platform;

/// The project's own rules, compiled in; `detections/` holds the same files.
const SHIPPED: &[(&str, &str)] = crate::shipped::RULES;

/// Why rules could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// A folder or file could not be read.
    #[error("read rules from {path}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Rules were refused and the load was strict.
    #[error("load rules: {count} refused (strict):{list}")]
    Strict {
        /// How many.
        count: usize,
        /// One line per refusal, each starting with a newline.
        list: String,
    },
    /// A rule file is not valid Sigma.
    #[error("parse Sigma rule {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
}

/// A rule that matched an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Rule id.
    pub rule_id: Option<String>,
    /// Rule title.
    pub title: String,
    /// Severity.
    pub level: Option<String>,
    /// Rule tags.
    pub tags: Vec<String>,
}

/// A compiled rule set.
pub struct Rules {
    engine: Engine,
    analytics: Vec<analytic::Det0294Linux>,
    needs: Vec<needs::Needs>,
    /// Where the rules came from.
    pub sources: Vec<String>,
    /// How many rules were loaded.
    pub count: usize,
    /// What the load read, loaded and refused.
    pub summary: load::Summary,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("sources", &self.sources)
            .field("count", &self.count)
            .finish()
    }
}

impl Rules {
    /// Loads every `*.yml`/`*.yaml` below each folder (recursively), or the
    /// shipped rules when `dirs` is empty, skipping each rule that cannot be
    /// loaded: [`Rules::summary`] names every one with its file and reason.
    /// An empty folder gives no rules.
    pub fn load(dirs: &[PathBuf]) -> Result<Rules, DetectError> {
        Rules::load_with(dirs, false)
    }

    /// As [`Rules::load`]; with `strict`, any refused rule is an error that
    /// names every refusal.
    pub fn load_with(dirs: &[PathBuf], strict: bool) -> Result<Rules, DetectError> {
        Rules::load_watched(dirs, strict, &mut |_, _| {})
    }

    /// As [`Rules::load_with`], calling `parsed(done, total)` as each rule
    /// file is parsed (`done` files before it), so a command can show progress on a corpus load
    /// without this module knowing about terminals.
    pub fn load_watched(
        dirs: &[PathBuf],
        strict: bool,
        parsed: &mut dyn FnMut(usize, usize),
    ) -> Result<Rules, DetectError> {
        let mut texts = Vec::new();
        let mut sources = Vec::new();
        if dirs.is_empty() {
            sources.push("<embedded>/detections".to_string());
            for (name, text) in SHIPPED {
                texts.push((
                    PathBuf::from("<embedded>/detections").join(name),
                    text.to_string(),
                ));
            }
        }
        let mut refused = Vec::new();
        for dir in dirs {
            sources.push(dir.display().to_string());
            let mut files = Vec::new();
            load::collect(dir, &mut files)?;
            for path in files {
                // Not a regular file, too large, not UTF-8: this file is
                // refused, the rest of the folder still loads.
                match crate::intake::read_text(&path, crate::intake::Kind::Rule) {
                    Ok(text) => texts.push((path, text)),
                    Err(e) => refused.push(load::Refusal::new(&path, None, load::Reason::Input, e)),
                }
            }
        }
        Rules::from_texts(texts, sources, refused, strict, parsed)
    }

    /// Rules from texts already read, each with the path its refusals name;
    /// `sources` is what the run record lists. The entry point for "these
    /// texts are Sigma rules or chainproof analytics" (each is checked
    /// against [`crate::intake::yaml::MAX_DEPTH`] before it is parsed); a
    /// refused rule is skipped and named in [`Rules::summary`].
    pub fn parse(texts: Vec<(PathBuf, String)>, sources: Vec<String>) -> Rules {
        let loaded = load::compile(texts, Vec::new(), &mut |_, _| {});
        Rules::assemble(loaded, sources)
    }

    fn from_texts(
        texts: Vec<(PathBuf, String)>,
        sources: Vec<String>,
        refused: Vec<load::Refusal>,
        strict: bool,
        parsed: &mut dyn FnMut(usize, usize),
    ) -> Result<Rules, DetectError> {
        let loaded = load::compile(texts, refused, parsed);
        if strict && !loaded.summary.refused.is_empty() {
            return Err(DetectError::Strict {
                count: loaded.summary.refused.len(),
                list: loaded
                    .summary
                    .refused
                    .iter()
                    .map(|r| format!("\n  {r}"))
                    .collect(),
            });
        }
        Ok(Rules::assemble(loaded, sources))
    }

    fn assemble(loaded: load::Loaded, sources: Vec<String>) -> Rules {
        Rules {
            engine: loaded.engine,
            analytics: loaded.analytics,
            needs: loaded.needs,
            sources,
            count: loaded.summary.loaded,
            summary: loaded.summary,
        }
    }

    /// What each loaded Sigma rule needs of an event's fields (the chain
    /// analytics correlate events and are not included).
    pub fn needs(&self) -> &[needs::Needs] {
        &self.needs
    }

    /// Rules matching `event`, as seen on `platform`.
    pub fn evaluate(&self, event: &Event, platform: Platform) -> Vec<Hit> {
        let logsource = LogSource {
            category: Some(event.category.sigma_name().to_string()),
            product: Some(platform.to_string()),
            ..LogSource::default()
        };
        let value = Value::Object(event.fields.clone());
        self.evaluate_in(&value, std::slice::from_ref(&logsource))
    }

    /// Rules matching the fields `value` (a JSON object) under any of
    /// `logsources` (a Sysmon 13 record is both `registry_set` and
    /// `registry_event`); a rule matching under several counts once.
    /// Borrows the event: the streaming path evaluates without a copy.
    pub fn evaluate_in(&self, value: &Value, logsources: &[LogSource]) -> Vec<Hit> {
        let json = JsonEvent::borrow(value);
        let mut hits: Vec<Hit> = Vec::new();
        for logsource in logsources {
            for r in self.engine.evaluate_with_logsource(&json, logsource) {
                let duplicate = logsources.len() > 1
                    && hits
                        .iter()
                        .any(|h| h.title == r.header.rule_title && h.rule_id == r.header.rule_id);
                if !duplicate {
                    hits.push(Hit {
                        rule_id: r.header.rule_id.clone(),
                        title: r.header.rule_title.clone(),
                        level: r.header.level.map(|l| format!("{l:?}").to_lowercase()),
                        tags: r.header.tags.clone(),
                    });
                }
            }
        }
        hits
    }
}

impl Rules {
    /// Every alert over a batch of events of one run on `platform`: each
    /// event through the Sigma rules, then the chain analytics (which
    /// correlate events in time) over the whole batch. Pairs are (event
    /// index, hit).
    pub fn evaluate_all(&self, events: &[Event], platform: Platform) -> Vec<(usize, Hit)> {
        let mut hits: Vec<(usize, Hit)> = events
            .iter()
            .enumerate()
            .flat_map(|(i, e)| self.evaluate(e, platform).into_iter().map(move |h| (i, h)))
            .collect();
        if platform == Platform::Linux {
            hits.extend(self.evaluate_linux_analytics(&events.iter().collect::<Vec<_>>()));
        }
        hits
    }

    /// The Linux chain analytics alone, over events of Linux hosts.
    pub fn evaluate_linux_analytics(&self, events: &[&Event]) -> Vec<(usize, Hit)> {
        self.analytics
            .iter()
            .flat_map(|a| a.evaluate(events))
            .collect()
    }
}

/// Grade of an alert from its rule's ATT&CK tags.
pub fn grade(tags: &[String]) -> Grade {
    let has = |want: &str| tags.iter().any(|t| t.eq_ignore_ascii_case(want));
    if has("attack.t1204") || has("attack.t1204.002") {
        Grade::Technique
    } else if has("attack.execution") {
        Grade::Tactic
    } else {
        Grade::General
    }
}

#[cfg(test)]
mod platform_tests;
#[cfg(test)]
mod tests;
