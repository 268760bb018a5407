//! The three formats over hand-built alerts, chains and counts.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use serde_json::Value;

use super::fixtures::{alert, loud_chain, quiet_chain, rules, summary};
use super::{Finish, Format, Output, output, table};

/// A writer the test can read while the sink still owns it.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }
}

const HOSTILE: &str = "Evil \u{202e}txt.exe\x1b[2J";

/// Feeds the same replay to `sink`: an alert on chain 2, one outside any
/// chain, one on a chain that never closes, then chains 3, 2 and 1.
fn feed(sink: &mut dyn Output) -> io::Result<()> {
    sink.alert(&alert("r-1", "Script Run", Some("high"), Some(2)));
    sink.alert(&alert("r-2", HOSTILE, Some("critical"), None));
    sink.alert(&alert("r-3", "Lone Process", None, Some(9)));
    sink.chain(&quiet_chain(3));
    sink.chain(&loud_chain(2, "Script Run"));
    sink.chain(&quiet_chain(1));
    let rules = rules();
    let summary = summary(3, &[("Script Run", 1), (HOSTILE, 1), ("Lone Process", 1)]);
    sink.finish(&Finish {
        summary: &summary,
        rules: &rules,
    })
}

#[test]
fn the_table_lists_chains_alerts_outside_them_and_every_count() -> io::Result<()> {
    let out = Shared::default();
    let options = table::Options {
        width: 70,
        alerts_shown: 1,
        quiet_chains_shown: 1,
    };
    let mut sink = output(Format::Table, Box::new(out.clone()), options);
    feed(sink.as_mut())?;
    let want = r"chain 2 on WS01: C:\Windows\explorer.exe (3 processes, depth 2)
  C:\Windows\explorer.exe                    parent only
    └ wscript.exe  wscript.exe C:\Users\a\in… alerted (tactic)     Script Run
      └ cmd.exe  cmd /c whoami               observed

chain 3: /usr/bin/bash (2 processes, depth 1)
  bash  bash                                 observed
    └ ls  ls -l                              observed

(1 more chains without alerts not shown)

alerts outside chains: 2
  critical      Evil \u{202e}txt.exe\x1b[2J [r-2]
      host WS01  time 2026-03-01T10:00:00Z  pid 4242  image C:\Windows\System32\wscript.exe
  (1 more alerts outside chains not shown)

8 events, 2 chains (1 with alerts), 3 alerts
        1  Evil \u{202e}txt.exe\x1b[2J
        1  Lone Process
        1  Script Run
input case.evtx: evtx, 10 read, 8 mapped, 2 skipped (Sysmon event 4: no Sigma log source: 2)
input README.md: refused: not telemetry
rules: 2 rules loaded from 3 files; 1 refused (legacy aggregation (not supported): 1)
process state: 3 merged, 1 parent mismatches, 1 expired, 0 evicted, 1 parents only, peak 5 open
warning: 2 records came more than a second after a later one of their input; process links follow reading order, so sort the input by time
";
    assert_eq!(out.text(), want, "got:\n{}", out.text());
    Ok(())
}

#[test]
fn ndjson_streams_alerts_and_ends_with_inputs_rules_and_summary() -> io::Result<()> {
    let out = Shared::default();
    let mut sink = output(
        Format::Ndjson,
        Box::new(out.clone()),
        table::Options::default(),
    );
    sink.alert(&alert("r-1", "Script Run", Some("high"), Some(2)));
    // Written as it came, not held until the end.
    assert!(
        out.text().starts_with(r#"{"type":"alert","rule_id":"r-1""#),
        "{}",
        out.text()
    );
    let rest = Shared::default();
    let mut sink = output(
        Format::Ndjson,
        Box::new(rest.clone()),
        table::Options::default(),
    );
    feed(sink.as_mut())?;
    let lines: Vec<Value> = rest
        .text()
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .map_err(io::Error::other)?;
    let types: Vec<&str> = lines
        .iter()
        .map(|l| l["type"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        types,
        [
            "alert", "alert", "alert", "chain", "chain", "chain", "input", "input", "rules",
            "summary"
        ]
    );
    assert_eq!(lines[1]["title"], HOSTILE, "the title survives escaping");
    assert!(!rest.text().contains('\u{202e}') && !rest.text().contains('\x1b'));
    assert_eq!(lines[0]["chain"], 2);
    assert_eq!(lines[0]["level"], "high");
    assert_eq!(lines[0]["time"], "2026-03-01T10:00:00Z");
    assert_eq!(lines[8]["refused"][0]["reason"], "aggregation");
    assert_eq!(lines[8]["by_reason"]["aggregation"], 1);
    assert_eq!(lines[9]["schema"], "chainproof.replay/v1");
    assert_eq!(lines[9]["alerts"], 3);
    assert_eq!(lines[9]["state"]["merged"], 3);
    assert!(
        lines[9].get("inputs").is_none(),
        "inputs have lines of their own"
    );
    Ok(())
}

#[test]
fn the_json_document_carries_rules_inputs_summary_alerts_and_chains() -> io::Result<()> {
    let out = Shared::default();
    let mut sink = output(
        Format::Json,
        Box::new(out.clone()),
        table::Options::default(),
    );
    feed(sink.as_mut())?;
    let text = out.text();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(!text.contains('\u{202e}'), "{text}");
    let doc: Value = serde_json::from_str(&text).map_err(io::Error::other)?;
    assert_eq!(doc["schema"], "chainproof.replay/v1");
    assert_eq!(doc["rules"]["sources"][0], "rules");
    assert_eq!(doc["rules"]["loaded"], 2);
    assert_eq!(doc["rules"]["files"], 3);
    let refusal = &doc["rules"]["refused"][0];
    assert_eq!(refusal["path"], "rules/agg.yml");
    assert_eq!(refusal["rule"], "agg-1");
    assert_eq!(refusal["reason"], "aggregation");
    assert_eq!(refusal["message"], "condition `sel | count() > 3`");
    assert_eq!(doc["rules"]["by_reason"]["aggregation"], 1);
    assert_eq!(
        doc["inputs"][0]["skipped"]["Sysmon event 4: no Sigma log source"],
        2
    );
    assert_eq!(doc["inputs"][1]["refused"], "not telemetry");
    assert_eq!(doc["summary"]["alerted_chains"], 1);
    assert!(doc["summary"].get("inputs").is_none());
    let a = &doc["alerts"][0];
    for (key, want) in [
        ("rule_id", "r-1"),
        ("title", "Script Run"),
        ("level", "high"),
        ("host", "WS01"),
        ("time", "2026-03-01T10:00:00Z"),
        ("image", r"C:\Windows\System32\wscript.exe"),
        ("command_line", r"wscript.exe C:\Users\a\invoice.vbs"),
    ] {
        assert_eq!(a[key], want, "{key}");
    }
    assert_eq!(a["pid"], 4242);
    assert_eq!(a["chain"], 2);
    assert_eq!(doc["alerts"][1]["title"], HOSTILE);
    assert_eq!(doc["chains"].as_array().map(Vec::len), Some(3));
    assert_eq!(doc["chains"][1]["nodes"][1]["alerts"][0], "Script Run");
    Ok(())
}

/// A writer that refuses everything.
struct Full;

impl Write for Full {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("disk full"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failed_write_is_reported_at_the_end() {
    for format in [Format::Table, Format::Json, Format::Ndjson] {
        let mut sink = output(format, Box::new(Full), table::Options::default());
        let got = feed(sink.as_mut());
        assert!(
            got.as_ref().is_err_and(|e| e.to_string() == "disk full"),
            "{format:?}: {got:?}"
        );
    }
}

#[test]
fn machine_formats_pass_alerts_and_only_chains_with_one() {
    use crate::replay::model::{Collect, Sink};
    let mut kept = Collect::default();
    {
        let mut filter = super::AlertedChains(&mut kept);
        filter.alert(&alert("r-1", "Rule", Some("high"), Some(1)));
        filter.chain(&loud_chain(1, "Rule"));
        filter.chain(&quiet_chain(2));
    }
    assert_eq!(kept.alerts.len(), 1);
    let ids: Vec<u64> = kept.chains.iter().map(|c| c.id).collect();
    assert_eq!(ids, [1], "the quiet chain is counted, not written");
}
