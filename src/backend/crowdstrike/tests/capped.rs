//! A Falcon that caps its id pages, for the conformance case
//! `capped_pages_with_ties`: it holds `PER_TOKEN` alerts for each token
//! asked, all created at one instant, and serves at most one id a page
//! whatever `limit` asks, following the `offset` the backend sends, with
//! the documented `meta.pagination.total`.

use serde_json::{Value, json};

use super::{alert, oauth};
use crate::backend::conformance::suite::Capped;
use crate::backend::conformance::{Answer, Server, form_field};

/// Alerts per token.
const PER_TOKEN: usize = 5;

/// Ids served a page, below the fixture's `page_size` of 2.
const CAP: usize = 1;

/// The alert `n` of `token`: its own id and shell command line, the same
/// parent and grandparent as the others, the same timestamps.
fn nth(token: &str, n: usize) -> Value {
    let mut a: Value = serde_json::from_str(&alert(token, 10)).unwrap_or_default();
    a["composite_id"] = json!(format!("cid:ind:aid:{token}-{n}"));
    a["cmdline"] = json!(format!("sh -c touch /d/{token}.proof {n}"));
    a
}

fn answer(request: &crate::backend::conformance::Seen, all: &[(String, Value)]) -> Answer {
    if request.path.ends_with("/oauth2/token") {
        return oauth();
    }
    if request.path.ends_with("/alerts/queries/alerts/v2") {
        let field = |k: &str| form_field(&request.query, k).parse::<usize>().unwrap_or(0);
        let filter = form_field(&request.query, "filter");
        let matching: Vec<String> = all
            .iter()
            .filter(|(token, _)| filter.contains(token.as_str()))
            .filter_map(|(_, a)| a["composite_id"].as_str().map(String::from))
            .collect();
        let offset = field("offset").min(matching.len());
        let end = (offset + field("limit").min(CAP)).min(matching.len());
        return Answer::ok(
            json!({"meta": {"query_time": 0.01, "pagination": {"offset": offset,
                "limit": field("limit"), "total": matching.len()}, "trace_id": "t"},
                "resources": matching[offset..end], "errors": []})
            .to_string(),
        );
    }
    let asked: Value = serde_json::from_str(&request.body).unwrap_or_default();
    let wanted: Vec<&Value> = asked["composite_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let alerts: Vec<&Value> = all
        .iter()
        .map(|(_, a)| a)
        .filter(|a| wanted.contains(&&a["composite_id"]))
        .collect();
    Answer::ok(json!({"meta": {"query_time": 0.01}, "resources": alerts, "errors": []}).to_string())
}

/// The capping server for `tokens`, with what each token's answer holds.
pub(super) async fn capped(tokens: &[&str]) -> Capped {
    let all: Vec<(String, Value)> = tokens
        .iter()
        .flat_map(|t| (0..PER_TOKEN).map(move |n| (t.to_string(), nth(t, n))))
        .collect();
    let want = tokens
        .iter()
        .map(|t| {
            let shells: Vec<String> = (0..PER_TOKEN)
                .map(|n| format!("sh -c touch /d/{t}.proof {n}"))
                .collect();
            // Each alert names the shell, its parent and grandparent; the
            // parent and grandparent are one process each, kept once.
            let mut events = shells.clone();
            events.extend([format!("soffice /d/{t}.odt"), "bash".to_string()]);
            events.sort();
            events.extend(shells);
            events
        })
        .collect();
    let server = Server::handle(move |request| answer(request, &all)).await;
    Capped {
        flavour: "Alerts v2".into(),
        url: server.url.clone(),
        server: Box::new(server),
        want,
    }
}
