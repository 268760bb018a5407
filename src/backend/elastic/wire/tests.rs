//! Reading `_search` answers, error envelopes, fields and times.

use serde_json::json;

use super::*;

#[test]
fn lookup_handles_nested_dotted_mixed_and_arrays() {
    let doc = json!({
        "process": {"pid": 7, "parent": {"pid": "6"}},
        "kibana.alert.rule.name": "r",
        "kibana.alert.rule.threat": [
            {"tactic": {"name": "Execution"}, "technique": [{"id": "T1204", "subtechnique": [{"id": "T1204.002"}]}]},
            {"tactic": {"name": "Initial Access"}, "technique": []}
        ],
        "host": {"os.name": "Linux"}
    });
    assert_eq!(number(&doc, "process.pid"), Some(7));
    assert_eq!(number(&doc, "process.parent.pid"), Some(6));
    assert_eq!(text(&doc, "kibana.alert.rule.name").as_deref(), Some("r"));
    assert_eq!(
        texts(&doc, "kibana.alert.rule.threat.tactic.name"),
        ["Execution", "Initial Access"]
    );
    assert_eq!(
        texts(&doc, "kibana.alert.rule.threat.technique.subtechnique.id"),
        ["T1204.002"]
    );
    assert_eq!(text(&doc, "host.os.name").as_deref(), Some("Linux"));
    assert!(values(&doc, "process.missing").is_empty());
}

#[test]
fn a_200_answer_with_failures_is_an_error_not_a_miss() {
    let ok = br#"{"took":3,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},
        "hits":{"hits":[{"_source":{"a":1},"sort":[1,"x"]},{"_source":{"b":2}}]}}"#;
    let hits = parse_page(ok).map(|p| p.hits).unwrap_or_default();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].sort, Some(vec![json!(1), json!("x")]));
    let pit = br#"{"pit_id":"p2","timed_out":false,"hits":{"hits":[{"_index":"i","_id":"d1","_source":{}}]}}"#;
    let page = parse_page(pit).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.pit_id.as_deref(), Some("p2"));
    assert_eq!(page.hits[0].key, Some(("i".into(), "d1".into())));
    let cases: [(&[u8], &str); 5] = [
        (
            br#"{"timed_out":false,"_shards":{"total":3,"failed":1,"failures":[{"shard":0,"index":"logs-x","reason":{"type":"query_shard_exception","reason":"failed to create query"}}]},"hits":{"hits":[]}}"#,
            "1 of 3 shards failed, the hits are incomplete: query_shard_exception: failed to create query",
        ),
        (
            br#"{"timed_out":true,"hits":{"hits":[]}}"#,
            "the search timed out in the cluster, the hits are incomplete",
        ),
        (
            br#"{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [x]"}],"type":"index_not_found_exception","reason":"no such index [x]"},"status":404}"#,
            "search failed: index_not_found_exception: no such index [x]",
        ),
        (br#"{"took":1}"#, "malformed search answer: no `hits`"),
        (b"{not json", "malformed search answer"),
    ];
    for (body, want) in cases {
        let got = parse_page(body)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(got.starts_with(want), "{got}");
    }
}

#[test]
fn error_envelopes_in_http_errors_are_explained() {
    let err = |kind: ErrorKind| BackendError::new("lab-es", kind);
    let excerpt = |t: &str| Said::Excerpt(t.into());
    let cases = [
        (
            ErrorKind::Credentials {
                status: 401,
                hint: "check the credentials".into(),
                said: excerpt(
                    r#"{"error":{"root_cause":[{"type":"security_exception","reason":"missing authentication credentials for REST request [/]","header":{"WWW-Au"#,
                ),
            },
            "HTTP 401 Unauthorized: check the credentials: security_exception: missing authentication credentials for REST request [/]",
        ),
        (
            ErrorKind::Status {
                status: 400,
                said: excerpt(
                    r#"{"error":{"root_cause":[{"type":"parsing_exception","reason":"unknown query [x] \"q\"","line":1}]}}"#,
                ),
                attempts: None,
            },
            r#"HTTP 400 Bad Request: parsing_exception: unknown query [x] "q""#,
        ),
        (
            ErrorKind::Status {
                status: 503,
                said: excerpt(
                    r#"{"error":{"root_cause":[{"type":"search_phase_execution_exception","reason":"all shards fai"#,
                ),
                attempts: Some(4),
            },
            "HTTP 503 Service Unavailable: search_phase_execution_exception: all shards fai after 4 attempts",
        ),
        (
            ErrorKind::Status {
                status: 502,
                said: excerpt("<html>"),
                attempts: None,
            },
            "HTTP 502 Bad Gateway (<html>)",
        ),
        (
            ErrorKind::Timeout {
                what: "request".into(),
                limit: None,
                attempts: Some(4),
            },
            "request timed out after 4 attempts",
        ),
    ];
    for (kind, want) in cases {
        assert_eq!(explain(err(kind)).kind.to_string(), want);
    }
}

#[test]
fn times_parse_in_every_shape_the_products_write() {
    let t = |v: Value| time(&json!({ "t": v }), &["t"]).map(OffsetDateTime::unix_timestamp);
    assert_eq!(t(json!("2025-06-01T10:03:12.511Z")), Some(1_748_772_192));
    assert_eq!(
        t(json!("2025-06-01T10:03:12.511+0000")),
        Some(1_748_772_192)
    );
    assert_eq!(t(json!("2025-06-01T12:03:12+0200")), Some(1_748_772_192));
    assert_eq!(t(json!(1_748_772_192_511_i64)), Some(1_748_772_192));
    assert_eq!(t(json!("yesterday")), None);
}
