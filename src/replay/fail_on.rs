//! `--fail-on`: conditions on a replay's alerts that turn its exit code into
//! [`crate::exit::POLICY`], the code `gate` uses for a failed gate, so one CI
//! step can test "these rules fired on this recording" the same way it tests
//! a coverage regression.
//!
//! Parsing is pure and happens before anything is read, so a bad spec is an
//! invalid-usage error naming the spec, not a surprise at the end of a long
//! replay. Deciding is a [`Sink`]: it watches alerts as they stream and keeps
//! only one flag per condition, never the alerts.

use std::fmt;
use std::str::FromStr;

use super::model::{Alert, Chain, Sink};

/// A Sigma rule level, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `informational`.
    Informational,
    /// `low`.
    Low,
    /// `medium`.
    Medium,
    /// `high`.
    High,
    /// `critical`.
    Critical,
}

impl Level {
    /// Every level, least severe first.
    pub const ALL: [Level; 5] = [
        Level::Informational,
        Level::Low,
        Level::Medium,
        Level::High,
        Level::Critical,
    ];

    /// The name Sigma uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }

    /// The level named `text` (any case), if it is one of Sigma's five.
    pub fn parse(text: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// One `--fail-on` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailOn {
    /// `any`: any alert at all.
    Any,
    /// `level:<level>`: an alert of that level or a more severe one.
    Level(Level),
    /// `rule:<id>`: an alert of the rule with that id (ids compare without
    /// regard to ASCII case: Sigma ids are UUIDs, written either way).
    Rule(String),
}

/// A `--fail-on` spec that is not one of the three forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parse --fail-on `{spec}`: {reason}")]
pub struct FailOnError {
    /// The spec as given.
    pub spec: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for FailOn {
    type Err = FailOnError;

    fn from_str(spec: &str) -> Result<FailOn, FailOnError> {
        let bad = |reason: String| FailOnError {
            spec: spec.to_string(),
            reason,
        };
        let (kind, value) = match spec.split_once(':') {
            Some((kind, value)) => (kind.trim(), Some(value.trim())),
            None => (spec.trim(), None),
        };
        match (kind.to_ascii_lowercase().as_str(), value) {
            ("any", None) => Ok(FailOn::Any),
            ("level", Some(level)) => Level::parse(level).map(FailOn::Level).ok_or_else(|| {
                let names: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
                bad(format!(
                    "unknown level `{level}` (one of {})",
                    names.join(", ")
                ))
            }),
            ("rule", Some(id)) if !id.is_empty() => Ok(FailOn::Rule(id.to_string())),
            ("rule", _) => Err(bad("`rule:` needs a rule id".into())),
            ("level", None) => Err(bad("`level:` needs a level".into())),
            _ => Err(bad(
                "expected `any`, `level:<informational|low|medium|high|critical>` or `rule:<id>`"
                    .into(),
            )),
        }
    }
}

impl fmt::Display for FailOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailOn::Any => f.write_str("any"),
            FailOn::Level(l) => write!(f, "level:{}", l.as_str()),
            FailOn::Rule(id) => write!(f, "rule:{id}"),
        }
    }
}

impl FailOn {
    /// True when `alert` meets this condition. An alert without a level (or
    /// with one Sigma does not define) never meets a level condition; one
    /// without an id never meets a rule condition.
    pub fn met_by(&self, alert: &Alert) -> bool {
        match self {
            FailOn::Any => true,
            FailOn::Level(min) => alert
                .level
                .as_deref()
                .and_then(Level::parse)
                .is_some_and(|l| l >= *min),
            FailOn::Rule(id) => alert
                .rule_id
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(id)),
        }
    }
}

/// Watches alerts for a set of conditions; keeps one flag per condition.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    conditions: Vec<(FailOn, bool)>,
}

impl Watch {
    /// A watch for `conditions` (none: nothing can fail).
    pub fn new(conditions: Vec<FailOn>) -> Watch {
        Watch {
            conditions: conditions.into_iter().map(|c| (c, false)).collect(),
        }
    }

    /// The conditions met so far, in the order given.
    pub fn met(&self) -> Vec<&FailOn> {
        self.conditions
            .iter()
            .filter(|(_, met)| *met)
            .map(|(c, _)| c)
            .collect()
    }

    /// True when any condition was met.
    pub fn failed(&self) -> bool {
        self.conditions.iter().any(|(_, met)| *met)
    }
}

impl Sink for Watch {
    fn alert(&mut self, alert: &Alert) {
        for (condition, met) in &mut self.conditions {
            if !*met && condition.met_by(alert) {
                *met = true;
            }
        }
    }
    fn chain(&mut self, _: &Chain) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::render::fixtures::alert;

    #[test]
    fn specs_parse_in_each_form_and_print_back() {
        for (spec, want) in [
            ("any", FailOn::Any),
            ("ANY", FailOn::Any),
            ("level:high", FailOn::Level(Level::High)),
            ("level: Critical", FailOn::Level(Level::Critical)),
            ("level:informational", FailOn::Level(Level::Informational)),
            (
                "rule:3215aa19-f060-4332-86d5-5602511f3ca8",
                FailOn::Rule("3215aa19-f060-4332-86d5-5602511f3ca8".into()),
            ),
        ] {
            assert_eq!(spec.parse::<FailOn>(), Ok(want.clone()), "{spec}");
            assert_eq!(want.to_string().parse::<FailOn>(), Ok(want), "{spec}");
        }
    }

    #[test]
    fn bad_specs_are_named_with_what_is_wrong() {
        for (spec, says) in [
            ("", "expected `any`"),
            ("some", "expected `any`"),
            ("any:x", "expected `any`"),
            ("level:severe", "unknown level `severe`"),
            ("level", "needs a level"),
            ("rule:", "needs a rule id"),
            ("rule", "needs a rule id"),
            ("title:x", "expected `any`"),
        ] {
            let e = spec
                .parse::<FailOn>()
                .err()
                .unwrap_or_else(|| panic!("{spec} parsed"));
            let text = e.to_string();
            assert!(text.contains(&format!("`{spec}`")), "{text}");
            assert!(text.contains(says), "{spec}: {text}");
        }
    }

    #[test]
    fn conditions_decide_on_level_order_and_rule_id() {
        let high = alert("r-1", "Rule One", Some("high"), None);
        let low = alert("r-2", "Rule Two", Some("low"), None);
        let none = alert("r-3", "Rule Three", None, None);
        let cases = [
            (FailOn::Any, [true, true, true]),
            (FailOn::Level(Level::Medium), [true, false, false]),
            (FailOn::Level(Level::High), [true, false, false]),
            (FailOn::Level(Level::Critical), [false, false, false]),
            (FailOn::Level(Level::Informational), [true, true, false]),
            (FailOn::Rule("R-2".into()), [false, true, false]),
            (FailOn::Rule("r-9".into()), [false, false, false]),
        ];
        for (condition, want) in cases {
            let got = [&high, &low, &none].map(|a| condition.met_by(a));
            assert_eq!(got, want, "{condition}");
        }
    }

    #[test]
    fn a_watch_remembers_which_conditions_were_met() {
        let mut watch = Watch::new(vec![
            FailOn::Level(Level::Critical),
            FailOn::Rule("r-2".into()),
        ]);
        watch.alert(&alert("r-1", "Rule One", Some("high"), None));
        assert!(!watch.failed());
        watch.alert(&alert("r-2", "Rule Two", Some("low"), None));
        assert!(watch.failed());
        assert_eq!(watch.met(), [&FailOn::Rule("r-2".into())]);
        assert!(!Watch::default().failed());
    }
}
