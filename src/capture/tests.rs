//! Live captures of real processes. Tests that need the process connector (root before
//! Linux 6.6, anyone since) fail without it under CI (env `CI` set) and skip elsewhere.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::*;

/// A token unique to this test process and call.
fn token() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("cptest{:x}x{n}", std::process::id())
}

fn find(report: &CaptureReport, pred: impl Fn(&Observed) -> bool) -> Option<&Observed> {
    report.processes.iter().find(|o| pred(o))
}

fn argv0_is(o: &Observed, want: &str) -> bool {
    o.argv
        .as_ref()
        .and_then(|a| a.first())
        .is_some_and(|a| a == want)
}

/// Whether the process connector is usable here; panics under CI when it is not.
fn have_connector(capture: &Capture) -> bool {
    crate::testing::require(
        capture.sources().contains(&Source::ProcConnector),
        "the process connector (root on kernels before 6.6)",
    )
}

/// Runs `sh -c "/bin/true <token>; /bin/sleep 0.2"` (and an unrelated `/bin/true`) under a
/// capture; returns sh's pid, the unrelated pid and the report, or `None` without connector.
fn capture_sh_and_true() -> Result<Option<(u32, u32, String, CaptureReport)>, std::io::Error> {
    let token = token();
    let capture = Capture::start(&token);
    if !have_connector(&capture) {
        return Ok(None);
    }
    let mut stranger = Command::new("/bin/true").spawn()?;
    let mut sh = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("/bin/true {token}; /bin/sleep 0.2"))
        .env("CHAINPROOF_TOKEN", &token)
        .spawn()?;
    let status = sh.wait()?;
    stranger.wait()?;
    assert!(status.success());
    Ok(Some((sh.id(), stranger.id(), token, capture.stop())))
}

#[test]
fn connector_captures_a_short_child_with_its_parent() -> Result<(), std::io::Error> {
    const TEST: &str = "connector_captures_a_short_child_with_its_parent";
    // Lineage and times come from kernel events and must be right every time. Image and argv
    // are read from /proc after the exec event: `true` lives well under a millisecond, and on
    // a loaded machine that read can lose, so it must succeed in one of a few attempts.
    for attempt in 1..=3 {
        let Some((sh_pid, stranger, token, report)) = capture_sh_and_true()? else {
            return Ok(());
        };
        let sh = find(&report, |o| o.pid == sh_pid)
            .cloned()
            .unwrap_or_default();
        assert_eq!(sh.pid, sh_pid, "sh missing: {report:#?}");
        assert_eq!(sh.ppid, std::process::id());
        assert!(sh.ppid_from_fork && sh.exited_unix_ns.is_some());
        assert_eq!(sh.exit_code, Some(0));
        assert!(sh.argv.iter().flatten().any(|a| a.contains(&token)));
        assert!(
            find(&report, |o| o.pid == stranger).is_none(),
            "{report:#?}"
        );
        assert!(report.processes.iter().all(|o| o.pid != std::process::id()));

        // The report is in start order: sh's first child is `true`.
        let tru = find(&report, |o| o.ppid == sh_pid)
            .cloned()
            .unwrap_or_default();
        assert_eq!(tru.ppid, sh_pid, "true missing: {report:#?}");
        assert!(tru.ppid_from_fork && tru.sources.contains(&Source::ProcConnector));
        assert!(tru.started_unix_ns <= tru.exec_unix_ns && tru.exec_unix_ns <= tru.exited_unix_ns);
        assert!(
            tru.exec_unix_ns.is_some() && tru.exit_code == Some(0),
            "{tru:#?}"
        );
        if tru.argv.is_none() {
            eprintln!("{TEST}: attempt {attempt}: the /proc read after exec lost the race");
            continue;
        }
        assert!(argv0_is(&tru, "/bin/true"), "{tru:#?}");
        assert!(tru.argv.iter().flatten().any(|a| a == &token));
        assert!(tru.image.as_deref().is_some_and(|i| i.ends_with("/true")));
        assert_eq!(tru.uid, Some(nix::unistd::geteuid().as_raw()));
        return Ok(());
    }
    panic!("{TEST}: image and argv of `true` were never read");
}

