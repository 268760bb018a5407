//! Tests of the Navigator layer; its shorthands over the shared record
//! builders also serve the CSV tests.

use std::path::Path;

use serde_json::Value;

use super::*;
use crate::record::test_records::{self, record};
use crate::record::*;
use crate::vocab::{Fidelity, HopKind, Platform};

/// A hop truth (`expected` is the label) and its verdict, seen after 5 ms,
/// alerted after 412 ms, linked to its parent from the second hop on.
pub(crate) fn hop(
    index: usize,
    kind: HopKind,
    label: &str,
    verdict: Verdict,
    grade: Option<Grade>,
) -> (HopTruth, HopVerdict) {
    let v = HopVerdict {
        grade,
        time_to_telemetry_ms: Some(5),
        time_to_alert_ms: (verdict == Verdict::Alerted).then_some(412),
        telemetry_basis: None,
        alert_basis: None,
        linked: (index > 0).then_some(true),
        ..test_records::verdict(index, verdict)
    };
    (test_records::hop(index, kind, label), v)
}

/// A verified, emulated scenario run with `hops` and a chain verdict.
pub(crate) fn scenario(
    id: &str,
    negative_control: bool,
    hops: Vec<(HopTruth, HopVerdict)>,
    chain: ChainVerdict,
) -> ScenarioRun {
    ScenarioRun {
        title: id.into(),
        negative_control,
        source: format!("{id}.yaml"),
        fidelity: Some(Fidelity::Emulated),
        ..test_records::verified(id, hops, chain)
    }
}

/// A chain verdict.
pub(crate) fn chain(verdict: Verdict, grade: Option<Grade>, false_positive: bool) -> ChainVerdict {
    ChainVerdict {
        false_positive,
        ..test_records::chain(verdict, grade)
    }
}

/// Two attack chains (one alerted at technique grade, one observed), a
/// negative control with a false positive, and a not-applicable chain.
fn mixed() -> RunRecord {
    let alerted = scenario(
        "macro-doc-shell",
        false,
        vec![
            hop(0, HopKind::File, "file", Verdict::Observed, None),
            hop(
                1,
                HopKind::Spawn,
                "spawn sh",
                Verdict::Alerted,
                Some(Grade::Technique),
            ),
        ],
        chain(Verdict::Alerted, Some(Grade::Technique), false),
    );
    let observed = scenario(
        "pdf-launch",
        false,
        vec![hop(0, HopKind::File, "file", Verdict::Observed, None)],
        chain(Verdict::Observed, None, false),
    );
    let mut fp_chain = chain(Verdict::Alerted, Some(Grade::Technique), true);
    fp_chain.reason = Some("rule \"Office spawns shell\" fired\non a control".into());
    let control = scenario(
        "benign-doc",
        true,
        vec![hop(
            0,
            HopKind::Spawn,
            "spawn sh",
            Verdict::Alerted,
            Some(Grade::Technique),
        )],
        fp_chain,
    );
    let mut na = scenario(
        "reg-import",
        false,
        vec![],
        chain(Verdict::NotApplicable, None, false),
    );
    na.platform = Platform::Windows;
    record(vec![alerted, observed, control, na])
}

fn parse(record: &RunRecord) -> Value {
    let text = render(record);
    assert!(text.ends_with("}\n"));
    match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => panic!("layer is not JSON: {e}\n{text}"),
    }
}

fn technique<'a>(layer: &'a Value, id: &str) -> &'a Value {
    let list = layer["techniques"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    match list.iter().find(|t| t["techniqueID"] == id) {
        Some(t) => t,
        None => panic!("no {id} in {layer}"),
    }
}

#[test]
fn layer_has_every_field_of_format_4_5_with_its_type() {
    let l = parse(&mixed());
    assert_eq!(l["versions"]["attack"], "16");
    assert_eq!(l["versions"]["navigator"], "5.1.0");
    assert_eq!(l["versions"]["layer"], "4.5");
    assert_eq!(l["domain"], "enterprise-attack");
    assert!(
        l["name"]
            .as_str()
            .is_some_and(|n| n.contains("cp0000000001"))
    );
    assert!(l["description"].is_string());
    assert!(l["sorting"].as_u64().is_some_and(|s| s <= 3));
    assert_eq!(l["layout"]["layout"], "side");
    assert!(l["layout"]["showID"].is_boolean() && l["layout"]["showName"].is_boolean());
    assert_eq!(l["hideDisabled"], false);
    let colors = l["gradient"]["colors"].as_array().map_or(0, Vec::len);
    assert_eq!(colors, 3);
    assert_eq!(l["gradient"]["minValue"], 0);
    assert_eq!(l["gradient"]["maxValue"], 100);
    for item in l["legendItems"].as_array().into_iter().flatten() {
        assert!(item["label"].is_string() && item["color"].is_string());
    }
    let meta = l["metadata"].as_array().cloned().unwrap_or_default();
    let value = |name: &str| {
        meta.iter()
            .find(|m| m["name"] == name)
            .map(|m| m["value"].clone())
    };
    assert_eq!(value("run id"), Some("cp0000000001".into()));
    assert_eq!(value("host"), Some("lab1".into()));
    assert_eq!(value("started"), Some("1970-01-01T00:00:00Z".into()));
    for key in [
        "showTacticRowBackground",
        "selectTechniquesAcrossTactics",
        "selectSubtechniquesWithParent",
    ] {
        assert!(l[key].is_boolean(), "{key}");
    }
    for id in ["T1204", "T1204.002"] {
        let t = technique(&l, id);
        assert_eq!(t["tactic"], "execution");
        assert_eq!(t["color"], "");
        assert_eq!(t["enabled"], true);
        assert!(t["score"].is_number() && t["comment"].is_string());
        for m in t["metadata"].as_array().into_iter().flatten() {
            assert!(m["name"].is_string() && m["value"].is_string(), "{m}");
        }
    }
    assert_eq!(technique(&l, "T1204")["showSubtechniques"], true);
}

