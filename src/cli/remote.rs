//! `chainproof run --target ssh://… / --targets FILE`: the suite on other
//! hosts through OpenSSH, verified here, merged into one fleet matrix.

use std::path::Path;

use super::{RunArgs, fail, run::absolute, verify};
use crate::backend::AnyBackend;
use crate::detect::Rules;
use crate::exit;
use crate::remote::fleet::{self, Summary, TargetResult};
use crate::remote::session::Job;
use crate::remote::ssh::Ssh;
use crate::remote::target::{self, Target};
use crate::remote::{central, stop, transfer};
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

/// The lab guard for remote runs, before any connection: every target's
/// host, as ssh would resolve it with the config (`ssh -G`, which does not
/// connect), must be on the config's `lab.allow` list.
/// Returns the config, read once for the guard and the backend profile.
fn guard<'a>(
    args: &'a RunArgs,
    targets: &[Target],
    ssh: &Ssh,
) -> Result<(&'a Path, crate::config::Config), u8> {
    let Some((path, config)) = super::read_config(args.config.as_deref())? else {
        errln!(
            "error: remote runs need --config FILE with a `lab.allow` list naming the targets \
             (see docs/config.md); nothing was run and no connection was made"
        );
        return Err(exit::INVALID);
    };
    let lab = config.lab.clone().unwrap_or_default();
    let mut refused = Vec::new();
    for t in targets {
        let why = match ssh.resolve(t) {
            Err(e) => Some(e),
            Ok(real) if real.eq_ignore_ascii_case(&t.host) => lab.check(&t.host).err(),
            Ok(real) => lab
                .check(&real)
                .err()
                .map(|why| format!("target `{}` is an ssh alias for `{real}`: {why}", t.host)),
        };
        refused.extend(why);
    }
    if refused.is_empty() {
        return Ok((path, config));
    }
    for why in &refused {
        errln!("error: {why}");
    }
    errln!(
        "refused by the lab guard ({}); nothing was run and no connection was made",
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
        .map(|(i, l)| (format!("{i:03}-{}", l.file_name()), l.source.text.clone()))
        .collect()
}

/// `run --dry-run` with targets: parses them and `--remote-dir`, applies
/// the lab guard (which resolves hosts with `ssh -G` and never connects),
/// and lists the targets.
pub fn dry_run(args: &RunArgs) -> Result<(), u8> {
    let targets = targets(args).map_err(|e| {
        errln!("error: {e}");
        exit::INVALID
    })?;
    transfer::remote_dir(&args.remote_dir).map_err(|e| {
        errln!("error: {e}");
        exit::INVALID
    })?;
    let ssh = Ssh {
        config: args.ssh_config.clone(),
        ..Ssh::default()
    };
    guard(args, &targets, &ssh)?;
    outln!(
        "targets (allowed by the lab guard; not contacted), at most {} at once:",
        args.parallel
    );
    for t in &targets {
        outln!("  {}  {}", t.name, crate::term::safe(&t.url));
    }
    outln!(
        "each target runs its own platform's variants; the plans below are for --platform \
         (default: this host's)\n"
    );
    Ok(())
}

/// Builds and checks the backend before any target runs: bad credentials
/// must stop the fleet, not turn every host inconclusive. The auditd
/// backend reads this host's audit log, so it cannot verify other hosts.
fn backend(
    rt: &tokio::runtime::Runtime,
    chosen: Option<&(String, crate::config::Profile)>,
    rules: Rules,
) -> Result<AnyBackend, u8> {
    if let Some((name, crate::config::Profile::Auditd(_))) = chosen {
        errln!(
            "error: backend `{name}` (auditd) reads this host's audit log and cannot verify \
             runs on other hosts; use local or a SIEM/EDR backend with --target"
        );
        return Err(exit::INVALID);
    }
    rt.block_on(async {
        let b = AnyBackend::chosen(chosen, rules)?;
        b.check().await.map(|()| b)
    })
    .map_err(|e| fail(&e, exit::RUNTIME))
}

/// The remote `chainproof run`'s arguments besides reports and scenarios.
fn run_args(args: &RunArgs, loaded: &[Loaded]) -> Vec<String> {
    let mut out: Vec<String> = loaded
        .iter()
        .filter(|_| !args.scenario.is_empty())
        .map(|l| l.scenario.id.clone())
        .collect();
    // Run directories on the target: its temporary folder unless given.
    if let Some(w) = &args.work_root {
        out.push("--work-root".into());
        out.push(w.to_string_lossy().into_owned());
    }
    if let Some(f) = args.fidelity
        && let Some(v) = clap::ValueEnum::to_possible_value(&f)
    {
        out.push("--fidelity".into());
        out.push(v.get_name().to_string());
    }
    out
}

/// Runs `chainproof run` with targets.
pub fn run_remote(args: &RunArgs, loaded: Vec<Loaded>) -> u8 {
    let targets = match targets(args) {
        Ok(t) => t,
        Err(e) => {
            errln!("error: {e}");
            return exit::INVALID;
        }
    };
    let remote_dir = match transfer::remote_dir(&args.remote_dir) {
        Ok(d) => d,
        Err(e) => {
            errln!("error: {e}");
            return exit::INVALID;
        }
    };
    let ssh = Ssh {
        config: args.ssh_config.clone(),
        ..Ssh::default()
    };
    let (path, config) = match guard(args, &targets, &ssh) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let chosen = match verify::profile(Some((path, &config)), args.backend.as_deref()) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let rules = match super::rules::load(&args.rules, false, super::rules::Say::Refusals) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let rule_set = AnyBackend::rule_set(chosen.as_ref(), &rules);
    let rt = match super::runtime::build() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // Before the backend check: a command backend's check runs a program.
    stop::install(&rt);
    let backend = match backend(&rt, chosen.as_ref(), rules) {
        Ok(b) => b,
        Err(code) => return code,
    };
    if stop::requested() {
        errln!("interrupted before any target ran; nothing was started");
        return exit::INTERRUPTED;
    }
    let local_exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => return fail(&e, exit::RUNTIME),
    };
    let job = Job {
        ssh,
        remote_dir,
        local_exe,
        harness: args.harness.clone(),
        run_id: crate::token::new(),
        run_args: run_args(args, &loaded),
        scenarios: scenario_files(args, &loaded),
    };
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    let folder = absolute(&args.reports).join(format!("{stamp}-fleet-{}", job.run_id));
    if let Err(e) = std::fs::create_dir_all(&folder) {
        errln!("error: failed to create {}: {e}", folder.display());
        return exit::RUNTIME;
    }
    errln!(
        "running on {} target(s), at most {} at once …",
        targets.len(),
        args.parallel
    );
    let line = |r: &TargetResult| errln!("{}", crate::term::safe(&Summary::of(r).line()));
    let mut results = fleet::run_all(&job, &targets, &folder, usize::from(args.parallel), &line);
    let interrupted = stop::requested();
    let records = if interrupted {
        // No verification after a stop: the fetched folders keep the
        // targets' own verdicts; targets.json says what happened.
        Vec::new()
    } else {
        let scenarios: Vec<_> = loaded.iter().map(|l| l.scenario.clone()).collect();
        let polling = crate::verify::Polling {
            deadline: args.deadline,
            ..crate::verify::Polling::default()
        };
        rt.block_on(central::verify_all(
            &mut results,
            &scenarios,
            &backend,
            &rule_set,
            &polling,
        ))
    };
    // A stop during verification counts as an interruption too.
    let interrupted = interrupted || stop::requested();
    let fleet = match central::write(&folder, &results, records, args.sign.as_deref()) {
        Ok(f) => f,
        Err(e) => return fail(&e, exit::RUNTIME),
    };
    if let Some(record) = &fleet {
        crate::term::out(&report::render(record, Format::Table));
    }
    conclude(args, &folder, &results, fleet.as_ref(), interrupted)
}

/// Prints what happened to each target and picks the exit code.
fn conclude(
    args: &RunArgs,
    folder: &Path,
    results: &[TargetResult],
    fleet: Option<&crate::record::RunRecord>,
    interrupted: bool,
) -> u8 {
    let failed: Vec<Summary> = results
        .iter()
        .map(Summary::of)
        .filter(|s| s.status == "failed")
        .collect();
    outln!(
        "targets: {} ran, {} failed{}",
        results.len() - failed.len(),
        failed.len(),
        if failed.is_empty() {
            ""
        } else {
            " (see targets.json)"
        }
    );
    for s in &failed {
        outln!("  {}", crate::term::safe(&s.line()));
    }
    outln!("report: {}", folder.display());
    if interrupted {
        errln!("interrupted: runs already started on targets were told to stop and clean up");
        return exit::INTERRUPTED;
    }
    if !failed.is_empty() {
        return exit::RUNTIME;
    }
    match (fleet, args.require.as_deref()) {
        (Some(record), Some(level)) if !crate::suite::meets(record, level) => {
            errln!("coverage policy failed: not every chain is {level}");
            exit::POLICY
        }
        _ => exit::OK,
    }
}
