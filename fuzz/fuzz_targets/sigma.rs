//! The Sigma rule loader of `detect` (Sigma YAML and chainproof analytics),
//! then one evaluation on each platform, since a rule that compiles is
//! evaluated next. Refusals are fine; a panic is a crash.
#![no_main]

use std::path::PathBuf;

use chainproof::detect::Rules;
use chainproof::scenario::Platform;
use chainproof::telemetry::{Category, Event};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let texts = vec![(PathBuf::from("fuzz.yml"), text.to_owned())];
    let rules = Rules::parse(texts, Vec::new());
    let mut fields = Map::new();
    for (k, v) in [
        ("Image", "C:\\Windows\\System32\\cmd.exe"),
        ("ParentImage", "/usr/bin/soffice.bin"),
        ("CommandLine", "cmd.exe /c echo 1"),
        ("TargetFilename", "/home/u/Downloads/a.iso"),
    ] {
        fields.insert(k.to_owned(), Value::from(v));
    }
    fields.insert("ProcessId".to_owned(), Value::from(42));
    let event = Event {
        category: Category::ProcessCreation,
        at: None,
        hop: None,
        fields,
    };
    for platform in [Platform::Linux, Platform::Macos, Platform::Windows] {
        let _ = rules.evaluate(&event, platform);
    }
    let _ = rules.evaluate_linux_analytics(&[&event, &event]);
});
