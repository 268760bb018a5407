//! The run as an ATT&CK Navigator layer (layer format 4.5): T1204.002 and
//! its parent T1204 under the Execution tactic, scored by coverage.
//!
//! The score is the share, in percent, of attack chains alerted at technique
//! grade among the attack chains verified. Negative controls, not-applicable
//! and unverified runs do not count; inconclusive chains do (a chain the
//! backend could not answer for is not covered). Both technique entries carry
//! the same score, since every chainproof scenario simulates T1204.002. With
//! no attack chain to count, the entries are left unscored.
//!
//! The layer is built as a [`serde_json::Value`], so the JSON writer escapes
//! every string from the record; control and bidirectional-override
//! characters are replaced as in the terminal table, so a comment cannot
//! disguise what it says.

use serde_json::{Value, json};

use super::matrix::{Summary, cell};
use crate::record::merge::host_of;
use crate::record::{RunRecord, ScenarioRun, Verdict};
use crate::term::safe;

/// ATT&CK content version the layer is written for.
pub const ATTACK_VERSION: &str = "16";
/// Navigator version the layer is written for (the 4.5 format needs ≥ 4.9.0).
pub const NAVIGATOR_VERSION: &str = "5.1.0";
/// Layer file format version.
pub const LAYER_VERSION: &str = "4.5";

/// Gradient colours, low to high: red, yellow, green.
const GRADIENT: [&str; 3] = ["#ff6666", "#ffe766", "#8ec843"];

/// Coverage of the record's attack chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    /// Attack chains verified (not negative controls, not not-applicable).
    pub chains: usize,
    /// Of those, alerted at technique grade.
    pub technique: usize,
}

impl Coverage {
    /// Counts the attack chains of `record`, as the matrix summary does.
    pub fn of(record: &RunRecord) -> Coverage {
        let s = Summary::of(record);
        Coverage {
            chains: s.chains,
            technique: s.technique,
        }
    }

    /// Percentage alerted at technique grade, rounded half up; `None` when
    /// no attack chain was verified.
    pub fn percent(self) -> Option<u64> {
        let chains = u64::try_from(self.chains).ok().filter(|&n| n > 0)?;
        let technique = u64::try_from(self.technique).ok()?;
        Some((technique * 200 + chains) / (chains * 2))
    }
}

/// Renders `record` as a Navigator layer (pretty JSON, trailing newline).
pub fn render(record: &RunRecord) -> String {
    serde_json::to_string_pretty(&layer(record)).unwrap_or_default() + "\n"
}

/// The layer of `record` as a JSON value.
pub fn layer(record: &RunRecord) -> Value {
    let coverage = Coverage::of(record);
    let summary = Summary::of(record);
    let started = record
        .started_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let run_id = safe(&record.run_id);
    let host = safe(&record.host.name);
    let body = scenario_lines(record);
    let fleet = crate::record::merge::is_fleet(record);
    let metadata: Vec<Value> = record
        .scenarios
        .iter()
        .map(|s| scenario_metadata(s, fleet.then(|| host_of(record, s))))
        .collect();
    let headline = match coverage.percent() {
        Some(p) => format!(
            "{} of {} attack chains alerted at technique grade ({p}%).",
            coverage.technique, coverage.chains
        ),
        None => "No attack chain verified: unscored.".to_string(),
    };
    let technique = |id: &str, lead: &str| {
        let mut t = json!({
            "techniqueID": id,
            "tactic": "execution",
            "color": "",
            "comment": format!("{lead} {headline}\n{body}"),
            "enabled": true,
            "metadata": metadata,
        });
        if let (Some(p), Some(obj)) = (coverage.percent(), t.as_object_mut()) {
            obj.insert("score".into(), json!(p));
        }
        t
    };
    let mut parent = technique(
        "T1204",
        "User Execution (aggregate of T1204.002, the only sub-technique simulated):",
    );
    if let Some(obj) = parent.as_object_mut() {
        obj.insert("showSubtechniques".into(), json!(true));
    }
    let sub = technique("T1204.002", "Malicious File:");
    json!({
        "name": format!("chainproof coverage — run {run_id}"),
        "versions": {
            "attack": ATTACK_VERSION,
            "navigator": NAVIGATOR_VERSION,
            "layer": LAYER_VERSION,
        },
        "domain": "enterprise-attack",
        "description": format!(
            "chainproof run {run_id} on {host}: {}. Score: percentage of attack \
             chains alerted at technique grade.",
            safe(&summary.line())
        ),
        "sorting": 3,
        "layout": {
            "layout": "side",
            "showID": true,
            "showName": true,
            "showAggregateScores": false,
            "countUnscored": false,
            "aggregateFunction": "average",
            "expandedSubtechniques": "annotated",
        },
        "hideDisabled": false,
        "techniques": [parent, sub],
        "gradient": {
            "colors": GRADIENT,
            "minValue": 0,
            "maxValue": 100,
        },
        "legendItems": [
            {"label": "0%: no attack chain alerted at technique grade", "color": GRADIENT[0]},
            {"label": "50% of attack chains alerted at technique grade", "color": GRADIENT[1]},
            {"label": "100%: every attack chain alerted at technique grade", "color": GRADIENT[2]},
        ],
        "metadata": [
            {"name": "run id", "value": run_id},
            {"name": "host", "value": host},
            {"name": "started", "value": started},
            {"name": "chainproof", "value": safe(&record.chainproof_version)},
            {"name": "summary", "value": safe(&summary.line())},
        ],
        "showTacticRowBackground": false,
        "tacticRowBackground": "#dddddd",
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
        "selectVisibleTechniques": false,
    })
}

