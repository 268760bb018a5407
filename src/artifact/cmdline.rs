//! Command-line joining and splitting shared by the artifact formats.
//!
//! Several artifacts carry a whole command line as one string (a VBA
//! `Shell "…"` literal, a shortcut's arguments, a registry value, a shell
//! script line). This module turns an argv into such a line and back, for
//! the two conventions that matter:
//!
//! - **Windows** ([`windows_join`], [`windows_split`]): the rules of
//!   `CommandLineToArgvW` (and of the MSVC C runtime for every argument after
//!   the program). `argv[0]` is special: it runs up to the next space or tab,
//!   or, if it starts with `"`, up to the next `"`, with no backslash
//!   processing. After it, space and tab separate arguments; `"` toggles
//!   quoting; `2n` backslashes before a `"` give `n` backslashes and the quote
//!   is a delimiter, `2n + 1` give `n` backslashes and a literal `"`;
//!   backslashes anywhere else are literal. A run of quotes is counted the
//!   way `CommandLineToArgvW` counts it: every third quote of a run (counting
//!   the open quote, if any) is a literal `"` and ends the quoted section.
//!
//!   One exception: when `argv[0]`'s file name is `cmd` or `cmd.exe` (any
//!   case) and `argv[1]` is `/c` or `/k` (any case), `cmd.exe` parses the
//!   rest of its line itself, so the join appends the remaining arguments
//!   raw, joined by one space, and the split returns everything after the
//!   `/c ` (one space or tab) as a single argument, verbatim.
//!
//! - **POSIX** ([`posix_join`], [`posix_split`]): single quotes around every
//!   argument that needs them (`'` written as `'\''`), and the word
//!   splitting of a POSIX shell restricted to quotes and backslashes: no
//!   expansion, no operators, no comments.
//!
//! Round trips: `windows_split(&windows_join(a)) == a` for every argv whose
//! strings hold no NUL and whose `argv[0]` holds no `"` (no Windows command
//! line can carry a quote in the program name); for a `cmd /c` argv, when
//! everything after `/c` is one argument. `posix_split(&posix_join(a)) ==
//! Ok(a)` for every argv.

#[cfg(test)]
mod tests;

/// Joins `argv` into a Windows command line (see the [module
/// documentation](self) for the rules and the `cmd /c` exception).
///
/// An empty argv gives an empty line. A `"` in `argv[0]` cannot be
/// represented; such a program name is quoted anyway and will not split back
/// to the same string.
pub fn windows_join(argv: &[String]) -> String {
    let Some((program, rest)) = argv.split_first() else {
        return String::new();
    };
    let mut line = if program.is_empty() || program.contains([' ', '\t', '"']) {
        format!("\"{program}\"")
    } else {
        program.clone()
    };
    if is_cmd(program)
        && let Some((switch, tail)) = rest.split_first()
        && is_run_switch(switch)
    {
        line.push(' ');
        line.push_str(switch);
        if !tail.is_empty() {
            line.push(' ');
            line.push_str(&tail.join(" "));
        }
        return line;
    }
    for arg in rest {
        line.push(' ');
        quote_windows_arg(arg, &mut line);
    }
    line
}

/// Splits a Windows command line into argv (see the [module
/// documentation](self)); the inverse of [`windows_join`].
///
/// An empty line gives an empty argv. A line that starts with a space or a
/// tab has an empty `argv[0]`, as with `CommandLineToArgvW`.
pub fn windows_split(line: &str) -> Vec<String> {
    if line.is_empty() {
        return Vec::new();
    }
    let (program, mut rest) = split_program(line);
    let mut argv = vec![program];
    rest = rest.trim_start_matches([' ', '\t']);
    if is_cmd(&argv[0]) {
        let mut chars = rest.char_indices();
        let switch_end = match (chars.next(), chars.next(), chars.next()) {
            (Some((_, '/')), Some((_, 'c' | 'C' | 'k' | 'K')), None) => Some((rest.len(), None)),
            (Some((_, '/')), Some((_, 'c' | 'C' | 'k' | 'K')), Some((i, ' ' | '\t'))) => {
                Some((i, Some(i + 1)))
            }
            _ => None,
        };
        if let Some((end, tail_start)) = switch_end {
            argv.push(rest[..end].to_owned());
            if let Some(start) = tail_start {
                argv.push(rest[start..].to_owned());
            }
            return argv;
        }
    }
    argv.extend(split_msvcrt_args(rest));
    argv
}

/// Joins `argv` into a POSIX shell command line: arguments made only of
/// characters no shell treats specially are written as they are, every
/// other one (and the empty string) in single quotes, with `'` written as
/// `'\''`. An `=` counts as special in `argv[0]` only (it would make the word
/// a variable assignment).
pub fn posix_join(argv: &[String]) -> String {
    let mut line = String::new();
    for (index, arg) in argv.iter().enumerate() {
        if index > 0 {
            line.push(' ');
        }
        let plain = !arg.is_empty()
            && arg.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(c, '_' | '@' | '%' | '+' | ':' | ',' | '.' | '/' | '-')
                    || (c == '=' && index > 0)
            });
        if plain {
            line.push_str(arg);
        } else {
            line.push('\'');
            line.push_str(&arg.replace('\'', "'\\''"));
            line.push('\'');
        }
    }
    line
}

