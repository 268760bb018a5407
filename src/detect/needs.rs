//! Which fields a Sigma rule needs before it can match anything: its
//! condition reduced to the fields its positive selections test, so a
//! caller holding a backend's events can say "this rule can never fire on
//! this data: no event has `ParentImage`".
//!
//! Conservative by design: only what the condition REQUIRES counts. A
//! negated selection (`not filter`), a keyword search, a `|exists` test, a
//! `null` value and an array block are taken as satisfiable whatever the
//! fields, so a rule is never called blind when it could fire.

use rsigma_parser::{
    ConditionExpr, Detection, Detections, Modifier, Quantifier, SelectorPattern, SigmaRule,
    SigmaValue, detection_name_matches,
};

/// What a rule's condition requires, over field names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Every part.
    All(Vec<Need>),
    /// At least one part.
    Any(Vec<Need>),
    /// These fields, all present (one selection's items).
    Fields(Vec<String>),
    /// Nothing: satisfiable whatever the fields.
    Nothing,
}

/// One loaded rule's needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needs {
    /// The rule's id, or its title when it has none.
    pub rule: String,
    /// Its title.
    pub title: String,
    /// Its `logsource.category`, if any.
    pub category: Option<String>,
    /// What its condition requires.
    pub need: Need,
}

impl Needs {
    /// The needs of `rule`.
    pub fn of(rule: &SigmaRule) -> Needs {
        let d = &rule.detection;
        // Several conditions: the rule matches when any does.
        let need = Need::Any(d.conditions.iter().map(|c| condition(c, d)).collect());
        Needs {
            rule: rule.id.clone().unwrap_or_else(|| rule.title.clone()),
            title: rule.title.clone(),
            category: rule.logsource.category.clone(),
            need,
        }
    }

    /// `None` when the rule could fire on events holding the fields for
    /// which `present` is true; else the fields it needs that are absent,
    /// sorted and without repeats.
    pub fn missing(&self, present: &dyn Fn(&str) -> bool) -> Option<Vec<String>> {
        if satisfiable(&self.need, present) {
            return None;
        }
        let mut absent = Vec::new();
        absent_fields(&self.need, present, &mut absent);
        absent.sort();
        absent.dedup();
        Some(absent)
    }
}

fn satisfiable(n: &Need, present: &dyn Fn(&str) -> bool) -> bool {
    match n {
        Need::All(parts) => parts.iter().all(|p| satisfiable(p, present)),
        Need::Any(parts) => parts.iter().any(|p| satisfiable(p, present)),
        Need::Fields(fields) => fields.iter().all(|f| present(f)),
        Need::Nothing => true,
    }
}

fn absent_fields(n: &Need, present: &dyn Fn(&str) -> bool, out: &mut Vec<String>) {
    match n {
        Need::All(parts) | Need::Any(parts) => {
            parts.iter().for_each(|p| absent_fields(p, present, out))
        }
        Need::Fields(fields) => out.extend(fields.iter().filter(|f| !present(f)).cloned()),
        Need::Nothing => {}
    }
}

fn condition(c: &ConditionExpr, d: &Detections) -> Need {
    match c {
        ConditionExpr::And(parts) => Need::All(parts.iter().map(|p| condition(p, d)).collect()),
        ConditionExpr::Or(parts) => Need::Any(parts.iter().map(|p| condition(p, d)).collect()),
        // A negation holds when its selection does not match — most
        // easily when its fields are absent.
        ConditionExpr::Not(_) => Need::Nothing,
        ConditionExpr::Identifier(name) => d.named.get(name).map_or(Need::Nothing, detection),
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let parts: Vec<Need> = d
                .named
                .iter()
                .filter(|(name, _)| match pattern {
                    SelectorPattern::Them => !name.starts_with('_'),
                    SelectorPattern::Pattern(p) => detection_name_matches(p, name),
                })
                .map(|(_, det)| detection(det))
                .collect();
            match quantifier {
                Quantifier::All => Need::All(parts),
                // `N of` needs at least one; asking for more would need
                // counting satisfiable parts, and one is the safe floor.
                Quantifier::Any | Quantifier::Count(_) => Need::Any(parts),
            }
        }
    }
}

fn detection(d: &Detection) -> Need {
    match d {
        Detection::AllOf(items) => {
            let fields: Vec<String> = items
                .iter()
                .filter(|i| {
                    !i.field.modifiers.contains(&Modifier::Exists)
                        && !i.values.iter().any(|v| matches!(v, SigmaValue::Null))
                })
                .filter_map(|i| i.field.name.clone())
                .collect();
            if fields.is_empty() {
                Need::Nothing
            } else {
                Need::Fields(fields)
            }
        }
        Detection::AnyOf(parts) => Need::Any(parts.iter().map(detection).collect()),
        Detection::And(parts) => Need::All(parts.iter().map(detection).collect()),
        // Keywords search every value; array blocks are left to the engine.
        _ => Need::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(yaml: &str) -> Needs {
        let c = rsigma_parser::parse_sigma_yaml(yaml).unwrap_or_else(|e| panic!("{e}"));
        Needs::of(c.rules.first().unwrap_or_else(|| panic!("no rule")))
    }

    fn rule(detection: &str) -> String {
        format!(
            "title: T\nid: r1\nlogsource:\n  category: process_creation\ndetection:\n{detection}"
        )
    }

    #[test]
    fn a_rule_is_blind_only_when_every_way_to_match_needs_an_absent_field() {
        let only = |names: &'static [&'static str]| move |f: &str| names.contains(&f);
        // (detection, fields present, the fields named missing when blind)
        type Case = (
            &'static str,
            &'static [&'static str],
            Option<Vec<&'static str>>,
        );
        let cases: [Case; 7] = [
            (
                "  sel_p:\n    ParentImage|endswith: 'x'\n  sel_c:\n    Image|endswith: 'y'\n  condition: all of sel_*\n",
                &["Image"],
                Some(vec!["ParentImage"]),
            ),
            (
                "  a:\n    ParentImage: 'x'\n  b:\n    CommandLine: 'y'\n  condition: a or b\n",
                &["CommandLine"],
                None,
            ),
            (
                "  a:\n    ParentImage: 'x'\n  b:\n    CommandLine: 'y'\n  condition: a or b\n",
                &["Image"],
                Some(vec!["CommandLine", "ParentImage"]),
            ),
            // A filter's fields are not needed: `not filter` holds without them.
            (
                "  sel:\n    Image: 'x'\n  filter:\n    Hashes: 'y'\n  condition: sel and not filter\n",
                &["Image"],
                None,
            ),
            // A list of maps is OR.
            (
                "  sel:\n    - Image: 'x'\n    - OriginUrl: 'y'\n  condition: sel\n",
                &["Image"],
                None,
            ),
            // Keywords and `|exists` need no particular field.
            ("  kw:\n    - 'cp0'\n  condition: kw\n", &[], None),
            (
                "  sel:\n    Hashes|exists: false\n  condition: sel\n",
                &[],
                None,
            ),
        ];
        for (detection, present, want) in cases {
            let n = needs(&rule(detection));
            let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(n.missing(&only(present)), want, "{detection}");
        }
        let n = needs(&rule("  sel:\n    Image: 'x'\n  condition: sel\n"));
        assert_eq!(
            (n.rule.as_str(), n.category.as_deref()),
            ("r1", Some("process_creation"))
        );
    }
}
