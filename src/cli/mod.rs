//! The command line: argument definitions and one function per command, each
//! a thin call into the library returning `Result<u8, CliError>`; [`main`]
//! turns the one error type ([`error::CliError`]) into its exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod build;
mod catalog;
mod check_build;
mod cleanup;
pub mod error;
mod evidence;
mod merge;
mod offline;
mod progress;
mod remote;
mod rules;
mod run;
mod runtime;
mod schedule;
mod values;
mod verify;
mod watch;

use crate::exit;
use crate::scenario::Loaded;
use crate::vocab::Platform;
use values::{FidelityArg, ReportFormat};

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
    /// Write the artifacts of scenarios for a platform into a folder and run
    /// nothing: to check them with other tools, or to carry them to a lab
    /// host. Prints scenario, kind, file, size and SHA-256 per artifact.
    Build(build::BuildArgs),
    /// Judge chains run by hand from a folder `build` wrote: every file is
    /// the one built, and each scenario's proof file is there (on the lab
    /// host, or copied back with --proofs). Exit 1 when a proof is missing.
    CheckBuild(check_build::CheckBuildArgs),
    /// Run the suite repeatedly in the foreground (`--every` or `--cron`),
    /// never overlapping itself: a service for systemd or a container.
    /// `--print-systemd` / `--print-cron` print deployment units instead.
    Schedule(schedule::ScheduleArgs),
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
        format: ReportFormat,
    },
    /// Merge run records of several hosts into one fleet record and print its
    /// matrix (hosts × scenarios × hops); with --out, write run.json,
    /// matrix.md, matrix.csv, navigator.json, report.html and junit.xml there.
    Merge {
        /// run.json files written by `chainproof run` (or earlier merges).
        #[arg(required = true, value_name = "RUN_JSON")]
        records: Vec<PathBuf>,
        /// Folder to write the fleet's reports into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Verify a recorded run (run.json) again with a backend, e.g. once the
    /// SIEM has ingested it; rewrites run.json and matrix.md in place.
    Verify(verify::VerifyArgs),
    /// Check that backend profiles answer and their credentials work.
    Backends(verify::BackendsArgs),
    /// Print the kernel audit rules the auditd backend needs (execve and
    /// execveat for both ABIs, file creation under /tmp, /home, /media);
    /// `--install` loads them with auditctl and raises the backlog,
    /// `--remove` takes out every rule with chainproof's keys and nothing else.
    AuditRules {
        /// Load the rules (root).
        #[arg(long, conflicts_with = "remove")]
        install: bool,
        /// Remove the rules again (root).
        #[arg(long)]
        remove: bool,
    },
    /// Evaluate Sigma rules over recorded telemetry offline: chainproof
    /// recordings (telemetry.jsonl), Sysmon/Winlogbeat JSON or JSON lines,
    /// Windows .evtx, raw audit.log / ausearch --raw / laurel, and .zip files
    /// of these. Rebuilds the process chains and prints each with its alerts,
    /// the alerts outside chains, and what each input and the rules gave.
    #[command(after_help = offline::REPLAY_EXIT_CODES)]
    Replay(offline::ReplayArgs),
    /// Compare a run with a baseline cell by cell; exit 1 on regression.
    ///
    /// A cell regresses when its verdict is worse than the baseline's
    /// (alerted technique > tactic > general > observed > missed/blocked),
    /// when a baseline scenario is missing, or when a policy threshold is not
    /// met. Prints the difference.
    Gate {
        /// The baseline run.json.
        #[arg(long)]
        baseline: PathBuf,
        /// The run.json to judge.
        #[arg(long)]
        current: PathBuf,
        /// Gate policy (see ci/gate-policy.yaml); default: no thresholds,
        /// inconclusive and missing scenarios fail.
        #[arg(long)]
        policy: Option<PathBuf>,
    },
    /// Check an evidence bundle (a run's report folder): recompute every
    /// file's SHA-256 against SHA256SUMS and check SHA256SUMS.sig. Exit 0
    /// when intact; 1 naming each changed, missing or extra file.
    Bundle {
        /// What to do.
        #[command(subcommand)]
        action: BundleAction,
    },
    /// Coverage over time, from the reports folder's history.jsonl.
    Trend {
        /// Reports folder.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
    },
    /// The matrix cells that changed between two runs (run.json files).
    Diff {
        /// The earlier run.json.
        before: PathBuf,
        /// The later run.json.
        after: PathBuf,
    },
    /// Finish the cleanup of runs that were killed (SIGKILL, crash, power
    /// loss): end their processes, unmount their images, remove their run
    /// directories, from the journal under REPORTS/.journal.
    Cleanup {
        /// Reports folder whose journal to read.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
    },
}

