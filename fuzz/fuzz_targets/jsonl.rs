//! The JSON reader of `replay`: one document, an array of records, or JSON
//! lines (Sysmon, Winlogbeat, Security 4688, laurel and `SyslogMessage`
//! exports), through the same sniffing as a file on disk. A panic is a crash.
#![no_main]

use chainproof::replay::input::{Loaded, load_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Binary magics go to the EVTX and ZIP targets.
    if data.starts_with(b"PK") || data.starts_with(b"ElfFile\0") {
        return;
    }
    let _ = load_bytes("fuzz.json", data.to_vec(), &mut Loaded::default());
});
