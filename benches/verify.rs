//! Verification at scale, the acceptance benchmark of issue 15: N = 1, 10
//! and 100 records of 12 chains each, verified together by one `chainproof
//! verify` batch ([`chainproof::verify::again_all`]), for every HTTP
//! backend and the command backend, against a local server shaped like the
//! vendor's API that makes every run's events visible only 5 s after the
//! start (as a SIEM's ingestion lag does).
//!
//! Prints, per backend and N: the wall time, the requests the server really
//! counted (token requests apart) per round, wall(N)/wall(1), and the CPU
//! time the process spent (the harness, and the server's threads). A round is
//! counted by the server when the request that asks for the first run's
//! events arrives (each round asks for it until it settles).
//!
//! Run with `cargo bench --bench verify` (all backends) or name some:
//! `cargo bench --bench verify -- splunk elastic`. It takes about a minute
//! per backend whose rounds are quick.

#[path = "verify/server.rs"]
mod server;
#[path = "verify/vendors.rs"]
mod vendors;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chainproof::backend::AnyBackend;
use chainproof::record::{GroundTruth, HopTruth, Host, RuleSet, RunRecord, RunStatus, ScenarioRun};
use chainproof::verify::{Pending, Polling};
use chainproof::vocab::{HopKind, Platform};
use time::OffsetDateTime;

const DELAY: Duration = Duration::from_secs(5);
const CHAINS: usize = 12;

fn run(i: usize) -> ScenarioRun {
    let token = format!("cp{i:010x}");
    let hop = |index, kind, k: usize| HopTruth {
        index,
        kind,
        label: String::new(),
        expected: String::new(),
        pid: Some(vendors::pids(&token, k).0 as u32),
        parent_pid: None,
        image: Some(vendors::IMAGES[k].into()),
        path: None,
        at: Some(OffsetDateTime::now_utc()),
        happened: true,
        reason: None,
    };
    let hops = vec![
        hop(1, HopKind::Open, 0),
        hop(2, HopKind::Spawn, 1),
        hop(3, HopKind::Spawn, 2),
    ];
    ScenarioRun {
        host: None,
        id: format!("s{}", i % CHAINS),
        title: String::new(),
        technique: "T1204.002".into(),
        negative_control: false,
        source: String::new(),
        source_sha256: String::new(),
        platform: Platform::Linux,
        fidelity: None,
        token,
        status: RunStatus::Completed,
        reason: None,
        started_at: OffsetDateTime::now_utc(),
        finished_at: OffsetDateTime::now_utc(),
        truth: GroundTruth::default(),
        hops,
        timings: None,
        verification: None,
    }
}

/// Record `r` of a batch: chains `12 r .. 12 r + 11`.
fn record(r: usize) -> Pending {
    let now = OffsetDateTime::now_utc();
    let record = RunRecord {
        schema: chainproof::record::SCHEMA.into(),
        run_id: format!("cp{:010x}", 0xff_0000_0000_u64 + r as u64),
        chainproof_version: "bench".into(),
        started_at: now,
        finished_at: now,
        host: Host {
            name: format!("lab-{r:03}"),
            platform: Platform::Linux,
            os: "Debian".into(),
            kernel: "6".into(),
            user: "lab".into(),
            privileged: false,
            environment: None,
        },
        rules: RuleSet {
            sources: vec![],
            count: 0,
            load: None,
            blind: Vec::new(),
        },
        scenarios: (r * CHAINS..(r + 1) * CHAINS).map(run).collect(),
        targets_not_run: Vec::new(),
    };
    Pending {
        record,
        scenarios: Vec::new(),
    }
}

fn backend(bench: &vendors::Bench, url: &str, program: &str) -> Result<AnyBackend, String> {
    let profile = bench
        .profile
        .replace("{url}", url)
        .replace("{program}", program);
    let indented: String = profile.lines().map(|l| format!("    {l}\n")).collect();
    let text = format!("backends:\n  bench:\n{indented}");
    let path = std::path::Path::new("bench.yaml");
    let config = chainproof::config::Config::parse(&text, path).map_err(|e| e.to_string())?;
    let profile = config.profile("bench", path).map_err(|e| e.to_string())?;
    let rules = chainproof::detect::Rules::load(&[]).map_err(|e| e.to_string())?;
    profile.build("bench", rules).map_err(|e| e.to_string())
}