#[test]
fn score_counts_attack_chains_only() {
    let record = mixed();
    assert_eq!(
        Coverage::of(&record),
        Coverage {
            chains: 2,
            technique: 1
        }
    );
    let l = parse(&record);
    assert_eq!(technique(&l, "T1204.002")["score"], 50);
    assert_eq!(technique(&l, "T1204")["score"], 50);
    // Without the control, the score is the same: its false positive does
    // not count against (or for) coverage.
    let mut without = record.clone();
    without.scenarios.retain(|s| !s.negative_control);
    assert_eq!(technique(&parse(&without), "T1204.002")["score"], 50);
}

#[test]
fn comment_lists_chains_and_false_positives_separately() {
    let l = parse(&mixed());
    let comment = technique(&l, "T1204.002")["comment"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(comment.contains("1 of 2 attack chains alerted at technique grade (50%)"));
    assert!(comment.contains("macro-doc-shell · linux · alerted (technique) · 412ms"));
    assert!(comment.contains("pdf-launch · linux · observed · -"));
    assert!(comment.contains("reg-import · windows · not-applicable (not counted) · -"));
    let (attacks, controls) = comment
        .split_once("False positives on negative controls")
        .unwrap_or_default();
    assert!(!attacks.contains("benign-doc"), "{comment}");
    assert!(
        controls.contains(
            "benign-doc · linux · FALSE POSITIVE: rule \"Office spawns shell\" fired on a control · 412ms"
        ),
        "{comment}"
    );
    let names: Vec<&str> = technique(&l, "T1204.002")["metadata"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "macro-doc-shell (linux)",
            "pdf-launch (linux)",
            "benign-doc (linux)",
            "reg-import (windows)"
        ]
    );
}

#[test]
fn strings_are_escaped_by_the_json_writer_and_defused() {
    let mut record = mixed();
    record.scenarios[0].id = "evil\"},{\"techniqueID\":\"T1059\u{1b}[31m\u{202e}".into();
    let text = render(&record);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'));
    let l = parse(&record);
    assert_eq!(l["techniques"].as_array().map(Vec::len), Some(2));
    let comment = technique(&l, "T1204.002")["comment"].as_str().unwrap_or("");
    assert!(
        comment.contains("evil\"},{\"techniqueID\":\"T1059\\x1b[31m\\u{202e}"),
        "{comment}"
    );
}

#[test]
fn no_attack_chain_leaves_the_techniques_unscored() {
    let l = parse(&record(vec![]));
    let t = technique(&l, "T1204.002");
    assert!(t.get("score").is_none(), "{t}");
    assert!(
        t["comment"]
            .as_str()
            .is_some_and(|c| c.contains("unscored"))
    );
}

#[test]
fn rounding_is_half_up() {
    let pct = |technique, chains| Coverage { chains, technique }.percent();
    assert_eq!(pct(2, 3), Some(67));
    assert_eq!(pct(1, 3), Some(33));
    assert_eq!(pct(1, 8), Some(13));
    assert_eq!(pct(0, 4), Some(0));
    assert_eq!(pct(0, 0), None);
}

#[test]
fn baseline_record_scores_100() -> Result<(), Box<dyn std::error::Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/baseline/run.json");
    let record = crate::report::read_record(&path)?;
    let l = parse(&record);
    assert_eq!(l["metadata"][0]["value"], "cp136ce99e1b");
    assert_eq!(l["metadata"][1]["value"], "lab-linux-01");
    for id in ["T1204", "T1204.002"] {
        assert_eq!(technique(&l, id)["score"], 100);
    }
    let comment = technique(&l, "T1204.002")["comment"].as_str().unwrap_or("");
    assert!(comment.contains("3 of 3 attack chains"), "{comment}");
    for id in ["macro-doc-shell", "shortcut-script", "iso-exec"] {
        assert!(
            comment.contains(&format!("{id} · linux · alerted (technique) · 0ms")),
            "{comment}"
        );
    }
    assert!(!comment.contains("False positives"));
    Ok(())
}
