//! The cases every HTTP backend passes, written once: a backend's tests
//! implement [`Fixture`] (how its vendor answers a hit, a miss, a page, and
//! where a query's text sits in a request) and invoke
//! `conformance_suite!` (in the parent module),
//! which makes one `#[tokio::test]` per case.
//!
//! The tests run on tokio's paused clock (`start_paused`): the runtime
//! advances time whenever it is idle, so retry backoff, `Retry-After` and
//! request timeouts cost no real time, and how long a backend waited is
//! measured exactly on the virtual clock. The local server shares the
//! runtime, so its answers arrive before the clock moves on: a loopback
//! write makes the socket readable at once, and the runtime polls I/O
//! before it advances time.

use std::time::Duration;

use crate::backend::{Backend, BackendError, ErrorKind, Plugin, Query, RunAnswer};
use crate::record::{ScenarioRun, Verdict};

pub use super::alerts::{alert_tied_by_any_field, one_alert_several_rows};
pub use super::evidence::evidence_secret_scan;
pub use super::guard::{malformed_token_in_batch, plain_http};
pub use super::paging::{Capped, capped_pages_with_ties, paging};
use super::{Answer, Seen, Server};

/// The run token of the sample run.
pub const TOKEN: &str = "cp00000000aa";
/// Another run's token.
pub const OTHER: &str = "cp00000000bb";

/// What a vendor's local server answers, for the shared cases.
pub trait Fixture {
    /// The backend under test.
    type Backend: Plugin;
    /// A profile pointed at `url`, with an 800 ms request timeout and its
    /// secret where [`Fixture::secret`] says.
    fn config(url: &str) -> <Self::Backend as Plugin>::Config;
    /// The secret the profile holds: no error may show it.
    fn secret() -> &'static str;
    /// The credential the [`Fixture::preamble`] issues (an OAuth access
    /// token), if any: as live as the secret, so never in the evidence.
    fn issued() -> Option<&'static str> {
        None
    }
    /// The sample run the answers describe, with `token`.
    fn run(token: &str) -> ScenarioRun {
        super::run(token)
    }
    /// What a round starts with before the queries: a token request (each
    /// round that needs a new token), or what a backend asks once per
    /// client before its first query (Elastic's cluster info).
    fn preamble() -> Vec<Answer> {
        Vec::new()
    }
    /// One round's answers holding `token`'s chain — its shell (pid 11)
    /// started by the opener (pid 10) or by `parent` — and an alert on it.
    fn chain(token: &str, parent: u32) -> Vec<Answer>;
    /// [`Fixture::chain`] as it happened.
    fn hit(token: &str) -> Vec<Answer> {
        Self::chain(token, 10)
    }
    /// One round's answers holding nothing.
    fn miss() -> Vec<Answer>;
    /// A 2xx answer the backend cannot read.
    fn malformed() -> Answer {
        Answer::ok("{not json")
    }
    /// For a backend that pages: one round whose rows for `token` span two
    /// pages, and how many events plus alerts the answer must hold.
    fn paged(_token: &str) -> Option<(Vec<Answer>, usize)> {
        None
    }
    /// For a backend that pages: servers (one per flavour of the API)
    /// holding rows for each of `tokens` that serve fewer rows a page than
    /// asked and have equal sort keys at the page boundaries, following
    /// the backend's own cursor.
    async fn capped(_tokens: &[&str]) -> Option<Vec<Capped>> {
        None
    }
    /// Rounds whose one alert names `token` only in a documented field
    /// other than the process fields, one per such field: the field's name
    /// and the round's answers (the chain's events included).
    fn tied_by_field(_token: &str) -> Option<Vec<(&'static str, Vec<Answer>)>> {
        None
    }
    /// One round whose one alert, on the shell (pid 11), the product
    /// writes as several rows, as its vendor documents (evidence rows
    /// sharing an alert id, an alert rewritten on update), the chain's
    /// events included.
    fn several_rows(_token: &str) -> Option<Vec<Answer>> {
        None
    }
    /// A token holding the query language's metacharacters.
    const HOSTILE: &'static str;
    /// The text the query must carry for [`Fixture::HOSTILE`], or `None`
    /// when the backend refuses such a token before asking.
    fn escaped() -> Option<&'static str>;
    /// The query text of a request, decoded from its form or JSON body.
    fn query_text(seen: &Seen) -> String;
}

