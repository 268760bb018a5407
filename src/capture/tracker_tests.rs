//! Scenario tests of lineage, relatedness, merging and pruning, on synthetic events.
//!
//! Clocks are fixed so that connector nanoseconds are wall nanoseconds and a /proc tick is
//! 10 ms; times below are in milliseconds.

use super::*;
use crate::capture::Observed;
use crate::capture::procfs::Status;
use crate::capture::report;

const MS: u64 = 1_000_000;

#[derive(Debug, Clone, Copy)]
enum Op {
    Fork(u32, u32, u64),
    /// pid, ms, image, token
    Exec(u32, u64, &'static str, bool),
    Exit(u32, u64),
    Root(u32),
    /// pid, ppid, start in ms (rounded down to a tick), token, image
    Scan(u32, u32, u64, bool, &'static str),
    Gone(u32, u64, u64),
    Prune(u64),
}

/// What an exec-time read gives; an empty image stands for a read that lost the race.
fn details(image: &str, token: bool) -> Details {
    let read = Some(image.to_owned()).filter(|i| !i.is_empty());
    Details {
        image: read.clone(),
        argv: read.map(|i| vec![i]),
        has_token: token,
        status: Status {
            euid: Some(0),
            ppid: None,
        },
        cwd: Some("/".to_owned()),
        stat: None,
    }
}

fn run(ops: &[Op]) -> (Tracker, Vec<Observed>) {
    let mut t = Tracker::new(Clocks::fixed(0, 0, 10 * i128::from(MS)));
    t.connector_active = true;
    for &op in ops {
        match op {
            Op::Fork(p, c, ms) => t.fork(p, c, ms * MS),
            Op::Exec(pid, ms, image, token) => t.exec(pid, ms * MS, details(image, token)),
            Op::Exit(pid, ms) => t.exit(pid, 0, ms * MS),
            Op::Root(pid) => t.add_root(pid, None),
            Op::Scan(pid, ppid, ms, token, image) => {
                let stat = Stat {
                    ppid,
                    start_ticks: ms / 10,
                };
                let details = Some(details(image, token)).filter(|_| !image.is_empty());
                let item = ScanItem {
                    pid,
                    stat,
                    token,
                    details,
                };
                t.scanned(item, i128::from(ms * MS));
            }
            Op::Gone(pid, start_ms, ms) => t.scan_gone(pid, start_ms / 10, i128::from(ms * MS)),
            Op::Prune(ms) => t.prune(i128::from(ms * MS)),
        }
    }
    let observed = report::observed(&t);
    (t, observed)
}

/// (pid, ppid, image) of each observed process, in report order.
fn summary(observed: &[Observed]) -> Vec<(u32, u32, Option<&str>)> {
    observed
        .iter()
        .map(|o| (o.pid, o.ppid, o.image.as_deref()))
        .collect()
}

#[test]
fn lineage_scenarios() {
    use Op::*;
    type Case<'a> = (&'a str, Vec<Op>, Vec<(u32, u32, Option<&'a str>)>);
    let cases: Vec<Case> = vec![
        (
            "token process and its child without the token",
            vec![
                Fork(100, 200, 1),
                Exec(200, 2, "/bin/sh", true),
                Fork(200, 201, 3),
                Exec(201, 4, "/bin/true", false),
                Exit(201, 5),
                Exit(200, 6),
            ],
            vec![(200, 100, Some("/bin/sh")), (201, 200, Some("/bin/true"))],
        ),
        (
            "double fork keeps the parent at fork time; the subshell inherits the image",
            vec![
                Fork(1, 300, 1),
                Exec(300, 2, "/bin/sh", false),
                Root(300),
                Fork(300, 301, 3),
                Fork(301, 302, 4),
                Exit(301, 5),
                Exec(302, 6, "/bin/sleep", false),
            ],
            vec![
                (300, 1, Some("/bin/sh")),
                (301, 300, Some("/bin/sh")),
                (302, 301, Some("/bin/sleep")),
            ],
        ),
        (
            "unrelated processes are left out",
            vec![
                Fork(1, 400, 1),
                Exec(400, 2, "/usr/bin/cron", false),
                Exit(400, 3),
            ],
            vec![],
        ),
        (
            "a reused pid is a new, unrelated process",
            vec![
                Fork(1, 500, 1),
                Exec(500, 2, "/bin/a", true),
                Fork(500, 501, 3),
                Exit(501, 4),
                Exit(500, 5),
                Fork(1, 501, 6),
                Exec(501, 7, "/bin/b", false),
                Fork(1, 500, 8),
                Exec(500, 9, "/bin/c", false),
            ],
            vec![(500, 1, Some("/bin/a")), (501, 500, Some("/bin/a"))],
        ),
        (
            "a root added after its children forked still takes them",
            vec![
                Fork(1, 700, 1),
                Exec(700, 2, "/bin/sh", false),
                Fork(700, 701, 3),
                Exec(701, 4, "/bin/id", false),
                Exit(701, 5),
                Root(700),
            ],
            vec![(700, 1, Some("/bin/sh")), (701, 700, Some("/bin/id"))],
        ),
        (
            "a root for a pid not seen yet applies when it appears",
            vec![Root(750), Fork(1, 750, 1), Exec(750, 2, "/bin/x", false)],
            vec![(750, 1, Some("/bin/x"))],
        ),
        (
            "a root added after its unreadable child exited (not yet reaped)",
            vec![
                Fork(1, 760, 1),
                Exec(760, 2, "", false),
                Exit(760, 3),
                Root(760),
                Fork(1, 761, 4),
            ],
            vec![(760, 1, None)],
        ),
        (
            "a subshell forked before its parent's next exec keeps the old image",
            vec![
                Fork(1, 900, 1),
                Exec(900, 2, "/bin/sh", true),
                Fork(900, 901, 3),
                Exec(900, 4, "/bin/sleep", true),
            ],
            vec![(900, 1, Some("/bin/sleep")), (901, 900, Some("/bin/sh"))],
        ),
        (
            "scanner only: token process and a child found by its /proc parent",
            vec![
                Scan(1000, 1, 10, true, "/bin/sh"),
                Scan(1001, 1000, 20, false, ""),
            ],
            vec![(1000, 1, Some("/bin/sh")), (1001, 1000, Some("/bin/sh"))],
        ),
    ];
    for (name, ops, want) in cases {
        let (_, observed) = run(&ops);
        assert_eq!(summary(&observed), want, "{name}");
    }
}

#[test]
fn scanner_and_connector_merge_into_one_instance() {
    use Op::*;
    // The scanner reads the child (start 20 ms, tick-rounded) before the fork event arrives.
    let (_, observed) = run(&[
        Scan(800, 1, 20, true, "/bin/sh"),
        Fork(1, 800, 23),
        Exec(800, 24, "/bin/sh", true),
        Exit(800, 30),
    ]);
    assert_eq!(observed.len(), 1, "{observed:#?}");
    let o = &observed[0];
    assert!(o.ppid_from_fork);
    assert_eq!(o.started_unix_ns, Some(i128::from(23 * MS)));
    assert_eq!(o.exec_unix_ns, Some(i128::from(24 * MS)));
    assert_eq!(o.exited_unix_ns, Some(i128::from(30 * MS)));
    assert_eq!(o.exit_code, Some(0));
    assert_eq!(o.user.as_deref(), Some("root"));
    assert!(o.earlier_execs.is_empty(), "{o:#?}");
    assert_eq!(
        o.sources,
        BTreeSet::from([Source::ProcConnector, Source::ProcScan])
    );
}

#[test]
fn scanner_does_not_merge_a_different_start_time() {
    use Op::*;
    let (_, observed) = run(&[
        Fork(1, 810, 1),
        Exec(810, 2, "/bin/a", true),
        // Same pid, started 5 s later: a new process whose exit we missed the old one's.
        Scan(810, 1, 5000, true, "/bin/b"),
    ]);
    assert_eq!(
        summary(&observed),
        vec![(810, 1, Some("/bin/a")), (810, 1, Some("/bin/b"))]
    );
    assert_eq!(observed[0].exited_unix_ns, Some(i128::from(5000 * MS)));
}

#[test]
fn exec_history_and_scanner_gone_time() {
    use Op::*;
    let (_, observed) = run(&[
        Fork(1, 820, 1),
        Exec(820, 2, "/bin/sh", true),
        Exec(820, 3, "/bin/sleep", true),
        Gone(820, 1, 50),
    ]);
    let o = &observed[0];
    assert_eq!(o.image.as_deref(), Some("/bin/sleep"));
    assert_eq!(o.earlier_execs.len(), 1);
    assert_eq!(o.earlier_execs[0].image.as_deref(), Some("/bin/sh"));
    assert_eq!(o.exited_unix_ns, Some(i128::from(50 * MS)));
    assert_eq!(o.exit_code, None);
}

#[test]
fn pruning_drops_only_old_unrelated_entries() {
    use Op::*;
    let (t, observed) = run(&[
        Fork(1, 1100, 1),
        Exec(1100, 2, "/bin/unrelated", false),
        Exit(1100, 3),
        Fork(1, 1200, 4),
        Exec(1200, 5, "/bin/chain", true),
        Fork(1200, 1201, 6),
        Exit(1201, 7),
        Exit(1200, 8),
        Fork(1, 1300, 40_000),
        Prune(40_000),
    ]);
    let pids: BTreeSet<u32> = t.entries.values().map(|e| e.pid).collect();
    // pid 1 is a live bare entry, 1300 is live: both stay; 1100 is gone.
    assert_eq!(pids, BTreeSet::from([1, 1200, 1201, 1300]));
    assert_eq!(
        summary(&observed),
        vec![
            (1200, 1, Some("/bin/chain")),
            (1201, 1200, Some("/bin/chain"))
        ]
    );
}

#[test]
fn wanted_lists_live_related_processes_without_details() {
    let mut t = Tracker::new(Clocks::fixed(0, 0, 10 * i128::from(MS)));
    t.fork(1, 1400, MS);
    t.add_root(1400, None);
    t.fork(1, 1500, MS);
    t.exec(1500, 2 * MS, details("/bin/x", true));
    t.exec(1600, 2 * MS, Details::default());
    assert_eq!(t.wanted(), vec![1400]);
}
