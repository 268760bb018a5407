//! The HTTP layer every API backend shares: a client with explicit timeouts
//! and TLS verification (a custom CA may be added, verification is never
//! switched off), authentication from secrets, and retries — 429 honours
//! `Retry-After`, 5xx, timeouts and connection errors back off with jitter,
//! 401/403 fail at once with the status. Backends keep their queries and
//! wire types; this keeps the transport rules in one place.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

mod config;

pub use config::{Auth, AuthConfig, HttpConfig};

use super::transcript::Transcript;
use super::{BackendError, ErrorKind, Said};

/// Where a vendor's API departs from the common retry rules, so that one
/// loop serves every backend (Falcon, for one, announces its rate-limit
/// reset in its own header and needs its own advice on a 403).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// How long a 429 asks to wait, from the answer's headers and the
    /// current time; `None` backs off as for a 5xx.
    pub rate_limit_wait: fn(&HeaderMap, SystemTime) -> Option<Duration>,
    /// What a 401 tells the user to check.
    pub unauthorized: &'static str,
    /// What a 403 tells the user to check.
    pub forbidden: &'static str,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            rate_limit_wait: |headers, _| retry_after(headers),
            unauthorized: "check the credentials",
            forbidden: "check the credentials",
        }
    }
}

/// A configured HTTP endpoint.
#[derive(Debug, Clone)]
pub struct Http {
    backend: String,
    client: reqwest::Client,
    base: String,
    auth: Auth,
    attempts: u32,
    policy: Policy,
    transcript: Transcript,
    /// The extra CA the client trusts, named when TLS fails.
    ca_file: Option<std::path::PathBuf>,
}

/// Longest wait a `Retry-After` may impose before the request counts as failed.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

