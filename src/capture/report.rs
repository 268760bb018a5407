//! Turns the tracker's entries into the run's [`Observed`] processes at stop.
//!
//! Relatedness is recomputed here from scratch over the lineage links (the online flag in the
//! tracker is only a pruning hint). A process that forked but never exec'd (a subshell)
//! inherits image, argv, uid and cwd from the parent image it was forked from.

use std::collections::HashMap;

use nix::unistd::{Uid, User};

use super::tracker::{Entry, ExecInfo, Id, Tracker};
use super::{EarlierExec, Observed};

/// The run's processes, ordered by start time then pid.
pub(crate) fn observed(tracker: &Tracker) -> Vec<Observed> {
    let entries = &tracker.entries;
    let related = relatedness(entries);
    let mut users = UserNames::default();
    let mut out: Vec<Observed> = entries
        .iter()
        .filter(|(id, _)| related.get(id).copied().unwrap_or(false))
        .map(|(_, entry)| to_observed(entries, entry, &mut users))
        .collect();
    out.sort_by_key(|o| (o.started_unix_ns.unwrap_or(i128::MAX), o.pid));
    out
}

/// Whether each entry belongs to the run: token, root, or a related ancestor.
fn relatedness(entries: &HashMap<Id, Entry>) -> HashMap<Id, bool> {
    let mut memo: HashMap<Id, bool> = HashMap::with_capacity(entries.len());
    for &start in entries.keys() {
        let mut chain = Vec::new();
        let mut cursor = Some(start);
        let verdict = loop {
            let Some(id) = cursor else { break false };
            if let Some(&known) = memo.get(&id) {
                break known;
            }
            let Some(entry) = entries.get(&id) else {
                break false;
            };
            if entry.token || entry.root {
                break true;
            }
            // Links always point to older instances; the bound only guards against a bug.
            if chain.len() > entries.len() {
                break false;
            }
            chain.push(id);
            cursor = entry.parent;
        };
        for id in chain {
            memo.insert(id, verdict);
        }
        memo.entry(start).or_insert(verdict);
    }
    memo
}

/// What a fork-only process inherits: the parent's image at fork time, found up the lineage.
fn inherited<'a>(
    entries: &'a HashMap<Id, Entry>,
    entry: &Entry,
) -> (Option<&'a ExecInfo>, Option<u32>, Option<String>) {
    let mut forked_at = entry.start_ns;
    let mut cursor = entry.parent;
    let (mut uid, mut cwd) = (None, None);
    for _ in 0..entries.len() {
        let Some(parent) = cursor.and_then(|id| entries.get(&id)) else {
            break;
        };
        uid = uid.or(parent.uid);
        cwd = cwd.or_else(|| parent.cwd.clone());
        // The exec in force when the child was forked: the last one not after the fork.
        let exec = parent
            .earlier
            .iter()
            .chain(parent.exec.as_ref())
            .rfind(|e| match (e.unix_ns, forked_at) {
                (Some(exec_at), Some(fork_at)) => exec_at <= fork_at,
                _ => true,
            });
        if exec.is_some() {
            return (exec, uid, cwd);
        }
        forked_at = parent.start_ns.or(forked_at);
        cursor = parent.parent;
    }
    (None, uid, cwd)
}

fn to_observed(entries: &HashMap<Id, Entry>, entry: &Entry, users: &mut UserNames) -> Observed {
    let (exec, uid, cwd) = match &entry.exec {
        Some(exec) => (Some(exec), entry.uid, entry.cwd.clone()),
        None => {
            let (exec, uid, cwd) = inherited(entries, entry);
            (exec, entry.uid.or(uid), entry.cwd.clone().or(cwd))
        }
    };
    let (exit_code, exit_signal) = decode_wait_status(entry.exit_status);
    Observed {
        pid: entry.pid,
        ppid: entry.ppid.unwrap_or(0),
        ppid_from_fork: entry.ppid_from_fork,
        image: exec.and_then(|e| e.image.clone()),
        argv: exec.and_then(|e| e.argv.clone()),
        uid,
        user: uid.and_then(|uid| users.name(uid)),
        started_unix_ns: entry.start_ns,
        exec_unix_ns: entry.exec.as_ref().and_then(|e| e.unix_ns),
        exited_unix_ns: entry.exit_ns.or(entry.gone_ns),
        exit_code,
        exit_signal,
        cwd,
        earlier_execs: entry
            .earlier
            .iter()
            .map(|e| EarlierExec {
                image: e.image.clone(),
                argv: e.argv.clone(),
                unix_ns: e.unix_ns,
            })
            .collect(),
        sources: entry.sources.clone(),
    }
}

/// Splits a wait(2) status into (exit code, terminating signal).
pub(crate) fn decode_wait_status(status: Option<u32>) -> (Option<i32>, Option<i32>) {
    let Some(status) = status else {
        return (None, None);
    };
    let signal = status & 0x7f;
    let code = i32::try_from((status >> 8) & 0xff).ok();
    match signal {
        0 => (code, None),
        // 0x7f marks a stopped (not exited) child; it cannot appear in an exit event.
        0x7f => (None, None),
        sig => (None, i32::try_from(sig).ok()),
    }
}

/// User names by uid, looked up once each (NSS lookups can be slow).
#[derive(Debug, Default)]
struct UserNames(HashMap<u32, Option<String>>);

impl UserNames {
    fn name(&mut self, uid: u32) -> Option<String> {
        self.0
            .entry(uid)
            .or_insert_with(|| {
                User::from_uid(Uid::from_raw(uid))
                    .ok()
                    .flatten()
                    .map(|u| u.name)
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_status_decodes_exit_codes_and_signals() {
        let cases = [
            (None, (None, None)),
            (Some(0), (Some(0), None)),
            (Some(0x0100), (Some(1), None)),
            (Some(0x7f00), (Some(127), None)),
            (Some(9), (None, Some(9))),
            (Some(0x80 | 11), (None, Some(11))), // core dumped
            (Some(0x137f), (None, None)),
        ];
        for (status, want) in cases {
            assert_eq!(decode_wait_status(status), want, "{status:?}");
        }
    }

    #[test]
    fn root_user_name_resolves() {
        assert_eq!(UserNames::default().name(0).as_deref(), Some("root"));
    }
}