/// The profile name every case builds with.
pub const NAME: &str = "lab";

pub(super) async fn ask<F: Fixture>(
    script: Vec<Answer>,
    runs: &[ScenarioRun],
) -> (Result<Vec<RunAnswer>, BackendError>, Server) {
    let server = Server::start(script).await;
    let rules = crate::detect::Rules::load(&[]).unwrap_or_else(|e| panic!("rules: {e}"));
    let ctx = crate::backend::Context { name: NAME, rules };
    let got = match F::Backend::build(&F::config(&server.url), ctx) {
        Ok(b) => b.query(Query { runs }).await,
        Err(e) => Err(e),
    };
    (got, server)
}

pub(super) fn with_preamble<F: Fixture>(rest: Vec<Answer>) -> Vec<Answer> {
    let mut script = F::preamble();
    script.extend(rest);
    script
}

/// The hop verdicts then the chain verdict `answer` gives `run`.
pub fn verdicts(run: &ScenarioRun, answer: &RunAnswer) -> Vec<Verdict> {
    let v = crate::verify::decide(
        run,
        None,
        Ok(answer.clone()),
        "conformance",
        time::OffsetDateTime::now_utc(),
    );
    let mut all: Vec<Verdict> = v.hops.iter().map(|h| h.verdict).collect();
    all.push(v.chain.verdict);
    all
}

pub(super) fn only<F: Fixture>(got: Result<Vec<RunAnswer>, BackendError>) -> RunAnswer {
    match got {
        Ok(mut a) if a.len() == 1 => a.remove(0),
        other => panic!("{}: one answer expected, got {other:?}", NAME),
    }
}

fn failure<F: Fixture>(got: Result<Vec<RunAnswer>, BackendError>) -> BackendError {
    let e = match got {
        Err(e) => e,
        Ok(a) => panic!("an error expected, got {a:?}"),
    };
    assert_eq!(e.backend, NAME, "{e}");
    let text = e.to_string();
    assert!(!text.contains(F::secret()), "the secret leaked: {text}");
    e
}

/// The error the backend of `F` gives for its sample run when the server
/// plays `script` (no preamble added); the secret never shows in it.
pub async fn fails<F: Fixture>(script: Vec<Answer>) -> (BackendError, Server) {
    let (got, server) = ask::<F>(script, &[F::run(TOKEN)]).await;
    (failure::<F>(got), server)
}

/// A hit is observed and alerted on every hop, in one round.
pub async fn hit<F: Fixture>() {
    let run = F::run(TOKEN);
    let (got, _s) = ask::<F>(
        with_preamble::<F>(F::hit(TOKEN)),
        std::slice::from_ref(&run),
    )
    .await;
    let answer = only::<F>(got);
    let v = verdicts(&run, &answer);
    assert!(!v.contains(&Verdict::Missed), "{v:?}");
    assert_eq!(v.last(), Some(&Verdict::Alerted), "{v:?}");
}

