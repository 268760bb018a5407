//! Replays every input the fuzz targets (`fuzz/`, docs/fuzzing.md) once
//! crashed on, kept under `fuzz/regressions/<target>/`, through the same
//! entry point as the target, so a plain `cargo test` fails if one of them
//! panics again. Test-only: nothing here is part of the library.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::config::Config;
use crate::detect::Rules;
use crate::scenario::{Platform, Source, load_source};
use crate::telemetry::{Category, Event};
use crate::{replay, telemetry_auditd};

/// The targets of fuzz/Cargo.toml; a folder named otherwise is an error, so
/// a misnamed folder is not skipped silently.
const TARGETS: &[&str] = &[
    "scenario", "config", "sigma", "evtx", "jsonl", "audit", "zip",
];

/// One input through the target's entry point; refusals are fine, a panic
/// fails the test.
fn replay_one(target: &str, data: &[u8]) {
    let text = std::str::from_utf8(data).ok();
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
            let _ = telemetry_auditd::parse_auto(text);
            let _ = replay::input::load_bytes(
                "fuzz.log",
                data.to_vec(),
                &mut replay::Loaded::default(),
            );
        }
        ("evtx" | "jsonl" | "zip", _) => {
            let _ =
                replay::input::load_bytes("fuzz", data.to_vec(), &mut replay::Loaded::default());
        }
        _ => {}
    }
}

/// As fuzz_targets/sigma.rs: load, then evaluate one event per platform.
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
        at: None,
        hop: None,
        fields,
    };
    for platform in [Platform::Linux, Platform::Macos, Platform::Windows] {
        let _ = rules.evaluate(&event, platform);
    }
    let _ = rules.evaluate_linux_analytics(&[&event, &event]);
}

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
            replay_one(target, &data);
            replayed += 1;
        }
    }
    eprintln!("{replayed} fuzz regression inputs replayed");
}
