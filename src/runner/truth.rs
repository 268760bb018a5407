//! Ground truth: merging what the capture saw with what stage programs
//! reported, and finding each expected hop of the chain in it.

use std::collections::BTreeMap;
use std::path::Path;

use time::OffsetDateTime;

use crate::capture::Observed;
use crate::record::{ExecTruth, FileTruth, HopTruth, ProcessTruth};
use crate::stage::StageReport;
use crate::vocab::HopKind;

mod names;
use names::{basename, same_name, windows_same};
pub use names::{canonical, glob};

fn at_ns(ns: Option<i128>) -> Option<OffsetDateTime> {
    ns.and_then(|n| OffsetDateTime::from_unix_timestamp_nanos(n).ok())
}

/// Merges capture observations and stage reports into one process list,
/// ordered by start time (unknown last), each with every source that saw it.
pub fn merge(observed: Vec<Observed>, stages: &[StageReport]) -> Vec<ProcessTruth> {
    let mut by_pid: BTreeMap<u32, ProcessTruth> = BTreeMap::new();
    for o in observed {
        let sources = o
            .sources
            .iter()
            .map(|s| source_name(*s).to_string())
            .collect();
        by_pid.insert(
            o.pid,
            ProcessTruth {
                pid: o.pid,
                ppid: o.ppid,
                image: o.image,
                command_line: o.argv.as_ref().map(|a| a.join(" ")),
                argv: o.argv,
                user: o.user,
                uid: o.uid,
                cwd: o.cwd,
                started_at: at_ns(o.started_unix_ns),
                sources,
                earlier_execs: o
                    .earlier_execs
                    .iter()
                    .map(|e| ExecTruth {
                        image: e.image.clone(),
                        command_line: e.argv.as_ref().map(|a| a.join(" ")),
                        argv: e.argv.clone(),
                        at: at_ns(e.unix_ns),
                    })
                    .collect(),
            },
        );
    }
    for s in stages {
        forget_reused(&mut by_pid, s.pid, s.argv.first());
        if let Some(c) = &s.child {
            forget_reused(&mut by_pid, c.pid, c.argv.first());
        }
        let me = entry(&mut by_pid, s.pid, s.ppid);
        me.image.get_or_insert_with(|| s.exe.clone());
        fill_argv(me, &s.argv);
        me.uid.get_or_insert(s.uid);
        if me.cwd.is_none() {
            me.cwd.clone_from(&s.cwd);
        }
        me.started_at = me.started_at.or(at_ns(Some(s.started_unix_ns)));
        if let Some(c) = &s.child {
            let child = entry(&mut by_pid, c.pid, s.pid);
            if child.image.is_none() {
                child.image = c.argv.first().map(|p| canonical(p));
            }
            fill_argv(child, &c.argv);
            child.started_at = child.started_at.or(at_ns(Some(c.started_unix_ns)));
        }
    }
    let mut users: BTreeMap<u32, Option<String>> = BTreeMap::new();
    let mut all: Vec<ProcessTruth> = by_pid.into_values().collect();
    for p in &mut all {
        if p.user.is_none()
            && let Some(uid) = p.uid
        {
            p.user = users.entry(uid).or_insert_with(|| user_name(uid)).clone();
        }
    }
    all.sort_by_key(|p| (p.started_at.is_none(), p.started_at, p.pid));
    all
}

/// Drops what the capture recorded under `pid` when it ran another program
/// than the stage report says was there: an earlier process with the same
/// pid (Windows, and Wine even more, reuse a pid at once), which the
/// report's own account of the pid replaces.
fn forget_reused(map: &mut BTreeMap<u32, ProcessTruth>, pid: u32, argv0: Option<&String>) {
    let Some(argv0) = argv0 else {
        return;
    };
    let want = basename(argv0);
    let ran = |path: &str| same_name(basename(path), want) || same_name(want, basename(path));
    let other = map.get(&pid).is_some_and(|p| {
        let programs: Vec<&str> = p
            .argv
            .iter()
            .chain(p.earlier_execs.iter().filter_map(|e| e.argv.as_ref()))
            .filter_map(|a| a.first().map(String::as_str))
            .chain(p.image.as_deref())
            .collect();
        !programs.is_empty() && !programs.iter().any(|p| ran(p))
    });
    if other {
        map.remove(&pid);
    }
}

fn entry(map: &mut BTreeMap<u32, ProcessTruth>, pid: u32, ppid: u32) -> &mut ProcessTruth {
    let p = map.entry(pid).or_insert_with(|| ProcessTruth {
        pid,
        ppid,
        image: None,
        command_line: None,
        argv: None,
        user: None,
        uid: None,
        cwd: None,
        started_at: None,
        sources: Vec::new(),
        earlier_execs: Vec::new(),
    });
    if !p.sources.iter().any(|s| s == "stage-report") {
        p.sources.push("stage-report".into());
    }
    p
}

