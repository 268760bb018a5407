//! The answers tied to no run travel in the evidence bundle.

use crate::record::{UntiedAnswers, Verdict, test_records};

fn record(count: usize) -> crate::record::RunRecord {
    let mut v = test_records::verification(vec![], test_records::chain(Verdict::Observed, None));
    v.untied = UntiedAnswers {
        count,
        sample: (0..count.min(1))
            .map(|_| r#"{"notable":"no token here"}"#.to_string())
            .collect(),
    };
    test_records::record(vec![crate::record::ScenarioRun {
        verification: Some(v),
        ..test_records::scenario("a")
    }])
}

#[test]
fn a_sealed_bundle_holds_the_untied_answers_and_a_reverified_one_drops_them() {
    let reports = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let with = record(12);
    let folder =
        crate::report::write_folder(&with, reports.path()).unwrap_or_else(|e| panic!("{e}"));
    super::seal(&with, &folder, reports.path(), &super::Evidence::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let text =
        std::fs::read_to_string(folder.join(super::UNTIED)).unwrap_or_else(|e| panic!("{e}"));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(doc["count"], 12);
    assert_eq!(doc["sample"][0], r#"{"notable":"no token here"}"#);
    let sums = std::fs::read_to_string(folder.join(super::MANIFEST)).unwrap_or_default();
    assert!(sums.contains(super::UNTIED), "{sums}");
    let md = std::fs::read_to_string(folder.join("matrix.md")).unwrap_or_default();
    assert!(
        md.contains("12 answers matched the search but named no run"),
        "{md}"
    );

    // Verified again with every row tied: the stale file goes, the
    // manifest still holds.
    super::rewrite(&folder, &record(0), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(!folder.join(super::UNTIED).exists());
    let check = super::verify(&folder).unwrap_or_else(|e| panic!("{e}"));
    assert!(check.is_intact(), "{check:?}");
}
