//! The semantic layer: the records of one audit event folded into an
//! [`AuditEvent`], and events turned into Sysmon-style
//! [`Event`]s (successful execs as process
//! creations, file creations and renames as file events), with each
//! process's parent image filled from the parent's own exec.
//!
//! It reads no files; user names come from the log or a resolver passed in.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::parse::{Field, RawRecord, decode_bytes, decode_str, split_nul};
use crate::telemetry::{Category, Event};

/// `open`'s `O_CREAT` and `O_TRUNC` (the same on x86_64 and aarch64).
const O_CREAT: u64 = 0x40;
const O_TRUNC: u64 = 0x200;
/// The kernel's "no login uid".
const AUID_UNSET: u32 = u32::MAX;

/// A syscall as the log names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SyscallId {
    Number(u64),
    Name(String),
}

/// One PATH item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PathItem {
    pub(crate) name: Option<String>,
    pub(crate) nametype: Option<String>,
}

/// Everything one audit event says that this module uses.
#[derive(Debug, Clone)]
pub(crate) struct AuditEvent {
    pub(crate) at: OffsetDateTime,
    pub(crate) serial: u64,
    pub(crate) arch: Option<String>,
    pub(crate) syscall: Option<SyscallId>,
    pub(crate) success: Option<bool>,
    pub(crate) pid: Option<u32>,
    pub(crate) ppid: Option<u32>,
    pub(crate) uid: Option<u32>,
    pub(crate) auid: Option<u32>,
    /// Names the log itself recorded (auditd enrichment, laurel, auoms).
    pub(crate) user_name: Option<String>,
    pub(crate) audit_user_name: Option<String>,
    pub(crate) exe: Option<String>,
    pub(crate) key: Option<String>,
    pub(crate) args: [Option<u64>; 4],
    pub(crate) argv: Option<Vec<String>>,
    pub(crate) proctitle: Option<Vec<String>>,
    pub(crate) cwd: Option<String>,
    pub(crate) paths: Vec<PathItem>,
    /// EXECVE arguments by (index, chunk); joined by [`AuditEvent::finish`].
    arg_chunks: BTreeMap<(usize, usize), Vec<u8>>,
}

impl AuditEvent {
    pub(crate) fn new(at: OffsetDateTime, serial: u64) -> Self {
        Self {
            at,
            serial,
            arch: None,
            syscall: None,
            success: None,
            pid: None,
            ppid: None,
            uid: None,
            auid: None,
            user_name: None,
            audit_user_name: None,
            exe: None,
            key: None,
            args: [None; 4],
            argv: None,
            proctitle: None,
            cwd: None,
            paths: Vec::new(),
            arg_chunks: BTreeMap::new(),
        }
    }

    /// Folds one raw record of this event in.
    pub(crate) fn absorb(&mut self, rec: &RawRecord<'_>) {
        let fields = &rec.fields;
        match rec.kind {
            "SYSCALL" => self.syscall_fields(fields),
            "EXECVE" => self.execve_fields(fields),
            "PROCTITLE" => {
                self.proctitle = get(fields, "proctitle")
                    .and_then(decode_bytes)
                    .map(|b| split_nul(&b));
            }
            "CWD" => self.cwd = get(fields, "cwd").and_then(decode_str),
            "PATH" => self.paths.push(PathItem {
                name: get(fields, "name").and_then(decode_str),
                nametype: get(fields, "nametype").map(|f| f.text.to_owned()),
            }),
            k if k.starts_with("AUOMS_") => self.auoms_fields(fields),
            _ => {}
        }
    }

