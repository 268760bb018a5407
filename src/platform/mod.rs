//! What chainproof does differently on Windows and macOS, as data: the
//! commands, registry values and paths a run uses there. Everything here is
//! portable Rust, unit-tested on any host; `run --dry-run --platform` prints
//! it, and a run on that platform executes it.

pub mod effects;
pub mod host;
pub mod macos;
pub mod marks;
pub mod windows;

/// One command line: the program, then its arguments.
pub type Argv = Vec<String>;

fn argv(parts: &[&str]) -> Argv {
    parts.iter().map(|s| s.to_string()).collect()
}

/// Renders an argv for people: arguments holding spaces or quotes are
/// quoted the way a POSIX shell reads them back.
pub fn show(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty() && !a.contains([' ', '"', '\'', ';', '&', '|', '$']) {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
