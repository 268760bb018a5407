//! Windows event records (and anything shaped like them: Sysmon for Linux,
//! chainproof's recordings) → [`Mapped`] through the table of
//! [`logsource`](super::logsource).
//!
//! Three shapes are read: nested (`Event.System` + `Event.EventData` or
//! `UserData`, as the evtx crate and evtx_dump write), Winlogbeat
//! (`winlog.event_id`, `winlog.event_data`) and flat (NXLog, Splunk and
//! chainproof: the event data and `EventID`/`Channel` side by side). The
//! record is taken apart by value: its fields move into the event, nothing
//! is cloned but the host name.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use super::Skip;
use super::fields::{alias_4688, alias_spaced, flatten, flatten_object, user_data};
use super::logsource::{self, RECORDING, SECURITY, SYSMON};
#[cfg(test)]
use crate::telemetry::Category;
use crate::telemetry::Event;
use crate::telemetry::{Mapped, Origin};
use crate::vocab::Platform;

/// What a record says about itself, outside its event data.
#[derive(Debug, Default)]
pub(super) struct Header {
    /// Event id.
    pub id: Option<u32>,
    /// Channel, as the record spells it.
    pub channel: Option<Value>,
    /// Host name.
    pub computer: Option<Value>,
    /// Provider name (`Provider_Name` in Sigma's field names).
    pub provider: Option<Value>,
    /// `TimeCreated`, `@timestamp`.
    pub time: Option<Value>,
    /// The host from any other field that names it (see [`host_of`]).
    pub host: Option<String>,
}

/// A nested, Winlogbeat or flat record; `forced` is the platform a
/// chainproof recording names for itself.
pub(super) fn map(mut record: Map<String, Value>, input: usize) -> Result<Mapped, Skip> {
    let forced = record
        .get("chainproof.platform")
        .and_then(Value::as_str)
        .and_then(platform_named);
    let host = host_of(&record);
    let (mut header, data) = if let Some(Value::Object(mut event)) = record.remove("Event") {
        let mut system = match event.remove("System") {
            Some(Value::Object(s)) => s,
            _ => Map::new(),
        };
        let data = event
            .remove("EventData")
            .or_else(|| event.remove("UserData").map(user_data))
            .unwrap_or(Value::Null);
        let header = Header {
            id: system.get("EventID").and_then(id_of),
            channel: system.remove("Channel"),
            computer: system.remove("Computer"),
            provider: match system.remove("Provider") {
                Some(Value::Object(mut p)) => match p.remove("#attributes") {
                    Some(Value::Object(mut a)) => a.remove("Name"),
                    _ => None,
                },
                _ => None,
            },
            time: system
                .get_mut("TimeCreated")
                .and_then(|t| t.get_mut("#attributes"))
                .and_then(|a| a.get_mut("SystemTime"))
                .map(Value::take),
            host: None,
        };
        (header, flatten(data))
    } else if let Some(Value::Object(mut w)) = record.remove("winlog") {
        let data = w.remove("event_data").unwrap_or(Value::Null);
        let header = Header {
            id: w.get("event_id").and_then(id_of),
            channel: w.remove("channel"),
            computer: w.remove("computer_name"),
            provider: w.remove("provider_name"),
            time: record.remove("@timestamp"),
            host: None,
        };
        (header, flatten(data))
    } else {
        // Flat: the header's fields stay where they are, among the data.
        let header = Header {
            id: ["EventID", "EventCode", "event_id"]
                .iter()
                .find_map(|k| record.get(*k).and_then(id_of)),
            ..Header::default()
        };
        (header, flatten_object(record))
    };
    header.host = host;
    let stated = data
        .get("category")
        .and_then(Value::as_str)
        .map(str::to_owned);
    finish(header, data, forced, stated.as_deref(), input)
}

