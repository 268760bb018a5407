//! The conformance cases about paging: rows on a later page are found, and
//! a server that serves fewer rows a page than asked, with equal sort keys
//! at the page boundaries, loses and repeats none. Invoked through
//! `conformance_suite!` like the cases of [`super::suite`], only for a
//! fixture whose API pages.

use std::any::Any;

use super::suite::{Fixture, NAME, TOKEN, ask, only, with_preamble};
use crate::backend::{Backend as _, Plugin, Query, RunAnswer};
use crate::record::ScenarioRun;

/// A server a fixture started for [`capped_pages_with_ties`].
pub struct Capped {
    /// Which flavour of the API it speaks, for messages.
    pub flavour: String,
    /// Its address.
    pub url: String,
    /// What keeps it running until the case is done.
    pub server: Box<dyn Any>,
    /// Per token asked, the `CommandLine` of every row (events, then
    /// alerts) its answer must hold, each as often as the server holds it.
    pub want: Vec<Vec<String>>,
}

/// Rows on a second page are found (for a backend that pages).
pub async fn paging<F: Fixture>() {
    let Some((script, want)) = F::paged(TOKEN) else {
        panic!("a backend whose suite includes paging gives a paged round");
    };
    let pages = script.len();
    let (got, server) = ask::<F>(with_preamble::<F>(script), &[F::run(TOKEN)]).await;
    let answer = only::<F>(got);
    assert_eq!(
        answer.events.len() + answer.alerts.len(),
        want,
        "{answer:?}"
    );
    assert_eq!(server.requests().len(), F::preamble().len() + pages);
}

/// The `CommandLine` of every row of `answer`, events then alerts, each
/// list sorted.
fn commands(answer: &RunAnswer) -> Vec<String> {
    let line = |e: &crate::telemetry::Event| {
        e.fields
            .get("CommandLine")
            .and_then(|v| v.as_str())
            .map(String::from)
            .unwrap_or_default()
    };
    let mut events: Vec<String> = answer.events.iter().map(line).collect();
    let mut alerts: Vec<String> = answer.alerts.iter().map(|a| line(&a.event)).collect();
    events.sort();
    alerts.sort();
    events.extend(alerts);
    events
}

/// Pages capped below the size asked, with sort ties at every boundary:
/// every row of every run is found exactly once. A backend that took a
/// short page as the last, or resumed after a key shared by several rows,
/// lost rows here; one that resumed before it repeated them.
pub async fn capped_pages_with_ties<F: Fixture>() {
    let tokens = [TOKEN, super::suite::OTHER];
    let Some(servers) = F::capped(&tokens).await else {
        panic!("a backend whose suite includes this case gives a capping server");
    };
    assert!(!servers.is_empty());
    let runs: Vec<ScenarioRun> = tokens.iter().map(|t| F::run(t)).collect();
    for capped in servers {
        let rules = crate::detect::Rules::load(&[]).unwrap_or_else(|e| panic!("rules: {e}"));
        let ctx = crate::backend::Context { name: NAME, rules };
        let backend = F::Backend::build(&F::config(&capped.url), ctx)
            .unwrap_or_else(|e| panic!("{}: {e}", capped.flavour));
        let got = backend
            .query(Query { runs: &runs })
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", capped.flavour));
        assert_eq!(got.len(), runs.len(), "{}", capped.flavour);
        for ((answer, want), token) in got.iter().zip(&capped.want).zip(tokens) {
            assert!(!want.is_empty(), "{}: rows for {token}", capped.flavour);
            assert_eq!(&commands(answer), want, "{}: {token}", capped.flavour);
        }
        drop(capped.server);
    }
}
