//! The CLI's value types for `--format`, `--fidelity` and `--log`: clap
//! derives live here so the library's own enums ([`report::Format`],
//! [`Fidelity`], [`LogFormat`]) stay free of the argument parser. Each
//! variant's doc comment is the help `--help` prints for that value.

use crate::report;
use crate::schedule::LogFormat;
use crate::vocab::Fidelity;

/// `--format` of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// A terminal table.
    Table,
    /// Markdown, for a CI job summary or a pull-request comment.
    Md,
    /// The run record itself, as JSON.
    Json,
    /// JUnit XML: a suite per scenario, a case per hop and one for the chain
    /// (`missed`/`blocked` fail, `inconclusive` errs, `not-applicable` skips).
    Junit,
    /// One self-contained HTML page (no network): summary, heat map, each
    /// chain's process tree and alerts, IR readiness, metadata, trend.
    Html,
    /// An ATT&CK Navigator layer (enterprise) scoring T1204.002 by coverage.
    Navigator,
    /// CSV, one row per scenario × hop × host.
    Csv,
}

impl From<ReportFormat> for report::Format {
    fn from(f: ReportFormat) -> report::Format {
        match f {
            ReportFormat::Table => report::Format::Table,
            ReportFormat::Md => report::Format::Md,
            ReportFormat::Json => report::Format::Json,
            ReportFormat::Junit => report::Format::Junit,
            ReportFormat::Html => report::Format::Html,
            ReportFormat::Navigator => report::Format::Navigator,
            ReportFormat::Csv => report::Format::Csv,
        }
    }
}

/// `--fidelity` of `run` and `schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FidelityArg {
    /// The stage program plays the opener.
    Emulated,
    /// The host's real application or mechanism opens the file.
    Real,
}

impl From<FidelityArg> for Fidelity {
    fn from(f: FidelityArg) -> Fidelity {
        match f {
            FidelityArg::Emulated => Fidelity::Emulated,
            FidelityArg::Real => Fidelity::Real,
        }
    }
}

/// `--log` of `schedule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormatArg {
    /// `TIME event: details`, for people and journald.
    Text,
    /// One JSON object per line (`time`, `event`, fields), for log shippers.
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(f: LogFormatArg) -> LogFormat {
        match f {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
}
