//! The transport against the local server: credentials, token renewal,
//! Falcon's rate-limit headers, retries, timeouts, malformed answers.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::*;

#[tokio::test]
async fn credential_failures_name_backend_and_status_and_never_the_secret() {
    let denied =
        r#"{"meta":{},"errors":[{"code":401,"message":"access denied, invalid bearer token"}]}"#;
    let cases = [
        // Wrong client credentials: the token request fails at once.
        (vec![Answer::status(401, denied)], "401", 1),
        (vec![Answer::status(403, denied)], "403", 1),
        // A missing scope: the API refuses, no retry.
        (vec![oauth(), Answer::status(403, denied)], "403", 2),
        // A token refused by the API is renewed once, then the 401 stands.
        (
            vec![
                oauth(),
                Answer::status(401, denied),
                oauth(),
                Answer::status(401, denied),
            ],
            "401",
            4,
        ),
    ];
    for (script, status, requests) in cases {
        let (got, server) = verdicts(script).await;
        let err = got.err().unwrap_or_default();
        assert!(err.contains("lab-falcon") && err.contains(status), "{err}");
        assert!(!err.contains(SECRET) && !err.contains(BEARER), "{err}");
        assert_eq!(server.requests().len(), requests, "{err}");
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

#[tokio::test]
async fn rate_limits_wait_for_falcons_reset_and_server_errors_are_retried() {
    let mut limited = Answer::status(
        429,
        r#"{"errors":[{"code":429,"message":"API rate limit exceeded."}]}"#,
    );
    limited.headers.push(("x-ratelimit-limit", "6000".into()));
    limited.headers.push(("x-ratelimit-remaining", "0".into()));
    limited
        .headers
        .push(("x-ratelimit-retryafter", epoch_in(1)));
    let script = vec![limited, oauth(), Answer::status(500, "oops"), ids(&[], 0)];
    let (got, server) = verdicts(script).await;
    assert_eq!(
        got,
        Ok(vec![Verdict::Missed, Verdict::Missed, Verdict::Missed])
    );
    assert_eq!(server.requests().len(), 4);
    let mut far = Answer::status(429, "slow down");
    far.headers.push(("x-ratelimit-retryafter", epoch_in(3600)));
    let (got, server) = verdicts(vec![far]).await;
    let err = got.err().unwrap_or_default();
    assert!(err.contains("429") && err.contains("too long"), "{err}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_exhausted_window_pauses_the_next_request() {
    let mut last = oauth();
    last.headers.push(("x-ratelimit-remaining", "0".into()));
    last.headers.push(("x-ratelimit-retryafter", epoch_in(2)));
    let start = Instant::now();
    let (got, _s) = verdicts(vec![last, ids(&[], 0)]).await;
    assert!(got.is_ok(), "{got:?}");
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn timeouts_and_malformed_answers_are_errors_not_misses() {
    let mut slow = oauth();
    slow.delay = Duration::from_secs(3);
    let (got, _s) = verdicts(vec![slow]).await;
    let err = got.err().unwrap_or_default();
    assert!(
        err.contains("lab-falcon") && err.contains("timed out"),
        "{err}"
    );
    for script in [
        vec![Answer::ok("{not json")],
        vec![oauth(), Answer::ok("{not json")],
        vec![
            oauth(),
            ids(&["a1"], 1),
            Answer::ok(r#"{"resources":[1,2]}"#),
        ],
    ] {
        let (got, _s) = verdicts(script).await;
        let err = got.err().unwrap_or_default();
        assert!(
            err.contains("lab-falcon") && err.contains("malformed"),
            "{err}"
        );
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
