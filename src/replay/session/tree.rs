//! Open process trees: which nodes each holds, when it was last active,
//! the alerts held back until it closes, and turning a closed tree into a
//! [`Chain`].
//!
//! Trees are ordered by last activity (the event-time watermark when they
//! were last touched, then arrival), so the tree to expire or evict first
//! is always the first of one ordered map.

use std::collections::BTreeMap;

use super::procs::{Proc, ProcId};
use super::slab::IdMap;
use crate::replay::model::{Alert, Chain, Node};

/// One open tree, named by its root.
#[derive(Debug)]
pub(super) struct Tree {
    pub root: ProcId,
    pub members: Vec<ProcId>,
    /// Alerts on its processes, emitted when it closes so they carry the
    /// right chain id.
    pub pending: Vec<Alert>,
    key: (i128, u64),
}

impl Tree {
    pub fn new(root: ProcId) -> Tree {
        Tree {
            root,
            members: vec![root],
            pending: Vec::new(),
            key: (i128::MIN, 0),
        }
    }
}

/// The open trees, by root and by last activity.
#[derive(Debug, Default)]
pub(super) struct Trees {
    by_root: IdMap<ProcId, Tree>,
    order: BTreeMap<(i128, u64), ProcId>,
    seq: u64,
}

impl Trees {
    /// Opens `tree`, active at `activity`.
    pub fn open(&mut self, tree: Tree, activity: i128) {
        let root = tree.root;
        self.by_root.insert(root, tree);
        self.touch(root, activity);
    }

    /// Adds a node to an open tree.
    pub fn join(&mut self, root: ProcId, member: ProcId, activity: i128) {
        if let Some(t) = self.by_root.get_mut(&root) {
            t.members.push(member);
        }
        self.touch(root, activity);
    }

    /// Marks a tree active; activity never goes back in time.
    pub fn touch(&mut self, root: ProcId, activity: i128) {
        let Some(t) = self.by_root.get_mut(&root) else {
            return;
        };
        self.order.remove(&t.key);
        self.seq += 1;
        t.key = (activity.max(t.key.0), self.seq);
        self.order.insert(t.key, root);
    }

    /// Holds an alert until its tree closes.
    pub fn hold(&mut self, root: ProcId, alert: Alert) {
        if let Some(t) = self.by_root.get_mut(&root) {
            t.pending.push(alert);
        }
    }

    /// The least recently active tree and its activity.
    pub fn oldest(&self) -> Option<(i128, ProcId)> {
        self.order.first_key_value().map(|(k, &root)| (k.0, root))
    }

    /// Takes a tree out of the open set.
    pub fn take(&mut self, root: ProcId) -> Option<Tree> {
        let t = self.by_root.remove(&root)?;
        self.order.remove(&t.key);
        Some(t)
    }
}

/// The chain of a closed tree of two or more nodes, its nodes moved out
/// of `removed`: depth-first, each parent before its children, children
/// in start order.
pub(super) fn chain(
    id: u64,
    host: Option<String>,
    root: ProcId,
    removed: Vec<(ProcId, Proc)>,
) -> Chain {
    let mut nodes = Vec::with_capacity(removed.len());
    let mut procs: IdMap<ProcId, Proc> = removed.into_iter().collect();
    let mut stack = vec![(root, 0)];
    while let Some((p, depth)) = stack.pop() {
        let Some(proc) = procs.remove(&p) else {
            continue;
        };
        stack.extend(proc.children.iter().rev().map(|&c| (c, depth + 1)));
        nodes.push(Node {
            image: proc.image,
            command_line: proc.command_line,
            pid: proc.pid,
            depth,
            started: proc.started,
            sources: proc.sources,
            alerts: proc.alerts,
        });
    }
    Chain {
        id,
        host,
        root: nodes.first().map(|n| n.image.clone()).unwrap_or_default(),
        nodes,
    }
}
