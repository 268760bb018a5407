//! The work list, the two command lines, and the table.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::child::{self, Measured};
use super::count::{self, ByTitle};
use super::sysmon;

/// chainproof's output format for the replay runs: one alert per line as
/// it comes, nothing held (rsigma's CLI also writes a line per match).
const CHAINPROOF_FORMAT: &str = "ndjson";

/// Where rsigma comes from when it is not on `PATH`.
const RSIGMA_ENV: &str = "RSIGMA_BIN";

/// One row of work.
struct Work {
    name: String,
    /// Events in the input (0: a load over an empty input).
    events: usize,
    input: PathBuf,
    rules: Vec<PathBuf>,
}

/// One tool's run of one row.
struct Run {
    measured: Measured,
    alerts: ByTitle,
}

pub fn main() -> Result<(), String> {
    let shared = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared"));
    let curated = shared.join("sigma-t1204");
    let sigmahq = shared.join("sigmahq");
    if !curated.is_dir() || !sigmahq.join("rules").is_dir() {
        return Err(format!(
            "{} and {} are needed; nothing measured",
            curated.display(),
            sigmahq.join("rules").display()
        ));
    }
    let rsigma = rsigma_bin();
    match &rsigma {
        Some(p) => println!("rsigma: {}", p.display()),
        None => println!(
            "rsigma: absent (set {RSIGMA_ENV} or put rsigma 0.23 on PATH: \
             cargo install rsigma --version 0.23.0 --locked); chainproof alone"
        ),
    }
    // CHAINPROOF_BENCH_DIR keeps the generated inputs (to profile one tool
    // on them); by default they go to a temporary folder.
    let tmp = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
    let kept = std::env::var_os("CHAINPROOF_BENCH_DIR").map(PathBuf::from);
    if let Some(k) = &kept {
        std::fs::create_dir_all(k).map_err(|e| format!("create {}: {e}", k.display()))?;
    }
    let dir = kept.as_deref().unwrap_or(tmp.path());
    let mut inputs = Vec::new();
    for n in [100_000usize, 200_000, 1_000_000] {
        let path = dir.join(format!("sysmon-{n}.jsonl"));
        let hops = sysmon::write(&path, n).map_err(|e| format!("write {}: {e}", path.display()))?;
        let mib = std::fs::metadata(&path).map_or(0, |m| m.len()) / (1 << 20);
        println!("generated {n} events ({mib} MiB, {hops} in document → shell trees)");
        inputs.push(path);
    }
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "").map_err(|e| format!("write {}: {e}", empty.display()))?;
    let pc = vec![sigmahq.join("rules/windows/process_creation")];
    let four: Vec<PathBuf> = [
        "rules",
        "rules-threat-hunting",
        "rules-emerging-threats",
        "rules-placeholder",
    ]
    .iter()
    .map(|d| sigmahq.join(d))
    .collect();
    let work = [
        row(
            "43 T1204 rules × 100k",
            100_000,
            &inputs[0],
            std::slice::from_ref(&curated),
        ),
        row(
            "43 T1204 rules × 1M",
            1_000_000,
            &inputs[2],
            std::slice::from_ref(&curated),
        ),
        row("win process_creation × 200k", 200_000, &inputs[1], &pc),
        row("load SigmaHQ rules/", 0, &empty, &[sigmahq.join("rules")]),
        row("load four corpus folders", 0, &empty, &four),
    ];
    println!();
    println!(
        "| work | chainproof wall | events/s | peak RSS | rsigma wall | events/s | peak RSS | wall ratio |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut notes = Vec::new();
    let mut ours_rss = Vec::new();
    for w in &work {
        let ours = measure(
            dir,
            "chainproof",
            chainproof_cmd(&w.input, &w.rules),
            None,
            count::chainproof,
        );
        let theirs = rsigma.as_ref().map(|bin| {
            rsigma_cmd(bin, &w.rules, dir)
                .and_then(|cmd| measure(dir, "rsigma", cmd, Some(&w.input), count::rsigma))
        });
        if let Ok(r) = &ours
            && w.rules.as_slice() == std::slice::from_ref(&curated)
        {
            ours_rss.push((w.events, r.measured.rss_mib));
        }
        print_row(w, &ours, theirs.as_ref());
        if w.events > 0
            && let Ok(a) = &ours
        {
            let set = count::process_creation_titles(&w.rules);
            notes.push(format!(
                "{}: chainproof {} alerts, {} of them by the {} Windows process_creation rules",
                w.name,
                a.alerts.values().sum::<u64>(),
                count::total(&a.alerts, &set),
                set.len()
            ));
        }
        if w.events > 0
            && let (Ok(a), Some(Ok(b))) = (&ours, &theirs)
        {
            let set = count::process_creation_titles(&w.rules);
            let diff = count::compare(&a.alerts, &b.alerts, &set, 10);
            let n = count::total(&a.alerts, &set);
            notes.push(if diff.is_empty() {
                format!(
                    "{}: alerts agree on the {} Windows process_creation rules ({n} alerts)",
                    w.name,
                    set.len()
                )
            } else {
                format!(
                    "{}: alerts DIFFER on Windows process_creation rules:\n    {}",
                    w.name,
                    diff.join("\n    ")
                )
            });
        }
        for (tool, r) in [("chainproof", Some(&ours)), ("rsigma", theirs.as_ref())] {
            if let Some(Err(e)) = r {
                notes.push(format!("{}: {tool} failed: {e}", w.name));
            }
        }
    }
    println!();
    for n in notes {
        println!("{n}");
    }
    if let [(_, small), (_, large)] = ours_rss.as_slice() {
        println!(
            "chainproof peak RSS, 1M vs 100k events: {large:.0} / {small:.0} MiB = {:.2} (target ≤ 1.10, and ≤ 200 MiB at 1M)",
            large / small
        );
    }
    Ok(())
}

