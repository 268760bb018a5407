//! The committed expectations: every regression folder that does not reach
//! its expected count today, with the class of reason. Compared on
//! (folder, reason class); the detail (counts, the engine's words) is
//! there for the reader and may drift without failing the test.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The environment variable that rewrites the expectations file.
const WRITE: &str = "CHAINPROOF_ORACLE_WRITE";

/// Why a sample does not reach its count, as a class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// `info.yml` names no sample (SigmaHQ commented it out).
    NoSample,
    /// No rule file of the corpus has the id.
    RuleNotFound,
    /// The loader refused the rule; the load reason's label.
    Refused(String),
    /// The reader refused the sample.
    Unreadable,
    /// Records were read but none mapped to a Sigma log source.
    NotMapped,
    /// The rule fired, or not, a different number of times.
    WrongCount,
}

impl Reason {
    /// The label the expectations file uses.
    pub fn label(&self) -> String {
        match self {
            Reason::NoSample => "no sample".into(),
            Reason::RuleNotFound => "rule not found".into(),
            Reason::Refused(why) => format!("rule refused: {why}"),
            Reason::Unreadable => "sample unreadable".into(),
            Reason::NotMapped => "no events mapped".into(),
            Reason::WrongCount => "wrong count".into(),
        }
    }
}

/// One regression folder's result.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The folder, relative to the SigmaHQ root.
    pub folder: String,
    /// The rule id.
    pub rule: String,
    /// Its title.
    pub title: String,
    /// `None` when the sample reaches its count.
    pub reason: Option<Reason>,
    /// Counts or the refusal's words.
    pub detail: String,
}

/// One line of the file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    folder: String,
    rule: String,
    title: String,
    reason: String,
    #[serde(default)]
    detail: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    failing: Vec<Entry>,
}

fn path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sigmahq-oracle.yaml"
    ))
}

/// Failing outcomes counted by reason label, largest first.
pub fn by_reason(outcomes: &[Outcome]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for reason in outcomes.iter().filter_map(|o| o.reason.as_ref()) {
        *counts.entry(reason.label()).or_insert(0) += 1;
    }
    let mut out: Vec<(String, usize)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// Compares `outcomes` with the committed file (or rewrites it when
/// [`WRITE`] is set) and fails with every difference.
pub fn check(outcomes: &[Outcome], passing: usize) {
    let failing: Vec<Entry> = outcomes
        .iter()
        .filter_map(|o| {
            o.reason.as_ref().map(|r| Entry {
                folder: o.folder.clone(),
                rule: o.rule.clone(),
                title: o.title.clone(),
                reason: r.label(),
                detail: o.detail.clone(),
            })
        })
        .collect();
    if std::env::var_os(WRITE).is_some_and(|v| v != "0") {
        write(failing, passing, outcomes.len());
        return;
    }
    let text = std::fs::read_to_string(path())
        .unwrap_or_else(|e| panic!("read {}: {e} (set {WRITE}=1 to write it)", path().display()));
    let file: File = serde_yaml_ng::from_str(&text)
        .unwrap_or_else(|e| panic!("parse {}: {e}", path().display()));
    let listed: BTreeMap<&str, &Entry> = file
        .failing
        .iter()
        .map(|e| (e.folder.as_str(), e))
        .collect();
    let now: BTreeMap<&str, &Entry> = failing.iter().map(|e| (e.folder.as_str(), e)).collect();
    let mut problems = Vec::new();
    for (folder, entry) in &now {
        match listed.get(folder) {
            None => problems.push(format!(
                "regression: {folder} ({}) fails and is not listed: {}: {}",
                entry.title, entry.reason, entry.detail
            )),
            Some(was) if was.reason != entry.reason => problems.push(format!(
                "changed: {folder} was listed as `{}`, now fails as `{}`: {}",
                was.reason, entry.reason, entry.detail
            )),
            Some(_) => {}
        }
    }
    for (folder, was) in &listed {
        if !now.contains_key(folder) {
            problems.push(format!(
                "now passes or is gone (remove it from the list): {folder} ({}), listed as `{}`",
                was.title, was.reason
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the SigmaHQ oracle differs from {}:\n  {}\n\
         If every change is intended, rewrite the list with\n  \
         {WRITE}=1 cargo test --test oracle\nand commit it.",
        path().display(),
        problems.join("\n  ")
    );
}

fn write(failing: Vec<Entry>, passing: usize, total: usize) {
    let body = serde_yaml_ng::to_string(&File { failing })
        .unwrap_or_else(|e| panic!("serialise the expectations: {e}"));
    let text = format!(
        "# SigmaHQ regression samples chainproof does not bring to their expected\n\
         # count, each with the class of reason. Written by\n\
         #   {WRITE}=1 cargo test --test oracle\n\
         # The test fails when a sample not listed here fails, or a listed one\n\
         # passes or fails for another reason: the passing number only goes up.\n\
         # Today: {passing} of {total} samples reach their expected count.\n{body}"
    );
    std::fs::write(path(), text).unwrap_or_else(|e| panic!("write {}: {e}", path().display()));
    eprintln!("oracle: wrote {}", path().display());
}
