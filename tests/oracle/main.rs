//! SigmaHQ's regression oracle as a test: every sample folder of
//! `../shared/sigmahq/regression_data` names a rule and recorded telemetry
//! on which that rule must fire `match_count` times (at least once when
//! absent). Each sample is replayed with its rule loaded alone, through the
//! library's public API, as a user pointing chainproof at the corpus would.
//!
//! Samples chainproof does not pass today are listed, with why, in
//! `tests/fixtures/sigmahq-oracle.yaml`; the test fails when an unlisted
//! sample fails (a regression), when a listed one passes or fails for
//! another reason (the list is stale), so the number passing only goes up.
//! `CHAINPROOF_ORACLE_WRITE=1` rewrites the list.
//!
//! A library-level test in its own binary, not a module of the CLI tests:
//! it drives no command, and it builds without recompiling the library's
//! own test build.

mod expect;
/// The library's test prerequisites, the same file as its own tests use.
#[allow(dead_code, reason = "the oracle needs only the shared corpus")]
#[path = "../../src/testing.rs"]
mod testing;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chainproof::detect::Rules;
use chainproof::telemetry::ReadError;
use chainproof::telemetry::input;
use serde::Deserialize;
use serde_json::Value;

use expect::{Outcome, Reason};

/// The rule folders of the corpus a regression folder's id may name.
const RULE_FOLDERS: [&str; 6] = [
    "rules",
    "rules-emerging-threats",
    "rules-threat-hunting",
    "rules-placeholder",
    "deprecated",
    "unsupported",
];

/// One `info.yml`: SigmaHQ's format, read leniently (no
/// `deny_unknown_fields`) since it is theirs and grows.
#[derive(Debug, Deserialize)]
struct Info {
    rule_metadata: Vec<RuleMeta>,
    #[serde(default)]
    regression_tests_info: Vec<Test>,
}

#[derive(Debug, Deserialize)]
struct RuleMeta {
    id: String,
    #[serde(default)]
    title: String,
}

#[derive(Debug, Deserialize)]
struct Test {
    /// Relative to the SigmaHQ root.
    path: String,
    /// Absent means at least one.
    match_count: Option<u64>,
}

/// What replaying one sample gave.
#[derive(Debug, Default)]
struct Replayed {
    /// Alerts of the rule under test.
    alerts: u64,
    /// Records mapped to a Sigma log source, over every input.
    mapped: u64,
    /// Records read.
    read: u64,
    /// Records skipped, by the reader's reason.
    skipped: Vec<(String, u64)>,
}

/// Replays `sample` with `rules` and counts the alerts of `rule_id`.
///
/// The one place that calls the replay engine: to run the oracle through
/// the streaming session, replace the body with `replay::run(&[sample],
/// rules, Options::default(), &mut sink)` and count `sink`'s alerts whose
/// `rule_id` is `rule_id`, taking `read`/`mapped`/`skipped` from the
/// summary's `inputs`.
fn replay_sample(sample: &Path, rules: &Rules, rule_id: &str) -> Result<Replayed, ReadError> {
    let mut alerts = 0u64;
    let inputs = input::stream(&[sample.to_path_buf()], &mut |mapped| {
        let value = Value::Object(mapped.event.fields);
        alerts += rules
            .evaluate_in(&value, mapped.logsources)
            .iter()
            .filter(|hit| hit.rule_id.as_deref() == Some(rule_id))
            .count() as u64;
    })?;
    let mut out = Replayed {
        alerts,
        ..Replayed::default()
    };
    for stats in inputs {
        out.read += stats.read;
        out.mapped += stats.mapped;
        out.skipped.extend(stats.skipped);
    }
    Ok(out)
}

/// The SigmaHQ corpus, or `None` after [`testing::require`] when its
/// regression data is missing.
fn sigmahq() -> Option<PathBuf> {
    testing::require_shared("sigmahq/regression_data")?;
    testing::require_shared("sigmahq")
}

/// Every rule file of the corpus by its id (the top-level `id:` line).
fn rule_index(root: &Path) -> HashMap<String, PathBuf> {
    let mut files = Vec::new();
    for folder in RULE_FOLDERS {
        let dir = root.join(folder);
        if dir.is_dir() {
            walk(&dir, &mut files, &|p| {
                matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
            });
        }
    }
    let mut index = HashMap::new();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("id:"))
            .map(|id| id.trim().trim_matches(['\'', '"']).to_string());
        if let Some(id) = id {
            index.entry(id).or_insert(path);
        }
    }
    index
}

