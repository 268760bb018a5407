//! Blind spots, field by field: per hop, which of an incident responder's
//! questions (user, host, file path, hash, origin URL, parent, command
//! line, child processes) the backend's own events can answer — computed
//! from the fields of the events it returned for that hop, never from the
//! ground truth. Pure: no I/O.
//!
//! The fields read are the Sysmon-style names the telemetry layer maps
//! every backend's answer to (`User`, `host`, `TargetFilename`, `Image`,
//! `OriginUrl`, `ParentImage`, `CommandLine`, ...), plus the raw names some
//! readers keep (`Computer`, `Hashes`, `HostUrl`, `ReferrerUrl`). Which
//! rules can never fire on such data lives in [`blind`].

pub mod blind;

use serde_json::Value;

use crate::backend::RunAnswer;
use crate::record::{HopTruth, HopVisibility, Question, ScenarioRun};
use crate::telemetry::{Category, Event};
use crate::vocab::HopKind;

/// Fields that answer a question other than the file path and children.
fn fields(q: Question) -> &'static [&'static str] {
    match q {
        Question::User => &["User", "SubjectUserName", "AccountName", "user"],
        Question::Host => &["host", "Computer", "Hostname", "DeviceName"],
        Question::Hash => &[
            "Hashes", "Hash", "sha256", "SHA256", "sha1", "SHA1", "md5", "MD5",
        ],
        // Zone.Identifier's HostUrl and ReferrerUrl, macOS's and Linux's
        // origin marks and Defender's FileOriginUrl all map to OriginUrl.
        Question::OriginUrl => &["OriginUrl", "HostUrl", "ReferrerUrl", "FileOriginUrl"],
        Question::Parent => &["ParentImage", "ParentProcessId", "ParentProcessGuid"],
        Question::CommandLine => &["CommandLine"],
        Question::FilePath | Question::Children => &[],
    }
}

/// The questions asked of a hop: a file hop is asked what a file is asked
/// (path, hash, origin, who and where), a process hop what a process is —
/// and about its children only when the ground truth says it had any, so
/// the last hop is not held to a question with no answer.
fn asked(hop: &HopTruth, run: &ScenarioRun) -> Vec<Question> {
    use Question::*;
    match hop.kind {
        HopKind::File => vec![User, Host, FilePath, Hash, OriginUrl],
        // The delivered message: where it landed and on whose host.
        HopKind::Mail => vec![User, Host, FilePath],
        HopKind::Open | HopKind::Spawn => {
            let mut q = vec![User, Host, FilePath, Hash, Parent, CommandLine];
            if hop.pid.is_some_and(|pid| has_children(run, pid)) {
                q.push(Children);
            }
            q
        }
    }
}

fn has_children(run: &ScenarioRun, pid: u32) -> bool {
    run.truth
        .processes
        .iter()
        .any(|p| p.ppid == pid && p.pid != pid)
}

/// True when `v` says something: not null, not an empty string or list.
fn present(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

fn holds(events: &[&Event], names: &[&str]) -> bool {
    events
        .iter()
        .any(|e| names.iter().any(|n| present(e.fields.get(*n))))
}

/// Whether the backend's events answer `q` about `hop`, given `mine` (the
/// hop's own events) and `all` (every event of the run's answer).
fn answers(q: Question, hop: &HopTruth, mine: &[&Event], all: &[Event]) -> bool {
    match q {
        Question::FilePath => match hop.kind {
            HopKind::Mail | HopKind::File => holds(mine, &["TargetFilename"]),
            HopKind::Open | HopKind::Spawn => holds(mine, &["Image"]),
        },
        // A child is an observed process whose parent is this hop's pid
        // (not the same pid: an exec in place is the hop itself).
        Question::Children => hop.pid.is_some_and(|pid| {
            let pid = u64::from(pid);
            !mine.is_empty()
                && all.iter().any(|e| {
                    e.category == Category::ProcessCreation
                        && e.fields.get("ParentProcessId").and_then(Value::as_u64) == Some(pid)
                        && e.fields.get("ProcessId").and_then(Value::as_u64) != Some(pid)
                })
        }),
        other => holds(mine, fields(other)),
    }
}

/// Per hop that happened, which questions the backend's answer for `run`
/// can answer. A hop that never ran is not asked: there is nothing to see.
pub fn of(run: &ScenarioRun, answer: &RunAnswer) -> Vec<HopVisibility> {
    run.hops
        .iter()
        .filter(|h| h.happened)
        .map(|hop| {
            let mine: Vec<&Event> = answer
                .events
                .iter()
                .filter(|e| super::event_matches(e, hop))
                .collect();
            let (answered, unanswered): (Vec<Question>, Vec<Question>) = asked(hop, run)
                .into_iter()
                .partition(|q| answers(*q, hop, &mine, &answer.events));
            HopVisibility {
                index: hop.index,
                events: mine.len(),
                answered,
                unanswered,
            }
        })
        .collect()
}

/// How often a backend's data answered one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// The question.
    pub question: Question,
    /// Hops it was asked of.
    pub asked: usize,
    /// Hops whose events answered it.
    pub answered: usize,
}

/// Per question, over every hop of `rows`, how often it was asked and
/// answered; questions never asked are left out.
pub fn tally<'a>(rows: impl IntoIterator<Item = &'a HopVisibility>) -> Vec<Tally> {
    let mut out: Vec<Tally> = Question::ALL
        .iter()
        .map(|&question| Tally {
            question,
            asked: 0,
            answered: 0,
        })
        .collect();
    for row in rows {
        for t in &mut out {
            let yes = row.answered.contains(&t.question);
            t.asked += usize::from(yes || row.unanswered.contains(&t.question));
            t.answered += usize::from(yes);
        }
    }
    out.retain(|t| t.asked > 0);
    out
}

/// One sentence on what a backend's data holds, e.g. `holds user, parent
/// and command line; partly host (2 of 3 hops); never hash and origin URL`.
pub fn sentence(tallies: &[Tally]) -> String {
    let words = |f: &dyn Fn(&Tally) -> bool, note: bool| -> Vec<String> {
        tallies
            .iter()
            .filter(|t| f(t))
            .map(|t| match note {
                true => format!(
                    "{} ({} of {} hops)",
                    t.question.words(),
                    t.answered,
                    t.asked
                ),
                false => t.question.words().to_string(),
            })
            .collect()
    };
    let all = words(&|t| t.answered == t.asked, false);
    let some = words(&|t| t.answered > 0 && t.answered < t.asked, true);
    let none = words(&|t| t.answered == 0, false);
    let mut parts = Vec::new();
    for (lead, list) in [("holds", all), ("partly", some), ("never", none)] {
        if !list.is_empty() {
            parts.push(format!("{lead} {}", join(&list)));
        }
    }
    if parts.is_empty() {
        return "no hop to ask about".into();
    }
    parts.join("; ")
}

/// `a`, `a and b`, `a, b and c`.
fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests;
