//! The terminal view of a history: one line per run and a sparkline of
//! technique-grade coverage.

use time::UtcOffset;
use time::macros::format_description;

use super::Entry;

/// Blocks of the sparkline, lowest to highest.
const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Width of the per-run coverage bar, in characters.
const BAR: usize = 10;

/// Most runs the sparkline shows (the newest ones).
const SPARK_MAX: usize = 60;

/// `n` of `d` rounded to `0..=scale`, or `None` when `d` is zero.
fn scaled(n: usize, d: usize, scale: usize) -> Option<usize> {
    (d > 0).then(|| (n.min(d) * scale + d / 2) / d)
}

/// `n` of `d` as a percentage with one decimal, e.g. ` 66.7%`, or `-`.
fn percent(n: usize, d: usize) -> String {
    scaled(n, d, 1000).map_or_else(|| "-".into(), |t| format!("{}.{}%", t / 10, t % 10))
}

/// `[######....]` for `n` of `d`; dots only when `d` is zero.
fn bar(n: usize, d: usize) -> String {
    let filled = scaled(n, d, BAR).unwrap_or(0);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(BAR - filled))
}

/// One line of a history string, safe for a terminal.
fn safe(text: &str) -> String {
    crate::term::safe(text).replace('\n', "\u{fffd}")
}

/// The history as terminal text: a header, one line per run (start date and
/// time in UTC, run id, chains, technique-grade coverage with a `#` bar,
/// fully-observed share, false positives of negative controls), then a
/// sparkline of technique coverage over the newest runs, oldest first.
/// `no history yet` when `entries` is empty.
///
/// Entries are shown in the order given ([`read`](super::read) sorts them).
pub fn trend_text(entries: &[Entry]) -> String {
    if entries.is_empty() {
        return "no history yet\n".into();
    }
    let date = format_description!("[year]-[month]-[day] [hour]:[minute]");
    let header = [
        "date (UTC)",
        "run",
        "chains",
        "technique",
        "",
        "fully observed",
        "false positives",
    ]
    .map(String::from);
    let mut rows = vec![header];
    for e in entries {
        rows.push([
            e.started_at
                .to_offset(UtcOffset::UTC)
                .format(&date)
                .unwrap_or_default(),
            safe(&e.run_id),
            e.chains.to_string(),
            percent(e.technique, e.chains),
            bar(e.technique, e.chains),
            percent(e.fully_observed, e.chains),
            format!("{} of {}", e.false_positives, e.controls),
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            let pad = " ".repeat(w - cell.chars().count());
            // Text columns align left, numbers right.
            match i {
                0 | 1 | 4 => line.push_str(&format!("{cell}{pad}  ")),
                _ => line.push_str(&format!("{pad}{cell}  ")),
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let shown = &entries[entries.len().saturating_sub(SPARK_MAX)..];
    let spark: String = shown
        .iter()
        .map(|e| scaled(e.technique, e.chains, BLOCKS.len() - 1).map_or('·', |i| BLOCKS[i]))
        .collect();
    let last = shown.last().map_or_else(String::new, |e| {
        format!(" (latest {})", percent(e.technique, e.chains))
    });
    let scope = if shown.len() < entries.len() {
        format!("last {} runs", shown.len())
    } else {
        "oldest to newest".into()
    };
    out.push_str(&format!("technique coverage, {scope}: {spark}{last}\n"));
    out
}
