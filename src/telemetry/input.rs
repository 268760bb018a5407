//! Recorded telemetry files → [`Mapped`] records, streamed: each record is
//! read, mapped to every Sigma log source it belongs to and handed on
//! before the next is read, so memory does not grow with the file.
//!
//! The format is sniffed from the bytes, not trusted from the name: EVTX
//! (`ElfFile` magic, record by record), ZIP (`PK` magic, entry by entry,
//! each entry sniffed in turn), JSON (lines, several documents one after
//! another as evtx_dump writes them, or one array), and otherwise text:
//! auditd/laurel (through [`super::auditd`]) and syslog lines carrying
//! Sysmon for Linux. What maps to what is one table,
//! [`logsource::ROWS`]; every record read is either mapped or counted
//! under a reason in its input's [`InputStats`]. docs/replay-inputs.md
//! lists the formats, the mapping and the reasons.
//!
//! Nothing here evaluates rules or keeps process state.

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use super::{InputStats, Mapped};
use crate::intake::{self, Kind};
use crate::telemetry::{Category, Event};
use crate::vocab::Platform;
pub use archive::{ZIP_DEPTH_LIMIT, ZIP_EXPANDED_LIMIT};

/// Why recorded telemetry could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A file or folder could not be read.
    #[error("read {path}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file's content is not a telemetry format chainproof reads, or is
    /// malformed.
    #[error("read telemetry from {file}: {message}")]
    Format {
        /// The file (`archive.zip!entry` for a ZIP entry).
        file: String,
        /// What is wrong, with the line where known.
        message: String,
    },
}

mod archive;
mod evtx;
mod fields;
mod json;
mod linux;
#[cfg(test)]
mod load_tests;
pub mod logsource;
mod macos;
#[cfg(test)]
pub(crate) mod tests;
mod windows;

#[cfg(test)]
pub(crate) use windows::windows_record;

/// Reads every path in turn (a folder: every file below it, sorted by
/// name) and hands each mapped record to `emit` as it is read, in file
/// order; returns what each input gave, in reading order (a record's
/// [`Mapped::input`] indexes it).
///
/// A file named here that is not telemetry is an error naming it; inside a
/// folder or a ZIP, such a file (a README, a licence, a picture) is
/// counted as refused and reading goes on. A file that is telemetry but
/// broken (a cut EVTX, a JSON line that does not parse, a corrupt ZIP) is
/// an error wherever it is: replaying around a hole would under-report.
pub fn stream(
    paths: &[PathBuf],
    emit: &mut dyn FnMut(Mapped),
) -> Result<Vec<InputStats>, ReadError> {
    let mut ctx = Ctx::new(emit);
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| ReadError::Read {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files)?;
            files.sort();
            for file in files {
                read_path(&mut ctx, &file, false)?;
            }
        } else {
            read_path(&mut ctx, path, true)?;
        }
    }
    Ok(ctx.inputs)
}

/// Why a record was not mapped: most reasons are fixed words, some name
/// the channel and event id.
#[derive(Debug)]
pub(super) enum Skip {
    Static(&'static str),
    Dynamic(String),
}

/// Why a file stopped being read.
#[derive(Debug)]
pub(super) enum Fail {
    /// It is not telemetry at all: refused inside a folder or a ZIP.
    NotTelemetry(String),
    /// It is telemetry and broken, or it could not be read.
    Broken(ReadError),
}

impl From<ReadError> for Fail {
    fn from(e: ReadError) -> Self {
        Fail::Broken(e)
    }
}

/// The reading state shared by every reader: the counts so far, where
/// mapped records go, and what ZIP entries may still expand to.
pub(super) struct Ctx<'e> {
    pub(super) inputs: Vec<InputStats>,
    emit: &'e mut dyn FnMut(Mapped),
    pub(super) zip_left: u64,
}

