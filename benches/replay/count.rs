//! Alerts per rule title, read back from each tool's output, and the set
//! of titles both tools must agree on.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Alerts per rule title.
pub type ByTitle = BTreeMap<String, u64>;

/// chainproof's ndjson output: one line per alert (`"type": "alert"`),
/// counted by title.
pub fn chainproof(stdout: &Path) -> std::io::Result<ByTitle> {
    let mut by = ByTitle::new();
    for line in BufReader::new(std::fs::File::open(stdout)?).lines() {
        let line = line?;
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && v.get("type").and_then(Value::as_str) == Some("alert")
            && let Some(title) = v.get("title").and_then(Value::as_str)
        {
            *by.entry(title.to_string()).or_insert(0) += 1;
        }
    }
    Ok(by)
}

/// rsigma's output: one JSON match per line, titled by `rule_title`.
pub fn rsigma(stdout: &Path) -> std::io::Result<ByTitle> {
    let mut by = ByTitle::new();
    for line in BufReader::new(std::fs::File::open(stdout)?).lines() {
        let line = line?;
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && let Some(title) = v.get("rule_title").and_then(Value::as_str)
        {
            *by.entry(title.to_string()).or_insert(0) += 1;
        }
    }
    Ok(by)
}

/// Titles of the Windows process_creation rules below `dirs`.
pub fn process_creation_titles(dirs: &[PathBuf]) -> BTreeSet<String> {
    let mut titles = BTreeSet::new();
    let mut stack: Vec<PathBuf> = dirs.to_vec();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.filter_map(|e| e.ok().map(|e| e.path())));
            }
            continue;
        }
        if !matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let Ok(doc) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text) else {
            continue;
        };
        let ls = &doc["logsource"];
        if ls["product"].as_str() == Some("windows")
            && ls["category"].as_str() == Some("process_creation")
            && let Some(title) = doc["title"].as_str()
        {
            titles.insert(title.to_string());
        }
    }
    titles
}

/// Whether both tools gave the same count for every title in `set`; the
/// differences, at most `max`, when not.
pub fn compare(
    ours: &ByTitle,
    theirs: &ByTitle,
    set: &BTreeSet<String>,
    max: usize,
) -> Vec<String> {
    set.iter()
        .filter_map(|t| {
            let (a, b) = (
                ours.get(t).copied().unwrap_or(0),
                theirs.get(t).copied().unwrap_or(0),
            );
            (a != b).then(|| format!("{t}: chainproof {a}, rsigma {b}"))
        })
        .take(max)
        .collect()
}

/// Alerts of the titles in `set`.
pub fn total(by: &ByTitle, set: &BTreeSet<String>) -> u64 {
    by.iter()
        .filter(|(t, _)| set.contains(*t))
        .map(|(_, n)| n)
        .sum()
}