fn row(name: &str, events: usize, input: &Path, rules: &[PathBuf]) -> Work {
    Work {
        name: name.to_string(),
        events,
        input: input.to_path_buf(),
        rules: rules.to_vec(),
    }
}

/// `chainproof replay --telemetry FILE --rules DIR…`, the binary Cargo
/// built with this bench.
fn chainproof_cmd(input: &Path, rules: &[PathBuf]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chainproof"));
    cmd.arg("replay").arg(input);
    for r in rules {
        cmd.arg("--rules").arg(r);
    }
    cmd.args(["--format", CHAINPROOF_FORMAT]);
    cmd
}

/// `rsigma engine eval -r DIR --output-format ndjson`, events as NDJSON
/// on stdin. Its `-r` takes one path: several folders are given as one
/// folder of symbolic links to them, made in `dir`.
fn rsigma_cmd(bin: &Path, rules: &[PathBuf], dir: &Path) -> Result<Command, String> {
    let root = match rules {
        [one] => one.clone(),
        many => {
            let joined = dir.join(format!("rsigma-rules-{}", many.len()));
            std::fs::create_dir_all(&joined).map_err(|e| format!("mkdir: {e}"))?;
            for r in many {
                let link = joined.join(r.file_name().unwrap_or(r.as_os_str()));
                if !link.exists() {
                    std::os::unix::fs::symlink(r, &link).map_err(|e| format!("symlink: {e}"))?;
                }
            }
            joined
        }
    };
    let mut cmd = Command::new(bin);
    cmd.args(["engine", "eval", "--output-format", "ndjson", "-r"])
        .arg(root);
    Ok(cmd)
}

fn rsigma_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(RSIGMA_ENV) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("rsigma"))
        .find(|p| p.is_file())
}

fn measure(
    dir: &Path,
    tool: &str,
    mut cmd: Command,
    stdin: Option<&Path>,
    parse: fn(&Path) -> std::io::Result<ByTitle>,
) -> Result<Run, String> {
    let out = dir.join(format!("{tool}.out"));
    let err = dir.join(format!("{tool}.err"));
    let measured = child::run(&mut cmd, stdin, &out, &err).map_err(|e| format!("spawn: {e}"))?;
    if measured.code != Some(0) {
        let stderr = std::fs::read_to_string(&err).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(format!(
            "exit {:?}: {}",
            measured.code,
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        ));
    }
    let alerts = parse(&out).map_err(|e| format!("read output: {e}"))?;
    // Outputs of the 1M run are large; each row starts afresh.
    let _ = std::fs::remove_file(&out);
    Ok(Run { measured, alerts })
}

fn print_row(w: &Work, ours: &Result<Run, String>, theirs: Option<&Result<Run, String>>) {
    let cells = |r: Option<&Result<Run, String>>| match r {
        None => ("absent".to_string(), "–".to_string(), "–".to_string(), None),
        Some(Err(_)) => ("failed".to_string(), "–".to_string(), "–".to_string(), None),
        Some(Ok(r)) => {
            let secs = r.measured.wall.as_secs_f64();
            let rate = if w.events == 0 {
                "–".to_string()
            } else {
                format!("{:.0}", w.events as f64 / secs)
            };
            (
                format!("{secs:.2} s"),
                rate,
                format!("{:.0} MiB", r.measured.rss_mib),
                Some(secs),
            )
        }
    };
    let (a_wall, a_rate, a_rss, a) = cells(Some(ours));
    let (b_wall, b_rate, b_rss, b) = cells(theirs);
    let ratio = match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "–".to_string(),
    };
    println!(
        "| {} | {a_wall} | {a_rate} | {a_rss} | {b_wall} | {b_rate} | {b_rss} | {ratio} |",
        w.name
    );
}
