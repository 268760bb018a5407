//! Offline replay: recorded telemetry (EVTX, JSON lines, auditd, ZIPs of
//! them) evaluated by the Sigma rules of [`detect`](crate::detect), with the
//! process chains rebuilt so a reader sees which hop of which chain alerted.
//!
//! [`input`] reads and maps files, [`session`] evaluates records as they
//! stream and rebuilds process trees, [`run`] ties the two together on two
//! threads, and this module renders. It runs nothing and knows nothing of
//! runs, scenarios or verdicts: it answers "what would these rules have said
//! about this recording".

pub mod input;
pub mod model;
#[cfg(test)]
mod run_tests;
pub mod session;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::mpsc::{SyncSender, sync_channel};

pub use input::{Loaded, load};
pub use model::{Alert, Chain, Collect, Mapped, Node, Sink, Summary};
pub use session::{Options, Session};

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

/// Records per message between threads: large enough that the channel
/// costs nothing per record, small enough to stay in cache.
const BATCH: usize = 1024;

/// Batches in flight per channel: each stage runs at most this far ahead,
/// which bounds the memory between them.
const DEPTH: usize = 4;

/// What the reader thread sends.
enum Message {
    /// Inputs from this index on come from this path.
    Name(usize, String),
    /// Mapped records, in reading order, with their Sigma hits once the
    /// rule stage has evaluated them.
    Batch(Vec<(Mapped, Vec<Hit>)>),
}

/// Replays `paths` (files, folders, ZIPs) through `rules` in three stages
/// on their own threads: reading and mapping, Sigma evaluation, and (on
/// this thread) the process table and chain analytics, alerts and chains
/// going to `sink` as trees close. Each stage costs about the same per
/// record, so on two cores the pipeline keeps both busy. A read error
/// stops the replay and is returned; what was evaluated before it has
/// reached `sink`.
pub fn run(
    paths: &[PathBuf],
    rules: &Rules,
    options: Options,
    sink: &mut dyn Sink,
) -> Result<Summary, ReplayError> {
    let (read_tx, read_rx) = sync_channel::<Message>(DEPTH);
    let (eval_tx, eval_rx) = sync_channel::<Message>(DEPTH);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read(paths, &read_tx));
        scope.spawn(move || {
            for mut message in read_rx {
                if let Message::Batch(batch) = &mut message {
                    for (m, hits) in batch.iter_mut() {
                        *hits = session::evaluate(rules, m);
                    }
                }
                // Fails only when the caller is gone, which it is not
                // before this thread ends.
                let _ = eval_tx.send(message);
            }
        });
        let mut session = Session::new(rules, options);
        for message in eval_rx {
            match message {
                Message::Name(first, name) => session.name_inputs(first, name),
                Message::Batch(batch) => {
                    for (m, hits) in batch {
                        session.push_evaluated(m, hits, sink);
                    }
                }
            }
        }
        let read = match reader.join() {
            Ok(read) => read,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        // Even when reading failed, what was evaluated reaches the sink.
        let mut summary = session.finish(sink);
        summary.inputs = read?;
        Ok(summary)
    })
}

/// The reader stage: every path through [`input::stream`], in batches.
fn read(
    paths: &[PathBuf],
    tx: &SyncSender<Message>,
) -> Result<Vec<model::InputStats>, ReplayError> {
    let mut inputs = Vec::new();
    for path in paths {
        let first = inputs.len();
        // A send fails only when the next stage is gone, which it is not
        // before this one ends.
        let _ = tx.send(Message::Name(first, path.display().to_string()));
        let mut batch = Vec::with_capacity(BATCH);
        let stats = input::stream(std::slice::from_ref(path), &mut |mut m| {
            m.input += first;
            batch.push((m, Vec::new()));
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                let _ = tx.send(Message::Batch(full));
            }
        });
        if !batch.is_empty() {
            let _ = tx.send(Message::Batch(batch));
        }
        inputs.extend(stats?);
    }
    Ok(inputs)
}

/// What the rules said about a recording, kept whole for the text report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replay {
    /// Chains in closing order.
    pub chains: Vec<Chain>,
    /// Alerts in emission order.
    pub alerts: Vec<Alert>,
    /// The counts.
    pub summary: Summary,
}

impl Replay {
    /// A replay from what a [`Collect`] sink kept.
    pub fn new(collected: Collect, summary: Summary) -> Replay {
        Replay {
            chains: collected.chains,
            alerts: collected.alerts,
            summary,
        }
    }
}

/// Evaluates events already in memory (each on its own platform, under
/// its basic log source) with default [`Options`]: for tests and benches
/// of loaded events.
pub fn replay(events: &[(Event, Platform)], rules: &Rules) -> Replay {
    let mut session = Session::new(rules, Options::default());
    let mut sink = Collect::default();
    for (event, platform) in events {
        let host = event
            .fields
            .get("Computer")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string);
        let m = Mapped {
            logsources: input::logsource::basic(*platform, event.category),
            origin: model::Origin {
                provider: "telemetry",
                id: None,
            },
            event: event.clone(),
            platform: *platform,
            host,
            input: 0,
        };
        session.push(m, &mut sink);
    }
    let summary = session.finish(&mut sink);
    Replay::new(sink, summary)
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
fn cell(node: &Node, hits: Option<&Vec<&Alert>>) -> String {
    match hits {
        Some(hits) if !hits.is_empty() => {
            let best = hits.iter().map(|h| grade(&h.tags)).min_by_key(|g| match g {
                Grade::Technique => 0,
                Grade::Tactic => 1,
                Grade::General => 2,
            });
            format!("alerted ({})", best.map_or("general", grade_name))
        }
        _ if node.sources.is_empty() => "parent only".into(),
        _ => "observed".into(),
    }
}

/// A chain's alerts by the node they name: `(chain, pid, image)`.
type NodeKey<'a> = (u64, Option<u64>, Option<&'a str>);

fn alerts_by_node(alerts: &[Alert]) -> HashMap<NodeKey<'_>, Vec<&Alert>> {
    let mut map: HashMap<NodeKey<'_>, Vec<&Alert>> = HashMap::new();
    for a in alerts {
        if let Some(chain) = a.chain {
            map.entry((chain, a.pid, a.image.as_deref()))
                .or_default()
                .push(a);
        }
    }
    map
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
    let by_node = alerts_by_node(&replay.alerts);
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
            let hits = by_node.get(&(chain.id, node.pid, Some(node.image.as_str())));
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
        replay.summary.events,
        replay.chains.len(),
        replay.alerts.len()
    );
    for (title, count) in &replay.summary.by_rule {
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
