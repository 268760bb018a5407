//! Snapshots of every report format, rendered from one representative
//! record: Linux, Windows and macOS chains, every verdict (alerted at each
//! grade, observed, missed, blocked, inconclusive, not-applicable), a
//! negative control that alerted, a variant that did not run, a target that
//! gave no record, and an attacker-like command line.
//!
//! The redactor replaces what a real record would carry that changes from
//! run to run and machine to machine (times, pids, tokens and run ids, the
//! version), so the same filters keep snapshots of a recorded run stable.
//! HTML is snapshotted as its `<body>` (see its test).
//! Under CI (`ci/test` sets `CI=true` and `INSTA_UPDATE=no`) a changed
//! output fails instead of writing a `.snap.new`. After an intended change
//! of a format, `INSTA_UPDATE=always cargo test --lib report::snapshot_tests`
//! rewrites `src/report/snapshots/`; review that diff and commit it.

use time::OffsetDateTime;
use time::macros::datetime;

use super::{Format, render};
use crate::record::test_records::{chain, hop, process, verdict};
use crate::record::*;
use crate::vocab::{Fidelity, HopKind, Platform};

/// Attacker-like text: markup, a Markdown pipe and backticks, a CDATA
/// terminator, a CSV formula, an ANSI sequence and a bidi override.
const HOSTILE: &str =
    "sh -c '<script>alert(1)</script> | `id` ]]> =cmd|' /C calc'!A0 \u{1b}[31mred\u{202e}'";

/// A hop label an attacker could choose (scenario files are input too).
const HOSTILE_LABEL: &str = "spawn \"sh\" <img src=x> | `id` =1+1 \u{1b}[2J";

const START: OffsetDateTime = datetime!(2026-11-26 10:00:00 UTC);

/// Seconds after [`START`].
fn at(seconds: i64) -> OffsetDateTime {
    START + time::Duration::seconds(seconds)
}

/// A hop that happened at `seconds`, by process `pid` when it is a spawn or
/// an open.
fn step(index: usize, kind: HopKind, label: &str, pid: Option<u32>) -> HopTruth {
    HopTruth {
        pid,
        path: (kind == HopKind::File).then(|| format!("/home/alice/Downloads/{label}")),
        at: Some(at(index as i64 + 1)),
        ..hop(index, kind, label)
    }
}

/// `v` on hop `index`, seen and (when alerted) alerted on after a delay.
fn judged(index: usize, v: Verdict, grade: Option<Grade>, reason: Option<&str>) -> HopVerdict {
    let seen = matches!(v, Verdict::Alerted | Verdict::Observed);
    HopVerdict {
        grade,
        time_to_telemetry_ms: seen.then_some(40 + 10 * index as u64),
        time_to_alert_ms: (v == Verdict::Alerted).then_some(900 + index as u64),
        // Even hops measured from the backend's arrival field, odd ones
        // only bounded by polling: the reports must word both.
        telemetry_basis: seen.then(|| {
            if index.is_multiple_of(2) {
                Basis::Measured("_indextime".into())
            } else {
                Basis::Polling
            }
        }),
        alert_basis: (v == Verdict::Alerted)
            .then(|| Basis::Measured(crate::verify::ALERT_TIME.into())),
        linked: seen.then_some(index > 0),
        reason: reason.map(String::from),
        ..verdict(index, v)
    }
}

