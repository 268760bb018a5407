//! The Sigma rule loader of `detect` (Sigma YAML and chainproof analytics),
//! then one evaluation on each platform, since a rule that compiles is
//! evaluated next. Refusals are fine; a panic is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The body is chainproof::fuzzing::one, which the regression test of
// fuzz/regressions/ also replays.
fuzz_target!(|data: &[u8]| chainproof::fuzzing::one("sigma", data));
