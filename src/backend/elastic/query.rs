//! The `_search` bodies for a batch of tokens: Query DSL objects only,
//! never `query_string`, so a token is a JSON string inside a `wildcard`
//! term (its `*`, `?` and `\` escaped so they match literally) and no query
//! language parses it.
//!
//! ```json
//! { "size": 500, "track_total_hits": false,
//!   "query": { "bool": {
//!     "filter": [ { "range": { "@timestamp": { "gte": "..", "lte": "..", "format": "strict_date_optional_time" } } } ],
//!     "should": [ { "wildcard": { "process.command_line": { "value": "*cp3f9a1c77*" } } }, .. ],
//!     "minimum_should_match": 1 } },
//!   "sort": [ { "@timestamp": { "order": "asc" } }, { "_shard_doc": { "order": "asc" } } ],
//!   "pit": { "id": "..", "keep_alive": "1m" },
//!   "search_after": [ .. ] }
//! ```
//!
//! One `wildcard` per token and field: a batch is split into several
//! searches of at most [`MAX_CLAUSES`] clauses, because OpenSearch (and
//! Elasticsearch before 8) refuse a query of more than 1,024 boolean
//! clauses by default (`indices.query.bool.max_clause_count`).

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::paging::KEEP_ALIVE;
use time::format_description::well_known::Rfc3339;

/// The most `should` clauses one search carries: under the default limit
/// of 1,024, with room for the time filter and the `bool` around them.
pub const MAX_CLAUSES: usize = 1_000;

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

/// The searches for documents of `fields` holding any of `tokens`, with
/// `time_field` within `window`, sorted by time then `tiebreaker`: one per
/// slice of tokens small enough for [`MAX_CLAUSES`], every token in
/// exactly one.
pub fn searches(
    tokens: &[&str],
    fields: &[&str],
    time_field: &str,
    tiebreaker: &Value,
    window: (OffsetDateTime, OffsetDateTime),
    size: u32,
) -> Result<Vec<Search>, String> {
    let per_search = (MAX_CLAUSES / fields.len().max(1)).max(1);
    tokens
        .chunks(per_search)
        .map(|slice| search(slice, fields, time_field, tiebreaker, window, size))
        .collect()
}

/// A search for documents of `fields` holding any of `tokens`, with
/// `time_field` within `[from, to]`, sorted by time then `tiebreaker`.
pub fn search(
    tokens: &[&str],
    fields: &[&str],
    time_field: &str,
    tiebreaker: &Value,
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
    let sort = json!([{ time_field: { "order": "asc" } }, tiebreaker]);
    Ok(Search { query, sort, size })
}

impl Search {
    /// The body of one page: the first without `search_after`, the next
    /// ones after the last hit's sort values; within the point-in-time
    /// `pit` when there is one (kept alive for [`KEEP_ALIVE`] more).
    pub fn page(&self, after: Option<&[Value]>, pit: Option<&str>) -> Value {
        let mut body = json!({
            "size": self.size,
            "track_total_hits": false,
            "query": self.query,
            "sort": self.sort,
        });
        if let Some(obj) = body.as_object_mut() {
            if let Some(id) = pit {
                obj.insert("pit".into(), json!({ "id": id, "keep_alive": KEEP_ALIVE }));
            }
            if let Some(after) = after {
                obj.insert("search_after".into(), Value::from(after.to_vec()));
            }
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

    fn tiebreaker() -> Value {
        json!({"_shard_doc": {"order": "asc"}})
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
            let s = search(&[value], &["f"], "@timestamp", &tiebreaker(), window(), 5)
                .unwrap_or_else(|e| panic!("{e}"));
            let body = serde_json::to_string(&s.page(None, None)).unwrap_or_default();
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
            let got = searches(
                &["cp1", bad],
                &["f"],
                "@timestamp",
                &tiebreaker(),
                window(),
                5,
            );
            assert!(got.is_err());
        }
    }

    #[test]
    fn one_body_covers_every_token_and_field_and_pages_with_search_after() {
        let s = search(
            &["cp0000000001", "cp0000000002"],
            &["process.command_line", "file.path"],
            "@timestamp",
            &tiebreaker(),
            window(),
            500,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let first = s.page(None, None);
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
        assert_eq!(first["sort"][1], tiebreaker());
        assert!(first.get("search_after").is_none() && first.get("pit").is_none());
        let next = s.page(Some(&[json!(1_748_772_192_511_i64), json!(7)]), Some("p1"));
        assert_eq!(next["search_after"], json!([1_748_772_192_511_i64, 7]));
        assert_eq!(next["pit"], json!({"id": "p1", "keep_alive": "1m"}));
        assert!(
            !serde_json::to_string(&next)
                .unwrap_or_default()
                .contains("query_string")
        );
    }

    #[test]
    fn a_large_batch_is_split_so_no_search_exceeds_the_clause_limit() {
        let tokens: Vec<String> = (0..1_200).map(|n| format!("cp{n:010x}")).collect();
        let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
        for fields in [&["a", "b", "c"][..], &["a"; 9][..], &["a"][..]] {
            let all = searches(&tokens, fields, "@timestamp", &tiebreaker(), window(), 500)
                .unwrap_or_else(|e| panic!("{e}"));
            let mut seen = Vec::new();
            for s in &all {
                let should = s.query["bool"]["should"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                assert!(should.len() <= MAX_CLAUSES && should.len() < 1_024);
                seen.extend(should.iter().step_by(fields.len()).map(|c| {
                    c["wildcard"]["a"]["value"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                }));
            }
            let want: Vec<String> = tokens.iter().map(|t| format!("*{t}*")).collect();
            assert_eq!(seen, want, "every token in exactly one search, in order");
            assert_eq!(all.len(), (1_200 * fields.len()).div_ceil(MAX_CLAUSES));
        }
    }
}
