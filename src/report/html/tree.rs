//! The process tree of a chain's ground truth, nested by parent pid.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::{escape, when};
use crate::record::{HopTruth, ProcessTruth};

/// Writes `processes` as nested lists: roots are processes whose parent is
/// not in the list; each node shows image, command line, user, pid, ppid,
/// start time, the hop it realised and the images it ran before its last
/// exec. A parent loop cannot recurse forever: each process is shown once.
pub(super) fn write(out: &mut String, processes: &[ProcessTruth], hops: &[HopTruth]) {
    if processes.is_empty() {
        out.push_str("<p>No process was captured.</p>\n");
        return;
    }
    let pids: BTreeSet<u32> = processes.iter().map(|p| p.pid).collect();
    let mut children: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    let mut roots = Vec::new();
    for (i, p) in processes.iter().enumerate() {
        if p.ppid == p.pid || !pids.contains(&p.ppid) {
            roots.push(i);
        } else {
            children.entry(p.ppid).or_default().push(i);
        }
    }
    let mut shown = vec![false; processes.len()];
    let ctx = Ctx {
        processes,
        hops,
        children: &children,
    };
    out.push_str("<ul class=\"tree\">\n");
    for i in roots {
        node(out, &ctx, i, &mut shown);
    }
    // Processes only reachable through a parent loop.
    for i in 0..processes.len() {
        if !shown[i] {
            node(out, &ctx, i, &mut shown);
        }
    }
    out.push_str("</ul>\n");
}

struct Ctx<'a> {
    processes: &'a [ProcessTruth],
    hops: &'a [HopTruth],
    children: &'a BTreeMap<u32, Vec<usize>>,
}

fn node(out: &mut String, ctx: &Ctx<'_>, i: usize, shown: &mut [bool]) {
    let (Some(p), Some(false)) = (ctx.processes.get(i), shown.get(i).copied()) else {
        return;
    };
    shown[i] = true;
    let image = p.image.as_deref().map_or_else(
        || "<em>image unknown (not readable before it exited)</em>".to_string(),
        |i| format!("<code>{}</code>", escape(i)),
    );
    let realised: Vec<String> = ctx
        .hops
        .iter()
        .filter(|h| h.pid == Some(p.pid) && h.happened)
        .map(|h| format!("<span class=\"badge\">{}</span>", escape(&h.label)))
        .collect();
    let _ = write!(
        out,
        "<li><div class=\"proc\"><span class=\"img\">{image}</span> {}\n<div class=\"cmd\">{}</div>\n\
         <div class=\"pmeta\">user {} · pid {} · ppid {} · started {}{}</div>\n",
        realised.join(" "),
        p.command_line.as_deref().map_or_else(
            || "<em>command line unknown</em>".to_string(),
            |c| format!("<code>{}</code>", escape(c))
        ),
        p.user
            .as_deref()
            .map_or("<em>unknown</em>".to_string(), escape),
        p.pid,
        p.ppid,
        p.started_at.map_or("<em>unknown</em>".to_string(), when),
        if p.sources.is_empty() {
            String::new()
        } else {
            format!(" · seen by {}", escape(&p.sources.join(", ")))
        }
    );
    if !p.earlier_execs.is_empty() {
        out.push_str("<div class=\"pmeta\">ran before its last exec:</div><ol class=\"execs\">");
        for e in &p.earlier_execs {
            let _ = write!(
                out,
                "<li><code>{}</code> <code>{}</code>{}</li>",
                escape(e.image.as_deref().unwrap_or("?")),
                escape(e.command_line.as_deref().unwrap_or("")),
                e.at.map(|t| format!(" at {}", when(t))).unwrap_or_default()
            );
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</div>\n");
    if let Some(kids) = ctx.children.get(&p.pid).filter(|k| !k.is_empty()) {
        out.push_str("<ul>\n");
        for &k in kids {
            node(out, ctx, k, shown);
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</li>\n");
}
