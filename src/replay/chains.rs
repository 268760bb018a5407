//! Process trees rebuilt from process-creation events.
//!
//! A child finds its parent by `ParentProcessGuid` when both carry GUIDs
//! (Sysmon: unique per process, so pid reuse cannot confuse it), else by
//! `ParentProcessId`: events are walked in time order and a pid names the
//! latest process that started with it, so a reused pid links to the
//! process alive at the time, not an earlier one. A parent seen only through
//! a child's `ParentImage` becomes a root node without an event. Ids are
//! scoped by `Computer` when present. Nothing here evaluates rules.

use std::collections::HashMap;

use serde_json::Value;

use crate::scenario::Platform;
use crate::telemetry::{Category, Event};

/// One process in a chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Executable path (`ParentImage` for a parent seen only through it).
    pub image: String,
    /// Command line, where known.
    pub command_line: Option<String>,
    /// Process id, where known.
    pub pid: Option<u64>,
    /// Distance from the root (the root is 0).
    pub depth: usize,
    /// Index of the process-creation event, `None` for a parent known only
    /// from a child's fields.
    pub event: Option<usize>,
    /// Titles of the rules that fired on this node's event.
    pub alerts: Vec<String>,
}

/// A process tree, nodes in depth-first order (each parent before its
/// children, children in time order).
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
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
}

/// Identity of a process: `(computer, "g:<guid>" | "p:<pid>")`.
type Key = (Option<String>, String);

struct Proc {
    image: String,
    command_line: Option<String>,
    pid: Option<u64>,
    event: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// A field's text; Sysmon's placeholders for "unknown" (`?`, `-`, the
/// all-zero GUID) count as absent.
fn text(event: &Event, field: &str) -> Option<String> {
    let v = event.fields.get(field).and_then(Value::as_str)?.trim();
    let zero_guid = v.len() > 30 && v.chars().all(|c| matches!(c, '0' | '-' | '{' | '}'));
    (!(v.is_empty() || v == "?" || v == "-" || zero_guid)).then(|| v.to_string())
}

fn number(event: &Event, field: &str) -> Option<u64> {
    let v = event.fields.get(field)?;
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Trees of at least a parent and a child, rebuilt from the
/// process-creation events of `events` (indices refer to `events`).
pub fn build(events: &[(Event, Platform)]) -> Vec<Chain> {
    let mut order: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].0.category == Category::ProcessCreation)
        .collect();
    // Stable: events without a time keep file order among themselves.
    order.sort_by_key(|&i| events[i].0.at);
    let mut procs: Vec<Proc> = Vec::with_capacity(order.len());
    let mut by_guid: HashMap<Key, usize> = HashMap::new();
    for &i in &order {
        let e = &events[i].0;
        if let Some(g) = text(e, "ProcessGuid") {
            by_guid.insert((text(e, "Computer"), g.to_ascii_lowercase()), procs.len());
        }
        procs.push(Proc {
            image: text(e, "Image").unwrap_or_else(|| "?".into()),
            command_line: text(e, "CommandLine"),
            pid: number(e, "ProcessId"),
            event: Some(i),
            parent: None,
            children: Vec::new(),
        });
    }
    let mut by_pid: HashMap<Key, usize> = HashMap::new();
    // Parents known only from children's fields, by their key.
    let mut ghosts: HashMap<Key, usize> = HashMap::new();
    for (n, &i) in order.iter().enumerate() {
        let e = &events[i].0;
        let host = text(e, "Computer");
        let parent_guid = text(e, "ParentProcessGuid").map(|g| g.to_ascii_lowercase());
        let ppid = number(e, "ParentProcessId");
        let found = parent_guid
            .as_ref()
            .and_then(|g| by_guid.get(&(host.clone(), g.clone())))
            .or_else(|| ppid.and_then(|p| by_pid.get(&(host.clone(), format!("p:{p}")))))
            .copied()
            .filter(|&p| p != n);
        let parent = match found {
            Some(p) => Some(p),
            None => ghost_parent(e, host.clone(), parent_guid, ppid, &mut procs, &mut ghosts),
        };
        if let Some(p) = parent {
            procs[n].parent = Some(p);
            procs[p].children.push(n);
        }
        if let Some(pid) = procs[n].pid {
            by_pid.insert((host, format!("p:{pid}")), n);
        }
    }
    let mut chains = Vec::new();
    for root in 0..procs.len() {
        if procs[root].parent.is_some() || procs[root].children.is_empty() {
            continue;
        }
        let mut nodes = Vec::new();
        let mut stack = vec![(root, 0)];
        while let Some((p, depth)) = stack.pop() {
            let proc = &procs[p];
            nodes.push(Node {
                image: proc.image.clone(),
                command_line: proc.command_line.clone(),
                pid: proc.pid,
                depth,
                event: proc.event,
                alerts: Vec::new(),
            });
            stack.extend(proc.children.iter().rev().map(|&c| (c, depth + 1)));
        }
        chains.push(Chain {
            root: procs[root].image.clone(),
            nodes,
        });
    }
    chains
}

/// The node standing for a parent that has no event of its own, shared by
/// its children; `None` when the child names no parent at all.
fn ghost_parent(
    e: &Event,
    host: Option<String>,
    guid: Option<String>,
    ppid: Option<u64>,
    procs: &mut Vec<Proc>,
    ghosts: &mut HashMap<Key, usize>,
) -> Option<usize> {
    let image = text(e, "ParentImage");
    let id = match (&guid, ppid) {
        (Some(g), _) => format!("g:{g}"),
        (None, Some(p)) => format!("p:{p}:{}", image.as_deref().unwrap_or("")),
        (None, None) => format!("i:{}", image.as_deref()?),
    };
    let key = (host, id);
    if let Some(&g) = ghosts.get(&key) {
        return Some(g);
    }
    procs.push(Proc {
        image: image.unwrap_or_else(|| ppid.map_or("?".into(), |p| format!("pid {p}"))),
        command_line: text(e, "ParentCommandLine"),
        pid: ppid,
        event: None,
        parent: None,
        children: Vec::new(),
    });
    ghosts.insert(key, procs.len() - 1);
    Some(procs.len() - 1)
}
