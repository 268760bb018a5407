//! Why a backend could not answer, as data: which backend, what it was
//! doing, and a closed set of kinds (an HTTP status, a rate limit, a
//! timeout, a malformed answer…) that tests and callers match on instead of
//! searching the message for "429".
//!
//! The `Display` text is what the CLI prints and what an `inconclusive`
//! verdict's reason carries, so every kind renders the same informative
//! sentence the backends wrote by hand before: the status with its reason
//! phrase, an excerpt of the body, the attempts made.

use std::time::Duration;

/// Why a backend could not answer.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("query backend {backend}: {}{kind}", doing_prefix(.doing.as_deref()))]
pub struct BackendError {
    /// Backend (profile) name.
    pub backend: String,
    /// What the backend was doing, e.g. `obtain an access token`, when the
    /// kind alone would not say.
    pub doing: Option<String>,
    /// What went wrong.
    pub kind: ErrorKind,
}

fn doing_prefix(doing: Option<&str>) -> String {
    doing.map(|d| format!("{d}: ")).unwrap_or_default()
}

/// What a body said, as an error quotes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// A short, single-line excerpt of the body: ` (<excerpt>)`.
    Excerpt(String),
    /// The vendor's own error reason read from the body: `: <reason>`.
    Reason(String),
}

impl std::fmt::Display for Said {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Said::Excerpt(e) => write!(f, " ({e})"),
            Said::Reason(r) => write!(f, ": {r}"),
        }
    }
}

/// The kinds of backend failure.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ErrorKind {
    /// An HTTP status that is neither success, a rate limit nor a refusal
    /// of the credentials; `attempts` is set when it was retried (5xx).
    #[error("HTTP {}{said}{}", status_text(*.status), after(*.attempts))]
    Status {
        /// The status code.
        status: u16,
        /// What the body said.
        said: Said,
        /// Attempts made, when the status was retried until none were left.
        attempts: Option<u32>,
    },
    /// HTTP 429 (or a vendor's equivalent) until no attempt or no patience
    /// was left.
    #[error("HTTP {}{said}{}", status_text(429), rate_limit_end(*.retry_after, *.attempts))]
    RateLimited {
        /// The last wait the service asked for, when it said one.
        retry_after: Option<Duration>,
        /// What the body said.
        said: Said,
        /// Attempts made; `None` when the asked wait was too long to honour.
        attempts: Option<u32>,
    },
    /// Every attempt timed out.
    #[error("{}", timeout_text(.what, *.limit, *.attempts))]
    Timeout {
        /// What did not answer in time: `request`, `program <path>`.
        what: String,
        /// The limit, when the message should name it.
        limit: Option<Duration>,
        /// Attempts made, when retried.
        attempts: Option<u32>,
    },
    /// The connection failed (DNS, refused, TLS) on every attempt.
    #[error("request failed: {detail}{}", after(Some(*.attempts)))]
    Connection {
        /// The transport's message, without the URL.
        detail: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The answer could not be read.
    #[error("malformed {source_name}: {detail}")]
    Malformed {
        /// What was malformed, e.g. `search answer`, `token answer`,
        /// an answer at a JSON path.
        source_name: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The credentials were refused (HTTP 401/403) or could not be used.
    #[error("HTTP {}: {hint}{said}", status_text(*.status))]
    Credentials {
        /// 401 or 403.
        status: u16,
        /// What to check, e.g. `check the credentials`.
        hint: String,
        /// What the body said.
        said: Said,
    },
    /// The profile cannot be used (invalid value, secret not readable, CA
    /// file not a certificate).
    #[error("{0}")]
    Config(String),
    /// The command backend's program failed (start, exit status, signal).
    #[error("{0}")]
    Program(String),
    /// Anything else the service reported (a failed query, shards failed,
    /// paging that did not advance).
    #[error("{0}")]
    Other(String),
}

/// `429 Too Many Requests`: the code with its reason phrase, as reqwest
/// prints a status.
fn status_text(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status) {
        Ok(s) => s.to_string(),
        Err(_) => status.to_string(),
    }
}

fn timeout_text(what: &str, limit: Option<Duration>, attempts: Option<u32>) -> String {
    match limit {
        Some(l) => format!(
            "{what} did not answer within {}{}",
            crate::vocab::duration_text::render(l),
            after(attempts)
        ),
        None => format!("{what} timed out{}", after(attempts)),
    }
}

fn after(attempts: Option<u32>) -> String {
    attempts
        .map(|n| format!(" after {n} attempts"))
        .unwrap_or_default()
}

fn rate_limit_end(retry_after: Option<Duration>, attempts: Option<u32>) -> String {
    match (attempts, retry_after) {
        (Some(n), _) => after(Some(n)),
        (None, Some(d)) => format!("; Retry-After {}s is too long to wait", d.as_secs()),
        (None, None) => String::new(),
    }
}

impl ErrorKind {
    /// An answer that could not be read: `what` names it.
    pub fn malformed(what: impl Into<String>, detail: impl std::fmt::Display) -> ErrorKind {
        ErrorKind::Malformed {
            source_name: what.into(),
            detail: detail.to_string(),
        }
    }
}

impl BackendError {
    /// An error of `backend` of kind `kind`.
    pub fn new(backend: impl Into<String>, kind: ErrorKind) -> BackendError {
        BackendError {
            backend: backend.into(),
            doing: None,
            kind,
        }
    }

