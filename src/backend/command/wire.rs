//! The JSON the program reads and writes, version [`VERSION`]
//! (`docs/command-backend.md`).
//!
//! The answer is parsed strictly — unknown keys, a wrong version, a run
//! answered twice, a run not asked for or a run left out are errors — so a
//! mistake in a plug-in shows as an error, not as a silent `missed`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::backend::{BackendAlert, ErrorKind, RunAnswer};
use crate::record::ScenarioRun;
use crate::telemetry::{Category, Event};
use crate::vocab::Platform;

/// Version of the contract, in both directions.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Request<'a> {
    version: u32,
    runs: Vec<RunRequest<'a>>,
}

#[derive(Serialize)]
struct RunRequest<'a> {
    token: &'a str,
    scenario: &'a str,
    platform: Platform,
    /// The run record keeps its host outside the runs a query carries.
    host: Option<&'a str>,
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    finished_at: OffsetDateTime,
    processes: Vec<ProcessRequest<'a>>,
    files: Vec<FileRequest<'a>>,
}

#[derive(Serialize)]
struct ProcessRequest<'a> {
    pid: u32,
    ppid: u32,
    image: Option<&'a str>,
    command_line: Option<&'a str>,
}

#[derive(Serialize)]
struct FileRequest<'a> {
    path: &'a str,
}

