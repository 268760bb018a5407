// How much of a chain of very short processes the capture sees, and what it costs.
//
// Spawns 200 processes that live about a millisecond (`/bin/sleep 0.001`, the token in its
// environment and in argv[0]) one after the other, then 200 at once, under each capture
// configuration, and counts how many the capture reported, with the exact parent (this
// bench's pid, from the fork event), and with both image and argv read. Overhead is the
// time per spawn-and-wait with the capture running against the same loop without one.
//
// Run with `cargo bench --bench capture` (as root for the connector on older kernels).

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant};

use chainproof::capture::{Capture, CaptureOptions, CaptureReport, Source};

const N: usize = 200;
/// Rounds per configuration: times are medians, counts the worst round.
const ROUNDS: usize = 3;

/// One way of spawning the 200 processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// One after the other, each waited for.
    Sequential,
    /// All spawned, then all waited for.
    Burst,
}

fn sleeper(token: &str) -> Command {
    let mut cmd = Command::new("/bin/sleep");
    cmd.arg0(format!("sleep-{token}"))
        .arg("0.001")
        .env("CHAINPROOF_TOKEN", token);
    cmd
}

/// Spawns the processes, declaring each a root of `capture` as a runner does; returns their
/// pids and the time taken.
fn spawn_all(
    shape: Shape,
    token: &str,
    capture: Option<&Capture>,
) -> std::io::Result<(Vec<u32>, Duration)> {
    let spawn = || -> std::io::Result<Child> {
        let child = sleeper(token).spawn()?;
        if let Some(capture) = capture {
            capture.add_root(child.id());
        }
        Ok(child)
    };
    let started = Instant::now();
    let mut pids = Vec::with_capacity(N);
    match shape {
        Shape::Sequential => {
            for _ in 0..N {
                let mut child = spawn()?;
                pids.push(child.id());
                child.wait()?;
            }
        }
        Shape::Burst => {
            let children: Vec<Child> = (0..N).map(|_| spawn()).collect::<Result<_, _>>()?;
            pids.extend(children.iter().map(Child::id));
            for mut child in children {
                child.wait()?;
            }
        }
    }
    Ok((pids, started.elapsed()))
}

/// Counts of one run: (seen, exact ppid, image + argv).
fn score(
    report: &CaptureReport,
    pids: &[u32],
    token: &str,
    sleep_image: &str,
) -> (usize, usize, usize) {
    let me = std::process::id();
    let ours: Vec<_> = report
        .processes
        .iter()
        .filter(|o| pids.contains(&o.pid))
        .collect();
    let exact = ours
        .iter()
        .filter(|o| o.ppid == me && o.ppid_from_fork)
        .count();
    let read = ours
        .iter()
        .filter(|o| o.image.as_deref() == Some(sleep_image))
        .filter(|o| o.argv.iter().flatten().any(|a| a.contains(token)))
        .count();
    (ours.len(), exact, read)
}

struct Row {
    config: &'static str,
    shape: Shape,
    sources: Vec<Source>,
    counts: (usize, usize, usize),
    per_process: Duration,
    baseline: Duration,
    warnings: Vec<String>,
}

fn measure(
    config: &'static str,
    options: &CaptureOptions,
    shape: Shape,
    sleep_image: &str,
) -> std::io::Result<Row> {
    let n = u32::try_from(N).unwrap_or(1);
    let mut row = Row {
        config,
        shape,
        sources: Vec::new(),
        counts: (N, N, N),
        per_process: Duration::ZERO,
        baseline: Duration::ZERO,
        warnings: Vec::new(),
    };
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let name: String = config.chars().filter(char::is_ascii_alphanumeric).collect();
        let token = format!("cpbench{:x}{name}{shape:?}{round}", std::process::id());
        // Alternate with a baseline: CPU frequency, idle states and other load drift.
        let (_, baseline) = spawn_all(shape, &token, None)?;
        let capture = Capture::start_with(&token, options);
        row.sources = capture.sources();
        let (pids, took) = spawn_all(shape, &token, Some(&capture))?;
        // Let the scanner notice the last exits.
        std::thread::sleep(Duration::from_millis(20));
        let report = capture.stop();
        let (seen, exact, read) = score(&report, &pids, &token, sleep_image);
        row.counts = (
            row.counts.0.min(seen),
            row.counts.1.min(exact),
            row.counts.2.min(read),
        );
        with.push(took / n);
        without.push(baseline / n);
        for warning in report.warnings {
            if !row.warnings.contains(&warning) {
                row.warnings.push(warning);
            }
        }
    }
    row.per_process = median(&mut with);
    row.baseline = median(&mut without);
    Ok(row)
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("capture bench failed: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> std::io::Result<()> {
    let sleep_image = std::fs::canonicalize("/bin/sleep")?
        .to_string_lossy()
        .into_owned();
    let configs = [
        ("connector+scan", CaptureOptions::default()),
        (
            "connector only",
            CaptureOptions {
                use_scanner: false,
                ..CaptureOptions::default()
            },
        ),
        (
            "scan only",
            CaptureOptions {
                use_connector: false,
                ..CaptureOptions::default()
            },
        ),
    ];
    // Warm up the page cache and the allocator.
    spawn_all(Shape::Sequential, "cpwarmup", None)?;
    let mut rows = Vec::new();
    for shape in [Shape::Sequential, Shape::Burst] {
        for (name, options) in &configs {
            rows.push(measure(name, options, shape, &sleep_image)?);
        }
    }
    print_table(&rows);
    Ok(())
}

fn print_table(rows: &[Row]) {
    println!(
        "capture of {N} processes of ~1 ms (/bin/sleep 0.001), each passed to add_root; euid {}; \
         worst of {ROUNDS} rounds, median times",
        nix::unistd::geteuid()
    );
    println!("seen: in the report; exact ppid: this bench's pid, from the fork event;");
    println!("image+argv: both read from /proc at exec (the racy part).");
    println!();
    println!(
        "{:<11} {:<15} {:<23} {:>7} {:>10} {:>10} {:>13} {:>13} {:>9}",
        "shape",
        "config",
        "active sources",
        "seen",
        "exact ppid",
        "image+argv",
        "µs/proc (cap)",
        "µs/proc (no)",
        "overhead"
    );
    for row in rows {
        let overhead = row.per_process.as_secs_f64() / row.baseline.as_secs_f64().max(1e-9) - 1.0;
        let sources: Vec<String> = row.sources.iter().map(|s| format!("{s:?}")).collect();
        let (seen, exact, read) = row.counts;
        println!(
            "{:<11} {:<15} {:<23} {:>3}/{N} {:>6}/{N} {:>6}/{N} {:>13.0} {:>13.0} {:>+8.1}%",
            format!("{:?}", row.shape),
            row.config,
            sources.join("+"),
            seen,
            exact,
            read,
            row.per_process.as_secs_f64() * 1e6,
            row.baseline.as_secs_f64() * 1e6,
            overhead * 100.0,
        );
    }
    for row in rows.iter().filter(|r| !r.warnings.is_empty()) {
        println!(
            "warning ({:?}, {}): {}",
            row.shape,
            row.config,
            row.warnings.join("; ")
        );
    }
}
