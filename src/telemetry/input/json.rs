//! Text inputs, streamed: JSON lines (one line at a time into one reused
//! buffer), several JSON documents one after another (evtx_dump's default
//! output: pretty-printed objects, read one document at a time), a JSON
//! array (its elements read one at a time), and otherwise line text:
//! auditd/laurel and syslog lines carrying Sysmon for Linux, read whole
//! (the audit assembler needs an event's records together).
//!
//! Each JSON record is sent to the reader of its shape: a chainproof
//! recording, Sysmon for Linux in a syslog or journal record, laurel or an
//! audit record in `SyslogMessage`, eslogger, the unified log, and
//! otherwise the Windows shapes.

use std::io::{BufRead, Read};

use serde::de::{Deserializer as _, SeqAccess, Visitor};
use serde_json::Value;

use super::{Ctx, Fail, Skip, format_err, linux, macos, windows};
use crate::intake::Kind;

/// Audit records met in JSON, kept for the assembler at the end of the
/// file.
#[derive(Default)]
struct Audit {
    text: String,
    lines: u64,
}

/// Reads a text input.
pub(super) fn read_text<R: BufRead>(
    ctx: &mut Ctx<'_>,
    input: usize,
    name: &str,
    mut r: R,
) -> Result<(), Fail> {
    let io = |e: std::io::Error| Fail::Broken(format_err(name, format!("read: {e}")));
    let head = r.fill_buf().map_err(io)?;
    if let Err(e) = std::str::from_utf8(head)
        && e.error_len().is_some()
    {
        return Err(Fail::NotTelemetry("not UTF-8 text".into()));
    }
    let skipped_lines = skip_blank(&mut r).map_err(io)?;
    let first = r.fill_buf().map_err(io)?.first().copied();
    match first {
        None => {
            ctx.set_format(input, "empty");
            Ok(())
        }
        Some(b'{') => objects(ctx, input, name, r, skipped_lines),
        Some(b'[') => array(ctx, input, name, r),
        Some(_) => lines(ctx, input, name, r),
    }
}

/// Skips a byte-order mark and blank space; the lines passed.
fn skip_blank<R: BufRead>(r: &mut R) -> std::io::Result<usize> {
    let mut lines = 0;
    let mut first = true;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(lines);
        }
        let mut n = 0;
        if first && buf.starts_with("\u{feff}".as_bytes()) {
            n = 3;
        }
        first = false;
        while n < buf.len() && buf[n].is_ascii_whitespace() {
            lines += usize::from(buf[n] == b'\n');
            n += 1;
        }
        let done = n < buf.len();
        r.consume(n);
        if done {
            return Ok(lines);
        }
    }
}

/// JSON objects: one a line, or documents one after another.
fn objects<R: BufRead>(
    ctx: &mut Ctx<'_>,
    input: usize,
    name: &str,
    mut r: R,
    offset: usize,
) -> Result<(), Fail> {
    let invalid = |line: usize, e: &dyn std::fmt::Display| {
        Fail::Broken(format_err(name, format!("line {line}: invalid JSON: {e}")))
    };
    let read = |r: &mut R, buf: &mut String, line: usize| {
        buf.clear();
        r.read_line(buf)
            .map_err(|e| Fail::Broken(format_err(name, format!("line {line}: {e}"))))
    };
    let mut audit = Audit::default();
    let mut buf = String::new();
    let mut line = offset + 1;
    read(&mut r, &mut buf, line)?;
    match serde_json::from_str::<Value>(buf.trim()) {
        Ok(v) => {
            ctx.set_format(input, "json-lines");
            dispatch(ctx, input, v, &mut audit);
            loop {
                line += 1;
                if read(&mut r, &mut buf, line)? == 0 {
                    break;
                }
                let text = buf.trim();
                if text.is_empty() {
                    continue;
                }
                let v = serde_json::from_str::<Value>(text).map_err(|e| invalid(line, &e))?;
                dispatch(ctx, input, v, &mut audit);
            }
        }
        Err(e) if e.is_eof() => {
            // A document spread over lines: read document by document
            // from the start again.
            ctx.set_format(input, "json");
            let again = std::io::Cursor::new(std::mem::take(&mut buf).into_bytes()).chain(r);
            for v in serde_json::Deserializer::from_reader(again).into_iter::<Value>() {
                let v = v.map_err(|e| invalid(e.line() + offset, &e))?;
                dispatch(ctx, input, v, &mut audit);
            }
        }
        Err(e) => return Err(invalid(line, &e)),
    }
    linux::audit(ctx, input, &audit.text, audit.lines);
    Ok(())
}

