//! JUnit output read back with quick-junit's own reader.

use quick_junit::{Report, TestCaseStatus, TestSuite};

use super::render;
use crate::record::test_records::{self, record};
use crate::record::*;
use crate::vocab::{Fidelity, HopKind};

/// Attacker-like text: markup, a CDATA terminator, quotes, an ANSI
/// sequence and raw control characters.
const HOSTILE: &str = "<script>alert(\"x\")</script> ]]> 'q' &amp; \u{1b}[31mred\u{7}\u{0}end";
/// What survives of [`HOSTILE`]: everything but what XML cannot hold.
const HOSTILE_KEPT: &str = "<script>alert(\"x\")</script> ]]> 'q' &amp; redend";

fn hop(index: usize, label: &str) -> HopTruth {
    let kind = if index == 0 {
        HopKind::File
    } else {
        HopKind::Spawn
    };
    HopTruth {
        expected: "/bin/sh".into(),
        ..test_records::hop(index, kind, label)
    }
}

fn verdict(index: usize, verdict: Verdict, reason: Option<&str>) -> HopVerdict {
    HopVerdict {
        reason: reason.map(Into::into),
        ..test_records::verdict(index, verdict)
    }
}

fn run(id: &str, hops: Vec<HopTruth>, verification: Option<Verification>) -> ScenarioRun {
    ScenarioRun {
        fidelity: Some(Fidelity::Emulated),
        hops,
        verification,
        ..test_records::scenario(id)
    }
}

/// A run with one hop per verdict, one hop left unverified, and a missed
/// chain; plus a run never verified at all.
fn mixed() -> RunRecord {
    let table = [
        (Verdict::Alerted, None),
        (Verdict::Observed, None),
        (Verdict::Missed, Some("no event for the hop")),
        (Verdict::Blocked, Some("noexec mount")),
        (Verdict::Inconclusive, Some("backend answered 503")),
        (Verdict::NotApplicable, Some("no desktop session")),
    ];
    let mut hops: Vec<HopTruth> = (0..=table.len())
        .map(|i| hop(i, &format!("hop {i}")))
        .collect();
    hops[6].label = "unverified hop".into();
    let mut verdicts: Vec<HopVerdict> = table
        .iter()
        .enumerate()
        .map(|(i, (v, reason))| verdict(i, *v, *reason))
        .collect();
    verdicts[0].time_to_telemetry_ms = Some(3);
    verdicts[0].time_to_alert_ms = Some(412);
    verdicts[1].time_to_telemetry_ms = Some(120);
    verdicts[1].telemetry_basis = Some(crate::record::Basis::Measured("_indextime".into()));
    let chain = ChainVerdict {
        reason: Some("hop 2 missed".into()),
        ..test_records::chain(Verdict::Missed, None)
    };
    let verified = test_records::verification(verdicts, chain);
    record(vec![
        run("mixed", hops, Some(verified)),
        run("never-verified", vec![hop(0, "file")], None),
    ])
}

fn parse(xml: &str) -> Result<Report, Box<dyn std::error::Error>> {
    Ok(Report::deserialize_from_str(xml)?)
}

/// (kind, type, message) of a case: `pass`, `failure`, `error` or `skipped`.
fn outcome(status: &TestCaseStatus) -> (&'static str, String, String) {
    let text = |s: &Option<quick_junit::XmlString>| {
        s.as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default()
    };
    match status {
        TestCaseStatus::Success { .. } => ("pass", String::new(), String::new()),
        TestCaseStatus::NonSuccess {
            kind, ty, message, ..
        } => {
            let k = match kind {
                quick_junit::NonSuccessKind::Failure => "failure",
                quick_junit::NonSuccessKind::Error => "error",
            };
            (k, text(ty), text(message))
        }
        TestCaseStatus::Skipped { ty, message, .. } => ("skipped", text(ty), text(message)),
    }
}

fn property<'a>(suite: &'a TestSuite, name: &str) -> Option<&'a str> {
    suite
        .properties
        .iter()
        .find(|p| p.name.as_str() == name)
        .map(|p| p.value.as_str())
}