/// `bundle` subcommands.
#[derive(Debug, Subcommand)]
pub enum BundleAction {
    /// Verify a report folder against its SHA256SUMS (and signature).
    Verify {
        /// The report folder.
        dir: PathBuf,
        /// An OpenSSH allowed-signers file the signing key must be in.
        #[arg(long, value_name = "FILE")]
        allowed_signers: Option<PathBuf>,
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
    pub fidelity: Option<FidelityArg>,
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
    /// Backend profile to verify with (default: the embedded `local`; `auditd`
    /// works without a config, reading /var/log/audit/audit.log). It is
    /// checked before anything runs on the host.
    #[arg(long, value_name = "NAME")]
    pub backend: Option<String>,
    /// How long to keep asking a remote backend for missing hops.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub deadline: std::time::Duration,
    /// Also write the telemetry the backend returned, one event per line, as
    /// telemetry.jsonl in the report folder (for `replay` and `gate` in CI).
    /// Every report folder now holds it as evidence; the flag is kept for
    /// existing scripts.
    #[arg(long)]
    pub record: bool,
    /// Sign the report folder's SHA256SUMS with this OpenSSH Ed25519 private
    /// key (unencrypted); anyone can check it with `ssh-keygen -Y verify -n
    /// chainproof` (see docs/evidence.md).
    #[arg(long, value_name = "KEY")]
    pub sign: Option<PathBuf>,
    /// Fail (exit 1) unless every chain reaches this verdict: `alerted` or
    /// `observed` (alerted counts as observed).
    #[arg(long, value_name = "VERDICT", value_parser = ["alerted", "observed"])]
    pub require: Option<String>,
    /// Run on another host instead of this one, through the system's OpenSSH
    /// client (your keys, agent and ~/.ssh/config; host keys must already be
    /// known). Repeatable. Needs --config with a `lab.allow` list naming it.
    /// The run folders come back and are verified here (docs/remote.md).
    #[arg(
        long,
        value_name = "ssh://[USER@]HOST[:PORT]",
        help_heading = "Remote targets"
    )]
    pub target: Vec<String>,
    /// A YAML inventory of targets (`targets:` list of ssh:// addresses or
    /// {url, name, harness} entries).
    #[arg(long, value_name = "FILE", help_heading = "Remote targets")]
    pub targets: Option<PathBuf>,
    /// How many targets run at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256), help_heading = "Remote targets")]
    pub parallel: u16,
    /// An ssh config file to use instead of ~/.ssh/config (`ssh -F`).
    #[arg(long, value_name = "FILE", help_heading = "Remote targets")]
    pub ssh_config: Option<PathBuf>,
    /// A chainproof binary for targets whose OS or CPU differ from this
    /// host's (default: this binary, for targets like this host).
    #[arg(long, value_name = "FILE", help_heading = "Remote targets")]
    pub harness: Option<PathBuf>,
    /// Folder on each target for the harness and the run's files, relative
    /// to the login's home unless absolute. The run's files are removed
    /// once fetched; the harness stays for the next run.
    #[arg(
        long,
        value_name = "DIR",
        default_value = ".chainproof",
        help_heading = "Remote targets"
    )]
    pub remote_dir: String,
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
        Command::Validate { paths } => catalog::validate(&paths),
        Command::List { paths } => catalog::list(&paths),
        Command::Report { record, format } => evidence::report(&record, format.into()),
        Command::Cleanup { reports } => cleanup::cleanup_command(&reports),
        Command::Bundle { action } => evidence::bundle_command(action),
        Command::Trend { reports } => evidence::trend(&reports),
        Command::Diff { before, after } => evidence::diff(&before, &after),
        Command::Merge { records, out } => merge::merge(&records, out.as_deref()),
        Command::Run(args) => run::run(args),
        // `build` (owned with the run plan) still prints its own errors.
        Command::Build(args) => Ok(build::build_command(args)),
        Command::CheckBuild(args) => Ok(check_build::check_build(args)),
        Command::Schedule(args) => schedule::schedule(args),
        Command::Verify(args) => verify::verify(args),
        Command::Backends(args) => verify::backends(args),
        Command::AuditRules { install, remove } => offline::audit_rules(install, remove),
        Command::Replay(args) => offline::replay(args),
        Command::Gate {
            baseline,
            current,
            policy,
        } => offline::gate(&baseline, &current, policy.as_deref()),
    };
    let code = code.unwrap_or_else(|e| {
        e.display_to_stderr();
        e.exit_code()
    });
    ExitCode::from(crate::term::exit_code(code))
}

/// A command line clap refused, or `--help`/`--version`. Help and version
/// are clap's own text and keep its styling; an error echoes what was
/// typed, so it goes through the sanitiser, unstyled, to stderr.
pub fn usage(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit()
    }
    crate::term::err(&e.render().to_string());
    let code = u8::try_from(e.exit_code()).unwrap_or(exit::INVALID);
    ExitCode::from(crate::term::exit_code(code))
}

/// The scenarios of `paths`, for `build`, which prints its own errors.
fn load(paths: &[PathBuf]) -> Result<Vec<Loaded>, u8> {
    crate::pipeline::scenarios(paths, &[]).map_err(|e| {
        let e = error::CliError::Pipeline(e, error::Cmd::Run);
        e.display_to_stderr();
        e.exit_code()
    })
}

/// Parses `500ms`, `30s`, `5m`, `1h`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::vocab::duration_text::parse(text)
}