/// Looks the record up and builds the event: the header's values become
/// fields, Security 4688 gains Sysmon's names.
pub(super) fn finish(
    mut header: Header,
    mut fields: Map<String, Value>,
    forced: Option<Platform>,
    stated: Option<&str>,
    input: usize,
) -> Result<Mapped, Skip> {
    // A flat record keeps its `Channel` among its fields.
    let channel = header
        .channel
        .as_ref()
        .or_else(|| fields.get("Channel"))
        .and_then(Value::as_str);
    let source = match channel {
        Some(c) => c,
        None if forced.is_some() || stated.is_some() => RECORDING,
        // No channel: Sysmon's ids are below 256, Security's are 4xxx-6xxx.
        None => match header.id {
            Some(id) if id < 256 => SYSMON,
            Some(id) if (4000..7000).contains(&id) => SECURITY,
            Some(id) => {
                return Err(Skip::Dynamic(format!(
                    "EventID {id} without Channel: no Sigma log source"
                )));
            }
            None => return Err(Skip::Static("no EventID")),
        },
    };
    let id = match (header.id, stated) {
        (Some(id), _) => Some(id),
        (None, Some("process_creation")) => Some(1),
        (None, Some("file_event")) => Some(11),
        _ => None,
    };
    // Only Sysmon 12 is split by a detail.
    let detail = match id {
        Some(12) => fields.get("EventType").and_then(Value::as_str),
        _ => None,
    };
    let Some((row, entry)) = logsource::lookup(source, id, detail) else {
        return Err(unmapped(source, id));
    };
    let linux_sysmon = source.eq_ignore_ascii_case(logsource::SYSMON_LINUX);
    let provider = if linux_sysmon {
        "sysmon-linux"
    } else {
        entry.provider
    };
    let platform = forced.unwrap_or(if linux_sysmon {
        Platform::Linux
    } else if channel.is_some() {
        Platform::Windows
    } else {
        platform_of(&fields)
    });
    if id == Some(4688) && entry.provider == "security" {
        alias_4688(&mut fields);
    }
    alias_spaced(&mut fields);
    let at = event_time(
        &fields,
        header.time.as_ref().or_else(|| fields.get("@timestamp")),
    );
    let host = header
        .computer
        .as_ref()
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or(header.host.take());
    if let Some(id) = id {
        fields.insert("EventID".into(), Value::from(id));
    }
    for (key, value) in [
        ("Channel", header.channel.take()),
        ("Computer", header.computer.take()),
        ("Provider_Name", header.provider.take()),
    ] {
        if let Some(v) = value.filter(Value::is_string) {
            fields.insert(key.into(), v);
        }
    }
    Ok(Mapped {
        event: Event {
            category: entry.kind,
            arrived: None,
            at,
            hop: None,
            fields,
        },
        platform,
        logsources: logsource::of_row(row, platform),
        host,
        origin: Origin { provider, id },
        input,
    })
}

/// The reason a record of `source` is not mapped.
fn unmapped(source: &str, id: Option<u32>) -> Skip {
    let name = if source == SYSMON { "Sysmon" } else { source };
    match id {
        Some(id) if logsource::known_source(source) => {
            Skip::Dynamic(format!("{name} {id}: no Sigma log source"))
        }
        _ if logsource::known_source(source) => Skip::Dynamic(format!("{name}: no EventID")),
        _ => Skip::Dynamic(format!("{name}: no Sigma service")),
    }
}

/// The host from whichever common field names it: `Computer` (Windows),
/// `Hostname` (NXLog), `host.name` / `host.hostname` (ECS, dotted or
/// nested), `agent.hostname` (Beats), `ComputerName`, `hostname`.
pub(super) fn host_of(record: &Map<String, Value>) -> Option<String> {
    const FLAT: [&str; 7] = [
        "Computer",
        "Hostname",
        "host.name",
        "host.hostname",
        "agent.hostname",
        "ComputerName",
        "hostname",
    ];
    let nested = |outer: &str, inner: &str| record.get(outer).and_then(|o| o.get(inner));
    FLAT.iter()
        .find_map(|k| record.get(*k).and_then(Value::as_str))
        .or_else(|| {
            [
                ("host", "name"),
                ("host", "hostname"),
                ("agent", "hostname"),
            ]
            .iter()
            .find_map(|(o, i)| nested(o, i).and_then(Value::as_str))
        })
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn platform_named(name: &str) -> Option<Platform> {
    Platform::ALL.into_iter().find(|p| p.to_string() == name)
}

/// An event id: a number, a string, or `{"#text": …}` (evtx writes that
/// when the id carries `Qualifiers`).
fn id_of(v: &Value) -> Option<u32> {
    let v = v.get("#text").unwrap_or(v);
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Windows if the image is a drive or UNC path, else Linux: for flat
/// records that name neither their channel nor their platform.
fn platform_of(fields: &Map<String, Value>) -> Platform {
    let image = fields.get("Image").and_then(Value::as_str).unwrap_or("");
    let bytes = image.as_bytes();
    let drive = bytes.len() > 2 && bytes[1] == b':' && matches!(bytes[2], b'\\' | b'/');
    if drive || image.starts_with("\\\\") {
        Platform::Windows
    } else {
        Platform::Linux
    }
}

/// Sysmon's `UtcTime`, else the record's `TimeCreated`/`@timestamp`.
pub(super) fn event_time(
    fields: &Map<String, Value>,
    stamp: Option<&Value>,
) -> Option<OffsetDateTime> {
    let utc = format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]");
    if let Some(t) = fields.get("UtcTime").and_then(Value::as_str) {
        if let Ok(t) = time::PrimitiveDateTime::parse(t, utc) {
            return Some(t.assume_utc());
        }
        // chainproof recordings write UtcTime as RFC 3339.
        if let Ok(t) = OffsetDateTime::parse(t, &Rfc3339) {
            return Some(t);
        }
    }
    OffsetDateTime::parse(stamp?.as_str()?, &Rfc3339).ok()
}

/// The old entry point: a record as an event, only when it is a process
/// or file creation.
#[cfg(test)]
pub(crate) fn windows_record(record: &Value) -> Option<Event> {
    let Value::Object(fields) = record.clone() else {
        return None;
    };
    map(fields, 0)
        .ok()
        .map(|m| m.event)
        .filter(|e| e.category != Category::Other)
}
