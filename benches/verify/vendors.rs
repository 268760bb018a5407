//! Each backend of the bench: its profile (YAML, as a user writes it, so
//! defaults and new settings apply), how its local server answers — in the
//! request and answer shapes the vendor documents — and which request
//! starts a round.
//!
//! Run `i` has token `cp{i:010x}` and three processes: soffice.bin (pid
//! 10 000 + 10 i), dash under it, touch under dash. Before the visibility
//! delay every answer is empty; after it, every token a request names gets
//! its three processes. Elastic answers a point-in-time search as well as
//! an index search and gives one page (the next is empty); CrowdStrike
//! answers FQL in the query string of `GET …/queries/alerts/v2` and ids in
//! the body of `POST …/entities/alerts/v2`; Defender answers advanced
//! hunting's `{schema, results}`; Sentinel the Log Analytics `tables`.

use serde_json::{Value, json};

use super::server::{Req, tokens};

/// One backend under the bench.
pub struct Bench {
    pub name: &'static str,
    /// The profile's YAML lines below its name; `{url}` is the server.
    pub profile: &'static str,
    pub vendor: super::server::Vendor,
    pub starts_round: fn(&Req) -> bool,
}

pub const IMAGES: [&str; 3] = ["/w/program/soffice.bin", "/usr/bin/dash", "/usr/bin/touch"];

/// The first run's token: every round asks for it until it settles.
pub const FIRST: &str = "cp0000000000";

/// Pid of process `k` (0..3) of the run with `token`, and its parent's.
pub fn pids(token: &str, k: usize) -> (u64, u64) {
    let i = u64::from_str_radix(&token[2..], 16).unwrap_or(0);
    let base = 10_000 + 10 * i;
    let pid = base + k as u64;
    (pid, if k == 0 { 1 } else { pid - 1 })
}

pub fn all() -> Vec<Bench> {
    vec![
        Bench {
            name: "splunk",
            profile: "kind: splunk\nurl: {url}\nauth: { type: bearer, token: { env: BENCH_SECRET } }\n",
            vendor: splunk,
            starts_round: |r| r.names(FIRST) && !r.body.contains("notable"),
        },
        Bench {
            name: "elastic",
            profile: "kind: elastic\nurl: {url}\nauth: { type: scheme, scheme: ApiKey, credential: { env: BENCH_SECRET } }\n",
            vendor: elastic,
            starts_round: |r| {
                let alerts = r.target.contains("alerts") || r.body.contains("pit-alerts");
                r.target.contains("_search")
                    && r.names(FIRST)
                    && !alerts
                    && !r.body.contains("search_after")
            },
        },
        Bench {
            name: "defender",
            profile: "kind: defender\ntenant_id: contoso.onmicrosoft.com\nclient_id: app\nclient_secret: { env: BENCH_SECRET }\nurl: {url}\ntoken_url: {url}\n",
            vendor: defender,
            starts_round: |r| r.names(FIRST) && !r.body.contains("AlertEvidence"),
        },
        Bench {
            name: "sentinel",
            profile: "kind: sentinel\ntenant_id: contoso.onmicrosoft.com\nclient_id: app\nclient_secret: { env: BENCH_SECRET }\nworkspace_id: b438b4f6-912a-46d5-9cb1-b44069212abc\nprocess_table: sysmon\nurl: {url}\ntoken_url: {url}\n",
            vendor: sentinel,
            starts_round: |r| r.names(FIRST) && !r.body.contains("SecurityAlert"),
        },
        Bench {
            name: "crowdstrike",
            profile: "kind: crowdstrike\nurl: {url}\nclient_id: app\nclient_secret: { env: BENCH_SECRET }\n",
            vendor: crowdstrike,
            starts_round: |r| r.target.contains("/queries/") && r.names(FIRST),
        },
        Bench {
            name: "command",
            profile: "kind: command\nprogram: {program}\nargs: [\"{url}/command\"]\n",
            vendor: command,
            starts_round: |r| r.names(FIRST),
        },
    ]
}

