//! `chainproof run`: the suite on this host, or its plan with `--dry-run`.

use std::path::PathBuf;

use super::{RunArgs, fail, load, verify};
use crate::exit;
use crate::report::{self, Format};
use crate::runner::plan;
use crate::scenario::Platform;
use crate::suite::{self, Progress, Settings};
use crate::term;

/// An absolute form of `p` (relative to the working directory).
pub fn absolute(p: &std::path::Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn rules_parsed(&self, done: usize, total: usize) {
        // Counts only: the bar's message never holds input text here.
        if done.is_multiple_of(64) || done + 1 == total {
            self.0
                .set_message(format!("rules: {done}/{total} files parsed"));
        }
    }
    fn rules(&self, summary: &crate::detect::load::Summary) {
        self.0.set_message("");
        super::rules::tell(summary, super::rules::Say::Refusals);
    }
    fn start(&self, index: usize, total: usize, id: &str) {
        let line = format!("[{}/{total}] {id}", index + 1);
        self.0.set_message(term::safe(&line).into_owned());
        if self.0.is_hidden() {
            errln!("{line} …");
        }
    }
    fn done(&self, index: usize, total: usize, id: &str, summary: &str) {
        self.0.inc(1);
        let line = format!("[{}/{total}] {id}: {summary}", index + 1);
        if self.0.is_hidden() {
            errln!("{line}");
        } else {
            // indicatif ignores errors of its own terminal writes.
            self.0.println(term::safe(&line));
        }
    }
}

/// Runs `chainproof run`.
pub fn run(args: RunArgs) -> u8 {
    let mut loaded = match load(&args.scenarios) {
        Ok(l) => l,
        Err(code) => return code,
    };
    for id in &args.scenario {
        if !loaded.iter().any(|l| &l.scenario.id == id) {
            let known: Vec<&str> = loaded.iter().map(|l| l.scenario.id.as_str()).collect();
            errln!("error: no scenario `{id}` (known: {})", known.join(", "));
            return exit::INVALID;
        }
    }
    if !args.scenario.is_empty() {
        loaded.retain(|l| args.scenario.contains(&l.scenario.id));
    }
    if args.dry_run {
        // With targets: check them and the lab guard (no connection), and
        // say where the plans below would run.
        if (!args.target.is_empty() || args.targets.is_some())
            && let Err(code) = super::remote::dry_run(&args)
        {
            return code;
        }
        let platform = args
            .platform
            .map(Platform::from)
            .or_else(Platform::current)
            .unwrap_or(Platform::Linux);
        for l in &loaded {
            outln!(
                "{}",
                plan::plan(
                    &l.scenario,
                    platform,
                    args.fidelity.map(Into::into),
                    &crate::token::new()
                )
            );
        }
        outln!("dry run: nothing was executed");
        return exit::OK;
    }
    if !args.target.is_empty() || args.targets.is_some() {
        return super::remote::run_remote(&args, loaded);
    }
    // The stop signals are handled from here on, before anything touches
    // the host (the backend check may run a program; then the journal).
    let (rt, stop) = match super::runtime::with_stop() {
        Ok(both) => both,
        Err(code) => return code,
    };
    let config = match super::read_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if let Some(c) = super::as_ref(&config)
        && let Err(code) = super::this_host_guard(c, false)
    {
        return code;
    }
    let backend = match verify::profile(super::as_ref(&config), args.backend.as_deref()) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let settings = Settings {
        scenarios: loaded,
        rules: args.rules,
        fidelity: args.fidelity.map(Into::into),
        // Absolute, so the journal and every template stay valid from any
        // working directory (the opener runs in the download folder).
        reports: absolute(&args.reports),
        work_root: absolute(&args.work_root.unwrap_or_else(std::env::temp_dir)),
        backend,
        record: args.record,
        sign: args.sign.clone(),
        polling: crate::verify::Polling {
            deadline: args.deadline,
            ..crate::verify::Polling::default()
        },
    };
    let bar = indicatif::ProgressBar::new(settings.scenarios.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:20}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let progress = Bar(bar);
    let outcome = rt.block_on(suite::run(settings, &progress, stop));
    progress.0.finish_and_clear();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            let code = e.exit_code();
            return fail(&e, code);
        }
    };
    term::out(&report::render(&outcome.record, Format::Table));
    outln!("report: {}", outcome.folder.display());
    if outcome.interrupted {
        errln!("interrupted: the running scenario was cleaned up; the record holds what ran");
        return exit::INTERRUPTED;
    }
    match args.require.as_deref() {
        Some(level) if !suite::meets(&outcome.record, level) => {
            errln!("coverage policy failed: not every chain is {level}");
            exit::POLICY
        }
        _ => exit::OK,
    }
}
