//! Telemetry: the normalised event chainproof reasons about, and the readers
//! that turn recorded files into such events.
//!
//! - [`event`]: the [`Event`] shape (Sysmon-style field names) and its
//!   conversion from ground truth;
//! - [`input`]: streaming readers for EVTX, JSON, ZIP, syslog and audit
//!   files, with the one table mapping each record to its Sigma log sources;
//! - [`auditd`]: the Linux audit trail (raw lines and laurel JSON) folded
//!   into events;
//! - [`mapped`]: a record on its way from a reader to an evaluator.
//!
//! Replay, the recorded-telemetry backend and the fuzz targets all read
//! files through [`input`]; this module evaluates no rule, keeps no process
//! state and decides no verdict, so it sits below `detect`, `backend`,
//! `verify` and `replay` and uses none of them.

pub mod auditd;
pub mod event;
pub mod input;
pub mod mapped;

pub use event::{Category, Event, ExecView, exec_views, file_event, process_event};
pub use input::ReadError;
pub use mapped::{InputStats, Mapped, Origin};
