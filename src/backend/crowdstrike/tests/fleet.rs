//! A fleet batch (1,200 runs) against a local server that answers like
//! Falcon's Alerts v2 API from what each request asks — the tokens in its
//! FQL filter, its `offset` and `limit`, the composite ids of an entities
//! request — and counts the requests it serves.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::*;
use crate::backend::crowdstrike::fql::MAX_FILTER_BYTES;
use crate::backend::crowdstrike::round::CONCURRENCY;

/// Alerts the server holds per token.
const PER_TOKEN: usize = 2;
/// An alert every filter naming the batch's first token also matches, that
/// names no run (the round's untied row).
const STRAY: &str = "stray-1";

/// What the server saw.
#[derive(Default)]
struct Log {
    /// (path, the raw `filter` parameter as sent, URL-encoded).
    requests: Mutex<Vec<(String, String)>>,
    /// When each request arrived, in the order of `requests`.
    arrivals: Mutex<Vec<tokio::time::Instant>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    /// When set, the token answer says the rate-limit window is used up
    /// until this epoch second.
    exhausted_until: Option<u64>,
}

impl Log {
    fn requests(&self) -> Vec<(String, String)> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// The tokens a batched filter names: `cmdline:*'*<token>*'` terms.
fn tokens_of(filter: &str) -> Vec<String> {
    filter
        .split("cmdline:*'*")
        .skip(1)
        .filter_map(|t| t.split_once("*'").map(|(t, _)| t.to_string()))
        .collect()
}

fn id_answer(query: &str, first: &str) -> String {
    let url = reqwest::Url::parse(&format!("http://x/?{query}"));
    let pairs: HashMap<String, String> = url
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default();
    let filter = pairs.get("filter").cloned().unwrap_or_default();
    assert!(filter.starts_with("created_timestamp:>='"), "{filter}");
    let tokens = tokens_of(&filter);
    let mut ids: Vec<String> = tokens
        .iter()
        .flat_map(|t| (0..PER_TOKEN).map(move |k| format!("{t}-{k}")))
        .collect();
    if tokens.iter().any(|t| t == first) {
        ids.push(STRAY.into());
    }
    let number = |k: &str| pairs.get(k).and_then(|v| v.parse::<usize>().ok());
    let (offset, limit) = (
        number("offset").unwrap_or(0),
        number("limit").unwrap_or(100),
    );
    let page: Vec<&String> = ids.iter().skip(offset).take(limit).collect();
    json!({"meta": {"query_time": 0.01, "pagination": {"offset": offset, "limit": limit, "total": ids.len()}},
        "resources": page, "errors": []})
    .to_string()
}

fn entities_answer(body: &str) -> String {
    let asked: Value = serde_json::from_str(body).unwrap_or_default();
    let alerts: Vec<Value> = asked["composite_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|id| {
            let token = id.rsplit_once('-').map_or("cpffffffffff", |(t, _)| t);
            let token = if id == STRAY { "cpffffffffff" } else { token };
            let mut a: Value = serde_json::from_str(&alert(token, 10)).unwrap_or_default();
            a["composite_id"] = json!(format!("cid:ind:aid:{id}"));
            a
        })
        .collect();
    json!({"meta": {"query_time": 0.01}, "resources": alerts, "errors": []}).to_string()
}

