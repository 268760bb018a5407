//! DET0294's Linux analytic as a chain analytic of chainproof's own: a file
//! is created in a user download path, /tmp or /media, and within a time
//! window an interpreter is executed whose parent is a document viewer, a
//! browser or a file manager.
//!
//! It correlates two events in time, which per-event Sigma evaluation
//! cannot do, so it is detection content in its own small format
//! (`chainproof_analytic: det0294-linux`, see `detections/`), loaded from
//! rule folders like the Sigma rules: a folder without it does not run it.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;

use super::Hit;
use crate::telemetry::{Category, Event};
use crate::vocab::duration_text;

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

/// Parses an analytic file; errors name the file, the line and the field.
pub fn load(path: &std::path::Path, text: &str) -> Result<Det0294Linux, super::DetectError> {
    let parse = |message: String| super::DetectError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let a: Det0294Linux = crate::intake::yaml::parse(text, path).map_err(|e| parse(e.in_file()))?;
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
        let downloads: Vec<OffsetDateTime> = events
            .iter()
            .filter(|e| self.is_download(e))
            .filter_map(|e| e.at)
            .collect();
        if downloads.is_empty() {
            return Vec::new();
        }
        let window = time::Duration::try_from(self.window).unwrap_or(time::Duration::ZERO);
        events
            .iter()
            .enumerate()
            .filter(|(_, e)| self.is_interpreter_start(e))
            .filter(|(_, e)| {
                e.at.is_some_and(|t| downloads.iter().any(|d| *d <= t && t - *d <= window))
            })
            .map(|(i, _)| (i, self.hit()))
            .collect()
    }
}

/// The analytics of a rule set in streaming form: each keeps the times of
/// the qualifying downloads of the last `window` per host, and an
/// interpreter start checks them. State is bounded by the downloads within
/// one window, not by the input.
#[derive(Debug)]
pub struct Stream<'r> {
    analytics: &'r [Det0294Linux],
    /// Per analytic, per host: recent download times, oldest first.
    recent: Vec<HashMap<Option<String>, VecDeque<OffsetDateTime>>>,
}

impl super::Rules {
    /// A fresh streaming state for this rule set's chain analytics.
    pub fn analytics_stream(&self) -> Stream<'_> {
        Stream {
            analytics: &self.analytics,
            recent: vec![HashMap::new(); self.analytics.len()],
        }
    }
}

impl Stream<'_> {
    /// Feeds one event of a Linux host; the hits it raises, if it is an
    /// interpreter start following a download on the same host.
    pub fn observe(&mut self, host: Option<&str>, event: &Event) -> Vec<Hit> {
        let mut hits = Vec::new();
        let Some(t) = event.at else { return hits };
        for (a, recent) in self.analytics.iter().zip(self.recent.iter_mut()) {
            let window = time::Duration::try_from(a.window).unwrap_or(time::Duration::ZERO);
            if a.is_download(event) {
                let times = recent.entry(host.map(str::to_string)).or_default();
                let newest = times.iter().copied().max().map_or(t, |n| n.max(t));
                times.retain(|d| newest - *d <= window);
                times.push_back(t);
            } else if a.is_interpreter_start(event)
                && recent
                    .get(&host.map(str::to_string))
                    .is_some_and(|times| times.iter().any(|d| *d <= t && t - *d <= window))
            {
                hits.push(a.hit());
            }
        }
        hits
    }
}

impl Det0294Linux {
    fn is_download(&self, e: &Event) -> bool {
        e.category == Category::FileEvent
            && text(e, "TargetFilename").is_some_and(|f| {
                self.file_prefixes.iter().any(|p| f.starts_with(p.as_str()))
                    || self.file_contains.iter().any(|c| f.contains(c.as_str()))
            })
    }

    fn is_interpreter_start(&self, e: &Event) -> bool {
        let child = text(e, "Image").map(basename).unwrap_or_default();
        let parent = text(e, "ParentImage").map(basename).unwrap_or_default();
        e.category == Category::ProcessCreation
            && matches_name(&self.interpreters, child)
            && matches_name(&self.parents, parent)
    }

    fn hit(&self) -> Hit {
        Hit {
            rule_id: Some(self.id.clone()),
            title: self.title.clone(),
            level: self.level.clone(),
            tags: self.tags.clone(),
        }
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
            arrived: None,
            at: at(t),
            hop: None,
            fields: f.as_object().cloned().unwrap_or_default(),
        }
    }

    fn proc(image: &str, parent: &str, t: i64) -> Event {
        let f = json!({"Image": image, "ParentImage": parent});
        Event {
            category: Category::ProcessCreation,
            arrived: None,
            at: at(t),
            hop: None,
            fields: f.as_object().cloned().unwrap_or_default(),
        }
    }

    /// Indices of the events that alert when fed one by one, each on its host.
    fn streamed(a: &Det0294Linux, events: &[Event], hosts: &[Option<&str>]) -> Vec<usize> {
        let mut stream = Stream {
            analytics: std::slice::from_ref(a),
            recent: vec![HashMap::new()],
        };
        let mut got = Vec::new();
        for (i, (e, host)) in events.iter().zip(hosts).enumerate() {
            if !stream.observe(*host, e).is_empty() {
                got.push(i);
            }
        }
        got
    }

    #[test]
    fn streamed_downloads_count_only_on_their_own_host_and_expire() {
        let a = shipped();
        let viewer_shell = |t| proc("/usr/bin/sh", "/usr/bin/evince", t);
        let events = [
            file("/tmp/a.pdf", 0),
            viewer_shell(1),
            viewer_shell(2),
            viewer_shell(3),
            file("/tmp/b.pdf", 1000),
            viewer_shell(1001 + 300),
        ];
        let hosts = [Some("a"), Some("b"), None, Some("a"), Some("a"), Some("a")];
        // Host b and the unnamed host saw no download; the last shell is
        // past the window of the second file.
        assert_eq!(streamed(&a, &events, &hosts), [3]);
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
            assert_eq!(
                streamed(&a, &events, &[None; 2]),
                want,
                "streamed: {events:?}"
            );
        }
        let pair = [file("/tmp/a", 0), proc("/bin/sh", "/x/soffice.bin", 1)];
        let hit = a.evaluate(&pair.iter().collect::<Vec<_>>()).remove(0).1;
        assert!(hit.tags.iter().any(|t| t == "attack.t1204.002"));
    }
}
