//! The `_search` body for a batch of tokens: Query DSL objects only, never
//! `query_string`, so a token is a JSON string inside a `wildcard` term
//! (its `*`, `?` and `\` escaped so they match literally) and no query
//! language parses it.
//!
//! ```json
//! { "size": 500, "track_total_hits": false,
//!   "query": { "bool": {
//!     "filter": [ { "range": { "@timestamp": { "gte": "..", "lte": "..", "format": "strict_date_optional_time" } } } ],
//!     "should": [ { "wildcard": { "process.command_line": { "value": "*cp3f9a1c77*" } } }, .. ],
//!     "minimum_should_match": 1 } },
//!   "sort": [ { "@timestamp": { "order": "asc" } },
//!             { "event.id": { "order": "asc", "unmapped_type": "keyword" } } ],
//!   "search_after": [ .. ] }
//! ```

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What a search looks for, before paging.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// The `query` object.
    pub query: Value,
    /// The `sort` array.
    pub sort: Value,
    /// Hits per page.
    pub size: u32,
}

/// Escapes `value` for a `wildcard` pattern: `\`, `*` and `?` get a
/// backslash, so the pattern matches the value literally. JSON escaping
/// (quotes, control characters) is serde's job when the body is written.
pub fn escape_wildcard(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        if matches!(c, '\\' | '*' | '?') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A search for documents of `fields` holding any of `tokens`, with
/// `time_field` within `[from, to]`, sorted by time then `tiebreaker`.
pub fn search(
    tokens: &[&str],
    fields: &[&str],
    time_field: &str,
    tiebreaker: &str,
    (from, to): (OffsetDateTime, OffsetDateTime),
    size: u32,
) -> Result<Search, String> {
    if let Some(bad) = tokens.iter().find(|t| t.trim().is_empty()) {
        // `**` would match every document.
        return Err(format!("refusing to search for the blank token {bad:?}"));
    }
    let stamp = |t: OffsetDateTime| {
        // Whole seconds: every date format of every version parses them.
        t.replace_nanosecond(0)
            .unwrap_or(t)
            .format(&Rfc3339)
            .map_err(|e| format!("format the search window: {e}"))
    };
    let should: Vec<Value> = tokens
        .iter()
        .flat_map(|token| {
            let pattern = format!("*{}*", escape_wildcard(token));
            fields
                .iter()
                .map(move |f| json!({ "wildcard": { *f: { "value": pattern } } }))
        })
        .collect();
    let query = json!({ "bool": {
        "filter": [ { "range": { time_field: {
            "gte": stamp(from)?,
            "lte": stamp(to)?,
            "format": "strict_date_optional_time",
        } } } ],
        "should": should,
        "minimum_should_match": 1,
    } });
    let sort = json!([
        { time_field: { "order": "asc" } },
        { tiebreaker: { "order": "asc", "unmapped_type": "keyword" } },
    ]);
    Ok(Search { query, sort, size })
}

impl Search {
    /// The body of one page: the first without `search_after`, the next
    /// ones after the last hit's sort values.
    pub fn page(&self, after: Option<&[Value]>) -> Value {
        let mut body = json!({
            "size": self.size,
            "track_total_hits": false,
            "query": self.query,
            "sort": self.sort,
        });
        if let (Some(after), Some(obj)) = (after, body.as_object_mut()) {
            obj.insert("search_after".into(), Value::from(after.to_vec()));
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window() -> (OffsetDateTime, OffsetDateTime) {
        let from = OffsetDateTime::from_unix_timestamp(1_748_772_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        (from, from + time::Duration::minutes(20))
    }

    #[test]
    fn hostile_values_become_literal_wildcard_patterns() {
        let cases = [
            ("cp0123456789", "cp0123456789"),
            (r#"a"b"#, r#"a"b"#),
            (r"C:\Users\x", r"C:\\Users\\x"),
            ("a | delete", "a | delete"),
            ("line\nbreak", "line\nbreak"),
            ("a*b?c", r"a\*b\?c"),
            ("x; y", "x; y"),
            ("héllo ✓", "héllo ✓"),
            ("} ] ) query_string", "} ] ) query_string"),
        ];
        for (value, want) in cases {
            assert_eq!(escape_wildcard(value), want, "{value:?}");
            // In the body the pattern is one JSON string, whatever it holds.
            let s = search(&[value], &["f"], "@timestamp", "id", window(), 5)
                .unwrap_or_else(|e| panic!("{e}"));
            let body = serde_json::to_string(&s.page(None)).unwrap_or_default();
            let back: Value = serde_json::from_str(&body).unwrap_or_default();
            assert_eq!(
                back["query"]["bool"]["should"][0]["wildcard"]["f"]["value"],
                format!("*{want}*"),
                "{value:?}"
            );
        }
    }

    #[test]
    fn blank_tokens_are_refused() {
        for bad in ["", "  "] {
            assert!(search(&["cp1", bad], &["f"], "@timestamp", "id", window(), 5).is_err());
        }
    }

    #[test]
    fn one_body_covers_every_token_and_field_and_pages_with_search_after() {
        let s = search(
            &["cp0000000001", "cp0000000002"],
            &["process.command_line", "file.path"],
            "@timestamp",
            "event.id",
            window(),
            500,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let first = s.page(None);
        let q = &first["query"]["bool"];
        assert_eq!(q["minimum_should_match"], 1);
        assert_eq!(q["should"].as_array().map(Vec::len), Some(4));
        assert_eq!(
            q["should"][3],
            json!({"wildcard": {"file.path": {"value": "*cp0000000002*"}}})
        );
        assert_eq!(
            q["filter"][0]["range"]["@timestamp"]["gte"],
            "2025-06-01T10:00:00Z"
        );
        assert_eq!(
            q["filter"][0]["range"]["@timestamp"]["lte"],
            "2025-06-01T10:20:00Z"
        );
        assert_eq!(first["size"], 500);
        assert_eq!(first["sort"][0], json!({"@timestamp": {"order": "asc"}}));
        assert_eq!(first["sort"][1]["event.id"]["unmapped_type"], "keyword");
        assert!(first.get("search_after").is_none());
        let next = s.page(Some(&[json!(1_748_772_192_511_i64), json!("ev-9")]));
        assert_eq!(next["search_after"], json!([1_748_772_192_511_i64, "ev-9"]));
        assert!(
            !serde_json::to_string(&next)
                .unwrap_or_default()
                .contains("query_string")
        );
    }
}
