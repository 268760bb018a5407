//! The scenario loader: parse and check one scenario file, as `validate` and
//! `run` do. Refusals are fine; a panic is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The body is chainproof::fuzzing::one, which the regression test of
// fuzz/regressions/ also replays.
fuzz_target!(|data: &[u8]| chainproof::fuzzing::one("scenario", data));
