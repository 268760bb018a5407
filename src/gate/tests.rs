use std::path::Path;

use super::*;
use crate::record::test_records;
use crate::record::*;
use crate::vocab::HopKind;

/// A verdict shorthand: `A` technique alert, `T` tactic alert, `G` general
/// alert, `O` observed, `M` missed, `B` blocked, `I` inconclusive, `V` not-visible,
/// `N` not-applicable.
fn v(code: char) -> (Verdict, Option<Grade>) {
    match code {
        'A' => (Verdict::Alerted, Some(Grade::Technique)),
        'T' => (Verdict::Alerted, Some(Grade::Tactic)),
        'G' => (Verdict::Alerted, Some(Grade::General)),
        'O' => (Verdict::Observed, None),
        'M' => (Verdict::Missed, None),
        'B' => (Verdict::Blocked, None),
        'I' => (Verdict::Inconclusive, None),
        'V' => (Verdict::NotVisible, None),
        _ => (Verdict::NotApplicable, None),
    }
}

const LABELS: [&str; 4] = ["file", "open soffice.bin", "spawn dash", "spawn curl"];

/// A Linux variant of `id`: first code the chain, the rest one per hop.
fn run(id: &str, codes: &str) -> ScenarioRun {
    let mut codes = codes.chars();
    let (chain, chain_grade) = v(codes.next().unwrap_or('N'));
    let hops = codes
        .enumerate()
        .map(|(index, c)| {
            let kind = if index == 0 {
                HopKind::File
            } else {
                HopKind::Spawn
            };
            let (verdict, grade) = v(c);
            let truth = HopTruth {
                expected: "x".into(),
                ..test_records::hop(index, kind, LABELS[index])
            };
            let judged = HopVerdict {
                grade,
                reason: (verdict == Verdict::Inconclusive).then(|| "backend timed out".into()),
                ..test_records::verdict(index, verdict)
            };
            (truth, judged)
        })
        .collect();
    let chain = ChainVerdict {
        fully_observed: true,
        ..test_records::chain(chain, chain_grade)
    };
    ScenarioRun {
        title: id.into(),
        source: format!("{id}.yaml"),
        ..test_records::verified(id, hops, chain)
    }
}

/// `id:codes` entries separated by spaces, e.g. `"doc:AOOA iso:OOO"`.
fn rec(spec: &str) -> RunRecord {
    test_records::record(
        spec.split_whitespace()
            .filter_map(|s| s.split_once(':'))
            .map(|(id, codes)| run(id, codes))
            .collect(),
    )
}

