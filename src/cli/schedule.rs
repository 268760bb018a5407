//! `chainproof schedule`: the suite on a schedule, as a foreground service.

use std::path::PathBuf;
use std::time::Duration;

use super::values::{FidelityArg, LogFormatArg};
use super::{fail, load, parse_duration, run::absolute, verify};
use crate::exit;
use crate::schedule::{self, CronExpr, Service, When, units};
use crate::suite::Settings;

/// Arguments of `schedule`.
#[derive(Debug, clap::Args)]
pub struct ScheduleArgs {
    /// Scenario ids to run (default: all).
    pub scenario: Vec<String>,
    /// Run every DURATION (`30s`, `10m`, `1h`), the first run at once.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "cron")]
    pub every: Option<Duration>,
    /// Run at each match of a cron expression, evaluated in UTC: five fields
    /// (`0 * * * *`) or six with seconds first.
    #[arg(long, value_name = "EXPR")]
    pub cron: Option<String>,
    /// Add a random delay of up to DURATION to each start (spreads a fleet).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub jitter: Option<Duration>,
    /// Stop after N runs, failed ones included (default: never).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_runs: Option<u64>,
    /// Event log format on stderr, one line per event.
    #[arg(long, value_enum, default_value = "text")]
    pub log: LogFormatArg,
    /// Print a systemd service for `chainproof schedule` and exit.
    #[arg(long, conflicts_with = "print_cron")]
    pub print_systemd: bool,
    /// Print a crontab line (`flock -n` + `chainproof run`) and exit.
    #[arg(long)]
    pub print_cron: bool,
    /// Scenario files or folders to load instead of the built-in set.
    #[arg(long, value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Sigma rule folders (default: the shipped detections/).
    #[arg(long, value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Emulated or real opener (default: emulated where the scenario has it).
    #[arg(long, value_enum)]
    pub fidelity: Option<FidelityArg>,
    /// Where reports, the journal and the lock are written (default: reports).
    #[arg(long, value_name = "DIR")]
    pub reports: Option<PathBuf>,
    /// Where run directories are created (default: the system temp folder).
    #[arg(long, value_name = "DIR")]
    pub work_root: Option<PathBuf>,
    /// Config file with backend profiles.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Backend profile to verify with (default: `local`).
    #[arg(long, value_name = "NAME")]
    pub backend: Option<String>,
    /// How long to keep asking a remote backend for missing hops.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub deadline: Duration,
    /// Sign each report folder's SHA256SUMS with this OpenSSH Ed25519 key.
    #[arg(long, value_name = "KEY")]
    pub sign: Option<PathBuf>,
}

/// The lab guard: a schedule runs only on a host the config's `lab.allow`
/// names, checked before anything else happens. Returns the config.
fn lab_guard(
    config: Option<&std::path::Path>,
) -> Result<(&std::path::Path, crate::config::Config), u8> {
    let Some((path, cfg)) = super::read_config(config)? else {
        errln!(
            "error: schedule needs --config FILE with a `lab.allow` list naming this host \
             (see docs/config.md); nothing was run"
        );
        return Err(exit::INVALID);
    };
    super::this_host_guard((path, &cfg), true)?;
    Ok((path, cfg))
}

/// Runs `chainproof schedule`.
pub fn schedule(args: ScheduleArgs) -> u8 {
    if args.print_systemd || args.print_cron {
        return print_units(&args);
    }
    let when = match (&args.every, &args.cron) {
        (Some(d), _) if d.is_zero() => return usage("--every must be longer than 0s"),
        (Some(d), _) => When::Every(*d),
        (None, Some(expr)) => match CronExpr::parse(expr) {
            Ok(c) => When::Cron(Box::new(c)),
            Err(e) => return usage(&e),
        },
        (None, None) => return usage("give --every DURATION or --cron EXPR"),
    };
    let config = match lab_guard(args.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let settings = match settings(&args, (config.0, &config.1)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // Before the lock file, the first thing the service writes.
    let (rt, stop) = match super::runtime::with_stop() {
        Ok(both) => both,
        Err(code) => return code,
    };
    let lock = match schedule::Lock::take(&settings.reports) {
        Ok(l) => l,
        Err(e) => return fail(&e, exit::RUNTIME),
    };
    let description = match &when {
        When::Every(d) => format!("every {}", humantime(*d)),
        When::Cron(c) => format!("cron {} (UTC)", c.text()),
    };
    schedule::log::emit(
        args.log.into(),
        &schedule::Event::Service {
            schedule: description,
            lock: lock.path().to_path_buf(),
            max_runs: args.max_runs,
        },
    );
    let service = Service {
        settings,
        when,
        jitter: args.jitter.unwrap_or_default(),
        max_runs: args.max_runs,
        log: args.log.into(),
    };
    let stopped = rt.block_on(schedule::serve(service, stop));
    drop(lock);
    stopped.exit_code()
}

/// Loads and checks everything once, before the first run: scenarios, ids,
/// backend profile and rules (exit 2 on any error, as `run`).
fn settings(
    args: &ScheduleArgs,
    config: (&std::path::Path, &crate::config::Config),
) -> Result<Settings, u8> {
    let mut loaded = load(&args.scenarios)?;
    for id in &args.scenario {
        if !loaded.iter().any(|l| &l.scenario.id == id) {
            let known: Vec<&str> = loaded.iter().map(|l| l.scenario.id.as_str()).collect();
            errln!("error: no scenario `{id}` (known: {})", known.join(", "));
            return Err(exit::INVALID);
        }
    }
    if !args.scenario.is_empty() {
        loaded.retain(|l| args.scenario.contains(&l.scenario.id));
    }
    let backend = verify::profile(Some(config), args.backend.as_deref())?;
    // Checked (and refusals named) once here, before the first run.
    super::rules::load(&args.rules, false, super::rules::Say::Refusals)?;
    let reports = args.reports.clone().unwrap_or_else(|| "reports".into());
    let work_root = args.work_root.clone().unwrap_or_else(std::env::temp_dir);
    Ok(Settings {
        scenarios: loaded,
        rules: args.rules.clone(),
        fidelity: args.fidelity.map(Into::into),
        reports: absolute(&reports),
        work_root: absolute(&work_root),
        backend,
        record: false,
        sign: args.sign.clone(),
        polling: crate::verify::Polling {
            deadline: args.deadline,
            ..crate::verify::Polling::default()
        },
    })
}

fn print_units(args: &ScheduleArgs) -> u8 {
    let reports = args
        .reports
        .as_ref()
        .map_or_else(|| units::REPORTS.to_string(), |r| r.display().to_string());
    if args.print_cron {
        let cron = args.cron.as_deref().unwrap_or("0 * * * *");
        crate::term::out(&units::crontab_line(cron, &reports));
    } else {
        let when = match (&args.every, &args.cron) {
            (Some(d), _) => format!("--every {}", humantime(*d)),
            (None, Some(c)) => format!("--cron \"{c}\""),
            (None, None) => "--every 1h".into(),
        };
        crate::term::out(&units::systemd_service(&when, &reports));
    }
    exit::OK
}

fn usage(message: &str) -> u8 {
    errln!("error: {message}");
    exit::INVALID
}

/// `1h`, `90s`, `500ms`: a duration as `--every` accepts it.
fn humantime(d: Duration) -> String {
    let s = d.as_secs();
    if d.subsec_nanos() != 0 {
        format!("{}ms", d.as_millis())
    } else if s.is_multiple_of(3600) && s > 0 {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) && s > 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}