impl Http {
    /// Builds the client: timeouts, TLS verification on, the extra CA if any.
    pub fn new(backend: &str, cfg: &HttpConfig, auth: Auth) -> Result<Http, BackendError> {
        let err = |message: String| BackendError::config(backend, message);
        refuse_plain_http(&cfg.url).map_err(err)?;
        let mut builder = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("chainproof/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &cfg.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| err(format!("read CA file {}: {e}", ca.display())))?;
            // An empty certificate set would be accepted silently: refuse it.
            if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
                return Err(err(format!(
                    "CA file {} holds no PEM certificate",
                    ca.display()
                )));
            }
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| err(format!("parse CA file {}: {e}", ca.display())))?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder
            .build()
            .map_err(|e| err(format!("build the HTTP client: {e}")))?;
        Ok(Http {
            backend: backend.to_string(),
            client,
            base: cfg.url.trim_end_matches('/').to_string(),
            auth,
            attempts: cfg.max_attempts.max(1),
            policy: Policy::default(),
            transcript: Transcript::default(),
            ca_file: cfg.ca_file.clone(),
        })
    }

    /// The same endpoint with a vendor's departures from the retry rules.
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Http {
        self.policy = policy;
        self
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The underlying client, for backends that build requests themselves.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The same endpoint writing its exchanges to `transcript` (so every
    /// client of one backend shares one log).
    #[must_use]
    pub fn with_transcript(mut self, transcript: Transcript) -> Http {
        self.transcript = transcript;
        self
    }

    /// Where this endpoint's exchanges are recorded.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// The backend (profile) name errors carry.
    pub fn backend(&self) -> &str {
        &self.backend
    }

    fn error(&self, kind: ErrorKind) -> BackendError {
        BackendError::new(self.backend.clone(), kind)
    }

    /// Sends the request `make` builds, with authentication, retrying as
    /// the module doc says. Returns the body of a 2xx answer.
    pub async fn send(
        &self,
        make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Bytes, BackendError> {
        self.exchange(make).await.map(|(body, _)| body)
    }

    /// Like [`Http::send`], also returning the answer's headers (for APIs
    /// that announce their rate-limit budget on successful answers).
    pub async fn exchange(
        &self,
        make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<(Bytes, HeaderMap), BackendError> {
        // What the last retryable failure was, turned into the error once
        // no attempt is left.
        let mut last = ErrorKind::Other(String::new());
        for attempt in 1..=self.attempts {
            let req = match &self.auth {
                Auth::None => make(&self.client),
                Auth::Bearer(t) => make(&self.client).bearer_auth(t.expose()),
                Auth::Basic(u, p) => make(&self.client).basic_auth(u, Some(p.expose())),
                Auth::Scheme(s, c) => {
                    make(&self.client).header("authorization", format!("{s} {}", c.expose()))
                }
            };
            let sent = self.transcript.describe(make(&self.client));
            let wait = match req.send().await {
                Err(e) => {
                    self.transcript.record(&self.backend, sent, 0, b"");
                    if e.is_timeout() {
                        last = ErrorKind::Timeout {
                            what: "request".into(),
                            limit: None,
                            attempts: None,
                        };
                    } else {
                        let (detail, tls) = transport(&e, self.ca_file.as_deref());
                        // A certificate the client does not trust, or a
                        // peer that does not speak TLS, fails the same way
                        // every time: asking again only delays the answer.
                        if tls {
                            return Err(self.error(ErrorKind::Connection {
                                detail,
                                attempts: attempt,
                            }));
                        }
                        last = ErrorKind::Connection {
                            detail,
                            attempts: 0,
                        };
                    }
                    backoff(attempt)
                }
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let retry_after = (self.policy.rate_limit_wait)(&headers, SystemTime::now());
                    let body = resp.bytes().await;
                    self.transcript.record(
                        &self.backend,
                        sent,
                        status.as_u16(),
                        body.as_deref().unwrap_or_default(),
                    );
                    let body = match body {
                        Ok(b) if status.is_success() => return Ok((b, headers)),
                        Err(e) if status.is_success() => {
                            // The answer broke off: as retryable as a
                            // connection that failed.
                            last = ErrorKind::Connection {
                                detail: without_url(&e),
                                attempts: 0,
                            };
                            if attempt < self.attempts {
                                tokio::time::sleep(backoff(attempt)).await;
                            }
                            continue;
                        }
                        other => other.ok(),
                    };
                    let said = Said::Excerpt(excerpt(body));
                    let code = status.as_u16();
                    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                        let hint = if status == StatusCode::UNAUTHORIZED {
                            self.policy.unauthorized
                        } else {
                            self.policy.forbidden
                        };
                        return Err(self.error(ErrorKind::Credentials {
                            status: code,
                            hint: hint.into(),
                            said,
                        }));
                    }
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        if let Some(d) = retry_after.filter(|d| *d > MAX_RETRY_AFTER) {
                            return Err(self.error(ErrorKind::RateLimited {
                                retry_after: Some(d),
                                said,
                                attempts: None,
                            }));
                        }
                        last = ErrorKind::RateLimited {
                            retry_after,
                            said,
                            attempts: None,
                        };
                        retry_after.unwrap_or_else(|| backoff(attempt))
                    } else if status.is_server_error() {
                        last = ErrorKind::Status {
                            status: code,
                            said,
                            attempts: None,
                        };
                        backoff(attempt)
                    } else {
                        return Err(self.error(ErrorKind::Status {
                            status: code,
                            said,
                            attempts: None,
                        }));
                    }
                }
            };
            if attempt < self.attempts {
                tokio::time::sleep(wait).await;
            }
        }
        Err(self.error(exhausted(last, self.attempts)))
    }
}

/// Credentials and answers must not cross a network in clear: a plain
/// `http://` URL is accepted only for a loopback host (a local test server,
/// an SSH tunnel's end), never for a SIEM elsewhere.
fn refuse_plain_http(url: &str) -> Result<(), String> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        // Not a URL at all: the first request says why, as before.
        return Ok(());
    };
    if parsed.scheme() != "http" {
        return Ok(());
    }
    let host = parsed.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        return Ok(());
    }
    Err(format!(
        "url `{url}` is plain http to a host that is not this machine: credentials and \
         answers would cross the network in clear; use https (plain http is accepted only \
         for 127.0.0.1, ::1 or localhost, e.g. the end of an SSH tunnel)"
    ))
}

