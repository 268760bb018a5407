use std::collections::BTreeSet;

use super::*;
use crate::capture::{Observed, Source};
use crate::stage::{StageChild, StageReport};

fn observed(pid: u32, ppid: u32, image: &str, argv: &[&str], ns: i128) -> Observed {
    Observed {
        pid,
        ppid,
        image: Some(image.into()),
        argv: Some(argv.iter().map(|s| s.to_string()).collect()),
        uid: Some(0),
        user: Some("root".into()),
        started_unix_ns: Some(ns),
        sources: BTreeSet::from([Source::ProcConnector]),
        ..Observed::default()
    }
}

#[test]
fn globs() {
    for (p, n, want) in [
        ("soffice.bin", "soffice.bin", true),
        ("python3*", "python3.11", true),
        ("Setup-*", "Setup-cp0123456789", true),
        ("Setup-*.exe", "Setup-cp1.exe", true),
        ("Setup-*.exe", "Setup-cp1", false),
        ("*", "", true),
        ("soffice.bin", "soffice", false),
    ] {
        assert_eq!(glob(p, n), want, "{p} vs {n}");
    }
}

#[test]
fn merge_joins_sources_and_fills_the_gaps_of_each() {
    let stage = StageReport {
        pid: 100,
        ppid: 1,
        exe: "/w/program/soffice.bin".into(),
        argv: vec!["soffice.bin".into(), "--writer".into(), "/w/a.odt".into()],
        uid: 0,
        cwd: None,
        started_unix_ns: 1_000,
        instruction: Some("odt-macro".into()),
        child: Some(StageChild {
            pid: 101,
            argv: vec!["/bin/sh".into(), "-c".into(), "x".into()],
            started_unix_ns: 2_000,
            exit_code: Some(0),
        }),
        error: None,
        wrote: Vec::new(),
    };
    // The connector saw the shell and its child, but not the stage program.
    let seen = vec![
        observed(101, 100, "/usr/bin/dash", &["/bin/sh", "-c", "x"], 2_100),
        observed(102, 101, "/usr/bin/touch", &["/usr/bin/touch", "p"], 3_000),
    ];
    let all = merge(seen, &[stage]);
    let pids: Vec<u32> = all.iter().map(|p| p.pid).collect();
    assert_eq!(pids, [100, 101, 102]);
    assert_eq!(all[0].sources, ["stage-report"]);
    assert_eq!(all[0].image.as_deref(), Some("/w/program/soffice.bin"));
    assert_eq!(all[1].sources, ["proc-connector", "stage-report"]);
    assert_eq!(
        all[1].image.as_deref(),
        Some("/usr/bin/dash"),
        "the kernel's image wins over the stage's guess"
    );
    assert_eq!(all[2].command_line.as_deref(), Some("/usr/bin/touch p"));
}

#[test]
fn hops_follow_parent_links_and_explain_what_is_missing() {
    let procs = merge(
        vec![
            observed(
                10,
                1,
                "/w/program/soffice.bin",
                &["soffice.bin", "a.odt"],
                1,
            ),
            observed(11, 10, "/usr/bin/dash", &["/bin/sh", "-c", "touch p"], 2),
            // A dash that is not a child of the opener must not be taken.
            observed(20, 1, "/usr/bin/touch", &["/usr/bin/touch", "p"], 3),
        ],
        &[],
    );
    let chain = vec![
        vec!["/bin/sh".to_string(), "-c".into(), "touch p".into()],
        vec!["/usr/bin/touch".to_string(), "p".into()],
    ];
    let hops = hops(
        "a.odt",
        None,
        None,
        OpenerMatch::Pid(10, "soffice.bin"),
        &chain,
        &procs,
    );
    assert_eq!(hops.len(), 4);
    assert!(!hops[0].happened && hops[0].reason.is_some());
    assert_eq!((hops[1].pid, hops[1].happened), (Some(10), true));
    assert_eq!((hops[2].pid, hops[2].parent_pid), (Some(11), Some(10)));
    assert!(!hops[3].happened);
    assert!(
        hops[3]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("pid 11")),
        "{:?}",
        hops[3].reason
    );
    let by_image = hops_of_image(&procs);
    assert_eq!(by_image.pid, Some(10));
}

