//! The one error of the command line: every way a command can end early,
//! each variant knowing its exit code ([`crate::exit`], documented in
//! docs/exit-codes.md) and how to show itself on stderr. Commands return
//! `Result<u8, CliError>` (the `Ok` code is 0 or a policy's 1 or 130);
//! [`super::main`] is the only place that turns either into an exit code.

use crate::exit;
use crate::pipeline::PipelineError;

/// Which command a pipeline error came from, where its words differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    /// `run` on this host.
    Run,
    /// `run --target/--targets`.
    Remote,
    /// `schedule`.
    Schedule,
    /// `verify`.
    Verify,
}

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The pipeline could not be prepared or executed.
    #[error("{0}")]
    Pipeline(#[source] PipelineError, Cmd),
    /// Arguments clap accepted but the command cannot use.
    #[error("{0}")]
    Usage(String),
    /// The async runtime could not be built.
    #[error(transparent)]
    Runtime(std::io::Error),
    /// The schedule's lock is held or cannot be created.
    #[error(transparent)]
    Lock(crate::schedule::LockError),
    /// A config file that cannot be read (`backends check`).
    #[error(transparent)]
    Config(crate::config::ConfigError),
}

impl CliError {
    /// The documented exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Pipeline(e, _) => e.exit_code(),
            CliError::Usage(_) | CliError::Config(_) => exit::INVALID,
            CliError::Runtime(_) | CliError::Lock(_) => exit::RUNTIME,
        }
    }

    /// Shows the error on stderr, with the chain of its causes.
    pub fn display_to_stderr(&self) {
        match self {
            CliError::Pipeline(e, cmd) => pipeline(e, *cmd),
            CliError::Usage(message) => errln!("error: {message}"),
            CliError::Runtime(e) => chain(e),
            CliError::Lock(e) => chain(e),
            CliError::Config(e) => chain(e),
        }
    }
}

/// `error: failed to …` and each cause on its own line.
pub fn chain(e: &dyn std::error::Error) {
    let mut text = format!("error: failed to {e}");
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!("\n  caused by: {s}"));
        source = s.source();
    }
    errln!("{text}");
}

fn pipeline(e: &PipelineError, cmd: Cmd) {
    match e {
        PipelineError::LabNeedsConfig { targets: true } => errln!(
            "error: remote runs need --config FILE with a `lab.allow` list naming the targets \
             (see docs/config.md); nothing was run and no connection was made"
        ),
        PipelineError::LabNeedsConfig { targets: false } => errln!(
            "error: schedule needs --config FILE with a `lab.allow` list naming this host \
             (see docs/config.md); nothing was run"
        ),
        PipelineError::LabRefused { config, why } => {
            errln!("error: {}: {why}; nothing was run", config.display())
        }
        PipelineError::LabRefusedTargets { config, refused } => {
            for why in refused {
                errln!("error: {why}");
            }
            errln!(
                "refused by the lab guard ({}); nothing was run and no connection was made",
                config.display()
            );
        }
        PipelineError::Scenarios(errors) => {
            for e in errors {
                errln!("error: {e}");
            }
            if cmd != Cmd::Verify {
                errln!("{} error(s); nothing was run", errors.len());
            }
        }
        PipelineError::Interrupted if cmd == Cmd::Remote => {
            errln!("interrupted before any target ran; nothing was started")
        }
        PipelineError::UnknownScenario { .. }
        | PipelineError::BackendNeedsConfig { .. }
        | PipelineError::AuditdForTargets { .. }
        | PipelineError::Targets(_) => errln!("error: {e}"),
        PipelineError::Folder { path, source } => {
            errln!("error: failed to create {}: {source}", path.display())
        }
        other => chain(other),
    }
}
