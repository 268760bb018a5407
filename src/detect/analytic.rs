//! DET0294's Linux analytic as a chain analytic of chainproof's own: a file
//! is created in a user download path, /tmp or /media, and within a time
//! window an interpreter is executed whose parent is a document viewer, a
//! browser or a file manager.
//!
//! It correlates two events in time, which per-event Sigma evaluation
//! cannot do, so it is detection content in its own small format
//! (`chainproof_analytic: det0294-linux`, see `detections/`), loaded from
//! rule folders like the Sigma rules: a folder without it does not run it.

use std::time::Duration;

use serde::Deserialize;

use super::Hit;
use crate::scenario::duration_text;
use crate::telemetry::{Category, Event};

/// The analytic's definition, as written in its YAML file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Det0294Linux {
    /// Always `det0294-linux`.
    pub chainproof_analytic: String,
    /// Alert title.
    pub title: String,
    /// Alert id.
    pub id: String,
    /// ATT&CK tags (`attack.t1204.002`, `attack.execution`).
    pub tags: Vec<String>,
    /// Severity.
    #[serde(default)]
    pub level: Option<String>,
    /// Longest time from the file to the interpreter.
    #[serde(with = "duration_text")]
    pub window: Duration,
    /// The file must lie under one of these prefixes, or contain one of the
    /// `contains` fragments (e.g. `/Downloads/`).
    pub file_prefixes: Vec<String>,
    /// Path fragments that also count as download locations.
    #[serde(default)]
    pub file_contains: Vec<String>,
    /// Parent image file names: viewers, browsers, file managers.
    pub parents: Vec<String>,
    /// Interpreter image file names (a trailing `*` matches any suffix, e.g. `python3*`).
    pub interpreters: Vec<String>,
}

fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn matches_name(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => p == name,
    })
}

fn text<'a>(e: &'a Event, key: &str) -> Option<&'a str> {
    e.fields.get(key).and_then(|v| v.as_str())
}

/// Parses an analytic file; errors name the file and the field.
pub fn load(path: &std::path::Path, text: &str) -> Result<Det0294Linux, super::DetectError> {
    let parse = |message: String| super::DetectError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let de = serde_yaml_ng::Deserializer::from_str(text);
    let a: Det0294Linux = serde_path_to_error::deserialize(de)
        .map_err(|e| parse(format!("{}: {}", e.path(), e.inner())))?;
    if a.chainproof_analytic != "det0294-linux" {
        return Err(parse(format!(
            "unknown chainproof_analytic `{}` (known: det0294-linux)",
            a.chainproof_analytic
        )));
    }
    Ok(a)
}

impl Det0294Linux {
    /// Interpreter events (by index) that follow a download within the
    /// window, each with the alert it raises.
    pub fn evaluate(&self, events: &[&Event]) -> Vec<(usize, Hit)> {
        let downloads: Vec<time::OffsetDateTime> = events
            .iter()
            .filter(|e| e.category == Category::FileEvent)
            .filter(|e| {
                text(e, "TargetFilename").is_some_and(|f| {
                    self.file_prefixes.iter().any(|p| f.starts_with(p.as_str()))
                        || self.file_contains.iter().any(|c| f.contains(c.as_str()))
                })
            })
            .filter_map(|e| e.at)
            .collect();
        if downloads.is_empty() {
            return Vec::new();
        }
        let window = time::Duration::try_from(self.window).unwrap_or(time::Duration::ZERO);
        events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.category == Category::ProcessCreation)
            .filter(|(_, e)| {
                let child = text(e, "Image").map(basename).unwrap_or_default();
                let parent = text(e, "ParentImage").map(basename).unwrap_or_default();
                matches_name(&self.interpreters, child) && matches_name(&self.parents, parent)
            })
            .filter(|(_, e)| {
                e.at.is_some_and(|t| downloads.iter().any(|d| *d <= t && t - *d <= window))
            })
            .map(|(i, _)| {
                let hit = Hit {
                    rule_id: Some(self.id.clone()),
                    title: self.title.clone(),
                    level: self.level.clone(),
                    tags: self.tags.clone(),
                };
                (i, hit)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::OffsetDateTime;

    use super::*;

    fn shipped() -> Det0294Linux {
        let text = include_str!("../../detections/det0294_linux_download_then_interpreter.yml");
        serde_yaml_ng::from_str(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn at(s: i64) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(1_764_151_200 + s).ok()
    }

    fn file(path: &str, t: i64) -> Event {
        let f = json!({"TargetFilename": path});
        Event {
            category: Category::FileEvent,
            at: at(t),
            hop: None,
            fields: f.as_object().cloned().unwrap_or_default(),
        }
    }

    fn proc(image: &str, parent: &str, t: i64) -> Event {
        let f = json!({"Image": image, "ParentImage": parent});
        Event {
            category: Category::ProcessCreation,
            at: at(t),
            hop: None,
            fields: f.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn a_download_then_an_interpreter_under_a_viewer_within_the_window_alerts() {
        let a = shipped();
        let cases = [
            (
                vec![
                    file("/tmp/x/Downloads/Invoice.odt", 0),
                    proc(
                        "/usr/bin/dash",
                        "/usr/lib/libreoffice/program/soffice.bin",
                        2,
                    ),
                ],
                vec![1],
            ),
            (
                vec![
                    file("/home/u/Downloads/a.desktop", 0),
                    proc("/usr/bin/bash", "/usr/bin/nautilus", 60),
                ],
                vec![1],
            ),
            (
                vec![
                    file("/media/u/USB/a.pdf", 0),
                    proc("/usr/bin/python3.11", "/usr/bin/evince", 10),
                ],
                vec![1],
            ),
            // Too late, wrong parent, wrong child, file elsewhere, interpreter before the file.
            (
                vec![
                    file("/tmp/a.odt", 0),
                    proc("/usr/bin/dash", "/usr/bin/soffice.bin", 301),
                ],
                vec![],
            ),
            (
                vec![
                    file("/tmp/a.odt", 0),
                    proc("/usr/bin/dash", "/usr/bin/make", 1),
                ],
                vec![],
            ),
            (
                vec![
                    file("/tmp/a.odt", 0),
                    proc("/usr/bin/ls", "/usr/bin/soffice.bin", 1),
                ],
                vec![],
            ),
            (
                vec![
                    file("/etc/a.odt", 0),
                    proc("/usr/bin/dash", "/usr/bin/soffice.bin", 1),
                ],
                vec![],
            ),
            (
                vec![
                    proc("/usr/bin/dash", "/usr/bin/soffice.bin", 0),
                    file("/tmp/a.odt", 5),
                ],
                vec![],
            ),
        ];
        for (events, want) in cases {
            let refs: Vec<&Event> = events.iter().collect();
            let got: Vec<usize> = a.evaluate(&refs).into_iter().map(|(i, _)| i).collect();
            assert_eq!(got, want, "{events:?}");
        }
        let pair = [file("/tmp/a", 0), proc("/bin/sh", "/x/soffice.bin", 1)];
        let hit = a.evaluate(&pair.iter().collect::<Vec<_>>()).remove(0).1;
        assert!(hit.tags.iter().any(|t| t == "attack.t1204.002"));
    }
}