async fn serve(
    req: Request<hyper::body::Incoming>,
    log: Arc<Log>,
    first: Arc<String>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let now = log.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    log.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    let body = String::from_utf8_lossy(&body.unwrap_or_default()).to_string();
    let filter = query
        .split('&')
        .find_map(|p| p.strip_prefix("filter="))
        .unwrap_or_default()
        .to_string();
    if let Ok(mut r) = log.requests.lock() {
        r.push((path.clone(), filter));
    }
    if let Ok(mut a) = log.arrivals.lock() {
        a.push(tokio::time::Instant::now());
    }
    // Long enough for requests sent together to overlap on the server.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, answer) = match path.as_str() {
        "/oauth2/token" => (
            201,
            format!(r#"{{"access_token":"{BEARER}","expires_in":1799}}"#),
        ),
        IDS => (200, id_answer(&query, &first)),
        ENTITIES => (200, entities_answer(&body)),
        _ => (404, String::new()),
    };
    log.in_flight.fetch_sub(1, Ordering::SeqCst);
    let mut resp = Response::builder().status(status);
    if let (Some(until), "/oauth2/token") = (log.exhausted_until, path.as_str()) {
        resp = resp
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-retryafter", until.to_string());
    }
    Ok(resp
        .body(Full::new(Bytes::from(answer)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

async fn falcon(first: &str) -> (String, Arc<Log>) {
    falcon_with(first, Log::default()).await
}

async fn falcon_with(first: &str, log: Log) -> (String, Arc<Log>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let url = format!(
        "http://{}",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    let log = Arc::new(log);
    let first = Arc::new(first.to_string());
    let log2 = log.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (log, first) = (log2.clone(), first.clone());
            tokio::spawn(async move {
                let svc =
                    hyper::service::service_fn(move |req| serve(req, log.clone(), first.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (url, log)
}

#[tokio::test]
async fn a_fleet_of_1200_runs_takes_a_handful_of_requests_and_every_alert_finds_its_run()
-> Result<(), String> {
    let runs: Vec<ScenarioRun> = (0..1_200u64).map(|i| run(&format!("cp{i:010x}"))).collect();
    let (url, log) = falcon(&runs[0].token).await;
    let (mut cfg, _dir) = config(&url);
    // Each filter's ids take two pages: paging to the end is exercised.
    cfg.page_size = 200;
    // 500 alerts an answer take a debug-built server a while: no retry on
    // a slow machine may blur the count.
    cfg.timeout = std::time::Duration::from_secs(60);
    let backend = CrowdStrike::new("lab-falcon", &cfg).map_err(|e| e.to_string())?;
    let answers = backend
        .query(Query { runs: &runs })
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(answers.len(), runs.len());
    for (run, answer) in runs.iter().zip(&answers) {
        assert_eq!(answer.alerts.len(), PER_TOKEN, "{}", run.token);
        for a in &answer.alerts {
            let cmd = a.event.fields["CommandLine"].as_str().unwrap_or_default();
            assert!(cmd.contains(&run.token), "{} got {cmd}", run.token);
        }
        assert_eq!(answer.untied.count, 1, "the stray alert is counted");
        assert!(answer.untied.sample[0].contains(STRAY));
    }
    let first = log.requests();
    let count =
        |seen: &[(String, String)], path: &str| seen.iter().filter(|(p, _)| p == path).count();
    let filters: std::collections::HashSet<&String> = first
        .iter()
        .filter(|(p, _)| p == IDS)
        .map(|(_, f)| f)
        .collect();
    assert!(
        (2..=10).contains(&filters.len()),
        "{} filters",
        filters.len()
    );
    for f in &filters {
        assert!(f.len() <= MAX_FILTER_BYTES, "a filter of {} bytes", f.len());
    }
    // Every filter paged twice (~360 ids at 200 a page); 2,401 ids at 500
    // an entities request.
    assert_eq!(count(&first, IDS), 2 * filters.len());
    assert_eq!(count(&first, ENTITIES), 5);
    assert_eq!(first.len(), 1 + 2 * filters.len() + 5);
    assert!(log.most_in_flight.load(Ordering::SeqCst) <= CONCURRENCY);
    // A second round reuses the token: only id queries and entities.
    backend
        .query(Query { runs: &runs })
        .await
        .map_err(|e| e.to_string())?;
    let second = log.requests().len() - first.len();
    assert_eq!(second, first.len() - 1);
    eprintln!(
        "crowdstrike: {} runs, {second} requests per round ({} filters), at most {} in flight",
        runs.len(),
        filters.len(),
        log.most_in_flight.load(Ordering::SeqCst)
    );
    Ok(())
}

#[tokio::test]
async fn one_hostile_token_in_a_fleet_is_refused_before_any_request() {
    let mut runs: Vec<ScenarioRun> = (0..50u64).map(|i| run(&format!("cp{i:010x}"))).collect();
    runs.push(run("cp01'+cid:*'*"));
    let (url, log) = falcon(&runs[0].token).await;
    let (cfg, _dir) = config(&url);
    let got = match CrowdStrike::new("lab-falcon", &cfg) {
        Ok(b) => b.query(Query { runs: &runs }).await.map(|_| ()),
        Err(e) => Err(e),
    };
    let err = got.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        err.contains("cannot be put into a Falcon query safely"),
        "{err}"
    );
    assert!(log.requests().is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_exhausted_window_holds_every_parallel_request() -> Result<(), String> {
    let runs: Vec<ScenarioRun> = (0..6u64).map(|i| run(&format!("cp{i:010x}"))).collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let log = Log {
        exhausted_until: Some(now.as_secs() + 3),
        ..Log::default()
    };
    let (url, log) = falcon_with(&runs[0].token, log).await;
    let (mut cfg, _dir) = config(&url);
    // One id query per token: six requests, four sent at once.
    cfg.token_search = TokenSearch::Text;
    let backend = CrowdStrike::new("lab-falcon", &cfg).map_err(|e| e.to_string())?;
    backend
        .query(Query { runs: &runs })
        .await
        .map_err(|e| e.to_string())?;
    let seen = log.requests();
    let arrivals = log.arrivals.lock().map(|a| a.clone()).unwrap_or_default();
    assert_eq!(seen[0].0, "/oauth2/token");
    assert_eq!(seen.iter().filter(|(p, _)| p == IDS).count(), 6);
    // The window resets in whole epoch seconds, 2 to 3 s after the token.
    for (i, at) in arrivals.iter().enumerate().skip(1) {
        let waited = at.duration_since(arrivals[0]);
        assert!(
            waited >= std::time::Duration::from_secs(2),
            "request {i} ({}) went after {waited:?}",
            seen[i].0
        );
    }
    Ok(())
}