/// A JSON array of records, element by element.
fn array<R: BufRead>(ctx: &mut Ctx<'_>, input: usize, name: &str, r: R) -> Result<(), Fail> {
    ctx.set_format(input, "json-array");
    let mut audit = Audit::default();
    let mut de = serde_json::Deserializer::from_reader(r);
    let each = Each {
        ctx: &mut *ctx,
        input,
        audit: &mut audit,
    };
    let invalid = |e: serde_json::Error| {
        Fail::Broken(format_err(
            name,
            format!("line {}: invalid JSON: {e}", e.line()),
        ))
    };
    (&mut de).deserialize_seq(each).map_err(invalid)?;
    de.end().map_err(invalid)?;
    linux::audit(ctx, input, &audit.text, audit.lines);
    Ok(())
}

struct Each<'c, 'e> {
    ctx: &'c mut Ctx<'e>,
    input: usize,
    audit: &'c mut Audit,
}

impl<'de> Visitor<'de> for Each<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            dispatch(self.ctx, self.input, v, self.audit);
        }
        Ok(())
    }
}

/// Line text: syslog lines carrying Sysmon for Linux, and audit records.
fn lines<R: BufRead>(ctx: &mut Ctx<'_>, input: usize, name: &str, r: R) -> Result<(), Fail> {
    let limit = Kind::Telemetry.limit();
    let mut text = String::new();
    r.take(limit + 1)
        .read_to_string(&mut text)
        .map_err(|_| Fail::NotTelemetry("not UTF-8 text".into()))?;
    if text.len() as u64 > limit {
        return Err(Fail::Broken(format_err(
            name,
            format!("audit or syslog text larger than {limit} bytes; split it"),
        )));
    }
    let mut audit = Audit::default();
    let mut sysmon = 0u64;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if linux::is_sysmon_xml(line) {
            sysmon += 1;
            ctx.record(input, linux::sysmon_xml(line, None, input));
        } else {
            audit.text.push_str(line);
            audit.text.push('\n');
            audit.lines += 1;
        }
    }
    if sysmon == 0 && audit.lines > 0 {
        let parsed = crate::telemetry::auditd::parse_auto(&audit.text);
        if parsed.events.is_empty() && parsed.skipped_lines as u64 >= audit.lines {
            return Err(Fail::NotTelemetry(
                "no EVTX, ZIP, JSON or audit records recognised".into(),
            ));
        }
    }
    ctx.set_format(input, if sysmon > 0 { "syslog" } else { "auditd" });
    linux::audit(ctx, input, &audit.text, audit.lines);
    Ok(())
}

/// One JSON record to the reader of its shape.
fn dispatch(ctx: &mut Ctx<'_>, input: usize, v: Value, audit: &mut Audit) {
    let Value::Object(record) = v else {
        ctx.record(input, Err(Skip::Static("not a JSON object")));
        return;
    };
    if let Some(message) = record.get("SyslogMessage").and_then(Value::as_str) {
        if linux::is_sysmon_xml(message) {
            let host = windows::host_of(&record);
            ctx.record(input, linux::sysmon_xml(message, host, input));
        } else {
            audit.text.push_str(message);
            audit.text.push('\n');
            audit.lines += 1;
        }
        return;
    }
    // journald (`MESSAGE`, `_HOSTNAME`) and syslog-as-JSON (`message`).
    if let Some(message) = ["MESSAGE", "message"]
        .iter()
        .find_map(|k| record.get(*k).and_then(Value::as_str))
        .filter(|m| linux::is_sysmon_xml(m))
    {
        let host = windows::host_of(&record).or_else(|| {
            record
                .get("_HOSTNAME")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        ctx.record(input, linux::sysmon_xml(message, host, input));
        return;
    }
    if record.contains_key("MESSAGE") {
        ctx.record(
            input,
            Err(Skip::Static("journal message: not Sysmon for Linux")),
        );
        return;
    }
    if record.contains_key("SYSCALL") || record.contains_key("EXECVE") {
        // laurel: one event a line, in the assembler's own JSON reader.
        audit.text.push_str(&Value::Object(record).to_string());
        audit.text.push('\n');
        audit.lines += 1;
        return;
    }
    if macos::is_eslogger(&record) {
        ctx.record(input, macos::eslogger(record, input));
        return;
    }
    if macos::is_unified_log(&record) {
        ctx.record(input, Err(macos::unified_log(&record)));
        return;
    }
    let looks_windows = [
        "Event",
        "winlog",
        "EventID",
        "EventCode",
        "event_id",
        "Channel",
        "category",
    ]
    .iter()
    .any(|k| record.contains_key(*k));
    if looks_windows {
        ctx.record(input, windows::map(record, input));
    } else {
        ctx.record(input, Err(Skip::Static("JSON record of no known shape")));
    }
}