/// The program's input for `runs`.
pub fn request(runs: &[ScenarioRun]) -> Result<Vec<u8>, String> {
    let req = Request {
        version: VERSION,
        runs: runs
            .iter()
            .map(|r| RunRequest {
                token: &r.token,
                scenario: &r.id,
                platform: r.platform,
                host: None,
                started_at: r.started_at,
                finished_at: r.finished_at,
                processes: r
                    .truth
                    .processes
                    .iter()
                    .map(|p| ProcessRequest {
                        pid: p.pid,
                        ppid: p.ppid,
                        image: p.image.as_deref(),
                        command_line: p.command_line.as_deref(),
                    })
                    .collect(),
                files: r
                    .truth
                    .files
                    .iter()
                    .map(|f| FileRequest { path: &f.path })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_vec(&req).map_err(|e| format!("encode the query: {e}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Response {
    version: u32,
    runs: Vec<RunResponse>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunResponse {
    token: String,
    #[serde(default)]
    events: Vec<EventResponse>,
    #[serde(default)]
    alerts: Vec<AlertResponse>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum CategoryResponse {
    ProcessCreation,
    FileEvent,
}

impl From<CategoryResponse> for Category {
    fn from(c: CategoryResponse) -> Category {
        match c {
            CategoryResponse::ProcessCreation => Category::ProcessCreation,
            CategoryResponse::FileEvent => Category::FileEvent,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventResponse {
    category: CategoryResponse,
    #[serde(default, with = "time::serde::rfc3339::option")]
    time: Option<OffsetDateTime>,
    fields: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertResponse {
    #[serde(default)]
    rule_id: Option<String>,
    rule_title: String,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    time: OffsetDateTime,
    #[serde(default = "process_creation")]
    category: CategoryResponse,
    #[serde(default)]
    fields: Map<String, Value>,
}

fn process_creation() -> CategoryResponse {
    CategoryResponse::ProcessCreation
}

/// Process ids the verifier compares as numbers; a program may write them
/// as strings of digits, which are converted.
fn normalise(mut fields: Map<String, Value>) -> Map<String, Value> {
    for key in ["ProcessId", "ParentProcessId"] {
        let digits = fields
            .get(key)
            .and_then(Value::as_str)
            .and_then(|s| s.trim().parse::<u64>().ok());
        if let Some(n) = digits {
            fields.insert(key.into(), Value::from(n));
        }
    }
    fields
}

fn event(e: EventResponse) -> Event {
    Event {
        category: e.category.into(),
        arrived: None,
        at: e.time,
        hop: None,
        fields: normalise(e.fields),
    }
}

fn alert(a: AlertResponse) -> BackendAlert {
    BackendAlert {
        responses: Vec::new(),
        rule_id: a.rule_id,
        rule_title: a.rule_title,
        level: a.level,
        tags: a.tags,
        at: Some(a.time),
        event: Event {
            category: a.category.into(),
            arrived: None,
            at: Some(a.time),
            hop: None,
            fields: normalise(a.fields),
        },
    }
}

/// Parses the program's stdout into one answer per run of `runs`, in order.
pub fn answers(
    stdout: &[u8],
    runs: &[ScenarioRun],
    answered_at: OffsetDateTime,
) -> Result<Vec<RunAnswer>, ErrorKind> {
    let bad = |detail: String| ErrorKind::malformed("answer", detail);
    let mut de = serde_json::Deserializer::from_slice(stdout);
    let resp: Response = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| ErrorKind::malformed(format!("answer at `{}`", e.path()), e.inner()))?;
    de.end()
        .map_err(|e| bad(format!("trailing data after the JSON: {e}")))?;
    if resp.version != VERSION {
        return Err(bad(format!(
            "it has version {}, expected {VERSION}",
            resp.version
        )));
    }
    let mut by_token: HashMap<String, RunResponse> = HashMap::new();
    for r in resp.runs {
        if !runs.iter().any(|run| run.token == r.token) {
            return Err(bad(format!(
                "answer for token `{}`, which was not asked for",
                r.token.escape_debug()
            )));
        }
        if by_token.contains_key(&r.token) {
            return Err(bad(format!(
                "token `{}` answered twice",
                r.token.escape_debug()
            )));
        }
        by_token.insert(r.token.clone(), r);
    }
    runs.iter()
        .map(|run| {
            let r = by_token
                .remove(&run.token)
                .ok_or_else(|| bad(format!("no answer for token `{}`", run.token)))?;
            Ok(RunAnswer {
                untied: Default::default(),
                events: r.events.into_iter().map(event).collect(),
                alerts: r.alerts.into_iter().map(alert).collect(),
                answered_at: Some(answered_at),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{ProcessTruth, test_records};

    fn run(token: &str) -> ScenarioRun {
        let mut run = test_records::scenario("macro-doc-shell");
        run.token = token.into();
        run.truth.processes = vec![ProcessTruth {
            command_line: Some("sh -c \"touch 'a b'\"".into()),
            ..test_records::process(11, 10, "/usr/bin/dash")
        }];
        run
    }

    #[test]
    fn the_request_carries_tokens_and_ground_truth() -> Result<(), String> {
        let bytes = request(&[run("cp01")])?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        assert_eq!(
            v,
            serde_json::json!({"version": 1, "runs": [{
                "token": "cp01", "scenario": "macro-doc-shell", "platform": "linux", "host": null,
                "started_at": "1970-01-01T00:00:00Z", "finished_at": "1970-01-01T00:00:00Z",
                "processes": [{"pid": 11, "ppid": 10, "image": "/usr/bin/dash",
                               "command_line": "sh -c \"touch 'a b'\""}],
                "files": []
            }]})
        );
        Ok(())
    }

    #[test]
    fn answers_are_matched_by_token_and_pids_become_numbers() -> Result<(), String> {
        let out = br#"{"version":1,"runs":[
            {"token":"cp02","events":[]},
            {"token":"cp01","events":[{"category":"process_creation","time":"2026-01-01T00:00:00Z",
              "fields":{"ProcessId":"11","ParentProcessId":10,"Image":"/usr/bin/dash"}}],
             "alerts":[{"rule_title":"Shell","tags":["attack.t1204.002"],"time":"2026-01-01T00:00:01Z",
              "fields":{"ProcessId":"11"}}]}]}"#;
        let got = answers(out, &[run("cp01"), run("cp02")], OffsetDateTime::UNIX_EPOCH)
            .map_err(|e| e.to_string())?;
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].events[0].fields["ProcessId"], Value::from(11u64));
        assert_eq!(
            got[0].events[0].fields["ParentProcessId"],
            Value::from(10u64)
        );
        assert_eq!(got[0].alerts[0].event.category, Category::ProcessCreation);
        assert_eq!(
            got[0].alerts[0].event.fields["ProcessId"],
            Value::from(11u64)
        );
        assert!(got[1].events.is_empty() && got[1].alerts.is_empty());
        Ok(())
    }

    #[test]
    fn contract_violations_are_errors_with_a_reason() {
        let runs = [run("cp01")];
        let cases: [(&[u8], &str); 8] = [
            (b"", "malformed answer"),
            (b"not json", "malformed answer"),
            (br#"{"version":2,"runs":[{"token":"cp01"}]}"#, "version 2"),
            (br#"{"version":1,"runs":[]}"#, "no answer for token `cp01`"),
            (
                br#"{"version":1,"runs":[{"token":"cp01"},{"token":"cp01"}]}"#,
                "answered twice",
            ),
            (
                br#"{"version":1,"runs":[{"token":"cp01"},{"token":"cp99"}]}"#,
                "`cp99`, which was not asked",
            ),
            (
                br#"{"version":1,"runs":[{"token":"cp01","event":[]}]}"#,
                "runs[0]",
            ),
            (
                br#"{"version":1,"runs":[{"token":"cp01"}]} {"#,
                "trailing data",
            ),
        ];
        for (out, want) in cases {
            let err = answers(out, &runs, OffsetDateTime::UNIX_EPOCH)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                err.contains(want),
                "{}: {err}",
                String::from_utf8_lossy(out)
            );
        }
        let bad_time = br#"{"version":1,"runs":[{"token":"cp01","alerts":[{"rule_title":"x","time":"yesterday"}]}]}"#;
        let err = answers(bad_time, &runs, OffsetDateTime::UNIX_EPOCH)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("runs[0].alerts[0].time"), "{err}");
    }
}
