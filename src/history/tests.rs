use std::io::Write;
use std::path::Path;

use time::Duration;

use super::*;
use crate::record::{Grade, RunRecord, Verdict};

fn baseline() -> RunRecord {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/baseline/run.json");
    crate::report::read_record(&path).unwrap()
}

/// The baseline's entry, renamed and shifted by `days`.
fn entry(id: &str, days: i64) -> Entry {
    let mut record = baseline();
    record.run_id = id.into();
    record.started_at += Duration::days(days);
    Entry::of(&record, &format!("{id}/run.json"))
}

/// The baseline as if its rules were removed: alerts gone, alerted hops and
/// chains only observed.
fn without_rules(mut record: RunRecord) -> RunRecord {
    for run in &mut record.scenarios {
        let Some(v) = run.verification.as_mut() else {
            continue;
        };
        v.alerts.clear();
        for hop in &mut v.hops {
            if hop.verdict == Verdict::Alerted {
                hop.verdict = Verdict::Observed;
                hop.grade = None;
                hop.time_to_alert_ms = None;
            }
        }
        if v.chain.verdict == Verdict::Alerted {
            v.chain.verdict = Verdict::Observed;
            v.chain.grade = None;
        }
    }
    record
}

#[test]
fn entry_of_baseline() {
    let record = baseline();
    let e = Entry::of(&record, "x/run.json");
    assert_eq!(e.run_id, record.run_id);
    assert_eq!(e.host, "lab-linux-01");
    assert!(!e.backend.is_empty());
    assert_eq!(
        (e.chains, e.alerted, e.technique, e.fully_observed),
        (3, 3, 3, 3)
    );
    assert_eq!((e.inconclusive, e.controls, e.false_positives), (0, 0, 0));
    assert_eq!(e.record, "x/run.json");
}

#[test]
fn append_three_and_read_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let entries = [entry("cp1", 0), entry("cp2", 1), entry("cp3", 2)];
    for e in &entries {
        append(&reports, e).unwrap();
    }
    let history = read(&reports).unwrap();
    assert_eq!(history.entries, entries);
    assert_eq!(history.skipped, 0);
    let text = std::fs::read_to_string(reports.join(FILE)).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(text.ends_with('\n'));
}

#[test]
fn read_sorts_by_start_time() {
    let dir = tempfile::tempdir().unwrap();
    for e in [entry("late", 5), entry("early", -5), entry("mid", 0)] {
        append(dir.path(), &e).unwrap();
    }
    let ids: Vec<String> = read(dir.path())
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.run_id)
        .collect();
    assert_eq!(ids, ["early", "mid", "late"]);
}

#[test]
fn missing_file_is_empty_history() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(read(dir.path()).unwrap(), History::default());
}

#[test]
fn truncated_last_line_is_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    append(dir.path(), &entry("cp1", 0)).unwrap();
    append(dir.path(), &entry("cp2", 1)).unwrap();
    // A run that crashed halfway through its line.
    let whole = serde_json::to_string(&entry("cp3", 2)).unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join(FILE))
        .unwrap();
    file.write_all(&whole.as_bytes()[..whole.len() / 2])
        .unwrap();
    drop(file);

    let history = read(dir.path()).unwrap();
    assert_eq!(history.entries.len(), 2);
    assert_eq!(history.skipped, 1);

    // The next run's line is not glued onto the half line.
    append(dir.path(), &entry("cp4", 3)).unwrap();
    let history = read(dir.path()).unwrap();
    let ids: Vec<&str> = history.entries.iter().map(|e| e.run_id.as_str()).collect();
    assert_eq!(ids, ["cp1", "cp2", "cp4"]);
    assert_eq!(history.skipped, 1);
}

#[test]
fn trend_text_has_a_row_per_run() {
    let mut entries = vec![entry("cp1", 0), entry("cp2", 1), entry("cp3", 2)];
    entries[0].technique = 0;
    entries[1].technique = 2;
    let text = trend_text(&entries);
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| ["cp1", "cp2", "cp3"].iter().any(|id| l.contains(id)))
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows[0].contains("2026-11-26 11:39"), "{text}");
    assert!(rows[0].contains("0.0%") && rows[0].contains("[..........]"));
    assert!(rows[1].contains("66.7%") && rows[1].contains("[#######...]"));
    assert!(rows[2].contains("100.0%") && rows[2].contains("[##########]"));
    assert!(text.contains("▁▆█"), "{text}");
    assert_eq!(trend_text(&[]), "no history yet\n");
}

