//! freedesktop.org Desktop Entry launchers (`.desktop` files).
//!
//! [`build`] writes a `Type=Application` entry whose `Exec` key runs an argv,
//! quoted by the Desktop Entry Specification ("The Exec key"; the rules are
//! the same in 1.0 to 1.5, and the file says `Version=1.4` because
//! `desktop-file-validate` 0.26 rejects 1.5) in three layers, innermost
//! first:
//!
//! 1. field codes: every `%` is doubled (`%%` is a literal `%`);
//! 2. quoting: an argument that is empty, or holds a reserved character
//!    (space, tab, newline, `"`, `'`, `\`, `>`, `<`, `~`, `|`, `&`, `;`,
//!    `$`, `*`, `?`, `#`, `(`, `)`, `` ` ``) or any other control character,
//!    is put in double quotes, inside which `"`, `` ` ``, `$` and `\` get a
//!    backslash;
//! 3. the string-value escapes of the key file: `\` becomes `\\`, and line
//!    feed, tab and carriage return become `\n`, `\t` and `\r`.
//!
//! So a literal `$` inside a quoted argument is `\\$` in the file and a
//! literal backslash is `\\\\`, as the specification says. [`read_command`]
//! undoes the three layers, for an emulated launcher.
//!
//! Launchers differ. GLib (`gio launch`) follows these rules and reproduces
//! every argv. `dex` 0.9 does not: inside double quotes it does not undo
//! backslash escapes, it leaves `%%` doubled, and it does not decode `\n`,
//! `\t`, `\r`; so an argument containing `"`, `` ` ``, `$`, `\`, `%`, a line
//! feed, tab or carriage return reaches the program altered. Everything else
//! (spaces, `;`, `>`, `'`, `|`, `&`, `*`, `~`, `#`, parentheses, empty
//! arguments, non-ASCII) survives `dex`. [`dex_preserves`] tells which case an
//! argv is in, so a runner can warn or pick `gio launch`.
//!
//! `build` cannot fail: a NUL or other control character is written as is
//! (`desktop-file-validate` rejects such files, and no launcher can pass a
//! NUL), and an empty argv gives an empty `Exec`, which launchers refuse.

use crate::artifact::ArtifactError;

/// Characters that force an argument into quotes (the specification's
/// reserved set).
const RESERVED: &[char] = &[
    ' ', '\t', '\n', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(', ')',
    '`',
];

/// Characters that `dex` 0.9 does not pass through unchanged.
const DEX_ALTERS: &[char] = &['"', '`', '$', '\\', '%', '\n', '\t', '\r'];

/// Builds a Desktop Entry named `name` that runs `command[0]` with
/// `command[1..]`.
pub fn build(name: &str, command: &[String]) -> String {
    format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Version=1.4\n\
         Name={}\n\
         Comment=chainproof benign test launcher (ATT&CK T1204.002 simulation)\n\
         Exec={}\n\
         Terminal=false\n\
         Icon=x-office-document\n",
        escape_value(name),
        escape_value(&exec_value(command)),
    )
}

/// The `Exec` value before the key-file string escapes (layers 1 and 2).
fn exec_value(command: &[String]) -> String {
    let quoted: Vec<String> = command.iter().map(|arg| quote_arg(arg)).collect();
    quoted.join(" ")
}

fn quote_arg(arg: &str) -> String {
    let arg = arg.replace('%', "%%");
    let needs_quotes =
        arg.is_empty() || arg.chars().any(|c| RESERVED.contains(&c) || c.is_control());
    if !needs_quotes {
        return arg;
    }
    let mut out = String::with_capacity(arg.len() + 2);
    out.push('"');
    for c in arg.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Applies the key-file string escapes (layer 3).
fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // A leading space would be taken for padding around `=`.
            ' ' if i == 0 => out.push_str("\\s"),
            c => out.push(c),
        }
    }
    out
}

/// Whether `dex` 0.9 would start `command` unaltered (see the module docs).
pub fn dex_preserves(command: &[String]) -> bool {
    !command.iter().any(|arg| arg.contains(DEX_ALTERS))
}

/// Reads the argv a specification-conforming launcher starts for `entry`.
///
/// Field codes other than `%%` expand to nothing (no files are passed), and
/// an argument that was only a field code is dropped.
pub fn read_command(entry: &str) -> Result<Vec<String>, ArtifactError> {
    let err = |detail: String| ArtifactError::DesktopEntry { detail };
    let mut in_main_group = false;
    let mut exec = None;
    for line in entry.lines() {
        let line = line.trim_start();
        if line.starts_with('[') {
            in_main_group = line.trim_end() == "[Desktop Entry]";
        } else if let Some((key, value)) = line.split_once('=')
            && in_main_group
            && key.trim_end() == "Exec"
        {
            exec = Some(value.trim_start());
        }
    }
    let exec = exec.ok_or_else(|| err("no Exec key in [Desktop Entry]".to_owned()))?;
    let argv = split_exec(&unescape_value(exec).map_err(err)?).map_err(err)?;
    if argv.is_empty() {
        return Err(ArtifactError::EmptyCommand);
    }
    Ok(argv)
}

fn unescape_value(value: &str) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => out.push(' '),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            // Not a string escape: left for the quoting layer.
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => return Err("value ends in a lone backslash".to_owned()),
        }
    }
    Ok(out)
}

/// Undoes quoting (layer 2), then field codes (layer 1), per argument.
fn split_exec(value: &str) -> Result<Vec<String>, String> {
    let mut argv = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ').is_some() {}
        let Some(first) = chars.next() else {
            return Ok(argv);
        };
        let mut arg = String::new();
        if first == '"' {
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(c @ ('"' | '`' | '$' | '\\')) => arg.push(c),
                        other => return Err(format!("invalid escape \\{other:?} in quotes")),
                    },
                    Some(c) => arg.push(c),
                    None => return Err("unterminated quoted argument".to_owned()),
                }
            }
            if chars.peek().is_some_and(|c| *c != ' ') {
                return Err("quoted argument not followed by a space".to_owned());
            }
        } else {
            arg.push(first);
            while let Some(c) = chars.next_if(|c| *c != ' ') {
                arg.push(c);
            }
        }
        if let Some(arg) = expand_field_codes(&arg)? {
            argv.push(arg);
        }
    }
}

fn expand_field_codes(arg: &str) -> Result<Option<String>, String> {
    let mut out = String::with_capacity(arg.len());
    let mut had_code = false;
    let mut chars = arg.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('f' | 'F' | 'u' | 'U' | 'i' | 'c' | 'k' | 'd' | 'D' | 'n' | 'N' | 'v' | 'm') => {
                had_code = true;
            }
            other => return Err(format!("invalid field code %{other:?}")),
        }
    }
    Ok((!(had_code && out.is_empty())).then_some(out))
}

#[cfg(test)]
mod tests;
