//! Tests of the CSV report, read back with Python's `csv` module and with a
//! small RFC 4180 reader here.

use std::path::Path;

use super::*;
use crate::record::test_records::record;
use crate::record::{Grade, RunRecord, Verdict};
use crate::report::navigator::tests::{chain, hop, scenario};
use crate::vocab::HopKind;

/// A hostile string: separator, quote, newline, pipe and a DDE formula.
const HOSTILE: &str = "sh -c \"a,b\" | x\nnext line; =cmd|' /C calc'!A0";
/// A field that starts like a formula.
const FORMULA: &str = "=cmd|' /C calc'!A0";

/// Parses RFC 4180 text strictly: CRLF record ends, quoted fields only.
fn parse_rfc4180(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "bare CR in {text:?}");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => {
                assert!(c != '\n' && c != '"', "unquoted {c:?} in {text:?}");
                field.push(c);
            }
        }
    }
    assert!(
        field.is_empty() && row.is_empty() && !quoted,
        "no final CRLF"
    );
    rows
}

/// Reads `text` back with Python's `csv` module; `None` without python3.
fn python_rows(text: &str) -> Option<Vec<Vec<String>>> {
    let dir = tempfile::tempdir().ok()?;
    let path = dir.path().join("run.csv");
    std::fs::write(&path, text).ok()?;
    let script = "import csv, json, sys\n\
                  rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))\n\
                  print(json.dumps(rows))";
    let out = match std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("python3 not available ({e}); Python round trip skipped");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap_or_default())
}

/// Both readers agree on `text`; returns the rows.
fn read_back(text: &str) -> Vec<Vec<String>> {
    let rows = parse_rfc4180(text);
    if let Some(py) = python_rows(text) {
        assert_eq!(py, rows, "Python reads {text:?} differently");
    }
    rows
}

fn hostile() -> RunRecord {
    let (file_truth, file_verdict) = hop(0, HopKind::File, "file", Verdict::Observed, None);
    let (spawn_truth, mut spawn_verdict) = hop(
        1,
        HopKind::Spawn,
        HOSTILE,
        Verdict::Alerted,
        Some(Grade::Technique),
    );
    spawn_verdict.reason = Some(FORMULA.into());
    let (mut missed_truth, mut missed_verdict) =
        hop(2, HopKind::Spawn, "spawn -calc", Verdict::Missed, None);
    missed_truth.reason = Some("did not start".into());
    missed_verdict.reason = None;
    missed_verdict.linked = Some(false);
    let attack = scenario(
        "macro-doc-shell",
        false,
        vec![
            (file_truth, file_verdict),
            (spawn_truth, spawn_verdict),
            (missed_truth, missed_verdict),
        ],
        chain(Verdict::Alerted, Some(Grade::Technique), false),
    );
    let mut control = scenario(
        "@benign,doc",
        true,
        vec![hop(0, HopKind::File, "file", Verdict::Observed, None)],
        chain(Verdict::Alerted, Some(Grade::General), true),
    );
    control.fidelity = None;
    let mut skipped = scenario(
        "reg-import",
        false,
        vec![],
        chain(Verdict::NotApplicable, None, false),
    );
    skipped.verification = None;
    skipped.reason = Some("+needs Windows".into());
    let mut r = record(vec![attack, control, skipped]);
    r.host.name = "lab,\"1\"".into();
    r
}

#[test]
fn header_is_the_documented_one() {
    let text = render(&record(vec![]));
    assert_eq!(
        text,
        "run_id,host,platform,scenario,fidelity,negative_control,hop_index,hop_label,\
         hop_kind,verdict,grade,time_to_telemetry_ms,time_to_alert_ms,linked,reason,\
         chain_verdict,false_positive,time_to_telemetry_basis,time_to_alert_basis\r\n"
    );
    assert_eq!(read_back(&text), [HEADER.map(String::from).to_vec()]);
}

