//! The EVTX reader of `replay` (and of the `recorded` backend): the bytes go
//! through the same format sniffing as a file on disk. Inputs that lost the
//! `ElfFile` magic belong to other targets and are skipped, so the time goes
//! to the EVTX parser. A panic is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The body is chainproof::fuzzing::one, which the regression test of
// fuzz/regressions/ also replays.
fuzz_target!(|data: &[u8]| chainproof::fuzzing::one("evtx", data));
