//! Elasticsearch's answers for the shared conformance cases: scripted
//! `_search` rounds, and the capping cluster of [`super::cluster`] for
//! `capped_pages_with_ties`.

use std::path::Path;

use serde_json::json;

use super::*;

/// Elasticsearch's `_search` answers for the shared conformance cases.
pub(super) struct ElasticFixture;

impl Fixture for ElasticFixture {
    type Backend = Elastic;

    fn config(url: &str) -> ElasticConfig {
        let mut cfg = config(url, Path::new("unused"));
        cfg.auth = AuthConfig::Scheme {
            scheme: "ApiKey".into(),
            credential: crate::backend::conformance::env_secret("ELASTIC", SECRET),
        };
        cfg.page_size = 2;
        cfg
    }

    fn secret() -> &'static str {
        SECRET
    }

    /// The cluster info, asked once per backend (the suite's rounds are
    /// each a new backend, but for the transcript case's second round).
    fn preamble() -> Vec<Answer> {
        vec![info()]
    }

    fn chain(token: &str, parent: u32) -> Vec<Answer> {
        let mut script = searched(&[
            &[
                process(token, 10, 1, "/w/program/soffice.bin"),
                process(token, 11, parent, "/usr/bin/dash"),
            ],
            &[process(token, 12, 1, "/usr/bin/true")],
        ]);
        script.extend(searched(&[&[detection(token)]]));
        script
    }

    fn miss() -> Vec<Answer> {
        let mut script = searched(&[]);
        script.extend(searched(&[]));
        script
    }

    fn paged(token: &str) -> Option<(Vec<Answer>, usize)> {
        // Page size 2: a full page, a short one, an empty one, then the alerts.
        Some((Self::hit(token), 4))
    }

    /// A cluster of each flavour serving 1 hit a page where 2 are asked,
    /// every page boundary a tie on `@timestamp`.
    async fn capped(tokens: &[&str]) -> Option<Vec<suite::Capped>> {
        let tokens: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
        let mut out = Vec::new();
        for (version, _) in super::paging::flavours() {
            let cluster =
                super::cluster::Cluster::start(version.clone(), super::paging::docs(&tokens, 7), 1)
                    .await;
            out.push(suite::Capped {
                flavour: version.to_string(),
                url: cluster.url.clone(),
                server: Box::new(cluster),
                want: tokens
                    .iter()
                    .map(|t| super::paging::commands_of(t, 7))
                    .collect(),
            });
        }
        Some(out)
    }

    /// The token only in the alert's `file.path` (searched with the
    /// command lines): its process names none.
    fn tied_by_field(token: &str) -> Option<Vec<(&'static str, Vec<Answer>)>> {
        let mut alert = detection(token);
        alert["process"]["command_line"] = json!("/bin/sh -c whoami");
        alert["file"] = json!({"path": format!("/home/lab/{token}.odt")});
        let mut round = Self::chain(token, 10);
        // The alerts' search (PIT, page, empty page, close) replaced.
        round.truncate(round.len() - 4);
        round.extend(searched(&[&[alert]]));
        Some(vec![("file.path", round)])
    }

    const HOSTILE: &'static str = r#"cp"x\y*?} query_string"#;

    fn escaped() -> Option<&'static str> {
        Some(r#"*cp"x\\y\*\?} query_string*"#)
    }

    fn query_text(seen: &Seen) -> String {
        crate::backend::conformance::json_strings(&seen.body)
    }
}

crate::backend::conformance::conformance_suite!(
    ElasticFixture,
    paging,
    capped_pages_with_ties,
    alert_tied_by_any_field
);
