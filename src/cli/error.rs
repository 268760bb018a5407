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
    /// A run record that cannot be read (`report`, `diff`, `merge`, `gate`).
    #[error(transparent)]
    Record(crate::report::ReportError),
    /// Run records that cannot be merged into one.
    #[error(transparent)]
    Merge(crate::record::merge::MergeError),
    /// Reports that cannot be written (`merge --out`).
    #[error(transparent)]
    Write(crate::report::ReportError),
    /// A report folder whose manifest cannot be read (`bundle verify`).
    #[error(transparent)]
    Bundle(crate::bundle::BundleError),
    /// The reports folder's history cannot be read (`trend`).
    #[error(transparent)]
    History(crate::history::HistoryError),
    /// A gate policy that cannot be read or is invalid.
    #[error(transparent)]
    Policy(crate::gate::GateError),
    /// Rules that do not load, or (with `--strict`) load nothing.
    #[error(transparent)]
    Rules(crate::detect::DetectError),
    /// `--strict` and no rule loaded from these sources.
    #[error("no rule loaded from {0}: nothing can alert")]
    NoRules(String),
    /// Telemetry that cannot be replayed.
    #[error(transparent)]
    Replay(crate::telemetry::ReadError),
    /// The replay's output cannot be written.
    #[error("write the replay's output: {0}")]
    ReplayOutput(std::io::Error),
    /// `audit-rules --install/--remove` failed (auditctl's words).
    #[error("{0}")]
    AuditRules(String),
    /// The journal of killed runs cannot be read (`cleanup`).
    #[error("read the journal {}: {source}", dir.display())]
    Journal {
        /// The journal folder.
        dir: std::path::PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

impl CliError {
    /// The documented exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Pipeline(e, _) => e.exit_code(),
            CliError::Usage(_)
            | CliError::Config(_)
            | CliError::Record(_)
            | CliError::Merge(_)
            | CliError::Bundle(_)
            | CliError::History(_)
            | CliError::Policy(_)
            | CliError::Rules(_)
            | CliError::NoRules(_)
            | CliError::Replay(_) => exit::INVALID,
            CliError::Runtime(_)
            | CliError::Lock(_)
            | CliError::Write(_)
            | CliError::ReplayOutput(_)
            | CliError::AuditRules(_)
            | CliError::Journal { .. } => exit::RUNTIME,
        }
    }

    /// Shows the error on stderr, with the chain of its causes.
    pub fn display_to_stderr(&self) {
        match self {
            CliError::Pipeline(e, cmd) => pipeline(e, *cmd),
            CliError::Usage(message) => errln!("error: {message}"),
            CliError::NoRules(_) => errln!("error: {self}"),
            // One line: these carry their cause in their own words.
            CliError::ReplayOutput(_) | CliError::AuditRules(_) | CliError::Journal { .. } => {
                errln!("error: failed to {self}")
            }
            CliError::Runtime(e) => chain(e),
            CliError::Lock(e) => chain(e),
            CliError::Config(e) => chain(e),
            CliError::Record(e) | CliError::Write(e) => chain(e),
            CliError::Merge(e) => chain(e),
            CliError::Bundle(e) => chain(e),
            CliError::History(e) => chain(e),
            CliError::Policy(e) => chain(e),
            CliError::Rules(e) => chain(e),
            CliError::Replay(e) => chain(e),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each variant's code is the one docs/exit-codes.md gives for it:
    /// input refused 2, runtime 3, a stop before anything ran 130.
    #[test]
    fn every_error_keeps_its_documented_exit_code() {
        let io = || std::io::Error::other("x");
        let cases: Vec<(CliError, u8)> = vec![
            (CliError::Usage("x".into()), 2),
            (CliError::NoRules("x".into()), 2),
            (
                CliError::Pipeline(PipelineError::Targets("x".into()), Cmd::Remote),
                2,
            ),
            (
                CliError::Pipeline(
                    PipelineError::LabRefused {
                        config: "c.yaml".into(),
                        why: "x".into(),
                    },
                    Cmd::Run,
                ),
                2,
            ),
            (
                CliError::Pipeline(PipelineError::Scenarios(Vec::new()), Cmd::Verify),
                2,
            ),
            (
                CliError::Pipeline(PipelineError::Interrupted, Cmd::Run),
                130,
            ),
            (
                CliError::Pipeline(
                    PipelineError::Suite(crate::suite::SuiteError::Interrupted),
                    Cmd::Schedule,
                ),
                130,
            ),
            (
                CliError::Pipeline(
                    PipelineError::Folder {
                        path: "f".into(),
                        source: io(),
                    },
                    Cmd::Remote,
                ),
                3,
            ),
            (CliError::Runtime(io()), 3),
            (CliError::ReplayOutput(io()), 3),
            (CliError::AuditRules("x".into()), 3),
            (
                CliError::Journal {
                    dir: "j".into(),
                    source: io(),
                },
                3,
            ),
        ];
        for (e, code) in cases {
            assert_eq!(e.exit_code(), code, "{e:?}");
        }
        let docs = include_str!("../../docs/exit-codes.md");
        for code in [
            exit::OK,
            exit::POLICY,
            exit::INVALID,
            exit::RUNTIME,
            exit::INTERRUPTED,
        ] {
            assert!(docs.contains(&format!("| {code} |")), "{code} undocumented");
        }
    }
}
