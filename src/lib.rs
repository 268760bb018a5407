//! chainproof: benign T1204.002 chains, run for real, verified against telemetry.
//!
//! Data flows one way: [`scenario`] → [`artifact`] / [`runner`] (the run record
//! with ground truth, [`record`]) → [`backend`] + [`detect`] → [`verify`]
//! (verdicts) → [`report`]. The binary in `main.rs` only parses arguments and
//! calls [`cli`].

pub mod artifact;
pub mod capture;
