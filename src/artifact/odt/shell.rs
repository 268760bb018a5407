//! The command line of LibreOffice Basic's `Shell()` on Unix: how LibreOffice
//! splits it into an argv, and how to write an argv so the split gives it back.
//!
//! `Shell(program, style, params)` does not hand `params` to a shell. It
//! builds one string and tokenizes it itself (the rules below were measured
//! with LibreOffice 7.4 on Linux, one probe program per case, and agree with
//! the tokenizer in LibreOffice's Basic runtime):
//!
//! 1. `params` is trimmed at both ends of every character `<= U+0020` except
//!    NUL, and of U+2000..=U+200B, U+2028 and U+2029. If anything is left,
//!    the line is `program + " " + params`, else just `program`.
//! 2. Repeatedly: skip spaces and tabs. If the next character is `"` or `'`,
//!    the token runs to the next occurrence of that same character, exclusive,
//!    and may be empty; with no closing quote it is the rest of the line
//!    *including* the opening quote. Otherwise the token runs to the nearest
//!    space or tab, but a tab only counts when a space also follows somewhere
//!    later (without one, the token runs to the end of the line).
//! 3. There is no escape character: a quote never appears inside a token
//!    quoted with the same quote, and tokens never join (`"a"b` is `a`, `b`).
//! 4. The first token is the program, the rest are its arguments. A line that
//!    ends in a space or tab yields one extra empty argument. Arguments reach
//!    `execve` as C strings, so each is cut at its first NUL.
//!
//! Consequently an argument that holds both `"` and `'` cannot be passed, nor
//! can a NUL; [`encode`] rejects both. Everything else round-trips: the
//! encoding quotes any argument that is empty, contains a character outside
//! printable ASCII or starts with a quote, using `"` unless the argument
//! holds one, then `'`.

use crate::artifact::ArtifactError;

/// How [`ArtifactError::Unencodable`] names this launcher.
pub(crate) const LAUNCHER: &str = "libreoffice basic shell()";

/// An argv encoded for `Shell(program, 0, params)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShellLine {
    /// First argument of `Shell()`: the program, quoted if needed.
    pub program: String,
    /// Third argument of `Shell()`: the remaining arguments, space separated.
    pub params: String,
}

/// Encodes `command` (program first) so LibreOffice's split returns it.
pub(crate) fn encode(command: &[String]) -> Result<ShellLine, ArtifactError> {
    let (program, args) = command.split_first().ok_or(ArtifactError::EmptyCommand)?;
    if program.is_empty() {
        return Err(ArtifactError::EmptyProgram);
    }
    let program = encode_token(0, program)?;
    let params = args
        .iter()
        .enumerate()
        .map(|(i, arg)| encode_token(i + 1, arg))
        .collect::<Result<Vec<_>, _>>()?
        .join(" ");
    Ok(ShellLine { program, params })
}

fn encode_token(index: usize, arg: &str) -> Result<String, ArtifactError> {
    let unencodable = |reason| ArtifactError::Unencodable {
        launcher: LAUNCHER,
        index,
        argument: arg.to_owned(),
        reason,
    };
    if arg.contains('\0') {
        return Err(unencodable(
            "arguments reach execve as c strings, so nul cannot be passed",
        ));
    }
    let bare = !arg.is_empty()
        && !arg.starts_with(['"', '\''])
        && arg.chars().all(|c| c.is_ascii_graphic());
    if bare {
        Ok(arg.to_owned())
    } else if !arg.contains('"') {
        Ok(format!("\"{arg}\""))
    } else if !arg.contains('\'') {
        Ok(format!("'{arg}'"))
    } else {
        Err(unencodable(
            "shell() has no escape character, so an argument cannot hold both \" and '",
        ))
    }
}

/// Whether LibreOffice's `OUString::trim` removes this UTF-16 unit.
fn is_trimmed(c: u16) -> bool {
    (1..=0x20).contains(&c) || (0x2000..=0x200B).contains(&c) || c == 0x2028 || c == 0x2029
}

