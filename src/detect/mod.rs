//! The alerting layer of the embedded backends: Sigma rules evaluated by
//! `rsigma-eval` over [`telemetry`](crate::telemetry) events.
//!
//! Owns loading rule folders (or the shipped `detections/`), evaluating
//! events, and grading rule tags. It knows nothing of runs or hops.

use std::path::{Path, PathBuf};

pub mod analytic;

use rsigma_eval::Engine;
use rsigma_eval::event::JsonEvent;
use rsigma_parser::{LogSource, parse_sigma_yaml};
use serde_json::Value;

use crate::record::Grade;
use crate::scenario::Platform;
use crate::telemetry::Event;

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
    /// Where the rules came from.
    pub sources: Vec<String>,
    /// How many rules were loaded.
    pub count: usize,
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
    /// shipped rules when `dirs` is empty. An empty folder gives no rules.
    pub fn load(dirs: &[PathBuf]) -> Result<Rules, DetectError> {
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
        for dir in dirs {
            sources.push(dir.display().to_string());
            let mut files = Vec::new();
            collect(dir, &mut files)?;
            files.sort();
            for path in files {
                let text = std::fs::read_to_string(&path).map_err(|source| DetectError::Read {
                    path: path.clone(),
                    source,
                })?;
                texts.push((path, text));
            }
        }
        Rules::from_texts(sources, texts)
    }

    /// Compiles rule texts, each with the path its errors name; `sources`
    /// is kept as [`Rules::sources`].
    pub fn from_texts(
        sources: Vec<String>,
        texts: Vec<(PathBuf, String)>,
    ) -> Result<Rules, DetectError> {
        let mut engine = Engine::new();
        let mut count = 0;
        let mut analytics = Vec::new();
        for (path, text) in texts {
            if text.lines().any(|l| l.starts_with("chainproof_analytic:")) {
                analytics.push(analytic::load(&path, &text)?);
                count += 1;
                continue;
            }
            let collection = parse_sigma_yaml(&text).map_err(|e| DetectError::Parse {
                path: path.clone(),
                message: e.to_string(),
            })?;
            if let Some(first) = collection.errors.first() {
                return Err(DetectError::Parse {
                    path,
                    message: first.clone(),
                });
            }
            count += collection.rules.len();
            engine
                .add_collection(&collection)
                .map_err(|e| DetectError::Parse {
                    path,
                    message: e.to_string(),
                })?;
        }
        Ok(Rules {
            engine,
            analytics,
            sources,
            count,
        })
    }

    /// Rules matching `event`, as seen on `platform`.
    pub fn evaluate(&self, event: &Event, platform: Platform) -> Vec<Hit> {
        let logsource = LogSource {
            category: Some(event.category.sigma_name().to_string()),
            product: Some(platform.to_string()),
            ..LogSource::default()
        };
        let value = Value::Object(event.fields.clone());
        let json = JsonEvent::borrow(&value);
        self.engine
            .evaluate_with_logsource(&json, &logsource)
            .into_iter()
            .map(|r| Hit {
                rule_id: r.header.rule_id.clone(),
                title: r.header.rule_title.clone(),
                level: r.header.level.map(|l| format!("{l:?}").to_lowercase()),
                tags: r.header.tags.clone(),
            })
            .collect()
    }
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), DetectError> {
    let read = |source| DetectError::Read {
        path: path.to_path_buf(),
        source,
    };
    if !std::fs::metadata(path).map_err(read)?.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(read)? {
        let p = entry.map_err(read)?.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")) {
            out.push(p);
        }
    }
    Ok(())
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
