//! Why a pipeline could not be prepared or executed. Each variant carries
//! what a user needs to act on it and knows its documented exit code
//! ([`crate::exit`]); the CLI decides only how to show it.

use std::path::PathBuf;

use crate::exit;

/// Why preparing or executing a pipeline stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The config file cannot be read or is invalid, or names no such
    /// backend profile.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The command needs a config file with a `lab.allow` list and has none.
    #[error(
        "{} needs --config FILE with a `lab.allow` list naming {}",
        if *targets { "a remote run" } else { "a scheduled run" },
        if *targets { "the targets" } else { "this host" }
    )]
    LabNeedsConfig {
        /// For targets (else for a schedule on this host).
        targets: bool,
    },
    /// The lab guard refused this host.
    #[error("{}: {why}", config.display())]
    LabRefused {
        /// The config whose `lab.allow` refused.
        config: PathBuf,
        /// Why, naming the host and the list.
        why: String,
    },
    /// The lab guard refused one or more targets.
    #[error("{}: refused by the lab guard: {}", config.display(), refused.join("; "))]
    LabRefusedTargets {
        /// The config whose `lab.allow` refused.
        config: PathBuf,
        /// One reason per refused target.
        refused: Vec<String>,
    },
    /// Scenario files that do not load.
    #[error("load scenarios: {} error(s)", .0.len())]
    Scenarios(Vec<crate::scenario::LoadError>),
    /// A scenario id that no loaded scenario has.
    #[error("no scenario `{id}` (known: {})", known.join(", "))]
    UnknownScenario {
        /// The id asked for.
        id: String,
        /// The ids loaded.
        known: Vec<String>,
    },
    /// A backend other than `local` and `auditd` named without a config.
    #[error(
        "backend `{name}` needs --config FILE naming its profile (only local and auditd have \
         defaults)"
    )]
    BackendNeedsConfig {
        /// The backend named.
        name: String,
    },
    /// The auditd backend asked to verify runs on other hosts.
    #[error(
        "backend `{name}` (auditd) reads this host's audit log and cannot verify runs on other \
         hosts; use local or a SIEM/EDR backend with --target"
    )]
    AuditdForTargets {
        /// The profile's name.
        name: String,
    },
    /// Rules that do not load.
    #[error(transparent)]
    Rules(#[from] crate::detect::DetectError),
    /// A `--target` address, the inventory or `--remote-dir` is invalid.
    #[error("{0}")]
    Targets(String),
    /// The backend cannot be built or does not answer its check.
    #[error(transparent)]
    Backend(#[from] crate::backend::BackendError),
    /// A stop signal arrived before anything ran (during the backend check).
    #[error("run the suite: a stop signal arrived during the backend check; nothing was run")]
    Interrupted,
    /// The recorded scenario text differs from the scenario loaded now.
    #[error(transparent)]
    Expectations(#[from] crate::verify::Mismatch),
    /// A run record cannot be read.
    #[error(transparent)]
    Record(crate::report::ReportError),
    /// Two records of one `verify` would be written to the same folder.
    #[error(
        "write two records to {}: name each record once, and with --out give records whose \
         folders have different names", .0.display()
    )]
    SameFolder(PathBuf),
    /// The folders named hold no run record.
    #[error("find a run record: {} hold(s) no run.json, nor does any subfolder", named.join(", "))]
    NoRecords {
        /// The folders named.
        named: Vec<String>,
    },
    /// The suite on this host stopped.
    #[error(transparent)]
    Suite(#[from] crate::suite::SuiteError),
    /// A report, folder or record cannot be written.
    #[error(transparent)]
    Write(crate::report::ReportError),
    /// A folder the pipeline writes to cannot be created.
    #[error("create {path}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// This program's own path, copied to targets, cannot be found.
    #[error("find this program's own path")]
    OwnPath(#[source] std::io::Error),
}

impl PipelineError {
    /// The documented exit code (docs/exit-codes.md): input and policy
    /// refusals are 2 (nothing ran), a stop before anything ran is 130,
    /// the rest are runtime failures (3).
    pub fn exit_code(&self) -> u8 {
        match self {
            PipelineError::Config(_)
            | PipelineError::LabNeedsConfig { .. }
            | PipelineError::LabRefused { .. }
            | PipelineError::LabRefusedTargets { .. }
            | PipelineError::Scenarios(_)
            | PipelineError::UnknownScenario { .. }
            | PipelineError::BackendNeedsConfig { .. }
            | PipelineError::AuditdForTargets { .. }
            | PipelineError::Rules(_)
            | PipelineError::Targets(_)
            | PipelineError::Expectations(_)
            | PipelineError::Record(_)
            | PipelineError::SameFolder(_)
            | PipelineError::NoRecords { .. } => exit::INVALID,
            PipelineError::Interrupted => exit::INTERRUPTED,
            PipelineError::Suite(e) => e.exit_code(),
            PipelineError::Backend(_)
            | PipelineError::Write(_)
            | PipelineError::Folder { .. }
            | PipelineError::OwnPath(_) => exit::RUNTIME,
        }
    }
}

/// The verifier's refusals are the pipeline's, variant for variant, so the
/// CLI shows and codes them exactly as before the verifier moved below.
impl From<crate::verifier::VerifierError> for PipelineError {
    fn from(e: crate::verifier::VerifierError) -> Self {
        use crate::verifier::VerifierError as V;
        match e {
            V::Config(e) => PipelineError::Config(e),
            V::BackendNeedsConfig { name } => PipelineError::BackendNeedsConfig { name },
            V::Rules(e) => PipelineError::Rules(e),
            V::Backend(e) => PipelineError::Backend(e),
            V::Interrupted => PipelineError::Interrupted,
        }
    }
}
