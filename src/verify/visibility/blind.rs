//! Rules that can never fire on a backend's data: every way their
//! condition can match needs a field that no event the backend returned
//! holds ([`crate::detect::needs`]). The detection engineer's side of a
//! blind spot: "this rule tests `ParentImage`, and this SIEM never has it".
//!
//! Only rules of a log-source category the backend returned events of are
//! judged (process creation, file events): a rule for registry events says
//! nothing about data chainproof never asked for. With no events at all
//! nothing is judged — an empty answer is told by the verdicts.

use std::collections::{BTreeMap, BTreeSet};

use crate::backend::RunAnswer;
use crate::detect::needs::Needs;
use crate::record::BlindRule;
use crate::telemetry::Event;

/// The rules of `needs` that cannot fire on the events of `answers` (each
/// run's last answer), in load order.
pub fn rules(needs: &[Needs], answers: &[Option<RunAnswer>]) -> Vec<BlindRule> {
    let events = answers.iter().flatten().flat_map(|a| &a.events);
    within(needs, events)
}

/// As [`rules`], over any events.
pub fn within<'a>(needs: &[Needs], events: impl IntoIterator<Item = &'a Event>) -> Vec<BlindRule> {
    // Per category, every field some event holds with a value.
    let mut present: BTreeMap<&'static str, BTreeSet<&str>> = BTreeMap::new();
    for e in events {
        let set = present.entry(e.category.sigma_name()).or_default();
        for (k, v) in &e.fields {
            let empty = v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty());
            if !empty {
                set.insert(k.as_str());
            }
        }
    }
    needs
        .iter()
        .filter_map(|n| {
            let fields = present.get(n.category.as_deref()?)?;
            let missing = n.missing(&|f| fields.contains(f))?;
            Some(BlindRule {
                rule: n.rule.clone(),
                title: n.title.clone(),
                missing,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::telemetry::Category;

    fn event(category: Category, fields: serde_json::Value) -> Event {
        Event {
            category,
            arrived: None,
            at: None,
            hop: None,
            fields: fields.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn the_shipped_rules_that_test_a_field_no_event_holds_are_named_with_it() {
        let rules = crate::detect::Rules::load(&[]).unwrap_or_else(|e| panic!("{e}"));
        // A SIEM whose process events carry the image and command line but
        // never the parent: every shipped parent/child rule is blind.
        let thin = [event(
            Category::ProcessCreation,
            json!({"Image": "/usr/bin/dash", "CommandLine": "sh -c x", "ParentImage": ""}),
        )];
        let blind = within(rules.needs(), &thin);
        let office = blind
            .iter()
            .find(|b| b.title == "Office Application Spawns a Shell or Script Host")
            .unwrap_or_else(|| panic!("the Office rule is not blind: {blind:?}"));
        assert_eq!(office.missing, ["ParentImage"]);
        assert!(blind.len() > 10, "{}", blind.len());
        // With the parent, the same rule could fire.
        let full = [event(
            Category::ProcessCreation,
            json!({"Image": "/usr/bin/dash", "CommandLine": "sh -c x", "ParentImage": "/x",
                   "ParentCommandLine": "y", "CurrentDirectory": "/", "User": "u"}),
        )];
        let blind = within(rules.needs(), &full);
        assert!(blind.iter().all(|b| b.title != office.title), "{blind:?}");
        // No process events at all: nothing is judged.
        let files = [event(Category::FileEvent, json!({"TargetFilename": "/a"}))];
        assert_eq!(within(rules.needs(), &files), []);
        assert_eq!(super::rules(rules.needs(), &[None]), []);
    }
}
