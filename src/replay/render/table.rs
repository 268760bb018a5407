//! `--format table`: what a person reads after a replay.
//!
//! In order: chains with an alert (each hop with its image and command
//! line, its cell and the rules that fired), alerts on events outside any
//! chain (listed up to [`Options::alerts_shown`], the rest counted), quiet
//! chains (up to [`Options::quiet_chains_shown`], the rest counted), alerts
//! per rule, one line per input, the rule-load line and the process-state
//! figures. Nothing is dropped without a number.
//!
//! Chains are written at the end, alerted ones first, so this sink holds
//! the alerted chains, a bounded number of quiet ones, and the alerts not
//! yet shown as part of a closed chain.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Finish, Guarded, Output};
use crate::detect::grade;
use crate::record::Grade;
use crate::replay::model::{Alert, Chain, Node, Sink, Summary};

/// Limits and width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Columns of the terminal (or 100 when not one).
    pub width: usize,
    /// Alerts outside chains listed before the rest are only counted.
    pub alerts_shown: usize,
    /// Chains without alerts shown before the rest are only counted.
    pub quiet_chains_shown: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            width: 100,
            alerts_shown: 50,
            quiet_chains_shown: 20,
        }
    }
}

/// The table sink.
pub struct Table<'w> {
    out: Guarded<'w>,
    options: Options,
    /// Chains with an alert.
    loud: Vec<Chain>,
    /// Chains without, up to the limit.
    quiet: Vec<Chain>,
    /// Quiet chains not kept.
    quiet_more: u64,
    /// Best grade per rule title, from the alerts' tags (nodes carry titles
    /// only).
    grades: HashMap<String, Grade>,
    /// Alerts naming a chain not closed yet, by chain id, with their order.
    pending: HashMap<u64, Vec<(u64, Alert)>>,
    /// Alerts naming no chain, up to the limit, with their order.
    outside: Vec<(u64, Alert)>,
    /// Alerts naming no chain beyond the limit.
    outside_more: u64,
    /// Alerts seen.
    seq: u64,
}

impl<'w> Table<'w> {
    /// A table sink writing to `out` at the end.
    pub fn new(out: Box<dyn Write + 'w>, options: Options) -> Table<'w> {
        Table {
            out: Guarded::new(out),
            options,
            loud: Vec::new(),
            quiet: Vec::new(),
            quiet_more: 0,
            grades: HashMap::new(),
            pending: HashMap::new(),
            outside: Vec::new(),
            outside_more: 0,
            seq: 0,
        }
    }
}

impl Sink for Table<'_> {
    fn alert(&mut self, alert: &Alert) {
        let g = grade(&alert.tags);
        self.grades
            .entry(alert.title.clone())
            .and_modify(|best| *best = better(*best, g))
            .or_insert(g);
        self.seq += 1;
        match alert.chain {
            Some(id) => self
                .pending
                .entry(id)
                .or_default()
                .push((self.seq, alert.clone())),
            None if self.outside.len() < self.options.alerts_shown => {
                self.outside.push((self.seq, alert.clone()));
            }
            None => self.outside_more += 1,
        }
    }

    fn chain(&mut self, chain: &Chain) {
        // Its alerts are shown in the chain's rows.
        self.pending.remove(&chain.id);
        if chain.alerted() {
            self.loud.push(chain.clone());
        } else if self.quiet.len() < self.options.quiet_chains_shown {
            self.quiet.push(chain.clone());
        } else {
            self.quiet_more += 1;
        }
    }
}

impl Output for Table<'_> {
    fn finish(&mut self, end: &Finish<'_>) -> io::Result<()> {
        let mut text = String::new();
        self.loud.sort_by_key(|c| c.id);
        self.quiet.sort_by_key(|c| c.id);
        for chain in self.loud.iter().chain(&self.quiet) {
            self.write_chain(&mut text, chain);
        }
        if self.quiet_more > 0 {
            let _ = writeln!(
                text,
                "({} more chains without alerts not shown)\n",
                self.quiet_more
            );
        }
        self.write_outside(&mut text);
        write_counts(&mut text, end, self.options.width);
        let text: Vec<&str> = text.lines().map(str::trim_end).collect();
        self.out.write(&(text.join("\n") + "\n"));
        self.out.finish()
    }
}

