use std::path::PathBuf;

use serde_json::{Value, json};
use time::macros::datetime;

use super::*;
use crate::replay::model::{Chain, Collect};
use crate::telemetry::Event;
use crate::telemetry::input::logsource;

const MSHTA_RULE: &str = r#"
title: Mshta Start
id: 11111111-1111-4111-8111-111111111111
status: test
logsource: {category: process_creation, product: windows}
detection:
  sel: {Image|endswith: '\mshta.exe'}
  condition: sel
level: high
"#;

const LNK_RULE: &str = r#"
title: Lnk Written
id: 22222222-2222-4222-8222-222222222222
status: test
logsource: {category: file_event, product: windows}
detection:
  sel: {TargetFilename|endswith: '.lnk'}
  condition: sel
level: medium
"#;

fn rules() -> Rules {
    let texts = [("mshta.yml", MSHTA_RULE), ("lnk.yml", LNK_RULE)]
        .map(|(n, t)| (PathBuf::from(n), t.to_string()))
        .to_vec();
    let rules = Rules::parse(texts, vec!["test".into()]);
    assert_eq!(rules.count, 2, "{:?}", rules.summary);
    rules
}

pub(super) const SYSMON_1: Origin = Origin {
    provider: "sysmon",
    id: Some(1),
};
const SECURITY_4688: Origin = Origin {
    provider: "security",
    id: Some(4688),
};

/// A Windows record at `second` past 10:00 on `host`.
pub(super) fn record(
    origin: Origin,
    category: Category,
    host: Option<&str>,
    second: i64,
    f: Value,
) -> Mapped {
    let at = datetime!(2026-01-01 10:00:00 UTC) + time::Duration::seconds(second);
    Mapped {
        event: Event {
            category,
            arrived: None,
            at: Some(at),
            hop: None,
            fields: f.as_object().cloned().unwrap_or_default(),
        },
        platform: Platform::Windows,
        logsources: logsource::basic(Platform::Windows, category),
        host: host.map(str::to_string),
        origin,
        input: 0,
    }
}

/// A Sysmon 1 start of `image` with `pid` under `ppid`/`parent`.
fn start(
    host: Option<&str>,
    second: i64,
    pid: u64,
    image: &str,
    ppid: u64,
    parent: &str,
) -> Mapped {
    let f = json!({"Image": image, "ProcessId": pid, "ParentProcessId": ppid,
        "ParentImage": parent, "CommandLine": format!("{image} run")});
    record(SYSMON_1, Category::ProcessCreation, host, second, f)
}

fn replay(options: Options, records: Vec<Mapped>) -> (Collect, Summary) {
    let rules = rules();
    let mut session = Session::new(&rules, options);
    let mut sink = Collect::default();
    for m in records {
        session.push(m, &mut sink);
    }
    let summary = session.finish(&mut sink);
    (sink, summary)
}

fn base(p: &str) -> String {
    p.rsplit(['/', '\\'])
        .next()
        .unwrap_or(p)
        .to_ascii_lowercase()
}

/// `(depth, basename)` per node.
type Shape = Vec<(usize, String)>;

fn shape(chain: &Chain) -> Shape {
    chain
        .nodes
        .iter()
        .map(|n| (n.depth, base(&n.image)))
        .collect()
}

fn s(depth: usize, name: &str) -> (usize, String) {
    (depth, name.to_string())
}

const EXPLORER: &str = "C:\\Windows\\explorer.exe";
const MSHTA: &str = "C:\\Windows\\System32\\mshta.exe";
const CMD: &str = "C:\\Windows\\System32\\cmd.exe";

