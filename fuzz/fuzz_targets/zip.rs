//! The ZIP container reader of `replay`: every entry is read and sniffed in
//! turn (nested ZIPs included). Inputs that lost the `PK` magic belong to
//! other targets and are skipped. A panic is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The body is chainproof::fuzzing::one, which the regression test of
// fuzz/regressions/ also replays.
fuzz_target!(|data: &[u8]| chainproof::fuzzing::one("zip", data));
