//! Recorded telemetry files → normalised events, each with the platform
//! whose rules apply to it.
//!
//! The format is sniffed from the bytes, not trusted from the name: EVTX
//! (`ElfFile` magic), ZIP (`PK` magic, every entry sniffed in turn), JSON
//! (one document, an array of records, or JSON lines of Sysmon/Winlogbeat
//! objects), and otherwise raw auditd/laurel text, which goes to
//! [`telemetry_auditd`]. Only process creations
//! (Sysmon 1, Security 4688) and file creations (Sysmon 11) are kept; the
//! rest are counted as skipped. Nothing here evaluates rules.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use super::ReplayError;
use super::model::{InputStats, Mapped, Origin};
use crate::scenario::Platform;
use crate::telemetry::{Category, Event};
use crate::telemetry_auditd;
use archive::is_zip;
pub(super) use archive::load_zip;
pub use archive::{ZIP_DEPTH_LIMIT, ZIP_EXPANDED_LIMIT};

mod archive;
pub mod logsource;

/// Reads every path in turn (a folder: every file below it, sorted by
/// name) and hands each mapped record to `emit` as it is read; returns
/// what each input gave, in reading order.
pub fn stream(
    paths: &[PathBuf],
    emit: &mut dyn FnMut(Mapped),
) -> Result<Vec<InputStats>, ReplayError> {
    let mut inputs = Vec::new();
    for path in paths {
        let loaded = load(path)?;
        let input = inputs.len();
        let mut stats = InputStats {
            name: path.display().to_string(),
            format: "telemetry".into(),
            read: (loaded.events.len() + loaded.skipped) as u64,
            mapped: loaded.events.len() as u64,
            ..InputStats::default()
        };
        if loaded.skipped > 0 {
            stats
                .skipped
                .insert("not a replayed kind".into(), loaded.skipped as u64);
        }
        inputs.push(stats);
        for (event, platform) in loaded.events {
            let host = event
                .fields
                .get("Computer")
                .and_then(Value::as_str)
                .map(str::to_string);
            emit(Mapped {
                logsources: logsource::basic(platform, event.category),
                origin: Origin {
                    provider: "telemetry",
                    id: None,
                },
                event,
                platform,
                host,
                input,
            });
        }
    }
    Ok(inputs)
}

/// Events read from a file or a folder.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Events in file order, each with the platform whose rules apply.
    pub events: Vec<(Event, Platform)>,
    /// Records or lines that were read but are not a replayed kind (other
    /// event ids, auditd lines not understood).
    pub skipped: usize,
    /// Every file (or `zip!entry`) that gave at least one record.
    pub files: Vec<String>,
}

/// Loads a file, or every file below a folder (sorted by name).
pub fn load(path: &Path) -> Result<Loaded, ReplayError> {
    let mut out = Loaded::default();
    let meta = std::fs::metadata(path).map_err(|source| ReplayError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files)?;
        files.sort();
        for file in files {
            load_file(&file, &mut out)?;
        }
    } else {
        load_file(path, &mut out)?;
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ReplayError> {
    let read = |source| ReplayError::Read {
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

fn load_file(path: &Path, out: &mut Loaded) -> Result<(), ReplayError> {
    let name = path.display().to_string();
    let bytes = crate::intake::read_bytes(path, crate::intake::Kind::Telemetry)
        .map_err(|e| format_err(&name, e.to_string()))?;
    load_bytes(&name, bytes, out)
}

/// Sniffs and loads one file's bytes into `out`; `name` is what errors
/// call it. The entry point for "these bytes are a telemetry file".
pub fn load_bytes(name: &str, bytes: Vec<u8>, out: &mut Loaded) -> Result<(), ReplayError> {
    let before = out.events.len() + out.skipped;
    if is_zip(&bytes) {
        // Entries name themselves in `files`.
        let mut left = ZIP_EXPANDED_LIMIT;
        return load_zip(name, bytes, out, 1, &mut left);
    }
    if bytes.starts_with(b"ElfFile\0") {
        load_evtx(name, bytes, out)?;
    } else {
        let text = String::from_utf8(bytes).map_err(|_| format_err(name, "not UTF-8 text"))?;
        load_text(name, &text, out)?;
    }
    if out.events.len() + out.skipped > before {
        out.files.push(name.to_string());
    }
    Ok(())
}

fn format_err(name: &str, message: impl Into<String>) -> ReplayError {
    ReplayError::Format {
        file: name.to_string(),
        message: message.into(),
    }
}

/// EVTX layout: a 4 KiB file header, then 64 KiB chunks of records.
const EVTX_HEADER: usize = 4096;
const EVTX_CHUNK: usize = 65536;

fn load_evtx(name: &str, bytes: Vec<u8>, out: &mut Loaded) -> Result<(), ReplayError> {
    // The evtx crate skips a chunk it cannot read without a word, so a cut
    // file would replay as "0 events": the header's chunk count says how
    // much must be there.
    let announced = bytes
        .get(42..44)
        .map_or(0, |b| usize::from(u16::from_le_bytes([b[0], b[1]])));
    let expected = EVTX_HEADER + announced * EVTX_CHUNK;
    let size = bytes.len();
    let mut parser =
        evtx::EvtxParser::from_buffer(bytes).map_err(|e| format_err(name, format!("EVTX: {e}")))?;
    let mut read = 0usize;
    for record in parser.records_json_value() {
        let record = record.map_err(|e| {
            format_err(
                name,
                format!("EVTX: truncated or corrupt: record {} unreadable ({e}); {read} record(s) read before it", read + 1),
            )
        })?;
        read += 1;
        match windows_record(&record.data) {
            Some(event) => out.events.push((event, Platform::Windows)),
            None => out.skipped += 1,
        }
    }
    if size < expected {
        return Err(format_err(
            name,
            format!(
                "EVTX: truncated or corrupt: the header announces {announced} chunk(s), \
                 {expected} bytes, and the file has {size}; {read} record(s) read before the cut"
            ),
        ));
    }
    Ok(())
}

/// JSON (a document, an array, or lines) or, failing that, auditd text.
fn load_text(name: &str, text: &str, out: &mut Loaded) -> Result<(), ReplayError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Ok(());
    }
    if !trimmed.starts_with(['{', '[']) {
        return load_auditd(name, trimmed, out);
    }
    if let Ok(doc) = serde_json::from_str::<Value>(trimmed) {
        let records = match doc {
            Value::Array(items) => items,
            other => vec![other],
        };
        return load_json_records(name, records.iter().map(|r| (0, r)), out);
    }
    let mut records = Vec::new();
    for (n, line) in trimmed.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let value = serde_json::from_str::<Value>(line)
            .map_err(|e| format_err(name, format!("line {}: invalid JSON: {e}", n + 1)))?;
        records.push((n + 1, value));
    }
    load_json_records(name, records.iter().map(|(n, v)| (*n, v)), out)
}

