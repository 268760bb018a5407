//! Script files a user double-clicks, and the error every builder of the
//! Windows and macOS document formats shares ([`FormatError`]).
//!
//! Windows scripts carry one command line (a single string, as
//! `WScript.Shell.Run` takes it) and use CRLF line ends:
//!
//! - [`jscript`]: a `.js` file for Windows Script Host; the command is a
//!   JScript (ES3) string literal, non-ASCII and control characters written
//!   as `\u` and four hex digits, so the file is plain ASCII whatever code page WSH assumes;
//! - [`vbscript`]: a `.vbs` file; `"` is doubled, and non-ASCII and control
//!   characters become `ChrW(N)` terms joined with `&`;
//! - [`hta`]: an HTML Application for `mshta.exe` whose VBScript block runs
//!   the command, then `window.close`; there is no `<!DOCTYPE>`, so MSHTML
//!   stays in the legacy mode where VBScript runs, and `<` is written as
//!   `ChrW(60)` so the command can never end the `<script>` element.
//!
//! POSIX scripts carry an argv, every argument single-quoted (`'` becomes
//! `'\''`), and use LF line ends: [`macos_command`] (a Terminal `.command`
//! file), [`posix_sh`] (the same with `exec`) and [`applescript`] (source text
//! for `osascript`, the quoted argv inside `do shell script "…"`).
//!
//! [`read_command`] and [`read_posix_argv`] read a script back, for an
//! emulated opener. Every builder refuses an empty command and a carriage
//! return, line feed or NUL anywhere in it.

/// Why a document or script could not be built or read back.
///
/// Messages are lowercase fragments that read after "failed to".
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// There is no program to run.
    #[error("build a {format} artifact from an empty command")]
    EmptyCommand {
        /// The format being built, e.g. "vbscript".
        format: &'static str,
    },
    /// A field holds text the format cannot carry.
    #[error("encode {field} {value:?} in {format}: {reason}")]
    Unencodable {
        /// The format being built.
        format: &'static str,
        /// Which input, e.g. "the command line" or "argument 2".
        field: String,
        /// The rejected text.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A registry key lies outside the one subtree chainproof may touch.
    #[error("use registry key {key:?}: only keys below {root}\\ are allowed")]
    ForbiddenKey {
        /// The rejected key.
        key: String,
        /// The subtree keys must lie below.
        root: &'static str,
    },
    /// Bytes or text did not have the shape the builder writes.
    #[error("read the {format} artifact: {detail}")]
    Malformed {
        /// The format being read.
        format: &'static str,
        /// What was missing or unexpected.
        detail: String,
    },
}

/// The script formats of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptKind {
    /// JScript for Windows Script Host (`.js`).
    JScript,
    /// VBScript for Windows Script Host (`.vbs`).
    VbScript,
    /// HTML Application (`.hta`).
    Hta,
    /// macOS Terminal shell script (`.command`).
    MacosCommand,
    /// AppleScript source text (`.applescript`).
    AppleScript,
    /// POSIX shell script (`.sh`).
    PosixSh,
}

impl ScriptKind {
    /// Whether the script carries an argv (read with [`read_posix_argv`])
    /// rather than a Windows command line.
    pub fn is_posix(self) -> bool {
        matches!(
            self,
            ScriptKind::MacosCommand | ScriptKind::AppleScript | ScriptKind::PosixSh
        )
    }

    /// The file name extension (without the dot) the script is saved with.
    pub fn extension(self) -> &'static str {
        match self {
            ScriptKind::JScript => "js",
            ScriptKind::VbScript => "vbs",
            ScriptKind::Hta => "hta",
            ScriptKind::MacosCommand => "command",
            ScriptKind::AppleScript => "applescript",
            ScriptKind::PosixSh => "sh",
        }
    }

    fn format(self) -> &'static str {
        match self {
            ScriptKind::JScript => "jscript",
            ScriptKind::VbScript => "vbscript",
            ScriptKind::Hta => "hta",
            ScriptKind::MacosCommand => "macos .command",
            ScriptKind::AppleScript => "applescript",
            ScriptKind::PosixSh => "posix sh",
        }
    }
}

