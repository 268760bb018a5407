//! `chainproof run --target ssh://… / --targets FILE`: the suite on other
//! hosts through OpenSSH, verified here, merged into one fleet matrix.

use std::path::Path;

use super::{RunArgs, fail, run::absolute, verify};
use crate::detect::Rules;
use crate::exit;
use crate::remote::fleet::{self, Summary, TargetResult};
use crate::remote::session::{Job, Outcome};
use crate::remote::ssh::Ssh;
use crate::remote::target::{self, Target};
use crate::report::{self, Format};
use crate::scenario::Loaded;

/// The targets of `--target` and `--targets`, names unique.
fn targets(args: &RunArgs) -> Result<Vec<Target>, String> {
    let mut all = Vec::new();
    for url in &args.target {
        all.push(target::parse(url)?);
    }
    if let Some(file) = &args.targets {
        all.extend(target::load_inventory(file)?);
    }
    // Two addresses of one host (other ports, users): their folders and
    // report labels get the port, else a number.
    let mut seen = std::collections::BTreeSet::<String>::new();
    for t in &mut all {
        let mut n = 1;
        let mut name = t.name.clone();
        while seen.contains(&name) {
            n += 1;
            name = match t.port {
                Some(p) if n == 2 => format!("{}-{p}", t.name),
                _ => format!("{}-{n}", t.name),
            };
        }
        seen.insert(name.clone());
        t.name = name;
    }
    Ok(all)
}

/// The lab guard for remote runs: every target's host must be on the
/// config's `lab.allow` list, checked before any connection.
fn guard(args: &RunArgs, targets: &[Target]) -> Result<(), u8> {
    let Some(path) = args.config.as_deref() else {
        eprintln!(
            "error: remote runs need --config FILE with a `lab.allow` list naming the targets \
             (see docs/config.md); nothing was run and no connection was made"
        );
        return Err(exit::INVALID);
    };
    let lab = crate::config::Config::load(path)
        .map_err(|e| fail(&e, exit::INVALID))?
        .lab
        .unwrap_or_default();
    let refused: Vec<String> = targets
        .iter()
        .filter_map(|t| lab.check(&t.host).err())
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    for why in &refused {
        eprintln!("error: {why}");
    }
    eprintln!(
        "refused by the lab guard ({}); no connection was made",
        path.display()
    );
    Err(exit::INVALID)
}

/// Scenario files to send: only when the user gave --scenarios (the
/// targets' harness has the built-in set). Names are numbered so two files
/// of the same name from different folders stay apart.
fn scenario_files(args: &RunArgs, loaded: &[Loaded]) -> Vec<(String, String)> {
    if args.scenarios.is_empty() {
        return Vec::new();
    }
    loaded
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let name = l
                .source
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| format!("{}.yaml", l.scenario.id));
            (format!("{i:03}-{name}"), l.source.text.clone())
        })
        .collect()
}

/// Runs `chainproof run` with targets.
pub fn run_remote(args: &RunArgs, loaded: Vec<Loaded>) -> u8 {
    let targets = match targets(args) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID;
        }
    };
    if let Err(code) = guard(args, &targets) {
        return code;
    }
    let backend = match verify::profile(args.config.as_deref(), args.backend.as_deref()) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let rules = match Rules::load(&args.rules) {
        Ok(r) => r,
        Err(e) => return fail(&e, exit::INVALID),
    };
    let local_exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => return fail(&e, exit::RUNTIME),
    };
    let mut run_args: Vec<String> = loaded
        .iter()
        .filter(|_| !args.scenario.is_empty())
        .map(|l| l.scenario.id.clone())
        .collect();
    // Run directories on the target: its temporary folder unless given.
    if let Some(w) = &args.work_root {
        run_args.push("--work-root".into());
        run_args.push(w.to_string_lossy().into_owned());
    }
    if let Some(f) = args.fidelity {
        run_args.push("--fidelity".into());
        run_args.push(
            clap::ValueEnum::to_possible_value(&f)
                .map(|v| v.get_name().to_string())
                .unwrap_or_default(),
        );
    }
    let job = Job {
        ssh: Ssh {
            config: args.ssh_config.clone(),
            ..Ssh::default()
        },
        remote_dir: args.remote_dir.clone(),
        local_exe,
        harness: args.harness.clone(),
        run_id: crate::token::new(),
        run_args,
        scenarios: scenario_files(args, &loaded),
    };
    let started = time::OffsetDateTime::now_utc();
    let stamp = started
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    let folder = absolute(&args.reports).join(format!("{stamp}-fleet-{}", job.run_id));
    if let Err(e) = std::fs::create_dir_all(&folder) {
        eprintln!("error: failed to create {}: {e}", folder.display());
        return exit::RUNTIME;
    }
    eprintln!(
        "running on {} target(s), at most {} at once …",
        targets.len(),
        args.parallel
    );
    let report_line =
        |r: &TargetResult| eprintln!("{}", report::terminal_safe(&Summary::of(r).line()));
    let results = fleet::run_all(
        &job,
        &targets,
        &folder,
        usize::from(args.parallel),
        &report_line,
    );
    finish(args, &loaded, backend, rules, &folder, &results)
}

