//! Loading the SigmaHQ corpus: `rules/` alone, then the four corpus folders
//! together (`rules`, `rules-threat-hunting`, `rules-emerging-threats`,
//! `rules-placeholder`), then `unsupported` and `deprecated` (rules some
//! engines refuse, so the refusals are counted), each loaded three times. Prints the wall time of
//! each load, what was loaded and refused (by reason), and the peak RSS.
//!
//! Run with `cargo bench --bench rule_load` with the SigmaHQ corpus in
//! `../shared/sigmahq`. Targets: `rules/` in at most 2 s, the four folders
//! with their refusals in at most 3 s (issue 13).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chainproof::detect::Rules;

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let corpus = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/sigmahq"));
    if !corpus.join("rules").is_dir() {
        println!(
            "rule_load: {} is missing; nothing measured",
            corpus.display()
        );
        std::process::exit(1);
    }
    let sets: [(&str, Vec<PathBuf>); 3] = [
        ("rules/", vec![corpus.join("rules")]),
        (
            "four corpus folders",
            [
                "rules",
                "rules-threat-hunting",
                "rules-emerging-threats",
                "rules-placeholder",
            ]
            .iter()
            .map(|d| corpus.join(d))
            .collect(),
        ),
        (
            "unsupported+deprecated",
            vec![corpus.join("unsupported"), corpus.join("deprecated")],
        ),
    ];
    for (name, dirs) in sets {
        let mut times = Vec::new();
        let mut line = String::new();
        let mut examples = Vec::new();
        for _ in 0..3 {
            let start = Instant::now();
            match Rules::load(&dirs) {
                Ok(rules) => {
                    line = rules.summary.line();
                    examples.clear();
                    for (reason, _) in rules.summary.by_reason() {
                        if let Some(r) = rules.summary.refused.iter().find(|r| r.reason == reason) {
                            examples.push(r.to_string());
                        }
                    }
                }
                Err(e) => {
                    println!("{name}: failed: {e}");
                    std::process::exit(1);
                }
            }
            times.push(start.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{name:<20} min {:>7.0} ms  median {:>7.0} ms  max {:>7.0} ms  {line}",
            ms(times[0]),
            ms(times[1]),
            ms(times[2]),
        );
        for e in examples {
            println!("    for example: {e}");
        }
    }
    println!(
        "peak RSS {}",
        peak_rss_mib().map_or("unknown".into(), |m| format!("{m:.0} MiB"))
    );
}
