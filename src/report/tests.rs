use super::*;
use crate::record::test_records;
use crate::record::*;
use crate::vocab::HopKind;

/// One chain, `macro-doc-shell`, whose only hop spawned dash running
/// `command_line` and alerted at technique grade.
fn record_with(command_line: &str) -> RunRecord {
    let p = ProcessTruth {
        command_line: Some(command_line.into()),
        user: Some("root".into()),
        uid: Some(0),
        sources: vec!["proc-connector".into()],
        ..test_records::process(11, 10, "/usr/bin/dash")
    };
    let hop = HopTruth {
        expected: "/bin/sh".into(),
        pid: Some(11),
        parent_pid: Some(10),
        ..test_records::hop(0, HopKind::Spawn, "spawn dash")
    };
    let verdict = HopVerdict {
        time_to_telemetry_ms: Some(1),
        time_to_alert_ms: Some(7),
        telemetry_basis: None,
        alert_basis: None,
        linked: Some(true),
        ..test_records::verdict(0, Verdict::Alerted)
    };
    let mut run = test_records::verified(
        "macro-doc-shell",
        vec![(hop, verdict)],
        test_records::chain(Verdict::Alerted, Some(Grade::Technique)),
    );
    run.title = "Macro".into();
    run.truth.processes = vec![p];
    test_records::record(vec![run])
}

#[test]
fn markdown_escapes_hostile_command_lines() {
    let md = render(
        &record_with("sh -c '<script>alert(1)</script> | x `y`'"),
        Format::Md,
    );
    assert!(!md.contains("<script>"), "{md}");
    assert!(md.contains("&lt;script&gt;"));
    assert!(md.contains("\\|") && md.contains("\\`y\\`"));
    assert!(
        md.contains(
            "| macro-doc-shell | linux | - | alerted (technique) | alerted (technique) | 7ms |"
        ),
        "{md}"
    );
}

#[test]
fn json_round_trips_through_read_record() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let record = record_with("sh");
    let folder = write_folder(&record, dir.path())?;
    assert!(folder.ends_with("19700101T000000Z-cp0000000001"));
    assert_eq!(read_record(&folder.join("run.json"))?, record);
    assert!(std::fs::read_to_string(folder.join("matrix.md"))?.contains("macro-doc-shell"));
    std::fs::write(dir.path().join("bad.json"), "{\"schema\": 1}")?;
    assert!(matches!(
        read_record(&dir.path().join("bad.json")),
        Err(ReportError::Parse { .. })
    ));
    // A token no backend could search for is refused on load, named.
    let mut bad = record_with("sh");
    bad.scenarios[0].token = "cp01\" OR 1=1".into();
    let folder = write_folder(&bad, &dir.path().join("bad-token"))?;
    let err = read_record(&folder.join("run.json"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("scenarios[0] (macro-doc-shell): token `cp01\" OR 1=1` is not a run token"),
        "{err}"
    );
    Ok(())
}

#[test]
fn table_shows_each_hop_verdict_and_label() {
    let t = render(&record_with("sh"), Format::Table);
    assert!(
        t.contains("alerted (technique)") && t.contains("7ms"),
        "{t}"
    );
    assert!(render(&record_with("sh"), Format::Md).contains("**spawn dash**"));
}

#[test]
fn terminal_and_markdown_output_defuse_escape_sequences() {
    let mut record = record_with("sh");
    record.scenarios[0].id = "evil\u{1b}[31m\u{202e}id".into();
    let table = render(&record, Format::Table);
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{202e}'),
        "{table}"
    );
    assert!(table.contains("evil\\x1b[31m\\u{202e}id"), "{table}");
    let md = render(&record, Format::Md);
    assert!(!md.contains('\u{1b}') && !md.contains('\u{202e}'));
}

/// A `|` in a cell (a hop label, an id) does not add a column to the
/// Markdown table: every row has as many unescaped separators as the header.
#[test]
fn a_pipe_in_a_cell_keeps_the_markdown_table_whole() {
    let mut record = record_with("sh -c 'a | b'");
    record.scenarios[0].id = "id|with|pipes".into();
    for h in &mut record.scenarios[0].hops {
        h.label = format!("{} a|b", h.label);
    }
    let md = render(&record, Format::Md);
    let separators = |line: &str| {
        let b = line.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
            .count()
    };
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
    assert!(rows.len() >= 2, "{md}");
    let header = separators(rows[0]);
    for row in &rows {
        assert_eq!(separators(row), header, "{row}");
    }
    assert!(md.contains("id\\|with\\|pipes"), "{md}");
}

