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
}

impl Category {
    /// The Sigma `logsource.category` name.
    pub fn sigma_name(self) -> &'static str {
        match self {
            Category::ProcessCreation => "process_creation",
            Category::FileEvent => "file_event",
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
    /// The chain hop this event belongs to, where known.
    pub hop: Option<usize>,
    /// Sysmon-style fields.
    pub fields: Map<String, Value>,
}

/// A process-creation event for `p`, with its parent's image and command
/// line taken from `parent` when the parent is known.
pub fn process_event(p: &ProcessTruth, parent: Option<&ProcessTruth>, hop: Option<usize>) -> Event {
    let mut fields = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            fields.insert(k.to_string(), v);
        }
    };
    put("Image", json!(p.image));
    put("CommandLine", json!(p.command_line));
    put("ProcessId", json!(p.pid));
    put("ParentProcessId", json!(p.ppid));
    put("User", json!(p.user));
    put("CurrentDirectory", json!(p.cwd));
    if let Some(parent) = parent {
        put("ParentImage", json!(parent.image));
        put("ParentCommandLine", json!(parent.command_line));
        put("ParentUser", json!(parent.user));
    }
    Event {
        category: Category::ProcessCreation,
        at: p.started_at,
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
        at: Some(f.written_at),
        hop,
        fields,
    }
}
