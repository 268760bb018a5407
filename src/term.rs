//! Terminal output: the one way chainproof writes to stdout and stderr, and
//! the one sanitiser for everything written there.
//!
//! Text reaching a terminal comes from scenario files, host process lists,
//! file names and SIEM answers — attacker-like input. [`safe`] shows every
//! control character (C0 but newline and tab, DEL, C1, ESC) and every
//! bidirectional or invisible format character (U+202E and friends) as a
//! visible escape (`\x1b`, `\u{202e}`), so no string can drive the terminal
//! or reorder what the reader sees. JSON keeps its own escapes: [`json_safe`]
//! only adds `\uXXXX` for what serde leaves raw.
//!
//! Writes never panic (unlike `println!`). A closed pipe (`chainproof list |
//! head -1`) ends writing to that stream quietly: the command carries on — a
//! run still writes its record and report folder — and exits with its normal
//! code. Any other write error (`>/dev/full`) is said once on stderr and
//! turns a successful exit into 3 ([`exit_code`]).
//!
//! The stream state is process-wide because the streams themselves are: two
//! flags per stream, set once, never reset. Nothing else is global here.

use std::borrow::Cow;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

pub mod width;

/// True for a character that must not reach a terminal raw: controls other
/// than newline and tab (C0, DEL, C1), and the bidirectional and invisible
/// format characters (soft hyphen, embeddings, overrides, isolates, marks,
/// zero-width characters, separators, BOM, interlinear annotations, tags).
/// The scenario loader refuses the same characters.
pub fn is_hostile(c: char) -> bool {
    if c == '\n' || c == '\t' {
        return false;
    }
    c.is_control()
        || matches!(c,
            '\u{00ad}'
            | '\u{061c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}')
}

/// True when `text` is printable ASCII, newline and tab only, so nothing in
/// it can be hostile. A byte test the compiler vectorises: nearly all output
/// is plain, and `replay --format ndjson` writes hundreds of megabytes of
/// it, so the per-character check runs only on text that needs it.
fn plainly_safe(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' '..=b'~' | b'\n' | b'\t'))
}

/// `text` with every [hostile](is_hostile) character shown escaped: `\x1b`
/// for ASCII controls, `\u{202e}` for the rest. A carriage return right
/// before a newline is a line end (CSV's CRLF) and stays; alone it could
/// overwrite the line, so it is escaped. Borrowed when clean.
pub fn safe(text: &str) -> Cow<'_, str> {
    if plainly_safe(text) {
        return Cow::Borrowed(text);
    }
    let crlf = |i: usize, c: char| c == '\r' && text[i + 1..].starts_with('\n');
    if !text
        .char_indices()
        .any(|(i, c)| is_hostile(c) && !crlf(i, c))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, c) in text.char_indices() {
        if !is_hostile(c) || crlf(i, c) {
            out.push(c);
        } else if c.is_ascii() {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        }
    }
    Cow::Owned(out)
}

/// Serialised JSON made terminal-safe without changing its meaning: serde
/// escapes C0 controls but leaves DEL, C1 and bidi characters raw; those
/// become `\uXXXX` escapes (they can only occur inside strings).
pub fn json_safe(json: &str) -> Cow<'_, str> {
    if plainly_safe(json) || !json.chars().any(is_hostile) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_hostile(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One output stream's state.
struct Stream {
    /// Nothing more is written (closed pipe, or a failed write).
    closed: AtomicBool,
    /// A write failed for a reason other than a closed pipe.
    failed: AtomicBool,
    /// The name error messages use.
    name: &'static str,
}

static STDOUT: Stream = Stream {
    closed: AtomicBool::new(false),
    failed: AtomicBool::new(false),
    name: "stdout",
};

static STDERR: Stream = Stream {
    closed: AtomicBool::new(false),
    failed: AtomicBool::new(false),
    name: "stderr",
};

/// What a failed write means for the command.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    /// The reader went away: stop writing, say nothing.
    Closed,
    /// The stream cannot take output (disk full, I/O error): say it once.
    Failed(String),
}

/// Writes `bytes` to `w` and flushes, unless `stream` is already closed.
fn write_to(stream: &Stream, w: &mut dyn Write, bytes: &[u8]) -> Option<Failure> {
    if stream.closed.load(Ordering::SeqCst) {
        return None;
    }
    let e = match w.write_all(bytes).and_then(|()| w.flush()) {
        Ok(()) => return None,
        Err(e) => e,
    };
    stream.closed.store(true, Ordering::SeqCst);
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Some(Failure::Closed);
    }
    stream.failed.store(true, Ordering::SeqCst);
    Some(Failure::Failed(format!(
        "error: failed to write to {}: {e}; the rest of its output is dropped\n",
        stream.name
    )))
}

/// Writes `text` to stdout, sanitised, without a newline of its own.
pub fn out(text: &str) {
    out_raw(&safe(text));
}

/// Writes `text` to stderr, sanitised, without a newline of its own.
pub fn err(text: &str) {
    let text = safe(text);
    let mut w = std::io::stderr().lock();
    // Nowhere is left to report a failure of stderr itself.
    let _ = write_to(&STDERR, &mut w, text.as_bytes());
}

/// Writes JSON to stdout, made safe with [`json_safe`].
pub fn out_json(json: &str) {
    out_raw(&json_safe(json));
}

/// Writes JSON to stderr (a JSON log line), made safe with [`json_safe`]:
/// [`err`] would turn a bidi character into an escape JSON does not have.
pub fn err_json(json: &str) {
    let json = json_safe(json);
    let mut w = std::io::stderr().lock();
    let _ = write_to(&STDERR, &mut w, json.as_bytes());
}

/// Writes already-sanitised text to stdout.
fn out_raw(text: &str) {
    let failure = {
        let mut w = std::io::stdout().lock();
        write_to(&STDOUT, &mut w, text.as_bytes())
    };
    if let Some(Failure::Failed(message)) = failure {
        err(&message);
    }
}

/// The exit code once output is done: `code`, or 3 (runtime) when it was 0
/// but a write to stdout or stderr failed for another reason than a closed
/// pipe — the caller asked for output it did not get.
pub fn exit_code(code: u8) -> u8 {
    let failed = STDOUT.failed.load(Ordering::SeqCst) || STDERR.failed.load(Ordering::SeqCst);
    if failed && code == crate::exit::OK {
        crate::exit::RUNTIME
    } else {
        code
    }
}

/// `println!` through [`out`]: sanitised, and never panics.
#[macro_export]
macro_rules! outln {
    () => { $crate::term::out("\n") };
    ($($arg:tt)*) => { $crate::term::out(&format!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` through [`err`]: sanitised, and never panics.
#[macro_export]
macro_rules! errln {
    () => { $crate::term::err("\n") };
    ($($arg:tt)*) => { $crate::term::err(&format!("{}\n", format_args!($($arg)*))) };
}

#[cfg(test)]
mod tests;
