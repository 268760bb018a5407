//! Falcon's answers: the `{meta, resources, errors}` envelope, the OAuth2
//! token, and alerts turned into telemetry events and [`BackendAlert`]s.
//!
//! Falcon returns detections, not raw process telemetry, so the processes an
//! alert describes — its own, its parent (`parent_details`) and grandparent
//! (`grandparent_details`) — become process-creation events: a hop is
//! `observed` here only through an alert that names it.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::backend::{BackendAlert, ErrorKind};
use crate::record::ScenarioRun;
use crate::telemetry::{Category, Event};

/// An alert as Falcon sends it (kept as JSON: its fields vary by product).
pub type Alert = Map<String, Value>;

/// The OAuth2 token answer.
#[derive(Deserialize)]
pub struct Token {
    /// The bearer token.
    pub access_token: String,
    /// Lifetime in seconds.
    #[serde(default = "default_lifetime")]
    pub expires_in: u64,
}

/// Falcon's documented standard token lifetime, for an answer without one.
fn default_lifetime() -> u64 {
    1799
}

#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(default)]
    meta: Option<Meta>,
    #[serde(default = "Option::default")]
    resources: Option<Vec<T>>,
    #[serde(default)]
    errors: Option<Vec<ApiError>>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
struct Pagination {
    #[serde(default)]
    total: Option<u64>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
}

/// One page of resources and the total the query matches, if stated.
#[derive(Debug)]
pub struct Page<T> {
    /// The resources.
    pub resources: Vec<T>,
    /// `meta.pagination.total`.
    pub total: Option<u64>,
}

/// Parses an envelope; an answer carrying `errors` and no resources is an error.
pub fn page<T: for<'de> Deserialize<'de>>(body: &[u8], what: &str) -> Result<Page<T>, ErrorKind> {
    let env: Envelope<T> = serde_json::from_slice(body)
        .map_err(|e| ErrorKind::malformed(format!("answer to {what}"), e))?;
    let errors = env.errors.unwrap_or_default();
    let resources = env.resources.unwrap_or_default();
    if resources.is_empty()
        && let Some(e) = errors.first()
    {
        return Err(ErrorKind::Other(format!(
            "{what} failed: {} (code {})",
            e.message.as_deref().unwrap_or("no message"),
            e.code.map_or_else(|| "none".into(), |c| c.to_string())
        )));
    }
    Ok(Page {
        resources,
        total: env.meta.and_then(|m| m.pagination).and_then(|p| p.total),
    })
}

fn text<'a>(o: &'a Alert, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A field Falcon sends as a string of digits or as a number.
fn number(o: &Alert, key: &str) -> Option<u64> {
    match o.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn time_of(o: &Alert, key: &str) -> Option<OffsetDateTime> {
    text(o, key).and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
}

/// What an alert says of one process (the same keys at every level).
struct Process<'a> {
    pid: Option<u64>,
    image: Option<String>,
    command_line: Option<&'a str>,
    user: Option<&'a str>,
    at: Option<OffsetDateTime>,
}

fn process<'a>(o: &'a Alert, run: &ScenarioRun) -> Process<'a> {
    let pid = number(o, "local_process_id");
    Process {
        pid,
        image: text(o, "filepath").map(|p| resolve_device_path(p, pid, run)),
        command_line: text(o, "cmdline"),
        user: text(o, "user_name"),
        at: time_of(o, "timestamp"),
    }
}