/// Splits the arguments of a `Shell()` call the way LibreOffice does.
///
/// `params` is `None` when the call passed fewer than three arguments.
pub(crate) fn split(program: &[u16], params: Option<&[u16]>) -> Result<Vec<String>, ArtifactError> {
    let mut line = program.to_vec();
    match params {
        Some(params) => {
            let start = params.iter().position(|&c| !is_trimmed(c));
            let end = params.iter().rposition(|&c| !is_trimmed(c));
            if let (Some(start), Some(end)) = (start, end) {
                line.push(u16::from(b' '));
                line.extend_from_slice(&params[start..=end]);
            }
        }
        // LibreOffice pads an empty single-argument call to one space.
        None if line.is_empty() => line.push(u16::from(b' ')),
        None => {}
    }
    let tokens = tokenize(&line);
    if tokens.is_empty() {
        return Err(ArtifactError::EmptyCommand);
    }
    let argv = tokens
        .iter()
        .enumerate()
        .map(|(index, token)| {
            let token = token.split(|&c| c == 0).next().unwrap_or_default();
            String::from_utf16(token).map_err(|e| ArtifactError::ShellArgument {
                index,
                detail: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if argv.first().is_some_and(String::is_empty) {
        return Err(ArtifactError::EmptyProgram);
    }
    Ok(argv)
}

fn tokenize(line: &[u16]) -> Vec<&[u16]> {
    const SPACE: u16 = b' ' as u16;
    const TAB: u16 = b'\t' as u16;
    let find = |c: u16, from: usize| {
        line.get(from..)
            .and_then(|rest| rest.iter().position(|&x| x == c))
            .map(|p| p + from)
    };
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < line.len() {
        // Reading one past the end sees the string's terminating NUL.
        while matches!(line.get(i), Some(&SPACE | &TAB)) {
            i += 1;
        }
        let c = line.get(i).copied().unwrap_or(0);
        if c == u16::from(b'"') || c == u16::from(b'\'') {
            match find(c, i + 1) {
                Some(close) => {
                    tokens.push(&line[i + 1..close]);
                    i = close + 1;
                }
                None => {
                    tokens.push(&line[i..]);
                    i = line.len();
                }
            }
        } else {
            let stop = match (find(SPACE, i), find(TAB, i)) {
                (Some(space), Some(tab)) => Some(space.min(tab)),
                (Some(space), None) => Some(space),
                (None, _) => None,
            };
            match stop {
                Some(stop) => {
                    tokens.push(&line[i..stop]);
                    i = stop;
                }
                None => {
                    tokens.push(line.get(i..).unwrap_or_default());
                    i = line.len();
                }
            }
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    fn argv(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// Cases observed with LibreOffice 7.4 (program, params, argv seen by
    /// the started process).
    #[test]
    fn split_matches_observed_libreoffice() {
        let table: &[(&str, Option<&str>, &[&str])] = &[
            ("/p", Some("a \"b c\" 'd e'"), &["/p", "a", "b c", "d e"]),
            (
                "/p",
                Some("x \"x\"y 'p'q \"un"),
                &["/p", "x", "x", "y", "p", "q", "\"un"],
            ),
            ("/p", Some("\"\" '' end"), &["/p", "", "", "end"]),
            ("\"/p q\"", Some("a"), &["/p q", "a"]),
            (
                "/p",
                Some("a\\b \"c\\\"d\" $HOME"),
                &["/p", "a\\b", "c\\", "d\"", "$HOME"],
            ),
            ("/p", Some("   x    y   "), &["/p", "x", "y"]),
            ("/p inline", Some("more"), &["/p", "inline", "more"]),
            ("/p", Some("a\ttab"), &["/p", "a\ttab"]),
            ("/p", Some("a b\tc"), &["/p", "a", "b\tc"]),
            ("/p", Some("a\tb c"), &["/p", "a", "b", "c"]),
            ("/p", Some("'open"), &["/p", "'open"]),
            ("/p", Some("\"a b\"'c d'"), &["/p", "a b", "c d"]),
            ("/p", Some("trail "), &["/p", "trail"]),
            ("/p ", None, &["/p", ""]),
            ("/p  ", Some(""), &["/p", ""]),
            (" /p", Some("x"), &["/p", "x"]),
            ("", Some("/p x"), &["/p", "x"]),
            ("/p", Some("x\0y"), &["/p", "x"]),
            ("/p", Some("x\u{2003}"), &["/p", "x"]),
            ("/p", Some("\u{200b}x\u{2029}"), &["/p", "x"]),
            ("/p", Some("x\u{202f}"), &["/p", "x\u{202f}"]),
            ("/p", Some("x\u{3000}\u{a0}"), &["/p", "x\u{3000}\u{a0}"]),
            ("/p", Some("\"nl\ncr\r\""), &["/p", "nl\ncr\r"]),
        ];
        for (program, params, expected) in table {
            let params = params.map(u);
            let got = split(&u(program), params.as_deref()).unwrap();
            assert_eq!(got, argv(expected), "{program:?} {params:?}");
        }
    }

    #[test]
    fn split_rejects_empty_lines() {
        assert!(matches!(split(&[], None), Err(ArtifactError::EmptyProgram)));
        assert!(matches!(
            split(&[], Some(&u("  "))),
            Err(ArtifactError::EmptyCommand)
        ));
        assert!(matches!(
            split(&u("\"\""), Some(&u("x"))),
            Err(ArtifactError::EmptyProgram)
        ));
        // A lone surrogate cannot become an argument.
        assert!(matches!(
            split(&u("/p"), Some(&[0xD83D])),
            Err(ArtifactError::ShellArgument { index: 1, .. })
        ));
    }

    #[test]
    fn encode_quotes_only_what_needs_it() {
        let line = encode(&argv(&["/bin/sh", "-c", "echo 'hi'; echo x > /tmp/o", ""])).unwrap();
        assert_eq!(line.program, "/bin/sh");
        assert_eq!(line.params, "-c \"echo 'hi'; echo x > /tmp/o\" \"\"");
        let line = encode(&argv(&["/opt/my tool", "say \"hi\"", "'lead", "é"])).unwrap();
        assert_eq!(line.program, "\"/opt/my tool\"");
        assert_eq!(line.params, "'say \"hi\"' \"'lead\" \"é\"");
    }

    #[test]
    fn encode_rejects_what_shell_cannot_carry() {
        let cases: &[(&[&str], usize)] = &[
            (&["/bin/sh", "-c", "echo \"it's\""], 2),
            (&["/bin/sh", "a\0b"], 1),
            (&["\"'"], 0),
        ];
        for (command, bad) in cases {
            match encode(&argv(command)) {
                Err(ArtifactError::Unencodable { index, .. }) => assert_eq!(index, *bad),
                other => panic!("{command:?}: {other:?}"),
            }
        }
        assert!(matches!(encode(&[]), Err(ArtifactError::EmptyCommand)));
        assert!(matches!(
            encode(&argv(&[""])),
            Err(ArtifactError::EmptyProgram)
        ));
    }

    #[test]
    fn encode_then_split_round_trips() {
        let table: &[&[&str]] = &[
            &["/bin/true"],
            &["/bin/sh", "-c", "echo hello > /tmp/x/proof.txt"],
            &[
                "/bin/sh",
                "-c",
                "echo 'a b'; printf '%s\\n' x >> '/tmp/y z'",
                "zero",
            ],
            &[
                "/usr/bin/env",
                "",
                " lead",
                "trail ",
                "\t",
                "a\tb",
                "x\ny\r",
                "\u{2003}",
            ],
            &["/p", "\"", "'", "\"\"", "''", "say \"hi\"", "it's"],
            &[
                "/p", "$HOME", "`id`", "a\\b", "100%", "~", "*", "#", "(x)", "a|b&c",
            ],
            &["/p", "日本語", "😀", "\u{feff}", "\u{7f}\u{85}\u{a0}"],
            &["relative-name", "--flag=value with space"],
        ];
        for command in table {
            let command = argv(command);
            let line = encode(&command).unwrap();
            let back = split(&u(&line.program), Some(&u(&line.params))).unwrap();
            assert_eq!(back, command, "{line:?}");
        }
    }
}
