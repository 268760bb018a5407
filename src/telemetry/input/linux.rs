//! Linux telemetry: Sysmon for Linux's `<Event>` XML (carried in syslog
//! lines, Azure `SyslogMessage` exports and journal `MESSAGE`s), mapped
//! through the same table as Windows Sysmon with product `linux`; and the
//! glue to [`auditd`](crate::telemetry::auditd) for auditd and laurel.
//!
//! The XML is read with quick-xml, a pull parser that allocates only for
//! the values kept; Sysmon's XML is one flat `System` and one `EventData`
//! of `<Data Name=…>` elements, so no tree is built.

use quick_xml::events::Event as Xml;
use serde_json::{Map, Value};

use super::logsource::{self, AUDITD};
use super::windows::{self, Header};
use super::{Ctx, Skip};
use crate::telemetry::Category;
use crate::telemetry::{Mapped, Origin};
use crate::vocab::Platform;

/// True when `text` carries a Sysmon `<Event>` document.
pub(super) fn is_sysmon_xml(text: &str) -> bool {
    text.contains("<Event>") && text.contains("<System>")
}

/// Where in the document the parser is.
#[derive(Clone, Copy, PartialEq)]
enum At {
    Other,
    EventId,
    Channel,
    Computer,
    Data,
}

/// One Sysmon for Linux record from the text holding its `<Event>`;
/// `host` is the carrier's host, used when the XML names none.
pub(super) fn sysmon_xml(text: &str, host: Option<String>, input: usize) -> Result<Mapped, Skip> {
    let start = text
        .find("<Event>")
        .ok_or(Skip::Static("Sysmon XML: no <Event>"))?;
    let repaired = close_entities(&text[start..]);
    let mut reader = quick_xml::Reader::from_str(&repaired);
    let mut header = Header {
        host,
        ..Header::default()
    };
    let mut fields = Map::new();
    let mut at = At::Other;
    let mut name = String::new();
    let mut value = String::new();
    loop {
        match reader.read_event() {
            Ok(Xml::Start(e)) => {
                value.clear();
                at = match e.name().as_ref() {
                    b"EventID" => At::EventId,
                    b"Channel" => At::Channel,
                    b"Computer" => At::Computer,
                    b"Data" => {
                        name = attribute(&e, b"Name").unwrap_or_default();
                        At::Data
                    }
                    _ => At::Other,
                };
            }
            Ok(Xml::Empty(e)) => match e.name().as_ref() {
                b"Provider" => header.provider = attribute(&e, b"Name").map(Value::from),
                b"TimeCreated" => header.time = attribute(&e, b"SystemTime").map(Value::from),
                b"Data" => {
                    if let Some(n) = attribute(&e, b"Name") {
                        fields.insert(n, Value::from(""));
                    }
                }
                _ => {}
            },
            Ok(Xml::Text(t)) if at != At::Other => {
                value.push_str(
                    &t.xml10_content()
                        .map_err(|_| Skip::Static("Sysmon XML: bad text"))?,
                );
            }
            Ok(Xml::GeneralRef(r)) if at != At::Other => {
                let entity = r
                    .decode()
                    .map_err(|_| Skip::Static("Sysmon XML: bad entity"))?;
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    value.push(c);
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&entity) {
                    value.push_str(s);
                }
            }
            Ok(Xml::End(_)) => {
                let text = std::mem::take(&mut value);
                match at {
                    At::EventId => header.id = text.trim().parse().ok(),
                    At::Channel => header.channel = Some(Value::from(text)),
                    At::Computer => header.computer = Some(Value::from(text)),
                    At::Data => {
                        fields.insert(std::mem::take(&mut name), Value::from(text));
                    }
                    At::Other => {}
                }
                at = At::Other;
            }
            Ok(Xml::Eof) => break,
            Ok(_) => {}
            Err(_) => return Err(Skip::Static("Sysmon XML: malformed")),
        }
    }
    if header.channel.is_none() {
        header.channel = Some(Value::from(logsource::SYSMON_LINUX));
    }
    // Sysmon for Linux writes ids as decimal text: numbers match Sigma's
    // integer values the way Windows Sysmon's do.
    for key in [
        "ProcessId",
        "ParentProcessId",
        "SourcePort",
        "DestinationPort",
    ] {
        if let Some(n) = fields
            .get(key)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
        {
            fields.insert(key.into(), Value::from(n));
        }
    }
    windows::finish(header, fields, None, None, input)
}

