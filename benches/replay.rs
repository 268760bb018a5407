//! Replay side by side with rsigma's CLI: both tools run as child
//! processes on the same synthetic Sysmon event 1 JSON lines and the same
//! rules, each measured from outside (wall time, events/s, the child's own
//! peak RSS), and their alerts compared rule by rule on the Windows
//! process_creation rules — the only ones both honour on these events,
//! since rsigma's CLI ignores `logsource`.
//!
//! Work: the curated T1204 rules (`../shared/sigma-t1204`) × 100k and × 1M
//! events, SigmaHQ's Windows process_creation rules × 200k, and the corpus
//! load (`rules/`, then the four corpus folders) over an empty input.
//!
//! Run with `cargo bench --bench replay`. Cargo builds chainproof's binary
//! with the bench (release) profile and the bench runs that one; rsigma is
//! taken from `RSIGMA_BIN`, else `rsigma` on `PATH`, and its columns read
//! "absent" without it. Event files go to a temporary folder (about 450 MB
//! at most). Targets (issue 13): wall ratio ≤ 1.0, peak RSS ≤ 200 MiB at
//! 1M events and within 10 % of the 100k run. See docs/benchmarks.md.

#[cfg(unix)]
#[path = "replay/child.rs"]
mod child;
#[cfg(unix)]
#[path = "replay/count.rs"]
mod count;
#[cfg(unix)]
#[path = "replay/sysmon.rs"]
mod sysmon;
#[cfg(unix)]
#[path = "replay/work.rs"]
mod work;

#[cfg(unix)]
fn main() {
    if let Err(e) = work::main() {
        println!("replay bench failed: {e}");
        std::process::exit(1);
    }
}

#[cfg(not(unix))]
fn main() {
    println!("the replay bench measures child processes with wait4; run it on Linux");
}