/// One line of the table: `bench` with `n` records; the wall time.
fn measure(
    rt: &tokio::runtime::Runtime,
    bench: &vendors::Bench,
    n: usize,
    program: &str,
) -> Result<(f64, f64, usize, f64), String> {
    let server = server::Server::start(bench.vendor, bench.starts_round, DELAY);
    let backend = backend(bench, &server.url, program)?;
    rt.block_on(backend.check()).map_err(|e| e.to_string())?;
    let before = server.counts.requests.load(Ordering::SeqCst);
    let tokens_before = server.counts.tokens.load(Ordering::SeqCst);
    let mut pending: Vec<Pending> = (0..n).map(record).collect();
    let polling = Polling {
        deadline: Duration::from_secs(600),
        ..Polling::default()
    };
    let rules = RuleSet {
        sources: vec![],
        count: 0,
        load: None,
        blind: Vec::new(),
    };
    let start = Instant::now();
    let cpu = cpu_seconds();
    let stop = chainproof::stop::never();
    rt.block_on(chainproof::verify::again_all(
        &mut pending,
        &backend,
        &rules,
        &[],
        &polling,
        &stop,
    ));
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let c = &server.counts;
    let tokens = c.tokens.load(Ordering::SeqCst) - tokens_before;
    let requests = c.requests.load(Ordering::SeqCst) - before - tokens;
    let rounds = c.rounds.load(Ordering::SeqCst).max(1);
    let settled = pending
        .iter()
        .flat_map(|p| &p.record.scenarios)
        .filter(|r| {
            r.verification.as_ref().is_some_and(|v| {
                v.hops
                    .iter()
                    .all(|h| matches!(h.verdict.as_str(), "observed" | "alerted"))
            })
        })
        .count();
    if settled != n * CHAINS {
        eprintln!(
            "{}: N={n}: only {settled} of {} chains were seen",
            bench.name,
            n * CHAINS
        );
    }
    Ok((wall, requests as f64 / rounds as f64, rounds, cpu))
}

fn main() {
    // SAFETY of the bench: set before the runtime and its threads start.
    unsafe { std::env::set_var("BENCH_SECRET", "bench-secret") };
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return eprintln!("runtime: {e}"),
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return eprintln!("tempdir: {e}"),
    };
    let program = dir.path().join("forward.sh");
    let script =
        "#!/bin/sh\nexec curl -sf --data-binary @- -H 'Content-Type: application/json' \"$1\"\n";
    if let Err(e) = write_program(&program, script) {
        return eprintln!("{e}");
    }
    let program = program.display().to_string();
    println!(
        "{CHAINS} chains per record, events visible after {} s, default polling (2 s doubling)",
        DELAY.as_secs()
    );
    println!(
        "{:<12} {:>4} {:>9} {:>7} {:>15} {:>15} {:>7}",
        "backend", "N", "wall s", "rounds", "requests/round", "wall(N)/wall(1)", "CPU s"
    );
    for bench in vendors::all() {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == bench.name) {
            continue;
        }
        let mut base = None;
        for n in [1usize, 10, 100] {
            match measure(&rt, &bench, n, &program) {
                Ok((wall, per_round, rounds, cpu)) => {
                    let ratio = wall / *base.get_or_insert(wall);
                    println!(
                        "{:<12} {n:>4} {wall:>9.2} {rounds:>7} {per_round:>15.1} {ratio:>15.2} {cpu:>7.2}",
                        bench.name
                    );
                }
                Err(e) => {
                    println!("{:<12} {n:>4} failed: {e}", bench.name);
                    break;
                }
            }
        }
    }
}

/// This process's CPU time (user + system): the harness, its backends'
/// parsing and tying of answers, and the local server's threads.
#[cfg(unix)]
fn cpu_seconds() -> f64 {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF);
    usage
        .map(|u| {
            let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
            t(u.user_time()) + t(u.system_time())
        })
        .unwrap_or(0.0)
}

#[cfg(not(unix))]
fn cpu_seconds() -> f64 {
    0.0
}

fn write_program(path: &std::path::Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("write {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("chmod {}: {e}", path.display()))?;
    }
    Ok(())
}