/// The comment body: one line per attack chain, then the negative controls
/// (false positives first) in a section of their own. Lines of a fleet
/// record start with the host.
fn scenario_lines(record: &RunRecord) -> String {
    let fleet = crate::record::merge::is_fleet(record);
    let line = |s: &ScenarioRun| {
        if fleet {
            format!("{} · {}", one_line(host_of(record, s)), scenario_line(s))
        } else {
            scenario_line(s)
        }
    };
    let (controls, attacks): (Vec<&ScenarioRun>, Vec<&ScenarioRun>) =
        record.scenarios.iter().partition(|s| s.negative_control);
    let mut out = String::from("Attack chains:");
    if attacks.is_empty() {
        out.push_str("\n(none)");
    }
    for s in attacks {
        out.push('\n');
        out.push_str(&line(s));
    }
    let (false_positives, quiet): (Vec<&ScenarioRun>, Vec<&ScenarioRun>) =
        controls.into_iter().partition(|s| is_false_positive(s));
    if !false_positives.is_empty() {
        out.push_str("\nFalse positives on negative controls (not scored):");
        for s in false_positives {
            out.push('\n');
            out.push_str(&line(s));
        }
    }
    if !quiet.is_empty() {
        out.push_str("\nOther negative controls (not scored):");
        for s in quiet {
            out.push('\n');
            out.push_str(&line(s));
        }
    }
    out
}

fn is_false_positive(s: &ScenarioRun) -> bool {
    s.verification
        .as_ref()
        .is_some_and(|v| v.chain.false_positive)
}

/// `scenario · platform · chain verdict · time to alert`, on one line.
fn scenario_line(s: &ScenarioRun) -> String {
    format!(
        "{} · {} · {} · {}",
        one_line(&s.id),
        s.platform,
        chain_text(s),
        time_to_alert(s)
    )
}

/// `{name, value}` of one scenario for the technique's metadata; in a fleet
/// record (`host` given) the name carries the host too.
fn scenario_metadata(s: &ScenarioRun, host: Option<&str>) -> Value {
    let host = host.map_or(String::new(), |h| format!(", {}", one_line(h)));
    json!({
        "name": format!("{} ({}{host})", one_line(&s.id), s.platform),
        "value": format!("{} · time to alert {}", chain_text(s), time_to_alert(s)),
    })
}

/// The chain verdict as the matrix words it; controls say whether anything
/// fired, and the reason follows when the chain is not simply alerted.
fn chain_text(s: &ScenarioRun) -> String {
    let Some(v) = &s.verification else {
        return "unverified (not counted)".to_string();
    };
    let reason = v
        .chain
        .reason
        .as_deref()
        .map(|r| format!(": {}", one_line(r)))
        .unwrap_or_default();
    if s.negative_control {
        return match v.chain.verdict {
            _ if v.chain.false_positive => format!("FALSE POSITIVE{reason}"),
            Verdict::Observed => "no alert (control)".to_string(),
            other => format!("{} (control){reason}", other.as_str()),
        };
    }
    let text = cell(v.chain.verdict, v.chain.grade);
    match v.chain.verdict {
        Verdict::Alerted => text,
        Verdict::NotApplicable | Verdict::NotVisible => format!("{text} (not counted){reason}"),
        _ => format!("{text}{reason}"),
    }
}

/// The first alert's delay, e.g. `412ms`, or `-`.
fn time_to_alert(s: &ScenarioRun) -> String {
    s.verification
        .as_ref()
        .and_then(|v| v.hops.iter().filter_map(|h| h.time_to_alert_ms).min())
        .map_or("-".to_string(), |ms| format!("{ms}ms"))
}

/// Text from the record on one line, with control characters defused.
fn one_line(text: &str) -> String {
    safe(text).replace('\n', " ")
}

#[cfg(test)]
pub(crate) mod tests;