/// Verifies each fetched record here, merges them, writes the fleet folder.
fn finish(
    args: &RunArgs,
    loaded: &[Loaded],
    backend: Option<(String, crate::config::Profile)>,
    rules: Rules,
    folder: &Path,
    results: &[TargetResult],
) -> u8 {
    let scenarios: Vec<_> = loaded.iter().map(|l| l.scenario.clone()).collect();
    let polling = crate::verify::Polling {
        deadline: args.deadline,
        ..crate::verify::Polling::default()
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&e, exit::RUNTIME),
    };
    let rule_set = match &backend {
        Some((name, _)) => crate::record::RuleSet {
            sources: vec![format!("the detection content of backend {name}")],
            count: 0,
        },
        None => crate::record::RuleSet {
            sources: rules.sources.clone(),
            count: rules.count,
        },
    };
    let built = rt.block_on(async {
        let b = match &backend {
            None => crate::backend::AnyBackend::Local(Box::new(crate::backend::local::Local::new(
                rules,
            ))),
            Some((name, p)) => p.build(name, rules)?,
        };
        b.check().await.map(|()| b)
    });
    let backend = match built {
        Ok(b) => b,
        Err(e) => return fail(&e, exit::RUNTIME),
    };
    let mut records = Vec::new();
    for r in results {
        let Outcome::Ran {
            folder: host_dir, ..
        } = &r.outcome
        else {
            continue;
        };
        let path = host_dir.join("run.json");
        let mut record = match report::read_record(&path) {
            Ok(rec) => rec,
            Err(e) => return fail(&e, exit::RUNTIME),
        };
        crate::backend::transcript::start();
        rt.block_on(crate::verify::verify(
            &mut record.scenarios,
            &scenarios,
            &backend,
            &polling,
        ));
        let exchanges = crate::backend::transcript::finish();
        record.rules = rule_set.clone();
        if let Err(e) = report::evidence::rewrite(host_dir, &record, &exchanges) {
            return fail(&e, exit::RUNTIME);
        }
        records.push(record);
    }
    write_fleet(args, folder, results, records)
}

fn write_fleet(
    args: &RunArgs,
    folder: &Path,
    results: &[TargetResult],
    records: Vec<crate::record::RunRecord>,
) -> u8 {
    let summaries: Vec<Summary> = results.iter().map(Summary::of).collect();
    let failed = summaries.iter().filter(|s| s.status == "failed").count();
    let text = serde_json::to_string_pretty(&summaries).unwrap_or_default() + "\n";
    if let Err(e) = std::fs::write(folder.join("targets.json"), text) {
        eprintln!("error: failed to write targets.json: {e}");
        return exit::RUNTIME;
    }
    let fleet = if records.is_empty() {
        None
    } else {
        match crate::record::merge::merge(records) {
            Ok(r) => Some(r),
            Err(e) => return fail(&e, exit::RUNTIME),
        }
    };
    if let Some(record) = &fleet {
        for (name, text) in report::outputs(record) {
            if let Err(e) = std::fs::write(folder.join(name), text) {
                eprintln!("error: failed to write {name}: {e}");
                return exit::RUNTIME;
            }
        }
        print!("{}", report::render(record, Format::Table));
    }
    if let Err(e) = crate::bundle::write_manifest(folder) {
        return fail(&e, exit::RUNTIME);
    }
    if let Some(key) = &args.sign
        && let Err(e) = crate::bundle::sign(folder, key)
    {
        return fail(&e, exit::RUNTIME);
    }
    println!(
        "targets: {} ran, {failed} failed{}",
        summaries.len() - failed,
        if failed > 0 {
            " (see targets.json)"
        } else {
            ""
        }
    );
    for s in summaries.iter().filter(|s| s.status == "failed") {
        println!("  {}", report::terminal_safe(&s.line()));
    }
    println!("report: {}", folder.display());
    if failed > 0 {
        return exit::RUNTIME;
    }
    match (&fleet, args.require.as_deref()) {
        (Some(record), Some(level)) if !crate::suite::meets(record, level) => {
            eprintln!("coverage policy failed: not every chain is {level}");
            exit::POLICY
        }
        _ => exit::OK,
    }
}
