//! The lexical layer: one line of audit text into a [`RawRecord`] (kind,
//! event id, `key=value` fields), one laurel JSON line into an
//! [`AuditEvent`], and the decoding of audit string values.
//!
//! It knows the shapes of the formats, not what a syscall means; turning
//! fields into process and file facts is `assemble`'s job.

use serde_json::Value;
use time::OffsetDateTime;

use super::assemble::{AuditEvent, PathItem, SyscallId};

/// One field value as written: quoted values are literal, bare ones may be
/// hex-encoded (auditd encodes any string holding a space, a quote or a
/// control byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field<'a> {
    pub(crate) text: &'a str,
    pub(crate) quoted: bool,
}

/// One audit record line, the `(node, id)` pair grouping it with the other
/// records of its event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawRecord<'a> {
    pub(crate) node: Option<&'a str>,
    pub(crate) kind: &'a str,
    pub(crate) id: &'a str,
    pub(crate) fields: Vec<(&'a str, Field<'a>)>,
}

/// Parses one record line, whether bare (`type=... msg=audit(...)`), with a
/// `node=` prefix, behind a syslog header, or in auoms' `audit(...)` form.
pub(crate) fn raw_record(line: &str) -> Option<RawRecord<'_>> {
    let at = token_start(line, "type=")?;
    let node = token_start(&line[..at], "node=").map(|n| {
        let rest = &line[n + 5..at];
        rest.split_whitespace().next().unwrap_or_default()
    });
    let rest = &line[at + 5..];
    let kind_end = rest.find(char::is_whitespace)?;
    let kind = &rest[..kind_end];
    let rest = rest[kind_end..].trim_start();
    let rest = rest.strip_prefix("msg=").unwrap_or(rest);
    let rest = rest.strip_prefix("audit(")?;
    let close = rest.find(')')?;
    let id = &rest[..close];
    event_time(id)?;
    let body = rest[close + 1..]
        .strip_prefix(':')
        .unwrap_or(&rest[close + 1..]);
    Some(RawRecord {
        node: node.filter(|n| !n.is_empty()),
        kind,
        id,
        fields: split_fields(body),
    })
}

/// Where `key` starts as a whole token of `line` (at its start or after
/// whitespace).
fn token_start(line: &str, key: &str) -> Option<usize> {
    line.match_indices(key)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || line.as_bytes()[i - 1].is_ascii_whitespace())
}

/// Splits `id` (`1700000000.123:4567`) into its time and serial.
pub(crate) fn event_time(id: &str) -> Option<(OffsetDateTime, u64)> {
    let (stamp, serial) = id.split_once(':')?;
    let serial = serial.parse().ok()?;
    let (secs, frac) = stamp.split_once('.').unwrap_or((stamp, ""));
    let secs: i128 = secs.parse().ok()?;
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos: i128 = format!("{frac:0<9}").parse().ok()?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(secs * 1_000_000_000 + nanos).ok()?;
    Some((at, serial))
}

/// Separators between fields: whitespace, and the 0x1d byte auditd puts
/// before its enriched (upper-case) fields.
fn is_sep(b: u8) -> bool {
    b.is_ascii_whitespace() || b == 0x1d
}

/// Splits a record body into `key=value` fields. Tokens without `=` (the
/// tail of a truncated unquoted value) are dropped.
pub(crate) fn split_fields(body: &str) -> Vec<(&str, Field<'_>)> {
    let b = body.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if is_sep(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_sep(b[i]) && b[i] != b'=' {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        let key = &body[start..i];
        i += 1;
        let (field, next) = match b.get(i) {
            Some(b'"') => quoted_value(body, i),
            Some(b'[') => bracket_value(body, i),
            _ => {
                let end = (i..b.len()).find(|&j| is_sep(b[j])).unwrap_or(b.len());
                let text = &body[i..end];
                (
                    Field {
                        text,
                        quoted: false,
                    },
                    end,
                )
            }
        };
        out.push((key, field));
        i = next;
    }
    out
}

/// A value opened by `"` at `open`. auditd never puts a quote inside one,
/// but auoms writes `cmdline="bash -c "x y""` unescaped, so the closing
/// quote is the first one followed by the end or by another `key=`.
fn quoted_value(body: &str, open: usize) -> (Field<'_>, usize) {
    let b = body.as_bytes();
    let quotes: Vec<usize> = (open + 1..b.len()).filter(|&j| b[j] == b'"').collect();
    let closes = |j: usize| {
        let rest = &body[j + 1..];
        let after = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\x1d');
        rest.is_empty()
            || (after.len() < rest.len() && (after.is_empty() || starts_with_key(after)))
    };
    let close = quotes
        .iter()
        .copied()
        .find(|&j| closes(j))
        .or(quotes.first().copied());
    match close {
        Some(j) => (
            Field {
                text: &body[open + 1..j],
                quoted: true,
            },
            j + 1,
        ),
        None => (
            Field {
                text: &body[open + 1..],
                quoted: true,
            },
            b.len(),
        ),
    }
}

/// auoms' `path_name=["a","b c"]`: a JSON array kept whole.
fn bracket_value(body: &str, open: usize) -> (Field<'_>, usize) {
    let b = body.as_bytes();
    let (mut in_str, mut escaped) = (false, false);
    for j in open + 1..b.len() {
        match b[j] {
            _ if escaped => escaped = false,
            b'\\' if in_str => escaped = true,
            b'"' => in_str = !in_str,
            b']' if !in_str => {
                return (
                    Field {
                        text: &body[open..=j],
                        quoted: false,
                    },
                    j + 1,
                );
            }
            _ => {}
        }
    }
    (
        Field {
            text: &body[open..],
            quoted: false,
        },
        b.len(),
    )
}

fn starts_with_key(s: &str) -> bool {
    let key_len = s
        .bytes()
        .take_while(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'[' | b']'))
        .count();
    key_len > 0 && s.as_bytes().get(key_len) == Some(&b'=')
}

