//! Offline replay: recorded telemetry (EVTX, JSON lines, auditd, ZIPs of
//! them) evaluated by the Sigma rules of [`detect`](crate::detect), with the
//! process chains rebuilt so a reader sees which hop of which chain alerted.
//!
//! [`input`] reads and normalises files, [`chains`] rebuilds process trees,
//! this module evaluates and renders. It runs nothing and knows nothing of
//! runs, scenarios or verdicts: it answers "what would these rules have said
//! about this recording".

pub mod chains;
pub mod fail_on;
pub mod input;
pub mod model;
pub mod render;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;

pub use chains::{Chain, Node};
pub use input::{Loaded, load};

use crate::detect::{Hit, Rules, grade};
use crate::record::Grade;
use crate::report::terminal_safe;
use crate::scenario::Platform;
use crate::telemetry::Event;

/// Why a recording could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A file or folder could not be read.
    #[error("read {path}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file's content is not a format replay reads, or is malformed.
    #[error("read telemetry from {file}: {message}")]
    Format {
        /// The file (`archive.zip!entry` for a ZIP entry).
        file: String,
        /// What is wrong, with the line where known.
        message: String,
    },
}

/// What the rules said about a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// Process trees of at least a parent and a child, with each node's
    /// alerts filled in.
    pub chains: Vec<Chain>,
    /// Every hit, with the index of its event.
    pub alerts: Vec<(usize, Hit)>,
    /// How many events were evaluated.
    pub events: usize,
    /// Hits per rule title.
    pub by_rule: BTreeMap<String, usize>,
}

/// Evaluates every event with `rules` (each on its own platform) and
/// rebuilds the process chains.
pub fn replay(events: &[(Event, Platform)], rules: &Rules) -> Replay {
    let mut alerts = Vec::new();
    let mut by_rule = BTreeMap::new();
    for (i, (event, platform)) in events.iter().enumerate() {
        for hit in rules.evaluate(event, *platform) {
            *by_rule.entry(hit.title.clone()).or_insert(0) += 1;
            alerts.push((i, hit));
        }
    }
    // The chain analytics correlate a host's events in time.
    let linux: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].1 == Platform::Linux)
        .collect();
    let linux_events: Vec<&Event> = linux.iter().map(|&i| &events[i].0).collect();
    for (k, hit) in rules.evaluate_linux_analytics(&linux_events) {
        *by_rule.entry(hit.title.clone()).or_insert(0) += 1;
        alerts.push((linux[k], hit));
    }
    let mut chains = chains::build(events);
    let by_event = hits_by_event(&alerts);
    for node in chains.iter_mut().flat_map(|c| c.nodes.iter_mut()) {
        if let Some(hits) = node.event.and_then(|e| by_event.get(&e)) {
            node.alerts = hits.iter().map(|h| h.title.clone()).collect();
        }
    }
    Replay {
        chains,
        alerts,
        events: events.len(),
        by_rule,
    }
}

fn hits_by_event(alerts: &[(usize, Hit)]) -> HashMap<usize, Vec<&Hit>> {
    let mut map: HashMap<usize, Vec<&Hit>> = HashMap::new();
    for (i, hit) in alerts {
        map.entry(*i).or_default().push(hit);
    }
    map
}

/// Chains without alerts shown in full before the rest are only counted.
const QUIET_CHAINS_SHOWN: usize = 20;

fn grade_name(g: Grade) -> &'static str {
    match g {
        Grade::Technique => "technique",
        Grade::Tactic => "tactic",
        Grade::General => "general",
    }
}

/// A node's cell: `alerted (<best grade>)` or `observed` (`parent only` for
/// a process known only from a child's fields).
fn cell(node: &Node, hits: Option<&Vec<&Hit>>) -> String {
    match hits {
        Some(hits) if !hits.is_empty() => {
            let best = hits.iter().map(|h| grade(&h.tags)).min_by_key(|g| match g {
                Grade::Technique => 0,
                Grade::Tactic => 1,
                Grade::General => 2,
            });
            format!("alerted ({})", best.map_or("general", grade_name))
        }
        _ if node.event.is_none() => "parent only".into(),
        _ => "observed".into(),
    }
}

/// One line, at most `max` characters, control characters escaped.
fn short(text: &str, max: usize) -> String {
    let one: String = terminal_safe(text)
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    match one.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &one[..cut]),
        None => one,
    }
}

/// A table per chain (root first, one row per hop: image and command line,
/// the cell, the rule titles), chains with alerts first, then a summary of
/// hits per rule.
pub fn render_text(replay: &Replay) -> String {
    let by_event = hits_by_event(&replay.alerts);
    let mut out = String::new();
    let alerted = |c: &&Chain| c.nodes.iter().any(|n| !n.alerts.is_empty());
    let loud: Vec<&Chain> = replay.chains.iter().filter(alerted).collect();
    let quiet: Vec<&Chain> = replay.chains.iter().filter(|c| !alerted(c)).collect();
    let shown = loud.iter().chain(quiet.iter().take(QUIET_CHAINS_SHOWN));
    for (n, chain) in shown.enumerate() {
        let _ = writeln!(
            out,
            "chain {}: {} ({} processes, depth {})",
            n + 1,
            short(&chain.root, 80),
            chain.nodes.len(),
            chain.depth()
        );
        for node in &chain.nodes {
            let hits = node.event.and_then(|e| by_event.get(&e));
            let indent = "  ".repeat(node.depth);
            let what = match &node.command_line {
                Some(cmd) => format!("{}  {}", basename(&node.image), cmd),
                None => node.image.clone(),
            };
            let hop = format!(
                "{indent}{}{}",
                if node.depth > 0 { "└ " } else { "" },
                short(&what, 70)
            );
            let _ = write!(out, "  {hop:<80} {:<20}", cell(node, hits));
            let titles: Vec<String> = node.alerts.iter().map(|t| short(t, 80)).collect();
            let _ = writeln!(out, " {}", titles.join("; ").trim_end());
        }
        out.push('\n');
    }
    if quiet.len() > QUIET_CHAINS_SHOWN {
        let _ = writeln!(
            out,
            "({} more chains without alerts not shown)\n",
            quiet.len() - QUIET_CHAINS_SHOWN
        );
    }
    let _ = writeln!(
        out,
        "{} events, {} chains, {} alerts",
        replay.events,
        replay.chains.len(),
        replay.alerts.len()
    );
    for (title, count) in &replay.by_rule {
        let _ = writeln!(out, "  {count:>7}  {}", short(title, 100));
    }
    out.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The last path component, for either separator.
fn basename(image: &str) -> &str {
    image.rsplit(['/', '\\']).next().unwrap_or(image)
}
