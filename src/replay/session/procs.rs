//! The process table: every open process as one node, found by
//! `(host, ProcessGuid)` or by `(host, pid)` within its lifetime, linked to
//! its parent, grouped into trees that [`super::tree`] closes.
//!
//! Identity rules, in the order they are tried:
//! - a GUID names one process for ever (Sysmon makes them unique), so a
//!   GUID link is trusted as is;
//! - a pid names the latest process that started with it on its host, until
//!   an end record (Sysmon 5, Security 4689) or a newer start replaces it;
//!   a pid link to a parent whose image is not the child's `ParentImage` is
//!   refused (the pid was reused under us) and the child gets a ghost;
//! - a start for a pid already open with the same image, within
//!   [`MERGE_WINDOW`], from an origin that has not recorded it yet, is the
//!   same process seen by a second log (Sysmon 1 and Security 4688): one node.
//!
//! Nothing here evaluates rules or writes output.

use time::OffsetDateTime;

use super::fields::same_file;
use super::slab::{IdMap, Slab};
use super::tree::{Tree, Trees};
use crate::replay::model::Origin;

/// A node's handle; also a tree's handle (a tree is named by its root).
pub(super) type ProcId = usize;

/// Sysmon 1 and Security 4688 of one process are written within
/// milliseconds; a few seconds absorbs clock rounding between the logs
/// while a reused pid with the same image is still told apart.
pub(super) const MERGE_WINDOW: time::Duration = time::Duration::seconds(5);

/// How a parent known only from a child's fields is recognised when
/// another child names it too.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum GhostId {
    /// By its GUID.
    Guid(u128),
    /// By its pid and lowercased image (a pid alone is reused).
    Pid(u64, String),
    /// By its lowercased image only.
    Image(String),
}

/// One process.
#[derive(Debug)]
pub(super) struct Proc {
    pub tree: ProcId,
    pub host: u32,
    pub image: String,
    pub command_line: Option<String>,
    pub pid: Option<u64>,
    pub guid: Option<u128>,
    pub started: Option<OffsetDateTime>,
    pub sources: Vec<Origin>,
    /// Rule titles that fired on it, each once.
    pub alerts: Vec<String>,
    pub children: Vec<ProcId>,
    /// Set for a parent known only from a child's fields.
    pub ghost: Option<GhostId>,
}

/// A process start, as read from its record.
#[derive(Debug)]
pub(super) struct Start<'a> {
    pub host: u32,
    pub origin: Origin,
    pub at: Option<OffsetDateTime>,
    pub image: Option<&'a str>,
    pub command_line: Option<&'a str>,
    pub pid: Option<u64>,
    pub guid: Option<u128>,
    pub parent_guid: Option<u128>,
    pub ppid: Option<u64>,
    pub parent_image: Option<&'a str>,
    pub parent_command_line: Option<&'a str>,
}

/// What [`Table::start`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Started {
    /// A new node.
    New(ProcId),
    /// Joined to a node another origin created.
    Merged(ProcId),
}

impl Started {
    pub fn id(self) -> ProcId {
        match self {
            Started::New(id) | Started::Merged(id) => id,
        }
    }
}

/// The open processes and their trees.
#[derive(Debug, Default)]
pub(super) struct Table {
    pub procs: Slab<Proc>,
    by_guid: IdMap<(u32, u128), ProcId>,
    by_pid: IdMap<(u32, u64), ProcId>,
    ghosts: IdMap<(u32, GhostId), ProcId>,
    pub trees: Trees,
    /// Pid links refused for a `ParentImage` mismatch.
    pub parent_mismatch: u64,
    /// Ghost parents created.
    pub ghosts_made: u64,
    /// Starts joined to an existing node.
    pub merged: u64,
}

impl Table {
    /// The open process a record names by GUID, else by pid.
    pub fn find(&self, host: u32, guid: Option<u128>, pid: Option<u64>) -> Option<ProcId> {
        guid.and_then(|g| self.by_guid.get(&(host, g)))
            .or_else(|| pid.and_then(|p| self.by_pid.get(&(host, p))))
            .copied()
    }

    /// Records a process start; `activity` orders its tree for expiry.
    pub fn start(&mut self, s: &Start<'_>, activity: i128) -> Started {
        if let Some(id) = self.same_process(s) {
            self.merge(id, s);
            self.merged += 1;
            let tree = self.procs.get(id).map_or(id, |p| p.tree);
            self.trees.touch(tree, activity);
            return Started::Merged(id);
        }
        let parent = self.parent_of(s, activity);
        let id = self.procs.next_id();
        let tree = parent
            .and_then(|p| self.procs.get(p))
            .map_or(id, |p| p.tree);
        if let Some(proc) = parent.and_then(|p| self.procs.get_mut(p)) {
            proc.children.push(id);
        }
        self.procs.insert(Proc {
            tree,
            host: s.host,
            image: s.image.unwrap_or("?").to_string(),
            command_line: s.command_line.map(str::to_string),
            pid: s.pid,
            guid: s.guid,
            started: s.at,
            sources: vec![s.origin],
            alerts: Vec::new(),
            children: Vec::new(),
            ghost: None,
        });
        if let Some(g) = s.guid {
            self.by_guid.insert((s.host, g), id);
        }
        if let Some(p) = s.pid {
            self.by_pid.insert((s.host, p), id);
        }
        if tree == id {
            self.trees.open(Tree::new(id), activity);
        } else {
            self.trees.join(tree, id, activity);
        }
        Started::New(id)
    }