#[test]
fn the_summary_says_a_chain_did_not_finish() {
    let mut r = record_with("sh -c x");
    let run = &mut r.scenarios[0];
    run.status = RunStatus::Interrupted;
    if let Some(v) = run.verification.as_mut() {
        // What an interrupted chain records: a hop alerted before the stop,
        // the chain inconclusive.
        v.chain.verdict = Verdict::Inconclusive;
        v.chain.fully_observed = false;
    }
    assert_eq!(
        matrix::Summary::of(&r).line(),
        "1 chain (1 did not finish: interrupted, timed out or failed): \
         0 alerted (0 technique), 0 fully observed; 1 inconclusive"
    );
    r.scenarios[0].verification = None;
    assert_eq!(
        matrix::Summary::of(&r).line(),
        "0 chains: 0 alerted (0 technique), 0 fully observed; 1 not verified"
    );
}

#[test]
fn markdown_names_the_refused_rules_count_by_reason() {
    let mut record = record_with("sh");
    let plain = render(&record, Format::Md);
    assert!(
        plain.contains("rules: 3 from &lt;embedded&gt;/detections. Started"),
        "{plain}"
    );
    let summary = crate::detect::load::Summary {
        files: 5,
        loaded: 3,
        refused: vec![
            crate::detect::load::Refusal::new(
                std::path::Path::new("r/a.yml"),
                None,
                crate::detect::load::Reason::Parse,
                "bad",
            ),
            crate::detect::load::Refusal::new(
                std::path::Path::new("r/b.yml"),
                Some("b".into()),
                crate::detect::load::Reason::Correlation,
                "correlation `b`",
            ),
        ],
    };
    record.rules.load = Some(summary.to_record());
    let md = render(&record, Format::Md);
    assert!(
        md.contains(
            "rules: 3 from &lt;embedded&gt;/detections (2 refused: correlation 1, parse 1). Started"
        ),
        "{md}"
    );
    // The record keeps the list; an older record without it still reads.
    let json = serde_json::to_value(&record.rules).unwrap_or_default();
    assert_eq!(json["load"]["refused"][1]["reason"], "correlation");
    assert_eq!(json["load"]["by_reason"]["parse"], 1);
    let old: Result<RuleSet, _> = serde_json::from_str(r#"{"sources": ["rules"], "count": 4}"#);
    assert!(old.is_ok_and(|r| r.load.is_none()));
}

#[test]
fn markdown_says_what_happened_from_the_hop_not_from_what_was_found() {
    let mut r = record_with("sh -c x");
    let hop = &mut r.scenarios[0].hops[0];
    // Happened, with a note, but its pid is not among the processes.
    hop.pid = Some(12);
    hop.reason = Some("pid 12 exited before its image could be read".into());
    let md = markdown::render(&r);
    assert!(
        md.contains(
            "- **spawn dash**: pid 12, not among the recorded processes \
             (pid 12 exited before its image could be read)"
        ),
        "{md}"
    );
    assert!(!md.contains("did not happen"), "{md}");
    let hop = &mut r.scenarios[0].hops[0];
    hop.happened = false;
    hop.reason = Some("nothing was started by pid 11".into());
    let md = markdown::render(&r);
    assert!(
        md.contains("- **spawn dash**: did not happen: nothing was started by pid 11"),
        "{md}"
    );
}

/// The widest line of `text` in terminal columns.
fn widest(text: &str) -> usize {
    text.lines()
        .map(crate::term::width::display_width)
        .max()
        .unwrap_or(0)
}

#[test]
fn the_terminal_table_fits_the_width_it_is_given() {
    let mut record = record_with("sh");
    let s = &mut record.scenarios[0];
    let hop = s.hops[0].clone();
    let Some(v) = s.verification.as_mut() else {
        panic!("verified record")
    };
    let verdict = v.hops[0].clone();
    for i in 1..4 {
        s.hops.push(HopTruth {
            index: i,
            label: format!("spawn powershell.exe -NoProfile step {i}"),
            ..hop.clone()
        });
        v.hops.push(HopVerdict {
            index: i,
            ..verdict.clone()
        });
    }
    let mut second = record.scenarios[0].clone();
    second.id = "control-office-helper".into();
    record.scenarios.push(second);
    let full = table(&record, None);
    assert_eq!(
        full,
        render(&record, Format::Table),
        "no width is full width"
    );
    assert!(widest(&full) > 120, "{full}");
    for width in [60, 80, 100, 120] {
        let t = table(&record, Some(width));
        assert!(widest(&t) <= width, "{width}:\n{t}");
        // Words are broken only when the columns' longest words cannot
        // all fit (these four hops' longest words need 104 columns).
        if width >= 120 {
            for want in [
                "macro-doc-shell",
                "control-office-helper",
                "first alert 7ms",
                "(technique)",
            ] {
                assert!(t.contains(want), "{width}: {want}:\n{t}");
            }
        }
    }
    assert_eq!(
        table(&record, Some(1000)),
        full,
        "a wide terminal changes nothing"
    );
}