/// Falcon writes Windows paths as `\Device\HarddiskVolumeN\...`, without
/// the drive letter the ground truth has. When the ground truth of the same
/// pid holds an image `X:\...` with the same rest (case ignored), that image
/// is used; any other path is kept as Falcon sent it.
fn resolve_device_path(path: &str, pid: Option<u64>, run: &ScenarioRun) -> String {
    let lower = path.to_ascii_lowercase();
    let rest = lower
        .strip_prefix(r"\device\")
        .and_then(|r| r.find('\\').map(|i| &r[i..]));
    let (Some(rest), Some(pid)) = (rest, pid) else {
        return path.to_string();
    };
    let same_pid = |p: u32| u64::from(p) == pid;
    let truth = run
        .truth
        .processes
        .iter()
        .filter(|p| same_pid(p.pid))
        .flat_map(|p| {
            p.earlier_execs
                .iter()
                .filter_map(|e| e.image.as_deref())
                .chain(p.image.as_deref())
        });
    let hops = run
        .hops
        .iter()
        .filter(|h| h.pid.is_some_and(same_pid))
        .filter_map(|h| h.image.as_deref());
    truth
        .chain(hops)
        .find(|image| {
            let b = image.as_bytes();
            b.len() > 2
                && b[0].is_ascii_alphabetic()
                && b[1] == b':'
                && image[2..].eq_ignore_ascii_case(rest)
        })
        .map_or_else(|| path.to_string(), str::to_string)
}

fn event(
    p: &Process<'_>,
    parent: Option<&Process<'_>>,
    host: Option<&str>,
    arrived: Option<OffsetDateTime>,
) -> Event {
    let mut fields = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            fields.insert(k.into(), v);
        }
    };
    put("ProcessId", json!(p.pid));
    put("Image", json!(p.image));
    put("CommandLine", json!(p.command_line));
    put("User", json!(p.user));
    if let Some(parent) = parent {
        put("ParentProcessId", json!(parent.pid));
        put("ParentImage", json!(parent.image));
        put("ParentCommandLine", json!(parent.command_line));
    }
    put("host", json!(host));
    Event {
        category: Category::ProcessCreation,
        arrived,
        at: p.at,
        hop: None,
        fields,
    }
}

/// ATT&CK tags of an alert; Falcon's own taxonomy (`CST…`, `CSTA…`) is left out.
fn tags(a: &Alert) -> Vec<String> {
    let mut tags = Vec::new();
    if let Some(id) = text(a, "technique_id") {
        let b = id.as_bytes();
        let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
        let attack = b.len() >= 5
            && b[0].eq_ignore_ascii_case(&b'T')
            && digits(&b[1..5])
            && (b.len() == 5 || (b.len() == 9 && b[5] == b'.' && digits(&b[6..])));
        if attack {
            tags.push(format!("attack.{}", id.to_ascii_lowercase()));
        }
    }
    let falcon_tactic = text(a, "tactic_id").is_some_and(|t| t.starts_with("CS"));
    if let (Some(tactic), false) = (text(a, "tactic"), falcon_tactic) {
        let name = tactic.trim().to_lowercase().replace(' ', "-");
        tags.push(format!("attack.{name}"));
    }
    tags
}

/// The alert, and the process events it proves, for `run`.
pub fn alert(a: &Alert, run: &ScenarioRun) -> (BackendAlert, Vec<Event>) {
    let host = a
        .get("device")
        .and_then(Value::as_object)
        .and_then(|d| text(d, "hostname"));
    let details = |k: &str| a.get(k).and_then(Value::as_object).map(|d| process(d, run));
    let me = process(a, run);
    let parent = details("parent_details");
    let grandparent = details("grandparent_details");
    // The events reach the API with the alert that carries them.
    let created = time_of(a, "created_timestamp");
    let own = event(&me, parent.as_ref(), host, created);
    let mut events = Vec::new();
    for (p, pp) in [
        (Some(&me), parent.as_ref()),
        (parent.as_ref(), grandparent.as_ref()),
        (grandparent.as_ref(), None),
    ] {
        if let Some(p) = p.filter(|p| p.pid.is_some()) {
            events.push(event(p, pp, host, created));
        }
    }
    let at = created.or_else(|| time_of(a, "timestamp"));
    let level = text(a, "severity_name")
        .map(str::to_lowercase)
        .or_else(|| number(a, "severity").map(|n| n.to_string()));
    let alert = BackendAlert {
        responses: super::disposition::responses(a),
        rule_id: number(a, "pattern_id")
            .map(|n| n.to_string())
            .or_else(|| text(a, "pattern_id").map(String::from)),
        rule_title: text(a, "display_name")
            .or_else(|| text(a, "name"))
            .unwrap_or("Falcon alert")
            .to_string(),
        level,
        tags: tags(a),
        at,
        event: own,
    };
    (alert, events)
}

#[cfg(test)]
mod tests;
