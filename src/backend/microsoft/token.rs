//! Microsoft identity platform client-credentials tokens, shared by the
//! `defender` and `sentinel` backends: `POST {token_url}/{tenant}/oauth2/v2.0/token`
//! with `client_id`, `client_secret`, `scope` and
//! `grant_type=client_credentials`, answered by `access_token` and
//! `expires_in` (seconds).
//!
//! A token is cached and reused until shortly before it expires, so a poll
//! round costs no token request; the lock is held while fetching, so
//! concurrent callers never ask twice. The client secret and the token stay
//! in [`Secret`]s and never reach an error message.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::backend::BackendError;
use crate::backend::http::{Auth, Http, HttpConfig};
use crate::secret::Secret;

/// The Microsoft identity platform's public endpoint.
pub const MICROSOFT_LOGIN: &str = "https://login.microsoftonline.com";

/// A token is renewed this long before the expiry it was issued with.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// The settings every Microsoft-backed profile (`defender`, `sentinel`)
/// shares: the app registration, the token endpoint, and the API it calls.
#[derive(Debug, Clone, Copy)]
pub struct MicrosoftApp<'a> {
    /// Directory (tenant) id or domain.
    pub tenant_id: &'a str,
    /// Application (client) id.
    pub client_id: &'a str,
    /// Where the client secret comes from.
    pub client_secret: &'a crate::secret::SecretRef,
    /// Base URL of the token endpoint.
    pub token_url: &'a str,
    /// The resource scope.
    pub scope: &'a str,
    /// Base URL of the API.
    pub url: &'a str,
    /// Extra CA certificate (PEM) to trust.
    pub ca_file: Option<&'a std::path::Path>,
    /// Timeout of one request.
    pub timeout: Duration,
}

/// Reads the client secret and builds the token source and the API's
/// HTTP client (which sends no credentials of its own: each request
/// carries the current token).
pub fn connect(name: &str, app: MicrosoftApp<'_>) -> Result<(TokenSource, Http), BackendError> {
    let secret = app
        .client_secret
        .resolve()
        .map_err(|e| BackendError::config(name, format!("client_secret: {e}")))?;
    let ca_file = app.ca_file.map(std::path::Path::to_path_buf);
    let tokens = TokenSource::new(
        name,
        TokenSettings {
            token_url: app.token_url.to_string(),
            tenant_id: app.tenant_id.to_string(),
            client_id: app.client_id.to_string(),
            client_secret: secret,
            scope: app.scope.to_string(),
            ca_file: ca_file.clone(),
            timeout: app.timeout,
        },
    )?;
    let http = HttpConfig {
        url: app.url.to_string(),
        ca_file,
        timeout: app.timeout,
        max_attempts: 4,
    };
    // The token requests and the API's share one transcript.
    let api = Http::new(name, &http, Auth::None)?.with_transcript(tokens.http.transcript().clone());
    Ok((tokens, api))
}

/// What a token source needs.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// Base URL of the token endpoint, e.g. [`MICROSOFT_LOGIN`].
    pub token_url: String,
    /// Directory (tenant) id or domain.
    pub tenant_id: String,
    /// Application (client) id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: Secret,
    /// The resource scope, e.g. `https://graph.microsoft.com/.default`.
    pub scope: String,
    /// Extra CA certificate (PEM) to trust.
    pub ca_file: Option<std::path::PathBuf>,
    /// Timeout of one request.
    pub timeout: Duration,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

#[derive(Debug)]
struct Cached {
    token: Secret,
    renew_at: Instant,
}

/// Fetches and caches access tokens.
#[derive(Debug)]
pub struct TokenSource {
    backend: String,
    http: Http,
    path: String,
    form: Vec<(&'static str, String)>,
    secret: Secret,
    cached: Mutex<Option<Cached>>,
}

/// Checks a tenant id before it becomes part of a URL path: a GUID or a
/// domain name, nothing that could add a path segment or a query.
pub fn validate_tenant(tenant: &str) -> Result<(), String> {
    let ok = !tenant.is_empty()
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !tenant.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tenant_id `{}` is neither a GUID nor a domain name",
            tenant.escape_debug()
        ))
    }
}

impl TokenSource {
    /// Builds the client; no request yet.
    pub fn new(backend: &str, settings: TokenSettings) -> Result<TokenSource, BackendError> {
        validate_tenant(&settings.tenant_id)
            .map_err(|message| BackendError::config(backend, message))?;
        let http = HttpConfig {
            url: settings.token_url.clone(),
            ca_file: settings.ca_file.clone(),
            timeout: settings.timeout,
            max_attempts: 4,
        };
        Ok(TokenSource {
            backend: backend.into(),
            http: Http::new(backend, &http, Auth::None)?,
            path: format!("/{}/oauth2/v2.0/token", settings.tenant_id),
            form: vec![
                ("client_id", settings.client_id),
                ("scope", settings.scope),
                ("grant_type", "client_credentials".into()),
            ],
            secret: settings.client_secret,
            cached: Mutex::new(None),
        })
    }

    /// A valid access token, from the cache or a new token request.
    pub async fn token(&self) -> Result<Secret, BackendError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.renew_at
        {
            return Ok(c.token.clone());
        }
        let fresh = self.fetch().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    async fn fetch(&self) -> Result<Cached, BackendError> {
        let url = self.http.url(&self.path);
        let mut form: Vec<(&str, &str)> = self.form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        form.push(("client_secret", self.secret.expose()));
        let asked = Instant::now();
        let body = self
            .http
            .send(|c| c.post(&url).form(&form))
            .await
            .map_err(|e| e.doing("obtain an access token"))?;
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
            BackendError::malformed(self.backend.clone(), "token answer", e.to_string())
        })?;
        if answer.access_token.is_empty() {
            return Err(BackendError::malformed(
                self.backend.clone(),
                "token answer",
                "it holds an empty access_token",
            ));
        }
        let lifetime = answer
            .expires_in
            .as_ref()
            .and_then(seconds)
            .unwrap_or(Duration::ZERO);
        Ok(Cached {
            token: Secret::new(answer.access_token),
            renew_at: asked + lifetime.saturating_sub(RENEW_BEFORE),
        })
    }
}

/// `expires_in` as the v2 endpoint sends it (a number), or as a string as
/// older endpoints did.
fn seconds(v: &serde_json::Value) -> Option<Duration> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_cannot_reshape_the_token_url() {
        for ok in [
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "contoso.onmicrosoft.com",
        ] {
            assert_eq!(validate_tenant(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a/b", "x?y=1", "../common", "t#f", "ten ant", ".hidden"] {
            assert!(validate_tenant(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lifetimes_parse_from_numbers_and_strings() {
        assert_eq!(
            seconds(&serde_json::json!(3599)),
            Some(Duration::from_secs(3599))
        );
        assert_eq!(
            seconds(&serde_json::json!("3600")),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(seconds(&serde_json::json!(-1)), None);
        assert_eq!(seconds(&serde_json::json!(null)), None);
    }
}
