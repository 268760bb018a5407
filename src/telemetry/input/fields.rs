//! A Windows record's event data as top-level fields, under the names the
//! log gives them, and Security 4688's Sysmon names beside its own.

use serde_json::{Map, Value};

/// `UserData` holds one element named after the event; its children are
/// the fields.
pub(super) fn user_data(v: Value) -> Value {
    match v {
        Value::Object(map) if map.len() == 1 => map
            .into_iter()
            .next()
            .map_or(Value::Null, |(_, inner)| inner),
        other => other,
    }
}

/// Event data as top-level fields: an object moves as it is (nested
/// objects and nulls left out, `{"#text": …}` unwrapped, lists of strings
/// joined by newlines, as classic PowerShell's unnamed `Data` are), a list
/// of `{"Name", "#text"}` pairs becomes named fields.
pub(super) fn flatten(data: Value) -> Map<String, Value> {
    let mut fields = Map::new();
    let mut put = |k: String, v: Value| match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            fields.insert(k, v);
        }
        Value::Object(mut o) => {
            if let Some(t) = o.remove("#text") {
                match t {
                    Value::Array(items) => {
                        fields.insert(k, Value::from(join(items)));
                    }
                    Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                        fields.insert(k, t);
                    }
                    _ => {}
                }
            }
        }
        Value::Array(items) if items.iter().all(Value::is_string) => {
            fields.insert(k, Value::from(join(items)));
        }
        _ => {}
    };
    match data {
        Value::Object(map) => return flatten_object(map),
        Value::Array(items) => items.into_iter().for_each(|item| {
            if let Value::Object(mut pair) = item
                && let Some(Value::String(k)) = pair.remove("Name")
                && let Some(v) = pair.remove("#text")
            {
                put(k, v);
            }
        }),
        _ => {}
    }
    fields
}

/// [`flatten`] of an object, in place: a flat Sysmon record (all scalars)
/// passes through without its map being rebuilt or a key hashed.
pub(super) fn flatten_object(mut map: Map<String, Value>) -> Map<String, Value> {
    let mut drop_some = false;
    for v in map.values_mut() {
        match v {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {}
            Value::Object(o) => {
                *v = match o.remove("#text") {
                    Some(Value::Array(items)) => Value::from(join(items)),
                    Some(t @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => t,
                    _ => Value::Null,
                };
                drop_some |= v.is_null();
            }
            Value::Array(items) if items.iter().all(Value::is_string) => {
                *v = Value::from(join(std::mem::take(items)));
            }
            _ => {
                *v = Value::Null;
                drop_some = true;
            }
        }
    }
    if drop_some {
        map.retain(|_, v| !v.is_null());
    }
    map
}

fn join(items: Vec<Value>) -> String {
    items
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Security 4688 gains Sysmon's names beside its own, so both
/// `process_creation` rules and `service: security` rules read it. Only
/// `ProcessId` collides: in 4688 it is the creator's id (hexadecimal); it
/// becomes the new process's id as Sysmon means it, and the creator's id
/// stays as `ParentProcessId`.
pub(super) fn alias_4688(fields: &mut Map<String, Value>) {
    let hex = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
            .map(Value::from)
    };
    let parent_pid = hex(fields.get("ProcessId"));
    let pid = hex(fields.get("NewProcessId"));
    for (from, to) in [
        ("NewProcessName", "Image"),
        ("ParentProcessName", "ParentImage"),
    ] {
        if let Some(v) = fields.get(from).cloned() {
            fields.insert(to.into(), v);
        }
    }
    if let Some(v) = pid {
        fields.insert("ProcessId".into(), v);
    }
    if let Some(v) = parent_pid {
        fields.insert("ParentProcessId".into(), v);
    }
    // The new process runs as the target user where the log names one
    // (4688 version 2), else as the subject.
    let named = |d: &str, u: &str| {
        let domain = fields.get(d).and_then(Value::as_str).filter(|s| *s != "-");
        let user = fields.get(u).and_then(Value::as_str).filter(|s| *s != "-");
        domain.zip(user).map(|(d, u)| format!("{d}\\{u}"))
    };
    if let Some(user) = named("TargetDomainName", "TargetUserName")
        .or_else(|| named("SubjectDomainName", "SubjectUserName"))
    {
        fields.insert("User".into(), Value::from(user));
    }
}

/// Defender (and a few other logs) name event data with spaces (`Threat
/// Name`, `Source Name`, `Process Name`); Sigma rules name the same fields
/// without them (`ThreatName`). Each such field gains its space-free name
/// beside its own, unless the record already has that name.
pub(super) fn alias_spaced(fields: &mut Map<String, Value>) {
    if !fields.keys().any(|k| k.contains(' ')) {
        return;
    }
    let spaced: Vec<(String, Value)> = fields
        .iter()
        .filter(|(k, _)| k.contains(' '))
        .map(|(k, v)| (k.replace(' ', ""), v.clone()))
        .collect();
    for (k, v) in spaced {
        fields.entry(k).or_insert(v);
    }
}