/// The last retryable failure, saying how many attempts were made.
fn exhausted(last: ErrorKind, n: u32) -> ErrorKind {
    match last {
        ErrorKind::Timeout { what, limit, .. } => ErrorKind::Timeout {
            what,
            limit,
            attempts: Some(n),
        },
        ErrorKind::Connection { detail, .. } => ErrorKind::Connection {
            detail,
            attempts: n,
        },
        ErrorKind::RateLimited {
            retry_after, said, ..
        } => ErrorKind::RateLimited {
            retry_after,
            said,
            attempts: Some(n),
        },
        ErrorKind::Status { status, said, .. } => ErrorKind::Status {
            status,
            said,
            attempts: Some(n),
        },
        other => other,
    }
}

/// Exponential backoff with full jitter: up to 0.5 s × 2^(attempt-1), capped at 30 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let cap = Duration::from_millis(500).saturating_mul(1 << attempt.saturating_sub(1).min(6));
    let cap = cap.min(Duration::from_secs(30));
    let ms = u64::try_from(cap.as_millis()).unwrap_or(30_000);
    Duration::from_millis(rand::rng().random_range(ms / 2..=ms))
}

/// The standard `Retry-After` header, in seconds (the HTTP-date form is
/// not used by the APIs chainproof talks to).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A short, single-line excerpt of an error body for messages.
pub(crate) fn excerpt(body: Option<Bytes>) -> String {
    let text = body
        .map(|b| String::from_utf8_lossy(&b).to_string())
        .unwrap_or_default();
    let line: String = text.chars().filter(|c| !c.is_control()).take(160).collect();
    if line.is_empty() {
        "empty body".into()
    } else {
        line
    }
}

/// What a failed connection was, for the user — its innermost cause and
/// the address (`connection refused (os error 111) at 127.0.0.1:18443`), or
/// for TLS the cause and what the client trusts — and whether it was TLS
/// (deterministic: not worth retrying). Never the URL's path or query.
fn transport(e: &reqwest::Error, ca_file: Option<&std::path::Path>) -> (String, bool) {
    let mut cause = None;
    let mut tls = false;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>().is_some_and(is_tls) {
            tls = true;
        }
        cause = Some(s.to_string());
        source = s.source();
    }
    let cause = cause.unwrap_or_else(|| without_url(e));
    let address = e
        .url()
        .map(|u| {
            format!(
                "{}:{}",
                u.host_str().unwrap_or("?"),
                u.port_or_known_default().unwrap_or_default()
            )
        })
        .unwrap_or_else(|| "?".into());
    if tls {
        let trusted = match ca_file {
            Some(ca) => format!("the system's roots and ca_file {}", ca.display()),
            None => "the system's roots (no ca_file)".into(),
        };
        (
            format!("TLS with {address}: {cause} (trusted: {trusted})"),
            true,
        )
    } else {
        (format!("{cause} at {address}"), false)
    }
}

/// rustls reports its failures (an untrusted certificate, a peer that
/// answers in plain text) as InvalidData I/O errors, which the connector
/// wraps in another I/O error.
fn is_tls(io: &std::io::Error) -> bool {
    io.kind() == std::io::ErrorKind::InvalidData
        || io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<std::io::Error>())
            .is_some_and(is_tls)
}