/// The bytes of an audit string value: quoted is literal, `(null)` and
/// `(none)` are absent, bare even-length hex is decoded, anything else is
/// literal.
pub(crate) fn decode_bytes(f: Field<'_>) -> Option<Vec<u8>> {
    if f.quoted {
        return Some(f.text.as_bytes().to_vec());
    }
    if f.text.is_empty() || f.text == "(null)" || f.text == "(none)" {
        return None;
    }
    Some(hex::decode(f.text).unwrap_or_else(|_| f.text.as_bytes().to_vec()))
}

/// [`decode_bytes`] as text; invalid UTF-8 is replaced, not dropped.
pub(crate) fn decode_str(f: Field<'_>) -> Option<String> {
    decode_bytes(f).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Splits a NUL-separated argument vector (PROCTITLE), ignoring a trailing
/// NUL.
pub(crate) fn split_nul(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    bytes
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// laurel percent-encodes control bytes, `%` and `+` inside strings.
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%').then(|| s.get(i + 1..i + 3)).flatten();
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A laurel number: a JSON number, or a string with `0x`/`0o` prefix or in
/// decimal.
pub(crate) fn json_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => parse_num(s),
        _ => None,
    }
}

fn parse_num(s: &str) -> Option<u64> {
    if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(h, 16).ok()
    } else if let Some(o) = s.strip_prefix("0o") {
        u64::from_str_radix(o, 8).ok()
    } else {
        s.parse().ok()
    }
}

fn json_str(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(percent_decode)
}

fn json_u32(v: Option<&Value>) -> Option<u32> {
    v.and_then(json_u64).and_then(|n| u32::try_from(n).ok())
}

fn json_argv(v: Option<&Value>) -> Option<Vec<String>> {
    let items = v?.as_array()?;
    Some(
        items
            .iter()
            .filter_map(|a| a.as_str().map(percent_decode))
            .collect(),
    )
}

/// One laurel line (already JSON) as an event; `None` without a valid `ID`.
pub(crate) fn laurel_event(v: &Value) -> Option<AuditEvent> {
    let (at, serial) = event_time(v.get("ID")?.as_str()?)?;
    let mut e = AuditEvent::new(at, serial);
    if let Some(sc) = v.get("SYSCALL") {
        e.arch = sc.get("arch").and_then(Value::as_str).map(str::to_owned);
        e.syscall = match (sc.get("syscall").and_then(json_u64), sc.get("SYSCALL")) {
            (Some(n), _) => Some(SyscallId::Number(n)),
            (None, Some(Value::String(s))) => Some(SyscallId::Name(s.clone())),
            _ => None,
        };
        e.success = sc
            .get("success")
            .and_then(Value::as_str)
            .map(|s| s == "yes");
        e.pid = json_u32(sc.get("pid"));
        e.ppid = json_u32(sc.get("ppid"));
        e.uid = json_u32(sc.get("uid"));
        e.auid = json_u32(sc.get("auid"));
        e.user_name = json_str(sc.get("UID"));
        e.audit_user_name = json_str(sc.get("AUID"));
        e.exe = json_str(sc.get("exe"));
        e.key = json_str(sc.get("key"));
        let args = sc.get("ARGV").and_then(Value::as_array);
        for (i, slot) in e.args.iter_mut().enumerate() {
            let v = args
                .and_then(|a| a.get(i))
                .or_else(|| sc.get(format!("a{i}")));
            *slot = v.and_then(|v| match v {
                Value::String(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).ok(),
                other => json_u64(other),
            });
        }
    }
    e.argv = json_argv(v.get("EXECVE").and_then(|x| x.get("ARGV")));
    e.proctitle = json_argv(v.get("PROCTITLE").and_then(|x| x.get("ARGV")));
    e.cwd = json_str(v.get("CWD").and_then(|x| x.get("cwd")));
    if let Some(paths) = v.get("PATH").and_then(Value::as_array) {
        e.paths = paths
            .iter()
            .map(|p| PathItem {
                name: json_str(p.get("name")),
                nametype: json_str(p.get("nametype")),
            })
            .collect();
    }
    Some(e)
}
