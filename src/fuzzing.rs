//! What each fuzz target (`fuzz/`, docs/fuzzing.md) does with one input,
//! in one place: the targets in `fuzz/fuzz_targets/` call [`one`], and a
//! plain `cargo test` replays every input a target once crashed on (kept
//! under `fuzz/regressions/<target>/`) through the same function, so the
//! fuzzer and the regression test can never drift apart.
//!
//! Not an API: hidden from the docs, kept public only for the fuzz crate.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::config::Config;
use crate::detect::Rules;
use crate::scenario::{Source, load_source};
use crate::telemetry::auditd;
use crate::telemetry::input::{Loaded, load_bytes};
use crate::telemetry::{Category, Event};
use crate::vocab::Platform;

/// The targets of fuzz/Cargo.toml; a folder named otherwise is an error, so
/// a misnamed folder is not skipped silently.
pub const TARGETS: &[&str] = &[
    "scenario", "config", "sigma", "evtx", "jsonl", "audit", "zip",
];

/// One input through `target`'s entry point. Refusals are fine; a panic
/// is a crash. Inputs a reader would never be handed (not UTF-8 for the
/// text loaders, the wrong magic for EVTX and ZIP) return at once, so each
/// target spends its time on its own format.
pub fn one(target: &str, data: &[u8]) {
    // Files are read as UTF-8 text: other bytes never reach the parsers.
    let text = std::str::from_utf8(data).ok();
    let zip = data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06");
    let evtx = data.starts_with(b"ElfFile\0");
    match (target, text) {
        ("scenario", Some(text)) => {
            let _ = load_source(Source {
                path: PathBuf::from("fuzz.yaml"),
                text: text.to_owned(),
            });
        }
        ("config", Some(text)) => {
            let _ = Config::parse(text, Path::new("fuzz.yaml"));
        }
        ("sigma", Some(text)) => sigma(text),
        ("audit", Some(text)) => {
            let _ = auditd::parse_auto(text);
            let _ = load_bytes("fuzz.log", data.to_vec(), &mut Loaded::default());
        }
        ("evtx", _) if evtx => {
            let _ = load_bytes("fuzz.evtx", data.to_vec(), &mut Loaded::default());
        }
        ("zip", _) if zip => {
            let _ = load_bytes("fuzz.zip", data.to_vec(), &mut Loaded::default());
        }
        // Binary magics go to the EVTX and ZIP targets.
        ("jsonl", _) if !(data.starts_with(b"PK") || evtx) => {
            let _ = load_bytes("fuzz.json", data.to_vec(), &mut Loaded::default());
        }
        _ => {}
    }
}

/// Load the rule, then evaluate one event per platform and the analytics.
fn sigma(text: &str) {
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
        arrived: None,
        at: None,
        hop: None,
        fields,
    };
    for platform in [Platform::Linux, Platform::Macos, Platform::Windows] {
        let _ = rules.evaluate(&event, platform);
    }
    let _ = rules.evaluate_linux_analytics(&[&event, &event]);
}

#[cfg(test)]
#[test]
fn every_kept_fuzz_crash_is_handled() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut replayed = 0;
    for dir in std::fs::read_dir(&root).expect("fuzz/regressions exists") {
        let dir = dir.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        let target = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(
            TARGETS.contains(&target),
            "unknown fuzz target folder {dir:?}"
        );
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("target folder")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).expect("regression input");
            eprintln!("replaying {}", file.display());
            one(target, &data);
            replayed += 1;
        }
    }
    eprintln!("{replayed} fuzz regression inputs replayed");
}
