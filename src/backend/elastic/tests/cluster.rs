//! A small cluster that really pages, for the paging tests: it holds
//! documents, filters them by the `*token*` wildcards of a search, sorts by
//! `@timestamp` then the requested tiebreaker, honours `search_after`, and
//! serves at most `cap` hits a page whatever `size` asks (as a cluster or a
//! proxy capping page sizes does). It speaks Elasticsearch's or
//! OpenSearch's PIT API by its flavour, rotates the PIT id on every answer
//! and refuses a stale one, refuses more than 1,024 clauses as OpenSearch
//! does, and records every request.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// A request the cluster saw.
#[derive(Debug, Clone)]
pub struct Asked {
    pub method: String,
    pub path: String,
    pub body: Value,
}

/// The cluster's state.
pub struct State {
    /// `GET /`'s `version`.
    pub version: Value,
    /// `(index name, _id, @timestamp in ms, _source)`, in index order.
    pub docs: Vec<(String, String, i64, Value)>,
    /// Each document's words, for the token filter.
    words: Vec<std::collections::HashSet<String>>,
    pub cap: usize,
    pub asked: Vec<Asked>,
    /// The newest PIT id, `None` when none is open.
    pub pit: Option<String>,
    /// The index pattern the open PIT covers.
    pub pit_index: String,
    pub pits_opened: usize,
}

