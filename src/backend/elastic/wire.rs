//! The `_search` answer: hits with their `_source` and `sort` values, the
//! failures a 200 answer can still carry (failed shards, a cluster-side
//! timeout, an `error` object), Elasticsearch's error envelope in non-2xx
//! answers, and field lookup that works on nested objects, dotted keys (as
//! Elastic Security alerts store `kibana.alert.*`) or a mix of both.

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::backend::{BackendError, ErrorKind, Said};

/// One hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The document.
    pub source: Value,
    /// Its sort values, the `search_after` of the next page.
    pub sort: Option<Vec<Value>>,
    /// Its index and id, which tell a document found by two searches of a
    /// batch from two documents.
    pub key: Option<(String, String)>,
}

/// One page of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Its hits, in sort order.
    pub hits: Vec<Hit>,
    /// The point-in-time id the next page must use (it may change).
    pub pit_id: Option<String>,
    /// How many shards the search ran on (0: the pattern matched no index).
    pub shards: Option<u64>,
    /// `hits.total.value` (or the bare number older versions give), when
    /// the search tracked it.
    pub total: Option<u64>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    pit_id: Option<String>,
    #[serde(default)]
    timed_out: bool,
    #[serde(default, rename = "_shards")]
    shards: Option<Shards>,
    #[serde(default)]
    hits: Option<Hits>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Shards {
    #[serde(default)]
    total: u64,
    #[serde(default)]
    failed: u64,
    #[serde(default)]
    failures: Vec<Value>,
}

#[derive(Deserialize)]
struct Hits {
    #[serde(default)]
    hits: Vec<RawHit>,
    #[serde(default)]
    total: Option<Value>,
}

#[derive(Deserialize)]
struct RawHit {
    #[serde(default, rename = "_index")]
    index: Option<String>,
    #[serde(default, rename = "_id")]
    id: Option<String>,
    #[serde(default, rename = "_source")]
    source: Option<Value>,
    #[serde(default)]
    sort: Option<Vec<Value>>,
}

/// Parses one page; anything that makes the hits incomplete is an error,
/// so it can never pass for a miss.
pub fn parse_page(body: &[u8]) -> Result<Page, ErrorKind> {
    let answer: Answer =
        serde_json::from_slice(body).map_err(|e| ErrorKind::malformed("search answer", e))?;
    if let Some(error) = &answer.error {
        return Err(ErrorKind::Other(format!(
            "search failed: {}",
            describe(error)
        )));
    }
    if let Some(s) = &answer.shards
        && s.failed > 0
    {
        let why = s
            .failures
            .first()
            .and_then(|f| f.get("reason"))
            .map(describe)
            .unwrap_or_else(|| "no reason given".into());
        return Err(ErrorKind::Other(format!(
            "{} of {} shards failed, the hits are incomplete: {why}",
            s.failed, s.total
        )));
    }
    if answer.timed_out {
        return Err(ErrorKind::Other(
            "the search timed out in the cluster, the hits are incomplete".into(),
        ));
    }
    let hits = answer
        .hits
        .ok_or_else(|| ErrorKind::malformed("search answer", "no `hits`"))?;
    let total = hits
        .total
        .as_ref()
        .and_then(|t| t.get("value").unwrap_or(t).as_u64());
    let hits = hits
        .hits
        .into_iter()
        .map(|h| Hit {
            source: h.source.unwrap_or(Value::Object(Default::default())),
            sort: h.sort,
            key: h.index.zip(h.id),
        })
        .collect();
    Ok(Page {
        hits,
        pit_id: answer.pit_id,
        shards: answer.shards.map(|s| s.total),
        total,
    })
}

/// `type: reason` of an Elasticsearch error object, preferring its first root cause.
fn describe(error: &Value) -> String {
    let cause = error
        .get("root_cause")
        .and_then(|r| r.get(0))
        .unwrap_or(error);
    let field = |k: &str| cause.get(k).and_then(Value::as_str);
    match (field("type"), field("reason")) {
        (Some(t), Some(r)) => format!("{t}: {r}"),
        (Some(t), None) => t.to_string(),
        (None, Some(r)) => r.to_string(),
        (None, None) => error.to_string().chars().take(200).collect(),
    }
}

