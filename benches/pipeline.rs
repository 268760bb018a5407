//! The harness's own costs, without touching the host: loading and checking
//! the scenarios, building each artifact, evaluating the Sigma rules, and
//! verifying a record. Prints the median of several rounds per step.
//!
//! Run with `cargo bench --bench pipeline`. The whole-scenario figures (with
//! the chain, the download and the cleanup) come from the `timings` in a
//! run.json; see the issue notes for the commands.

use std::time::{Duration, Instant};

use chainproof::artifact::{desktop, iso, odt};
use chainproof::detect::Rules;
use chainproof::scenario::load_paths;
use chainproof::telemetry::{Category, Event};
use chainproof::vocab::Platform;
use serde_json::json;

const ROUNDS: usize = 15;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(name: &str, per_round: usize, mut f: impl FnMut() -> T) {
    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..per_round {
            std::hint::black_box(f());
        }
        samples.push(start.elapsed() / per_round as u32);
    }
    println!(
        "{name:<44} {:>12.3?} per call (median of {ROUNDS})",
        median(samples)
    );
}

fn main() {
    let command: Vec<String> = [
        "/bin/sh",
        "-c",
        "/usr/bin/touch /tmp/w/proof-cp0123456789.txt; exit 0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    time("load and check the 3 built-in scenarios", 20, || {
        load_paths(&[]).map(|l| l.len()).unwrap_or(0)
    });
    time("build the ODT macro document", 20, || {
        odt::build(&command).map(|b| b.len()).unwrap_or(0)
    });
    time("build the .desktop launcher", 1000, || {
        desktop::build("Invoice-cp0123456789.desktop", &command).len()
    });
    let stage = std::env::current_exe()
        .and_then(std::fs::read)
        .unwrap_or_default();
    let mb = stage.len() as f64 / 1_048_576.0;
    time(
        &format!("build the ISO holding a {mb:.1} MiB stage"),
        1,
        || {
            let files = [iso::IsoFile {
                name: "Setup-cp0123456789".into(),
                data: stage.clone(),
                executable: true,
            }];
            iso::build("CP0123456789", &files)
                .map(|b| b.len())
                .unwrap_or(0)
        },
    );
    time("load the 3 shipped Sigma rules", 20, || {
        Rules::load(&[]).map(|r| r.count).unwrap_or(0)
    });
    let rules = match Rules::load(&[]) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rules: {e}");
            return;
        }
    };
    let fields = json!({
        "Image": "/usr/bin/dash", "ParentImage": "/tmp/w/program/soffice.bin",
        "CommandLine": "/bin/sh -c /usr/bin/touch /tmp/w/proof-cp0123456789.txt; exit 0",
        "ParentCommandLine": "soffice.bin --writer /tmp/w/Downloads/Invoice-cp0123456789.odt",
        "ProcessId": 11, "ParentProcessId": 10, "User": "root",
    });
    let event = Event {
        category: Category::ProcessCreation,
        arrived: None,
        at: None,
        hop: None,
        fields: fields.as_object().cloned().unwrap_or_default(),
    };
    time("evaluate one process event (3 rules)", 10_000, || {
        rules.evaluate(&event, Platform::Linux).len()
    });
}