impl<'e> Ctx<'e> {
    pub(super) fn new(emit: &'e mut dyn FnMut(Mapped)) -> Self {
        Ctx {
            inputs: Vec::new(),
            emit,
            zip_left: ZIP_EXPANDED_LIMIT,
        }
    }

    /// A new input named `name`; its index.
    pub(super) fn begin(&mut self, name: String) -> usize {
        self.inputs.push(InputStats {
            name,
            ..InputStats::default()
        });
        self.inputs.len() - 1
    }

    pub(super) fn stats(&mut self, input: usize) -> &mut InputStats {
        if input >= self.inputs.len() {
            self.inputs.resize_with(input + 1, InputStats::default);
        }
        &mut self.inputs[input]
    }

    pub(super) fn set_format(&mut self, input: usize, format: &str) {
        self.stats(input).format = format.to_string();
    }

    /// One record read: mapped and handed on, or counted under its reason.
    pub(super) fn record(&mut self, input: usize, outcome: Result<Mapped, Skip>) {
        match outcome {
            Ok(mapped) => {
                let stats = self.stats(input);
                stats.read += 1;
                stats.mapped += 1;
                (self.emit)(mapped);
            }
            Err(Skip::Static(reason)) => self.skip(input, reason, 1),
            Err(Skip::Dynamic(reason)) => self.skip(input, &reason, 1),
        }
    }

