//! The verifier's part of the run record: verdicts per hop and per chain,
//! alert grades, and the alerts themselves.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Per-hop verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// An alert references the hop.
    Alerted,
    /// Telemetry of the hop was found, no alert.
    Observed,
    /// The backend answered, and the hop is not there within the deadline.
    Missed,
    /// The chain did not get past this hop on the host.
    Blocked,
    /// The backend could not answer.
    Inconclusive,
    /// The variant cannot run here.
    NotApplicable,
}

impl Verdict {
    /// Kebab-case name as in the record.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Alerted => "alerted",
            Verdict::Observed => "observed",
            Verdict::Missed => "missed",
            Verdict::Blocked => "blocked",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotApplicable => "not-applicable",
        }
    }
}

/// How specific an alert is, graded like ATT&CK Evaluations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grade {
    /// Mapped to T1204 or T1204.002.
    Technique,
    /// Mapped to the Execution tactic.
    Tactic,
    /// Any other alert.
    General,
}

/// What the verifier decided.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    /// Backend name.
    pub backend: String,
    /// When verification finished.
    #[serde(with = "time::serde::rfc3339")]
    pub verified_at: OffsetDateTime,
    /// One per hop, same order as [`ScenarioRun::hops`](super::ScenarioRun::hops).
    pub hops: Vec<HopVerdict>,
    /// Alerts that reference the chain.
    pub alerts: Vec<Alert>,
    /// The chain as a whole.
    pub chain: ChainVerdict,
    /// What the product did about the chain (`verify::containment`);
    /// absent when no alert references it or the backend did not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containment: Option<super::Containment>,
    /// Per hop, which incident questions the backend's events answer
    /// (`verify::visibility`); empty when the backend did not answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub visibility: Vec<super::HopVisibility>,
    /// Rows of the deciding round tied to no run of its batch.
    #[serde(default, skip_serializing_if = "super::UntiedAnswers::is_empty")]
    pub untied: super::UntiedAnswers,
}

/// Verdict on one hop.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HopVerdict {
    /// Hop index.
    pub index: usize,
    /// Verdict.
    pub verdict: Verdict,
    /// Best alert grade, when alerted.
    #[serde(default)]
    pub grade: Option<Grade>,
    /// Milliseconds from the hop to its telemetry.
    #[serde(default)]
    pub time_to_telemetry_ms: Option<u64>,
    /// Milliseconds from the hop to its first alert.
    #[serde(default)]
    pub time_to_alert_ms: Option<u64>,
    /// The alert came after the scenario's time budget.
    #[serde(default)]
    pub delayed: bool,
    /// Telemetry joins this hop to its parent hop by process identity.
    #[serde(default)]
    pub linked: Option<bool>,
    /// Why, for missed / blocked / inconclusive / not-applicable.
    #[serde(default)]
    pub reason: Option<String>,
}

/// An alert that references the chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// Rule id.
    pub rule_id: Option<String>,
    /// Rule title.
    pub rule_title: String,
    /// Severity.
    pub level: Option<String>,
    /// ATT&CK tags of the rule.
    pub tags: Vec<String>,
    /// Grade.
    pub grade: Grade,
    /// The hop whose event it matched.
    pub hop: Option<usize>,
    /// When the alert was raised.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Verdict on a whole chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChainVerdict {
    /// Verdict.
    pub verdict: Verdict,
    /// Best alert grade.
    #[serde(default)]
    pub grade: Option<Grade>,
    /// Every expected hop was observed or alerted.
    pub fully_observed: bool,
    /// An alert fired on a negative control.
    #[serde(default)]
    pub false_positive: bool,
    /// Rules the scenario expects (`expect.alert.rules`) that did not fire.
    #[serde(default)]
    pub expected_rules_missing: Vec<String>,
    /// Why, for anything but alerted / observed.
    #[serde(default)]
    pub reason: Option<String>,
}