/// Sysmon for Linux writes a process it could not name as `&lt unknown
/// process&gt ` (no `;`), which no XML parser accepts: 16 of the 93 records
/// of OTRF's log4shell recording. A predefined entity name after `&`
/// without its `;` gets one; anything else is left for the parser to judge.
fn close_entities(xml: &str) -> std::borrow::Cow<'_, str> {
    const NAMES: [&str; 5] = ["lt", "gt", "amp", "quot", "apos"];
    let open = |rest: &str| {
        NAMES
            .iter()
            .find(|n| rest.starts_with(**n) && !rest[n.len()..].starts_with(';'))
            .copied()
    };
    if !xml.split('&').skip(1).any(|rest| open(rest).is_some()) {
        return std::borrow::Cow::Borrowed(xml);
    }
    let mut out = String::with_capacity(xml.len() + 8);
    for (i, part) in xml.split('&').enumerate() {
        if i == 0 {
            out.push_str(part);
            continue;
        }
        out.push('&');
        match open(part) {
            Some(name) => {
                out.push_str(name);
                out.push(';');
                out.push_str(&part[name.len()..]);
            }
            None => out.push_str(part),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn attribute(e: &quick_xml::events::BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Audit text (raw records, laurel lines, `SyslogMessage` audit records)
/// of `lines` lines through the auditd assembler, which needs a whole
/// event's records together: it is parsed at once, and its events are
/// emitted after the file's other records.
pub(super) fn audit(ctx: &mut Ctx<'_>, input: usize, text: &str, lines: u64) {
    if lines == 0 {
        return;
    }
    let parsed = crate::telemetry::auditd::parse_auto(text);
    let events = parsed.events.len() as u64;
    let not_understood = parsed.skipped_lines as u64;
    for event in parsed.events {
        let detail = match event.category {
            Category::ProcessCreation => "exec",
            _ => "file",
        };
        let Some((row, entry)) = logsource::lookup(AUDITD, None, Some(detail)) else {
            continue;
        };
        let host = event
            .fields
            .get("node")
            .and_then(Value::as_str)
            .map(str::to_owned);
        ctx.record(
            input,
            Ok(Mapped {
                event,
                platform: Platform::Linux,
                logsources: logsource::of_row(row, Platform::Linux),
                host,
                origin: Origin {
                    provider: entry.provider,
                    id: None,
                },
                input,
            }),
        );
    }
    ctx.skip(input, "audit line not understood", not_understood);
    // One audit event spans several records (SYSCALL, EXECVE, CWD, PATH,
    // PROCTITLE); only execs and file creations become events.
    let folded = lines.saturating_sub(not_understood).saturating_sub(events);
    ctx.skip(
        input,
        "audit record folded into an event, or of an event not mapped",
        folded,
    );
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::telemetry::Category;
    use crate::telemetry::Mapped;
    use crate::telemetry::input::tests::{kinds, read, shared, write};
    use crate::vocab::Platform;

    #[test]
    fn sysmon_for_linux_in_syslog_json_gives_linux_process_creations() {
        let Some(path) = shared("datasets/otrf_log4shell_syslog_sysmon_linux.zip") else {
            return;
        };
        let (mapped, stats) = read(&[path]);
        let entry = &stats[1];
        assert!(
            entry.name.contains(".zip!syslog_sysmon_log4shell"),
            "{stats:?}"
        );
        let procs: Vec<&Mapped> = mapped
            .iter()
            .filter(|m| m.event.category == Category::ProcessCreation)
            .collect();
        assert!(
            procs.len() > 10,
            "{} process creations; {stats:?}",
            procs.len()
        );
        let p = procs[0];
        assert_eq!(p.platform, Platform::Linux);
        assert_eq!(kinds(p), ["process_creation", "sysmon"]);
        assert_eq!(p.logsources[0].product.as_deref(), Some("linux"));
        assert_eq!(p.host.as_deref(), Some("UBUNTU5"));
        assert!(p.event.fields["ProcessId"].is_u64());
        assert!(p.event.at.is_some());
        assert_eq!(
            entry.read,
            entry.mapped + entry.skipped.values().sum::<u64>()
        );
        // The records naming `&lt unknown process&gt ` without `;` are read
        // (and the one syslog cut short keeps what it has).
        assert!(entry.skipped.is_empty(), "{stats:?}");
        assert_eq!(entry.mapped, 93);
        assert!(
            mapped
                .iter()
                .filter_map(|m| m.event.fields.get("Image").and_then(|v| v.as_str()))
                .any(|image| image.trim() == "< unknown process>"),
            "the unnamed process is read"
        );
    }

    #[test]
    fn entities_without_their_semicolon_are_closed_and_others_left() {
        assert_eq!(
            super::close_entities("<a>&lt x&gt &amp; &ltd; &foo</a>"),
            "<a>&lt; x&gt; &amp; &lt;d; &foo</a>"
        );
        assert!(matches!(
            super::close_entities("<a>&lt;ok&gt;</a>"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn sysmon_for_linux_xml_reads_from_journal_json_and_syslog_text() {
        let xml = "<Event><System><Provider Name=\"Linux-Sysmon\"/><EventID>1</EventID>\
            <TimeCreated SystemTime=\"2024-05-01T10:00:00.000000000Z\"/>\
            <Channel>Linux-Sysmon/Operational</Channel><Computer>lx1</Computer></System>\
            <EventData><Data Name=\"ProcessId\">42</Data><Data Name=\"Image\">/usr/bin/bash</Data>\
            <Data Name=\"CommandLine\">bash -c &quot;id &amp;&amp; w&quot;</Data>\
            <Data Name=\"ParentProcessId\">1</Data></EventData></Event>";
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = write(
            dir.path(),
            "j.json",
            &[json!({"MESSAGE": xml, "_HOSTNAME": "lx1"})],
        );
        let syslog = dir.path().join("syslog");
        std::fs::write(&syslog, format!("May  1 10:00:00 lx1 sysmon: {xml}\n")).expect("syslog");
        let (mapped, stats) = read(&[journal, syslog]);
        assert_eq!(mapped.len(), 2, "{stats:?}");
        assert_eq!(stats[1].format, "syslog");
        for m in &mapped {
            assert_eq!(m.platform, Platform::Linux);
            assert_eq!(m.event.fields["CommandLine"], json!("bash -c \"id && w\""));
            assert_eq!(m.event.fields["ProcessId"], json!(42));
            assert_eq!(m.host.as_deref(), Some("lx1"));
            assert_eq!((m.origin.provider, m.origin.id), ("sysmon-linux", Some(1)));
        }
    }
}