#[test]
fn trend_text_without_chains_and_hostile_id() {
    let mut e = entry("cp\u{1b}[2J", 0);
    e.chains = 0;
    e.technique = 0;
    let text = trend_text(&[e]);
    assert!(!text.contains('\u{1b}'));
    assert!(text.contains("·"), "{text}");
}

#[test]
fn diff_without_rules_lists_every_lost_alert_as_worse() {
    let before = baseline();
    let after = without_rules(before.clone());
    let changes = diff(&before, &after);
    // Per scenario: the alerted hop and the chain.
    assert_eq!(changes.len(), 2 * before.scenarios.len(), "{changes:#?}");
    for c in &changes {
        assert_eq!(c.better, Some(false), "{c:?}");
        assert_eq!(c.before, "alerted (technique)");
        assert_eq!(c.after, "observed");
        assert!(c.cell == "spawn dash" || c.cell == "chain", "{c:?}");
        assert_eq!(c.platform, "linux");
    }
    let scenarios: Vec<&str> = changes.iter().map(|c| c.scenario.as_str()).collect();
    assert_eq!(
        scenarios,
        [
            "macro-doc-shell",
            "macro-doc-shell",
            "shortcut-script",
            "shortcut-script",
            "iso-exec",
            "iso-exec"
        ]
    );
    let text = render_diff(&changes);
    assert!(
        text.ends_with("6 cells changed (0 better, 6 worse)\n"),
        "{text}"
    );
    let widest = |t: &str| {
        t.lines()
            .map(crate::term::width::display_width)
            .max()
            .unwrap_or(0)
    };
    let narrow = render_diff_for(&changes, Some(72));
    assert!(widest(&narrow) <= 72 && widest(&text) > 72, "{narrow}");
    assert!(narrow.contains("shortcut-script"), "{narrow}");
    assert_eq!(render_diff_for(&changes, None), text);
    // And back again is better.
    assert!(diff(&after, &before).iter().all(|c| c.better == Some(true)));
}

#[test]
fn diff_with_itself_is_empty() {
    let record = baseline();
    assert!(diff(&record, &record).is_empty());
    assert_eq!(render_diff(&[]), "no cell changed\n");
}

#[test]
fn missing_scenario_is_absent() {
    let before = baseline();
    let mut after = before.clone();
    after.scenarios.retain(|s| s.id != "iso-exec");
    let changes = diff(&before, &after);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let c = &changes[0];
    assert_eq!(
        (c.scenario.as_str(), c.cell.as_str()),
        ("iso-exec", "chain")
    );
    assert_eq!(
        (c.before.as_str(), c.after.as_str()),
        ("alerted (technique)", "absent")
    );
    assert_eq!(c.better, None);

    let back = diff(&after, &before);
    assert_eq!(back.len(), 1);
    assert_eq!(
        (back[0].before.as_str(), back[0].after.as_str()),
        ("absent", "alerted (technique)")
    );
    assert!(render_diff(&back).ends_with("1 cell changed (0 better, 0 worse)\n"));
}

#[test]
fn unknown_verdicts_and_grades() {
    let before = baseline();
    let mut after = before.clone();
    let v = after.scenarios[0].verification.as_mut().unwrap();
    v.hops[0].verdict = Verdict::Inconclusive;
    v.hops[2].grade = Some(Grade::Tactic);
    let changes = diff(&before, &after);
    assert_eq!(changes.len(), 2, "{changes:#?}");
    assert_eq!(
        (changes[0].cell.as_str(), changes[0].better),
        ("file", None)
    );
    assert_eq!(changes[1].after, "alerted (tactic)");
    assert_eq!(changes[1].better, Some(false));
}

#[test]
fn false_positive_on_a_control() {
    let mut before = baseline();
    before.scenarios[0].negative_control = true;
    before.scenarios[0]
        .verification
        .as_mut()
        .unwrap()
        .chain
        .false_positive = true;
    let after = without_rules(before.clone());
    let mut after = after;
    after.scenarios[0]
        .verification
        .as_mut()
        .unwrap()
        .chain
        .false_positive = false;
    let changes: Vec<_> = diff(&before, &after)
        .into_iter()
        .filter(|c| c.scenario == "macro-doc-shell")
        .collect();
    // On a control, alerted → observed keeps the telemetry: no rank change.
    let by_cell = |cell: &str| changes.iter().find(|c| c.cell == cell).unwrap().clone();
    assert_eq!(by_cell("spawn dash").better, None);
    assert_eq!(by_cell("chain").better, None);
    let fp = by_cell("false positive");
    assert_eq!(
        (fp.before.as_str(), fp.after.as_str(), fp.better),
        ("yes", "no", Some(true))
    );
}
