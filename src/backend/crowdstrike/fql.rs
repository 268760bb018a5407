//! The parameters of an alert-id query: the token search and the Falcon
//! Query Language filter.
//!
//! How to escape a `'` or a `\` inside an FQL string is not documented
//! outside the Falcon console, so nothing untrusted is escaped: a run token
//! goes into a query only when it is plain ASCII letters and digits, and is
//! refused otherwise. Times are rendered by this module. The operator's own
//! `filter` comes from the config, is trusted, and is ANDed (`+`) as given.
//! The HTTP layer then URL-encodes every parameter (so `+` travels as `%2B`).

use serde::Deserialize;
use time::OffsetDateTime;

/// How the token is looked for in alerts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenSearch {
    /// The documented free-text `q` parameter ("search all alert metadata").
    #[default]
    Text,
    /// An FQL wildcard on the alert's command line: `cmdline:*'*<token>*'`.
    Cmdline,
}

/// Longest token accepted.
const MAX_TOKEN: usize = 64;

/// The token, when it may go into FQL or `q` unescaped.
pub fn token(value: &str) -> Result<&str, String> {
    if value.is_empty() || value.len() > MAX_TOKEN {
        return Err(format!(
            "token `{}` must be 1 to {MAX_TOKEN} characters",
            value.escape_debug()
        ));
    }
    if !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "token `{}` holds characters other than ASCII letters and digits, \
             which cannot be put into a Falcon query safely",
            value.escape_debug()
        ));
    }
    Ok(value)
}

/// An FQL timestamp literal, UTC, whole seconds: `'2026-11-26T10:00:00Z'`.
pub fn timestamp(at: OffsetDateTime) -> String {
    let t = at.to_offset(time::UtcOffset::UTC);
    format!(
        "'{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z'",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Query-string parameters (before URL encoding) of one page of the alert
/// ids of `token_value` created since `since`.
pub fn id_query(
    search: TokenSearch,
    token_value: &str,
    since: OffsetDateTime,
    extra: Option<&str>,
    offset: usize,
    limit: u32,
) -> Result<Vec<(&'static str, String)>, String> {
    let token_value = token(token_value)?;
    let mut filter = vec![format!("created_timestamp:>={}", timestamp(since))];
    let mut params = Vec::new();
    match search {
        TokenSearch::Text => params.push(("q", token_value.to_string())),
        TokenSearch::Cmdline => filter.push(format!("cmdline:*'*{token_value}*'")),
    }
    if let Some(extra) = extra.map(str::trim).filter(|e| !e.is_empty()) {
        filter.push(extra.to_string());
    }
    params.push(("filter", filter.join("+")));
    params.push(("offset", offset.to_string()));
    params.push(("limit", limit.to_string()));
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_alphanumeric_tokens_reach_a_query() {
        for good in ["cp0123456789", "CP01abcDEF", "a"] {
            assert_eq!(token(good), Ok(good));
        }
        let hostile = [
            "",
            "cp01'+cid:*'*",
            "cp01\\",
            r#"cp01""#,
            "cp01|x",
            "cp01\nq",
            "cp01*",
            "cp01;x",
            "cp01,x",
            "cp01+x",
            "cp01 x",
            "cp01%2B",
            "cpé01",
            "cp01\u{0}",
            "ｃｐ01",
        ];
        for bad in hostile {
            assert!(token(bad).is_err(), "{bad:?}");
        }
        assert!(token(&"a".repeat(65)).is_err());
        let err = token("x'\n").err().unwrap_or_default();
        assert!(
            err.contains(r"`x\'\n`"),
            "the message shows the value escaped: {err}"
        );
    }

    #[test]
    fn timestamps_are_utc_whole_seconds() {
        let at = time::macros::datetime!(2026-11-26 12:00:05.987 +02:00);
        assert_eq!(timestamp(at), "'2026-11-26T10:00:05Z'");
    }

    #[test]
    fn the_token_goes_to_q_or_a_cmdline_wildcard() -> Result<(), String> {
        let since = time::macros::datetime!(2026-11-26 10:00:00 UTC);
        let text = id_query(TokenSearch::Text, "cp01", since, None, 0, 500)?;
        assert_eq!(
            text,
            [
                ("q", "cp01".to_string()),
                (
                    "filter",
                    "created_timestamp:>='2026-11-26T10:00:00Z'".into()
                ),
                ("offset", "0".into()),
                ("limit", "500".into()),
            ]
        );
        let cmd = id_query(
            TokenSearch::Cmdline,
            "cp01",
            since,
            Some(" device.hostname:'lab-win-01' "),
            500,
            500,
        )?;
        assert_eq!(
            cmd[0],
            (
                "filter",
                "created_timestamp:>='2026-11-26T10:00:00Z'+cmdline:*'*cp01*'\
                 +device.hostname:'lab-win-01'"
                    .to_string()
            )
        );
        assert_eq!(cmd[1], ("offset", "500".to_string()));
        assert!(id_query(TokenSearch::Text, "cp01'", since, None, 0, 1).is_err());
        Ok(())
    }

    #[test]
    fn the_url_carries_plus_encoded() -> Result<(), String> {
        let since = time::macros::datetime!(2026-11-26 10:00:00 UTC);
        let params = id_query(TokenSearch::Cmdline, "cp01", since, None, 0, 10)?;
        let req = reqwest::Client::new()
            .get("https://api.example/alerts/queries/alerts/v2")
            .query(&params)
            .build()
            .map_err(|e| e.to_string())?;
        let query = req.url().query().unwrap_or_default().to_string();
        assert!(
            query.contains(
                "filter=created_timestamp%3A%3E%3D%272026-11-26T10%3A00%3A00Z%27%2Bcmdline"
            ),
            "{query}"
        );
        assert!(!query.contains('+') && !query.contains('\''), "{query}");
        Ok(())
    }
}
