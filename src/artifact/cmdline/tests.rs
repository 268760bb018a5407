use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

fn argv(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn windows_join_quotes_per_msvcrt_rules() {
    let cases: &[(&[&str], &str)] = &[
        (&[], ""),
        (&["prog.exe"], "prog.exe"),
        (
            &["C:\\Program Files\\x.exe", "a"],
            "\"C:\\Program Files\\x.exe\" a",
        ),
        (&["p", ""], "p \"\""),
        (&["p", "a b"], "p \"a b\""),
        (&["p", "tab\there"], "p \"tab\there\""),
        (&["p", "say \"hi\""], "p \"say \\\"hi\\\"\""),
        (&["p", "C:\\dir\\"], "p C:\\dir\\"),
        (&["p", "C:\\my dir\\"], "p \"C:\\my dir\\\\\""),
        (&["p", "a\\\\\"b"], "p \"a\\\\\\\\\\\"b\""),
        (&["p", "a\\b c"], "p \"a\\b c\""),
        (&["", "x"], "\"\" x"),
    ];
    for (input, expected) in cases {
        assert_eq!(windows_join(&argv(input)), *expected, "{input:?}");
    }
}

#[test]
fn windows_split_follows_command_line_to_argv_w() {
    let cases: &[(&str, &[&str])] = &[
        ("", &[]),
        ("prog", &["prog"]),
        (
            "\"C:\\Program Files\\x.exe\" a b",
            &["C:\\Program Files\\x.exe", "a", "b"],
        ),
        // argv[0] has no backslash processing.
        ("C:\\dir\\\"x a", &["C:\\dir\\\"x", "a"]),
        ("\"C:\\dir\\\" a", &["C:\\dir\\", "a"]),
        ("p  a\t\tb  ", &["p", "a", "b"]),
        ("p \"a b\" c", &["p", "a b", "c"]),
        ("p a\\\\\\b", &["p", "a\\\\\\b"]),
        ("p a\\\\\\\"b", &["p", "a\\\"b"]),
        ("p a\\\\\"b c\"", &["p", "a\\b c"]),
        ("p \"\"", &["p", ""]),
        ("p \"\"\"\"", &["p", "\""]),
        // Inside quotes, "" is a literal quote that ends the quoted section.
        ("p \"a\"\"b c\"", &["p", "a\"b", "c"]),
        ("p \"\"\"a b\"", &["p", "\"a", "b"]),
        (" a b", &["", "a", "b"]),
        ("\"a\"b c", &["a", "b", "c"]),
    ];
    for (line, expected) in cases {
        assert_eq!(windows_split(line), argv(expected), "{line:?}");
    }
}

#[test]
fn cmd_c_rest_is_raw_and_one_argument() {
    let a = argv(&["cmd.exe", "/c", "echo", "a b", "&", "calc"]);
    assert_eq!(windows_join(&a), "cmd.exe /c echo a b & calc");
    assert_eq!(
        windows_split("cmd.exe /c echo \"a b\" & calc"),
        argv(&["cmd.exe", "/c", "echo \"a b\" & calc"])
    );
    assert_eq!(
        windows_join(&argv(&["C:\\Windows\\System32\\CMD", "/K", "dir"])),
        "C:\\Windows\\System32\\CMD /K dir"
    );
    assert_eq!(
        windows_split("\"C:\\Win dows\\Cmd.Exe\" /C  two  spaces"),
        argv(&["C:\\Win dows\\Cmd.Exe", "/C", " two  spaces"])
    );
    assert_eq!(windows_split("cmd /c"), argv(&["cmd", "/c"]));
    assert_eq!(windows_split("cmd /c "), argv(&["cmd", "/c", ""]));
    // Not the switch: ordinary rules.
    assert_eq!(windows_split("cmd /cdir x"), argv(&["cmd", "/cdir", "x"]));
    assert_eq!(
        windows_split("cmd.com /c a b"),
        argv(&["cmd.com", "/c", "a", "b"])
    );
    assert_eq!(
        windows_join(&argv(&["notcmd.exe", "/c", "a b"])),
        "notcmd.exe /c \"a b\""
    );
    for a in [
        argv(&["cmd.exe", "/c", "echo \"x\" > C:\\t\\o.txt"]),
        argv(&["cmd", "/k"]),
        argv(&["cmd", "/c", ""]),
        argv(&["C:\\Windows\\system32\\cmd.exe", "/C", "  lead and trail  "]),
        argv(&["cmd", "/c x"]),
    ] {
        assert_eq!(windows_split(&windows_join(&a)), a, "{a:?}");
    }
}

#[test]
fn posix_join_and_split() {
    let a = argv(&[
        "sh",
        "-c",
        "echo 'hi' > /tmp/x; exit 0",
        "",
        "a=b",
        "plain-1.0/x",
    ]);
    let line = posix_join(&a);
    assert_eq!(
        line,
        "sh -c 'echo '\\''hi'\\'' > /tmp/x; exit 0' '' a=b plain-1.0/x"
    );
    assert_eq!(posix_split(&line), Ok(a));
    assert_eq!(posix_join(&argv(&["A=1", "x"])), "'A=1' x");
    assert_eq!(
        posix_split("a\\ b \"c \\$d \\q\" 'e\\' f\\\ng \"\"x"),
        Ok(argv(&["a b", "c $d \\q", "e\\", "fg", "x"]))
    );
    assert_eq!(posix_split("  "), Ok(vec![]));
    assert_eq!(
        posix_split("$HOME *.txt #c"),
        Ok(argv(&["$HOME", "*.txt", "#c"]))
    );
    assert!(posix_split("'open").is_err());
    assert!(posix_split("\"open").is_err());
    assert!(posix_split("a\\").is_err());
}

/// Characters that exercise every quoting rule, plus some non-ASCII.
const ALPHABET: &[char] = &[
    'a', 'Z', '0', ' ', '\t', '"', '\\', '\'', '$', '`', '\n', '/', '=', '&', '^', '%', '!', 'é',
    '€', '文', ';', '*', '-',
];

fn random_arg(rng: &mut StdRng, exclude: &[char]) -> String {
    let len = rng.random_range(0..12);
    (0..len)
        .map(|_| {
            loop {
                let c = ALPHABET[rng.random_range(0..ALPHABET.len())];
                if !exclude.contains(&c) {
                    break c;
                }
            }
        })
        .collect()
}

#[test]
fn windows_round_trip_random() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0001);
    for _ in 0..5000 {
        let n = rng.random_range(1..6);
        let mut a = vec![random_arg(&mut rng, &['"'])];
        a.extend((1..n).map(|_| random_arg(&mut rng, &[])));
        assert_eq!(
            windows_split(&windows_join(&a)),
            a,
            "{a:?} -> {:?}",
            windows_join(&a)
        );
    }
}

