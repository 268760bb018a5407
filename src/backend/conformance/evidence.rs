//! The evidence-bundle secret scan (issue 15's acceptance): a
//! verification of two rounds with a token renewal between them, its
//! evidence bundle written as a run writes it, and every file of the bundle
//! searched for the configured secret and for every access token the
//! server issued. None may appear.
//!
//! The renewal is the one every OAuth backend performs: the first token is
//! issued for an hour, the paused clock moves past its expiry, and the
//! second round must fetch a new one (which the server proves it used). A
//! third round is refused with a 401: a backend that renews on it
//! (CrowdStrike) fetches a third token and asks again; one that does not
//! (Defender, Sentinel renew on expiry only) fails that round as a
//! credentials error. Either way nothing of it may reach the bundle.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::suite::{Fixture, NAME, TOKEN, only};
use super::{Answer, Server};
use crate::backend::{Backend, Plugin, Query};

/// The token the first round is issued, and the renewed one.
const FIRST: &str = "issued-first-7c1d9e.access";
const RENEWED: &str = "issued-renewed-44ab02.access";
/// The token fetched after a 401, by a backend that renews on one.
const AFTER_401: &str = "issued-after-401-b93e.access";

fn token_body(body: &str, token: &str, expires_in: u64) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut v) if v.get("access_token").is_some() => {
            v["access_token"] = token.into();
            v["expires_in"] = expires_in.into();
            v.to_string()
        }
        _ => body.to_string(),
    }
}

/// Every regular file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Two rounds with a renewal between them, the bundle sealed, every file
/// scanned for the secret and both issued tokens.
pub async fn evidence_secret_scan<F: Fixture>() {
    let oauth = F::issued().is_some();
    let renew = |token, secs| {
        let mut script: Vec<Answer> = F::preamble()
            .into_iter()
            .map(|mut a| {
                a.body = token_body(&a.body, token, secs);
                a
            })
            .collect();
        script.extend(F::hit(TOKEN));
        script
    };
    let mut script = renew(FIRST, 3600);
    // Without OAuth the preamble is asked once per client (Elastic's
    // cluster info): the second round is the queries alone.
    script.extend(if oauth {
        renew(RENEWED, 3600)
    } else {
        F::hit(TOKEN)
    });
    if oauth {
        script.push(Answer::status(401, r#"{"error":"token expired"}"#));
        script.extend(renew(AFTER_401, 3600));
    }
    let server = Server::start(script).await;
    let rules = crate::detect::Rules::load(&[]).unwrap_or_else(|e| panic!("rules: {e}"));
    let ctx = crate::backend::Context { name: NAME, rules };
    let backend = F::Backend::build(&F::config(&server.url), ctx).unwrap_or_else(|e| panic!("{e}"));
    let log = backend
        .transcript()
        .unwrap_or_else(|| panic!("an HTTP backend keeps a transcript"));
    let runs = [F::run(TOKEN)];
    log.start();
    let first = backend.query(Query { runs: &runs }).await;
    only::<F>(first);
    // Past the first token's expiry: the next round must renew it.
    tokio::time::sleep(Duration::from_secs(2 * 3600)).await;
    let answer = only::<F>(backend.query(Query { runs: &runs }).await);
    let exchanges = log.finish();
    let seen = server.requests();
    assert_eq!(
        exchanges.len(),
        seen.len(),
        "every request is in the evidence"
    );
    if oauth {
        let used = |t: &str| {
            seen.iter()
                .any(|s| s.authorization.as_deref().is_some_and(|a| a.contains(t)))
        };
        assert!(
            used(FIRST) && used(RENEWED),
            "no renewal happened: {seen:#?}"
        );
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let reports = dir.path().join("reports");
    let mut run = runs[0].clone();
    let now = time::OffsetDateTime::now_utc();
    run.verification = Some(crate::verify::decide(
        &run,
        None,
        Ok(answer.clone()),
        NAME,
        now,
    ));
    let record = crate::record::test_records::record(vec![run]);
    let folder = crate::report::write_folder(&record, &reports).unwrap_or_else(|e| panic!("{e}"));
    let evidence = crate::bundle::Evidence {
        scenarios: &[],
        telemetry: Some(crate::report::recording::render(&record, &[Some(answer)])),
        exchanges: &exchanges,
        sign: None,
    };
    crate::bundle::seal(&record, &folder, &reports, &evidence).unwrap_or_else(|e| panic!("{e}"));
    let all = files(&reports);
    let queries = folder.join(crate::bundle::QUERIES);
    let recorded = std::fs::read_to_string(&queries)
        .unwrap_or_default()
        .lines()
        .count();
    assert_eq!(recorded, exchanges.len(), "{}", queries.display());
    assert_eq!(
        exchanges.len(),
        seen.len(),
        "every request, the 401 too, is in the evidence"
    );
    let names: Vec<String> = all
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for want in [
        "run.json",
        "backend-queries.jsonl",
        "telemetry.jsonl",
        "SHA256SUMS",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    let mut secrets = vec![F::secret()];
    if oauth {
        secrets.extend([FIRST, RENEWED, AFTER_401]);
    }
    for path in &all {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for s in &secrets {
            let found = bytes.windows(s.len()).any(|w| w == s.as_bytes());
            assert!(!found, "{} holds {s}", path.display());
        }
    }
}