#[test]
fn hostile_fields_round_trip_exactly() {
    let text = render(&hostile());
    let rows = read_back(&text);
    assert_eq!(rows.len(), 1 + 3 + 1 + 1, "{text}");
    assert!(rows.iter().all(|r| r.len() == HEADER.len()), "{rows:?}");
    let host = "lab,\"1\"";
    let formula = format!("'{FORMULA}");
    // Each row: the scenario's cells, then the hop's, then the chain's.
    let doc = ["macro-doc-shell", "emulated", "false"];
    // A record without latency bases is read as older records are: the
    // telemetry figure was the poll's (a bound), the alert's its own time.
    let polled = "bounded: polling";
    let alert = "measured: the alert's own time";
    let expected: [([&str; 3], [&str; 9], [&str; 4]); 5] = [
        (
            doc,
            ["0", "file", "file", "observed", "", "5", "", "", ""],
            ["alerted", "false", polled, ""],
        ),
        (
            doc,
            [
                "1",
                HOSTILE,
                "spawn",
                "alerted",
                "technique",
                "5",
                "412",
                "true",
                &formula,
            ],
            ["alerted", "false", polled, alert],
        ),
        (
            doc,
            [
                "2",
                "spawn -calc",
                "spawn",
                "missed",
                "",
                "5",
                "",
                "false",
                "did not start",
            ],
            ["alerted", "false", polled, ""],
        ),
        (
            ["'@benign,doc", "", "true"],
            ["0", "file", "file", "observed", "", "5", "", "", ""],
            ["alerted", "true", polled, ""],
        ),
        (
            ["reg-import", "emulated", "false"],
            ["", "", "", "", "", "", "", "", "'+needs Windows"],
            ["unverified", "", "", ""],
        ),
    ];
    for (row, (scenario, hop, chain)) in rows[1..].iter().zip(expected) {
        let want: Vec<String> = ["cp0000000001", host, "linux"]
            .iter()
            .chain(&scenario)
            .chain(&hop)
            .chain(&chain)
            .map(|c| c.to_string())
            .collect();
        assert_eq!(row, &want);
    }
}

#[test]
fn formula_characters_are_defused_and_quoting_is_minimal() {
    for lead in ["=", "+", "-", "@", "\t", "\r", "\0"] {
        let f = field(&format!("{lead}1+1"));
        let read = &parse_rfc4180(&format!("{f}\r\n"))[0][0];
        assert_eq!(read, &format!("'{lead}1+1"), "{f:?}");
    }
    assert_eq!(field("plain | text"), "plain | text");
    assert_eq!(field("a,b"), "\"a,b\"");
    assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(field("two\nlines"), "\"two\nlines\"");
    assert_eq!(field("x=1"), "x=1");
    assert_eq!(field(""), "");
}

#[test]
fn baseline_record_has_a_row_per_hop() -> Result<(), Box<dyn std::error::Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/baseline/run.json");
    let record = crate::report::read_record(&path)?;
    let text = render(&record);
    let rows = read_back(&text);
    let hops: usize = record.scenarios.iter().map(|s| s.hops.len()).sum();
    assert_eq!(hops, 12);
    assert_eq!(rows.len(), 1 + hops);
    assert!(rows.iter().all(|r| r.len() == HEADER.len()));
    let alerted: Vec<&Vec<String>> = rows.iter().filter(|r| r[9] == "alerted").collect();
    assert_eq!(alerted.len(), 3);
    for r in alerted {
        assert_eq!(r[0], "cp136ce99e1b");
        assert_eq!(r[1], "lab-linux-01");
        assert_eq!(
            (r[6].as_str(), r[10].as_str(), r[12].as_str()),
            ("2", "technique", "0")
        );
        assert_eq!(
            (r[13].as_str(), r[15].as_str(), r[16].as_str()),
            ("true", "alerted", "false")
        );
    }
    let scenarios: Vec<&str> = rows[1..].iter().map(|r| r[3].as_str()).collect();
    assert_eq!(scenarios.iter().filter(|s| **s == "iso-exec").count(), 4);
    assert_eq!(rows[1][4], "emulated");
    Ok(())
}