impl Table<'_> {
    fn write_chain(&self, out: &mut String, chain: &Chain) {
        let host = chain
            .host
            .as_deref()
            .map(|h| format!(" on {}", short(h, 40)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "chain {}{host}: {} ({} processes, depth {})",
            chain.id,
            short(&chain.root, 80),
            chain.nodes.len(),
            chain.depth()
        );
        // The hop column takes what the cell and some titles leave.
        let hop_width = (self.options.width * 6 / 10).clamp(40, 100);
        for node in &chain.nodes {
            let indent = "  ".repeat(node.depth.min(10));
            let what = match &node.command_line {
                Some(cmd) => format!("{}  {}", basename(&node.image), cmd),
                None => node.image.clone(),
            };
            let branch = if node.depth > 0 { "└ " } else { "" };
            let room = hop_width.saturating_sub(indent.len() + 2).max(20);
            let hop = format!("{indent}{branch}{}", short(&what, room));
            let titles: Vec<String> = node.alerts.iter().map(|t| short(t, 80)).collect();
            let _ = writeln!(
                out,
                "  {hop:<hop_width$} {:<20} {}",
                self.cell(node),
                titles.join("; ")
            );
        }
        out.push('\n');
    }

    /// `alerted (<best grade>)`, `observed`, or `parent only` for a process
    /// known only from a child's fields.
    fn cell(&self, node: &Node) -> String {
        let best = node
            .alerts
            .iter()
            .filter_map(|t| self.grades.get(t).copied())
            .reduce(better);
        match best {
            Some(g) => format!("alerted ({})", grade_name(g)),
            None if !node.alerts.is_empty() => "alerted (general)".into(),
            None if node.sources.is_empty() => "parent only".into(),
            None => "observed".into(),
        }
    }

    fn write_outside(&self, out: &mut String) {
        // Alerts whose chain never closed as a chain of two or more
        // processes are outside chains too.
        let mut rows: Vec<&(u64, Alert)> = self
            .outside
            .iter()
            .chain(self.pending.values().flatten())
            .collect();
        if rows.is_empty() && self.outside_more == 0 {
            return;
        }
        rows.sort_by_key(|(seq, _)| *seq);
        let total = rows.len() as u64 + self.outside_more;
        let _ = writeln!(out, "alerts outside chains: {total}");
        for (_, a) in rows.iter().take(self.options.alerts_shown) {
            let time = a
                .time
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "  {:<13} {}{}\n      host {}  time {}  pid {}  image {}",
                a.level.as_deref().map_or("-".into(), |l| short(l, 13)),
                short(&a.title, 80),
                a.rule_id
                    .as_deref()
                    .map(|id| format!(" [{}]", short(id, 40)))
                    .unwrap_or_default(),
                a.host.as_deref().map_or("-".into(), |h| short(h, 40)),
                time,
                a.pid.map_or("-".into(), |p| p.to_string()),
                a.image.as_deref().map_or("-".into(), |i| short(i, 80)),
            );
        }
        let shown = rows.len().min(self.options.alerts_shown) as u64;
        if total > shown {
            let _ = writeln!(
                out,
                "  ({} more alerts outside chains not shown)",
                total - shown
            );
        }
        out.push('\n');
    }
}

/// Counts: events, chains, alerts and per rule; per input; the rule load;
/// the process state.
fn write_counts(out: &mut String, end: &Finish<'_>, width: usize) {
    let s: &Summary = end.summary;
    let _ = writeln!(
        out,
        "{} events, {} chains ({} with alerts), {} alerts",
        s.events, s.chains, s.alerted_chains, s.alerts
    );
    let title_width = width.saturating_sub(12).max(40);
    for (title, count) in &s.by_rule {
        let _ = writeln!(out, "  {count:>7}  {}", short(title, title_width));
    }
    for input in &s.inputs {
        let name = short(&input.name, title_width);
        if let Some(why) = &input.refused {
            let _ = writeln!(out, "input {name}: refused: {}", short(why, 200));
            continue;
        }
        let skipped: u64 = input.skipped.values().sum();
        let _ = write!(
            out,
            "input {name}: {}, {} read, {} mapped, {skipped} skipped",
            short(&input.format, 40),
            input.read,
            input.mapped
        );
        let reasons: Vec<String> = input
            .skipped
            .iter()
            .map(|(why, n)| format!("{}: {n}", short(why, 80)))
            .collect();
        if reasons.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, " ({})", reasons.join(", "));
        }
    }
    let _ = writeln!(out, "rules: {}", short(&end.rules.line, 400));
    let st = &s.state;
    let _ = writeln!(
        out,
        "process state: {} merged, {} parent mismatches, {} expired, {} evicted, {} parents only, peak {} open",
        st.merged, st.parent_mismatch, st.expired, st.evicted, st.ghosts, st.peak_open
    );
    if st.late > 0 {
        let _ = writeln!(
            out,
            "warning: {} records came more than a second after a later one of their input; \
             process links follow reading order, so sort the input by time",
            st.late
        );
    }
}

/// The more specific of two grades.
fn better(a: Grade, b: Grade) -> Grade {
    let rank = |g: Grade| match g {
        Grade::Technique => 0,
        Grade::Tactic => 1,
        Grade::General => 2,
    };
    if rank(b) < rank(a) { b } else { a }
}

fn grade_name(g: Grade) -> &'static str {
    match g {
        Grade::Technique => "technique",
        Grade::Tactic => "tactic",
        Grade::General => "general",
    }
}

/// One line of at most `max` characters, hostile characters escaped.
fn short(text: &str, max: usize) -> String {
    let one: String = crate::term::safe(text)
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .collect();
    match one.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &one[..cut]),
        None => one,
    }
}

/// The last path component, for either separator.
fn basename(image: &str) -> &str {
    image.rsplit(['/', '\\']).next().unwrap_or(image)
}