/// A run of `id` on `platform`, token `token`, verified by `splunk`.
fn chain_run(
    id: &str,
    token: &str,
    platform: Platform,
    hops: Vec<(HopTruth, HopVerdict)>,
    chain: ChainVerdict,
) -> ScenarioRun {
    let (truths, verdicts): (Vec<_>, Vec<_>) = hops.into_iter().unzip();
    let alerts = verdicts
        .iter()
        .filter(|v| v.verdict == Verdict::Alerted)
        .map(|v| Alert {
            rule_id: Some(format!("5d2e8a41-0000-4000-8000-00000000000{}", v.index)),
            rule_title: format!("Office application spawns a shell ({id})"),
            level: Some("high".into()),
            tags: vec!["attack.execution".into(), "attack.t1204.002".into()],
            grade: v.grade.unwrap_or(Grade::General),
            hop: Some(v.index),
            at: at(2),
            at_unknown: false,
        })
        .collect();
    ScenarioRun {
        title: format!("Title of {id}"),
        source: format!("scenarios/{id}.yaml"),
        source_sha256: "ab".repeat(32),
        platform,
        fidelity: Some(Fidelity::Emulated),
        token: token.into(),
        started_at: at(0),
        finished_at: at(5),
        hops: truths,
        timings: Some(Timings {
            prepare_ms: 30,
            chain_ms: 20,
            grace_ms: 300,
            cleanup_ms: 5,
        }),
        verification: Some(Verification {
            backend: "splunk".into(),
            verified_at: at(60),
            hops: verdicts,
            alerts,
            chain,
            alert_latency_ms: Some(120_000),
            containment: None,
            visibility: Vec::new(),
            untied: Default::default(),
        }),
        ..crate::record::test_records::scenario(id)
    }
}

/// The Linux macro chain: every hop seen, the shell alerted at technique
/// grade, its command line hostile.
fn macro_doc() -> ScenarioRun {
    use Verdict::*;
    let mut run = chain_run(
        "macro-doc-shell",
        "cp3f9a1c0b7e",
        Platform::Linux,
        vec![
            (
                step(0, HopKind::File, "Invoice.odt", None),
                judged(0, Observed, None, None),
            ),
            (
                step(1, HopKind::Open, "open soffice.bin", Some(48213)),
                judged(1, Alerted, Some(Grade::Tactic), None),
            ),
            (
                step(2, HopKind::Spawn, HOSTILE_LABEL, Some(48240)),
                judged(2, Alerted, Some(Grade::Technique), None),
            ),
        ],
        chain(Alerted, Some(Grade::Technique)),
    );
    run.fidelity = Some(Fidelity::Real);
    readiness(&mut run);
    let opener = "/usr/lib/libreoffice/program/soffice.bin";
    run.truth = GroundTruth {
        processes: vec![
            ProcessTruth {
                command_line: Some(format!("{opener} --writer Invoice.odt")),
                started_at: Some(at(1)),
                ..process(48213, 48200, opener)
            },
            ProcessTruth {
                command_line: Some(HOSTILE.into()),
                user: Some("alice".into()),
                uid: Some(1000),
                started_at: Some(at(2)),
                sources: vec!["proc-connector".into()],
                ..process(48240, 48213, "/usr/bin/dash")
            },
        ],
        files: vec![FileTruth {
            path: "/home/alice/Downloads/Invoice.odt".into(),
            role: "artifact".into(),
            size: 3598,
            sha256: "cd".repeat(32),
            origin: [(
                "user.xdg.origin.url".to_string(),
                "https://files.example.test/Invoice.odt".to_string(),
            )]
            .into(),
            written_at: at(0),
            writer: None,
        }],
        sources: vec!["proc-connector".into()],
        ..GroundTruth::default()
    };
    run
}

