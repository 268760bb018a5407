//! The parameters of a round's alert-id queries: the token search and the
//! Falcon Query Language filters, as few as their length bound allows.
//!
//! How to escape a `'` or a `\` inside an FQL string is not documented
//! outside the Falcon console, so nothing untrusted is escaped: a run token
//! goes into a query only when it is plain ASCII letters and digits, and is
//! refused otherwise. Times are rendered by this module. The operator's own
//! `filter` comes from the config, is trusted, and is ANDed (`+`) as given,
//! in parentheses so an OR (`,`) inside it stays inside it.
//! The HTTP layer then URL-encodes every parameter (so `+` travels as `%2B`).

use serde::Deserialize;
use time::OffsetDateTime;

/// How the token is looked for in alerts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenSearch {
    /// The documented free-text `q` parameter ("search all alert metadata"):
    /// one string, so one id query per token.
    Text,
    /// An FQL wildcard on the alert's command line, `cmdline:*'*<token>*'`,
    /// ORed for many tokens in one filter: a few id queries per round.
    #[default]
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

/// Longest `filter` one id query carries, in bytes once URL-encoded.
/// Falcon documents no URL or filter length limit; 6,000 bytes keeps the
/// request line well under the 8 KiB many HTTP servers and proxies accept.
pub const MAX_FILTER_BYTES: usize = 6_000;

/// The length of `value` once form-URL-encoded the way the HTTP layer
/// encodes query parameters (letters, digits and `*-._` stay; a space
/// becomes `+`; any other byte becomes `%XX`).
pub fn encoded_len(value: &str) -> usize {
    value
        .bytes()
        .map(|b| match b {
            b if b.is_ascii_alphanumeric() => 1,
            b'*' | b'-' | b'.' | b'_' | b' ' => 1,
            _ => 3,
        })
        .sum()
}

