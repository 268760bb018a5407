//! Normalised telemetry events: what a backend returns for a hop, in the
//! Sysmon-style field names unmodified Sigma rules expect (`Image`,
//! `ParentImage`, `CommandLine`, ...).
//!
//! Owns the event shape and its conversion from ground truth; it must not
//! query anything or decide verdicts.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::record::{FileTruth, ProcessTruth};

/// Sigma log source category of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// A process started.
    ProcessCreation,
    /// A file was created or written.
    FileEvent,
    /// Any other record replay maps (registry, image load, network, a
    /// service log…): its Sigma log sources travel beside it
    /// ([`Mapped::logsources`](super::Mapped::logsources)). Backends return
    /// it only for mail evidence (a message's record, tied to the mail hop
    /// by its `InternetMessageId`).
    Other,
}

impl Category {
    /// The Sigma `logsource.category` name.
    pub fn sigma_name(self) -> &'static str {
        match self {
            Category::ProcessCreation => "process_creation",
            Category::FileEvent => "file_event",
            Category::Other => "other",
        }
    }
}

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Category.
    pub category: Category,
    /// When the event happened on the host.
    pub at: Option<OffsetDateTime>,
    /// When the event reached the backend, by the backend's own clock
    /// (Splunk `_indextime`, Elastic `event.ingested`, Microsoft
    /// `IngestionTime`…), where its answer says; `None` where it does not,
    /// and latencies are then only bounded by polling.
    pub arrived: Option<OffsetDateTime>,
    /// The chain hop this event belongs to, where known.
    pub hop: Option<usize>,
    /// Sysmon-style fields.
    pub fields: Map<String, Value>,
}

/// One image a process ran, as telemetry sees an exec.
#[derive(Debug, Clone, Copy)]
pub struct ExecView<'a> {
    /// Executable path.
    pub image: Option<&'a str>,
    /// Command line.
    pub command_line: Option<&'a str>,
    /// When it was exec'd.
    pub at: Option<OffsetDateTime>,
}

/// Every image `p` ran, earlier execs first, then its last.
pub fn exec_views(p: &ProcessTruth) -> Vec<ExecView<'_>> {
    let mut all: Vec<ExecView<'_>> = p
        .earlier_execs
        .iter()
        .map(|e| ExecView {
            image: e.image.as_deref(),
            command_line: e.command_line.as_deref(),
            at: e.at.or(p.started_at),
        })
        .collect();
    let last = p.earlier_execs.last().and_then(|e| e.at).or(p.started_at);
    all.push(ExecView {
        image: p.image.as_deref(),
        command_line: p.command_line.as_deref(),
        at: last,
    });
    all
}

/// A process-creation event for the exec `e` of `p`, with the parent's
/// image and command line as they were when `p` started (the parent may
/// have exec'd since).
pub fn process_event(
    p: &ProcessTruth,
    e: ExecView<'_>,
    parent: Option<&ProcessTruth>,
    hop: Option<usize>,
) -> Event {
    let mut fields = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            fields.insert(k.to_string(), v);
        }
    };
    put("Image", json!(e.image));
    put("CommandLine", json!(e.command_line));
    put("ProcessId", json!(p.pid));
    put("ParentProcessId", json!(p.ppid));
    put("User", json!(p.user));
    put("CurrentDirectory", json!(p.cwd));
    if let Some(parent) = parent {
        let views = exec_views(parent);
        let at_fork = views
            .iter()
            .rev()
            .find(|v| matches!((v.at, p.started_at), (Some(x), Some(y)) if x <= y))
            .or(views.last());
        if let Some(v) = at_fork {
            put("ParentImage", json!(v.image));
            put("ParentCommandLine", json!(v.command_line));
        }
        put("ParentUser", json!(parent.user));
    }
    Event {
        category: Category::ProcessCreation,
        arrived: None,
        at: e.at,
        hop,
        fields,
    }
}

/// A file-creation event for `f`, written by the process image `writer`.
pub fn file_event(f: &FileTruth, writer: &str, hop: Option<usize>) -> Event {
    let mut fields = Map::new();
    fields.insert("TargetFilename".into(), json!(f.path));
    fields.insert("Image".into(), json!(writer));
    if let Some(url) = f.origin.get("user.xdg.origin.url") {
        fields.insert("OriginUrl".into(), json!(url));
    }
    Event {
        category: Category::FileEvent,
        arrived: None,
        at: Some(f.written_at),
        hop,
        fields,
    }
}
