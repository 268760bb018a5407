//! Offline replay throughput: a million synthetic Linux process-creation
//! events (benign parent → child pairs mixed with document-app → shell
//! pairs) replayed single-threaded through the shipped rules and, when the
//! shared folder is present, the curated T1204 rules. Prints events per
//! second (rule evaluation plus chain rebuilding) and the peak RSS.
//!
//! Run with `cargo bench --bench replay`. The target is at least 200,000
//! events/s with the shipped rules.

use std::path::PathBuf;
use std::time::Instant;

use chainproof::detect::Rules;
use chainproof::replay::replay;
use chainproof::scenario::Platform;
use chainproof::telemetry::{Category, Event};
use serde_json::{Map, json};

const EVENTS: usize = 1_000_000;

const BENIGN: [(&str, &str); 4] = [
    ("/usr/bin/bash", "/usr/bin/ls"),
    ("/usr/lib/systemd/systemd", "/usr/sbin/cron"),
    ("/usr/bin/make", "/usr/bin/cc"),
    ("/usr/bin/gnome-shell", "/usr/bin/firefox"),
];
const DOC_SHELL: (&str, &str) = ("/usr/lib/libreoffice/program/soffice.bin", "/usr/bin/sh");

/// Pairs: the parent, then its child; one pair in ten is document → shell.
fn synthetic() -> Vec<(Event, Platform)> {
    let start = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let mut out = Vec::with_capacity(EVENTS);
    let mut pid = 1000u64;
    while out.len() < EVENTS {
        let n = out.len() / 2;
        let (parent, child) = if n % 10 == 3 {
            DOC_SHELL
        } else {
            BENIGN[n % BENIGN.len()]
        };
        let parent_pid = pid;
        for (image, ppid, parent_image) in [(parent, 1, "/sbin/init"), (child, parent_pid, parent)]
        {
            let mut fields = Map::new();
            fields.insert("Image".into(), json!(image));
            fields.insert("CommandLine".into(), json!(format!("{image} --job {n}")));
            fields.insert("ProcessId".into(), json!(pid % 4_000_000));
            fields.insert("ParentProcessId".into(), json!(ppid));
            fields.insert("ParentImage".into(), json!(parent_image));
            fields.insert("User".into(), json!("alice"));
            let at = start + time::Duration::microseconds(out.len() as i64);
            let event = Event {
                category: Category::ProcessCreation,
                at: Some(at),
                hop: None,
                fields,
            };
            out.push((event, Platform::Linux));
            pid += 1;
        }
    }
    out
}

/// Peak resident set size in MiB, from `VmHWM`.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn run(name: &str, events: &[(Event, Platform)], rules: &Rules) {
    let started = Instant::now();
    let r = replay(events, rules);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{name:<28} {} rules  {:>9} events  {:>7.2} s  {:>10.0} events/s  {} alerts  {} chains  peak RSS {}",
        rules.count,
        r.summary.events,
        secs,
        r.summary.events as f64 / secs,
        r.alerts.len(),
        r.chains.len(),
        peak_rss_mib().map_or("unknown".into(), |m| format!("{m:.0} MiB")),
    );
}

fn main() {
    let built = Instant::now();
    let events = synthetic();
    println!(
        "generated {} events in {:.2?}, peak RSS {}",
        events.len(),
        built.elapsed(),
        peak_rss_mib().map_or("unknown".into(), |m| format!("{m:.0} MiB")),
    );
    match Rules::load(&[]) {
        Ok(rules) => run("shipped rules", &events, &rules),
        Err(e) => println!("shipped rules failed to load: {e}"),
    }
    let curated = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/sigma-t1204"
    ));
    if !curated.is_dir() {
        println!("skipping the T1204 rules: {} is missing", curated.display());
        return;
    }
    match Rules::load(&[curated]) {
        Ok(rules) => run("shared/sigma-t1204 rules", &events, &rules),
        Err(e) => println!("T1204 rules failed to load: {e}"),
    }
}