/// Rewrites an HTTP error whose body excerpt is Elasticsearch's error
/// envelope (`{"error":{"root_cause":[{"type","reason"}],..},"status":..}`)
/// into the vendor's reason (`HTTP <status>: <type>: <reason>`). The HTTP
/// layer keeps only the start of the body, so the envelope is read
/// leniently; an error without one is returned unchanged.
pub fn explain(mut e: BackendError) -> BackendError {
    let said = match &mut e.kind {
        ErrorKind::Status { said, .. }
        | ErrorKind::RateLimited { said, .. }
        | ErrorKind::Credentials { said, .. } => said,
        _ => return e,
    };
    let Said::Excerpt(excerpt) = said else {
        return e;
    };
    if !excerpt.starts_with("{\"error\"") {
        return e;
    }
    let Some(kind) = json_string_after(excerpt, "type") else {
        return e;
    };
    *said = Said::Reason(match json_string_after(excerpt, "reason") {
        Some(r) => format!("{kind}: {r}"),
        None => kind,
    });
    e
}

/// The JSON string value of the first `"key":"..."` in `text`; a string cut
/// off by the excerpt yields what is there.
fn json_string_after(text: &str, key: &str) -> Option<String> {
    let marker = format!("\"{key}\":\"");
    let open = text.find(&marker)? + marker.len() - 1;
    let rest = &text[open + 1..];
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return serde_json::from_str(&text[open..open + i + 2]).ok(),
            _ => {}
        }
    }
    Some(rest.to_string())
}

/// Every value at dotted `path` in `doc`, whether the document nests
/// (`{"a":{"b":1}}`), uses dotted keys (`{"a.b":1}`) or mixes them; arrays
/// on the way and at the end are flattened.
pub fn values<'a>(doc: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    collect(doc, path, &mut out);
    out
}

fn collect<'a>(v: &'a Value, path: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect(i, path, out)),
        _ if path.is_empty() => out.push(v),
        Value::Object(map) => {
            let ends = path
                .match_indices('.')
                .map(|(i, _)| i)
                .chain(std::iter::once(path.len()));
            for end in ends {
                if let Some(child) = map.get(&path[..end]) {
                    collect(child, path.get(end + 1..).unwrap_or(""), out);
                }
            }
        }
        _ => {}
    }
}

/// The first value at `path` as text (strings as they are, numbers and
/// booleans rendered).
pub fn text(doc: &Value, path: &str) -> Option<String> {
    texts(doc, path).into_iter().next()
}

/// Every value at `path` as text.
pub fn texts(doc: &Value, path: &str) -> Vec<String> {
    values(doc, path)
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        })
        .collect()
}

/// The first value at `path` as a whole number (a JSON number or a string
/// of digits, as Winlogbeat and Wazuh store pids).
pub fn number(doc: &Value, path: &str) -> Option<u64> {
    values(doc, path).into_iter().find_map(|v| match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// The first parsable time among `paths`: RFC 3339, Wazuh's `+0000` offset
/// form, or epoch milliseconds.
pub fn time(doc: &Value, paths: &[&str]) -> Option<OffsetDateTime> {
    paths
        .iter()
        .flat_map(|p| values(doc, p))
        .find_map(parse_time)
}

fn parse_time(v: &Value) -> Option<OffsetDateTime> {
    match v {
        Value::Number(n) => {
            let ms = n.as_i64()?;
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
        }
        Value::String(s) => OffsetDateTime::parse(s, &Rfc3339).ok().or_else(|| {
            // `2025-06-01T10:03:13.120+0000`: put the colon RFC 3339 wants.
            let (head, tail) = s.split_at_checked(s.len().checked_sub(2)?)?;
            let sign = head.len().checked_sub(3)?;
            matches!(head.as_bytes().get(sign), Some(b'+' | b'-'))
                .then(|| format!("{head}:{tail}"))
                .and_then(|fixed| OffsetDateTime::parse(&fixed, &Rfc3339).ok())
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
