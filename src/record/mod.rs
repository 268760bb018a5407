//! The run record (`run.json`): ground truth from the runner and verdicts from
//! the verifier, in one versioned document (`docs/run-record.md`).
//!
//! The runner fills [`ScenarioRun::truth`] and [`ScenarioRun::hops`]; the
//! verifier fills [`ScenarioRun::verification`]. Reports only read it. This
//! module holds types and their (de)serialisation, no behaviour.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::vocab::{Fidelity, HopKind, Platform};

/// Schema identifier written into every record; bump on breaking change.
pub const SCHEMA: &str = "chainproof.run/v1";

/// One invocation of `chainproof run`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Identifier of this run (also in the report folder's name).
    pub run_id: String,
    /// Version of chainproof that wrote the record.
    pub chainproof_version: String,
    /// When the run started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When the run ended.
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// The host the chains ran on.
    pub host: Host,
    /// Detection content used for alerting.
    pub rules: RuleSet,
    /// One entry per scenario variant run (or skipped).
    pub scenarios: Vec<ScenarioRun>,
    /// Fleet records: targets that could not be run (unreachable, host key
    /// not verified, no harness, run or fetch failed), with why. Absent in
    /// single-host records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets_not_run: Vec<TargetNotRun>,
}

/// A remote target that gave no record, in a fleet record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TargetNotRun {
    /// The target's name.
    pub name: String,
    /// Its `ssh://` address.
    pub url: String,
    /// The step it failed at (`connect`, `harness`, `run`, `fetch`,
    /// `verify`, `interrupted`).
    pub step: String,
    /// Why.
    pub reason: String,
}

/// Facts about the test host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Host name.
    pub name: String,
    /// Platform.
    pub platform: Platform,
    /// OS name and version.
    pub os: String,
    /// Kernel version.
    pub kernel: String,
    /// User the harness ran as.
    pub user: String,
    /// Whether it ran with root privileges.
    pub privileged: bool,
    /// Where the platform was emulated, when it was: `wine` for the Windows
    /// build run under Wine, which tests chainproof's Windows code, not a
    /// Windows sensor. Absent on a real host and in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

/// Rules loaded for the alerting layer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// Where they came from (folders, or `<embedded>`).
    pub sources: Vec<String>,
    /// Number of rules loaded.
    pub count: usize,
    /// What the load read and refused, so a reader of the record sees the
    /// rules that did not take part. Absent in records written before it
    /// was recorded, and when the alerting layer is a backend's own content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<RuleLoad>,
    /// The loaded rules that could never fire on the events the backend
    /// returned in this verification: a field each needs is in none of
    /// them (`verify::visibility::blind`). Empty when none, when the
    /// backend returned no events, or in records written before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blind: Vec<BlindRule>,
}

/// The rule load behind a run: files read, rules loaded, every refusal.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleLoad {
    /// Rule files read.
    pub files: usize,
    /// Rules loaded.
    pub loaded: usize,
    /// Refusals counted by reason (`parse`, `aggregation`, `correlation`,
    /// `compile`, `filter`, `input`).
    pub by_reason: BTreeMap<String, usize>,
    /// Every refused rule or file, in file order.
    pub refused: Vec<RuleRefusal>,
}

/// One rule or file the load refused.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleRefusal {
    /// The rule file.
    pub path: String,
    /// The rule's id or title; absent when the whole file was refused.
    #[serde(default)]
    pub rule: Option<String>,
    /// Why, as a class (a key of [`RuleLoad::by_reason`]).
    pub reason: String,
    /// The parser's or engine's words.
    pub message: String,
}

/// One scenario variant's run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScenarioRun {
    /// Scenario id.
    pub id: String,
    /// Scenario title.
    pub title: String,
    /// Technique simulated.
    pub technique: String,
    /// A negative control (`expect: no-alert`): a legitimate chain on which
    /// any alert is a false positive.
    #[serde(default)]
    pub negative_control: bool,
    /// Scenario file.
    pub source: String,
    /// SHA-256 of the scenario file's text.
    pub source_sha256: String,
    /// Platform of the variant.
    pub platform: Platform,
    /// Host the scenario ran on, in a fleet record made by
    /// [`merge::merge`]; `None` in a single-host record, where the record's
    /// `host.name` applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Fidelity run, if any ran.
    pub fidelity: Option<Fidelity>,
    /// The run token in every file name, command line and environment.
    pub token: String,
    /// How the run ended.
    pub status: RunStatus,
    /// Why, when status is not `completed`.
    #[serde(default)]
    pub reason: Option<String>,
    /// Start of the scenario.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// End of the scenario (after cleanup).
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// What really happened on the host.
    pub truth: GroundTruth,
    /// The hops the scenario expects, with what the ground truth holds of each.
    pub hops: Vec<HopTruth>,
    /// Where the scenario's wall time went (absent when nothing ran).
    #[serde(default)]
    pub timings: Option<Timings>,
    /// Verdicts, once verified.
    #[serde(default)]
    pub verification: Option<Verification>,
}