/// The comment every script starts with.
const BANNER: &str = "chainproof benign test script (ATT&CK T1204.002 simulation)";

/// Text shown by the HTML Application.
const HTA_TEXT: &str = "chainproof benign test document";

/// A JScript file that runs `command_line` through `WScript.Shell.Run`.
pub fn jscript(command_line: &str) -> Result<String, FormatError> {
    check_command("jscript", command_line)?;
    Ok(format!(
        "// {BANNER}\r\n\
         var shell = WScript.CreateObject(\"WScript.Shell\");\r\n\
         shell.Run({}, 1, false);\r\n",
        js_string(command_line)
    ))
}

/// A VBScript file that runs `command_line` through `WScript.Shell.Run`.
pub fn vbscript(command_line: &str) -> Result<String, FormatError> {
    check_command("vbscript", command_line)?;
    Ok(format!(
        "' {BANNER}\r\n\
         Option Explicit\r\n\
         CreateObject(\"WScript.Shell\").Run {}, 1, False\r\n",
        vb_expr(command_line, false)
    ))
}

/// An HTML Application that runs `command_line` from a VBScript block, then
/// closes its window.
pub fn hta(command_line: &str) -> Result<String, FormatError> {
    check_command("hta", command_line)?;
    Ok(format!(
        "<html>\r\n\
         <head>\r\n\
         <title>{HTA_TEXT}</title>\r\n\
         <HTA:APPLICATION ID=\"chainproof\" APPLICATIONNAME=\"chainproof\" \
         SHOWINTASKBAR=\"yes\" WINDOWSTATE=\"minimize\" />\r\n\
         <!-- {BANNER} -->\r\n\
         <script language=\"VBScript\">\r\n\
         CreateObject(\"WScript.Shell\").Run {}, 1, False\r\n\
         window.close\r\n\
         </script>\r\n\
         </head>\r\n\
         <body>\r\n\
         <p>{HTA_TEXT}</p>\r\n\
         </body>\r\n\
         </html>\r\n",
        vb_expr(command_line, true)
    ))
}

/// A macOS Terminal `.command` file (`#!/bin/sh`) that runs `argv`.
pub fn macos_command(argv: &[String]) -> Result<String, FormatError> {
    let line = sh_join("macos .command", argv)?;
    Ok(format!("#!/bin/sh\n# {BANNER}\n{line}\n"))
}

/// A POSIX shell script that replaces itself (`exec`) with `argv`.
pub fn posix_sh(argv: &[String]) -> Result<String, FormatError> {
    let line = sh_join("posix sh", argv)?;
    Ok(format!("#!/bin/sh\n# {BANNER}\nexec {line}\n"))
}