    /// `n` records read and not mapped, for `reason`.
    pub(super) fn skip(&mut self, input: usize, reason: &str, n: u64) {
        if n == 0 {
            return;
        }
        let stats = self.stats(input);
        stats.read += n;
        match stats.skipped.get_mut(reason) {
            Some(count) => *count += n,
            None => {
                stats.skipped.insert(reason.to_string(), n);
            }
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ReadError> {
    let read = |source| ReadError::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let p = entry.map_err(read)?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// One file: checked and opened by [`intake`], then sniffed and read.
fn read_path(ctx: &mut Ctx<'_>, path: &Path, explicit: bool) -> Result<(), ReadError> {
    let name = path.display().to_string();
    let input = ctx.begin(name.clone());
    let result = match intake::open_stream(path, Kind::TelemetryStream) {
        Ok(opened) => {
            let len = opened.len;
            read_seekable(ctx, input, &name, opened.file, len, 0)
        }
        // A FIFO or a device in a folder is not telemetry either.
        Err(e @ intake::IntakeError::NotRegular { .. }) => Err(Fail::NotTelemetry(e.to_string())),
        Err(e) => Err(Fail::Broken(format_err(&name, e.to_string()))),
    };
    settle(ctx, input, &name, result, explicit)
}

/// A refusal of a file inside a folder or a ZIP is counted; anything else
/// stops the run.
pub(super) fn settle(
    ctx: &mut Ctx<'_>,
    input: usize,
    name: &str,
    result: Result<(), Fail>,
    explicit: bool,
) -> Result<(), ReadError> {
    match result {
        Ok(()) => Ok(()),
        Err(Fail::NotTelemetry(why)) if !explicit => {
            ctx.stats(input).refused = Some(why);
            Ok(())
        }
        Err(Fail::NotTelemetry(why)) => Err(format_err(name, why)),
        Err(Fail::Broken(e)) => Err(e),
    }
}

/// How many bytes are sniffed: enough for EVTX's header.
const SNIFF: usize = 4096;

/// Sniffs a reader that can seek (a file, an entry read into memory) and
/// reads it as what it is; `depth` is how many ZIPs it is inside.
pub(super) fn read_seekable<R: Read + Seek>(
    ctx: &mut Ctx<'_>,
    input: usize,
    name: &str,
    mut reader: R,
    len: u64,
    depth: usize,
) -> Result<(), Fail> {
    let io = |e: std::io::Error| Fail::Broken(format_err(name, format!("read: {e}")));
    let mut head = Vec::with_capacity(SNIFF);
    (&mut reader)
        .take(SNIFF as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    reader.rewind().map_err(io)?;
    if archive::is_zip(&head) {
        ctx.set_format(input, "zip");
        return archive::read(ctx, name, reader, depth + 1);
    }
    if head.starts_with(b"ElfFile\0") {
        ctx.set_format(input, "evtx");
        return evtx::read(ctx, input, name, reader, len, &head);
    }
    json::read_text(
        ctx,
        input,
        name,
        std::io::BufReader::with_capacity(1 << 16, reader),
    )
}

pub(super) fn format_err(name: &str, message: impl Into<String>) -> ReadError {
    ReadError::Format {
        file: name.to_string(),
        message: message.into(),
    }
}

/// Events read from a file or a folder, whole: the shape callers that
/// want every event at once use (the recorded backend, the fuzz targets).
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Process and file creations in file order, each with the platform
    /// whose rules apply.
    pub events: Vec<(Event, Platform)>,
    /// Records read that are not process or file creations (other
    /// families, mapped or not, and records skipped by reason).
    pub skipped: usize,
    /// Every file (or `zip!entry`) that gave at least one record.
    pub files: Vec<String>,
    /// What each input gave.
    pub inputs: Vec<InputStats>,
}

impl Loaded {
    fn keep(&mut self, m: Mapped) {
        if m.event.category == Category::Other {
            self.skipped += 1;
        } else {
            self.events.push((m.event, m.platform));
        }
    }

    fn absorb(&mut self, inputs: Vec<InputStats>) {
        for stats in inputs {
            let skipped: u64 = stats.skipped.values().sum();
            self.skipped += usize::try_from(skipped).unwrap_or(usize::MAX);
            if stats.read > 0 {
                self.files.push(stats.name.clone());
            }
            self.inputs.push(stats);
        }
    }
}

/// Loads a file, or every file below a folder (sorted by name): [`stream`]
/// with the process and file creations kept.
pub fn load(path: &Path) -> Result<Loaded, ReadError> {
    let mut out = Loaded::default();
    let inputs = stream(&[path.to_path_buf()], &mut |m| out.keep(m))?;
    out.absorb(inputs);
    Ok(out)
}

/// Sniffs and loads one file's bytes into `out`; `name` is what errors
/// call it. The entry point for "these bytes are a telemetry file".
pub fn load_bytes(name: &str, bytes: Vec<u8>, out: &mut Loaded) -> Result<(), ReadError> {
    let mut kept = Loaded::default();
    let inputs = {
        let mut emit = |m| kept.keep(m);
        let mut ctx = Ctx::new(&mut emit);
        let input = ctx.begin(name.to_string());
        let len = bytes.len() as u64;
        let result = read_seekable(&mut ctx, input, name, std::io::Cursor::new(bytes), len, 0);
        settle(&mut ctx, input, name, result, true)?;
        ctx.inputs
    };
    out.events.append(&mut kept.events);
    out.skipped += kept.skipped;
    out.absorb(inputs);
    Ok(())
}

/// Loads every entry of the ZIP `bytes`, `depth` ZIPs deep, expanding at
/// most `left` more bytes.
#[cfg(test)]
pub(super) fn load_zip(
    name: &str,
    bytes: Vec<u8>,
    out: &mut Loaded,
    depth: usize,
    left: &mut u64,
) -> Result<(), ReadError> {
    let mut kept = Loaded::default();
    let mut emit = |m| kept.keep(m);
    let mut ctx = Ctx::new(&mut emit);
    ctx.zip_left = *left;
    let input = ctx.begin(name.to_string());
    let result = archive::read(&mut ctx, name, std::io::Cursor::new(bytes), depth);
    *left = ctx.zip_left;
    settle(&mut ctx, input, name, result, true)?;
    let inputs = std::mem::take(&mut ctx.inputs);
    drop(ctx);
    out.events.append(&mut kept.events);
    out.absorb(inputs);
    Ok(())
}