fn hops_of_image(procs: &[crate::record::ProcessTruth]) -> crate::record::HopTruth {
    hops("a", None, None, OpenerMatch::Image("soffice.*"), &[], procs).remove(1)
}

#[test]
fn a_shell_that_execs_its_command_in_place_realises_two_hops() {
    let mut sh = observed(11, 10, "/usr/bin/touch", &["/usr/bin/touch", "p"], 2);
    sh.earlier_execs = vec![crate::capture::EarlierExec {
        image: Some("/usr/bin/dash".into()),
        argv: Some(vec![
            "/bin/sh".into(),
            "-c".into(),
            "/usr/bin/touch p".into(),
        ]),
        unix_ns: Some(2),
    }];
    let procs = merge(
        vec![
            observed(
                10,
                1,
                "/w/program/soffice.bin",
                &["soffice.bin", "a.odt"],
                1,
            ),
            sh,
        ],
        &[],
    );
    let chain = vec![
        vec![
            "/bin/sh".to_string(),
            "-c".into(),
            "/usr/bin/touch p".into(),
        ],
        vec!["/usr/bin/touch".to_string(), "p".into()],
    ];
    let hops = hops(
        "a.odt",
        None,
        None,
        OpenerMatch::Pid(10, "soffice.bin"),
        &chain,
        &procs,
    );
    assert_eq!(
        (hops[2].pid, hops[2].parent_pid, hops[2].image.as_deref()),
        (Some(11), Some(10), Some("/usr/bin/dash"))
    );
    assert_eq!(
        (hops[3].pid, hops[3].parent_pid, hops[3].image.as_deref()),
        (Some(11), Some(11), Some("/usr/bin/touch"))
    );
    // Telemetry has one event per exec, each with the parent as it was at fork.
    let events: Vec<_> = procs
        .iter()
        .flat_map(|p| {
            let parent = procs.iter().find(|q| q.pid == p.ppid);
            crate::telemetry::exec_views(p)
                .into_iter()
                .map(move |e| crate::telemetry::process_event(p, e, parent, None))
        })
        .filter(|e| e.fields.get("ProcessId").and_then(|v| v.as_u64()) == Some(11))
        .collect();
    let images: Vec<&str> = events
        .iter()
        .filter_map(|e| e.fields.get("Image").and_then(|v| v.as_str()))
        .collect();
    assert_eq!(images, ["/usr/bin/dash", "/usr/bin/touch"]);
    assert!(
        events
            .iter()
            .all(|e| e.fields.get("ParentImage").and_then(|v| v.as_str())
                == Some("/w/program/soffice.bin"))
    );
}

#[test]
fn a_child_gone_before_its_image_was_read_is_the_step_not_a_block() {
    let opener = observed(10, 1, "/w/program/soffice.bin", &["soffice.bin"], 1);
    let shell = observed(11, 10, "/usr/bin/dash", &["/bin/sh", "-c", "touch p"], 2);
    // The connector saw the fork and the exec; /proc was empty by then.
    let unread = |pid| Observed {
        image: None,
        argv: None,
        ..observed(pid, 11, "-", &[], 3)
    };
    let chain = vec![
        vec!["/bin/sh".to_string(), "-c".into(), "touch p".into()],
        vec!["/usr/bin/touch".to_string(), "p".into()],
    ];
    let of = |seen: Vec<Observed>| {
        let procs = merge(seen, &[]);
        hops(
            "a",
            None,
            None,
            OpenerMatch::Pid(10, "soffice.bin"),
            &chain,
            &procs,
        )
        .remove(3)
    };
    let one = of(vec![opener.clone(), shell.clone(), unread(12)]);
    assert_eq!((one.happened, one.pid, one.image), (true, Some(12), None));
    assert!(
        one.reason
            .as_deref()
            .is_some_and(|r| r.contains("pid 12 exited before its image could be read")),
        "{:?}",
        one.reason
    );
    // Two unread children: which one was the step is not known, so none is taken.
    let two = of(vec![opener.clone(), shell.clone(), unread(12), unread(13)]);
    assert!(!two.happened, "{two:?}");
    // A named child wins over an unread one.
    let touch = observed(14, 11, "/usr/bin/touch", &["/usr/bin/touch", "p"], 4);
    let named = of(vec![opener, shell, unread(12), touch]);
    assert_eq!((named.pid, named.reason), (Some(14), None));
}