/// Files below `dir` that `keep` accepts, sorted.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, keep: &dyn Fn(&Path) -> bool) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| {
            e.unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
                .path()
        })
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out, keep);
        } else if keep(&p) {
            out.push(p);
        }
    }
}

/// The outcome of one regression folder.
fn judge(root: &Path, index: &HashMap<String, PathBuf>, info_path: &Path) -> Outcome {
    let folder = info_path
        .parent()
        .and_then(|p| p.strip_prefix(root).ok())
        .unwrap_or(info_path)
        .display()
        .to_string();
    let text = std::fs::read_to_string(info_path)
        .unwrap_or_else(|e| panic!("read {}: {e}", info_path.display()));
    let info: Info = serde_yaml_ng::from_str(&text)
        .unwrap_or_else(|e| panic!("parse {}: {e}", info_path.display()));
    let meta = info
        .rule_metadata
        .first()
        .unwrap_or_else(|| panic!("{} names no rule", info_path.display()));
    let outcome = |reason: Option<Reason>, detail: String| Outcome {
        folder: folder.clone(),
        rule: meta.id.clone(),
        title: meta.title.clone(),
        reason,
        detail,
    };
    if info.regression_tests_info.is_empty() {
        return outcome(Some(Reason::NoSample), "info.yml lists no sample".into());
    }
    let Some(rule_path) = index.get(&meta.id) else {
        return outcome(Some(Reason::RuleNotFound), String::new());
    };
    let rule_text = std::fs::read_to_string(rule_path)
        .unwrap_or_else(|e| panic!("read {}: {e}", rule_path.display()));
    let rules = Rules::parse(vec![(rule_path.clone(), rule_text)], Vec::new());
    if let Some(refusal) = rules.summary.refused.first() {
        return outcome(
            Some(Reason::Refused(refusal.reason.as_str().to_string())),
            refusal.message.clone(),
        );
    }
    // A folder passes when every sample it lists does.
    let failure = info
        .regression_tests_info
        .iter()
        .find_map(|test| check(&root.join(&test.path), test.match_count, &rules, &meta.id));
    match failure {
        Some((reason, detail)) => outcome(Some(reason), detail),
        None => outcome(None, String::new()),
    }
}

/// Why `sample` does not bring `rule_id` to `want` alerts (at least one
/// when `None`), or `None` when it does.
fn check(
    sample: &Path,
    want: Option<u64>,
    rules: &Rules,
    rule_id: &str,
) -> Option<(Reason, String)> {
    let replayed = match replay_sample(sample, rules, rule_id) {
        Ok(r) => r,
        Err(e) => return Some((Reason::Unreadable, error_chain(&e))),
    };
    if replayed.mapped == 0 {
        let skipped: Vec<String> = replayed
            .skipped
            .iter()
            .map(|(why, n)| format!("{n} {why}"))
            .collect();
        let detail = format!(
            "{} record(s) read, none mapped ({})",
            replayed.read,
            skipped.join(", ")
        );
        return Some((Reason::NotMapped, detail));
    }
    let passed = match want {
        Some(want) => replayed.alerts == want,
        None => replayed.alerts >= 1,
    };
    if passed {
        return None;
    }
    let want = want.map_or("at least 1".to_string(), |n| n.to_string());
    let detail = format!(
        "got {}, want {want} ({} of {} record(s) mapped)",
        replayed.alerts, replayed.mapped, replayed.read
    );
    Some((Reason::WrongCount, detail))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

#[test]
fn sigmahq_regression_samples_reach_their_expected_count() {
    let Some(root) = sigmahq() else { return };
    let index = rule_index(&root);
    let mut infos = Vec::new();
    walk(&root.join("regression_data"), &mut infos, &|p| {
        p.file_name().is_some_and(|n| n == "info.yml")
    });
    let outcomes: Vec<Outcome> = infos.iter().map(|p| judge(&root, &index, p)).collect();
    let passing = outcomes.iter().filter(|o| o.reason.is_none()).count();
    eprintln!(
        "oracle: {passing} of {} samples reach their expected count",
        outcomes.len()
    );
    for (reason, n) in expect::by_reason(&outcomes) {
        eprintln!("  {n:>4}  {reason}");
    }
    expect::check(&outcomes, passing);
}