#[test]
fn sysmon_1_and_security_4688_of_one_process_are_one_node_alerting_once() {
    let security = json!({"Image": MSHTA.to_uppercase(), "ProcessId": 100,
        "ParentProcessId": 50, "ParentImage": EXPLORER, "CommandLine": "mshta x.hta"});
    let records = vec![
        start(Some("H"), 0, 100, MSHTA, 50, EXPLORER),
        record(
            SECURITY_4688,
            Category::ProcessCreation,
            Some("H"),
            1,
            security,
        ),
        start(Some("H"), 2, 101, CMD, 100, MSHTA),
    ];
    let (sink, summary) = replay(Options::default(), records);
    assert_eq!(sink.chains.len(), 1, "{:#?}", sink.chains);
    let chain = &sink.chains[0];
    assert_eq!(
        shape(chain),
        [s(0, "explorer.exe"), s(1, "mshta.exe"), s(2, "cmd.exe")]
    );
    assert_eq!(chain.nodes[1].sources, [SYSMON_1, SECURITY_4688]);
    assert_eq!(chain.nodes[0].sources, [], "explorer is a ghost");
    assert_eq!(sink.alerts.len(), 1, "{:#?}", sink.alerts);
    assert_eq!(sink.alerts[0].chain, Some(chain.id));
    assert_eq!(sink.alerts[0].pid, Some(100));
    assert_eq!(summary.by_rule.get("Mshta Start"), Some(&1));
    assert_eq!((summary.state.merged, summary.alerts), (1, 1));
    assert_eq!((summary.chains, summary.alerted_chains), (1, 1));
}

#[test]
fn a_4688_read_before_its_sysmon_1_merges_and_the_guid_links_the_child() {
    let security = json!({"Image": MSHTA, "ProcessId": 100, "ParentProcessId": 50,
        "ParentImage": EXPLORER});
    let mut sysmon = start(Some("H"), 0, 100, MSHTA, 50, EXPLORER);
    let guid = "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}";
    sysmon
        .event
        .fields
        .insert("ProcessGuid".into(), json!(guid));
    // The child names its parent by GUID only (a pid of 0 links nothing).
    let mut child = start(Some("H"), 2, 101, CMD, 0, MSHTA);
    child
        .event
        .fields
        .insert("ParentProcessGuid".into(), json!(guid));
    let records = vec![
        record(
            SECURITY_4688,
            Category::ProcessCreation,
            Some("H"),
            0,
            security,
        ),
        sysmon,
        child,
    ];
    let (sink, summary) = replay(Options::default(), records);
    assert_eq!(sink.chains.len(), 1, "{:#?}", sink.chains);
    let chain = &sink.chains[0];
    assert_eq!(
        shape(chain),
        [s(0, "explorer.exe"), s(1, "mshta.exe"), s(2, "cmd.exe")]
    );
    assert_eq!(chain.nodes[1].sources, [SECURITY_4688, SYSMON_1]);
    assert_eq!(
        chain.nodes[1].command_line.as_deref(),
        Some("C:\\Windows\\System32\\mshta.exe run")
    );
    assert_eq!((summary.state.merged, summary.alerts), (1, 1));
}

#[test]
fn the_same_pids_on_two_hosts_stay_apart() {
    let hosts = [Some("ws1"), Some("ws2"), None];
    let mut records = Vec::new();
    for (i, host) in hosts.iter().enumerate() {
        let parent = ["/usr/bin/bash", "/usr/bin/python3", "/usr/bin/perl"][i];
        records.push(start(*host, i as i64, 10, parent, 1, "/sbin/init"));
    }
    for (i, host) in hosts.iter().enumerate() {
        let parent = ["/usr/bin/bash", "/usr/bin/python3", "/usr/bin/perl"][i];
        let mut m = start(*host, 5 + i as i64, 11, "/usr/bin/id", 10, parent);
        // NXLog names the host `Hostname`; the reader puts it in `host`.
        if let Some(h) = host {
            m.event.fields.insert("Hostname".into(), json!(h));
        }
        records.push(m);
    }
    let (sink, summary) = replay(Options::default(), records);
    let mut got: Vec<(Option<String>, Shape)> = sink
        .chains
        .iter()
        .map(|c| (c.host.clone(), shape(c)))
        .collect();
    got.sort();
    let chain = |host: Option<&str>, parent: &str| {
        let nodes = vec![s(0, "init"), s(1, parent), s(2, "id")];
        (host.map(str::to_string), nodes)
    };
    assert_eq!(
        got,
        [
            chain(None, "perl"),
            chain(Some("ws1"), "bash"),
            chain(Some("ws2"), "python3"),
        ]
    );
    assert_eq!(summary.state.parent_mismatch, 0);
}

