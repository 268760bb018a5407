//! Reads what a process is from `/proc/<pid>`: image, argv, user, parent, cwd, start time,
//! and whether it carries the run token.
//!
//! Every read goes through one open directory descriptor of `/proc/<pid>`: if the pid is
//! reused while we read, the old descriptor fails with `ESRCH` instead of describing another
//! process. Reads never fail the caller: a field that cannot be read (the process exited,
//! or belongs to another user) is `None`. Parsing is separate from I/O and unit-tested.

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;

use nix::fcntl::{OFlag, openat, readlinkat};
use nix::sys::stat::Mode;

/// Longest `environ` or `cmdline` we read: chain processes put the token near the start.
const READ_LIMIT: u64 = 256 * 1024;

/// What to look for: the environment entry and the bare token for argv.
#[derive(Debug, Clone)]
pub(crate) struct TokenMatcher {
    env_entry: Vec<u8>,
    token: String,
}

impl TokenMatcher {
    /// Matches `CHAINPROOF_TOKEN=<token>` in environ and `token` inside any argv element.
    /// An empty token matches nothing (it would otherwise match every process).
    pub(crate) fn new(token: &str) -> Self {
        Self {
            env_entry: format!("CHAINPROOF_TOKEN={token}").into_bytes(),
            token: token.to_owned(),
        }
    }

    /// Whether a NUL-separated environ block holds exactly our token variable.
    pub(crate) fn in_environ(&self, environ: &[u8]) -> bool {
        !self.token.is_empty() && environ.split(|b| *b == 0).any(|e| e == self.env_entry)
    }

    /// Whether any argument contains the token.
    pub(crate) fn in_argv(&self, argv: &[String]) -> bool {
        !self.token.is_empty() && argv.iter().any(|a| a.contains(&self.token))
    }
}

/// Fields of `/proc/<pid>/stat` we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    /// Current parent (field 4): after a double fork this is 1 or a subreaper.
    pub ppid: u32,
    /// Start time in clock ticks since boot (field 22).
    pub start_ticks: u64,
}

/// Fields of `/proc/<pid>/status` we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Status {
    /// Effective uid (second value of `Uid:`): the privileges the process runs with.
    pub euid: Option<u32>,
    /// Current parent (`PPid:`).
    pub ppid: Option<u32>,
}

/// Everything read about one process at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Details {
    /// Target of `/proc/<pid>/exe`.
    pub image: Option<String>,
    /// `/proc/<pid>/cmdline` split at NULs.
    pub argv: Option<Vec<String>>,
    /// Whether environ or argv held the token.
    pub has_token: bool,
    /// From `status`.
    pub status: Status,
    /// Target of `/proc/<pid>/cwd`.
    pub cwd: Option<String>,
    /// From `stat`.
    pub stat: Option<Stat>,
}

/// An open `/proc/<pid>` directory.
pub(crate) struct ProcDir(OwnedFd);

impl ProcDir {
    /// Opens `/proc/<pid>`, or `None` if the process is gone.
    pub(crate) fn open(pid: u32) -> Option<Self> {
        let path = format!("/proc/{pid}");
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        nix::fcntl::open(path.as_str(), flags, Mode::empty())
            .ok()
            .map(Self)
    }

    fn link(&self, name: &str) -> Option<String> {
        let target = readlinkat(&self.0, name).ok()?;
        Some(target.to_string_lossy().into_owned())
    }

    fn bytes(&self, name: &str) -> Option<Vec<u8>> {
        let fd = openat(
            &self.0,
            name,
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        let mut buf = Vec::new();
        File::from(fd).take(READ_LIMIT).read_to_end(&mut buf).ok()?;
        Some(buf)
    }

    /// `exe` target.
    pub(crate) fn image(&self) -> Option<String> {
        self.link("exe")
    }

    /// `cmdline` as argv; `None` when unreadable or empty (a zombie or kernel thread).
    pub(crate) fn argv(&self) -> Option<Vec<String>> {
        self.bytes("cmdline")
            .map(|raw| parse_cmdline(&raw))
            .filter(|argv| !argv.is_empty())
    }

    /// Whether `environ` holds the token; false when unreadable.
    pub(crate) fn environ_has(&self, matcher: &TokenMatcher) -> bool {
        self.bytes("environ")
            .is_some_and(|raw| matcher.in_environ(&raw))
    }

    /// Parsed `status`.
    pub(crate) fn status(&self) -> Status {
        self.bytes("status")
            .map(|raw| parse_status(&String::from_utf8_lossy(&raw)))
            .unwrap_or_default()
    }

    /// `cwd` target.
    pub(crate) fn cwd(&self) -> Option<String> {
        self.link("cwd")
    }

    /// Parsed `stat`.
    pub(crate) fn stat(&self) -> Option<Stat> {
        self.bytes("stat").and_then(|raw| parse_stat(&raw))
    }

    /// Reads everything, most perishable first: `exe`, `cmdline` and `environ` live in the
    /// process's memory map, which the kernel drops first when the process exits.
    pub(crate) fn details(&self, matcher: &TokenMatcher) -> Details {
        let image = self.image();
        let argv = self.argv();
        let env_token = self.environ_has(matcher);
        let status = self.status();
        let cwd = self.cwd();
        let stat = self.stat();
        let has_token = env_token || argv.as_deref().is_some_and(|a| matcher.in_argv(a));
        Details {
            image,
            argv,
            has_token,
            status,
            cwd,
            stat,
        }
    }
}

/// Reads everything about `pid` right now; all `None` if it is already gone.
pub(crate) fn read_details(pid: u32, matcher: &TokenMatcher) -> Details {
    ProcDir::open(pid)
        .map(|dir| dir.details(matcher))
        .unwrap_or_default()
}

/// Splits a `cmdline` block at NULs, dropping the terminating one.
pub(crate) fn parse_cmdline(raw: &[u8]) -> Vec<String> {
    if raw.is_empty() {
        return Vec::new();
    }
    let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
    raw.split(|b| *b == 0)
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

/// Parses `PPid:` and the effective uid from `Uid:` (real, effective, saved, filesystem).
pub(crate) fn parse_status(text: &str) -> Status {
    let mut status = Status::default();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Uid:") {
            status.euid = rest.split_whitespace().nth(1).and_then(|v| v.parse().ok());
        } else if let Some(rest) = line.strip_prefix("PPid:") {
            status.ppid = rest.trim().parse().ok();
        }
    }
    status
}

/// Parses `stat`. The command name (field 2) is in parentheses and may itself contain spaces
/// and parentheses, so fields are counted from the last `)`.
pub(crate) fn parse_stat(raw: &[u8]) -> Option<Stat> {
    let close = raw.iter().rposition(|b| *b == b')')?;
    let rest = std::str::from_utf8(raw.get(close + 1..)?).ok()?;
    let mut fields = rest.split_whitespace();
    // After the name: field 3 (state) is index 0, field 4 (ppid) index 1, field 22 index 19.
    let ppid = fields.nth(1)?.parse().ok()?;
    let start_ticks = fields.nth(17)?.parse().ok()?;
    Some(Stat { ppid, start_ticks })
}

#[cfg(test)]
#[path = "procfs_tests.rs"]
mod tests;
