//! Reading the files a user hands the harness, before any parser sees them:
//! scenarios, the config, gate policies, Sigma and analytic rules, remote
//! inventories and recorded telemetry.
//!
//! Every loader (and the run-record reader) reads through [`read_bytes`] or [`read_text`], so one rule
//! holds for all of them: only regular files are read (after following
//! symbolic links), and never more than the [`Kind`]'s documented limit. A
//! FIFO would block the harness forever and `/dev/zero` would fill memory;
//! both are refused before a byte is read. The limit is checked on the
//! file's size and again while reading (at most limit + 1 bytes are read), so
//! a file that grows under us is still bounded.
//!
//! YAML texts then pass [`yaml::check`] before they are parsed: the YAML
//! scanner under serde_yaml_ng is quadratic in nesting depth (50,000 nested
//! flow mappings took 19 s to refuse, 500 KB of them over 200 s), so depth
//! is bounded by a linear scan first. The limits are documented in `docs/scenarios.md` and
//! `docs/config.md`. Nothing here parses or interprets a file.

pub mod yaml;

use std::io::Read;
use std::path::{Path, PathBuf};

/// What a file is for; each kind has its own size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A scenario file.
    Scenario,
    /// The config file (`--config`).
    Config,
    /// A gate policy (`gate --policy`).
    Policy,
    /// A Sigma rule or chainproof analytic file.
    Rule,
    /// A remote-target inventory (`--targets`).
    Inventory,
    /// Recorded telemetry read whole (`replay --telemetry` for the formats
    /// that cannot be streamed, the auditd backend's files).
    Telemetry,
    /// Recorded telemetry read as a stream (JSON lines, EVTX, ZIP): memory
    /// does not grow with the file, so only a sanity bound applies.
    TelemetryStream,
    /// A run record (`run.json`) read by `report`, `gate`, `diff`, `merge`
    /// and `verify`.
    Record,
}

/// 256 KiB: a hand-written scenario, config or policy is a few KB. The
/// YAML parser's cost is per token (about 1.4 µs and 90 bytes each in a
/// debug build), so this bounds the worst file under the limits to well
/// under a second and 100 MB.
const YAML_LIMIT: u64 = 256 << 10;

/// 300 KiB: the largest SigmaHQ rule (a list of vulnerable driver hashes) is
/// about 295 KB; rsigma-parser costs more per token than serde_yaml_ng.
const RULE_LIMIT: u64 = 300 << 10;

impl Kind {
    /// The largest file of this kind that is read, in bytes.
    pub const fn limit(self) -> u64 {
        match self {
            Kind::Scenario | Kind::Config | Kind::Policy | Kind::Inventory => YAML_LIMIT,
            Kind::Rule => RULE_LIMIT,
            // EVTX exports and audit logs of a lab host run to hundreds of MB;
            // replay holds a file in memory, so it stays bounded.
            Kind::Telemetry => 1 << 30,
            // A week of a busy host's Sysmon JSON runs to tens of GB; the
            // reader holds one record at a time.
            Kind::TelemetryStream => 1 << 40,
            // A record holds ground truth and verdicts, not telemetry: a
            // fleet of hundreds of runs is a few MB.
            Kind::Record => 64 << 20,
        }
    }

    /// How messages name the kind.
    pub const fn noun(self) -> &'static str {
        match self {
            Kind::Scenario => "scenario",
            Kind::Config => "config",
            Kind::Policy => "gate policy",
            Kind::Rule => "rule file",
            Kind::Inventory => "inventory",
            Kind::Telemetry | Kind::TelemetryStream => "telemetry file",
            Kind::Record => "run record",
        }
    }
}

/// Why a file was not read. Messages leave the path out, so a loader's
/// error can put it in front (`x.yaml: not UTF-8 at byte 16`) or around
/// (`read config x.yaml`, caused by `is a FIFO, ...`); [`IntakeError::path`]
/// gives it.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// Opening or reading failed.
    #[error("cannot read: {error}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error (in the message: loaders print no cause chain).
        error: std::io::Error,
    },
    /// A FIFO, a device, a socket or a folder where a file was expected.
    #[error("is {what}, not a regular file (a {noun} must be a regular file)")]
    NotRegular {
        /// The path.
        path: PathBuf,
        /// What it is instead, e.g. `a FIFO`.
        what: &'static str,
        /// The kind of file expected.
        noun: &'static str,
    },
    /// Larger than the kind's limit.
    #[error("larger than {limit} bytes, the limit for a {noun}")]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
        /// The kind of file.
        noun: &'static str,
    },
    /// Text expected, and the bytes are not UTF-8.
    #[error("not UTF-8 at byte {offset}")]
    NotUtf8 {
        /// The path.
        path: PathBuf,
        /// 0-based offset of the first invalid byte.
        offset: usize,
    },
}

