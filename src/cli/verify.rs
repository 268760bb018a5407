//! `verify` and `backends check`: verification of a recorded run, and
//! backend health checks, from the config file's profiles.

use std::path::{Path, PathBuf};

use super::{fail, parse_duration};
use crate::config::{Config, Profile};
use crate::detect::Rules;
use crate::exit;
use crate::report::{self, Format};

/// Arguments of `verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The run.json to verify.
    pub record: PathBuf,
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
    /// (default: the built-in set; unknown ids require every hop).
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
    /// rewriting the record's own folder.
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

/// The profile named on the command line, or `None` for the local backend,
/// from the config file already read (see [`super::read_config`]).
pub fn profile(
    config: Option<(&Path, &Config)>,
    name: Option<&str>,
) -> Result<Option<(String, Profile)>, u8> {
    // `local` and `auditd` work without a config file, with their defaults.
    let ((path, cfg), name) = match (config, name) {
        (_, None) | (None, Some("local")) => return Ok(None),
        (None, Some("auditd")) => {
            let default = Profile::Auditd(crate::backend::auditd::AuditdConfig::default());
            return Ok(Some(("auditd".into(), default)));
        }
        (None, Some(other)) => {
            errln!(
                "error: backend `{other}` needs --config FILE naming its profile \
                 (only local and auditd have defaults)"
            );
            return Err(exit::INVALID);
        }
        (Some(c), Some(name)) => (c, name),
    };
    let p = cfg
        .profile(name, path)
        .map_err(|e| fail(&e, exit::INVALID))?;
    Ok(Some((name.to_string(), p.clone())))
}

/// `chainproof verify`.
pub fn verify(args: VerifyArgs) -> u8 {
    let mut record = match report::read_record(&args.record) {
        Ok(r) => r,
        Err(e) => return fail(&e, exit::INVALID),
    };
    let scenarios = match crate::scenario::load_paths(&args.scenarios) {
        Ok(l) => l.into_iter().map(|l| l.scenario).collect::<Vec<_>>(),
        Err(errors) => {
            for e in &errors {
                errln!("error: {e}");
            }
            return exit::INVALID;
        }
    };
    let rules = match super::rules::load(&args.rules, false, super::rules::Say::Refusals) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let config = match super::read_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let chosen = match profile(super::as_ref(&config), args.backend.as_deref()) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let rule_set = crate::backend::AnyBackend::rule_set(chosen.as_ref(), &rules);
    let rt = match super::runtime::build() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let polling = crate::verify::Polling {
        deadline: args.deadline,
        ..crate::verify::Polling::default()
    };
    let done = rt.block_on(async {
        let backend = match &chosen {
            None if !args.telemetry.is_empty() => crate::backend::AnyBackend::Recorded(Box::new(
                crate::backend::recorded::Recorded::load(&args.telemetry, rules)?,
            )),
            _ => crate::backend::AnyBackend::chosen(chosen.as_ref(), rules)?,
        };
        backend.check().await?;
        let exchanges = crate::verify::again(
            &mut record,
            &scenarios,
            &backend,
            &rule_set,
            &polling,
            // A signal keeps its default action here: the record on
            // disk is only replaced by a finished verification.
            &mut crate::stop::never(),
        )
        .await;
        Ok::<_, crate::backend::BackendError>(exchanges)
    });
    let exchanges = match done {
        Ok(x) => x,
        Err(e) => return fail(&e, exit::RUNTIME),
    };
    let folder = match &args.out {
        Some(dir) => {
            if let Err(e) = std::fs::create_dir_all(dir) {
                errln!("error: failed to create {}: {e}", dir.display());
                return exit::RUNTIME;
            }
            dir.as_path()
        }
        None => args.record.parent().unwrap_or(Path::new(".")),
    };
    match report::evidence::rewrite(folder, &record, &exchanges) {
        Ok(Some(note)) => errln!("note: {note}"),
        Ok(None) => {}
        Err(e) => return fail(&e, exit::RUNTIME),
    }
    crate::term::out(&report::render(&record, Format::Table));
    outln!("report: {}", folder.display());
    exit::OK
}

/// `chainproof backends check [NAME]`.
pub fn backends(args: BackendsArgs) -> u8 {
    let cfg = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => return fail(&e, exit::INVALID),
    };
    let names: Vec<String> = match &args.name {
        Some(n) => vec![n.clone()],
        None => cfg.backends.keys().cloned().collect(),
    };
    let rt = match super::runtime::build() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let mut failed = false;
    for name in names {
        let profile = match cfg.profile(&name, &args.config) {
            Ok(p) => p,
            Err(e) => return fail(&e, exit::INVALID),
        };
        let result = rt.block_on(async {
            let rules = Rules::load(&[])
                .map_err(|e| crate::backend::BackendError::config(name.clone(), e.to_string()))?;
            profile.build(&name, rules)?.check().await
        });
        match result {
            Ok(()) => outln!("ok      {name}"),
            Err(e) => {
                failed = true;
                outln!("failed  {name}: {}", e.detail());
            }
        }
    }
    if failed { exit::RUNTIME } else { exit::OK }
}