fn fill_argv(p: &mut ProcessTruth, argv: &[String]) {
    if p.argv.is_none() {
        p.argv = Some(argv.to_vec());
        p.command_line = Some(argv.join(" "));
    }
}

fn user_name(uid: u32) -> Option<String> {
    crate::platform::host::user_name(uid)
}

/// Name of a capture source in the record.
pub fn source_name(s: crate::capture::Source) -> &'static str {
    match s {
        crate::capture::Source::ProcConnector => "proc-connector",
        crate::capture::Source::ProcScan => "proc-scan",
        crate::capture::Source::ProcessTable => "process-table",
    }
}

/// How the opener hop is recognised.
pub enum OpenerMatch<'a> {
    /// The stage program started as this pid.
    Pid(u32, &'a str),
    /// The earliest process whose image file name matches this pattern.
    Image(&'a str),
}

/// One image one process ran: its earlier execs, then its last.
#[derive(Clone, Copy)]
struct Exec<'a> {
    p: &'a ProcessTruth,
    /// Position among the process's images (earlier execs first).
    pos: usize,
    image: Option<&'a str>,
    argv: Option<&'a Vec<String>>,
    at: Option<OffsetDateTime>,
}

fn execs(p: &ProcessTruth) -> Vec<Exec<'_>> {
    let mut all: Vec<Exec<'_>> = p
        .earlier_execs
        .iter()
        .enumerate()
        .map(|(pos, e)| Exec {
            p,
            pos,
            image: e.image.as_deref(),
            argv: e.argv.as_ref(),
            at: e.at.or(p.started_at),
        })
        .collect();
    let last = p.earlier_execs.last().and_then(|e| e.at);
    all.push(Exec {
        p,
        pos: p.earlier_execs.len(),
        image: p.image.as_deref(),
        argv: p.argv.as_ref(),
        at: last.or(p.started_at),
    });
    all
}

/// True when `e` runs `program` (canonical `want`).
fn runs(e: &Exec<'_>, program: &str, want: &str) -> bool {
    e.image
        .is_some_and(|img| img == want || same_name(basename(img), basename(want)))
        || e.argv
            .and_then(|a| a.first())
            .is_some_and(|a0| a0 == program || (e.image.is_none() && windows_same(a0, program)))
}

/// The images that may realise the step after `prev`: its children's, and
/// its own later images when it exec'd in place (`sh -c 'cmd'`).
fn next_execs<'a>(prev: &Exec<'a>, processes: &'a [ProcessTruth]) -> Vec<Exec<'a>> {
    processes
        .iter()
        .flat_map(execs)
        .filter(|e| e.p.ppid == prev.p.pid || (e.p.pid == prev.p.pid && e.pos > prev.pos))
        .collect()
}

fn opener<'a>(
    m: &OpenerMatch<'_>,
    chain: &[Vec<String>],
    processes: &'a [ProcessTruth],
) -> Option<Exec<'a>> {
    let all: Vec<Exec<'a>> = processes.iter().flat_map(execs).collect();
    match m {
        OpenerMatch::Pid(pid, _) => all.iter().rev().find(|e| e.p.pid == *pid).copied(),
        OpenerMatch::Image(pattern) => {
            // Applications may start their main process more than once (LibreOffice
            // restarts soffice.bin after creating a profile): take the one the
            // chain continues from, else the first.
            let candidates: Vec<&Exec<'a>> = all
                .iter()
                .filter(|e| e.image.is_some_and(|i| glob(pattern, basename(i))))
                .collect();
            let first = chain
                .first()
                .and_then(|a| a.first())
                .map(String::as_str)
                .unwrap_or_default();
            let want = canonical(first);
            let continues = |c: &&&Exec<'a>| {
                next_execs(c, processes)
                    .iter()
                    .any(|n| runs(n, first, &want))
            };
            candidates
                .iter()
                .find(continues)
                .or(candidates.first())
                .map(|e| **e)
        }
    }
}

