//! `chainproof schedule`: the suite of `chainproof run`, run again and again
//! by a foreground service (systemd, a container), never overlapping itself.
//!
//! [`plan`] decides when runs start (`--every`, `--cron` in UTC, jitter, and
//! how an overrunning run delays the next); [`lock`] holds
//! `<reports>/.schedule.lock` with flock(2) for the service's lifetime;
//! [`service`] waits, calls [`crate::suite::run`] (so each run writes its
//! report folder and history line as `chainproof run` does), logs one line
//! per event ([`log`]) and stops on `--max-runs` or SIGTERM/SIGINT; [`units`]
//! holds the systemd unit and crontab line it can print. See
//! `docs/schedule.md`.

pub mod cron;
pub mod lock;
pub mod log;
pub mod plan;
pub mod service;
pub mod units;

pub use cron::CronExpr;
pub use lock::{LOCK_FILE, Lock, LockError};
pub use log::{Event, LogFormat};
pub use plan::{Slot, Slots, When};
pub use service::{Service, Stopped, serve};
