//! Hostile input files: how long a refusal takes and how much memory it
//! needs. Each case is generated in a temporary folder and loaded through
//! the same library functions `validate`, `run --config`, `gate --policy`
//! and `replay --rules` use; the target is every refusal under 1 s and under
//! 100 MB of peak memory (debug or release build), including the worst file
//! that passes the size and depth limits.
//!
//! Run with `cargo bench --bench hostile`. Peak memory is the process's
//! maximum resident set (getrusage), which only grows: cases run from the
//! smallest to the largest, and the figure printed is the peak so far.

use std::path::{Path, PathBuf};
use std::time::Instant;

fn peak_mb() -> f64 {
    #[cfg(unix)]
    {
        use nix::sys::resource::{UsageWho, getrusage};
        // ru_maxrss is in KiB on Linux.
        getrusage(UsageWho::RUSAGE_SELF).map_or(0.0, |u| u.max_rss() as f64 / 1024.0)
    }
    #[cfg(not(unix))]
    {
        0.0
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {name}: {e}"));
    path
}

fn measure(case: &str, size: usize, load: impl FnOnce() -> Result<(), String>) {
    let started = Instant::now();
    let outcome = load();
    let took = started.elapsed();
    let outcome = match outcome {
        Ok(()) => "accepted".to_string(),
        Err(e) => format!("refused: {}", e.lines().next().unwrap_or_default()),
    };
    let outcome: String = outcome.chars().take(110).collect();
    println!(
        "{case:<34} {:>9} B {:>9.1} ms {:>7.1} MB peak  {outcome}",
        size,
        took.as_secs_f64() * 1000.0,
        peak_mb()
    );
}

fn scenario(path: &Path) -> Result<(), String> {
    chainproof::scenario::load_paths(&[path.to_path_buf()])
        .map(|_| ())
        .map_err(|errors| errors.iter().map(ToString::to_string).collect())
}

fn main() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let d = dir.path();
    let cases: Vec<(&str, String)> = vec![
        (
            "flow mappings, 50,000 deep",
            format!("id: x\ntitle: {}\n", "{a: ".repeat(50_000)),
        ),
        (
            "flow mappings, 60,000 deep",
            format!("id: x\ntitle: {}\n", "{a: ".repeat(60_000)),
        ),
        (
            "flow sequences, 250,000 deep",
            format!("id: x\ntitle: {}\n", "[".repeat(250_000)),
        ),
        (
            "block mappings, 700 deep",
            (0..700).map(|i| format!("{}k:\n", " ".repeat(i))).collect(),
        ),
        ("256 KiB at depth 3", "- []\n".repeat(43_000)),
        (
            "256 KiB at depth 63",
            format!("- {}{}\n", "[".repeat(61), "]".repeat(61)).repeat(2_000),
        ),
        ("300 KiB of comments", "# padding\n".repeat(30_000)),
    ];
    for (case, text) in &cases {
        let path = write(d, "s.yaml", text);
        measure(&format!("scenario: {case}"), text.len(), || scenario(&path));
    }
    let config = format!("backends: {}\n", "[".repeat(250_000));
    let path = write(d, "c.yaml", &config);
    measure("config: 250,000 [", config.len(), || {
        chainproof::config::Config::load(&path)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    let policy = format!("min: {}\n", "{a: ".repeat(60_000));
    let path = write(d, "p.yaml", &policy);
    measure("gate policy: 60,000 {", policy.len(), || {
        chainproof::gate::load_policy(&path)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    let big = d.join("big-rule");
    std::fs::create_dir_all(&big).unwrap_or_else(|e| panic!("mkdir: {e}"));
    let rule = format!("- {}{}\n", "[".repeat(61), "]".repeat(61)).repeat(2_450);
    write(&big, "r.yml", &rule);
    measure("sigma rule: 300 KiB at depth 63", rule.len(), || {
        chainproof::detect::Rules::load(std::slice::from_ref(&big))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    let rules = d.join("rules");
    std::fs::create_dir_all(&rules).unwrap_or_else(|e| panic!("mkdir: {e}"));
    let rule = format!("title: x\ndetection: {}\n", "{a: ".repeat(75_000));
    write(&rules, "r.yml", &rule);
    measure("sigma rule: 75,000 {", rule.len(), || {
        chainproof::detect::Rules::load(std::slice::from_ref(&rules))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    #[cfg(unix)]
    {
        let fifo = d.join("f.yaml");
        if nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).is_ok() {
            measure("scenario: a FIFO", 0, || scenario(&fifo));
        }
        measure("scenario: /dev/zero", 0, || {
            scenario(Path::new("/dev/zero"))
        });
        measure("telemetry: /dev/zero", 0, || {
            chainproof::replay::load(Path::new("/dev/zero"))
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
    }
}
