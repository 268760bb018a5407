//! Hand-built alerts, chains and summaries for the renderers' and
//! `--fail-on`'s tests.

use std::collections::BTreeMap;

use time::macros::datetime;

use crate::detect::load::{Reason, Refusal, Summary as LoadSummary};
use crate::replay::model::{Alert, Chain, InputStats, Node, Origin, StateStats, Summary};

use super::RuleReport;

const SYSMON_1: Origin = Origin {
    provider: "sysmon",
    id: Some(1),
};

/// An alert of rule `id` titled `title`, on chain `chain`.
pub fn alert(id: &str, title: &str, level: Option<&str>, chain: Option<u64>) -> Alert {
    Alert {
        rule_id: Some(id.into()),
        title: title.into(),
        level: level.map(str::to_string),
        tags: vec!["attack.execution".into()],
        logsource: "windows/process_creation".into(),
        origin: SYSMON_1,
        host: Some("WS01".into()),
        time: Some(datetime!(2026-03-01 10:00:00 UTC)),
        pid: Some(4242),
        image: Some(r"C:\Windows\System32\wscript.exe".into()),
        command_line: Some(r"wscript.exe C:\Users\a\invoice.vbs".into()),
        chain,
        input: "case.evtx".into(),
    }
}

fn node(image: &str, cmd: Option<&str>, depth: usize, alerts: &[&str], seen: bool) -> Node {
    Node {
        image: image.into(),
        command_line: cmd.map(str::to_string),
        pid: Some(100 + depth as u64),
        depth,
        started: Some(datetime!(2026-03-01 10:00:00 UTC)),
        sources: if seen { vec![SYSMON_1] } else { Vec::new() },
        alerts: alerts.iter().map(|t| t.to_string()).collect(),
    }
}

/// explorer → wscript (alerted by `title`) → cmd, as chain `id`.
pub fn loud_chain(id: u64, title: &str) -> Chain {
    Chain {
        id,
        host: Some("WS01".into()),
        root: r"C:\Windows\explorer.exe".into(),
        nodes: vec![
            node(r"C:\Windows\explorer.exe", None, 0, &[], false),
            node(
                r"C:\Windows\System32\wscript.exe",
                Some(r"wscript.exe C:\Users\a\invoice.vbs"),
                1,
                &[title],
                true,
            ),
            node(
                r"C:\Windows\System32\cmd.exe",
                Some("cmd /c whoami"),
                2,
                &[],
                true,
            ),
        ],
    }
}

/// bash → ls without alerts, as chain `id`.
pub fn quiet_chain(id: u64) -> Chain {
    Chain {
        id,
        host: None,
        root: "/usr/bin/bash".into(),
        nodes: vec![
            node("/usr/bin/bash", Some("bash"), 0, &[], true),
            node("/usr/bin/ls", Some("ls -l"), 1, &[], true),
        ],
    }
}

/// A summary of one input with skips, and process-state figures.
pub fn summary(alerts: u64, by_rule: &[(&str, u64)]) -> Summary {
    Summary {
        inputs: vec![
            InputStats {
                name: "case.evtx".into(),
                format: "evtx".into(),
                read: 10,
                mapped: 8,
                skipped: BTreeMap::from([("Sysmon event 4: no Sigma log source".into(), 2)]),
                refused: None,
            },
            InputStats {
                name: "README.md".into(),
                refused: Some("not telemetry".into()),
                ..InputStats::default()
            },
        ],
        events: 8,
        alerts,
        by_rule: by_rule.iter().map(|(t, n)| (t.to_string(), *n)).collect(),
        chains: 2,
        alerted_chains: 1,
        state: StateStats {
            peak_open: 5,
            expired: 1,
            evicted: 0,
            merged: 3,
            parent_mismatch: 1,
            ghosts: 1,
            late: 2,
        },
    }
}

/// Two rules loaded from three files, one refused.
pub fn rules() -> RuleReport {
    let load = LoadSummary {
        files: 3,
        loaded: 2,
        refused: vec![Refusal::new(
            std::path::Path::new("rules/agg.yml"),
            Some("agg-1".into()),
            Reason::Aggregation,
            "condition `sel | count() > 3`",
        )],
    };
    RuleReport::from_parts(&["rules".to_string()], &load)
}
