//! The JSON reader of `replay`: one document, an array of records, or JSON
//! lines (Sysmon, Winlogbeat, Security 4688, laurel and `SyslogMessage`
//! exports), through the same sniffing as a file on disk. A panic is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The body is chainproof::fuzzing::one, which the regression test of
// fuzz/regressions/ also replays.
fuzz_target!(|data: &[u8]| chainproof::fuzzing::one("jsonl", data));
