//! Table-driven tests of the /proc parsers, plus reads of this test process itself.

use super::*;

#[test]
fn cmdline_splits_at_nuls() {
    let cases: &[(&[u8], &[&str])] = &[
        (b"", &[]),
        (b"\0", &[""]),
        (b"/bin/true\0", &["/bin/true"]),
        (b"/bin/sh\0-c\0echo a b\0", &["/bin/sh", "-c", "echo a b"]),
        (b"a\0\0b\0", &["a", "", "b"]),
        // A process that rewrote its argv may drop the final NUL.
        (b"nginx: worker", &["nginx: worker"]),
        (b"bad\xffutf8\0", &["bad\u{fffd}utf8"]),
    ];
    for (raw, want) in cases {
        assert_eq!(parse_cmdline(raw), *want, "{raw:?}");
    }
}

#[test]
fn status_gives_effective_uid_and_ppid() {
    let cases: &[(&str, Status)] = &[
        (
            "Name:\tsh\nPPid:\t42\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
            Status {
                euid: Some(0),
                ppid: Some(42),
            },
        ),
        (
            "Uid:\t1000\t1000\t1000\t1000\n",
            Status {
                euid: Some(1000),
                ppid: None,
            },
        ),
        ("Uid:\t1000\n", Status::default()),
        ("", Status::default()),
        ("PPid:\tx\n", Status::default()),
    ];
    for (text, want) in cases {
        assert_eq!(parse_status(text), *want, "{text:?}");
    }
}

#[test]
fn stat_counts_fields_after_the_last_parenthesis() {
    // Fields 3..=22 after the name; starttime (22) is the 20th of them.
    let tail = "S 7 7 7 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 123456 2048 100";
    let cases: Vec<(String, Option<Stat>)> = vec![
        (
            format!("1234 (sleep) {tail}"),
            Some(Stat {
                ppid: 7,
                start_ticks: 123_456,
            }),
        ),
        (
            format!("1234 (a) b) (c) {tail}"),
            Some(Stat {
                ppid: 7,
                start_ticks: 123_456,
            }),
        ),
        (
            format!("1234 (with space) {tail}"),
            Some(Stat {
                ppid: 7,
                start_ticks: 123_456,
            }),
        ),
        ("1234 (sleep) S 7".to_owned(), None),
        ("no parenthesis at all".to_owned(), None),
        (
            "1 (x) S notanumber 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5".to_owned(),
            None,
        ),
        (String::new(), None),
    ];
    for (text, want) in cases {
        assert_eq!(parse_stat(text.as_bytes()), want, "{text:?}");
    }
}

#[test]
fn token_matcher_needs_the_exact_variable_or_a_substring_of_an_argument() {
    let m = TokenMatcher::new("cp3f9a1c0d7e");
    let env_cases: &[(&[u8], bool)] = &[
        (b"PATH=/bin\0CHAINPROOF_TOKEN=cp3f9a1c0d7e\0", true),
        (b"CHAINPROOF_TOKEN=cp3f9a1c0d7e", true),
        (b"CHAINPROOF_TOKEN=cp3f9a1c0d7eX\0", false),
        (b"CHAINPROOF_TOKEN=other\0", false),
        (b"XCHAINPROOF_TOKEN=cp3f9a1c0d7e\0", false),
        (b"", false),
    ];
    for (environ, want) in env_cases {
        assert_eq!(m.in_environ(environ), *want, "{environ:?}");
    }
    let argv = |args: &[&str]| args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    assert!(m.in_argv(&argv(&["/bin/true", "cp3f9a1c0d7e"])));
    assert!(m.in_argv(&argv(&["sleep-cp3f9a1c0d7e", "1"])));
    assert!(!m.in_argv(&argv(&["/bin/true"])));
    let empty = TokenMatcher::new("");
    assert!(!empty.in_argv(&argv(&["anything"])));
    assert!(!empty.in_environ(b"CHAINPROOF_TOKEN=\0"));
}

#[test]
fn reads_this_process() {
    let me = std::process::id();
    let dir = ProcDir::open(me);
    assert!(dir.is_some(), "/proc/self must be readable");
    let details = read_details(me, &TokenMatcher::new("cp-not-in-this-process"));
    let exe = std::env::current_exe()
        .ok()
        .map(|p| p.to_string_lossy().into_owned());
    assert_eq!(details.image, exe);
    assert_eq!(
        details.argv.as_ref().map(Vec::len),
        Some(std::env::args().count())
    );
    assert!(!details.has_token);
    assert_eq!(details.status.euid, Some(nix::unistd::geteuid().as_raw()));
    assert_eq!(
        details.status.ppid,
        Some(std::os::unix::process::parent_id())
    );
    assert_eq!(details.stat.map(|s| s.ppid), details.status.ppid);
    assert!(details.cwd.is_some());
}

#[test]
fn reading_a_missing_process_gives_nothing() {
    // Above the largest pid_max (2^22), so never a live process.
    assert_eq!(
        read_details(5_000_000, &TokenMatcher::new("x")),
        Details::default()
    );
}
