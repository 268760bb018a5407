//! The command line: argument definitions and one function per command, each
//! a thin call into the library that maps errors to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod verify;

use crate::exit;
use crate::report::{self, Format};
use crate::runner::{cleanup, journal::Journal, plan};
use crate::scenario::{self, Fidelity, Loaded, Platform};
use crate::suite::{self, Progress, Settings};

/// chainproof — prove that your SIEM or EDR sees and alerts on ATT&CK
/// T1204.002 (User Execution: Malicious File) chains.
///
/// It runs benign simulations of "user opens a file → processes follow" on a
/// test host, records the ground truth (every process, pid/ppid/image/command
/// line/user/time), checks each hop against telemetry and detection rules,
/// and writes a coverage matrix. Everything it runs is benign, stays in its
/// own run directory, and is cleaned up — also after Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "chainproof", version, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios on this host, verify them, and write the coverage matrix.
    ///
    /// With no SCENARIO, runs every scenario (the built-in set, or the files
    /// under --scenarios). Writes reports/UTCTIME-RUNID/run.json and
    /// matrix.md and prints the matrix.
    Run(RunArgs),
    /// Check scenario files and run nothing. Exit code 2 on any error.
    Validate {
        /// Scenario files or folders (default: the built-in set).
        paths: Vec<PathBuf>,
    },
    /// List scenarios and the platforms each has a variant for.
    List {
        /// Scenario files or folders (default: the built-in set).
        paths: Vec<PathBuf>,
    },
    /// Render a run record again.
    Report {
        /// A run.json written by `chainproof run`.
        record: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Verify a recorded run (run.json) again with a backend, e.g. once the
    /// SIEM has ingested it; rewrites run.json and matrix.md in place.
    Verify(verify::VerifyArgs),
    /// Check that backend profiles answer and their credentials work.
    Backends(verify::BackendsArgs),
    /// Finish the cleanup of runs that were killed (SIGKILL, crash, power
    /// loss): end their processes, unmount their images, remove their run
    /// directories, from the journal under REPORTS/.journal.
    Cleanup {
        /// Reports folder whose journal to read.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
    },
}

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario ids to run (default: all).
    pub scenario: Vec<String>,
    /// Scenario files or folders to load instead of the built-in set.
    #[arg(long, value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// Sigma rule folders for the alerting layer (default: the shipped
    /// detections/). An empty folder means no rules: nothing can alert.
    #[arg(long, value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Open files with the emulated opener (the stage program under the
    /// application's name) or the host's real application. Default: emulated
    /// where the scenario has it, else real.
    #[arg(long, value_enum)]
    pub fidelity: Option<Fidelity>,
    /// Print each scenario's plan and execute nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Platform whose plan --dry-run prints (default: this host's).
    #[arg(long, value_enum, requires = "dry_run")]
    pub platform: Option<PlatformArg>,
    /// Where reports and the journal are written.
    #[arg(long, default_value = "reports")]
    pub reports: PathBuf,
    /// Where run directories are created (default: the system temp folder).
    #[arg(long, value_name = "DIR")]
    pub work_root: Option<PathBuf>,
    /// Config file with backend profiles (see examples/chainproof.yaml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Backend profile to verify with (default: the embedded `local`). It is
    /// checked before anything runs on the host.
    #[arg(long, value_name = "NAME", requires = "config")]
    pub backend: Option<String>,
    /// How long to keep asking a remote backend for missing hops.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub deadline: std::time::Duration,
    /// Fail (exit 1) unless every chain reaches this verdict: `alerted` or
    /// `observed` (alerted counts as observed).
    #[arg(long, value_name = "VERDICT", value_parser = ["alerted", "observed"])]
    pub require: Option<String>,
}

/// Platforms, for `--platform`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PlatformArg {
    /// Linux.
    Linux,
    /// macOS.
    Macos,
    /// Windows.
    Windows,
}

impl From<PlatformArg> for Platform {
    fn from(p: PlatformArg) -> Platform {
        match p {
            PlatformArg::Linux => Platform::Linux,
            PlatformArg::Macos => Platform::Macos,
            PlatformArg::Windows => Platform::Windows,
        }
    }
}

/// Runs a parsed command line.
pub fn main(cli: Cli) -> ExitCode {
    let code = match cli.command {
        Command::Validate { paths } => validate(&paths),
        Command::List { paths } => list(&paths),
        Command::Report { record, format } => match report::read_record(&record) {
            Ok(r) => {
                print!("{}", report::render(&r, format));
                exit::OK
            }
            Err(e) => fail(&e, exit::INVALID),
        },
        Command::Cleanup { reports } => cleanup_command(&reports),
        Command::Run(args) => run(args),
        Command::Verify(args) => verify::verify(args),
        Command::Backends(args) => verify::backends(args),
    };
    ExitCode::from(code)
}

/// Prints an error and its chain of causes to stderr; returns `code`.
pub fn fail(e: &dyn std::error::Error, code: u8) -> u8 {
    let mut text = format!("error: failed to {e}");
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!("\n  caused by: {s}"));
        source = s.source();
    }
    eprintln!("{text}");
    code
}

fn load(paths: &[PathBuf]) -> Result<Vec<Loaded>, u8> {
    scenario::load_paths(paths).map_err(|errors| {
        for e in &errors {
            eprintln!("error: {e}");
        }
        eprintln!("{} error(s); nothing was run", errors.len());
        exit::INVALID
    })
}

fn validate(paths: &[PathBuf]) -> u8 {
    match load(paths) {
        Ok(loaded) => {
            for l in &loaded {
                println!("ok  {}  ({})", l.scenario.id, l.source.path.display());
            }
            exit::OK
        }
        Err(code) => code,
    }
}

