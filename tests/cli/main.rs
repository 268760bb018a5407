//! End-to-end tests of the `chainproof` binary, one test binary with a
//! module per command. Each test works in a fresh temporary directory
//! (reports, journal and run directories all inside it). They drive a Unix
//! host's tools (FUSE, auditd, LibreOffice), so they build on Unix only.
#![cfg(unix)]

mod ansible;
mod artifacts;
mod artifacts_pdf;
mod auditd;
mod backend;
mod carry;
mod carry_hand;
mod cleanup;
mod common;
mod delivery;
mod evidence;
mod fidelity;
mod gate;
mod hostile;
mod html;
mod macos_artifacts;
mod merge;
mod output;
mod real;
mod remote;
mod remote_fleet;
mod remote_guard;
mod replay;
mod run;
mod schedule;
mod schedule_guard;
mod sshlab;
mod stage_lookup;
mod stops;
/// The library's test prerequisites (root, tools, shared corpora), the same
/// file, so both apply one rule.
#[path = "../../src/testing.rs"]
mod testing;
mod validate;
mod vendors;
mod verify;
mod width;
mod wine;
