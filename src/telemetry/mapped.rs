//! A telemetry record on its way from a reader to whatever evaluates it:
//! the normalised [`Event`] with the Sigma log sources it belongs to and
//! where it came from ([`Mapped`]), and what each input gave ([`InputStats`]).
//!
//! Types only: the readers that produce them are in [`super::input`].

use std::collections::BTreeMap;

use rsigma_parser::LogSource;
use serde::Serialize;

use super::Event;
use crate::vocab::Platform;

/// Which log and event a record came from: `sysmon 1`, `security 4688`,
/// `auditd`, `eslogger exec`. Nodes list every origin that saw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Origin {
    /// The log or tool: `sysmon`, `security`, `system`, `powershell`,
    /// `sysmon-linux`, `auditd`, `eslogger`, `unified-log`, `chainproof`…
    pub provider: &'static str,
    /// The event id or kind within it, where it has one.
    pub id: Option<u32>,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.id {
            Some(id) => write!(f, "{} {id}", self.provider),
            None => f.write_str(self.provider),
        }
    }
}

/// One record read and mapped: its fields under the names Sigma rules
/// use, every Sigma log source it belongs to, and where it came from.
#[derive(Debug, Clone)]
pub struct Mapped {
    /// The event. `category` is `ProcessCreation`/`FileEvent` where it is
    /// one (chains and the chain analytics read those), else `Other`.
    pub event: Event,
    /// The platform whose rules apply (the Sigma `product`).
    pub platform: Platform,
    /// Every log source the record belongs to, product included (a Sysmon
    /// 13 record is `registry_set` and `registry_event`; a 4688 record is
    /// `process_creation` and service `security`).
    pub logsources: &'static [LogSource],
    /// The host, from whichever field the format names it with
    /// (`Computer`, `Hostname`, `host.name`, `agent.hostname`…).
    pub host: Option<String>,
    /// Where it came from.
    pub origin: Origin,
    /// Index of its input in the [`InputStats`] list.
    pub input: usize,
}

/// What one input (a file, or `archive.zip!entry`) gave.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InputStats {
    /// The file, `zip!entry` for a ZIP entry.
    pub name: String,
    /// The format recognised: `evtx`, `json`, `json-lines`, `auditd`…,
    /// or empty when the file was refused.
    pub format: String,
    /// Records (or lines) read.
    pub read: u64,
    /// Records mapped to at least one Sigma log source.
    pub mapped: u64,
    /// Records not mapped, counted by reason (`Sysmon event 4: no Sigma
    /// log source`, `line not JSON`…).
    pub skipped: BTreeMap<String, u64>,
    /// Why the whole file was refused (not telemetry, unreadable), when
    /// it was; the rest of the inputs are still read.
    pub refused: Option<String>,
}
