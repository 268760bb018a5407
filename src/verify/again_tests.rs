use time::OffsetDateTime;

use super::*;
use crate::record::{GroundTruth, Host, RunStatus, ScenarioRun};
use crate::scenario::Source;
use crate::vocab::Platform;

fn shipped() -> Vec<Loaded> {
    crate::scenario::load_paths(&[]).unwrap_or_else(|e| panic!("{e:?}"))
}

/// `loaded` with one more comment line: same id, other text, other hash.
fn edited(loaded: &Loaded) -> Loaded {
    let source = Source {
        path: "edited.yaml".into(),
        text: format!("{}\n# edited after the run\n", loaded.source.text),
    };
    crate::scenario::load_source(source).unwrap_or_else(|e| panic!("{e:?}"))
}

fn record_of(runs: &[(&str, String)]) -> RunRecord {
    let run = |(id, sha): &(&str, String)| ScenarioRun {
        host: None,
        id: (*id).into(),
        title: "t".into(),
        technique: "T1204.002".into(),
        negative_control: false,
        source: format!("<embedded>/{id}.yaml"),
        source_sha256: sha.clone(),
        platform: Platform::Linux,
        fidelity: None,
        token: "cp0123456789".into(),
        status: RunStatus::Completed,
        reason: None,
        started_at: OffsetDateTime::UNIX_EPOCH,
        finished_at: OffsetDateTime::UNIX_EPOCH,
        truth: GroundTruth::default(),
        hops: Vec::new(),
        timings: None,
        verification: None,
    };
    RunRecord {
        schema: crate::record::SCHEMA.into(),
        run_id: "cp0000000001".into(),
        chainproof_version: "0".into(),
        started_at: OffsetDateTime::UNIX_EPOCH,
        finished_at: OffsetDateTime::UNIX_EPOCH,
        host: Host {
            name: "lab".into(),
            platform: Platform::Linux,
            os: "Debian".into(),
            kernel: "6".into(),
            user: "root".into(),
            privileged: true,
            environment: None,
        },
        rules: RuleSet {
            sources: vec![],
            count: 0,
            load: None,
            blind: Vec::new(),
        },
        scenarios: runs.iter().map(run).collect(),
        targets_not_run: Vec::new(),
    }
}

#[test]
fn expectations_follow_the_recorded_hash() {
    let all = shipped();
    let first = &all[0];
    let id = first.scenario.id.as_str();
    let changed = edited(first);
    let ran = sha256(first);
    // (what, loaded now, in the bundle, the origin or a refusal)
    type Case = (&'static str, Vec<Loaded>, Vec<Loaded>, Result<Origin, ()>);
    let cases: [Case; 6] = [
        (
            "the same text loaded now",
            vec![first.clone()],
            vec![],
            Ok(Origin::Loaded),
        ),
        (
            "changed now, kept in the bundle",
            vec![changed.clone()],
            vec![first.clone()],
            Ok(Origin::Bundle),
        ),
        (
            "only in the bundle",
            vec![],
            vec![first.clone()],
            Ok(Origin::Bundle),
        ),
        (
            "changed now, no bundle",
            vec![changed.clone()],
            vec![],
            Err(()),
        ),
        (
            "changed now and in the bundle",
            vec![changed.clone()],
            vec![changed.clone()],
            Err(()),
        ),
        ("found nowhere", vec![], vec![], Ok(Origin::Unknown)),
    ];
    for (what, now, bundle, want) in cases {
        let record = record_of(&[(id, ran.clone())]);
        let got = expectations(&record, &now, &bundle);
        match (got, want) {
            (Ok(e), Ok(origin)) => {
                assert_eq!(e.used, vec![(id.to_string(), origin.clone())], "{what}");
                // Judged with the text that ran, never the edited one.
                let judged = e.scenarios.first().map(|s| s.expect.clone());
                let expect = (origin != Origin::Unknown).then(|| first.scenario.expect.clone());
                assert_eq!(judged, expect, "{what}");
            }
            (Err(m), Err(())) => {
                let text = m.to_string();
                assert_eq!(
                    (m.recorded.as_str(), m.found),
                    (ran.as_str(), sha256(&changed)),
                    "{what}"
                );
                for part in [id, ran.as_str(), "--scenarios"] {
                    assert!(text.contains(part), "{what}: {text} lacks {part}");
                }
            }
            (got, want) => panic!("{what}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn a_record_without_hashes_uses_the_id_and_says_so() {
    let all = shipped();
    let id = all[0].scenario.id.as_str();
    let record = record_of(&[(id, String::new())]);
    let got = expectations(&record, &[edited(&all[0])], &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.used, vec![(id.to_string(), Origin::Unchecked)]);
}

#[test]
fn two_hosts_that_ran_two_texts_of_one_id_are_refused() {
    let all = shipped();
    let id = all[0].scenario.id.as_str();
    let changed = edited(&all[0]);
    let record = record_of(&[(id, sha256(&all[0])), (id, sha256(&changed))]);
    let got = expectations(&record, &[all[0].clone(), changed], &[]);
    assert!(got.is_err(), "{got:?}");
}
