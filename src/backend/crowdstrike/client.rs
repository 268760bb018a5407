//! Falcon's transport: an OAuth2 client-credentials token cached until
//! shortly before it expires, and requests with Falcon's rate-limit rules.
//!
//! The shared [`Http`] layer builds the client (timeouts, TLS verification,
//! the extra CA) but its retry loop cannot be used as is: Falcon announces
//! when a 429 may be retried in `X-RateLimit-RetryAfter` (epoch seconds),
//! which that loop does not read, and an API 401 here means "get a new
//! token", not "the credentials are wrong". The rules are otherwise the
//! same: 5xx, timeouts and connection errors back off with jitter; 403 and
//! a 401 on the token endpoint fail at once with the status; the client
//! secret and the token never appear in a message.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use super::wire;
use crate::backend::BackendError;
use crate::backend::http::{Http, backoff, excerpt, without_url};
use crate::secret::Secret;

/// Attempts per request, retries included.
const ATTEMPTS: u32 = 4;

/// Longest wait a rate limit may impose before the request counts as failed.
const MAX_WAIT: Duration = Duration::from_secs(120);

/// A token is renewed this long before Falcon says it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// Why a request failed.
enum Failure {
    /// HTTP 401: the token may have expired.
    Unauthorized(String),
    /// Anything else, final.
    Other(String),
}

struct Cached {
    token: Secret,
    until: Instant,
}

