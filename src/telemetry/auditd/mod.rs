//! Linux audit trail → normalised [`telemetry`](crate::telemetry) events:
//! successful `execve`/`execveat` become `process_creation` events and
//! file creations (`creat`, `open`/`openat` with `O_CREAT`, renames) become
//! `file_event`s, in the Sysmon-style field names Sigma rules expect.
//!
//! Inputs, one record or event a line, may be mixed:
//! - raw `audit.log` / `ausearch --raw` lines (`type=SYSCALL msg=audit(...)`),
//!   bare, with a `node=` prefix, behind a syslog header, or as the
//!   `SyslogMessage` of a JSON line (Azure Log Analytics exports), including
//!   auoms' one-record `type=AUOMS_EXECVE audit(...)` form;
//! - laurel JSON lines (`{"ID":..., "SYSCALL":{...}, "EXECVE":{"ARGV":[...]}}`).
//!
//! `parse` splits lines into records and decodes values; this module groups
//! records by `(node, event id)`; `assemble` folds each group into one audit
//! event and builds the telemetry events. Nothing here does I/O
//! beyond looking uids up in the host's user database, and decides nothing
//! about hops or verdicts.

mod assemble;
mod parse;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use serde_json::Value;

use crate::telemetry::Event;
use assemble::{AuditEvent, Resolver};

/// Events parsed from a text, and how many non-blank lines were not
/// understood.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// Process and file events, in time order.
    pub events: Vec<Event>,
    /// Lines that were neither an audit record nor a laurel event.
    pub skipped_lines: usize,
}

/// Which line formats a parse accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accept {
    Raw,
    Laurel,
    Any,
}

/// Parses raw audit records (any of the wrappings in the module docs).
pub fn parse_raw(text: &str) -> Parsed {
    parse_with(text, Accept::Raw, &host_user)
}

/// Parses laurel JSON lines.
pub fn parse_laurel(text: &str) -> Parsed {
    parse_with(text, Accept::Laurel, &host_user)
}

/// Parses a text of raw records, laurel lines, or both, telling them apart
/// line by line.
pub fn parse_auto(text: &str) -> Parsed {
    parse_with(text, Accept::Any, &host_user)
}

/// A uid's name in this host's user database. The log's own names (auditd
/// enrichment, laurel, auoms) are preferred over this: the log may come
/// from another host.
fn host_user(uid: u32) -> Option<String> {
    // Windows has no uid database: a Linux log's uids mean nothing there.
    if cfg!(windows) {
        return None;
    }
    crate::platform::host::user_name(uid)
}

fn parse_with(text: &str, accept: Accept, resolve: Resolver<'_>) -> Parsed {
    let mut events: Vec<AuditEvent> = Vec::new();
    // (node, event id) → index in `events`.
    let mut by_id: HashMap<(Option<String>, String), usize> = HashMap::new();
    let mut skipped_lines = 0;
    let mut raw_line = |line: &str, events: &mut Vec<AuditEvent>| -> bool {
        let Some(rec) = parse::raw_record(line) else {
            return false;
        };
        let Some((at, serial)) = parse::event_time(rec.id) else {
            return false;
        };
        let key = (rec.node.map(str::to_owned), rec.id.to_owned());
        let idx = *by_id.entry(key).or_insert_with(|| {
            events.push(AuditEvent::new(at, serial));
            events.len() - 1
        });
        if let Some(e) = events.get_mut(idx) {
            e.absorb(&rec);
        }
        true
    };
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let ok = if line.starts_with('{') {
            match serde_json::from_str::<Value>(line) {
                Ok(v) => match v.get("SyslogMessage").and_then(Value::as_str) {
                    Some(msg) if accept != Accept::Laurel => raw_line(msg, &mut events),
                    Some(_) => false,
                    None if accept != Accept::Raw => match parse::laurel_event(&v) {
                        Some(e) => {
                            events.push(e);
                            true
                        }
                        None => false,
                    },
                    None => false,
                },
                Err(_) => false,
            }
        } else {
            accept != Accept::Laurel && raw_line(line, &mut events)
        };
        if !ok {
            skipped_lines += 1;
        }
    }
    events.iter_mut().for_each(AuditEvent::finish);
    Parsed {
        events: assemble::to_events(events, resolve),
        skipped_lines,
    }
}