/// Windows-style records become events; audit records carried in JSON
/// (laurel lines, `SyslogMessage` exports) are handed to the auditd parser
/// together, since one audit event spans several lines.
fn load_json_records<'a>(
    name: &str,
    records: impl Iterator<Item = (usize, &'a Value)>,
    out: &mut Loaded,
) -> Result<(), ReplayError> {
    let mut audit = String::new();
    for (line, record) in records {
        if !record.is_object() {
            let at = if line > 0 {
                format!("line {line}: ")
            } else {
                String::new()
            };
            return Err(format_err(
                name,
                format!("{at}a record is not a JSON object"),
            ));
        }
        if record.get("SyslogMessage").is_some() || record.get("SYSCALL").is_some() {
            audit.push_str(&record.to_string());
            audit.push('\n');
            continue;
        }
        match windows_record(record) {
            Some(event) => {
                let platform = platform_of(&event);
                out.events.push((event, platform));
            }
            None => out.skipped += 1,
        }
    }
    if !audit.is_empty() {
        let parsed = telemetry_auditd::parse_auto(&audit);
        out.skipped += parsed.skipped_lines;
        out.events
            .extend(parsed.events.into_iter().map(|e| (e, Platform::Linux)));
    }
    Ok(())
}

fn load_auditd(name: &str, text: &str, out: &mut Loaded) -> Result<(), ReplayError> {
    let parsed = telemetry_auditd::parse_auto(text);
    if parsed.events.is_empty() && parsed.skipped_lines > 0 {
        let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
        if parsed.skipped_lines >= lines {
            return Err(format_err(
                name,
                "no EVTX, ZIP, JSON or audit records recognised",
            ));
        }
    }
    out.skipped += parsed.skipped_lines;
    out.events
        .extend(parsed.events.into_iter().map(|e| (e, Platform::Linux)));
    Ok(())
}

/// Windows if the image is a drive or UNC path, else Linux.
fn platform_of(event: &Event) -> Platform {
    let image = event
        .fields
        .get("Image")
        .and_then(Value::as_str)
        .unwrap_or("");
    let bytes = image.as_bytes();
    let drive = bytes.len() > 2 && bytes[1] == b':' && matches!(bytes[2], b'\\' | b'/');
    if drive || image.starts_with("\\\\") || event.fields.contains_key("Channel") {
        Platform::Windows
    } else {
        Platform::Linux
    }
}