fn splunk(req: &Req, visible: bool) -> (u16, String) {
    if req.body.contains("notable") || !visible {
        return (200, String::new());
    }
    let mut out = String::new();
    for token in req.tokens() {
        for (k, image) in IMAGES.iter().enumerate() {
            let (pid, ppid) = pids(&token, k);
            let row = json!({"preview": false, "result": {"EventCode": "1", "Image": image,
                "CommandLine": format!("{image} {token}"), "ProcessId": pid.to_string(),
                "ParentProcessId": ppid.to_string()}});
            out.push_str(&format!("{row}\n"));
        }
    }
    (200, out)
}

fn elastic(req: &Req, visible: bool) -> (u16, String) {
    if req.target.contains("_pit") {
        return match req.method.as_str() {
            "DELETE" => (200, r#"{"succeeded":true,"num_freed":1}"#.into()),
            _ if req.target.contains("alerts") => (200, r#"{"id":"pit-alerts"}"#.into()),
            _ => (200, r#"{"id":"pit-events"}"#.into()),
        };
    }
    let alerts = req.target.contains("alerts") || req.body.contains("pit-alerts");
    let later_page = req.body.contains("search_after");
    let mut hits = Vec::new();
    if visible && !alerts && !later_page {
        for token in req.tokens() {
            for (k, image) in IMAGES.iter().enumerate() {
                let (pid, ppid) = pids(&token, k);
                let n = hits.len();
                hits.push(
                    json!({"_index": ".ds-logs-x", "_id": format!("{token}-{k}"),
                    "_score": null, "sort": [1_700_000_000_000_i64, n],
                    "_source": {"@timestamp": "2026-11-26T10:00:00.000Z",
                        "event": {"category": ["process"], "type": ["start"],
                            "ingested": "2026-11-26T10:00:01.000Z"},
                        "host": {"name": "lab-01"},
                        "process": {"pid": pid, "executable": image,
                            "command_line": format!("{image} {token}"),
                            "parent": {"pid": ppid}}}}),
                );
            }
        }
    }
    let page = json!({"took": 1, "timed_out": false, "pit_id": "pit-events",
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": hits.len(), "relation": "eq"}, "max_score": null, "hits": hits}});
    (200, page.to_string())
}

fn oauth() -> (u16, String) {
    let t = r#"{"token_type":"Bearer","expires_in":3599,"access_token":"bench-access-token"}"#;
    (200, t.into())
}

fn defender(req: &Req, visible: bool) -> (u16, String) {
    if req.body.contains("grant_type") {
        return oauth();
    }
    let mut rows = Vec::new();
    if visible && !req.body.contains("AlertEvidence") {
        for token in req.tokens() {
            for (k, image) in IMAGES.iter().enumerate() {
                let (pid, ppid) = pids(&token, k);
                let name = image.rsplit('/').next().unwrap_or(image);
                rows.push(json!({"Timestamp": "2026-11-26T10:00:00.1234567Z",
                    "SourceTable": "DeviceProcessEvents", "FileName": name, "FolderPath": image,
                    "ProcessCommandLine": format!("{name} {token}"), "ProcessId": pid,
                    "InitiatingProcessId": ppid, "InitiatingProcessFileName": "x",
                    "InitiatingProcessFolderPath": "", "InitiatingProcessCommandLine": "x",
                    "AccountName": "lab", "DeviceName": "lab-01", "FileOriginUrl": null,
                    "ActionType": "ProcessCreated"}));
            }
        }
    }
    let answer = json!({"schema": [{"name": "Timestamp", "type": "DateTime"}], "results": rows});
    (200, answer.to_string())
}

const SYSMON: &str = "TimeGenerated Computer EventID Image CommandLine ProcessId ParentProcessId ParentImage ParentCommandLine User TargetFilename";
const ALERT: &str = "TimeGenerated AlertName SystemAlertId AlertSeverity Tactics Techniques Entities ExtendedProperties ProviderName";

fn sentinel(req: &Req, visible: bool) -> (u16, String) {
    if req.body.contains("grant_type") {
        return oauth();
    }
    let alerts = req.body.contains("SecurityAlert");
    let mut rows: Vec<Value> = Vec::new();
    if visible && !alerts {
        for token in req.tokens() {
            for (k, image) in IMAGES.iter().enumerate() {
                let (pid, ppid) = pids(&token, k);
                rows.push(json!([
                    "2026-11-26T10:00:00.123Z",
                    "lab-01",
                    "1",
                    image,
                    format!("{image} {token}"),
                    pid.to_string(),
                    ppid.to_string(),
                    "",
                    "",
                    "lab",
                    ""
                ]));
            }
        }
    }
    let columns = if alerts { ALERT } else { SYSMON };
    let cols: Vec<Value> = columns
        .split_whitespace()
        .map(|c| json!({"name": c, "type": "string"}))
        .collect();
    let answer = json!({"tables": [{"name": "PrimaryResult", "columns": cols, "rows": rows}]});
    (200, answer.to_string())
}

fn crowdstrike(req: &Req, visible: bool) -> (u16, String) {
    if req.body.contains("grant_type") || req.target.contains("oauth2") {
        let t = r#"{"access_token":"bench-access-token","token_type":"bearer","expires_in":1799}"#;
        return (201, t.into());
    }
    if req.target.contains("/queries/") {
        let ids: Vec<String> = if visible {
            tokens(&req.target)
                .iter()
                .map(|t| format!("cid:ind:aid:{t}"))
                .collect()
        } else {
            Vec::new()
        };
        let answer = json!({"meta": {"query_time": 0.01, "pagination":
            {"offset": 0, "limit": 500, "total": ids.len()}, "trace_id": "t"},
            "resources": ids, "errors": []});
        return (200, answer.to_string());
    }
    let alerts: Vec<Value> = tokens(&req.body)
        .iter()
        .map(|t| {
            let p = |k: usize| pids(t, k).0.to_string();
            json!({"composite_id": format!("cid:ind:aid:{t}"),
                "created_timestamp": "2026-11-26T10:00:01.995794943Z",
                "timestamp": "2026-11-26T10:00:00.328Z",
                "device": {"device_id": "aid", "hostname": "lab-01", "platform_name": "Linux"},
                "filename": "touch", "filepath": IMAGES[2], "cmdline": format!("touch {t}"),
                "local_process_id": p(2), "process_id": "399748687993",
                "parent_details": {"cmdline": format!("sh -c {t}"), "filename": "dash",
                    "filepath": IMAGES[1], "local_process_id": p(1)},
                "grandparent_details": {"cmdline": format!("soffice {t}"),
                    "filename": "soffice.bin", "filepath": IMAGES[0], "local_process_id": p(0)},
                "name": "OfficeSpawnsShell", "display_name": "Office spawned a shell",
                "product": "epp", "severity": 70, "severity_name": "High",
                "tactic": "Execution", "tactic_id": "TA0002", "technique": "Malicious File",
                "technique_id": "T1204.002", "pattern_id": 50102})
        })
        .collect();
    let answer = json!({"meta": {"query_time": 0.01}, "resources": alerts, "errors": []});
    (200, answer.to_string())
}

/// The command contract (docs/command-backend.md): the program forwards
/// its stdin here and prints this answer.
fn command(req: &Req, visible: bool) -> (u16, String) {
    let runs: Vec<Value> = req
        .tokens()
        .iter()
        .map(|token| {
            let events: Vec<Value> = if visible {
                IMAGES
                    .iter()
                    .enumerate()
                    .map(|(k, image)| {
                        let (pid, ppid) = pids(token, k);
                        json!({"category": "process_creation", "fields": {"Image": image,
                            "ProcessId": pid, "ParentProcessId": ppid,
                            "CommandLine": format!("{image} {token}")}})
                    })
                    .collect()
            } else {
                Vec::new()
            };
            json!({"token": token, "events": events})
        })
        .collect();
    (200, json!({"version": 1, "runs": runs}).to_string())
}