#[test]
fn windows_paths_match_whatever_their_case_and_unix_ones_do_not() {
    let opener = observed(10, 1, r"C:\w\program\WINWORD.EXE", &["WINWORD.EXE"], 1);
    // Wine's process table: an empty image (unknown) and the command line
    // with Wine's spelling of the system folder.
    let unread = Observed {
        image: None,
        ..observed(11, 10, "-", &[r"C:\windows\system32\cmd.exe", "/c", "x"], 2)
    };
    let lower_image = observed(11, 10, r"C:\windows\system32\CMD.EXE", &["cmd"], 2);
    let chain = vec![vec![
        r"C:\Windows\System32\cmd.exe".to_string(),
        "/c".into(),
        "x".into(),
    ]];
    let hop = |seen: Vec<Observed>| {
        let procs = merge(seen, &[]);
        hops(
            "a",
            None,
            None,
            OpenerMatch::Pid(10, "WINWORD.EXE"),
            &chain,
            &procs,
        )
        .remove(2)
    };
    let by_line = hop(vec![opener.clone(), unread]);
    assert_eq!(
        (by_line.happened, by_line.pid),
        (true, Some(11)),
        "{by_line:?}"
    );
    let by_image = hop(vec![opener, lower_image]);
    assert_eq!(
        (by_image.happened, by_image.pid),
        (true, Some(11)),
        "{by_image:?}"
    );

    // A Linux file name keeps its case.
    assert!(!same_name("Touch", "touch"));
    assert!(same_name("findstr.exe", "FINDSTR.EXE"));
    assert!(!windows_same("/usr/bin/TOUCH", "/usr/bin/touch"));
}

#[test]
fn a_pid_reused_before_the_stage_report_is_the_reports_process() {
    // The table saw an earlier process under pid 20, then the stage
    // program started its child, which Windows gave pid 20 again.
    let earlier = observed(
        20,
        1,
        r"Z:\bin\chainproof.exe",
        &[r"Z:\bin\chainproof.exe"],
        1,
    );
    let stage = StageReport {
        pid: 10,
        ppid: 1,
        exe: r"C:\w\program\AcroRd32.exe".into(),
        argv: vec![r"C:\w\program\AcroRd32.exe".into(), r"C:\w\a.pdf".into()],
        uid: 0,
        cwd: None,
        started_unix_ns: 2,
        instruction: None,
        child: Some(StageChild {
            pid: 20,
            argv: vec![r"C:\w\program\msedge.exe".into(), "https://x".into()],
            started_unix_ns: 3,
            exit_code: Some(0),
        }),
        error: None,
        wrote: Vec::new(),
    };
    let procs = merge(vec![earlier], std::slice::from_ref(&stage));
    let child = procs
        .iter()
        .find(|p| p.pid == 20)
        .map(|p| p.command_line.clone());
    assert_eq!(
        child,
        Some(Some(r"C:\w\program\msedge.exe https://x".to_string()))
    );
    // The same program under its pid (a Linux shell that exec'd in place,
    // a symlinked image) is kept, with what the capture read.
    let sh = Observed {
        earlier_execs: vec![crate::capture::EarlierExec {
            image: Some("/usr/bin/dash".into()),
            argv: Some(vec!["/bin/sh".into(), "-c".into(), "touch p".into()]),
            unix_ns: Some(3),
        }],
        ..observed(20, 10, "/usr/bin/touch", &["/usr/bin/touch", "p"], 3)
    };
    let mut linux = stage;
    if let Some(c) = linux.child.as_mut() {
        c.argv = vec!["/bin/sh".into(), "-c".into(), "touch p".into()];
    }
    let procs = merge(vec![sh], &[linux]);
    let kept = procs.iter().find(|p| p.pid == 20);
    assert_eq!(
        kept.and_then(|p| p.image.as_deref()),
        Some("/usr/bin/touch")
    );
}
