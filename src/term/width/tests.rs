use std::ffi::OsStr;

use super::*;

#[test]
fn columns_wins_over_the_terminal_and_nothing_limits_a_pipe() {
    let cases: &[(Option<&str>, Option<usize>, Option<usize>)] = &[
        // COLUMNS set: it wins, terminal or pipe.
        (Some("80"), None, Some(80)),
        (Some("80"), Some(200), Some(80)),
        (Some(" 132 "), None, Some(132)),
        // Unset: the terminal's width, or no limit into a pipe.
        (None, Some(100), Some(100)),
        (None, None, None),
        // Not a positive integer: ignored as if unset.
        (Some("abc"), Some(100), Some(100)),
        (Some("abc"), None, None),
        (Some("0"), None, None),
        (Some("-5"), Some(90), Some(90)),
        (Some(""), None, None),
        (Some("80x"), None, None),
        // Narrower than MIN is raised to MIN.
        (Some("10"), None, Some(MIN)),
        (None, Some(3), Some(MIN)),
    ];
    for &(env, terminal, want) in cases {
        assert_eq!(
            decide(env.map(OsStr::new), terminal),
            want,
            "COLUMNS={env:?} terminal={terminal:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_columns_that_is_not_unicode_is_ignored() {
    use std::os::unix::ffi::OsStrExt;
    assert_eq!(decide(Some(OsStr::from_bytes(b"8\xff0")), None), None);
}

fn widest(text: &str) -> usize {
    text.lines().map(display_width).max().unwrap_or(0)
}

#[test]
fn a_fitted_table_is_no_wider_than_asked_and_keeps_every_word() {
    let mut b = tabled::builder::Builder::default();
    b.push_record(["scenario", "title"]);
    b.push_record([
        "control-file-manager-editor",
        "Negative control: file manager opens a text file in an editor, a long title indeed",
    ]);
    b.push_record([
        "äöü-wide",
        "日本語のタイトル 日本語のタイトル 日本語のタイトル",
    ]);
    let natural = b.clone().build().to_string();
    assert!(widest(&natural) > 60, "{natural}");
    for width in [60, 80] {
        let mut t = b.clone().build();
        fit(&mut t, Some(width));
        let text = t.to_string();
        assert!(widest(&text) <= width, "{width}:\n{text}");
        // The narrow column is kept whole; the wide one wrapped.
        assert!(text.contains("control-file-manager-editor"), "{text}");
        assert!(text.contains("Negative"), "{text}");
    }
    let mut t = b.build();
    fit(&mut t, None);
    assert_eq!(t.to_string(), natural);
}

#[test]
fn long_lines_wrap_under_their_text_and_short_ones_stay() {
    let text = "title line\n  12. copy the stage program to /tmp/run/program/gedit as a benign stand-in that opens its arguments\n  note: a warning that is long enough to be wrapped at forty columns\nlast";
    let out = wrap_lines(text, Some(40));
    assert!(widest(&out) <= 40, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "title line");
    assert!(lines[1].starts_with("  12. copy the stage"), "{out}");
    assert!(
        lines[2].starts_with("      ") && !lines[2].starts_with("       "),
        "{out}"
    );
    assert!(out.contains("  note: a warning"), "{out}");
    assert!(out.ends_with("\nlast"), "{out:?}");
    // The words are all there, in order.
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(words(&out), words(text));
    assert_eq!(wrap_lines(text, None), text);
    assert_eq!(wrap_lines("short\n", Some(40)), "short\n");
}
