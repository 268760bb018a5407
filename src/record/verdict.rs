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
    /// The hop happened, but the backend can never hold a hop of its kind
    /// (a process-only table has no file events): decided at once, with the
    /// backend's reason, and never counted against the chain's telemetry.
    NotVisible,
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
            Verdict::NotVisible => "not-visible",
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
    /// The quiet window negative controls were judged with (the profile's
    /// `alert_latency`, in milliseconds): a control with complete telemetry
    /// is settled un-alerted once this long has passed without an alert.
    /// `None` in records written before controls settled early (they were
    /// watched until the deadline).
    #[serde(default)]
    pub alert_latency_ms: Option<u64>,
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
    /// Milliseconds from the hop to its telemetry: measured, or an upper
    /// bound, as [`HopVerdict::telemetry_basis`] says.
    #[serde(default)]
    pub time_to_telemetry_ms: Option<u64>,
    /// Milliseconds from the hop to its first alert, by the alert's own
    /// time ([`HopVerdict::alert_basis`]).
    #[serde(default)]
    pub time_to_alert_ms: Option<u64>,
    /// What `time_to_telemetry_ms` is: measured from the backend's own
    /// arrival time of the event, or only bounded by the poll that found
    /// it. `None` in records written before the distinction (whose figure
    /// is the poll's) and when there is no figure.
    #[serde(default)]
    pub telemetry_basis: Option<Basis>,
    /// What `time_to_alert_ms` is measured from (`None` as above).
    #[serde(default)]
    pub alert_basis: Option<Basis>,
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

/// What a latency figure is: a measurement from a time the backend itself
/// gives, or only an upper bound set by polling. Written in the record as
/// `measured: <field>` or `bounded: polling`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Basis {
    /// Measured from this field of the backend's answer (the event's
    /// arrival, e.g. `_indextime`; an alert's own time).
    Measured(String),
    /// The backend gives no such time: the figure is the time until the
    /// poll that found it, so the real latency is at most that.
    Polling,
}

impl Basis {
    /// The figure `ms` as a report shows it: `1.2 s (measured from
    /// _indextime)` or `≤ 40 s (bounded by polling)`; below a second in ms.
    pub fn show(&self, ms: u64) -> String {
        let s = seconds(ms);
        match self {
            Basis::Measured(field) => format!("{s} (measured from {field})"),
            Basis::Polling => format!("≤ {s} (bounded by polling)"),
        }
    }
}

/// `ms` as a reader takes it in: milliseconds below a second, then
/// seconds (one decimal below a minute).
fn seconds(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{}.{} s", ms / 1000, ms % 1000 / 100),
        _ => format!("{} s", ms / 1000),
    }
}

impl From<Basis> for String {
    fn from(b: Basis) -> String {
        match b {
            Basis::Measured(field) => format!("measured: {field}"),
            Basis::Polling => "bounded: polling".into(),
        }
    }
}

impl TryFrom<String> for Basis {
    type Error = String;

    fn try_from(s: String) -> Result<Basis, String> {
        if s == "bounded: polling" {
            return Ok(Basis::Polling);
        }
        match s.strip_prefix("measured: ") {
            Some(field) if !field.is_empty() => Ok(Basis::Measured(field.into())),
            _ => Err(format!(
                "latency basis `{s}`: expected `measured: <field>` or `bounded: polling`"
            )),
        }
    }
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
    /// When the alert was raised, as the backend gives it; when its answer
    /// gives no time, when that answer was read (and `at_unknown` says so).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// True when the backend gave no time for the alert: `at` is only when
    /// the answer holding it was read, and a latency to it is a bound.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub at_unknown: bool,
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
    /// Every expected hop the backend can hold was observed or alerted, and
    /// at least one could: fully observed as far as the backend can see
    /// (`not-visible` hops do not count against it; docs/verdicts.md).
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The latency bases and the quiet window round-trip in their written
    /// form; a hop verdict and a verification written before them still load.
    #[test]
    fn latency_bases_round_trip_and_older_records_load() -> Result<(), serde_json::Error> {
        let hv = HopVerdict {
            time_to_telemetry_ms: Some(1_500),
            time_to_alert_ms: Some(4_000),
            telemetry_basis: Some(Basis::Measured("_indextime".into())),
            alert_basis: Some(Basis::Polling),
            ..serde_json::from_str(r#"{"index": 0, "verdict": "not-visible"}"#)?
        };
        let text = serde_json::to_string(&hv)?;
        assert!(
            text.contains(r#""telemetry_basis":"measured: _indextime""#),
            "{text}"
        );
        assert!(
            text.contains(r#""alert_basis":"bounded: polling""#),
            "{text}"
        );
        assert!(text.contains(r#""verdict":"not-visible""#), "{text}");
        assert_eq!(serde_json::from_str::<HopVerdict>(&text)?, hv);
        let old: HopVerdict = serde_json::from_str(
            r#"{"index": 1, "verdict": "observed", "time_to_telemetry_ms": 400}"#,
        )?;
        assert_eq!(old.telemetry_basis, None);
        let old: Verification = serde_json::from_str(
            r#"{"backend": "splunk", "verified_at": "2026-11-26T10:05:00Z", "hops": [],
                "alerts": [], "chain": {"verdict": "observed", "fully_observed": true}}"#,
        )?;
        assert_eq!(old.alert_latency_ms, None);
        let refused = serde_json::from_str::<HopVerdict>(
            r#"{"index": 1, "verdict": "observed", "telemetry_basis": "guessed"}"#,
        );
        assert!(refused.is_err());
        Ok(())
    }

    #[test]
    fn a_figure_says_what_it_is() {
        assert_eq!(
            Basis::Measured("_indextime".into()).show(1_234),
            "1.2 s (measured from _indextime)"
        );
        assert_eq!(Basis::Polling.show(40), "≤ 40 ms (bounded by polling)");
        assert_eq!(Basis::Polling.show(280_000), "≤ 280 s (bounded by polling)");
    }
}