fn list(paths: &[PathBuf]) -> u8 {
    let loaded = match load(paths) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let mut b = tabled::builder::Builder::default();
    b.push_record([
        "scenario",
        "technique",
        "linux",
        "macos",
        "windows",
        "title",
    ]);
    for l in &loaded {
        let s = &l.scenario;
        let mut row = vec![s.id.clone(), s.technique.clone()];
        for p in Platform::ALL {
            row.push(match s.variants.get(p) {
                None => "-".to_string(),
                Some(v) => [
                    v.open.emulated.as_ref().map(|_| "emulated"),
                    v.open.real.as_ref().map(|_| "real"),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("+"),
            });
        }
        row.push(s.title.clone());
        b.push_record(row);
    }
    let mut t = b.build();
    t.with(tabled::settings::Style::rounded());
    println!("{t}");
    exit::OK
}

fn cleanup_command(reports: &std::path::Path) -> u8 {
    let journal = Journal::under(&absolute(reports));
    let (done, refused) = match cleanup::finish(&journal) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "error: failed to read the journal {}: {e}",
                journal.dir().display()
            );
            return exit::RUNTIME;
        }
    };
    for (path, why) in &refused {
        eprintln!(
            "warning: journal entry {} left in place: {why}",
            path.display()
        );
    }
    if done.is_empty() {
        println!("nothing to clean up in {}", journal.dir().display());
    }
    let mut failed = !refused.is_empty();
    for item in done {
        match item {
            cleanup::Finished::InProgress(e) => {
                println!(
                    "{} ({}): run still in progress (pid {}); skipped",
                    e.token, e.scenario, e.harness_pid
                );
            }
            cleanup::Finished::Cleaned(e, r) => {
                let dir = match (r.removed_workdir, e.workdir.exists()) {
                    (true, _) => "removed",
                    (false, false) => "already gone",
                    (false, true) => "NOT removed",
                };
                println!(
                    "{} ({}): ended {} process(es), {}unmounted, run directory {dir}",
                    e.token,
                    e.scenario,
                    r.killed.len(),
                    if r.unmounted { "" } else { "nothing " },
                );
                for p in &r.removed_outside {
                    println!("  removed {p}");
                }
                for p in &r.problems {
                    eprintln!("  problem: {p}");
                }
                failed |= !r.problems.is_empty();
            }
        }
    }
    if failed { exit::RUNTIME } else { exit::OK }
}

/// Parses `500ms`, `30s`, `5m`, `1h`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::scenario::duration_text::parse(text)
}

fn absolute(p: &std::path::Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn start(&self, index: usize, total: usize, id: &str) {
        self.0.set_message(format!("[{}/{total}] {id}", index + 1));
        if self.0.is_hidden() {
            eprintln!("[{}/{total}] {id} …", index + 1);
        }
    }
    fn done(&self, index: usize, total: usize, id: &str, summary: &str) {
        self.0.inc(1);
        let line = report::terminal_safe(&format!("[{}/{total}] {id}: {summary}", index + 1));
        if self.0.is_hidden() {
            eprintln!("{line}");
        } else {
            self.0.println(line);
        }
    }
}

fn run(args: RunArgs) -> u8 {
    let mut loaded = match load(&args.scenarios) {
        Ok(l) => l,
        Err(code) => return code,
    };
    for id in &args.scenario {
        if !loaded.iter().any(|l| &l.scenario.id == id) {
            let known: Vec<&str> = loaded.iter().map(|l| l.scenario.id.as_str()).collect();
            eprintln!("error: no scenario `{id}` (known: {})", known.join(", "));
            return exit::INVALID;
        }
    }
    if !args.scenario.is_empty() {
        loaded.retain(|l| args.scenario.contains(&l.scenario.id));
    }
    if args.dry_run {
        let platform = args
            .platform
            .map(Platform::from)
            .or_else(Platform::current)
            .unwrap_or(Platform::Linux);
        for l in &loaded {
            println!(
                "{}",
                plan::plan(&l.scenario, platform, args.fidelity, &crate::token::new())
            );
        }
        println!("dry run: nothing was executed");
        return exit::OK;
    }
    let backend = match verify::profile(args.config.as_deref(), args.backend.as_deref()) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let settings = Settings {
        scenarios: loaded,
        rules: args.rules,
        fidelity: args.fidelity,
        // Absolute, so the journal and every template stay valid from any
        // working directory (the opener runs in the download folder).
        reports: absolute(&args.reports),
        work_root: absolute(&args.work_root.unwrap_or_else(std::env::temp_dir)),
        backend,
        polling: crate::verify::Polling {
            deadline: args.deadline,
            ..crate::verify::Polling::default()
        },
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&e, exit::RUNTIME),
    };
    let bar = indicatif::ProgressBar::new(settings.scenarios.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:20}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let progress = Bar(bar);
    let outcome = rt.block_on(suite::run(settings, &progress));
    progress.0.finish_and_clear();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            let code = e.exit_code();
            return fail(&e, code);
        }
    };
    print!("{}", report::render(&outcome.record, Format::Table));
    println!("report: {}", outcome.folder.display());
    if outcome.interrupted {
        eprintln!("interrupted: the running scenario was cleaned up; the record holds what ran");
        return exit::INTERRUPTED;
    }
    match args.require.as_deref() {
        Some(level) if !suite::meets(&outcome.record, level) => {
            eprintln!("coverage policy failed: not every chain is {level}");
            exit::POLICY
        }
        _ => exit::OK,
    }
}
