//! What the `defender` and `sentinel` backends share, because both are
//! Microsoft KQL services behind the identity platform: an app's
//! client-credentials token ([`token`]), the authenticated JSON POST both
//! APIs take ([`Client`]), KQL text ([`kql`]), the result tables and their
//! cell readers ([`table`]), Defender's device tables (which Sentinel can
//! hold too, [`device`]), Defender for Office 365's mail tables ([`mail`])
//! and ATT&CK tags from their alert columns
//! ([`attack`]), and what their prerequisite checks make of an answer
//! ([`sensor`], which `splunk` uses too). Neither backend reaches into the other.

pub mod attack;
pub mod device;
#[cfg(test)]
pub(crate) mod fixture;
pub mod kql;
pub mod mail;
pub mod sensor;
pub mod table;
pub mod token;

use std::time::Duration;

use bytes::Bytes;

use super::BackendError;
use super::http::Http;
pub use token::MicrosoftApp;
use token::TokenSource;

/// The [`MicrosoftApp`] of a profile: both profiles spell the app's
/// fields the same (`tenant_id`, `client_id`, `client_secret`, `token_url`,
/// `scope`, `url`, `ca_file`, `timeout`), and the config format keeps them
/// flat (no `flatten`, which would spoil its error messages), so one macro
/// reads them instead of two copies of the same literal.
macro_rules! app_of {
    ($config:expr) => {
        $crate::backend::microsoft::MicrosoftApp {
            tenant_id: &$config.tenant_id,
            client_id: &$config.client_id,
            client_secret: &$config.client_secret,
            token_url: &$config.token_url,
            scope: &$config.scope,
            url: &$config.url,
            ca_file: $config.ca_file.as_deref(),
            timeout: $config.timeout,
        }
    };
}
pub(crate) use app_of;

/// The identity platform's public endpoint, the default `token_url`.
pub fn default_token_url() -> String {
    token::MICROSOFT_LOGIN.into()
}

/// Default timeout of one request: hunting queries can take most of a minute.
pub fn default_timeout() -> Duration {
    Duration::from_secs(60)
}

/// Checks the app fields both profiles share, no I/O.
pub fn validate_app(app: &MicrosoftApp<'_>) -> Result<(), String> {
    token::validate_tenant(app.tenant_id)?;
    if app.client_id.trim().is_empty() {
        return Err("client_id is empty".into());
    }
    app.client_secret
        .validate()
        .map_err(|e| format!("client_secret: {e}"))
}

/// An app's connection to one Microsoft API: its tokens and the API's
/// HTTP client.
#[derive(Debug)]
pub struct Client {
    tokens: TokenSource,
    http: Http,
}

impl Client {
    /// Reads the client secret and builds both HTTP clients; no request yet.
    pub fn connect(name: &str, app: MicrosoftApp<'_>) -> Result<Client, BackendError> {
        let (tokens, http) = token::connect(name, app)?;
        Ok(Client { tokens, http })
    }

    /// Where the token and API exchanges are recorded.
    pub fn transcript(&self) -> &crate::backend::transcript::Transcript {
        self.http.transcript()
    }

    /// POSTs `body` as JSON to `path` with a current token; the answer's
    /// body on success.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Bytes, BackendError> {
        let token = self.tokens.token().await?;
        let url = self.http.url(path);
        let body = body.to_string();
        self.http
            .send(|c| {
                c.post(&url)
                    .bearer_auth(token.expose())
                    .header("content-type", "application/json; charset=utf-8")
                    .body(body.clone())
            })
            .await
    }
}