#[test]
fn a_pid_reused_after_its_process_ended_is_a_new_node() {
    let ends = [
        (
            Origin {
                provider: "sysmon",
                id: Some(5),
            },
            json!(20),
        ),
        (
            Origin {
                provider: "security",
                id: Some(4689),
            },
            json!("0x14"),
        ),
    ];
    for (origin, pid) in ends {
        let end = json!({"ProcessId": pid, "Image": "/usr/bin/bash"});
        let records = vec![
            start(None, 0, 20, "/usr/bin/bash", 1, "/sbin/init"),
            start(None, 1, 21, "/usr/bin/ls", 20, "/usr/bin/bash"),
            record(origin, Category::Other, None, 2, end),
            // Same pid and image, another log, within the merge window:
            // only the end record tells it is another process.
            {
                let mut m = start(None, 3, 20, "/usr/bin/bash", 1, "/sbin/init");
                m.origin = SECURITY_4688;
                m
            },
            start(None, 4, 22, "/usr/bin/id", 20, "/usr/bin/bash"),
        ];
        let (sink, summary) = replay(Options::default(), records);
        assert_eq!(sink.chains.len(), 1, "{origin}");
        assert_eq!(
            shape(&sink.chains[0]),
            [
                s(0, "init"),
                s(1, "bash"),
                s(2, "ls"),
                s(1, "bash"),
                s(2, "id")
            ],
            "{origin}"
        );
        assert_eq!(summary.state.merged, 0, "{origin}");
        assert_eq!(summary.state.late, 0, "{origin}");
    }
}

#[test]
fn a_pid_link_to_a_parent_of_another_image_is_refused_for_a_ghost() {
    let records = vec![
        start(None, 0, 30, "/usr/bin/bash", 1, "/sbin/init"),
        start(None, 1, 31, "/usr/bin/sh", 30, "/usr/bin/python3"),
        // Case and folder differ, the file is the same: linked.
        start(None, 2, 32, "/usr/bin/id", 30, "/bin/BASH"),
    ];
    let (sink, summary) = replay(Options::default(), records);
    let mut shapes: Vec<Shape> = sink.chains.iter().map(shape).collect();
    shapes.sort();
    assert_eq!(
        shapes,
        [
            vec![s(0, "init"), s(1, "bash"), s(2, "id")],
            vec![s(0, "python3"), s(1, "sh")],
        ]
    );
    assert_eq!(summary.state.parent_mismatch, 1);
    assert_eq!(summary.state.ghosts, 2, "init and python3");
}

#[test]
fn an_idle_tree_closes_after_the_horizon_of_event_time() {
    let rules = rules();
    let options = Options {
        horizon: Duration::from_secs(60),
        ..Options::default()
    };
    let mut session = Session::new(&rules, options);
    let mut sink = Collect::default();
    session.push(start(None, 0, 40, MSHTA, 1, EXPLORER), &mut sink);
    session.push(start(None, 30, 41, CMD, 40, MSHTA), &mut sink);
    session.push(start(None, 89, 50, "C:\\a.exe", 2, "C:\\b.exe"), &mut sink);
    assert!(sink.chains.is_empty(), "59 s idle is within the horizon");
    session.push(start(None, 91, 51, "C:\\c.exe", 2, "C:\\d.exe"), &mut sink);
    assert_eq!(sink.chains.len(), 1, "61 s idle closes it");
    assert_eq!(
        shape(&sink.chains[0]),
        [s(0, "explorer.exe"), s(1, "mshta.exe"), s(2, "cmd.exe")]
    );
    assert_eq!(sink.alerts.len(), 1, "its alert is released with it");
    assert_eq!(sink.alerts[0].chain, Some(sink.chains[0].id));
    assert_eq!(session.open(), 4, "the two later pairs stay open");
    let summary = session.finish(&mut sink);
    assert_eq!((summary.state.expired, summary.chains), (1, 3));
    let ids: Vec<u64> = sink.chains.iter().map(|c| c.id).collect();
    assert_eq!(ids, [1, 2, 3], "ids are unique, in closing order");
}

