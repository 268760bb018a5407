//! The ZIP container reader of `replay`: every entry is read and sniffed in
//! turn (nested ZIPs included). Inputs that lost the `PK` magic belong to
//! other targets and are skipped. A panic is a crash.
#![no_main]

use chainproof::replay::input::{Loaded, load_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if !(data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06")) {
        return;
    }
    let _ = load_bytes("fuzz.zip", data.to_vec(), &mut Loaded::default());
});
