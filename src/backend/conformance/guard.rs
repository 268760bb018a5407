//! The conformance cases about what a backend must refuse or never be
//! given: a run whose token is not a run token in a batch, and a plain
//! `http://` URL to another host. Invoked through `conformance_suite!`
//! like the cases of [`super::suite`].

use super::suite::{Fixture, NAME, TOKEN, ask, only, verdicts, with_preamble};
use crate::backend::{ErrorKind, Plugin};
use crate::record::{ScenarioRun, Verdict};

/// A batch holding one run whose token is not a run token (hostile or
/// truncated): that run is judged `inconclusive`, named, and never sent
/// (the guard [`crate::verify::verify`] applies before every round); the
/// backend then answers the rest of the batch, whose run still gets its
/// verdicts — one bad run never spoils the batch.
pub async fn malformed_token_in_batch<F: Fixture>() {
    for bad in [F::HOSTILE, "cp0123", "CP00000000AA"] {
        // The bad run between good ones' places; a fixture's script
        // answers one run, so the batch asked holds one.
        let mut runs = vec![F::run(bad), F::run(TOKEN)];
        let ok = crate::verify::searchable(&mut runs, &[], NAME);
        assert_eq!(ok, [1], "{bad}");
        let asked: Vec<ScenarioRun> = ok.iter().map(|&i| runs[i].clone()).collect();
        let (got, server) = ask::<F>(with_preamble::<F>(F::hit(TOKEN)), &asked).await;
        let v = verdicts(&runs[1], &only::<F>(got));
        assert!(!v.contains(&Verdict::Missed), "{bad}: {v:?}");
        assert_eq!(v.last(), Some(&Verdict::Alerted), "{bad}: {v:?}");
        let chain = runs[0].verification.as_ref().map(|v| &v.chain);
        assert_eq!(
            chain.map(|c| c.verdict),
            Some(Verdict::Inconclusive),
            "{bad}"
        );
        let why = chain.and_then(|c| c.reason.clone()).unwrap_or_default();
        assert!(why.contains("not a run token"), "{bad}: {why}");
        let texts: Vec<String> = server.requests().iter().map(F::query_text).collect();
        assert!(
            texts.iter().all(|t| !t.contains(bad)),
            "{bad} was sent: {texts:#?}"
        );
    }
}

/// A plain `http://` URL is refused (credentials would cross the network
/// in clear) unless it points at this machine; the refusal names the URL
/// and never the secret, and nothing is asked.
pub async fn plain_http<F: Fixture>() {
    let cases = [
        ("http://siem.lab.example:8089", false),
        ("http://10.0.0.5:9200", false),
        ("http://localhost.evil.example:80", false),
        ("http://127.0.0.1:9", true),
        ("http://localhost:9", true),
        ("http://[::1]:9", true),
    ];
    for (url, allowed) in cases {
        let rules = crate::detect::Rules::load(&[]).unwrap_or_else(|e| panic!("rules: {e}"));
        let ctx = crate::backend::Context { name: NAME, rules };
        match (F::Backend::build(&F::config(url), ctx), allowed) {
            (Ok(_), true) => {}
            (Err(e), false) => {
                let text = e.to_string();
                assert!(matches!(e.kind, ErrorKind::Config(_)), "{url}: {e:?}");
                assert!(
                    text.contains(url) && text.contains("https"),
                    "{url}: {text}"
                );
                assert!(
                    !text.contains(F::secret()),
                    "{url}: the secret leaked: {text}"
                );
            }
            (Ok(_), false) => panic!("{url}: plain http to another host was accepted"),
            (Err(e), true) => panic!("{url}: loopback refused: {e}"),
        }
    }
}