#[test]
fn counts_follow_the_verdict_mapping() -> Result<(), Box<dyn std::error::Error>> {
    let report = parse(&render(&mixed()))?;
    // 7 hops + chain, then 1 hop + chain.
    assert_eq!(report.tests, 10);
    assert_eq!(report.failures, 3, "missed, blocked, missed chain");
    assert_eq!(report.errors, 4, "inconclusive, 3 unverified");
    assert_eq!(report.skipped, 1, "not-applicable");
    let names: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["mixed (linux)", "never-verified (linux)"]);
    let cases = &report.test_suites[0].test_cases;
    let expected = [
        ("hop 0", "pass", "", ""),
        ("hop 1", "pass", "", ""),
        ("hop 2", "failure", "missed", "no event for the hop"),
        ("hop 3", "failure", "blocked", "noexec mount"),
        ("hop 4", "error", "inconclusive", "backend answered 503"),
        ("hop 5", "skipped", "not-applicable", "no desktop session"),
        ("unverified hop", "error", "unverified", ""),
        ("chain", "failure", "missed", "hop 2 missed"),
    ];
    assert_eq!(cases.len(), expected.len());
    for (case, (name, kind, ty, message)) in cases.iter().zip(expected) {
        assert_eq!(case.name.as_str(), name);
        assert_eq!(case.classname.as_ref().map(|c| c.as_str()), Some("mixed"));
        let (k, t, m) = outcome(&case.status);
        assert_eq!((k, t.as_str()), (kind, ty), "{name}");
        if !message.is_empty() {
            assert_eq!(m, message, "{name}");
        }
    }
    let unverified = &report.test_suites[1];
    assert_eq!((unverified.tests, unverified.errors), (2, 2));
    Ok(())
}

#[test]
fn passing_cases_carry_verdict_grade_and_time() -> Result<(), Box<dyn std::error::Error>> {
    let report = parse(&render(&mixed()))?;
    let suite = &report.test_suites[0];
    let out = |i: usize| {
        suite.test_cases[i]
            .system_out
            .as_ref()
            .map(|s| s.as_str().to_string())
    };
    assert_eq!(
        out(0).as_deref(),
        Some("verdict: alerted\ngrade: technique")
    );
    assert_eq!(out(1).as_deref(), Some("verdict: observed\ngrade: -"));
    let ms = |i: usize| suite.test_cases[i].time.map(|t| t.as_millis());
    // Alert time wins over telemetry time; no figure, no time; a bound
    // set by polling is no duration either (hop 0's telemetry figure).
    assert_eq!(
        [ms(0), ms(1), ms(2), ms(7)],
        [Some(412), Some(120), None, Some(412)]
    );
    assert_eq!(property(suite, "token"), Some("cp0123456789"));
    assert_eq!(property(suite, "fidelity"), Some("emulated"));
    assert_eq!(property(suite, "backend"), Some("local"));
    assert_eq!(property(&report.test_suites[1], "backend"), Some("-"));
    Ok(())
}

#[test]
fn hostile_strings_survive_as_text() -> Result<(), Box<dyn std::error::Error>> {
    let mut record = mixed();
    let run = &mut record.scenarios[0];
    run.id = HOSTILE.into();
    run.token = HOSTILE.into();
    run.hops[2].label = HOSTILE.into();
    if let Some(v) = run.verification.as_mut() {
        v.backend = HOSTILE.into();
        v.hops[2].reason = Some(HOSTILE.into());
    }
    let xml = render(&record);
    assert!(
        !xml.contains("<script>") && !xml.contains('\u{1b}'),
        "{xml}"
    );
    let report = parse(&xml)?;
    let suite = &report.test_suites[0];
    assert_eq!(suite.name.as_str(), format!("{HOSTILE_KEPT} (linux)"));
    assert_eq!(property(suite, "token"), Some(HOSTILE_KEPT));
    assert_eq!(property(suite, "backend"), Some(HOSTILE_KEPT));
    let case = &suite.test_cases[2];
    assert_eq!(case.name.as_str(), HOSTILE_KEPT);
    assert_eq!(
        case.classname.as_ref().map(|c| c.as_str()),
        Some(HOSTILE_KEPT)
    );
    assert_eq!(outcome(&case.status).2, HOSTILE_KEPT);
    assert_eq!((report.tests, report.failures), (10, 3));
    Ok(())
}

#[test]
fn empty_record_is_an_empty_report() -> Result<(), Box<dyn std::error::Error>> {
    let report = parse(&render(&record(vec![])))?;
    assert_eq!(
        report.name.as_ref().map(|n| n.as_str()),
        Some("chainproof cp0000000001")
    );
    assert_eq!((report.tests, report.test_suites.len()), (0, 0));
    Ok(())
}