fn policy(yaml: &str) -> Policy {
    parse_policy(yaml, Path::new("p.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

const PASS: &str = "gate passed\n";
const FAIL1: &str = "gate FAILED: 1 regression(s)\n";

#[test]
fn cells_are_judged_as_the_policy_says() {
    // (name, baseline, current, policy, the whole rendered outcome)
    #[rustfmt::skip]
    let cases = [
        ("identical", "doc:AOOA iso:OOO", "doc:AOOA iso:OOO", "",
            format!("7 unchanged, 0 improved, 0 ignored\n{PASS}")),
        ("alerted hop now observed", "doc:AOOA", "doc:AOOO", "",
            format!("regressions (1):\n  doc · linux · hop 2 spawn dash: alerted (technique) → observed (alert lost)\n3 unchanged, 0 improved, 0 ignored\n{FAIL1}")),
        ("grade lowered", "doc:AOOA", "doc:TOOT", "",
            "regressions (2):\n  doc · linux · chain: alerted (technique) → alerted (tactic) (alert grade lowered)\n  doc · linux · hop 2 spawn dash: alerted (technique) → alerted (tactic) (alert grade lowered)\n2 unchanged, 0 improved, 0 ignored\ngate FAILED: 2 regression(s)\n".into()),
        ("observed hop now missed", "doc:OOO", "doc:OOM", "",
            format!("regressions (1):\n  doc · linux · hop 1 open soffice.bin: observed → missed (telemetry lost)\n2 unchanged, 0 improved, 0 ignored\n{FAIL1}")),
        ("observed hop now alerted", "doc:OOO", "doc:OOG", "",
            format!("improvements (1):\n  doc · linux · hop 1 open soffice.bin: observed → alerted (general) (alert gained)\n2 unchanged, 1 improved, 0 ignored\n{PASS}")),
        ("missed and blocked rank alike", "doc:OOM", "doc:OOB", "",
            format!("3 unchanged, 0 improved, 0 ignored\n{PASS}")),
        ("missing scenario", "doc:OO iso:OO", "doc:OO", "",
            format!("regressions (1):\n  iso · linux · chain: observed → absent (scenario missing from the current run (missing_scenarios: fail))\n2 unchanged, 0 improved, 0 ignored\n{FAIL1}")),
        ("missing scenario ignored", "doc:OO iso:OO", "doc:OO", "missing_scenarios: ignore",
            format!("2 unchanged, 0 improved, 2 ignored\n{PASS}")),
        ("new scenario allowed", "doc:OO", "doc:OO iso:OO", "",
            format!("2 unchanged, 0 improved, 2 ignored\n{PASS}")),
        ("new scenario refused", "doc:OO", "doc:OO iso:OO", "allow_new_scenarios: false",
            format!("regressions (1):\n  iso · linux · chain: absent → observed (new scenario not in the baseline (allow_new_scenarios: false))\n2 unchanged, 0 improved, 0 ignored\n{FAIL1}")),
        ("inconclusive fails by default", "doc:OO", "doc:OI", "",
            format!("regressions (1):\n  doc · linux · hop 0 file: observed → inconclusive (unknown verdict counts as a regression (inconclusive: fail): backend timed out)\n1 unchanged, 0 improved, 0 ignored\n{FAIL1}")),
        ("inconclusive ignored", "doc:OO", "doc:OI", "inconclusive: ignore",
            format!("1 unchanged, 0 improved, 1 ignored\n{PASS}")),
        ("inconclusive baseline is not compared", "doc:OI", "doc:OM", "",
            format!("1 unchanged, 0 improved, 1 ignored\n{PASS}")),
        ("not-visible is not counted, whatever the policy", "doc:OOO", "doc:OVO", "",
            format!("2 unchanged, 0 improved, 1 ignored\n{PASS}")),
        ("not-applicable in both", "doc:NN", "doc:NN", "",
            format!("2 unchanged, 0 improved, 0 ignored\n{PASS}")),
        ("ignored scenario", "doc:AA iso:AA", "doc:AA iso:MM", "ignore: [iso]",
            format!("2 unchanged, 0 improved, 2 ignored\n{PASS}")),
    ];
    for (name, before, after, yaml, expected) in cases {
        let outcome = compare(&rec(before), &rec(after), &policy(yaml));
        assert_eq!(render(&outcome), expected, "{name}");
        assert_eq!(outcome.passed(), expected.ends_with(PASS), "{name}");
    }
}

#[test]
fn improvements_are_listed_after_regressions() {
    let outcome = compare(&rec("doc:OOA"), &rec("doc:AAO"), &Policy::default());
    let text = render(&outcome);
    let regressions = text.find("regressions (1):");
    let improvements = text.find("improvements (2):");
    assert!(
        regressions < improvements && regressions.is_some(),
        "{text}"
    );
    assert!(
        text.contains(
            "  doc · linux · hop 0 file: observed → alerted (technique) (alert gained)\n"
        ),
        "{text}"
    );
}

#[test]
fn thresholds_measure_the_current_run() {
    // doc: chain alerted, 1 of 2 hops observed; iso: chain observed, 2 of 2 hops.
    let current = rec("doc:AOM iso:OOO");
    let cases = [
        ("min_alerted_chains: 0.5", vec![]),
        (
            "min_alerted_chains: 0.6",
            vec!["alerted chains 1/2 (50.0%) below min_alerted_chains 60.0%"],
        ),
        ("min_observed_hops: 0.75", vec![]),
        (
            "min_observed_hops: 0.8",
            vec!["observed hops 3/4 (75.0%) below min_observed_hops 80.0%"],
        ),
        // Ignoring doc leaves no alerted chain.
        (
            "min_alerted_chains: 0.1\nignore: [doc]",
            vec!["alerted chains 0/1 (0.0%) below min_alerted_chains 10.0%"],
        ),
    ];
    for (yaml, expected) in cases {
        let outcome = compare(&current, &current, &policy(yaml));
        assert_eq!(outcome.thresholds, expected, "{yaml}");
        assert_eq!(outcome.passed(), expected.is_empty(), "{yaml}");
    }
}

#[test]
fn unknown_cells_count_against_thresholds_unless_ignored() {
    let current = rec("doc:IOI");
    let lenient = compare(
        &current,
        &current,
        &policy("min_observed_hops: 0.6\ninconclusive: ignore"),
    );
    assert_eq!(lenient.regressions, []);
    assert_eq!(lenient.thresholds, Vec::<String>::new());
    let strict = compare(&current, &current, &policy("min_observed_hops: 0.6"));
    assert_eq!(
        strict.thresholds,
        ["observed hops 1/2 (50.0%) below min_observed_hops 60.0%"]
    );
    // A not-visible hop is no cell to measure, even under inconclusive: fail.
    let blind = rec("doc:OVO");
    let counted = compare(&blind, &blind, &policy("min_observed_hops: 1.0"));
    assert_eq!(counted.thresholds, Vec::<String>::new());
    // Nothing measured at all fails a threshold rather than passing it.
    let none = rec("doc:NN");
    let empty = compare(&none, &none, &policy("min_alerted_chains: 0"));
    assert_eq!(
        empty.thresholds,
        ["alerted chains 0/0 (0.0%) below min_alerted_chains 0.0%"]
    );
}

#[test]
fn render_escapes_record_strings() {
    let mut hostile = rec("doc:OO");
    hostile.scenarios[0].id = "doc\u{1b}[2J".into();
    hostile.scenarios[0].hops[0].label = "file\nforged line\u{202e}".into();
    let mut current = hostile.clone();
    if let Some(v) = current.scenarios[0].verification.as_mut() {
        v.hops[0].verdict = Verdict::Missed;
        v.hops[0].reason = Some("gone\r\u{7}".into());
    }
    let text = render(&compare(&hostile, &current, &Policy::default()));
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
    assert!(
        text.contains("  doc\\x1b[2J · linux · hop 0 file\u{fffd}forged line\\u{202e}: observed → missed (telemetry lost: gone\\x0d\\x07)\n"),
        "{text}"
    );
}

#[test]
fn unverified_and_not_applicable_variants() {
    let mut unverified = rec("doc:OO");
    unverified.scenarios[0].verification = None;
    let outcome = compare(&rec("doc:OO"), &unverified, &Policy::default());
    assert_eq!(outcome.regressions.len(), 2, "{}", render(&outcome));
    assert_eq!(outcome.regressions[0].after, "unverified");
    // A variant the host could not run has no verification and needs none.
    let mut skipped = unverified.clone();
    skipped.scenarios[0].status = RunStatus::NotApplicable;
    let outcome = compare(&skipped, &skipped, &Policy::default());
    assert!(outcome.passed(), "{}", render(&outcome));
    assert_eq!(outcome.unchanged, 2);
}

#[test]
fn a_hop_gone_from_the_scenario_is_missing() {
    let outcome = compare(&rec("doc:OOO"), &rec("doc:OO"), &Policy::default());
    assert_eq!(
        outcome.regressions[0].reason,
        "hop missing from the current run (missing_scenarios: fail)"
    );
    let lenient = compare(
        &rec("doc:OOO"),
        &rec("doc:OO"),
        &policy("missing_scenarios: ignore"),
    );
    assert!(lenient.passed());
}

#[test]
fn policy_errors_name_line_and_field() {
    let cases = [
        (
            "inconclusive: fail\nmin_alerted_chains: 80\n",
            "p.yaml:2:",
            "min_alerted_chains",
            "not a fraction",
        ),
        (
            "allow_new_scenarios: true\nmissing: fail\n",
            "p.yaml:2:",
            "missing",
            "unknown field `missing`",
        ),
        (
            "\ninconclusive: maybe\n",
            "p.yaml:2:",
            "inconclusive",
            "unknown variant `maybe`",
        ),
        (
            "ignore:\n  - a\n  - [b]\n",
            "p.yaml:3:",
            "ignore[1]",
            "invalid type",
        ),
        (
            "min_alerted_chains: [\n",
            "p.yaml:1:",
            "min_alerted_chains",
            "invalid type: sequence",
        ),
        (
            "min_observed_hops: -0.1\n",
            "p.yaml:1:",
            "min_observed_hops",
            "not a fraction",
        ),
    ];
    for (yaml, at, field, message) in cases {
        let err = match parse_policy(yaml, Path::new("p.yaml")) {
            Err(e) => e.to_string(),
            Ok(p) => panic!("{yaml:?} parsed as {p:?}"),
        };
        // It reads after "failed to", the location in front of the field.
        assert!(
            err.starts_with(&format!("load gate policy {at}")),
            "{yaml:?}: {err}"
        );
        assert!(err.contains(&format!(": {field}: ")), "{yaml:?}: {err}");
        assert!(err.contains(message), "{yaml:?}: {err}");
        assert!(
            !err.contains(&format!("{field}: {field}")),
            "{yaml:?}: {err}"
        );
        assert!(!err.contains(" at line "), "{yaml:?}: {err}");
    }
}

#[test]
fn empty_policy_is_the_default_and_missing_file_is_named() {
    assert_eq!(policy("# nothing set\n\n"), Policy::default());
    assert_eq!(policy(""), Policy::default());
    let err = load_policy(Path::new("no-such-dir/gate.yaml")).map(|_| ());
    assert!(matches!(err, Err(GateError::Refused { .. })), "{err:?}");
    let text = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(text, "read gate policy no-such-dir/gate.yaml");
}

#[test]
fn shipped_policy_parses() -> Result<(), GateError> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/gate-policy.yaml");
    let shipped = load_policy(&path)?;
    assert_eq!(shipped.inconclusive, Action::Fail);
    assert_eq!(shipped.missing_scenarios, Action::Fail);
    assert!(shipped.min_alerted_chains.is_some() && shipped.min_observed_hops.is_some());
    Ok(())
}
