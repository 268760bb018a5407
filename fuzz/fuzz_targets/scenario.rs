//! The scenario loader: parse and check one scenario file, as `validate` and
//! `run` do. Refusals are fine; a panic is a crash.
#![no_main]

use std::path::PathBuf;

use chainproof::scenario::{Source, load_source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Files are read with `read_to_string`: non-UTF-8 bytes never get further.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = Source {
        path: PathBuf::from("fuzz.yaml"),
        text: text.to_owned(),
    };
    let _ = load_source(source);
});
