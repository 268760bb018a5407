//! Run-record builders for tests: one small, valid value of each record type.
//!
//! A test takes these and changes only what its case is about (a field
//! assignment or `Struct { field, ..builder() }`), so the record's shape is
//! spelled out once: a new field in the record is added here, not in every
//! module's tests. Times are the Unix epoch and ids fixed, so outputs built
//! from these records are the same on every run.

use time::OffsetDateTime;

use super::*;
use crate::vocab::{HopKind, Platform};

/// The token every built scenario run carries.
pub(crate) const TOKEN: &str = "cp0123456789";

/// The run id of [`record`].
pub(crate) const RUN_ID: &str = "cp0000000001";

/// The hop `index` of `kind`: it happened, nothing else known; `expected`
/// is the label.
pub(crate) fn hop(index: usize, kind: HopKind, label: &str) -> HopTruth {
    HopTruth {
        index,
        kind,
        label: label.into(),
        expected: label.into(),
        pid: None,
        parent_pid: None,
        image: None,
        path: None,
        at: None,
        happened: true,
        reason: None,
    }
}

/// The verdict `verdict` on hop `index`, graded `Technique` when alerted;
/// no timings, linkage or reason.
pub(crate) fn verdict(index: usize, verdict: Verdict) -> HopVerdict {
    HopVerdict {
        index,
        verdict,
        grade: (verdict == Verdict::Alerted).then_some(Grade::Technique),
        time_to_telemetry_ms: None,
        time_to_alert_ms: None,
        telemetry_basis: None,
        alert_basis: None,
        delayed: false,
        linked: None,
        reason: None,
    }
}

/// A chain verdict, fully observed when it alerted or was observed, not a
/// false positive, without a reason.
pub(crate) fn chain(verdict: Verdict, grade: Option<Grade>) -> ChainVerdict {
    ChainVerdict {
        verdict,
        grade,
        fully_observed: matches!(verdict, Verdict::Alerted | Verdict::Observed),
        false_positive: false,
        expected_rules_missing: vec![],
        reason: None,
    }
}

/// A verification by the `local` backend with `hops` and `chain`, no alerts.
pub(crate) fn verification(hops: Vec<HopVerdict>, chain: ChainVerdict) -> Verification {
    Verification {
        backend: "local".into(),
        verified_at: OffsetDateTime::UNIX_EPOCH,
        hops,
        alerts: vec![],
        chain,
        alert_latency_ms: None,
        containment: None,
        visibility: Vec::new(),
        untied: Default::default(),
    }
}

/// A process of the ground truth: `pid`, its parent and image, nothing else.
pub(crate) fn process(pid: u32, ppid: u32, image: &str) -> ProcessTruth {
    ProcessTruth {
        pid,
        ppid,
        image: Some(image.into()),
        command_line: None,
        argv: None,
        user: None,
        uid: None,
        cwd: None,
        started_at: None,
        sources: vec![],
        earlier_execs: vec![],
    }
}

/// A completed Linux run of scenario `id` (title `t`, source `x.yaml`):
/// no hops, no ground truth, not verified.
pub(crate) fn scenario(id: &str) -> ScenarioRun {
    ScenarioRun {
        host: None,
        id: id.into(),
        title: "t".into(),
        technique: "T1204.002".into(),
        negative_control: false,
        source: "x.yaml".into(),
        source_sha256: String::new(),
        platform: Platform::Linux,
        fidelity: None,
        token: TOKEN.into(),
        status: RunStatus::Completed,
        reason: None,
        started_at: OffsetDateTime::UNIX_EPOCH,
        finished_at: OffsetDateTime::UNIX_EPOCH,
        truth: GroundTruth::default(),
        hops: vec![],
        timings: None,
        verification: None,
    }
}

/// [`scenario`] with `hops` and their verdicts, verified by [`verification`].
pub(crate) fn verified(
    id: &str,
    hops: Vec<(HopTruth, HopVerdict)>,
    chain: ChainVerdict,
) -> ScenarioRun {
    let (truths, verdicts) = hops.into_iter().unzip();
    ScenarioRun {
        hops: truths,
        verification: Some(verification(verdicts, chain)),
        ..scenario(id)
    }
}

/// A record of `scenarios`, run [`RUN_ID`] on host `lab1` (Debian, as root)
/// with the three embedded rules.
pub(crate) fn record(scenarios: Vec<ScenarioRun>) -> RunRecord {
    RunRecord {
        schema: SCHEMA.into(),
        run_id: RUN_ID.into(),
        chainproof_version: "0.1.0".into(),
        started_at: OffsetDateTime::UNIX_EPOCH,
        finished_at: OffsetDateTime::UNIX_EPOCH,
        host: Host {
            name: "lab1".into(),
            platform: Platform::Linux,
            os: "Debian".into(),
            kernel: "6".into(),
            user: "root".into(),
            privileged: true,
            environment: None,
        },
        rules: RuleSet {
            sources: vec!["<embedded>/detections".into()],
            count: 3,
            load: None,
            blind: Vec::new(),
        },
        scenarios,
        targets_not_run: Vec::new(),
    }
}
