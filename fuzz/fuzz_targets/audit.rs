//! The Linux audit reader: raw audit.log / `ausearch --raw` lines, laurel
//! JSON lines and `SyslogMessage` exports, both as the `auditd` backend reads
//! them (`telemetry_auditd::parse_auto`) and through `replay`'s sniffing.
//! A panic is a crash.
#![no_main]

use chainproof::replay::input::{Loaded, load_bytes};
use chainproof::telemetry_auditd::parse_auto;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_auto(text);
    let _ = load_bytes("fuzz.log", data.to_vec(), &mut Loaded::default());
});