/// Wall time of one scenario run, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Timings {
    /// Harness work before the open: run directory, artifact, download, staging.
    pub prepare_ms: u64,
    /// From the open to the chain's completion (the chain's own time).
    pub chain_ms: u64,
    /// Deliberate wait after completion, for the last processes to be seen.
    pub grace_ms: u64,
    /// Ending processes, unmounting, collecting files, removing the run directory.
    pub cleanup_ms: u64,
}

/// How a scenario run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// The chain ran to its last hop (or stopped where the host blocked it).
    Completed,
    /// The per-scenario timeout passed first.
    TimedOut,
    /// Ctrl-C or SIGTERM stopped it.
    Interrupted,
    /// The host cannot run this variant; nothing ran.
    NotApplicable,
    /// The harness itself failed; see `reason`.
    Failed,
}

/// Ground truth of one scenario run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GroundTruth {
    /// Every process of the chain.
    pub processes: Vec<ProcessTruth>,
    /// Every file the run wrote.
    pub files: Vec<FileTruth>,
    /// The mount used, if any.
    #[serde(default)]
    pub mount: Option<MountTruth>,
    /// Capture sources used (`stage-report`, `proc-connector`, `proc-scan`).
    pub sources: Vec<String>,
    /// What the capture could not do.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Files an application left outside the run directory, removed at cleanup.
    #[serde(default)]
    pub removed_outside: Vec<String>,
    /// The message that delivered the artifact (delivery by email).
    #[serde(default)]
    pub mail: Option<MailTruth>,
    /// Whether each file an application wrote from the delivered one (a
    /// member an archive tool extracted, an attachment a mail client
    /// saved) carries an origin mark.
    #[serde(default)]
    pub handoffs: Vec<Handoff>,
}

/// One process of the chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProcessTruth {
    /// Process id.
    pub pid: u32,
    /// Parent process id (at fork time).
    pub ppid: u32,
    /// Executable path as the kernel reports it.
    pub image: Option<String>,
    /// Command line, arguments joined with spaces.
    pub command_line: Option<String>,
    /// Arguments.
    pub argv: Option<Vec<String>>,
    /// User name.
    pub user: Option<String>,
    /// Numeric user id.
    pub uid: Option<u32>,
    /// Working directory.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Start time.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// Which sources saw it.
    pub sources: Vec<String>,
    /// Images this pid ran before its last exec, oldest first (e.g. the
    /// `sh` of `sh -c 'cmd'`, which execs `cmd` in place).
    #[serde(default)]
    pub earlier_execs: Vec<ExecTruth>,
}

/// An image a process ran before it exec'd another.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExecTruth {
    /// Executable path.
    pub image: Option<String>,
    /// Command line.
    pub command_line: Option<String>,
    /// Arguments.
    pub argv: Option<Vec<String>>,
    /// When it was exec'd.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
}

/// A file the run wrote.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileTruth {
    /// Where.
    pub path: String,
    /// Its role: `artifact`, `payload`, `stage`, `proof`.
    pub role: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Origin marks set on it (extended attribute → value).
    #[serde(default)]
    pub origin: BTreeMap<String, String>,
    /// When it was written.
    #[serde(with = "time::serde::rfc3339")]
    pub written_at: OffsetDateTime,
    /// The image of the process that wrote it, when that was not the
    /// harness: a played mail client or archive tool, a real archive tool.
    #[serde(default)]
    pub writer: Option<String>,
}

/// A mount of a disk image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MountTruth {
    /// The image.
    pub image: String,
    /// The mount point.
    pub mount_point: String,
    /// How it was mounted (e.g. `fuseiso`).
    pub method: String,
    /// Whether it was unmounted at cleanup.
    pub unmounted: bool,
}

/// What the ground truth holds of one expected hop.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HopTruth {
    /// Position in the chain (0 = file).
    pub index: usize,
    /// Kind.
    pub kind: HopKind,
    /// Short label, e.g. `file`, `open soffice.bin`, `spawn dash`.
    pub label: String,
    /// What the scenario expected (image or file name).
    pub expected: String,
    /// The process that realised it (`open`, `spawn`).
    #[serde(default)]
    pub pid: Option<u32>,
    /// Its parent, for `spawn` hops (the same pid when the previous hop
    /// exec'd this one in place).
    #[serde(default)]
    pub parent_pid: Option<u32>,
    /// The image that realised it (a process may run several).
    #[serde(default)]
    pub image: Option<String>,
    /// The file that realised it (`file`).
    #[serde(default)]
    pub path: Option<String>,
    /// When it happened.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
    /// Whether the hop happened on the host.
    pub happened: bool,
    /// Why not, when it did not.
    #[serde(default)]
    pub reason: Option<String>,
}

mod delivery;
pub mod merge;
mod readiness;
pub mod summary;
#[cfg(test)]
pub(crate) mod test_records;
mod verdict;

pub use delivery::{Handoff, MailTruth};
pub use readiness::{
    BlindRule, Containment, ContainmentState, HopVisibility, ProductResponse, Question,
    UntiedAnswers,
};
pub use verdict::{Alert, Basis, ChainVerdict, Grade, HopVerdict, Verdict, Verification};
