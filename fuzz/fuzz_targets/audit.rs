//! The Linux audit reader: raw audit.log / `ausearch --raw` lines, laurel
//! JSON lines and `SyslogMessage` exports, both as the `auditd` backend reads
//! them (`telemetry::auditd::parse_auto`) and through `replay`'s sniffing.
//! A panic is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The body is chainproof::fuzzing::one, which the regression test of
// fuzz/regressions/ also replays.
fuzz_target!(|data: &[u8]| chainproof::fuzzing::one("audit", data));