/// Splits a POSIX shell command line into words, applying only quote
/// removal and backslash escapes (no expansion of any kind; `;`, `|`, `#`,
/// `$` and the like are ordinary characters); the inverse of [`posix_join`].
///
/// Space, tab and newline separate words. Outside quotes a backslash makes
/// the next character literal, and a backslash-newline pair is removed.
/// Inside single quotes every character is literal. Inside double quotes a
/// backslash escapes only `$`, `` ` ``, `"`, `\` and newline (removed).
///
/// The error (a lowercase fragment) names an unterminated quote or a
/// trailing backslash.
pub fn posix_split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if let Some(done) = word.take() {
                    words.push(done);
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(escaped) => word.get_or_insert_with(String::new).push(escaped),
                None => return Err("split a line that ends with a lone backslash".to_owned()),
            },
            '\'' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(inner) => current.push(inner),
                        None => {
                            return Err("split a line with an unterminated single quote".to_owned());
                        }
                    }
                }
            }
            '"' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('\n') => {}
                            Some(e @ ('$' | '`' | '"' | '\\')) => current.push(e),
                            Some(other) => {
                                current.push('\\');
                                current.push(other);
                            }
                            None => {
                                return Err(
                                    "split a line with an unterminated double quote".to_owned()
                                );
                            }
                        },
                        Some(inner) => current.push(inner),
                        None => {
                            return Err("split a line with an unterminated double quote".to_owned());
                        }
                    }
                }
            }
            other => word.get_or_insert_with(String::new).push(other),
        }
    }
    words.extend(word);
    Ok(words)
}

/// Whether `program`'s file name is `cmd` or `cmd.exe`, ignoring case.
fn is_cmd(program: &str) -> bool {
    let name = program.rsplit(['\\', '/']).next().unwrap_or(program);
    name.eq_ignore_ascii_case("cmd") || name.eq_ignore_ascii_case("cmd.exe")
}

/// Whether `arg` is `cmd.exe`'s `/c` or `/k`, ignoring case.
fn is_run_switch(arg: &str) -> bool {
    ["/c", "/k"].iter().any(|s| arg.eq_ignore_ascii_case(s))
}

/// Appends one argument (not the program) quoted per the MSVCRT rules.
fn quote_windows_arg(arg: &str, line: &mut String) {
    if !arg.is_empty() && !arg.contains([' ', '\t', '"']) {
        line.push_str(arg);
        return;
    }
    line.push('"');
    let mut backslashes = 0usize;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                line.extend(std::iter::repeat_n('\\', 2 * backslashes + 1));
                line.push('"');
                backslashes = 0;
            }
            other => {
                line.extend(std::iter::repeat_n('\\', backslashes));
                line.push(other);
                backslashes = 0;
            }
        }
    }
    // Backslashes before the closing quote must be doubled.
    line.extend(std::iter::repeat_n('\\', 2 * backslashes));
    line.push('"');
}

/// Splits off `argv[0]` by `CommandLineToArgvW`'s program rule; returns it
/// and the text after it (after the closing quote, if quoted).
fn split_program(line: &str) -> (String, &str) {
    if let Some(quoted) = line.strip_prefix('"') {
        match quoted.find('"') {
            Some(end) => (quoted[..end].to_owned(), &quoted[end + 1..]),
            None => (quoted.to_owned(), ""),
        }
    } else {
        let end = line.find([' ', '\t']).unwrap_or(line.len());
        (line[..end].to_owned(), &line[end..])
    }
}

/// Splits the arguments after the program by the MSVCRT /
/// `CommandLineToArgvW` rules.
fn split_msvcrt_args(text: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| matches!(c, ' ' | '\t')).is_some() {}
        if chars.peek().is_none() {
            return args;
        }
        let mut arg = String::new();
        let mut in_quotes = false;
        while let Some(&c) = chars.peek() {
            match c {
                ' ' | '\t' if !in_quotes => break,
                '\\' => {
                    let mut count = 0usize;
                    while chars.next_if_eq(&'\\').is_some() {
                        count += 1;
                    }
                    if chars.peek() == Some(&'"') {
                        arg.extend(std::iter::repeat_n('\\', count / 2));
                        if count % 2 == 1 {
                            arg.push('"');
                            chars.next();
                        }
                    } else {
                        arg.extend(std::iter::repeat_n('\\', count));
                    }
                }
                '"' => {
                    // Count the run of quotes, the open quote included: each
                    // third one is a literal quote that closes the section.
                    let mut count = u8::from(in_quotes);
                    while chars.next_if_eq(&'"').is_some() {
                        count += 1;
                        if count == 3 {
                            arg.push('"');
                            count = 0;
                        }
                    }
                    in_quotes = count == 1;
                }
                other => {
                    arg.push(other);
                    chars.next();
                }
            }
        }
        args.push(arg);
    }
}