/// A running cluster.
pub struct Cluster {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl Cluster {
    pub async fn start(
        version: Value,
        docs: Vec<(String, String, i64, Value)>,
        cap: usize,
    ) -> Cluster {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let url = format!(
            "http://{}",
            listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
        );
        let words = docs
            .iter()
            .map(|d| {
                d.3.to_string()
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .map(String::from)
                    .collect()
            })
            .collect();
        let state = Arc::new(Mutex::new(State {
            version,
            docs,
            words,
            cap,
            asked: Vec::new(),
            pit: None,
            pit_index: String::new(),
            pits_opened: 0,
        }));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| serve(req, state.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Cluster { url, state }
    }

    pub fn asked(&self) -> Vec<Asked> {
        self.state
            .lock()
            .map(|s| s.asked.clone())
            .unwrap_or_default()
    }

    pub fn open_pit(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.pit.clone())
    }
}

fn error(status: u16, kind: &str, reason: &str) -> (u16, Value) {
    let cause = json!({"type": kind, "reason": reason});
    (
        status,
        json!({"error": {"root_cause": [cause.clone()], "type": kind, "reason": reason}, "status": status}),
    )
}

async fn serve(
    req: Request<hyper::body::Incoming>,
    state: Arc<Mutex<State>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (status, answer) = {
        let mut s = state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.asked.push(Asked {
            method: method.clone(),
            path: path.clone(),
            body: body.clone(),
        });
        route(&mut s, &method, &path, &query, &body)
    };
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(answer.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

fn opensearch(s: &State) -> bool {
    s.version["distribution"] == "opensearch"
}

fn route(s: &mut State, method: &str, path: &str, query: &str, body: &Value) -> (u16, Value) {
    let os = opensearch(s);
    match (method, path) {
        ("GET", "/") => (
            200,
            json!({"name": "n1", "cluster_name": "lab", "version": s.version}),
        ),
        ("POST", p) if p.ends_with("/_pit") && !os => open(s, p, query, "id"),
        ("POST", p) if p.ends_with("/_search/point_in_time") && os => open(s, p, query, "pit_id"),
        ("DELETE", "/_pit") if !os => close(s, body["id"].as_str()),
        ("DELETE", "/_search/point_in_time") if os => close(s, body["pit_id"][0].as_str()),
        ("POST", "/_search") => match s.pit.clone() {
            Some(pit) if body["pit"]["id"] == pit.as_str() => {
                let index = s.pit_index.clone();
                search(s, body, &index, true)
            }
            _ => error(
                404,
                "search_context_missing_exception",
                "No search context found",
            ),
        },
        ("POST", p) if p.ends_with("/_search") => {
            if body.get("pit").is_some() {
                return error(
                    400,
                    "action_request_validation_exception",
                    "[indices] cannot be used with point in time",
                );
            }
            let index = p
                .trim_end_matches("/_search")
                .trim_start_matches('/')
                .to_string();
            search(s, body, &index, false)
        }
        _ => error(
            400,
            "illegal_argument_exception",
            &format!("no handler for {method} {path}"),
        ),
    }
}

fn open(s: &mut State, path: &str, query: &str, key: &str) -> (u16, Value) {
    if !query.contains("keep_alive=") {
        return error(
            400,
            "action_request_validation_exception",
            "[keep_alive] is not specified",
        );
    }
    s.pits_opened += 1;
    let id = format!("pit-{}-0", s.pits_opened);
    s.pit = Some(id.clone());
    s.pit_index = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    (
        200,
        json!({ key: id, "_shards": {"total": 1, "successful": 1, "failed": 0} }),
    )
}

fn close(s: &mut State, id: Option<&str>) -> (u16, Value) {
    if id.is_some() && id == s.pit.as_deref() {
        s.pit = None;
        (200, json!({"succeeded": true, "num_freed": 1}))
    } else {
        error(
            404,
            "search_context_missing_exception",
            "No search context found",
        )
    }
}

/// The `*token*` patterns of a search's `should` clauses.
fn patterns(body: &Value) -> Vec<String> {
    let should = body["query"]["bool"]["should"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    should
        .iter()
        .filter_map(|c| {
            c["wildcard"].as_object()?.values().next()?["value"]
                .as_str()
                .map(String::from)
        })
        .collect()
}

/// The documents of the index pattern `index` (a prefix and `*`).
fn search(s: &mut State, body: &Value, index: &str, pit: bool) -> (u16, Value) {
    let prefix = index.trim_end_matches('*');
    let clauses = body["query"]["bool"]["should"]
        .as_array()
        .map_or(0, Vec::len);
    if clauses > 1_024 {
        return error(400, "too_many_clauses", "maxClauseCount is set to 1024");
    }
    let by = body["sort"][1]
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .unwrap_or_default();
    let shard_doc = match by.as_str() {
        "_shard_doc" if pit && (!opensearch(s) || s.version["number"] == "3.3.0") => true,
        "_id" => false,
        other => {
            return error(
                400,
                "illegal_argument_exception",
                &format!("No mapping found for [{other}] in order to sort on"),
            );
        }
    };
    // Tokens are whole words of the documents here: a set lookup per word
    // keeps a batch of 1,200 fast where a substring scan per token is not.
    let needles: std::collections::HashSet<String> = patterns(body)
        .iter()
        .map(|p| p.trim_matches('*').to_string())
        .collect();
    let key = |n: usize, d: &(String, String, i64, Value)| -> (i64, Value) {
        (d.2, if shard_doc { json!(n) } else { json!(d.1) })
    };
    let after = body["search_after"].as_array().cloned();
    let cmp = |a: &(i64, Value), b: &(i64, Value)| {
        a.0.cmp(&b.0).then_with(|| match (&a.1, &b.1) {
            (Value::Number(x), Value::Number(y)) => x.as_u64().cmp(&y.as_u64()),
            (x, y) => x.as_str().cmp(&y.as_str()),
        })
    };
    let mut hits: Vec<(usize, (i64, Value))> = s
        .docs
        .iter()
        .enumerate()
        .filter(|(n, d)| d.0.starts_with(prefix) && s.words[*n].iter().any(|w| needles.contains(w)))
        .map(|(n, d)| (n, key(n, d)))
        .filter(|(_, k)| match &after {
            Some(a) => cmp(k, &(a[0].as_i64().unwrap_or(0), a[1].clone())).is_gt(),
            None => true,
        })
        .collect();
    hits.sort_by(|a, b| cmp(&a.1, &b.1));
    let size = body["size"].as_u64().unwrap_or(10) as usize;
    hits.truncate(size.min(s.cap));
    let hits: Vec<Value> = hits
        .into_iter()
        .map(|(n, (ts, tie))| {
            let d = &s.docs[n];
            json!({"_index": d.0, "_id": d.1, "_score": null, "_source": d.3, "sort": [ts, tie]})
        })
        .collect();
    let mut answer = json!({"took": 1, "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": hits.len(), "relation": "eq"}, "max_score": null, "hits": hits}});
    if pit {
        // Every answer may carry a new id; the next request must use it.
        let next = s.pit.as_deref().map(|p| {
            let (head, n) = p.rsplit_once('-').unwrap_or((p, "0"));
            format!("{head}-{}", n.parse::<u32>().unwrap_or(0) + 1)
        });
        s.pit = next.clone();
        answer["pit_id"] = json!(next);
    }
    (200, answer)
}