    fn syscall_fields(&mut self, fields: &[(&str, Field<'_>)]) {
        self.arch = get(fields, "arch").map(|f| f.text.to_owned());
        self.syscall = get(fields, "syscall").map(|f| match f.text.parse() {
            Ok(n) => SyscallId::Number(n),
            Err(_) => SyscallId::Name(f.text.to_owned()),
        });
        self.success = get(fields, "success").map(|f| f.text == "yes");
        self.pid = num(fields, "pid");
        self.ppid = num(fields, "ppid");
        self.uid = num(fields, "uid");
        self.auid = num(fields, "auid");
        self.user_name = get(fields, "UID").and_then(decode_str);
        self.audit_user_name = get(fields, "AUID").and_then(decode_str);
        self.exe = get(fields, "exe").and_then(decode_str);
        // Several keys are joined by 0x01 in one hex value.
        self.key = get(fields, "key")
            .and_then(decode_str)
            .map(|k| k.replace('\u{1}', ","));
        for (i, slot) in self.args.iter_mut().enumerate() {
            *slot =
                get(fields, &format!("a{i}")).and_then(|f| u64::from_str_radix(f.text, 16).ok());
        }
    }

    fn execve_fields(&mut self, fields: &[(&str, Field<'_>)]) {
        for &(key, value) in fields {
            let Some(rest) = key.strip_prefix('a') else {
                continue;
            };
            // `aN` whole, or `aN[i]` chunks of a long argument; `aN_len` is
            // only a size hint.
            let (idx, chunk) = match rest.split_once('[') {
                Some((n, c)) => (n.parse(), c.trim_end_matches(']').parse()),
                None => (rest.parse(), Ok(0)),
            };
            if let (Ok(idx), Ok(chunk)) = (idx, chunk) {
                let bytes = decode_bytes(value).unwrap_or_default();
                self.arg_chunks.insert((idx, chunk), bytes);
            }
        }
    }

    /// auoms writes one record per event holding what auditd splits.
    fn auoms_fields(&mut self, fields: &[(&str, Field<'_>)]) {
        self.syscall_fields(fields);
        if let Some(nr) = get(fields, "syscall_r").and_then(|f| f.text.parse().ok()) {
            self.syscall = Some(SyscallId::Number(nr));
        }
        let named = |k: &str| {
            get(fields, k)
                .map(|f| f.text.to_owned())
                .filter(|s| s != "unset")
        };
        self.user_name = named("user");
        self.audit_user_name = named("audit_user");
        self.cwd = get(fields, "cwd").and_then(decode_str);
        self.argv = get(fields, "cmdline").map(|f| split_cmdline(f.text));
        let list = |k: &str| -> Vec<Option<String>> {
            let parsed =
                get(fields, k).and_then(|f| serde_json::from_str::<Vec<Value>>(f.text).ok());
            parsed
                .unwrap_or_default()
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let types = list("path_nametype");
        self.paths = list("path_name")
            .into_iter()
            .enumerate()
            .map(|(i, name)| PathItem {
                name,
                nametype: types.get(i).cloned().flatten(),
            })
            .collect();
    }

    /// Joins chunked EXECVE arguments; call once all records are in.
    pub(crate) fn finish(&mut self) {
        if self.arg_chunks.is_empty() {
            return;
        }
        let mut argv: Vec<Vec<u8>> = Vec::new();
        for ((idx, _), bytes) in std::mem::take(&mut self.arg_chunks) {
            if argv.len() <= idx {
                argv.resize(idx + 1, Vec::new());
            }
            argv[idx].extend_from_slice(&bytes);
        }
        self.argv = Some(
            argv.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect(),
        );
    }
}

fn get<'a>(fields: &[(&str, Field<'a>)], key: &str) -> Option<Field<'a>> {
    fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

fn num(fields: &[(&str, Field<'_>)], key: &str) -> Option<u32> {
    get(fields, key).and_then(|f| f.text.parse().ok())
}

/// auoms' `cmdline` is argv joined by spaces, an argument with special
/// characters wrapped in double quotes.
pub(crate) fn split_cmdline(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut cur, mut in_quotes, mut started) = (String::new(), false, false);
    for c in s.chars() {
        match c {
            '"' => (in_quotes, started) = (!in_quotes, true),
            ' ' if !in_quotes => {
                if started {
                    out.push(std::mem::take(&mut cur));
                }
                started = false;
            }
            _ => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(cur);
    }
    out
}

/// What a syscall does, as far as this module cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Exec,
    /// Creates a file; `Some(i)` when only with `O_CREAT` in argument `i`.
    Create(Option<usize>),
    Rename,
    Other,
}

fn action(arch: Option<&str>, id: &SyscallId) -> Action {
    let name = match id {
        SyscallId::Name(n) => n.as_str(),
        SyscallId::Number(n) => syscall_name(arch, *n).unwrap_or(""),
    };
    match name {
        "execve" | "execveat" => Action::Exec,
        "creat" => Action::Create(None),
        "open" => Action::Create(Some(1)),
        "openat" => Action::Create(Some(2)),
        "rename" | "renameat" | "renameat2" => Action::Rename,
        _ => Action::Other,
    }
}

/// Number to name for the syscalls used here, by audit arch (raw
/// `c000003e`, laurel's `0xc000003e`, or auoms' `x86_64`).
fn syscall_name(arch: Option<&str>, nr: u64) -> Option<&'static str> {
    let arch = arch?.trim_start_matches("0x").to_ascii_lowercase();
    let table: &[(u64, &str)] = match arch.as_str() {
        "c000003e" | "x86_64" => &[
            (59, "execve"),
            (322, "execveat"),
            (85, "creat"),
            (2, "open"),
            (257, "openat"),
            (82, "rename"),
            (264, "renameat"),
            (316, "renameat2"),
        ],
        "c00000b7" | "aarch64" => &[
            (221, "execve"),
            (281, "execveat"),
            (56, "openat"),
            (38, "renameat"),
            (276, "renameat2"),
        ],
        _ => return None,
    };
    table.iter().find(|(n, _)| *n == nr).map(|(_, name)| *name)
}

/// Looks a uid up on this host.
pub(crate) type Resolver<'a> = &'a dyn Fn(u32) -> Option<String>;

/// Turns audit events into process and file events, time-ordered, with
/// parents filled in.
pub(crate) fn to_events(mut events: Vec<AuditEvent>, resolve: Resolver<'_>) -> Vec<Event> {
    events.sort_by_key(|e| (e.at, e.serial));
    let mut out = Vec::new();
    // pid → (image, command line) of its latest exec so far.
    let mut latest: HashMap<u32, (Option<Value>, Option<Value>)> = HashMap::new();
    for e in &events {
        let (Some(id), Some(true)) = (&e.syscall, e.success) else {
            continue;
        };
        match action(e.arch.as_deref(), id) {
            Action::Exec => {
                let mut ev = process_event(e, resolve);
                if let Some((image, cmd)) = e.ppid.and_then(|p| latest.get(&p)) {
                    put(&mut ev.fields, "ParentImage", image.clone());
                    put(&mut ev.fields, "ParentCommandLine", cmd.clone());
                }
                if let Some(pid) = e.pid {
                    let image = ev.fields.get("Image").cloned();
                    let cmd = ev.fields.get("CommandLine").cloned();
                    latest.insert(pid, (image, cmd));
                }
                out.push(ev);
            }
            Action::Create(flags_arg) => {
                let flags = flags_arg.map(|i| e.args[i].unwrap_or(0));
                if flags.is_none_or(|f| f & O_CREAT != 0) {
                    let truncates = flags.is_none_or(|f| f & O_TRUNC != 0);
                    out.extend(file_event(e, truncates));
                }
            }
            Action::Rename => out.extend(file_event(e, false)),
            Action::Other => {}
        }
    }
    out
}

fn put(fields: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v.filter(|v| !v.is_null()) {
        fields.insert(key.to_owned(), v);
    }
}

fn user(name: Option<&String>, uid: Option<u32>, resolve: Resolver<'_>) -> Option<Value> {
    let uid = uid.filter(|&u| u != AUID_UNSET);
    let name = name.cloned().or_else(|| uid.and_then(resolve));
    name.map(Value::from)
        .or_else(|| uid.map(|u| json!(u.to_string())))
}

fn process_event(e: &AuditEvent, resolve: Resolver<'_>) -> Event {
    let argv = e.argv.as_ref().or(e.proctitle.as_ref());
    let mut fields = Map::new();
    put(&mut fields, "Image", e.exe.clone().map(Value::from));
    put(&mut fields, "CommandLine", argv.map(|a| json!(a.join(" "))));
    put(&mut fields, "Argv", argv.map(|a| json!(a)));
    put(&mut fields, "ProcessId", e.pid.map(Value::from));
    put(&mut fields, "ParentProcessId", e.ppid.map(Value::from));
    put(
        &mut fields,
        "CurrentDirectory",
        e.cwd.clone().map(Value::from),
    );
    put(
        &mut fields,
        "User",
        user(e.user_name.as_ref(), e.uid, resolve),
    );
    let audit_user = user(e.audit_user_name.as_ref(), e.auid, resolve);
    put(&mut fields, "AuditUser", audit_user);
    put(&mut fields, "AuditKey", e.key.clone().map(Value::from));
    Event {
        category: Category::ProcessCreation,
        // The audit stamp is when the kernel recorded the event into the
        // trail: the trail's own arrival time (on a live host, the record
        // reaches audit.log within milliseconds of it).
        arrived: Some(e.at),
        at: Some(e.at),
        hop: None,
        fields,
    }
}

/// The file an event created: the CREATE item, or for a truncating open
/// of an existing file (an overwrite) its NORMAL item.
fn file_event(e: &AuditEvent, overwrite_counts: bool) -> Option<Event> {
    let by_type = |t: &str| e.paths.iter().find(|p| p.nametype.as_deref() == Some(t));
    let item =
        by_type("CREATE").or_else(|| overwrite_counts.then(|| by_type("NORMAL")).flatten())?;
    let name = item.name.as_deref()?;
    let target = match (name.starts_with('/'), e.cwd.as_deref()) {
        (false, Some(cwd)) => format!(
            "{}/{}",
            cwd.trim_end_matches('/'),
            name.trim_start_matches("./")
        ),
        _ => name.to_owned(),
    };
    let mut fields = Map::new();
    fields.insert("TargetFilename".into(), json!(target));
    put(&mut fields, "Image", e.exe.clone().map(Value::from));
    put(&mut fields, "ProcessId", e.pid.map(Value::from));
    put(&mut fields, "AuditKey", e.key.clone().map(Value::from));
    Some(Event {
        category: Category::FileEvent,
        // The audit stamp is when the kernel recorded the event into the
        // trail: the trail's own arrival time (on a live host, the record
        // reaches audit.log within milliseconds of it).
        arrived: Some(e.at),
        at: Some(e.at),
        hop: None,
        fields,
    })
}
