//! Paging against a cluster that caps pages and has sort ties at page
//! boundaries, for each flavour: the point-in-time is closed and every
//! request is in the transcript (that every document is found exactly once
//! is the conformance case `capped_pages_with_ties`, on the same cluster
//! and documents); and a batch of 1,200 runs stays under OpenSearch's
//! clause limit.

use serde_json::{Value, json};

use super::cluster::Cluster;
use super::{config, secret};
use crate::backend::conformance::run;
use crate::backend::elastic::Elastic;
use crate::backend::{Query, RunAnswer};

const EVENTS: &str = "logs-endpoint.events.process-default";
const ALERTS: &str = ".alerts-security.alerts-default";

/// The flavours of the API, each with the path that closes its PIT (none
/// where it has no PIT with `_shard_doc`).
pub(super) fn flavours() -> [(Value, &'static str); 4] {
    [
        (
            json!({"number": "8.15.0", "build_flavor": "default"}),
            "/_pit",
        ),
        (
            json!({"distribution": "opensearch", "number": "3.3.0"}),
            "/_search/point_in_time",
        ),
        (
            json!({"distribution": "opensearch", "number": "2.19.1"}),
            "",
        ),
        (json!({"number": "7.10.2", "build_flavor": "default"}), ""),
    ]
}

/// `per_token` process events for each token (one of them an alert too),
/// all stamped with one of two instants, so every page boundary is a tie.
pub(super) fn docs(tokens: &[String], per_token: usize) -> Vec<(String, String, i64, Value)> {
    let mut out = Vec::new();
    for (t, token) in tokens.iter().enumerate() {
        for n in 0..per_token {
            let at = 1_764_151_200_000_i64 + (n % 2) as i64;
            let source = json!({"@timestamp": at, "event": {"category": ["process"]},
                "process": {"pid": 100 + n, "command_line": format!("/bin/sh -c echo {token} {n}")}});
            out.push((EVENTS.to_string(), format!("e-{t}-{n}"), at, source.clone()));
            if n == 0 {
                out.push((ALERTS.to_string(), format!("a-{t}"), at, source));
            }
        }
    }
    out
}

async fn ask(cluster: &Cluster, tokens: &[String], page_size: u32) -> (Vec<RunAnswer>, usize) {
    let key = secret();
    let mut cfg = config(&cluster.url, key.path());
    cfg.page_size = page_size;
    cfg.timeout = std::time::Duration::from_secs(20);
    let backend = Elastic::new("lab-elastic", &cfg).unwrap_or_else(|e| panic!("{e}"));
    let runs: Vec<_> = tokens.iter().map(|t| run(t)).collect();
    let log = backend.transcript();
    log.start();
    let got = backend
        .query(Query { runs: &runs })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (got, log.finish().len())
}

/// The command lines [`docs`] gives `token`: its events' in order, then
/// its alert's.
pub(super) fn commands_of(token: &str, per_token: usize) -> Vec<String> {
    let mut all: Vec<String> = (0..per_token)
        .map(|n| format!("/bin/sh -c echo {token} {n}"))
        .collect();
    all.sort();
    all.push(format!("/bin/sh -c echo {token} 0"));
    all
}

fn commands(answer: &RunAnswer) -> Vec<String> {
    let mut all: Vec<String> = answer
        .events
        .iter()
        .filter_map(|e| e.fields.get("CommandLine")?.as_str().map(String::from))
        .collect();
    all.sort();
    all
}

#[tokio::test]
async fn capped_pages_close_their_point_in_time_and_are_all_recorded_in_any_flavour() {
    let tokens: Vec<String> = vec!["cp00000000aa".into(), "cp00000000bb".into()];
    for (version, close) in flavours() {
        // Asked for 500 a page, the cluster serves 2: a short page is not the end.
        let cluster = Cluster::start(version.clone(), docs(&tokens, 7), 2).await;
        let (got, recorded) = ask(&cluster, &tokens, 500).await;
        assert_eq!(got.len(), 2, "{version}");
        let asked = cluster.asked();
        assert_eq!(
            recorded,
            asked.len(),
            "every request in the transcript: {version}"
        );
        let searches = asked.iter().filter(|a| a.path.ends_with("_search")).count();
        // 14 events at 2 a page: 7 full pages and the empty one; 2 alerts: 1 + 1.
        assert_eq!(searches, 8 + 2, "{version}");
        let closes = asked.iter().filter(|a| a.method == "DELETE").count();
        if close.is_empty() {
            assert_eq!(closes, 0, "{version}");
            assert!(asked.iter().all(|a| a.body.get("pit").is_none()));
        } else {
            assert_eq!(closes, 2, "{version}");
            assert!(
                asked
                    .iter()
                    .filter(|a| a.method == "DELETE")
                    .all(|a| a.path == close)
            );
            assert_eq!(cluster.open_pit(), None, "the PIT is closed: {version}");
        }
    }
}

#[tokio::test]
async fn a_failed_page_still_closes_the_point_in_time() {
    use crate::backend::conformance::{Answer, Server};
    let bad = r#"{"error":{"root_cause":[{"type":"parsing_exception","reason":"bad"}],"type":"parsing_exception","reason":"bad"},"status":400}"#;
    let server = Server::start(vec![
        super::info(),
        Answer::ok(r#"{"id":"pit-9"}"#),
        Answer::status(400, bad),
        Answer::ok(r#"{"succeeded":true,"num_freed":1}"#),
    ])
    .await;
    let key = secret();
    let backend = Elastic::new("lab-elastic", &config(&server.url, key.path()))
        .unwrap_or_else(|e| panic!("{e}"));
    let err = backend
        .query(Query {
            runs: &[run("cp00000000aa")],
        })
        .await;
    assert!(err.is_err(), "{err:?}");
    let seen = server.requests();
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[3].path, "/_pit");
    assert_eq!(seen[3].body, r#"{"id":"pit-9"}"#);
}

#[tokio::test]
async fn a_batch_of_1200_runs_stays_under_the_clause_limit_and_ties_each_hit_once() {
    let tokens: Vec<String> = (0..1_200_u64)
        .map(|n| format!("cp{:010x}", 0xa0_0000_0000 + n))
        .collect();
    for (version, _) in [flavours()[2].clone(), flavours()[0].clone()] {
        // The cluster answers 400 `too_many_clauses` past 1,024, as OpenSearch does.
        let cluster = Cluster::start(version.clone(), docs(&tokens, 2), 100).await;
        let (got, _) = ask(&cluster, &tokens, 500).await;
        assert_eq!(got.len(), 1_200);
        for (answer, token) in got.iter().zip(&tokens) {
            let want = [
                format!("/bin/sh -c echo {token} 0"),
                format!("/bin/sh -c echo {token} 1"),
            ];
            assert_eq!(commands(answer), want, "{version}");
            assert_eq!(answer.alerts.len(), 1, "{version}");
        }
        let bodies: Vec<Value> = cluster
            .asked()
            .into_iter()
            .filter(|a| a.path.ends_with("_search"))
            .map(|a| a.body)
            .collect();
        let most = bodies
            .iter()
            .map(|b| b["query"]["bool"]["should"].as_array().map_or(0, Vec::len))
            .max();
        assert!(most.is_some_and(|m| m <= 1_000), "{most:?}");
    }
}