impl IntakeError {
    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            IntakeError::Io { path, .. }
            | IntakeError::NotRegular { path, .. }
            | IntakeError::TooLarge { path, .. }
            | IntakeError::NotUtf8 { path, .. } => path,
        }
    }
}

/// The bytes of the regular file at `path` (symbolic links followed), at
/// most `kind.limit()` of them; anything else is refused unread.
pub fn read_bytes(path: &Path, kind: Kind) -> Result<Vec<u8>, IntakeError> {
    let io = |error| IntakeError::Io {
        path: path.to_path_buf(),
        error,
    };
    let (file, len) = open(path, kind)?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(kind.limit() + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > kind.limit() {
        return Err(IntakeError::TooLarge {
            path: path.to_path_buf(),
            limit: kind.limit(),
            noun: kind.noun(),
        });
    }
    Ok(bytes)
}

/// The regular file at `path` opened for reading, with its size, after the
/// checks of [`read_bytes`], for readers that hold a record at a time
/// instead of the file. [`Opened::bounded`] still stops a file that grows
/// past the limit while it is read.
pub fn open_stream(path: &Path, kind: Kind) -> Result<Opened, IntakeError> {
    let (file, len) = open(path, kind)?;
    Ok(Opened {
        len,
        limit: kind.limit(),
        file,
    })
}

/// A checked file opened by [`open_stream`].
#[derive(Debug)]
pub struct Opened {
    /// Its size when opened.
    pub len: u64,
    /// The kind's limit.
    pub limit: u64,
    /// The file itself, for readers that seek (EVTX, ZIP).
    pub file: std::fs::File,
}

impl Opened {
    /// The file as a reader that stops one byte past the limit.
    pub fn bounded(self) -> std::io::Take<std::fs::File> {
        self.file.take(self.limit + 1)
    }
}

/// Checks `path` and opens it: a regular file within the kind's limit.
fn open(path: &Path, kind: Kind) -> Result<(std::fs::File, u64), IntakeError> {
    let io = |error| IntakeError::Io {
        path: path.to_path_buf(),
        error,
    };
    // Checked on the path first so a FIFO is never opened: opening one for
    // reading blocks until a writer appears.
    let meta = std::fs::metadata(path).map_err(io)?;
    if let Some(what) = not_regular(&meta.file_type()) {
        return Err(IntakeError::NotRegular {
            path: path.to_path_buf(),
            what,
            noun: kind.noun(),
        });
    }
    let too_large = || IntakeError::TooLarge {
        path: path.to_path_buf(),
        limit: kind.limit(),
        noun: kind.noun(),
    };
    if meta.len() > kind.limit() {
        return Err(too_large());
    }
    let file = open_regular(path).map_err(io)?;
    // The path may have been swapped between the check and the open.
    let opened = file.metadata().map_err(io)?;
    if let Some(what) = not_regular(&opened.file_type()) {
        return Err(IntakeError::NotRegular {
            path: path.to_path_buf(),
            what,
            noun: kind.noun(),
        });
    }
    if opened.len() > kind.limit() {
        return Err(too_large());
    }
    Ok((file, opened.len()))
}

/// [`read_bytes`], then UTF-8 (a leading byte-order mark is kept).
pub fn read_text(path: &Path, kind: Kind) -> Result<String, IntakeError> {
    let bytes = read_bytes(path, kind)?;
    String::from_utf8(bytes).map_err(|e| IntakeError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Opens without blocking: if the path became a FIFO after the check, the
/// open returns at once and the descriptor check refuses it.
fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(nix::libc::O_NONBLOCK);
    }
    options.open(path)
}

fn not_regular(t: &std::fs::FileType) -> Option<&'static str> {
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a file")
}

#[cfg(test)]
mod tests;