/// What the product did (killed the hostile shell, a second after it
/// started), what the backend's events answer per hop, and rows of the
/// round tied to no run (one hostile).
fn readiness(run: &mut ScenarioRun) {
    use crate::record::{
        Containment, ContainmentState, HopVisibility, ProductResponse, Question::*, UntiedAnswers,
    };
    let Some(v) = run.verification.as_mut() else {
        return;
    };
    v.containment = Some(Containment {
        state: ContainmentState::Contained,
        hop: Some(2),
        by: Some("process killed <b>|".into()),
        at: Some(at(3)),
        time_to_containment_ms: Some(1000),
        confirmed_by_harness: None,
        responses: vec![ProductResponse {
            kind: ContainmentState::Contained,
            action: "process killed <b>|".into(),
            hop: Some(2),
            at: Some(at(3)),
            rule_title: "Office application spawns a shell".into(),
        }],
    });
    v.visibility = vec![
        HopVisibility {
            index: 0,
            events: 1,
            answered: vec![Host, FilePath],
            unanswered: vec![User, Hash, OriginUrl],
        },
        HopVisibility {
            index: 1,
            events: 1,
            answered: vec![User, Host, FilePath, Parent, CommandLine, Children],
            unanswered: vec![Hash],
        },
        HopVisibility {
            index: 2,
            events: 2,
            answered: vec![User, Host, FilePath, Parent, CommandLine],
            unanswered: vec![Hash],
        },
    ];
    v.untied = UntiedAnswers {
        count: 12,
        sample: vec![r#"{"cmd":"<script>alert(1)</script> | rm"}"#.into()],
    };
}

/// The other chains: Windows observed-then-missed and inconclusive (with a
/// not-applicable hop), macOS blocked, a Linux chain observed without an
/// alert, a control with a false positive, a variant that did not run.
fn others() -> Vec<ScenarioRun> {
    use Verdict::*;
    let mut iso = chain_run(
        "iso-exec",
        "cp8b04e6d19a",
        Platform::Windows,
        vec![
            (
                step(0, HopKind::File, "Setup.iso", None),
                judged(0, Observed, None, None),
            ),
            (
                step(1, HopKind::Spawn, "spawn cmd.exe", Some(7020)),
                judged(1, Missed, None, Some("no process event within 60 s")),
            ),
        ],
        ChainVerdict {
            reason: Some("hop 1 missed".into()),
            ..chain(Missed, None)
        },
    );
    let mut reg = chain_run(
        "reg-import",
        "cp19c7d2a05f",
        Platform::Windows,
        vec![
            (
                step(0, HopKind::Spawn, "spawn reg.exe", Some(7100)),
                judged(0, Inconclusive, None, Some("backend answered HTTP 503")),
            ),
            (
                HopTruth {
                    happened: false,
                    reason: Some("no desktop session".into()),
                    ..step(1, HopKind::Spawn, "spawn regedit.exe", None)
                },
                judged(1, NotApplicable, None, Some("no desktop session")),
            ),
        ],
        ChainVerdict {
            reason: Some("the backend could not answer".into()),
            ..chain(Inconclusive, None)
        },
    );
    let blocked = chain_run(
        "shortcut-script",
        "cp6e2b90c4d1",
        Platform::Macos,
        vec![
            (
                step(0, HopKind::File, "Report.command", None),
                judged(0, Alerted, Some(Grade::General), None),
            ),
            (
                HopTruth {
                    happened: false,
                    reason: Some("Gatekeeper refused the script".into()),
                    ..step(1, HopKind::Spawn, "spawn zsh", None)
                },
                judged(1, Blocked, None, Some("the host stopped the chain")),
            ),
        ],
        chain(Blocked, None),
    );
    let mut control = chain_run(
        "control-pdf-browser",
        "cp0a7f3e91b2",
        Platform::Linux,
        vec![(
            step(0, HopKind::Open, "open evince", Some(48300)),
            judged(0, Alerted, Some(Grade::General), None),
        )],
        ChainVerdict {
            false_positive: true,
            reason: Some("rule Suspicious PDF Reader Child fired".into()),
            ..chain(Alerted, Some(Grade::General))
        },
    );
    control.negative_control = true;
    let mut observed = chain_run(
        "desktop-launcher",
        "cp2c5e7a9b13",
        Platform::Linux,
        vec![
            (
                step(0, HopKind::File, "Notes.desktop", None),
                judged(0, Observed, None, None),
            ),
            (
                step(1, HopKind::Spawn, "spawn sh", Some(48400)),
                judged(1, Observed, None, None),
            ),
        ],
        chain(Observed, None),
    );
    let not_run = ScenarioRun {
        platform: Platform::Windows,
        status: RunStatus::NotApplicable,
        reason: Some("needs Windows".into()),
        token: "cp44d1e0a8c3".into(),
        started_at: at(6),
        finished_at: at(6),
        ..crate::record::test_records::scenario("lnk-powershell")
    };
    iso.truth.processes = vec![process(7020, 6900, r"C:\Windows\System32\cmd.exe")];
    reg.truth.processes = vec![process(7100, 6900, r"C:\Windows\System32\reg.exe")];
    control.truth.processes = vec![process(48300, 48200, "/usr/bin/evince")];
    observed.truth.processes = vec![process(48400, 48390, "/usr/bin/dash")];
    vec![iso, reg, blocked, observed, control, not_run]
}

/// The representative record.
fn representative() -> RunRecord {
    let mut scenarios = vec![macro_doc()];
    scenarios.extend(others());
    let mut record = RunRecord {
        run_id: "cp5d2e8a41f0".into(),
        chainproof_version: env!("CARGO_PKG_VERSION").into(),
        started_at: START,
        finished_at: at(90),
        host: Host {
            name: "lab-ws-07".into(),
            platform: Platform::Linux,
            os: "Debian GNU/Linux 12".into(),
            kernel: "6.1.0-28-amd64".into(),
            user: "alice".into(),
            privileged: false,
            environment: None,
        },
        targets_not_run: vec![TargetNotRun {
            name: "win-02".into(),
            url: "ssh://lab@10.0.0.12:22".into(),
            step: "connect".into(),
            reason: "connection refused".into(),
        }],
        ..crate::record::test_records::record(scenarios)
    };
    // A rule the backend's events can never satisfy (its title hostile).
    record.rules.blind = vec![crate::record::BlindRule {
        rule: "0b5111e7-20d9-4560-b970-ea37771a0006".into(),
        title: "Office <b>spawns</b> a shell | `x`".into(),
        missing: vec!["ParentImage".into()],
    }];
    record
}

/// Insta settings whose filters replace times, pids, tokens and run ids,
/// and the version with placeholders.
fn redacted() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let version = env!("CARGO_PKG_VERSION").replace('.', r"\.");
    for (pattern, with) in [
        (
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}| UTC)?",
            "[time]",
        ),
        (r"\bcp[0-9a-f]{10}\b", "[token]"),
        (r#"("(pid|ppid|parent_pid)": )\d+"#, "$1[pid]"),
        (r"\b(pid|ppid|parent) \d+", "$1 [pid]"),
        (&format!(r"\b{version}\b"), "[version]"),
    ] {
        settings.add_filter(pattern, with);
    }
    settings
}

#[test]
fn every_format_of_the_representative_record() {
    let record = representative();
    redacted().bind(|| {
        for (name, format) in [
            ("report_table", Format::Table),
            ("report_md", Format::Md),
            ("report_json", Format::Json),
            ("report_junit", Format::Junit),
            ("report_csv", Format::Csv),
            ("report_navigator", Format::Navigator),
        ] {
            insta::assert_snapshot!(name, render(&record, format));
        }
    });
}

/// The HTML page's `<body>`: its sections and tables are what the page
/// says. The `<head>` (6 KB of CSS and the Content-Security-Policy, checked
/// by the HTML tests) is left out so a style change does not churn this.
#[test]
fn the_html_body_of_the_representative_record() {
    let html = render(&representative(), Format::Html);
    let body = html
        .find("<body>")
        .and_then(|start| Some(&html[start..html.find("</body>")? + "</body>".len()]))
        .unwrap_or_else(|| panic!("no <body> in {html}"));
    redacted().bind(|| insta::assert_snapshot!("report_html_body", body));
}