    /// The open node a start duplicates: same host and pid (or GUID), same
    /// image, close in time, recorded by another origin.
    fn same_process(&self, s: &Start<'_>) -> Option<ProcId> {
        let id = self.find(s.host, s.guid, s.pid)?;
        let p = self.procs.get(id)?;
        let image = s.image.is_some_and(|i| i.eq_ignore_ascii_case(&p.image));
        let near = match (s.at, p.started) {
            (Some(a), Some(b)) => (a - b).abs() <= MERGE_WINDOW,
            _ => false,
        };
        let same_guid = s.guid.is_some() && s.guid == p.guid;
        let new_origin = !p.sources.contains(&s.origin);
        (p.ghost.is_none() && new_origin && (same_guid || (image && near))).then_some(id)
    }

    fn merge(&mut self, id: ProcId, s: &Start<'_>) {
        let Some(p) = self.procs.get_mut(id) else {
            return;
        };
        p.sources.push(s.origin);
        if p.command_line.is_none() {
            p.command_line = s.command_line.map(str::to_string);
        }
        if p.guid.is_none()
            && let Some(g) = s.guid
        {
            p.guid = Some(g);
            self.by_guid.insert((s.host, g), id);
        }
    }

    /// The parent node: by GUID, else by pid checked against
    /// `ParentImage`, else a ghost made from the child's parent fields.
    fn parent_of(&mut self, s: &Start<'_>, activity: i128) -> Option<ProcId> {
        let by_guid = s
            .parent_guid
            .and_then(|g| self.by_guid.get(&(s.host, g)).copied());
        let found = by_guid.or_else(|| {
            let id = *self.by_pid.get(&(s.host, s.ppid?))?;
            let parent = &self.procs.get(id)?.image;
            let known = parent != "?";
            match s.parent_image {
                Some(want) if known && !same_file(want, parent) => {
                    self.parent_mismatch += 1;
                    None
                }
                _ => Some(id),
            }
        });
        found.or_else(|| self.ghost(s, activity))
    }

    /// The node standing for a parent that has no record of its own,
    /// shared by its children; `None` when the child names no parent.
    fn ghost(&mut self, s: &Start<'_>, activity: i128) -> Option<ProcId> {
        let image = s.parent_image;
        let key = match (s.parent_guid, s.ppid) {
            (Some(g), _) => GhostId::Guid(g),
            (None, Some(p)) => GhostId::Pid(p, image.unwrap_or("").to_ascii_lowercase()),
            (None, None) => GhostId::Image(image?.to_ascii_lowercase()),
        };
        if let Some(&g) = self.ghosts.get(&(s.host, key.clone())) {
            return Some(g);
        }
        let id = self.procs.next_id();
        self.procs.insert(Proc {
            tree: id,
            host: s.host,
            image: image.map_or_else(
                || s.ppid.map_or("?".into(), |p| format!("pid {p}")),
                str::to_string,
            ),
            command_line: s.parent_command_line.map(str::to_string),
            pid: s.ppid,
            guid: s.parent_guid,
            started: None,
            sources: Vec::new(),
            alerts: Vec::new(),
            children: Vec::new(),
            ghost: Some(key.clone()),
        });
        self.ghosts.insert((s.host, key), id);
        self.ghosts_made += 1;
        self.trees.open(Tree::new(id), activity);
        Some(id)
    }

    /// A process ended: its pid no longer names it, so a later process
    /// with the same pid is a new node. Its GUID still finds it.
    pub fn end(&mut self, id: ProcId) {
        if let Some(pid) = self.procs.get(id).and_then(|p| p.pid.map(|n| (p.host, n)))
            && self.by_pid.get(&pid) == Some(&id)
        {
            self.by_pid.remove(&pid);
        }
    }

    /// Removes a closed tree's nodes and every index entry naming them.
    pub fn remove(&mut self, members: &[ProcId]) -> Vec<(ProcId, Proc)> {
        let mut out = Vec::with_capacity(members.len());
        for id in members {
            let Some(p) = self.procs.remove(*id) else {
                continue;
            };
            if let Some(g) = p.guid
                && self.by_guid.get(&(p.host, g)) == Some(id)
            {
                self.by_guid.remove(&(p.host, g));
            }
            if let Some(n) = p.pid
                && self.by_pid.get(&(p.host, n)) == Some(id)
            {
                self.by_pid.remove(&(p.host, n));
            }
            if let Some(k) = &p.ghost {
                self.ghosts.remove(&(p.host, k.clone()));
            }
            out.push((*id, p));
        }
        out
    }
}
