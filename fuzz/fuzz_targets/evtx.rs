//! The EVTX reader of `replay` (and of the `recorded` backend): the bytes go
//! through the same format sniffing as a file on disk. Inputs that lost the
//! `ElfFile` magic belong to other targets and are skipped, so the time goes
//! to the EVTX parser. A panic is a crash.
#![no_main]

use chainproof::replay::input::{Loaded, load_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if !data.starts_with(b"ElfFile\0") {
        return;
    }
    let _ = load_bytes("fuzz.evtx", data.to_vec(), &mut Loaded::default());
});
