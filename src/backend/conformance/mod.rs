//! The conformance suite every HTTP backend passes against a local HTTP
//! server on 127.0.0.1 that answers as the vendor documents ([`suite`]:
//! hit, miss, another run's token, 401, 403, 429 with Retry-After, 5xx then
//! success, a timeout, a malformed answer, a hostile token, a malformed
//! token in a batch, a plain-HTTP URL, the evidence bundle's secret scan
//! across a token renewal; and where the vendor's API has them: paging,
//! capped pages with sort ties, an alert tied by a field other than the
//! process fields, one alert written as several rows), the server, and
//! the sample runs the backend tests share.
//!
//! The server plays a script of answers, one per request (the last one
//! repeats), or answers each request with a function of it (a server that
//! follows a backend's paging cursor), and records every request so tests
//! can count them.

mod alerts;
mod evidence;
mod guard;
mod paging;
pub mod suite;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use time::OffsetDateTime;
use tokio::net::TcpListener;

use crate::record::{HopTruth, ScenarioRun};
use crate::vocab::{HopKind, Platform};

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Answer {
    pub fn ok(body: impl Into<String>) -> Answer {
        Answer {
            status: 200,
            headers: vec![],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
    pub fn status(status: u16, body: impl Into<String>) -> Answer {
        Answer {
            status,
            headers: vec![],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
}

/// A request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    /// The URL's query string, undecoded ("" when none).
    pub query: String,
    pub authorization: Option<String>,
    pub body: String,
}

/// What a server answers: a script played in order, or a function of the
/// request (a server that follows a backend's paging cursor).
#[derive(Clone)]
enum Play {
    Script(Arc<Mutex<Vec<Answer>>>),
    Handler(Arc<dyn Fn(&Seen) -> Answer + Send + Sync>),
}

/// A running scripted server.
pub struct Server {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl Server {
    /// Starts a server answering `script` in order, per path prefix `route`
    /// (requests to other paths get 404).
    pub async fn start(script: Vec<Answer>) -> Server {
        Server::play(Play::Script(Arc::new(Mutex::new(script)))).await
    }

    /// Starts a server answering each request with `handler`'s answer to it.
    pub async fn handle(handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Server {
        Server::play(Play::Handler(Arc::new(handler))).await
    }

    async fn play(script: Play) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let url = format!(
            "http://{}",
            listener
                .local_addr()
                .unwrap_or_else(|e| panic!("addr: {e}"))
        );
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        let seen2 = seen.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    a = listener.accept() => match a { Ok(a) => a, Err(_) => continue },
                    _ = &mut rx => return,
                };
                let (seen, script) = (seen2.clone(), script.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        answer(req, seen.clone(), script.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Server {
            url,
            seen,
            stop: Some(tx),
        }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

async fn answer(
    req: Request<hyper::body::Incoming>,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Play,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&body).to_string();
    let request = Seen {
        path,
        query,
        authorization,
        body,
    };
    let next = match &script {
        Play::Handler(handler) => handler(&request),
        Play::Script(script) => {
            let mut s = script
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if s.len() > 1 {
                s.remove(0)
            } else {
                s.first()
                    .cloned()
                    .unwrap_or_else(|| Answer::status(404, ""))
            }
        }
    };
    if let Ok(mut s) = seen.lock() {
        s.push(request);
    }
    tokio::time::sleep(next.delay).await;
    let mut resp = Response::builder().status(next.status);
    for (k, v) in &next.headers {
        resp = resp.header(*k, v);
    }
    Ok(resp
        .body(Full::new(Bytes::from(next.body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

/// A hop of the sample chain.
pub fn hop(index: usize, kind: HopKind, pid: u32, image: &str) -> HopTruth {
    HopTruth {
        index,
        kind,
        label: format!("hop{index}"),
        expected: String::new(),
        pid: Some(pid),
        parent_pid: None,
        image: Some(image.into()),
        path: None,
        at: Some(OffsetDateTime::now_utc()),
        happened: true,
        reason: None,
    }
}

/// `run` delivered by email: a mail hop whose expected value is the
/// message's Message-ID (`<random>.<token>@fastfreight-delivery.example`,
/// as the record keeps it, without angle brackets) first, the run's hops
/// after it. Returns the run and the Message-ID.
pub fn by_mail(mut run: ScenarioRun) -> (ScenarioRun, String) {
    let message_id = format!(
        "64db894213d2d179.{}@fastfreight-delivery.example",
        run.token
    );
    let mail = HopTruth {
        index: 1,
        kind: HopKind::Mail,
        label: "message arrives".into(),
        expected: message_id.clone(),
        pid: None,
        parent_pid: None,
        image: None,
        path: Some(format!("/home/lab/chainproof/Mail/Inbox/{}.eml", run.token)),
        at: Some(OffsetDateTime::now_utc()),
        happened: true,
        reason: None,
    };
    for h in &mut run.hops {
        h.index += 1;
    }
    run.hops.insert(0, mail);
    (run, message_id)
}

/// A completed run of `macro-doc-shell` with `token`, on `platform`,
/// started now (the query window is computed from it), with `hops` and no
/// recorded processes.
pub fn sample_run(token: &str, platform: Platform, hops: Vec<HopTruth>) -> ScenarioRun {
    let now = OffsetDateTime::now_utc();
    ScenarioRun {
        source: "x".into(),
        platform,
        token: token.into(),
        started_at: now,
        finished_at: now,
        hops,
        ..crate::record::test_records::scenario("macro-doc-shell")
    }
}

/// The sample run every backend's tests ask about: soffice.bin (pid 10)
/// opens the file and starts dash (pid 11), with run token `token`.
pub fn run(token: &str) -> ScenarioRun {
    sample_run(
        token,
        Platform::Linux,
        vec![
            hop(1, HopKind::Open, 10, "/w/program/soffice.bin"),
            hop(2, HopKind::Spawn, 11, "/usr/bin/dash"),
        ],
    )
}

/// The decoded value of `field` in a form-encoded body.
pub fn form_field(body: &str, field: &str) -> String {
    reqwest::Url::parse(&format!("http://form/?{body}"))
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == field)
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default()
}

/// A secret reference to an environment variable named after `what` and
/// this process, set to `value` (the shared cases build backends after the
/// profile is made, so a temporary file would be gone).
pub fn env_secret(what: &str, value: &str) -> crate::secret::SecretRef {
    let var = format!("CHAINPROOF_TEST_{what}_{}", std::process::id());
    // SAFETY of the test: a variable unique to `what` and this process,
    // always set to the same value, before any backend reads it.
    unsafe { std::env::set_var(&var, value) };
    crate::secret::SecretRef {
        env: Some(var),
        file: None,
    }
}

/// Every string of a JSON body, decoded, one per line.
pub fn json_strings(body: &str) -> String {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(m) => m.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        walk(&v, &mut out);
    }
    out.join("\n")
}

/// One `#[tokio::test(start_paused = true)]` per shared case for the
/// [`Fixture`](suite::Fixture) `$fixture`, plus one per case named after it
/// (`paging`, `capped_pages_with_ties`, `alert_tied_by_any_field`,
/// `one_alert_several_rows`): those apply only where the vendor's API
/// pages or documents such fields or rows, so a fixture lists the ones
/// that apply and no case is made that would assert nothing.
macro_rules! conformance_suite {
    ($fixture:ty $(, $case:ident)* $(,)?) => {
        mod conformance {
            use super::*;
            use $crate::backend::conformance::suite;

            $(
                #[tokio::test(start_paused = true)]
                async fn $case() {
                    suite::$case::<$fixture>().await;
                }
            )*

            #[tokio::test(start_paused = true)]
            async fn hit() {
                suite::hit::<$fixture>().await;
            }
            #[tokio::test(start_paused = true)]
            async fn linking() {
                suite::linking::<$fixture>().await;
            }
            #[tokio::test(start_paused = true)]
            async fn transcript() {
                suite::transcript::<$fixture>().await;
            }
            #[tokio::test(start_paused = true)]
            async fn miss() {
                suite::miss::<$fixture>().await;
            }
            #[tokio::test(start_paused = true)]
            async fn another_runs_token() {
                suite::another_runs_token::<$fixture>().await;
            }
            #[tokio::test(start_paused = true)]
            async fn unauthorized() {
                suite::refused_credentials::<$fixture>(401).await;
            }
            #[tokio::test(start_paused = true)]
            async fn forbidden() {
                suite::refused_credentials::<$fixture>(403).await;
            }
            #[tokio::test(start_paused = true)]
            async fn rate_limited() {
                suite::rate_limited::<$fixture>().await;
            }
            #[tokio::test(start_paused = true)]
            async fn server_errors() {
                suite::server_errors::<$fixture>().await;
            }
            #[tokio::test(start_paused = true)]
            async fn timeout() {
                suite::timeout::<$fixture>().await;
            }
            #[tokio::test(start_paused = true)]
            async fn malformed() {
                suite::malformed::<$fixture>().await;
            }
            #[tokio::test(start_paused = true)]
            async fn hostile() {
                suite::hostile::<$fixture>().await;
            }
            #[tokio::test(start_paused = true)]
            async fn malformed_token_in_batch() {
                suite::malformed_token_in_batch::<$fixture>().await;
            }
            #[tokio::test(start_paused = true)]
            async fn evidence_secret_scan() {
                suite::evidence_secret_scan::<$fixture>().await;
            }
            #[tokio::test(start_paused = true)]
            async fn plain_http() {
                suite::plain_http::<$fixture>().await;
            }
        }
    };
}
pub(crate) use conformance_suite;