#[test]
fn windows_round_trip_cmd_random() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0002);
    for _ in 0..2000 {
        let program = [
            "cmd",
            "cmd.exe",
            "C:\\Windows\\System32\\CMD.EXE",
            "c:/x y/cmd",
        ][rng.random_range(0..4)];
        let switch = ["/c", "/C", "/k", "/K"][rng.random_range(0..4)];
        let mut a = argv(&[program, switch]);
        if rng.random_bool(0.9) {
            a.push(random_arg(&mut rng, &[]));
        }
        assert_eq!(windows_split(&windows_join(&a)), a, "{a:?}");
    }
}

#[test]
fn posix_round_trip_random() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0003);
    assert_eq!(posix_split(&posix_join(&[])), Ok(vec![]));
    for _ in 0..5000 {
        let n = rng.random_range(1..6);
        let a: Vec<String> = (0..n).map(|_| random_arg(&mut rng, &[])).collect();
        assert_eq!(posix_split(&posix_join(&a)), Ok(a.clone()), "{a:?}");
    }
}

#[test]
fn posix_join_agrees_with_a_real_shell() {
    if !crate::testing::require_tool("sh") {
        return;
    }
    let a = argv(&[
        "it's",
        "",
        "two words",
        "$HOME",
        "`id`",
        "a\nb",
        "-n",
        "x=y",
        "é",
    ]);
    let script = format!("printf '%s\\0' {}", posix_join(&a));
    let out =
        crate::artifact::testutil::run_ok(std::process::Command::new("sh").arg("-c").arg(&script));
    let printed: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .map(|s| String::from_utf8(s.to_vec()).unwrap())
        .collect();
    let mut expected = a.clone();
    expected.push(String::new()); // after the last NUL
    assert_eq!(printed, expected);
}
