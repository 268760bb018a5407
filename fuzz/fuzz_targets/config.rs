//! The config loader: parse and check one config file (no secrets read, no
//! network). Refusals are fine; a panic is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The body is chainproof::fuzzing::one, which the regression test of
// fuzz/regressions/ also replays.
fuzz_target!(|data: &[u8]| chainproof::fuzzing::one("config", data));