/// The query-string parameters (before URL encoding, without `offset` and
/// `limit`) of the id queries of one round: every token of `tokens`,
/// created since `since`.
///
/// With [`TokenSearch::Cmdline`] the tokens are ORed into as few filters
/// as [`MAX_FILTER_BYTES`] allows —
/// `created_timestamp:>='…'+(cmdline:*'*t1*',cmdline:*'*t2*',…)+(extra)`
/// (`+` AND, `,` OR, parentheses grouping, as CrowdStrike's PSFalcon wiki
/// documents FQL) — so 1,200 runs take a handful of queries. The filter
/// names two properties (plus the operator's own), well within the 20
/// properties per statement that wiki states. With [`TokenSearch::Text`]
/// `q` takes one string, so there is one query per token.
pub fn searches(
    search: TokenSearch,
    tokens: &[&str],
    since: OffsetDateTime,
    extra: Option<&str>,
) -> Result<Vec<Vec<(&'static str, String)>>, String> {
    let extra = extra.map(str::trim).filter(|e| !e.is_empty());
    let base = format!("created_timestamp:>={}", timestamp(since));
    let mut out = Vec::new();
    match search {
        TokenSearch::Text => {
            let filter = match extra {
                Some(extra) => format!("{base}+({extra})"),
                None => base,
            };
            for t in tokens {
                out.push(vec![
                    ("q", token(t)?.to_string()),
                    ("filter", filter.clone()),
                ]);
            }
        }
        TokenSearch::Cmdline => {
            let tail = extra.map(|e| format!("+({e})")).unwrap_or_default();
            let fixed = encoded_len(&base) + encoded_len("+()") + encoded_len(&tail);
            let mut terms: Vec<String> = Vec::new();
            let mut used = fixed;
            let close = |terms: &mut Vec<String>, out: &mut Vec<_>| {
                if !terms.is_empty() {
                    let filter = format!("{base}+({}){tail}", terms.join(","));
                    out.push(vec![("filter", filter)]);
                    terms.clear();
                }
            };
            for t in tokens {
                let term = format!("cmdline:*'*{}*'", token(t)?);
                // A `,` joins it to the terms before it.
                let cost = encoded_len(&term) + usize::from(!terms.is_empty()) * 3;
                if !terms.is_empty() && used + cost > MAX_FILTER_BYTES {
                    close(&mut terms, &mut out);
                    used = fixed;
                }
                let cost = encoded_len(&term) + usize::from(!terms.is_empty()) * 3;
                if used + cost > MAX_FILTER_BYTES {
                    return Err(format!(
                        "the id query's filter would exceed {MAX_FILTER_BYTES} bytes \
                         even for one token; shorten `filter`"
                    ));
                }
                used += cost;
                terms.push(term);
            }
            close(&mut terms, &mut out);
        }
    }
    Ok(out)
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
        let text = searches(TokenSearch::Text, &["cp01", "cp02"], since, None)?;
        assert_eq!(
            text,
            [
                vec![
                    ("q", "cp01".to_string()),
                    (
                        "filter",
                        "created_timestamp:>='2026-11-26T10:00:00Z'".into()
                    ),
                ],
                vec![
                    ("q", "cp02".to_string()),
                    (
                        "filter",
                        "created_timestamp:>='2026-11-26T10:00:00Z'".into()
                    ),
                ],
            ]
        );
        let extra = Some(" device.hostname:'lab-win-01' ");
        let cmd = searches(TokenSearch::Cmdline, &["cp01", "cp02"], since, extra)?;
        assert_eq!(
            cmd,
            [vec![(
                "filter",
                "created_timestamp:>='2026-11-26T10:00:00Z'+(cmdline:*'*cp01*',\
                 cmdline:*'*cp02*')+(device.hostname:'lab-win-01')"
                    .to_string()
            )]]
        );
        for search in [TokenSearch::Text, TokenSearch::Cmdline] {
            assert!(searches(search, &["cp01", "cp01'"], since, None).is_err());
            assert_eq!(searches(search, &[], since, None), Ok(vec![]));
        }
        Ok(())
    }

    #[test]
    fn many_tokens_split_into_few_filters_each_within_the_bound() -> Result<(), String> {
        let since = time::macros::datetime!(2026-11-26 10:00:00 UTC);
        let tokens: Vec<String> = (0..1_200).map(|i| format!("cp{i:010x}")).collect();
        let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let got = searches(
            TokenSearch::Cmdline,
            &tokens,
            since,
            Some("platform:'Linux'"),
        )?;
        assert!((2..=10).contains(&got.len()), "{} filters", got.len());
        let mut seen = 0;
        for params in &got {
            let filter = &params[0].1;
            assert!(encoded_len(filter) <= MAX_FILTER_BYTES, "{}", filter.len());
            assert!(filter.ends_with("+(platform:'Linux')"), "{filter}");
            seen += filter.matches("cmdline:*'*cp").count();
        }
        assert_eq!(seen, tokens.len(), "every token in exactly one filter");
        let huge = "x".repeat(MAX_FILTER_BYTES);
        assert!(searches(TokenSearch::Cmdline, &["cp01"], since, Some(&huge)).is_err());
        Ok(())
    }

    #[test]
    fn the_url_carries_plus_encoded_and_the_length_is_counted_as_sent() -> Result<(), String> {
        let since = time::macros::datetime!(2026-11-26 10:00:00 UTC);
        let params = searches(TokenSearch::Cmdline, &["cp01"], since, Some("a b"))?;
        let req = reqwest::Client::new()
            .get("https://api.example/alerts/queries/alerts/v2")
            .query(&params[0])
            .build()
            .map_err(|e| e.to_string())?;
        let query = req.url().query().unwrap_or_default().to_string();
        assert!(
            query.starts_with(
                "filter=created_timestamp%3A%3E%3D%272026-11-26T10%3A00%3A00Z%27%2B%28cmdline"
            ),
            "{query}"
        );
        assert!(!query.contains('\''), "{query}");
        assert_eq!(query.len(), "filter=".len() + encoded_len(&params[0][0].1));
        Ok(())
    }
}