/// The expected hops — the message when the artifact came by mail, file,
/// open, one spawn per chain step — with what the ground truth holds of
/// each. `chain` is the rendered chain; `message` is `Some` for a delivery
/// by email: the delivered message's file when it arrived, and its
/// Message-ID (what a mail product's evidence is found by).
pub fn hops(
    artifact_name: &str,
    artifact: Option<&FileTruth>,
    message: Option<(Option<&FileTruth>, &str)>,
    opener_match: OpenerMatch<'_>,
    chain: &[Vec<String>],
    processes: &[ProcessTruth],
) -> Vec<HopTruth> {
    let mut hops = Vec::with_capacity(chain.len() + 3);
    if let Some((m, message_id)) = message {
        let missing = "the message did not arrive in the mailbox";
        hops.push(file_hop(0, HopKind::Mail, message_id, m, missing));
    }
    let base = hops.len();
    let missing = "the artifact was not delivered";
    hops.push(file_hop(
        base,
        HopKind::File,
        artifact_name,
        artifact,
        missing,
    ));
    let label = match &opener_match {
        OpenerMatch::Pid(_, name) | OpenerMatch::Image(name) => name.to_string(),
    };
    let found = opener(&opener_match, chain, processes);
    hops.push(hop(
        base + 1,
        HopKind::Open,
        format!("open {label}"),
        &label,
        found,
        None,
        || format!("no process `{label}` was seen opening the file"),
    ));
    let mut prev = found;
    for (i, argv) in chain.iter().enumerate() {
        let program = argv.first().map(String::as_str).unwrap_or_default();
        let want = canonical(program);
        let parent = prev;
        let name = basename(&want).to_string();
        let (found, unread) = match parent {
            Some(parent) => spawned(&parent, program, &want, argv, processes),
            None => (None, false),
        };
        let mut step = hop(
            base + i + 2,
            HopKind::Spawn,
            format!("spawn {name}"),
            program,
            found,
            parent,
            || match parent {
                Some(p) => format!("no `{name}` was started by pid {}", p.p.pid),
                None => "the previous hop did not happen".to_string(),
            },
        );
        if unread && let (Some(f), Some(p)) = (found, parent) {
            step.reason = Some(format!(
                "pid {} exited before its image could be read; it is taken as `{name}` \
                 because it is the one exec pid {} started that no capture could name",
                f.p.pid, p.p.pid
            ));
        }
        hops.push(step);
        prev = found;
    }
    hops
}

/// A hop that is a file landing (the artifact, the delivered message):
/// it happened when the ground truth holds the file.
fn file_hop(
    index: usize,
    kind: HopKind,
    expected: &str,
    file: Option<&FileTruth>,
    missing: &str,
) -> HopTruth {
    HopTruth {
        index,
        kind,
        label: match kind {
            HopKind::Mail => "mail",
            _ => "file",
        }
        .into(),
        expected: expected.to_string(),
        pid: None,
        parent_pid: None,
        image: None,
        path: file.map(|f| f.path.clone()),
        at: file.map(|f| f.written_at),
        happened: file.is_some(),
        reason: file.is_none().then(|| missing.to_string()),
    }
}

/// The exec that realises a chain step started from `parent`: the one
/// running `program` (with exactly `argv` when several do), else — when no
/// capture could read what a child ran because it ended within a millisecond
/// under load — the one unread exec among `parent`'s next images, flagged
/// `true` so the record says so. A step is never called blocked when the
/// kernel saw it happen.
fn spawned<'a>(
    parent: &Exec<'a>,
    program: &str,
    want: &str,
    argv: &[String],
    processes: &'a [ProcessTruth],
) -> (Option<Exec<'a>>, bool) {
    let next = next_execs(parent, processes);
    let named: Vec<&Exec<'a>> = next.iter().filter(|e| runs(e, program, want)).collect();
    if let Some(e) = named
        .iter()
        .find(|e| e.argv.map(Vec::as_slice) == Some(argv))
        .or(named.first())
    {
        return (Some(**e), false);
    }
    let unread: Vec<&Exec<'a>> = next
        .iter()
        .filter(|e| e.image.is_none() && e.argv.is_none())
        .collect();
    match unread.as_slice() {
        [one] => (Some(**one), true),
        _ => (None, false),
    }
}

fn hop(
    index: usize,
    kind: HopKind,
    label: String,
    expected: &str,
    found: Option<Exec<'_>>,
    parent: Option<Exec<'_>>,
    why_not: impl FnOnce() -> String,
) -> HopTruth {
    HopTruth {
        index,
        kind,
        label,
        expected: expected.to_string(),
        pid: found.map(|e| e.p.pid),
        parent_pid: parent.map(|e| e.p.pid).or(found.map(|e| e.p.ppid)),
        image: found.and_then(|e| e.image.map(str::to_string)),
        path: None,
        at: found.and_then(|e| e.at),
        happened: found.is_some(),
        reason: found.is_none().then(why_not),
    }
}

/// Describes a file the run wrote, for the record.
pub fn file_truth(path: &Path, role: &str, origin: &[(String, String)]) -> Option<FileTruth> {
    use sha2::Digest;
    let bytes = std::fs::read(path).ok()?;
    let written_at = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .map(OffsetDateTime::from)?;
    Some(FileTruth {
        path: path.display().to_string(),
        role: role.to_string(),
        size: bytes.len() as u64,
        sha256: hex::encode(sha2::Sha256::digest(&bytes)),
        origin: origin.iter().cloned().collect(),
        written_at,
        writer: None,
    })
}

#[cfg(test)]
mod tests;