/// reqwest's error text without the URL (which may hold query parameters).
pub(crate) fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    text
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::secret::Secret;

    fn cfg(ca: Option<PathBuf>) -> HttpConfig {
        HttpConfig {
            url: "https://siem.lab:8089/".into(),
            ca_file: ca,
            timeout: Duration::from_secs(5),
            max_attempts: 3,
        }
    }

    #[test]
    fn a_bad_ca_file_is_named_and_urls_are_joined() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let missing = dir.path().join("missing.pem");
        let err = Http::new("lab", &cfg(Some(missing.clone())), Auth::None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("lab") && err.contains(&missing.display().to_string()),
            "{err}"
        );
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate")?;
        assert!(Http::new("lab", &cfg(Some(garbage)), Auth::None).is_err());
        let http = Http::new("lab", &cfg(None), Auth::None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(http.url("/services/x"), "https://siem.lab:8089/services/x");
        Ok(())
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 1..=10 {
            let cap = Duration::from_millis(500)
                .saturating_mul(1 << (attempt - 1).min(6))
                .min(Duration::from_secs(30));
            let d = backoff(attempt);
            assert!(
                d <= cap && d >= cap / 2,
                "attempt {attempt}: {d:?} vs cap {cap:?}"
            );
        }
    }

    #[test]
    fn plain_http_is_refused_unless_the_host_is_this_machine() {
        for url in [
            "http://127.0.0.1:8089",
            "http://127.8.0.1/x",
            "http://[::1]:9200",
            "http://LOCALHOST:9200",
            "https://splunk.lab:8089",
            "https://10.0.0.5",
        ] {
            assert_eq!(refuse_plain_http(url), Ok(()), "{url}");
        }
        for url in [
            "http://splunk.lab:8089",
            "http://10.0.0.5:9200",
            "http://[fe80::1]/",
            "http://localhost.evil.example/",
            "HTTP://siem.example",
        ] {
            let why = refuse_plain_http(url).err().unwrap_or_default();
            assert!(why.contains("plain http"), "{url}: {why:?}");
        }
        let plain = HttpConfig {
            url: "http://siem.example".into(),
            ..cfg(None)
        };
        let e = Http::new("s", &plain, Auth::None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("use https"), "{e}");
    }

    /// A refused connection names its cause and address and is retried
    /// (the backoff on tokio's paused clock).
    #[tokio::test(start_paused = true)]
    async fn transport_failures_name_cause_and_address() -> std::io::Result<()> {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = closed.local_addr()?.port();
        drop(closed);
        let refused = HttpConfig {
            url: format!("http://127.0.0.1:{port}"),
            ..cfg(None)
        };
        let http = Http::new("s", &refused, Auth::None).map_err(std::io::Error::other)?;
        let e = http.send(|c| c.get(http.url("/q?secret=1"))).await.err();
        let text = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            text.contains(&format!(
                "Connection refused (os error 111) at 127.0.0.1:{port}"
            )) && text.contains("3 attempts")
                && !text.contains("secret=1"),
            "{text}"
        );
        Ok(())
    }

    /// A peer that answers in plain text where TLS is expected fails at
    /// once, naming what the client trusts. (Real clock: a paused one would
    /// jump past the request timeout while the handshake waits on I/O.)
    #[tokio::test]
    async fn a_tls_failure_is_not_retried_and_names_the_trust() -> std::io::Result<()> {
        let plain = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = plain.local_addr()?.port();
        std::thread::spawn(move || {
            for mut s in plain.incoming().flatten() {
                use std::io::Write;
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
            }
        });
        let tls = HttpConfig {
            url: format!("https://127.0.0.1:{port}"),
            ..cfg(None)
        };
        let http = Http::new("s", &tls, Auth::None).map_err(std::io::Error::other)?;
        let e = http.send(|c| c.get(http.url("/q"))).await.err();
        let text = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            text.contains(&format!("TLS with 127.0.0.1:{port}"))
                && text.contains("trusted: the system's roots (no ca_file)")
                && text.contains("1 attempt"),
            "{text}"
        );
        Ok(())
    }

    #[test]
    fn auth_debug_output_never_holds_the_secret() {
        let shown = format!("{:?}", Auth::Basic("u".into(), Secret::new("p4ssw0rd")));
        assert!(!shown.contains("p4ssw0rd"), "{shown}");
    }
}
