//! The shapes replay produces: what evaluation emits ([`Alert`], [`Chain`],
//! [`Summary`]) through a [`Sink`], so output can be written while the
//! input is still being read. The records it consumes ([`Mapped`], with
//! [`Origin`] and the per-input [`InputStats`]) are the telemetry readers'
//! and re-exported here.
//!
//! Types only: readers live in [`crate::telemetry::input`], evaluation and
//! process state in [`super::session`], rendering in [`super::render`].

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

pub use crate::telemetry::{InputStats, Mapped, Origin};

/// One rule that fired, with the event's context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Rule id.
    pub rule_id: Option<String>,
    /// Rule title.
    pub title: String,
    /// Rule level.
    pub level: Option<String>,
    /// Rule tags.
    pub tags: Vec<String>,
    /// The log source it matched under: `windows/process_creation`,
    /// `windows/security`…
    pub logsource: String,
    /// Where the event came from.
    pub origin: Origin,
    /// The host.
    pub host: Option<String>,
    /// The event's own time.
    #[serde(with = "time::serde::rfc3339::option")]
    pub time: Option<OffsetDateTime>,
    /// The process: the one created, or the one that acted.
    pub pid: Option<u64>,
    /// Its image.
    pub image: Option<String>,
    /// Its command line.
    pub command_line: Option<String>,
    /// The chain its process belongs to, when it is part of one.
    pub chain: Option<u64>,
    /// The input it was read from.
    pub input: String,
}

/// One process in a chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// Executable path (`ParentImage` for a parent seen only through it).
    pub image: String,
    /// Command line, where known.
    pub command_line: Option<String>,
    /// Process id, where known.
    pub pid: Option<u64>,
    /// Distance from the root (the root is 0).
    pub depth: usize,
    /// When it started.
    #[serde(with = "time::serde::rfc3339::option")]
    pub started: Option<OffsetDateTime>,
    /// Every source that recorded its creation (`sysmon 1`, `security
    /// 4688`); empty for a parent known only from a child's fields.
    pub sources: Vec<Origin>,
    /// Titles of the rules that fired on it, each once.
    pub alerts: Vec<String>,
}

/// A process tree of at least a parent and a child, nodes in depth-first
/// order (each parent before its children, children in time order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chain {
    /// Stable within one replay; alerts name it.
    pub id: u64,
    /// The host.
    pub host: Option<String>,
    /// The root's image.
    pub root: String,
    /// Every process of the tree.
    pub nodes: Vec<Node>,
}

impl Chain {
    /// The deepest node's depth.
    pub fn depth(&self) -> usize {
        self.nodes.iter().map(|n| n.depth).max().unwrap_or(0)
    }

    /// True when a rule fired on any node.
    pub fn alerted(&self) -> bool {
        self.nodes.iter().any(|n| !n.alerts.is_empty())
    }
}

/// How the process state behaved: what was joined, refused or closed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StateStats {
    /// Most processes held open at once.
    pub peak_open: usize,
    /// Trees closed because nothing happened in them for the horizon.
    pub expired: u64,
    /// Trees closed early because the open-process limit was reached.
    pub evicted: u64,
    /// Process creations joined to a node another source already created
    /// (Sysmon 1 and Security 4688 of one process).
    pub merged: u64,
    /// Pid links refused because the parent's image is not the child's
    /// `ParentImage`.
    pub parent_mismatch: u64,
    /// Parents known only from a child's fields.
    pub ghosts: u64,
    /// Records more than a second older than one read before them in the
    /// same input. Process links follow reading order, so an input with
    /// many (an export sorted newest first) should be sorted by time.
    pub late: u64,
}

/// Everything a replay counted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Per input, in reading order.
    pub inputs: Vec<InputStats>,
    /// Records evaluated.
    pub events: u64,
    /// Alerts emitted.
    pub alerts: u64,
    /// Alerts per rule title.
    pub by_rule: BTreeMap<String, u64>,
    /// Chains (trees of two or more processes) closed.
    pub chains: u64,
    /// Of those, chains with an alert.
    pub alerted_chains: u64,
    /// The process state.
    pub state: StateStats,
}

/// Where alerts and chains go as they are produced.
pub trait Sink {
    /// An alert, as soon as its event is evaluated.
    fn alert(&mut self, alert: &Alert);
    /// A chain, once it is closed (expired, evicted, or at the end),
    /// after every alert that names it.
    fn chain(&mut self, chain: &Chain);
}

/// A sink that keeps everything, for tests and small inputs.
#[derive(Debug, Clone, Default)]
pub struct Collect {
    /// Alerts in emission order.
    pub alerts: Vec<Alert>,
    /// Chains in closing order.
    pub chains: Vec<Chain>,
}

impl Sink for Collect {
    fn alert(&mut self, alert: &Alert) {
        self.alerts.push(alert.clone());
    }
    fn chain(&mut self, chain: &Chain) {
        self.chains.push(chain.clone());
    }
}
