//! Streaming evaluation: each mapped record is evaluated by the rules as it
//! arrives, attributed to the process it names, and its process joined to
//! an open tree; trees close when idle for [`Options::horizon`] of event
//! time, when the open-process cap [`Options::max_open`] is reached, or at
//! the end, and only then are their chains and alerts emitted.
//!
//! Memory is bounded by the open process state (at most `max_open` nodes
//! with the alerts held for them), never by the input size. The process
//! identity rules live in `procs`; this module owns the order of work and
//! what reaches the [`Sink`]. It reads no files: [`super::run`] feeds it.

#[cfg(test)]
mod bound_tests;
mod fields;
mod procs;
mod slab;
#[cfg(test)]
mod tests;
mod tree;

use std::collections::HashMap;
use std::time::Duration;

use rsigma_parser::LogSource;
use serde_json::Value;

use self::procs::{ProcId, Start, Started, Table};
use super::model::{Alert, Mapped, Origin, Sink, Summary};
use crate::detect::analytic::Stream;
use crate::detect::{Hit, Rules};
use crate::telemetry::Category;
use crate::vocab::Platform;

/// How long process state is kept and how much of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// A tree closes once the event-time watermark (the latest event time
    /// of the input being read) is this far past its last activity.
    /// Default one hour: long enough for a user to open a download and for
    /// its payload to spawn children, short enough that a week of telemetry
    /// does not hold every daemon's tree.
    pub horizon: Duration,
    /// Most processes held open at once; past it, the least recently
    /// active trees close early (counted as evicted). Default 20,000:
    /// about 20 MiB of state, a hundred busy hosts' running processes. A
    /// larger table costs more than its memory: at 100,000 a replay of 1M
    /// records took 1.5 times as long (cache misses, larger trees closed
    /// at once; docs/benchmarks.md).
    pub max_open: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            horizon: Duration::from_secs(3600),
            max_open: 20_000,
        }
    }
}

/// How far behind the watermark a record may be before it counts as late
/// (nanoseconds): logs written by different providers interleave with
/// small disorder that does not matter.
const LATE: i128 = 1_000_000_000;

/// Process end records: their pid stops naming the process.
const ENDS: [Origin; 2] = [
    Origin {
        provider: "sysmon",
        id: Some(5),
    },
    Origin {
        provider: "security",
        id: Some(4689),
    },
];

/// One replay's evaluation state.
pub struct Session<'r> {
    rules: &'r Rules,
    options: Options,
    table: Table,
    analytics: Stream<'r>,
    summary: Summary,
    /// `(input, latest event time in nanoseconds)` of the input being read.
    watermark: Option<(usize, i128)>,
    hosts: HashMap<String, u32>,
    host_names: Vec<Option<String>>,
    /// `(first input index, name)`, ascending.
    input_names: Vec<(usize, String)>,
    chains: u64,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("options", &self.options)
            .field("open", &self.table.procs.len())
            .finish()
    }
}

