//! `chainproof run`: arguments → [`Request`] → pipeline → matrix, on this
//! host or on targets; or the plan with `--dry-run`.

use super::RunArgs;
use super::error::{CliError, Cmd};
use super::watch::Watch;
use crate::exit;
use crate::pipeline::{self, Executed, Fleet, Occasion, Place, Request};
use crate::report;
use crate::runner::plan;
use crate::suite::Outcome;
use crate::term;
use crate::vocab::Platform;

/// The request `run`'s arguments make.
fn request(args: &RunArgs) -> Request {
    let place = if args.target.is_empty() && args.targets.is_none() {
        Place::Here(Occasion::ByHand)
    } else {
        Place::Targets(Fleet {
            targets: args.target.clone(),
            inventory: args.targets.clone(),
            parallel: args.parallel,
            ssh_config: args.ssh_config.clone(),
            harness: args.harness.clone(),
            remote_dir: args.remote_dir.clone(),
        })
    };
    Request {
        scenario_ids: args.scenario.clone(),
        scenario_paths: args.scenarios.clone(),
        rules: args.rules.clone(),
        fidelity: args.fidelity.map(Into::into),
        config: args.config.clone(),
        backend: args.backend.clone(),
        reports: args.reports.clone(),
        work_root: args.work_root.clone(),
        polling: crate::verify::Polling {
            deadline: args.deadline,
            ..crate::verify::Polling::default()
        },
        record: args.record,
        sign: args.sign.clone(),
        place,
    }
}

/// Runs `chainproof run`.
pub fn run(args: RunArgs) -> Result<u8, CliError> {
    let request = request(&args);
    let cmd = match request.place {
        Place::Here(_) => Cmd::Run,
        Place::Targets(_) => Cmd::Remote,
    };
    if args.dry_run {
        return dry_run(&args, &request).map_err(|e| CliError::Pipeline(e, cmd));
    }
    // The stop signals are handled from here on, before anything touches
    // the host (the backend check may run a program; then the journal).
    let (rt, stop) = super::runtime::with_stop()?;
    let watch = Watch::bar();
    let executed = rt.block_on(async {
        let prepared = pipeline::prepare(request, &watch, &mut stop.clone()).await?;
        pipeline::execute(prepared, &watch, stop).await
    });
    watch.finish();
    match executed.map_err(|e| CliError::Pipeline(e, cmd))? {
        Executed::Here(outcome) => Ok(here(&args, &outcome)),
        Executed::Targets(fleet) => Ok(super::remote::conclude(&args, &fleet)),
    }
}

/// The matrix of a run on this host, and its exit code.
fn here(args: &RunArgs, outcome: &Outcome) -> u8 {
    term::out(&report::table(&outcome.record, term::width::columns()));
    outln!("report: {}", outcome.folder.display());
    if outcome.interrupted {
        errln!("interrupted: the running scenario was cleaned up; the record holds what ran");
        return exit::INTERRUPTED;
    }
    super::remote::require(Some(&outcome.record), args.require.as_deref())
}

/// `run --dry-run`: each scenario's plan; with targets, the targets the
/// lab guard allows (resolved, never contacted).
fn dry_run(args: &RunArgs, request: &Request) -> Result<u8, pipeline::PipelineError> {
    let (loaded, targets) = pipeline::dry_run(request)?;
    if let Place::Targets(fleet) = &request.place {
        super::remote::list_targets(&targets, fleet.parallel);
    }
    let platform = args
        .platform
        .map(Platform::from)
        .or_else(Platform::current)
        .unwrap_or(Platform::Linux);
    // Laid out here, not in the plan text: a step longer than the output is
    // wrapped under its own text (see term::width).
    let width = term::width::columns();
    for l in &loaded {
        let text = plan::plan(
            &l.scenario,
            platform,
            args.fidelity.map(Into::into),
            &crate::token::new(),
        );
        outln!("{}", term::width::wrap_lines(&term::safe(&text), width));
    }
    outln!("dry run: nothing was executed");
    Ok(exit::OK)
}