/// AppleScript source text (runnable with `osascript`) whose
/// `do shell script` runs `argv`.
pub fn applescript(argv: &[String]) -> Result<String, FormatError> {
    let line = sh_join("applescript", argv)?;
    let mut quoted = String::with_capacity(line.len() + 2);
    for c in line.chars() {
        if matches!(c, '\\' | '"') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    Ok(format!(
        "#!/usr/bin/osascript\n-- {BANNER}\ndo shell script \"{quoted}\"\n"
    ))
}

/// Reads back the command a script of `kind` runs: the command line for the
/// Windows kinds, the shell command line exactly as written (single-quoted
/// words, without `exec`) for the POSIX kinds, which is refused if it is not
/// a plain list of quoted words.
pub fn read_command(kind: ScriptKind, text: &str) -> Result<String, FormatError> {
    let format = kind.format();
    let bad = |detail: &str| FormatError::Malformed {
        format,
        detail: detail.to_owned(),
    };
    match kind {
        ScriptKind::JScript => {
            let at = text.find(".Run(").ok_or_else(|| bad("no .Run( call"))?;
            read::js_string(format, &text[at + ".Run(".len()..])
        }
        ScriptKind::VbScript | ScriptKind::Hta => {
            let at = text
                .find(").Run ")
                .ok_or_else(|| bad("no .Run statement"))?;
            read::vb_expr(format, &text[at + ").Run ".len()..])
        }
        ScriptKind::MacosCommand | ScriptKind::PosixSh => {
            if !text.starts_with("#!/bin/sh\n") {
                return Err(bad("no #!/bin/sh line"));
            }
            let line = text
                .lines()
                .find(|l| !l.is_empty() && !l.starts_with('#'))
                .ok_or_else(|| bad("no command line"))?;
            let line = match kind {
                ScriptKind::PosixSh => line.strip_prefix("exec ").ok_or_else(|| bad("no exec"))?,
                _ => line,
            };
            read::sh_words(format, line)?;
            Ok(line.to_owned())
        }
        ScriptKind::AppleScript => {
            const CALL: &str = "do shell script \"";
            let at = text.find(CALL).ok_or_else(|| bad("no do shell script"))?;
            let line = read::applescript_string(format, &text[at + CALL.len()..])?;
            read::sh_words(format, &line)?;
            Ok(line)
        }
    }
}

/// Reads back the argv a POSIX script (`.command`, AppleScript, `.sh`) runs.
pub fn read_posix_argv(kind: ScriptKind, text: &str) -> Result<Vec<String>, FormatError> {
    if !kind.is_posix() {
        return Err(FormatError::Malformed {
            format: kind.format(),
            detail: "it runs a command line, not an argv".to_owned(),
        });
    }
    read::sh_words(kind.format(), &read_command(kind, text)?)
}

/// Refuses an empty command line and one holding CR, LF or NUL.
fn check_command(format: &'static str, command_line: &str) -> Result<(), FormatError> {
    if command_line.trim().is_empty() {
        return Err(FormatError::EmptyCommand { format });
    }
    check_line_safe(format, "the command line".to_owned(), command_line)
}

fn check_line_safe(format: &'static str, field: String, value: &str) -> Result<(), FormatError> {
    if value.contains(['\r', '\n', '\0']) {
        return Err(FormatError::Unencodable {
            format,
            field,
            value: value.to_owned(),
            reason: "it holds a carriage return, line feed or nul",
        });
    }
    Ok(())
}

/// A double-quoted JScript string literal holding `text`, in plain ASCII.
fn js_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// A VBScript string expression holding `text`: quoted runs of printable
/// ASCII (`"` doubled) and `ChrW(N)` terms for everything else, joined by
/// `&`. With `for_html`, `<` is a `ChrW` term too.
fn vb_expr(text: &str, for_html: bool) -> String {
    let mut terms: Vec<String> = Vec::new();
    let mut run = String::new();
    for c in text.chars() {
        if matches!(c, ' '..='~') && !(for_html && c == '<') {
            if c == '"' {
                run.push('"');
            }
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            terms.push(format!("\"{run}\""));
            run.clear();
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            terms.push(format!("ChrW({unit})"));
        }
    }
    if !run.is_empty() {
        terms.push(format!("\"{run}\""));
    }
    terms.join(" & ")
}

/// `argv` as one shell command line, every word single-quoted.
fn sh_join(format: &'static str, argv: &[String]) -> Result<String, FormatError> {
    match argv.first() {
        None => return Err(FormatError::EmptyCommand { format }),
        Some(program) if program.is_empty() => return Err(FormatError::EmptyCommand { format }),
        Some(_) => {}
    }
    let mut words = Vec::with_capacity(argv.len());
    for (index, arg) in argv.iter().enumerate() {
        check_line_safe(format, format!("argument {index}"), arg)?;
        words.push(format!("'{}'", arg.replace('\'', "'\\''")));
    }
    Ok(words.join(" "))
}

mod read;

// These tests run host tools (Unix).
#[cfg(test)]
#[cfg(unix)]
mod tests;
