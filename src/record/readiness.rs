//! What a verification says beyond verdicts, for the SOC's readiness: what
//! the product did about the chain ([`Containment`]), which incident
//! questions its data can answer per hop ([`HopVisibility`]), and the rows
//! of its answer it could tie to no run ([`UntiedAnswers`]).
//!
//! Types only; `verify` fills them (`verify::containment`,
//! `verify::visibility`) and reports render them. Every field added to a
//! record here is `#[serde(default)]`, so records written before still load.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What the product did about a chain, from the responses its alerts carry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Containment {
    /// The strongest thing the product did.
    pub state: ContainmentState,
    /// The hop the deciding response acted on, where its alert names one.
    #[serde(default)]
    pub hop: Option<usize>,
    /// The product's own word for the deciding response ("Prevented",
    /// "Quarantined"); absent for `alerted-only`.
    #[serde(default)]
    pub by: Option<String>,
    /// When the product says it acted; absent when it does not say (a
    /// poll time is never put here).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
    /// Milliseconds from the hop to the product's response, only when both
    /// times are known; absent means unknown.
    #[serde(default)]
    pub time_to_containment_ms: Option<u64>,
    /// For `blocked`: whether the harness saw the chain stop at that hop
    /// (the hop never ran), which confirms the product's word; `false` when
    /// the harness saw the hop run anyway; absent when no hop is named.
    #[serde(default)]
    pub confirmed_by_harness: Option<bool>,
    /// Every response the product reported for the chain, in alert order.
    #[serde(default)]
    pub responses: Vec<ProductResponse>,
}

/// How far a product went on a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContainmentState {
    /// The product prevented a process: the chain stopped there.
    Blocked,
    /// The product acted on a process or file that had run.
    Contained,
    /// The product alerted and reports no action.
    AlertedOnly,
}

impl ContainmentState {
    /// Kebab-case name as in the record.
    pub fn as_str(self) -> &'static str {
        match self {
            ContainmentState::Blocked => "blocked",
            ContainmentState::Contained => "contained",
            ContainmentState::AlertedOnly => "alerted-only",
        }
    }
}

/// One response a product reported, as the record keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProductResponse {
    /// `blocked` or `contained`.
    pub kind: ContainmentState,
    /// The product's own word for it.
    pub action: String,
    /// The hop its alert names, where it names one.
    #[serde(default)]
    pub hop: Option<usize>,
    /// When the product says it acted.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
    /// The rule of the alert that carried it.
    pub rule_title: String,
}

/// An incident responder's question about a hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Question {
    /// Which user.
    User,
    /// Which host.
    Host,
    /// Which file: the written file's path, or the process's image.
    FilePath,
    /// Its hash.
    Hash,
    /// Where the file came from (a download URL).
    OriginUrl,
    /// Which process started it.
    Parent,
    /// With which command line.
    CommandLine,
    /// What it started in turn.
    Children,
}

impl Question {
    /// Every question, in the order reports show them.
    pub const ALL: [Question; 8] = [
        Question::User,
        Question::Host,
        Question::FilePath,
        Question::Hash,
        Question::OriginUrl,
        Question::Parent,
        Question::CommandLine,
        Question::Children,
    ];

    /// Words for a report ("origin URL").
    pub fn words(self) -> &'static str {
        match self {
            Question::User => "user",
            Question::Host => "host",
            Question::FilePath => "file path",
            Question::Hash => "hash",
            Question::OriginUrl => "origin URL",
            Question::Parent => "parent",
            Question::CommandLine => "command line",
            Question::Children => "child processes",
        }
    }
}

/// Which questions the backend's events of one hop can answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HopVisibility {
    /// Hop index.
    pub index: usize,
    /// How many of the backend's events are this hop's telemetry.
    pub events: usize,
    /// The questions asked of this hop that its events answer.
    #[serde(default)]
    pub answered: Vec<Question>,
    /// The questions asked of this hop that they do not (all of them when
    /// the backend returned no event of the hop).
    #[serde(default)]
    pub unanswered: Vec<Question>,
}

/// Rows of the answer that decided a verification which matched the
/// backend's search but that the attribution rule tied to no run of the
/// batch: counted and sampled, never dropped. The same for every run that
/// round decided.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct UntiedAnswers {
    /// How many rows (events and alerts).
    pub count: usize,
    /// A few of them, compact JSON, each truncated.
    #[serde(default)]
    pub sample: Vec<String>,
}

impl UntiedAnswers {
    /// True when the round tied every row.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// A rule that can never fire on a backend's data: a field it tests is in
/// no event the backend returned.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BlindRule {
    /// Rule id, or title when it has none.
    pub rule: String,
    /// The rule's title.
    pub title: String,
    /// The fields it tests that no event held, sorted.
    pub missing: Vec<String>,
}
