//! Falcon's transport: an OAuth2 client-credentials token cached until
//! shortly before it expires, and requests through the shared [`Http`]
//! retry loop with Falcon's departures from it given as a [`Policy`]:
//! a 429 is retried when `X-RateLimit-RetryAfter` (epoch seconds) says, a
//! 403 names the Alerts scope, and an API 401 means "get a new token" once
//! before it means "the credentials are wrong". A success that used the
//! window's last request pauses the next one until the window resets. The
//! client secret and the token never appear in a message.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use super::wire;
use crate::backend::http::{Http, Policy, retry_after};
use crate::backend::{BackendError, ErrorKind};
use crate::secret::Secret;

/// Attempts per request, retries included.
pub const ATTEMPTS: u32 = 4;

/// Longest wait a rate limit may impose before the request counts as failed.
const MAX_WAIT: Duration = Duration::from_secs(120);

/// A token is renewed this long before Falcon says it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// Falcon's departures from the shared retry rules.
pub const POLICY: Policy = Policy {
    rate_limit_wait,
    unauthorized: "check the API client's id and secret",
    forbidden: "the API client is not allowed this; alerts need the Alerts read scope",
};

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
    /// A client for `http`'s base URL (built with [`ATTEMPTS`]); Falcon's
    /// [`POLICY`] is applied here.
    pub fn new(backend: &str, http: Http, client_id: String, client_secret: Secret) -> Client {
        Client {
            backend: backend.into(),
            http: http.with_policy(POLICY),
            client_id,
            client_secret,
            token: tokio::sync::Mutex::new(None),
            paused_until: std::sync::Mutex::new(None),
        }
    }

    /// Where the exchanges are recorded.
    pub fn transcript(&self) -> &crate::backend::transcript::Transcript {
        self.http.transcript()
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        self.http.url(path)
    }

    /// A backend error of `kind`; any echo of the secret is blotted out.
    pub fn error(&self, kind: ErrorKind) -> BackendError {
        self.scrub(BackendError::new(self.backend.clone(), kind))
    }

    fn scrub(&self, e: BackendError) -> BackendError {
        e.redact(self.client_secret.expose())
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
            self.respect_pause().await;
            match self
                .http
                .exchange(|c| make(c).bearer_auth(token.expose()))
                .await
            {
                Ok((body, headers)) => {
                    self.note_remaining(&headers);
                    return Ok(body);
                }
                Err(e) if e.status() == Some(401) && !renewed => renewed = true,
                Err(e) => return Err(self.scrub(e.doing(what))),
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
        self.respect_pause().await;
        let (body, headers) = self
            .http
            .exchange(|c| c.post(&url).form(&form))
            .await
            .map_err(|e| self.scrub(e.doing("obtain an OAuth2 token")))?;
        self.note_remaining(&headers);
        let t: wire::Token = serde_json::from_slice(&body)
            .map_err(|e| self.error(ErrorKind::malformed("answer to the token request", e)))?;
        let life = Duration::from_secs(t.expires_in);
        let until = Instant::now() + life.saturating_sub(RENEW_BEFORE.min(life / 2));
        let token = Secret::new(t.access_token);
        *cached = Some(Cached {
            token: token.clone(),
            until,
        });
        Ok(token)
    }

    /// Waits out a pause an earlier answer announced. The pause stays set
    /// until it has passed, so every request in flight in parallel waits
    /// for it, not only the first to look.
    async fn respect_pause(&self) {
        let until = self.paused_until.lock().ok().and_then(|p| *p);
        if let Some(wait) = until.and_then(|u| u.duration_since(SystemTime::now()).ok()) {
            tokio::time::sleep(wait.min(MAX_WAIT)).await;
        }
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
    retry_after(headers)
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
}