/// One Sysmon/Security record, nested (`Event.System`, `Event.EventData`),
/// Winlogbeat (`winlog.event_id`, `winlog.event_data`) or flat, as an event
/// with the fields at top level; `None` when it is not a replayed kind.
pub(crate) fn windows_record(record: &Value) -> Option<Event> {
    let (system, data) = if let Some(ev) = record.get("Event") {
        (
            ev.get("System"),
            ev.get("EventData").unwrap_or(&Value::Null),
        )
    } else if let Some(w) = record.get("winlog") {
        (Some(w), w.get("event_data").unwrap_or(&Value::Null))
    } else {
        (None, record)
    };
    let id_of = |v: &Value| -> Option<u64> {
        let v = v.get("#text").unwrap_or(v);
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    };
    let id = system
        .and_then(|s| s.get("EventID").or_else(|| s.get("event_id")))
        .or_else(|| record.get("EventID"))
        .or_else(|| record.get("EventCode"))
        .and_then(id_of);
    let channel = system
        .and_then(|s| s.get("Channel").or_else(|| s.get("channel")))
        .or_else(|| record.get("Channel"))
        .and_then(Value::as_str);
    let stated = record.get("category").and_then(Value::as_str);
    let sysmon = channel.is_none_or(|c| c.contains("Sysmon"));
    let security = channel.is_none_or(|c| c.eq_ignore_ascii_case("Security"));
    let (category, is_4688) = match (stated, id) {
        (Some("process_creation"), _) => (Category::ProcessCreation, false),
        (Some("file_event"), _) => (Category::FileEvent, false),
        (Some(_), _) => return None,
        (None, Some(1)) if sysmon => (Category::ProcessCreation, false),
        (None, Some(11)) if sysmon => (Category::FileEvent, false),
        (None, Some(4688)) if security => (Category::ProcessCreation, true),
        _ => return None,
    };
    let mut fields = flat_fields(data);
    if is_4688 {
        map_4688(&mut fields);
    }
    if let Some(id) = id {
        fields.insert("EventID".into(), Value::from(id));
    }
    if let Some(c) = channel {
        fields.insert("Channel".into(), Value::from(c));
    }
    if let Some(c) = system
        .and_then(|s| s.get("Computer").or_else(|| s.get("computer_name")))
        .and_then(Value::as_str)
    {
        fields.insert("Computer".into(), Value::from(c));
    }
    let at = event_time(record, system, &fields);
    Some(Event {
        category,
        at,
        hop: None,
        fields,
    })
}

/// `EventData` (an object, or a list of `{"Name":..,"#text":..}` pairs)
/// as top-level fields. Sysmon already uses the names Sigma rules expect
/// (`Image`, `ParentImage`, `ProcessGuid`, ...); nested objects and nulls
/// are left out.
fn flat_fields(data: &Value) -> Map<String, Value> {
    let mut fields = Map::new();
    let mut put = |k: &str, v: &Value| match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            fields.insert(k.to_string(), v.clone());
        }
        _ => {}
    };
    match data {
        Value::Object(map) => map.iter().for_each(|(k, v)| put(k, v)),
        Value::Array(items) => items.iter().for_each(|item| {
            if let (Some(k), Some(v)) =
                (item.get("Name").and_then(Value::as_str), item.get("#text"))
            {
                put(k, v);
            }
        }),
        _ => {}
    }
    fields
}

/// Security 4688 → Sysmon names. In 4688, `ProcessId` is the creator's
/// (the parent's) id, and ids are hexadecimal.
fn map_4688(fields: &mut Map<String, Value>) {
    let hex = |v: Option<Value>| {
        v.as_ref()
            .and_then(Value::as_str)
            .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
            .map(Value::from)
    };
    let parent_pid = hex(fields.remove("ProcessId"));
    let pid = hex(fields.remove("NewProcessId"));
    if let Some(v) = fields.remove("NewProcessName") {
        fields.insert("Image".into(), v);
    }
    if let Some(v) = fields.remove("ParentProcessName") {
        fields.insert("ParentImage".into(), v);
    }
    if let Some(v) = pid {
        fields.insert("ProcessId".into(), v);
    }
    if let Some(v) = parent_pid {
        fields.insert("ParentProcessId".into(), v);
    }
    let domain = fields.get("SubjectDomainName").and_then(Value::as_str);
    let user = fields.get("SubjectUserName").and_then(Value::as_str);
    if let (Some(d), Some(u)) = (domain, user) {
        let joined = format!("{d}\\{u}");
        fields.insert("User".into(), Value::from(joined));
    }
}

/// Sysmon's `UtcTime`, else the record's `TimeCreated`/`@timestamp`.
fn event_time(
    record: &Value,
    system: Option<&Value>,
    fields: &Map<String, Value>,
) -> Option<OffsetDateTime> {
    let utc = format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]");
    if let Some(t) = fields.get("UtcTime").and_then(Value::as_str)
        && let Ok(t) = time::PrimitiveDateTime::parse(t, utc)
    {
        return Some(t.assume_utc());
    }
    // chainproof recordings write UtcTime as RFC 3339.
    if let Some(t) = fields.get("UtcTime").and_then(Value::as_str)
        && let Ok(t) = OffsetDateTime::parse(t, &Rfc3339)
    {
        return Some(t);
    }
    let stamp = system
        .and_then(|s| s.get("TimeCreated"))
        .and_then(|t| t.get("#attributes"))
        .and_then(|a| a.get("SystemTime"))
        .or_else(|| record.get("@timestamp"))
        .and_then(Value::as_str)?;
    OffsetDateTime::parse(stamp, &Rfc3339).ok()
}
