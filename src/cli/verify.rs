//! `verify` and `backends check`: verification of a recorded run, and
//! backend health checks, from the config file's profiles.

use std::path::PathBuf;

use super::error::{CliError, Cmd};
use super::parse_duration;
use super::watch::Watch;
use crate::config::Config;
use crate::exit;
use crate::pipeline::{self, ReverifyRequest};
use crate::report;
use crate::schedule::service::error_chain;
use crate::verify::{Expectations, Origin};

/// Arguments of `verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The records to verify, together: run.json files, report folders,
    /// or folders of report folders (a schedule's reports folder). Every
    /// round asks the backend once for all of them; each is rewritten as
    /// when verified alone.
    #[arg(required = true, value_name = "RECORD")]
    pub records: Vec<PathBuf>,
    /// Config file with backend profiles.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Backend profile (default: the embedded `local`).
    #[arg(long, value_name = "NAME")]
    pub backend: Option<String>,
    /// Sigma rule folders for the local backend (default: the shipped ones).
    #[arg(long, value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Scenario files or folders the record's expectations come from
    /// (default: the built-in set; unknown ids require every hop). Only a
    /// scenario whose SHA-256 is the recorded one is used, else the copy in
    /// the record's folder (scenarios/); a differing one is refused.
    #[arg(long, value_name = "PATH")]
    pub scenarios: Vec<PathBuf>,
    /// How long to keep asking for missing hops.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub deadline: std::time::Duration,
    /// Verify against recorded telemetry (a `run --record` telemetry.jsonl,
    /// EVTX, Sysmon JSON, audit logs) with --rules, instead of a backend:
    /// how CI re-checks changed detection content without a lab.
    #[arg(long, value_name = "PATH", conflicts_with = "backend")]
    pub telemetry: Vec<PathBuf>,
    /// Write run.json, matrix.md and junit.xml to this folder instead of
    /// rewriting the record's own folder (with several records, to a
    /// folder of it named after each record's own).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Arguments of `backends`.
#[derive(Debug, clap::Args)]
pub struct BackendsArgs {
    /// `check`: prove connectivity and credentials.
    #[arg(value_parser = ["check"])]
    pub action: String,
    /// Profile to check (default: every profile of the config).
    pub name: Option<String>,
    /// Config file with backend profiles.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
}

/// `chainproof verify`.
pub fn verify(args: VerifyArgs) -> Result<u8, CliError> {
    let request = ReverifyRequest {
        records: args.records,
        scenarios: args.scenarios,
        rules: args.rules,
        config: args.config,
        backend: args.backend,
        telemetry: args.telemetry,
        polling: crate::verify::Polling {
            deadline: args.deadline,
            ..crate::verify::Polling::default()
        },
        out: args.out,
    };
    let rt = super::runtime::build()?;
    let watch = Watch::rules_only();
    // A signal keeps its default action here: the record on disk is only
    // replaced by a finished verification.
    let done = rt.block_on(pipeline::reverify(
        request,
        &watch,
        &mut crate::stop::never(),
    ));
    let done = done.map_err(|e| CliError::Pipeline(e, Cmd::Verify))?;
    let several = done.records.len() + done.failed.len() > 1;
    for r in &done.records {
        if let Some(note) = &r.note {
            errln!("note: {note}");
        }
        errln!("{}", expectations_line(&r.expectations));
        if several {
            // A hundred matrices would bury the one line that matters.
            let summary = report::matrix::Summary::of(&r.record).line();
            outln!("{}: {}", r.path.display(), crate::term::safe(&summary));
        } else {
            crate::term::out(&report::table(&r.record, crate::term::width::columns()));
        }
        outln!("report: {}", r.folder.display());
    }
    for folder in &done.skipped {
        errln!(
            "skipped {}: no run.json (not a report folder)",
            folder.display()
        );
    }
    for (path, e) in &done.failed {
        errln!("error: {}: {}", path.display(), error_chain(e));
    }
    if several {
        outln!(
            "verified {} record(s) together; {} could not be verified",
            done.records.len(),
            done.failed.len()
        );
    }
    if let Some(e) = &done.check_failed {
        errln!(
            "error: {}; every hop was written inconclusive with that reason",
            error_chain(e)
        );
        return Ok(exit::RUNTIME);
    }
    Ok(match done.failed.first() {
        Some((_, e)) => e.exit_code(),
        None => exit::OK,
    })
}

/// One line saying which expectations judged the record.
fn expectations_line(e: &Expectations) -> String {
    let count = |o: Origin| e.used.iter().filter(|(_, origin)| *origin == o).count();
    let ids = |o: Origin| {
        e.used
            .iter()
            .filter(|(_, origin)| *origin == o)
            .map(|(id, _)| id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if count(Origin::Loaded) > 0 {
        parts.push(format!(
            "{} scenario(s) as recorded (same SHA-256), loaded now",
            count(Origin::Loaded)
        ));
    }
    if count(Origin::Bundle) > 0 {
        parts.push(format!(
            "{} as recorded, from the record's folder (scenarios/): {}",
            count(Origin::Bundle),
            ids(Origin::Bundle)
        ));
    }
    if count(Origin::Unchecked) > 0 {
        parts.push(format!(
            "{} by id only (the record has no SHA-256): {}",
            count(Origin::Unchecked),
            ids(Origin::Unchecked)
        ));
    }
    if count(Origin::Unknown) > 0 {
        parts.push(format!(
            "{} unknown, every hop required: {}",
            count(Origin::Unknown),
            ids(Origin::Unknown)
        ));
    }
    crate::term::safe(&format!("expectations: {}", parts.join("; "))).into_owned()
}

/// `chainproof backends check [NAME]`.
pub fn backends(args: BackendsArgs) -> Result<u8, CliError> {
    let cfg = Config::load(&args.config).map_err(CliError::Config)?;
    let names: Vec<String> = match &args.name {
        Some(n) => vec![n.clone()],
        None => cfg.backends.keys().cloned().collect(),
    };
    let rt = super::runtime::build()?;
    let mut failed = false;
    for name in names {
        let profile = cfg.profile(&name, &args.config).map_err(CliError::Config)?;
        let result = rt.block_on(crate::verifier::check_profile(&name, profile));
        match result {
            Ok(()) => outln!("ok      {name}"),
            Err(e) => {
                failed = true;
                outln!("failed  {name}: {}", e.detail());
            }
        }
    }
    Ok(if failed { exit::RUNTIME } else { exit::OK })
}