    /// A profile that cannot be used.
    pub fn config(backend: impl Into<String>, message: impl Into<String>) -> BackendError {
        BackendError::new(backend, ErrorKind::Config(message.into()))
    }

    /// Something else the service reported.
    pub fn other(backend: impl Into<String>, message: impl Into<String>) -> BackendError {
        BackendError::new(backend, ErrorKind::Other(message.into()))
    }

    /// An answer that could not be read: `what` names it.
    pub fn malformed(
        backend: impl Into<String>,
        what: impl Into<String>,
        detail: impl Into<String>,
    ) -> BackendError {
        BackendError::new(
            backend,
            ErrorKind::Malformed {
                source_name: what.into(),
                detail: detail.into(),
            },
        )
    }

    /// Says what the backend was doing (outermost first).
    #[must_use]
    pub fn doing(mut self, what: impl Into<String>) -> BackendError {
        let what = what.into();
        self.doing = Some(match self.doing.take() {
            Some(inner) => format!("{what}: {inner}"),
            None => what,
        });
        self
    }

    /// The same error with every occurrence of `secret` in its text
    /// blotted out (a service may echo a credential in its error body).
    #[must_use]
    pub fn redact(self, secret: &str) -> BackendError {
        if secret.is_empty() {
            return self;
        }
        let clean = |t: String| t.replace(secret, "[redacted]");
        let said = |s: Said| match s {
            Said::Excerpt(t) => Said::Excerpt(clean(t)),
            Said::Reason(t) => Said::Reason(clean(t)),
        };
        let kind = match self.kind {
            ErrorKind::Status {
                status,
                said: s,
                attempts,
            } => ErrorKind::Status {
                status,
                said: said(s),
                attempts,
            },
            ErrorKind::RateLimited {
                retry_after,
                said: s,
                attempts,
            } => ErrorKind::RateLimited {
                retry_after,
                said: said(s),
                attempts,
            },
            ErrorKind::Credentials {
                status,
                hint,
                said: s,
            } => ErrorKind::Credentials {
                status,
                hint,
                said: said(s),
            },
            ErrorKind::Timeout {
                what,
                limit,
                attempts,
            } => ErrorKind::Timeout {
                what: clean(what),
                limit,
                attempts,
            },
            ErrorKind::Connection { detail, attempts } => ErrorKind::Connection {
                detail: clean(detail),
                attempts,
            },
            ErrorKind::Malformed {
                source_name,
                detail,
            } => ErrorKind::Malformed {
                source_name,
                detail: clean(detail),
            },
            ErrorKind::Config(t) => ErrorKind::Config(clean(t)),
            ErrorKind::Program(t) => ErrorKind::Program(clean(t)),
            ErrorKind::Other(t) => ErrorKind::Other(clean(t)),
        };
        BackendError {
            backend: self.backend,
            doing: self.doing.map(clean),
            kind,
        }
    }

    /// The message without the `query backend <name>: ` head, for lines
    /// that name the backend already.
    pub fn detail(&self) -> String {
        format!("{}{}", doing_prefix(self.doing.as_deref()), self.kind)
    }

    /// The HTTP status the failure carries, if any.
    pub fn status(&self) -> Option<u16> {
        match &self.kind {
            ErrorKind::Status { status, .. } | ErrorKind::Credentials { status, .. } => {
                Some(*status)
            }
            ErrorKind::RateLimited { .. } => Some(429),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_as_the_hand_written_messages_did() {
        let excerpt = || Said::Excerpt("busy".into());
        let cases = [
            (
                ErrorKind::Status {
                    status: 503,
                    said: excerpt(),
                    attempts: Some(4),
                },
                "HTTP 503 Service Unavailable (busy) after 4 attempts",
            ),
            (
                ErrorKind::Status {
                    status: 404,
                    said: Said::Reason("index_not_found_exception: x".into()),
                    attempts: None,
                },
                "HTTP 404 Not Found: index_not_found_exception: x",
            ),
            (
                ErrorKind::RateLimited {
                    retry_after: Some(Duration::from_secs(1)),
                    said: excerpt(),
                    attempts: Some(3),
                },
                "HTTP 429 Too Many Requests (busy) after 3 attempts",
            ),
            (
                ErrorKind::RateLimited {
                    retry_after: Some(Duration::from_secs(900)),
                    said: excerpt(),
                    attempts: None,
                },
                "HTTP 429 Too Many Requests (busy); Retry-After 900s is too long to wait",
            ),
            (
                ErrorKind::Timeout {
                    what: "request".into(),
                    limit: None,
                    attempts: Some(4),
                },
                "request timed out after 4 attempts",
            ),
            (
                ErrorKind::Credentials {
                    status: 401,
                    hint: "check the credentials".into(),
                    said: excerpt(),
                },
                "HTTP 401 Unauthorized: check the credentials (busy)",
            ),
            (
                ErrorKind::Malformed {
                    source_name: "search answer".into(),
                    detail: "no `hits`".into(),
                },
                "malformed search answer: no `hits`",
            ),
        ];
        for (kind, want) in cases {
            assert_eq!(kind.to_string(), want);
        }
        let e = BackendError::new(
            "lab",
            ErrorKind::Timeout {
                what: "request".into(),
                limit: None,
                attempts: Some(2),
            },
        )
        .doing("obtain an access token");
        assert_eq!(
            e.to_string(),
            "query backend lab: obtain an access token: request timed out after 2 attempts"
        );
        assert_eq!(
            e.detail(),
            "obtain an access token: request timed out after 2 attempts"
        );
    }
}