impl<'r> Session<'r> {
    /// A session evaluating with `rules`.
    pub fn new(rules: &'r Rules, options: Options) -> Session<'r> {
        Session {
            rules,
            options,
            table: Table::default(),
            analytics: rules.analytics_stream(),
            summary: Summary::default(),
            watermark: None,
            hosts: HashMap::new(),
            host_names: vec![None],
            input_names: Vec::new(),
            chains: 0,
        }
    }

    /// Names inputs `first..` (until the next named one) in alerts: a path
    /// given to [`super::run`] may be a folder or ZIP of several inputs.
    pub fn name_inputs(&mut self, first: usize, name: String) {
        self.input_names.push((first, name));
    }

    /// Processes open now (nodes, ghost parents included).
    pub fn open(&self) -> usize {
        self.table.procs.len()
    }

    /// Evaluates one record; alerts not tied to an open tree and trees the
    /// record lets close go to `sink` now.
    pub fn push(&mut self, mut m: Mapped, sink: &mut dyn Sink) {
        let hits = evaluate(self.rules, &mut m);
        self.push_evaluated(m, hits, sink);
    }

    /// As [`Session::push`], for a record whose Sigma hits were already
    /// computed by [`evaluate`] with the same rules (on another thread).
    pub fn push_evaluated(&mut self, m: Mapped, mut hits: Vec<Hit>, sink: &mut dyn Sink) {
        self.summary.events += 1;
        let now = self.advance(&m);
        // The chain analytics correlate a host's records in order: here.
        if m.platform == Platform::Linux {
            hits.extend(self.analytics.observe(m.host.as_deref(), &m.event));
        }
        let host = self.host_id(m.host.as_deref());
        match m.event.category {
            Category::ProcessCreation => self.started(host, &m, hits, now),
            _ => self.acted(host, &m, hits, now, sink),
        }
        self.expire(sink);
        while self.table.procs.len() > self.options.max_open {
            let Some((_, root)) = self.table.trees.oldest() else {
                break;
            };
            self.summary.state.evicted += 1;
            self.close(root, sink);
        }
        let open = self.table.procs.len();
        self.summary.state.peak_open = self.summary.state.peak_open.max(open);
    }

    /// Closes every tree and returns the counts (`inputs` left empty for
    /// the reader to fill).
    pub fn finish(mut self, sink: &mut dyn Sink) -> Summary {
        while let Some((_, root)) = self.table.trees.oldest() {
            self.close(root, sink);
        }
        let mut summary = self.summary;
        summary.state.merged = self.table.merged;
        summary.state.parent_mismatch = self.table.parent_mismatch;
        summary.state.ghosts = self.table.ghosts_made;
        summary
    }

    /// Moves the watermark (reset when a new input starts: inputs are read
    /// one after another, and a Security log read after a Sysmon log of
    /// the same hours must still find its processes open) and returns the
    /// activity time of this record.
    fn advance(&mut self, m: &Mapped) -> i128 {
        let at = m.event.at.map(|t| t.unix_timestamp_nanos());
        if let (Some((input, w)), Some(t)) = (self.watermark, at)
            && input == m.input
            && t < w.saturating_sub(LATE)
        {
            self.summary.state.late += 1;
        }
        let mark = match (self.watermark, at) {
            (Some((input, w)), Some(t)) if input == m.input => w.max(t),
            (Some((input, w)), None) if input == m.input => w,
            (_, Some(t)) => t,
            (_, None) => i128::MIN,
        };
        self.watermark = Some((m.input, mark));
        mark
    }

    fn expire(&mut self, sink: &mut dyn Sink) {
        let Some((_, mark)) = self.watermark else {
            return;
        };
        if mark == i128::MIN {
            return;
        }
        let cutoff = mark.saturating_sub(self.options.horizon.as_nanos() as i128);
        while let Some((last, root)) = self.table.trees.oldest() {
            if last >= cutoff {
                break;
            }
            self.summary.state.expired += 1;
            self.close(root, sink);
        }
    }

    /// A process start: a node (new or merged), its alerts held in its tree.
    fn started(&mut self, host: u32, m: &Mapped, hits: Vec<Hit>, now: i128) {
        let f = &m.event.fields;
        let start = Start {
            host,
            origin: m.origin,
            at: m.event.at,
            image: fields::text(f, "Image"),
            command_line: fields::text(f, "CommandLine"),
            pid: fields::pid(f, "ProcessId"),
            guid: fields::guid(f, "ProcessGuid"),
            parent_guid: fields::guid(f, "ParentProcessGuid"),
            ppid: fields::pid(f, "ParentProcessId"),
            parent_image: fields::text(f, "ParentImage"),
            parent_command_line: fields::text(f, "ParentCommandLine"),
        };
        let started = self.table.start(&start, now);
        let id = started.id();
        for hit in hits {
            // The second log of one process fires the same rules again.
            let seen = (self.table.procs.get(id)).is_some_and(|p| p.alerts.contains(&hit.title));
            if matches!(started, Started::Merged(_)) && seen {
                continue;
            }
            self.hold(id, hit, m);
        }
    }

    /// Any other record: attributed to the open process it names (held in
    /// its tree), else emitted at once outside any chain.
    fn acted(&mut self, host: u32, m: &Mapped, hits: Vec<Hit>, now: i128, sink: &mut dyn Sink) {
        let f = &m.event.fields;
        let id = self.table.find(
            host,
            fields::guid(f, "ProcessGuid"),
            fields::pid(f, "ProcessId"),
        );
        match id {
            Some(id) => {
                let tree = self.table.procs.get(id).map_or(id, |p| p.tree);
                self.table.trees.touch(tree, now);
                for hit in hits {
                    self.hold(id, hit, m);
                }
                if ENDS.contains(&m.origin) {
                    self.table.end(id);
                }
            }
            None => {
                for hit in hits {
                    let mut a = self.alert(hit, m);
                    a.pid = fields::pid(f, "ProcessId");
                    a.image = fields::text(f, "Image").map(str::to_string);
                    a.command_line = fields::text(f, "CommandLine").map(str::to_string);
                    self.emit(&a, sink);
                }
            }
        }
    }

    /// Holds an alert on node `id` until its tree closes.
    fn hold(&mut self, id: ProcId, hit: Hit, m: &Mapped) {
        let mut a = self.alert(hit, m);
        let Some(p) = self.table.procs.get_mut(id) else {
            return;
        };
        a.pid = p.pid;
        a.image = Some(p.image.clone());
        a.command_line = p.command_line.clone();
        if !p.alerts.contains(&a.title) {
            p.alerts.push(a.title.clone());
        }
        let tree = p.tree;
        self.table.trees.hold(tree, a);
    }

    fn alert(&self, hit: Hit, m: &Mapped) -> Alert {
        Alert {
            rule_id: hit.rule_id,
            title: hit.title,
            level: hit.level,
            tags: hit.tags,
            logsource: describe(m.logsources),
            origin: m.origin,
            host: m.host.clone(),
            time: m.event.at,
            pid: None,
            image: None,
            command_line: None,
            chain: None,
            input: self.input_name(m.input),
        }
    }

    /// Emits a closed tree: its held alerts, carrying the id of its chain
    /// when it has two or more nodes, then that chain (sinks may rely on
    /// a chain's alerts coming before it).
    fn close(&mut self, root: ProcId, sink: &mut dyn Sink) {
        let Some(tree) = self.table.trees.take(root) else {
            return;
        };
        let removed = self.table.remove(&tree.members);
        let mut chain = None;
        if removed.len() >= 2 {
            self.chains += 1;
            let host = removed
                .iter()
                .find(|(id, _)| *id == root)
                .map_or(0, |(_, p)| p.host);
            let host = self.host_names.get(host as usize).cloned().flatten();
            chain = Some(tree::chain(self.chains, host, root, removed));
        }
        for mut a in tree.pending {
            a.chain = chain.as_ref().map(|c| c.id);
            self.emit(&a, sink);
        }
        if let Some(chain) = chain {
            self.summary.chains += 1;
            if chain.alerted() {
                self.summary.alerted_chains += 1;
            }
            sink.chain(&chain);
        }
    }

    fn emit(&mut self, a: &Alert, sink: &mut dyn Sink) {
        self.summary.alerts += 1;
        match self.summary.by_rule.get_mut(&a.title) {
            Some(n) => *n += 1,
            None => {
                self.summary.by_rule.insert(a.title.clone(), 1);
            }
        }
        sink.alert(a);
    }

    fn host_id(&mut self, host: Option<&str>) -> u32 {
        let Some(h) = host else { return 0 };
        if let Some(&id) = self.hosts.get(h) {
            return id;
        }
        let id = self.host_names.len() as u32;
        self.host_names.push(Some(h.to_string()));
        self.hosts.insert(h.to_string(), id);
        id
    }

    fn input_name(&self, input: usize) -> String {
        let at = self
            .input_names
            .partition_point(|(first, _)| *first <= input);
        match at.checked_sub(1).and_then(|i| self.input_names.get(i)) {
            Some((_, name)) => name.clone(),
            None => format!("input {input}"),
        }
    }
}

/// The Sigma rules matching one record under its log sources. The engine
/// reads a JSON value; the fields move in and back out, never copied.
pub fn evaluate(rules: &Rules, m: &mut Mapped) -> Vec<Hit> {
    let value = Value::Object(std::mem::take(&mut m.event.fields));
    let hits = rules.evaluate_in(&value, m.logsources);
    if let Value::Object(f) = value {
        m.event.fields = f;
    }
    hits
}

/// `product/category` (or `product/service`) of the first log source.
fn describe(logsources: &[LogSource]) -> String {
    let Some(ls) = logsources.first() else {
        return String::new();
    };
    let product = ls.product.as_deref().unwrap_or("");
    match ls.category.as_deref().or(ls.service.as_deref()) {
        Some(what) => format!("{product}/{what}"),
        None => product.to_string(),
    }
}