#[test]
fn past_the_open_cap_the_least_recently_active_trees_are_evicted() {
    let options = Options {
        max_open: 4,
        ..Options::default()
    };
    // Each start has a ghost parent: two nodes per tree.
    let mut records: Vec<Mapped> = (0..5)
        .map(|i| {
            start(
                None,
                i,
                100 + i as u64,
                "C:\\a.exe",
                9000 + i as u64,
                "C:\\p.exe",
            )
        })
        .collect();
    // A child of the first tree, after the second tree started, makes the
    // first the more recently active.
    records.insert(2, start(None, 1, 200, "C:\\b.exe", 100, "C:\\a.exe"));
    let (sink, summary) = replay(options, records);
    assert_eq!(summary.state.evicted, 3, "{summary:#?}");
    assert_eq!(summary.state.peak_open, 4);
    let first: Vec<Option<u64>> = sink.chains[..2].iter().map(|c| c.nodes[1].pid).collect();
    assert_eq!(first, [Some(101), Some(100)], "least recently active first");
}

#[test]
fn a_file_event_alerts_on_the_process_that_wrote_it_with_its_chain() {
    let rules = rules();
    let mut session = Session::new(&rules, Options::default());
    let mut sink = Collect::default();
    session.push(start(Some("H"), 0, 60, CMD, 1, EXPLORER), &mut sink);
    let file = |pid: u64| json!({"ProcessId": pid, "Image": "C:\\other.exe", "TargetFilename": "C:\\x.doc.lnk"});
    session.push(
        record(SYSMON_1, Category::FileEvent, Some("H"), 1, file(60)),
        &mut sink,
    );
    assert!(sink.alerts.is_empty(), "held until the tree closes");
    session.push(
        record(SYSMON_1, Category::FileEvent, Some("H"), 2, file(61)),
        &mut sink,
    );
    assert_eq!(sink.alerts.len(), 1, "no open process 61: emitted at once");
    assert_eq!(
        (
            sink.alerts[0].chain,
            sink.alerts[0].pid,
            sink.alerts[0].image.as_deref()
        ),
        (None, Some(61), Some("C:\\other.exe"))
    );
    session.finish(&mut sink);
    let chain = &sink.chains[0];
    let a = &sink.alerts[1];
    assert_eq!((a.title.as_str(), a.chain), ("Lnk Written", Some(chain.id)));
    assert_eq!((a.pid, a.image.as_deref()), (Some(60), Some(CMD)));
    assert_eq!(chain.nodes[1].alerts, ["Lnk Written"]);
    assert_eq!(a.logsource, "windows/file_event");
}

#[test]
fn records_read_out_of_time_order_are_counted_late() {
    let records = vec![
        start(None, 10, 1, "C:\\a.exe", 9, "C:\\p.exe"),
        // Half a second behind: interleaving of two logs, not late.
        {
            let mut m = start(None, 10, 2, "C:\\b.exe", 9, "C:\\p.exe");
            m.event.at = m.event.at.map(|t| t - time::Duration::milliseconds(500));
            m
        },
        start(None, 5, 3, "C:\\c.exe", 9, "C:\\p.exe"),
        // Another input starts its own clock.
        {
            let mut m = start(None, 0, 4, "C:\\d.exe", 9, "C:\\p.exe");
            m.input = 1;
            m
        },
    ];
    let (_, summary) = replay(Options::default(), records);
    assert_eq!(summary.state.late, 1);
}
