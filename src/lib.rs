//! chainproof: benign ATT&CK T1204.002 chains, run for real, verified against
//! telemetry, summed up in a coverage matrix.
//!
//! Data flows one way: [`scenario`] → [`artifact`] / [`runner`] (the run
//! record with ground truth, [`record`]) → [`backend`] + [`detect`] →
//! [`verify`] (verdicts) → [`report`]. [`pipeline`] is the entry point: a
//! request prepared into a checked plan (config, lab guard, scenarios, rules,
//! backend) and executed here ([`suite`], which holds that order) or on
//! targets ([`remote`]); the binary only parses arguments ([`cli`]) or, as a
//! copied opener, runs [`stage`].
//! `docs/architecture.md` maps every module to its layer and the modules it
//! may use; `tests/architecture` fails on an arrow the map does not allow.

// First, so its `outln!`/`errln!` are in scope in every module below.
#[macro_use]
pub mod term;
pub mod artifact;
pub mod backend;
pub mod bundle;
pub mod capture;
pub mod cli;
pub mod config;
pub mod detect;
pub mod exit;
#[doc(hidden)]
pub mod fuzzing;
pub mod gate;
pub mod history;
pub mod intake;
pub mod lab;
pub mod mail;
pub mod payload;
pub mod pipeline;
pub mod platform;
pub mod progress;
pub mod record;
pub mod remote;
pub mod replay;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod schedule;
pub mod secret;
pub mod stage;
pub mod stop;
/// The shipped scenarios and rules, compiled in by `build.rs`.
mod shipped {
    include!(concat!(env!("OUT_DIR"), "/shipped.rs"));
}
pub mod suite;
pub mod telemetry;
#[cfg(test)]
pub(crate) mod testing;
pub mod token;
pub mod verifier;
pub mod verify;
pub mod vocab;