/// The spawn hop is linked to its parent by process identity, and not
/// linked when the backend saw it under another parent.
pub async fn linking<F: Fixture>() {
    let mut run = F::run(TOKEN);
    let spawn = run
        .hops
        .iter()
        .rposition(|h| h.kind == crate::vocab::HopKind::Spawn)
        .unwrap_or_else(|| panic!("the sample run has a spawn hop"));
    run.hops[spawn].parent_pid = Some(10);
    for (parent, want) in [(10, true), (99, false)] {
        let script = with_preamble::<F>(F::chain(TOKEN, parent));
        let (got, _s) = ask::<F>(script, std::slice::from_ref(&run)).await;
        let answer = only::<F>(got);
        let v = crate::verify::decide(
            &run,
            None,
            Ok(answer),
            "conformance",
            time::OffsetDateTime::now_utc(),
        );
        let hop = &v.hops[spawn];
        assert_ne!(hop.verdict, Verdict::Missed, "{hop:?}");
        assert_eq!(hop.linked, Some(want), "parent {parent}: {hop:?}");
    }
}

/// The backend instance records what it asked and what it was answered,
/// only while recording, in its own transcript, with the secret redacted.
pub async fn transcript<F: Fixture>() {
    let mut script = with_preamble::<F>(F::hit(TOKEN));
    script.extend(F::hit(TOKEN));
    let server = Server::start(script).await;
    let build = || {
        let rules = crate::detect::Rules::load(&[]).unwrap_or_else(|e| panic!("rules: {e}"));
        let ctx = crate::backend::Context { name: NAME, rules };
        F::Backend::build(&F::config(&server.url), ctx).unwrap_or_else(|e| panic!("{e}"))
    };
    let (backend, other) = (build(), build());
    let log = backend
        .transcript()
        .unwrap_or_else(|| panic!("an HTTP backend keeps a transcript"));
    let runs = [F::run(TOKEN)];
    log.start();
    backend
        .query(Query { runs: &runs })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let exchanges = log.finish();
    // Token requests included: their secrets are redacted below.
    assert_eq!(exchanges.len(), server.requests().len(), "{exchanges:#?}");
    backend
        .query(Query { runs: &runs })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(log.finish().is_empty(), "nothing is kept unless started");
    assert!(
        exchanges
            .iter()
            .all(|e| e.backend == NAME && (200..300).contains(&e.status)),
        "{exchanges:#?}"
    );
    // What the evidence bundle's backend-queries.jsonl holds, byte for byte.
    let text = format!("{exchanges:?}\n{}", crate::bundle::queries_text(&exchanges));
    assert!(!text.contains(F::secret()), "{text}");
    if let Some(issued) = F::issued() {
        assert!(
            !text.contains(issued),
            "the issued token is in the evidence: {text}"
        );
    }
    let other_log = other
        .transcript()
        .unwrap_or_else(|| panic!("an HTTP backend keeps a transcript"));
    assert!(other_log.finish().is_empty(), "instances never share a log");
}

/// Nothing found is missed, not an error.
pub async fn miss<F: Fixture>() {
    let run = F::run(TOKEN);
    let (got, _s) = ask::<F>(with_preamble::<F>(F::miss()), std::slice::from_ref(&run)).await;
    let answer = only::<F>(got);
    assert!(answer.events.is_empty() && answer.alerts.is_empty());
    assert!(
        verdicts(&run, &answer)
            .iter()
            .all(|v| *v == Verdict::Missed)
    );
}

/// Rows of another run's token are not this run's.
pub async fn another_runs_token<F: Fixture>() {
    let run = F::run(TOKEN);
    let (got, _s) = ask::<F>(with_preamble::<F>(F::hit(OTHER)), &[run]).await;
    let answer = only::<F>(got);
    assert!(
        answer.events.is_empty() && answer.alerts.is_empty(),
        "{answer:?}"
    );
}

/// 401 and 403 fail at once as credentials errors, without the secret.
pub async fn refused_credentials<F: Fixture>(status: u16) {
    let body = r#"{"error":"not allowed"}"#;
    let (got, server) = ask::<F>(vec![Answer::status(status, body)], &[F::run(TOKEN)]).await;
    let e = failure::<F>(got);
    assert!(
        matches!(e.kind, ErrorKind::Credentials { status: s, .. } if s == status),
        "{e:?}"
    );
    assert_eq!(
        server.requests().len(),
        1,
        "credentials errors are not retried"
    );
}