/// An authenticated Falcon API client.
pub struct Client {
    backend: String,
    http: Http,
    client_id: String,
    client_secret: Secret,
    token: tokio::sync::Mutex<Option<Cached>>,
    /// Set when an answer said no requests remain in the window.
    paused_until: std::sync::Mutex<Option<SystemTime>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("backend", &self.backend)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `http`'s base URL.
    pub fn new(backend: &str, http: Http, client_id: String, client_secret: Secret) -> Client {
        Client {
            backend: backend.into(),
            http,
            client_id,
            client_secret,
            token: tokio::sync::Mutex::new(None),
            paused_until: std::sync::Mutex::new(None),
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        self.http.url(path)
    }

    /// A backend error; any echo of the secret is blotted out.
    pub fn error(&self, message: impl Into<String>) -> BackendError {
        let message: String = message.into();
        BackendError {
            backend: self.backend.clone(),
            message: message.replace(self.client_secret.expose(), "[redacted]"),
        }
    }

    /// Sends an API request with a bearer token; one 401 renews the token
    /// and tries again.
    pub async fn api(
        &self,
        what: &str,
        make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Bytes, BackendError> {
        let mut renewed = false;
        loop {
            let token = self.token(renewed).await?;
            let sent = self.send(|c| make(c).bearer_auth(token.expose())).await;
            match sent {
                Ok(body) => return Ok(body),
                Err(Failure::Unauthorized(_)) if !renewed => renewed = true,
                Err(Failure::Unauthorized(m) | Failure::Other(m)) => {
                    return Err(self.error(format!("{what}: {m}")));
                }
            }
        }
    }

    /// The cached token, or a new one when `renew` or when it is about to expire.
    async fn token(&self, renew: bool) -> Result<Secret, BackendError> {
        let mut cached = self.token.lock().await;
        if let Some(c) = cached
            .as_ref()
            .filter(|c| !renew && Instant::now() < c.until)
        {
            return Ok(c.token.clone());
        }
        let url = self.url("/oauth2/token");
        let form = [
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
        ];
        let body = self.send(|c| c.post(&url).form(&form)).await.map_err(
            |(Failure::Unauthorized(m) | Failure::Other(m))| {
                self.error(format!("obtain an OAuth2 token: {m}"))
            },
        )?;
        let t: wire::Token = serde_json::from_slice(&body)
            .map_err(|e| self.error(format!("malformed answer to the token request: {e}")))?;
        let life = Duration::from_secs(t.expires_in);
        let until = Instant::now() + life.saturating_sub(RENEW_BEFORE.min(life / 2));
        let token = Secret::new(t.access_token);
        *cached = Some(Cached {
            token: token.clone(),
            until,
        });
        Ok(token)
    }

    /// Waits out a pause an earlier answer announced.
    async fn respect_pause(&self) {
        let until = self.paused_until.lock().ok().and_then(|mut p| p.take());
        if let Some(wait) = until.and_then(|u| u.duration_since(SystemTime::now()).ok()) {
            tokio::time::sleep(wait.min(MAX_WAIT)).await;
        }
    }

    /// Sends with retries: 429 waits as Falcon says, 5xx and transport
    /// errors back off, anything else is final.
    async fn send(
        &self,
        make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Bytes, Failure> {
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            self.respect_pause().await;
            let sent = crate::backend::transcript::describe(make(self.http.client()));
            let wait = match make(self.http.client()).send().await {
                Err(e) => {
                    crate::backend::transcript::record("crowdstrike", sent, 0, b"");
                    last = if e.is_timeout() {
                        "request timed out".into()
                    } else {
                        format!("request failed: {}", without_url(&e))
                    };
                    backoff(attempt)
                }
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let body = resp.bytes().await;
                    crate::backend::transcript::record(
                        "crowdstrike",
                        sent,
                        status.as_u16(),
                        body.as_deref().unwrap_or_default(),
                    );
                    if status.is_success()
                        && let Ok(b) = body
                    {
                        self.note_remaining(&headers);
                        return Ok(b);
                    }
                    let said = excerpt(body.ok());
                    match status {
                        StatusCode::UNAUTHORIZED => {
                            return Err(Failure::Unauthorized(format!(
                                "HTTP {status}: check the API client's id and secret ({said})"
                            )));
                        }
                        StatusCode::FORBIDDEN => {
                            return Err(Failure::Other(format!(
                                "HTTP {status}: the API client is not allowed this; alerts need the Alerts read scope ({said})"
                            )));
                        }
                        StatusCode::TOO_MANY_REQUESTS => {
                            last = format!("HTTP {status} ({said})");
                            match rate_limit_wait(&headers, SystemTime::now()) {
                                Some(d) if d > MAX_WAIT => {
                                    return Err(Failure::Other(format!(
                                        "{last}; the rate limit resets in {}s, too long to wait",
                                        d.as_secs()
                                    )));
                                }
                                Some(d) => d,
                                None => backoff(attempt),
                            }
                        }
                        s if s.is_server_error() || s.is_success() => {
                            last = format!("HTTP {s} ({said})");
                            backoff(attempt)
                        }
                        s => return Err(Failure::Other(format!("HTTP {s} ({said})"))),
                    }
                }
            };
            if attempt < ATTEMPTS {
                tokio::time::sleep(wait).await;
            }
        }
        Err(Failure::Other(format!("{last} after {ATTEMPTS} attempts")))
    }

    /// After a success that used the window's last request, pause the next
    /// request until the window resets.
    fn note_remaining(&self, headers: &HeaderMap) {
        let remaining =
            header(headers, "x-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok());
        if remaining != Some(0) {
            return;
        }
        let until = header(headers, "x-ratelimit-retryafter")
            .and_then(|v| v.parse::<u64>().ok())
            .map(|s| UNIX_EPOCH + Duration::from_secs(s));
        if let (Some(until), Ok(mut p)) = (until, self.paused_until.lock()) {
            *p = Some(until);
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// How long a 429 asks to wait: until `X-RateLimit-RetryAfter` (epoch
/// seconds), else `Retry-After` (seconds).
fn rate_limit_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(epoch) =
        header(headers, "x-ratelimit-retryafter").and_then(|v| v.parse::<u64>().ok())
    {
        let at = UNIX_EPOCH + Duration::from_secs(epoch);
        return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
    }
    header(headers, "retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            if let Ok(v) = v.parse() {
                h.insert(*k, v);
            }
        }
        h
    }

    #[test]
    fn rate_limit_waits_come_from_falcon_headers_first() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let cases = [
            (vec![("x-ratelimit-retryafter", "1007")], Some(7)),
            (vec![("x-ratelimit-retryafter", "990")], Some(0)),
            (
                vec![("x-ratelimit-retryafter", "1002"), ("retry-after", "30")],
                Some(2),
            ),
            (vec![("retry-after", "3")], Some(3)),
            (vec![("x-ratelimit-retryafter", "soon")], None),
            (vec![], None),
        ];
        for (pairs, want) in cases {
            let got = rate_limit_wait(&headers(&pairs), now).map(|d| d.as_secs());
            assert_eq!(got, want, "{pairs:?}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..=10 {
            let d = backoff(attempt);
            assert!(d <= Duration::from_secs(30), "{attempt}: {d:?}");
            assert!(d >= Duration::from_millis(250), "{attempt}: {d:?}");
        }
    }
}
