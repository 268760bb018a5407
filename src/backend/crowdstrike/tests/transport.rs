//! The transport against the local server: credentials, token renewal,
//! Falcon's rate-limit headers, retries, timeouts, malformed answers.

use std::time::{SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::*;
use crate::backend::ErrorKind;
use crate::backend::conformance::suite;

#[tokio::test]
async fn credential_failures_name_backend_and_status_and_never_the_secret() {
    let denied =
        r#"{"meta":{},"errors":[{"code":401,"message":"access denied, invalid bearer token"}]}"#;
    // Wrong client credentials are the shared suite's 401 and 403.
    let cases = [
        // A missing scope: the API refuses, no retry.
        (vec![oauth(), Answer::status(403, denied)], 403, 2),
        // A token refused by the API is renewed once, then the 401 stands.
        (
            vec![
                oauth(),
                Answer::status(401, denied),
                oauth(),
                Answer::status(401, denied),
            ],
            401,
            4,
        ),
    ];
    for (script, status, requests) in cases {
        let (e, server) = suite::fails::<FalconFixture>(script).await;
        let hint = if status == 401 {
            client::POLICY.unauthorized
        } else {
            client::POLICY.forbidden
        };
        assert!(
            matches!(&e.kind, ErrorKind::Credentials { status: s, hint: h, .. } if *s == status && h == hint),
            "{e:?}"
        );
        assert!(!e.to_string().contains(BEARER), "{e}");
        assert_eq!(server.requests().len(), requests, "{e}");
    }
}

#[tokio::test]
async fn an_api_401_renews_the_token_and_carries_on() {
    let script = vec![
        oauth(),
        Answer::status(401, r#"{"errors":[{"code":401,"message":"expired"}]}"#),
        oauth(),
        ids(&["a1"], 1),
        entities(&[alert(TOKEN, 10)]),
    ];
    let (got, server) = verdicts(script).await;
    assert_eq!(
        got,
        Ok(vec![Verdict::Observed, Verdict::Alerted, Verdict::Alerted])
    );
    assert_eq!(server.requests().len(), 5);
}

fn epoch_in(secs: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (now.as_secs() + secs).to_string()
}

#[tokio::test(start_paused = true)]
async fn rate_limits_wait_for_falcons_reset() {
    let mut limited = Answer::status(
        429,
        r#"{"errors":[{"code":429,"message":"API rate limit exceeded."}]}"#,
    );
    limited.headers.push(("x-ratelimit-limit", "6000".into()));
    limited.headers.push(("x-ratelimit-remaining", "0".into()));
    limited
        .headers
        .push(("x-ratelimit-retryafter", epoch_in(5)));
    let start = Instant::now();
    let (got, server) = verdicts(vec![limited, oauth(), ids(&[], 0)]).await;
    assert_eq!(
        got,
        Ok(vec![Verdict::Missed, Verdict::Missed, Verdict::Missed])
    );
    assert_eq!(server.requests().len(), 3);
    // The reset is whole epoch seconds away: between 4 and 5 s from now.
    assert!(
        start.elapsed() >= Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    let mut far = Answer::status(429, "slow down");
    far.headers.push(("x-ratelimit-retryafter", epoch_in(3600)));
    let (e, server) = suite::fails::<FalconFixture>(vec![far]).await;
    assert!(
        matches!(e.kind, ErrorKind::RateLimited { attempts: None, retry_after: Some(d), .. } if d.as_secs() > 3500),
        "{e:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_exhausted_window_pauses_the_next_request() {
    let mut last = oauth();
    last.headers.push(("x-ratelimit-remaining", "0".into()));
    last.headers.push(("x-ratelimit-retryafter", epoch_in(3)));
    let start = Instant::now();
    let (got, _s) = verdicts(vec![last, ids(&[], 0)]).await;
    assert!(got.is_ok(), "{got:?}");
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn malformed_tokens_and_alerts_and_refused_queries_are_errors_not_misses() {
    for script in [
        vec![Answer::ok("{not json")],
        vec![
            oauth(),
            ids(&["a1"], 1),
            Answer::ok(r#"{"resources":[1,2]}"#),
        ],
    ] {
        let (e, _s) = suite::fails::<FalconFixture>(script).await;
        assert!(matches!(e.kind, ErrorKind::Malformed { .. }), "{e:?}");
    }
    let refused =
        Answer::ok(r#"{"resources":[],"errors":[{"code":400,"message":"invalid filter"}]}"#);
    let (got, _s) = verdicts(vec![oauth(), refused]).await;
    assert!(
        got.err()
            .unwrap_or_default()
            .contains("invalid filter (code 400)")
    );
}