/// A 429 waits as long as `Retry-After` says, then the round succeeds; a
/// wait too long to honour fails at once.
pub async fn rate_limited<F: Fixture>() {
    let mut limited = Answer::status(429, "slow down");
    limited.headers.push(("retry-after", "7".into()));
    let mut script = vec![limited];
    script.extend(F::hit(TOKEN));
    let start = tokio::time::Instant::now();
    let (got, _s) = ask::<F>(with_preamble::<F>(script), &[F::run(TOKEN)]).await;
    let answer = only::<F>(got);
    assert!(!answer.events.is_empty() || !answer.alerts.is_empty());
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(7) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
    let mut far = Answer::status(429, "slow down");
    far.headers.push(("retry-after", "3600".into()));
    let (got, server) = ask::<F>(with_preamble::<F>(vec![far]), &[F::run(TOKEN)]).await;
    let e = failure::<F>(got);
    assert!(
        matches!(e.kind, ErrorKind::RateLimited { attempts: None, retry_after: Some(d), .. } if d.as_secs() == 3600),
        "{e:?}"
    );
    assert_eq!(server.requests().len(), F::preamble().len() + 1);
}

/// A 5xx is retried with backoff; one that never clears fails after the
/// last attempt with its status.
pub async fn server_errors<F: Fixture>() {
    let mut script = vec![Answer::status(502, "bad gateway")];
    script.extend(F::hit(TOKEN));
    let (got, _s) = ask::<F>(with_preamble::<F>(script), &[F::run(TOKEN)]).await;
    let answer = only::<F>(got);
    assert!(!answer.events.is_empty() || !answer.alerts.is_empty());
    let script = with_preamble::<F>(vec![Answer::status(500, "oops")]);
    let (got, server) = ask::<F>(script, &[F::run(TOKEN)]).await;
    let e = failure::<F>(got);
    assert!(
        matches!(
            e.kind,
            ErrorKind::Status {
                status: 500,
                attempts: Some(4),
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(server.requests().len(), F::preamble().len() + 4);
}

/// An answer slower than the request timeout is a timeout, never a miss.
pub async fn timeout<F: Fixture>() {
    let mut slow = F::miss().remove(0);
    slow.delay = Duration::from_secs(30);
    let (got, _s) = ask::<F>(with_preamble::<F>(vec![slow]), &[F::run(TOKEN)]).await;
    let e = failure::<F>(got);
    assert!(
        matches!(
            e.kind,
            ErrorKind::Timeout {
                attempts: Some(4),
                ..
            }
        ),
        "{e:?}"
    );
}

/// An answer that cannot be read is malformed, never a miss.
pub async fn malformed<F: Fixture>() {
    let (got, _s) = ask::<F>(with_preamble::<F>(vec![F::malformed()]), &[F::run(TOKEN)]).await;
    let e = failure::<F>(got);
    assert!(matches!(e.kind, ErrorKind::Malformed { .. }), "{e:?}");
}

/// A token with the query language's metacharacters reaches the query
/// escaped, or is refused before anything is asked.
pub async fn hostile<F: Fixture>() {
    let run = F::run(F::HOSTILE);
    let (got, server) = ask::<F>(with_preamble::<F>(F::miss()), &[run]).await;
    match F::escaped() {
        Some(literal) => {
            assert!(got.is_ok(), "{got:?}");
            let texts: Vec<String> = server.requests().iter().map(F::query_text).collect();
            assert!(
                texts.iter().any(|t| t.contains(literal)),
                "{literal} in {texts:#?}"
            );
        }
        None => {
            let e = failure::<F>(got);
            assert!(matches!(e.kind, ErrorKind::Other(_)), "{e:?}");
            assert_eq!(server.requests().len(), 0, "refused before asking");
        }
    }
}
