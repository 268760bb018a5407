//! Verification at scale: N = 1, 10 and 100 recorded runs verified against a
//! local server shaped like Splunk's export API, which makes every run's
//! events visible only D seconds after the start (as a SIEM's ingestion lag
//! does). Prints the wall time per N, its ratio to N = 1, the requests per
//! poll round, and the harness's own CPU time per verified run.
//!
//! Run with `cargo bench --bench verify`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chainproof::backend::http::AuthConfig;
use chainproof::backend::splunk::{Splunk, SplunkConfig};
use chainproof::record::{GroundTruth, HopTruth, RunStatus, ScenarioRun};
use chainproof::secret::SecretRef;
use chainproof::verify::Polling;
use chainproof::vocab::{HopKind, Platform};
use time::OffsetDateTime;

const DELAY: Duration = Duration::from_secs(3);

fn run(i: usize) -> ScenarioRun {
    let token = format!("cp{i:010x}");
    let hop = |index, kind, pid: Option<u32>, image: Option<&str>| HopTruth {
        index,
        kind,
        label: String::new(),
        expected: String::new(),
        pid,
        parent_pid: None,
        image: image.map(String::from),
        path: None,
        at: Some(OffsetDateTime::now_utc()),
        happened: true,
        reason: None,
    };
    let base = 10_000 + 10 * i as u32;
    ScenarioRun {
        host: None,
        id: format!("s{i}"),
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
        hops: vec![
            hop(1, HopKind::Open, Some(base), Some("/w/program/soffice.bin")),
            hop(2, HopKind::Spawn, Some(base + 1), Some("/usr/bin/dash")),
            hop(3, HopKind::Spawn, Some(base + 2), Some("/usr/bin/touch")),
        ],
        timings: None,
        verification: None,
    }
}

/// Tokens `cp` + 10 hex digits in a request body.
fn tokens(body: &str) -> Vec<String> {
    let b = body.as_bytes();
    (0..b.len().saturating_sub(11))
        .filter(|&i| {
            &b[i..i + 2] == b"cp" && b[i + 2..i + 12].iter().all(|c| c.is_ascii_hexdigit())
        })
        .map(|i| body[i..i + 12].to_string())
        .collect()
}

fn answer(body: &str, visible: bool) -> String {
    if body.contains("makeresults") || body.contains("notable") || !visible {
        return String::new();
    }
    let mut out = String::new();
    for token in tokens(body) {
        let i = usize::from_str_radix(&token[2..], 16).unwrap_or(0);
        let base = 10_000 + 10 * i;
        for (k, (image, ppid)) in [
            ("/w/program/soffice.bin", 1),
            ("/usr/bin/dash", base),
            ("/usr/bin/touch", base + 1),
        ]
        .iter()
        .enumerate()
        {
            out.push_str(&format!(
                "{{\"preview\":false,\"result\":{{\"EventCode\":\"1\",\"Image\":\"{image}\",\"CommandLine\":\"{image} {token}\",\"ProcessId\":\"{}\",\"ParentProcessId\":\"{ppid}\"}}}}\n",
                base + k
            ));
        }
    }
    out
}

fn serve(requests: Arc<AtomicUsize>, start: Instant) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let url = format!(
        "http://{}",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let requests = requests.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&stream);
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; len];
                let _ = reader.read_exact(&mut body);
                requests.fetch_add(1, Ordering::SeqCst);
                let text = answer(&String::from_utf8_lossy(&body), start.elapsed() >= DELAY);
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
                let mut s = &stream;
                let _ = s.write_all(reply.as_bytes());
            });
        }
    });
    url
}

#[cfg(not(unix))]
fn cpu_seconds() -> f64 {
    0.0
}

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

fn main() {
    // SAFETY of the bench: set before the runtime and its threads start.
    unsafe { std::env::set_var("CHAINPROOF_BENCH_TOKEN", "bench-token") };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return eprintln!("runtime: {e}"),
    };
    let polling = Polling {
        deadline: Duration::from_secs(60),
        first: Duration::from_secs(1),
        max: Duration::from_secs(2),
        alert_latency: None,
    };
    let mut base_wall = None;
    println!(
        "verification of N recorded runs, events visible after {} s, polling first 1 s, max 2 s",
        DELAY.as_secs()
    );
    println!(
        "{:>5} {:>9} {:>11} {:>9} {:>13} {:>12}",
        "N", "wall s", "vs N=1", "requests", "req/round", "CPU ms/run"
    );
    for n in [1usize, 10, 100] {
        let requests = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let url = serve(requests.clone(), start);
        let config = SplunkConfig {
            url,
            ca_file: None,
            timeout: Duration::from_secs(10),
            auth: AuthConfig::Bearer {
                token: SecretRef {
                    env: Some("CHAINPROOF_BENCH_TOKEN".into()),
                    file: None,
                },
            },
            events_search: "search index=*".into(),
            notables_search: "search `notable`".into(),
        };
        let backend = match Splunk::new("bench", &config) {
            Ok(b) => chainproof::backend::AnyBackend::Splunk(Box::new(b)),
            Err(e) => return eprintln!("{e}"),
        };
        let mut runs: Vec<ScenarioRun> = (0..n).map(run).collect();
        let cpu = cpu_seconds();
        rt.block_on(chainproof::verify::verify(
            &mut runs,
            &[],
            &backend,
            &polling,
            &mut chainproof::stop::never(),
        ));
        let wall = start.elapsed().as_secs_f64();
        let cpu_per_run = (cpu_seconds() - cpu) * 1000.0 / n as f64;
        let observed = runs
            .iter()
            .filter(|r| {
                r.verification
                    .as_ref()
                    .is_some_and(|v| v.hops.iter().all(|h| h.verdict.as_str() == "observed"))
            })
            .count();
        assert_eq!(observed, n, "every run must end observed");
        let total = requests.load(Ordering::SeqCst);
        // Rounds: each round sends one events and one notables export.
        let rounds = total / 2;
        let ratio = wall / *base_wall.get_or_insert(wall);
        println!(
            "{n:>5} {wall:>9.2} {ratio:>11.2} {total:>9} {:>13.1} {cpu_per_run:>12.2}",
            total as f64 / rounds.max(1) as f64
        );
    }
}
