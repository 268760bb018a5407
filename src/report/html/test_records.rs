//! Run records and history entries for the HTML report's tests.

use std::collections::BTreeMap;
use std::path::Path;

use time::macros::datetime;

use crate::history::Entry;
use crate::record::*;
use crate::vocab::{Fidelity, HopKind, Platform};

pub(super) fn baseline() -> RunRecord {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/baseline/run.json");
    crate::report::read_record(&path).unwrap_or_else(|e| panic!("baseline record: {e}"))
}

/// Three synthetic history entries, newest first (render sorts them).
pub(super) fn history(n: usize) -> Vec<Entry> {
    let mut h: Vec<Entry> = (0..n)
        .map(|i| Entry {
            run_id: format!("cp00000000{i:02}"),
            started_at: datetime!(2026-11-20 09:00 UTC) + time::Duration::days(i as i64 * 3),
            host: "lab-linux-01".into(),
            backend: "local".into(),
            chains: 3,
            alerted: 1 + i.min(2),
            technique: i.min(3),
            fully_observed: 2 + usize::from(i > 0),
            inconclusive: 0,
            controls: 1,
            false_positives: usize::from(i == 0),
            record: format!("run-{i}/run.json"),
        })
        .collect();
    h.reverse();
    h
}

pub(super) fn proc(pid: u32, ppid: u32, image: &str, cmd: &str, user: &str) -> ProcessTruth {
    ProcessTruth {
        pid,
        ppid,
        image: Some(image.into()),
        command_line: Some(cmd.into()),
        argv: None,
        user: Some(user.into()),
        uid: Some(1000),
        cwd: None,
        started_at: Some(datetime!(2026-11-26 10:00:01 UTC)),
        sources: vec!["proc-connector".into()],
        earlier_execs: vec![],
    }
}

fn hop(index: usize, kind: HopKind, label: &str, pid: Option<u32>, happened: bool) -> HopTruth {
    HopTruth {
        index,
        kind,
        label: label.into(),
        expected: label.rsplit(' ').next().unwrap_or(label).into(),
        pid,
        parent_pid: None,
        image: None,
        path: (kind == HopKind::File).then(|| "/home/alice/Downloads/Invoice.odt".into()),
        at: happened.then_some(datetime!(2026-11-26 10:00:01 UTC)),
        happened,
        reason: (!happened).then(|| "the host stopped the chain".into()),
    }
}

fn verdict(index: usize, v: Verdict, grade: Option<Grade>, reason: Option<&str>) -> HopVerdict {
    HopVerdict {
        index,
        verdict: v,
        grade,
        time_to_telemetry_ms: matches!(v, Verdict::Observed | Verdict::Alerted)
            .then_some(40 + index as u64 * 10),
        time_to_alert_ms: (v == Verdict::Alerted).then_some(900),
        telemetry_basis: None,
        alert_basis: None,
        delayed: false,
        linked: Some(true),
        reason: reason.map(String::from),
    }
}

fn scenario(id: &str, cmd: &str, verdicts: [HopVerdict; 3], chain: ChainVerdict) -> ScenarioRun {
    let mut origin = BTreeMap::new();
    origin.insert(
        "user.xdg.origin.url".to_string(),
        "https://files.example.test/Invoice.odt".to_string(),
    );
    let alerts = verdicts
        .iter()
        .filter(|v| v.verdict == Verdict::Alerted)
        .map(|v| Alert {
            rule_id: Some(format!("rule-{}", v.index)),
            rule_title: format!("Office spawns a shell ({id})"),
            level: Some("high".into()),
            tags: vec!["attack.execution".into(), "attack.t1204.002".into()],
            grade: v.grade.unwrap_or(Grade::General),
            hop: Some(v.index),
            at: datetime!(2026-11-26 10:00:02 UTC),
            at_unknown: false,
        })
        .collect();
    let blocked = verdicts.iter().any(|v| v.verdict == Verdict::Blocked);
    ScenarioRun {
        host: None,
        id: id.into(),
        title: format!("Title of {id}"),
        technique: "T1204.002".into(),
        negative_control: false,
        source: format!("scenarios/{id}.yaml"),
        source_sha256: format!("{:064x}", id.len()),
        platform: Platform::Linux,
        fidelity: Some(Fidelity::Real),
        token: "cp0123456789".into(),
        status: RunStatus::Completed,
        reason: None,
        started_at: datetime!(2026-11-26 10:00 UTC),
        finished_at: datetime!(2026-11-26 10:00:05 UTC),
        truth: GroundTruth {
            processes: vec![
                proc(
                    200,
                    100,
                    "/usr/lib/libreoffice/program/soffice.bin",
                    "soffice.bin Invoice.odt",
                    "alice",
                ),
                proc(201, 200, "/usr/bin/dash", cmd, "alice"),
            ],
            files: vec![FileTruth {
                path: "/home/alice/Downloads/Invoice.odt".into(),
                role: "artifact".into(),
                size: 3598,
                sha256: "ab".repeat(32),
                origin,
                written_at: datetime!(2026-11-26 10:00 UTC),
                writer: None,
            }],
            mount: None,
            sources: vec!["proc-connector".into()],
            warnings: vec![],
            removed_outside: vec![],
            mail: None,
            handoffs: vec![],
        },
        hops: vec![
            hop(0, HopKind::File, "file", None, true),
            hop(1, HopKind::Open, "open soffice.bin", Some(200), true),
            hop(2, HopKind::Spawn, "spawn dash", Some(201), !blocked),
        ],
        timings: Some(Timings {
            prepare_ms: 30,
            chain_ms: 20,
            grace_ms: 300,
            cleanup_ms: 5,
        }),
        verification: Some(Verification {
            backend: "splunk".into(),
            verified_at: datetime!(2026-11-26 10:05 UTC),
            hops: verdicts.to_vec(),
            alerts,
            chain,
            alert_latency_ms: Some(120_000),
            containment: None,
            visibility: Vec::new(),
            untied: Default::default(),
        }),
    }
}

