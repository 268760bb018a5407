//! The coverage matrix as JUnit XML, for CI systems that chart test results.
//!
//! One test suite per scenario run, one test case per expected hop and one for
//! the chain. A detection gap becomes a failure, a backend that could not
//! answer (or a hop never verified) an error, and a variant that cannot run on
//! the host a skipped case, so a CI dashboard shows coverage at a glance.
//!
//! Escaping is left entirely to `quick-junit`: strings from a scenario, the
//! host or a backend go in as they are, and the serialiser escapes markup and
//! drops characters XML cannot hold (control characters, ANSI sequences).

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::record::{Grade, HopVerdict, RunRecord, ScenarioRun, Verdict};

/// Name of the test case that carries the chain's verdict.
const CHAIN_CASE: &str = "chain";

/// Renders `record` as a JUnit XML document.
///
/// Serialising into memory cannot fail in practice (there is no I/O and every
/// string is valid UTF-8), so, like the JSON format, an error yields an empty
/// string rather than a `Result` every caller would have to handle.
pub fn render(record: &RunRecord) -> String {
    let mut report = Report::new(format!("chainproof {}", record.run_id));
    report.add_test_suites(record.scenarios.iter().map(suite));
    // Fleet records: a target that gave no record is an error, not a pass.
    if !record.targets_not_run.is_empty() {
        let mut targets = TestSuite::new("targets not run");
        for t in &record.targets_not_run {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_type(format!("target-{}", t.step));
            status.set_message(format!("{} ({}): {}", t.name, t.url, t.reason));
            let mut case = TestCase::new(t.name.as_str(), status);
            case.set_classname("targets");
            targets.add_test_case(case);
        }
        report.add_test_suite(targets);
    }
    report.to_string().unwrap_or_default()
}

/// The test suite of one scenario run.
fn suite(run: &ScenarioRun) -> TestSuite {
    // A fleet record names each scenario's host: one suite per host and
    // scenario, so dashboards do not fold two hosts together.
    let name = match &run.host {
        Some(host) => format!("{host}: {} ({})", run.id, run.platform),
        None => format!("{} ({})", run.id, run.platform),
    };
    let mut suite = TestSuite::new(name);
    let verification = run.verification.as_ref();
    if let Some(host) = &run.host {
        suite.add_property(Property::new("host", host));
    }
    suite.add_properties([
        Property::new("token", &run.token),
        Property::new("fidelity", run.fidelity.map_or("-", fidelity_str)),
        Property::new("backend", verification.map_or("-", |v| v.backend.as_str())),
    ]);
    for hop in &run.hops {
        let verdict = verification.and_then(|v| v.hops.iter().find(|h| h.index == hop.index));
        let mut case = match verdict {
            Some(v) => verdict_case(&hop.label, v.verdict, v.grade, v.reason.as_deref()),
            None => unverified_case(&hop.label),
        };
        if let Some(ms) = verdict.and_then(case_ms) {
            case.set_time(Duration::from_millis(ms));
        }
        case.set_classname(&run.id);
        suite.add_test_case(case);
    }
    let mut chain = match verification {
        Some(v) if v.chain.false_positive => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_type("false-positive");
            status.set_message(v.chain.reason.as_deref().unwrap_or("false positive"));
            TestCase::new(CHAIN_CASE, status)
        }
        Some(v) => verdict_case(
            CHAIN_CASE,
            v.chain.verdict,
            v.chain.grade,
            v.chain.reason.as_deref(),
        ),
        None => unverified_case(CHAIN_CASE),
    };
    // The chain has no time of its own: its first alert is what a reader of
    // the matrix's "time to alert" column sees, so use the same figure.
    let first_alert =
        verification.and_then(|v| v.hops.iter().filter_map(|h| h.time_to_alert_ms).min());
    if let Some(ms) = first_alert {
        chain.set_time(Duration::from_millis(ms));
    }
    chain.set_classname(&run.id);
    suite.add_test_case(chain);
    suite
}

/// A case for a verdict: passes for `alerted` / `observed`, otherwise fails,
/// errs or is skipped with the reason as its message.
fn verdict_case(
    name: &str,
    verdict: Verdict,
    grade: Option<Grade>,
    reason: Option<&str>,
) -> TestCase {
    let kind = match verdict {
        Verdict::Alerted | Verdict::Observed => {
            let mut case = TestCase::new(name, TestCaseStatus::success());
            let grade = grade.map_or("-", grade_str);
            case.set_system_out(format!("verdict: {}\ngrade: {grade}", verdict.as_str()));
            return case;
        }
        Verdict::Missed | Verdict::Blocked => Some(NonSuccessKind::Failure),
        Verdict::Inconclusive => Some(NonSuccessKind::Error),
        // Nothing the backend could have shown: skipped, with its reason.
        Verdict::NotApplicable | Verdict::NotVisible => None,
    };
    let mut status = match kind {
        Some(kind) => TestCaseStatus::non_success(kind),
        None => TestCaseStatus::skipped(),
    };
    // The verdict as the type lets a reader tell a missed hop from a blocked one.
    status.set_type(verdict.as_str());
    status.set_message(reason.unwrap_or(verdict.as_str()));
    TestCase::new(name, status)
}

/// A case for a hop or chain the verifier never judged.
fn unverified_case(name: &str) -> TestCase {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status.set_type("unverified");
    status.set_message("not verified: no verdict in the run record");
    TestCase::new(name, status)
}

/// Case time of a hop: time to its first alert, else to its telemetry
/// where that is measured — a bound set by polling is no duration to report.
fn case_ms(verdict: &HopVerdict) -> Option<u64> {
    let measured = matches!(
        crate::report::latency::telemetry_basis(verdict),
        crate::record::Basis::Measured(_)
    );
    verdict
        .time_to_alert_ms
        .or(verdict.time_to_telemetry_ms.filter(|_| measured))
}

/// Kebab-case name of a grade, as in the record.
fn grade_str(grade: Grade) -> &'static str {
    match grade {
        Grade::Technique => "technique",
        Grade::Tactic => "tactic",
        Grade::General => "general",
    }
}

/// Name of a fidelity, as in the record.
fn fidelity_str(fidelity: crate::vocab::Fidelity) -> &'static str {
    match fidelity {
        crate::vocab::Fidelity::Emulated => "emulated",
        crate::vocab::Fidelity::Real => "real",
    }
}

#[cfg(test)]
mod tests;
