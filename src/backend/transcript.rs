//! What chainproof asked a backend and what it answered, for the evidence
//! bundle: every HTTP exchange during verification, the request's method,
//! URL and body (credentials redacted; auth headers are never recorded) and
//! the response's status and body (credentials it issues redacted: an
//! OAuth answer's `access_token` is as live as the client secret that got
//! it). A [`Transcript`] belongs to one backend
//! instance (no process-wide log): concurrent verifications never mix.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// One request and its answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Exchange {
    /// When the answer arrived.
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
    /// Backend name.
    pub backend: String,
    /// HTTP method.
    pub method: String,
    /// URL, query string included.
    pub url: String,
    /// Request body (form fields that hold secrets redacted).
    pub request: Option<String>,
    /// HTTP status, or 0 when no answer came.
    pub status: u16,
    /// Response body (at most 4 MiB kept).
    pub response: String,
}

const MAX_BODY: usize = 4 << 20;

/// The exchanges of one backend instance: a handle its HTTP clients write
/// to (clones share one log) and its owner starts and takes. Nothing is
/// kept until [`Transcript::start`], so `check` stays out of the evidence.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    log: Arc<Mutex<Option<Vec<Exchange>>>>,
}

impl Transcript {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<Exchange>>> {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts recording (afresh).
    pub fn start(&self) {
        *self.lock() = Some(Vec::new());
    }

    /// Stops recording and returns what was recorded.
    pub fn finish(&self) -> Vec<Exchange> {
        self.lock().take().unwrap_or_default()
    }

    /// Whether exchanges are being recorded.
    pub(crate) fn active(&self) -> bool {
        self.lock().is_some()
    }

    /// Records one exchange, if recording.
    pub(crate) fn record(
        &self,
        backend: &str,
        request: Option<(String, String, Option<String>)>,
        status: u16,
        body: &[u8],
    ) {
        let Some((method, url, request)) = request else {
            return;
        };
        if let Some(log) = self.lock().as_mut() {
            log.push(Exchange {
                at: time::OffsetDateTime::now_utc(),
                backend: backend.to_string(),
                method,
                url,
                request: request.map(|b| redact(&b)),
                status,
                response: redact_answer(&String::from_utf8_lossy(
                    &body[..body.len().min(MAX_BODY)],
                )),
            });
        }
    }

    /// What a request builder would send, for the transcript (None when
    /// not recording).
    pub(crate) fn describe(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Option<(String, String, Option<String>)> {
        if !self.active() {
            return None;
        }
        let req = req.build().ok()?;
        let body = req
            .body()
            .and_then(|b| b.as_bytes())
            .map(|b| String::from_utf8_lossy(b).into_owned());
        Some((req.method().to_string(), req.url().to_string(), body))
    }
}

/// Replaces, in an answer, the values of JSON keys that carry a credential
/// the service issued (OAuth `access_token`, `refresh_token`, `id_token`) or
/// name a secret or password. Narrower than [`redact`]: answers are
/// evidence, and their other `token` fields (a run token, a pagination
/// token) must stay readable.
pub fn redact_answer(body: &str) -> String {
    const ISSUED: [&str; 3] = ["access_token", "refresh_token", "id_token"];
    let credential = |k: &str| {
        let k = k.to_ascii_lowercase();
        ISSUED.contains(&k.as_str()) || k.contains("secret") || k.contains("password")
    };
    redact_json(body, &credential).unwrap_or_else(|| body.to_string())
}

/// `body` as JSON with the string values of `secret` keys replaced, at any
/// depth; `None` when it is not JSON.
fn redact_json(body: &str, secret: &dyn Fn(&str) -> bool) -> Option<String> {
    fn walk(v: &mut serde_json::Value, secret: &dyn Fn(&str) -> bool) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, val) in m.iter_mut() {
                    if secret(k) && val.is_string() {
                        *val = serde_json::Value::String("<redacted>".into());
                    } else {
                        walk(val, secret);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, secret)),
            _ => {}
        }
    }
    let trimmed = body.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    let mut v = serde_json::from_str::<serde_json::Value>(body).ok()?;
    walk(&mut v, secret);
    Some(v.to_string())
}

/// Replaces the values of form fields and JSON keys that name a secret.
pub fn redact(body: &str) -> String {
    const SECRET: [&str; 6] = [
        "secret",
        "password",
        "token",
        "assertion",
        "api_key",
        "apikey",
    ];
    let secret = |k: &str| {
        let k = k.to_ascii_lowercase();
        SECRET.iter().any(|s| k.contains(s))
    };
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return redact_json(body, &secret).unwrap_or_else(|| body.to_string());
    }
    body.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if secret(k) => format!("{k}=<redacted>"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_forms_and_json_are_redacted() {
        assert_eq!(
            redact("grant_type=client_credentials&client_id=a&client_secret=s3cr3t"),
            "grant_type=client_credentials&client_id=a&client_secret=<redacted>"
        );
        let json = redact(r#"{"query":"x","auth":{"password":"p","user":"u"},"api_key":"k"}"#);
        assert!(!json.contains("\"p\"") && !json.contains("\"k\""), "{json}");
        assert!(json.contains("\"query\":\"x\"") && json.contains("\"user\":\"u\""));
        assert_eq!(redact("search=index%3Dmain"), "search=index%3Dmain");
    }

    #[test]
    fn issued_credentials_in_answers_are_redacted_and_run_tokens_kept() {
        let answer = redact_answer(
            r#"{"access_token":"eyJ.live","token_type":"bearer","refresh_token":"r1",
                "meta":{"pagination":{"after":"p"}},"events":[{"chainproof_token":"cp01"}]}"#,
        );
        assert!(
            !answer.contains("eyJ.live") && !answer.contains("\"r1\""),
            "{answer}"
        );
        assert!(answer.contains("\"chainproof_token\":\"cp01\""), "{answer}");
        assert!(answer.contains("\"token_type\":\"bearer\""), "{answer}");
        assert_eq!(redact_answer("not json"), "not json");
    }
}