fn chain(
    v: Verdict,
    grade: Option<Grade>,
    full: bool,
    fp: bool,
    reason: Option<&str>,
) -> ChainVerdict {
    ChainVerdict {
        verdict: v,
        grade,
        fully_observed: full,
        false_positive: fp,
        expected_rules_missing: vec![],
        reason: reason.map(String::from),
    }
}

/// A record with a blocked hop, an inconclusive hop with its reason, a
/// negative control that alerted (a false positive) and a variant that
/// could not run.
pub(super) fn handmade(cmd: &str) -> RunRecord {
    use Verdict::*;
    let blocked = scenario(
        "blocked-chain",
        cmd,
        [
            verdict(0, Observed, None, None),
            verdict(1, Alerted, Some(Grade::Technique), None),
            verdict(2, Blocked, None, Some("AppArmor denied the exec of dash")),
        ],
        chain(Alerted, Some(Grade::Technique), false, false, None),
    );
    let inconclusive = scenario(
        "inconclusive-chain",
        cmd,
        [
            verdict(0, Observed, None, None),
            verdict(
                1,
                Inconclusive,
                None,
                Some("backend answered HTTP 503 Service Unavailable"),
            ),
            verdict(
                2,
                Missed,
                None,
                Some("no process event for dash within 60 s"),
            ),
        ],
        chain(
            Inconclusive,
            None,
            false,
            false,
            Some("the backend could not answer for hop 1"),
        ),
    );
    let mut control = scenario(
        "control-fp",
        "/usr/bin/lp -d office Invoice.pdf",
        [
            verdict(0, Observed, None, None),
            verdict(1, Observed, None, None),
            verdict(2, Alerted, Some(Grade::General), None),
        ],
        chain(
            Alerted,
            Some(Grade::General),
            true,
            true,
            Some("rule Printing From Office fired"),
        ),
    );
    control.negative_control = true;
    let mut na = scenario(
        "mac-only",
        cmd,
        [
            verdict(0, NotApplicable, None, Some("macOS only")),
            verdict(1, NotApplicable, None, Some("macOS only")),
            verdict(2, NotApplicable, None, Some("macOS only")),
        ],
        chain(NotApplicable, None, false, false, Some("macOS only")),
    );
    na.platform = Platform::Macos;
    na.status = RunStatus::NotApplicable;
    na.fidelity = None;
    RunRecord {
        schema: SCHEMA.into(),
        run_id: "cpabcdef0123".into(),
        chainproof_version: "9.9.9".into(),
        started_at: datetime!(2026-11-26 10:00 UTC),
        finished_at: datetime!(2026-11-26 10:01 UTC),
        host: Host {
            name: "lab-ws-07".into(),
            platform: Platform::Linux,
            os: "Ubuntu 24.04".into(),
            kernel: "6.8.0".into(),
            user: "alice".into(),
            privileged: false,
            environment: None,
        },
        rules: RuleSet {
            sources: vec!["rules/sigma".into(), "<embedded>/detections".into()],
            count: 17,
            load: None,
            blind: Vec::new(),
        },
        scenarios: vec![blocked, inconclusive, control, na],
        targets_not_run: Vec::new(),
    }
}