#[test]
fn descendants_of_a_root_survive_a_double_fork() -> Result<(), std::io::Error> {
    let capture = Capture::start(&token());
    if !have_connector(&capture) {
        return Ok(());
    }
    // No token anywhere: only add_root ties these processes to the run.
    let mut sh = Command::new("/bin/sh")
        .arg("-c")
        .arg("( /bin/sleep 0.3 & ) ; exit 0")
        .env_remove("CHAINPROOF_TOKEN")
        .spawn()?;
    capture.add_root(sh.id());
    sh.wait()?;
    std::thread::sleep(Duration::from_millis(500));
    let report = capture.stop();

    let sleep = find(&report, |o| argv0_is(o, "/bin/sleep"));
    assert!(sleep.is_some(), "sleep missing: {report:#?}");
    let sleep = sleep.cloned().unwrap_or_default();
    // Re-parented to 1 (or a subreaper) at exit; the fork-time parent is the subshell.
    assert!(sleep.ppid_from_fork);
    assert_ne!(sleep.ppid, 1);
    let subshell = find(&report, |o| o.pid == sleep.ppid);
    assert!(subshell.is_some(), "subshell missing: {report:#?}");
    assert_eq!(subshell.map(|o| o.ppid), Some(sh.id()));
    assert!(subshell.is_some_and(
        |o| o.image == find(&report, |p| p.pid == sh.id()).and_then(|p| p.image.clone())
    ));
    assert_eq!(sleep.exit_code, Some(0));
    Ok(())
}

#[test]
fn scanner_alone_finds_token_processes() -> Result<(), std::io::Error> {
    let token = token();
    let options = CaptureOptions {
        use_connector: false,
        ..CaptureOptions::default()
    };
    let capture = Capture::start_with(&token, &options);
    assert_eq!(capture.sources(), vec![Source::ProcScan]);
    let mut sh = Command::new("/bin/sh")
        .arg("-c")
        .arg("/bin/sleep 0.3; exit 3")
        .arg(format!("sh-{token}"))
        .env("CHAINPROOF_TOKEN", &token)
        .spawn()?;
    let status = sh.wait()?;
    assert_eq!(status.code(), Some(3));
    std::thread::sleep(Duration::from_millis(50));
    let report = capture.stop();

    assert_eq!(report.sources, vec![Source::ProcScan]);
    let sh_seen = find(&report, |o| o.pid == sh.id());
    assert!(sh_seen.is_some(), "sh missing: {report:#?}");
    assert!(sh_seen.is_some_and(|o| o.argv.iter().flatten().any(|a| a.contains(&token))));
    let sleep = find(&report, |o| argv0_is(o, "/bin/sleep"));
    assert!(sleep.is_some(), "sleep missing: {report:#?}");
    let sleep = sleep.cloned().unwrap_or_default();
    assert_eq!(sleep.ppid, sh.id());
    assert!(!sleep.ppid_from_fork);
    assert_eq!(sleep.sources, BTreeSet::from([Source::ProcScan]));
    assert!(sleep.started_unix_ns.is_some() && sleep.exited_unix_ns.is_some());
    assert_eq!(sleep.uid, Some(nix::unistd::geteuid().as_raw()));
    Ok(())
}

#[test]
fn stop_is_prompt_and_an_idle_capture_is_empty() {
    let started = Instant::now();
    let capture = Capture::start(&token());
    let report = capture.stop();
    assert!(report.processes.is_empty(), "{report:#?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    if report.sources.contains(&Source::ProcConnector) && nix::unistd::geteuid().is_root() {
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    } else {
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.contains("process connector")),
            "{report:?}"
        );
    }
}

#[test]
fn report_round_trips_through_json() -> Result<(), serde_json::Error> {
    let observed = Observed {
        pid: 2,
        ppid: 1,
        image: Some("/bin/true".to_owned()),
        started_unix_ns: Some(1_795_687_247_755_343_347),
        sources: BTreeSet::from([Source::ProcConnector, Source::ProcScan]),
        ..Observed::default()
    };
    let report = CaptureReport {
        processes: vec![observed],
        sources: vec![Source::ProcConnector],
        warnings: vec![],
    };
    let json = serde_json::to_string(&report)?;
    assert!(
        json.contains(r#""sources":["proc-connector","proc-scan"]"#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<CaptureReport>(&json)?, report);
    Ok(())
}
