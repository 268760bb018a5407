//! The config loader: parse and check one config file (no secrets read, no
//! network). Refusals are fine; a panic is a crash.
#![no_main]

use std::path::Path;

use chainproof::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Config::parse(text, Path::new("fuzz.yaml"));
});
