//! The report in a real browser: headless Chromium renders the baseline
//! report (DOM and screenshot) while its network log records every request.
//!
//! What the net log holds (Chromium 156, Debian): the `file://` page itself
//! never appears (file loads bypass the network stack); Chromium's own
//! background requests do, even with background networking disabled (network
//! time from `clients2.google.com`, the component updater at
//! `update.googleapis.com`, the account check at `accounts.google.com`,
//! `redirector.gvt1.com`), always with `initiator: "not an origin"`. A
//! request made by a `file://` page has `initiator: "null"` and a `file://`
//! isolation key. So the test asserts: no URL request is initiated by the
//! page, and every host named anywhere in the log (URLs, DNS names) is one
//! Chromium asked for on its own. A control page that loads an image over
//! HTTP proves the check sees page requests.

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Longest a Chromium run may take before it is killed.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Schemes of local or Chromium-internal URLs, which load nothing from a
/// network.
const LOCAL_SCHEMES: [&str; 6] = [
    "file",
    "data",
    "about",
    "chrome",
    "chrome-extension",
    "devtools",
];

/// Whether `chromium` is on `PATH`; panics when it is not and `CI` is set.
fn chromium_available() -> bool {
    crate::testing::require_tool("chromium")
}

/// Runs headless Chromium on `url` with `extra` flags, a fresh profile and a
/// net log; returns its stdout and the net log's path. Kills its process
/// group when it runs over [`TIMEOUT`] or leaves helpers behind.
fn chromium(dir: &Path, name: &str, extra: &[String], url: &str) -> (String, PathBuf) {
    let profile = dir.join(format!("profile-{name}"));
    let net_log = dir.join(format!("net-{name}.json"));
    let out_path = dir.join(format!("{name}.stdout"));
    let err_path = dir.join(format!("{name}.stderr"));
    let file = |p: &Path| {
        std::fs::File::create(p).unwrap_or_else(|e| panic!("create {}: {e}", p.display()))
    };
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--net-log-capture-mode=Everything",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(file(&out_path))
        .stderr(file(&err_path))
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("start chromium: {e}"));
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > TIMEOUT => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("wait for chromium: {e}"),
        }
    };
    // Its helpers share the process group this test created for it.
    if let Ok(pgid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) on the process group of the child started above;
        // no memory is shared.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    let _ = child.wait();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let tail: String = stderr.lines().rev().take(20).collect::<Vec<_>>().join("\n");
    let Some(status) = status else {
        panic!("chromium ({name}) ran over {TIMEOUT:?} and was killed; stderr tail:\n{tail}");
    };
    assert!(
        status.success(),
        "chromium ({name}) failed: {status}\n{tail}"
    );
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    (stdout, net_log)
}

/// Parses a net log, closing it when Chromium was killed before it could.
fn read_net_log(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("net log {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|_| {
        let body = text.trim_end().trim_end_matches(',');
        serde_json::from_str(&format!("{body}]}}"))
            .unwrap_or_else(|e| panic!("net log {} is not JSON: {e}", path.display()))
    })
}

/// What a net log shows.
#[derive(Debug, Default)]
struct Net {
    events: usize,
    /// Hosts of requests Chromium made on its own (`initiator: "not an origin"`).
    browser_hosts: BTreeSet<String>,
    /// Non-local URLs requested by a page, with their initiator.
    page_requests: Vec<String>,
    /// Every host named by a URL or DNS parameter anywhere in the log.
    named_hosts: BTreeSet<String>,
}

/// Scheme and host (without port) of a URL; a bare host name has scheme `dns`.
fn endpoint(text: &str) -> Option<(String, String)> {
    let (scheme, rest) = match text.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => match text.split_once(':') {
            // `data:`, `about:blank`: no host.
            Some((s, _)) if LOCAL_SCHEMES.contains(&s) => return Some((s.into(), String::new())),
            _ if !text.is_empty() && !text.contains([' ', '/']) => ("dns".into(), text),
            _ => return None,
        },
    };
    let authority = rest.split(['/', '?', '#', ' ']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or("");
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => authority,
    };
    Some((scheme, host.to_ascii_lowercase()))
}

fn analyse(log: &Value) -> Net {
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64();
    assert!(start_job.is_some(), "net log has no event type table");
    let events = log["events"].as_array().cloned().unwrap_or_default();
    let mut net = Net {
        events: events.len(),
        ..Net::default()
    };
    for e in &events {
        let params = &e["params"];
        // The job's end event carries only `net_error`.
        if let (true, Some(url)) = (e["type"].as_u64() == start_job, params["url"].as_str()) {
            let initiator = params["initiator"].as_str().unwrap_or("(none)");
            match endpoint(url) {
                Some((scheme, _)) if LOCAL_SCHEMES.contains(&scheme.as_str()) => {}
                Some((_, host)) if initiator == "not an origin" => {
                    net.browser_hosts.insert(host);
                }
                _ => net
                    .page_requests
                    .push(format!("{url} (initiator {initiator})")),
            }
        }
        walk(params, "", &mut |key, text| {
            if ["url", "original_url", "location", "host", "hostname"].contains(&key)
                && let Some((scheme, host)) = endpoint(text)
                && !LOCAL_SCHEMES.contains(&scheme.as_str())
                && !host.is_empty()
            {
                net.named_hosts.insert(host);
            }
        });
    }
    net
}

fn walk(v: &Value, key: &str, f: &mut dyn FnMut(&str, &str)) {
    match v {
        Value::String(s) => f(key, s),
        Value::Array(a) => a.iter().for_each(|x| walk(x, key, f)),
        Value::Object(o) => o.iter().for_each(|(k, x)| walk(x, k, f)),
        _ => {}
    }
}

/// Asserts the page made no request: none initiated by it, and no host in
/// the log but those Chromium contacted for itself.
fn assert_no_page_request(net: &Net, what: &str) {
    eprintln!(
        "net log of {what}: {} events; Chromium's own requests to {:?}; page requests {:?}",
        net.events, net.browser_hosts, net.page_requests
    );
    assert!(net.events > 0, "{what}: empty net log");
    assert!(
        net.page_requests.is_empty(),
        "{what}: the page requested {:?}",
        net.page_requests
    );
    let foreign: Vec<_> = net.named_hosts.difference(&net.browser_hosts).collect();
    assert!(
        foreign.is_empty(),
        "{what}: hosts not from Chromium's own requests: {foreign:?}"
    );
}

#[test]
fn chromium_renders_the_report_offline() {
    if !chromium_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let record = crate::report::read_record(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/baseline/run.json"),
    )
    .unwrap_or_else(|e| panic!("baseline: {e}"));
    let report = dir.path().join("report.html");
    std::fs::write(
        &report,
        super::render(&record, &super::test_records::history(3)),
    )
    .unwrap_or_else(|e| panic!("write report: {e}"));
    let url = format!("file://{}", report.display());

    let (dom, log) = chromium(dir.path(), "dom", &["--dump-dom".into()], &url);
    assert!(
        dom.contains("<table id=\"matrix\" class=\"matrix\">"),
        "DOM:\n{dom}"
    );
    for s in &record.scenarios {
        assert!(
            dom.contains(&format!("<a href=\"#chain-{0}\">{0}</a>", s.id)),
            "{}",
            s.id
        );
        assert!(dom.contains(&format!("<section class=\"chain\" id=\"chain-{}\">", s.id)));
    }
    assert!(dom.contains("<svg id=\"trend-chart\""));
    assert!(dom.contains("id=\"ir-readiness\"") && dom.contains("id=\"legend\""));
    let net = analyse(&read_net_log(&log));
    assert_no_page_request(&net, "the report (DOM run)");
    // The origin URL shown as text was never fetched.
    assert!(!net.named_hosts.contains("127.0.0.1"));

    let png = dir.path().join("report.png");
    let (_, log) = chromium(
        dir.path(),
        "shot",
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,2400".into(),
        ],
        &url,
    );
    let size = std::fs::metadata(&png).map_or(0, |m| m.len());
    assert!(size > 10 * 1024, "screenshot is {size} bytes");
    let keep = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/chainproof-report.png");
    if let Some(parent) = keep.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::copy(&png, &keep).unwrap_or_else(|e| panic!("keep {}: {e}", keep.display()));
    assert_no_page_request(&analyse(&read_net_log(&log)), "the report (screenshot run)");

    // Control: a page that does load over HTTP is caught by the same check.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><title>c</title><img src=\"http://127.0.0.1:9/chainproof-probe.png\">",
    )
    .unwrap_or_else(|e| panic!("write control: {e}"));
    let (_, log) = chromium(
        dir.path(),
        "control",
        &["--dump-dom".into()],
        &format!("file://{}", control.display()),
    );
    let net = analyse(&read_net_log(&log));
    assert!(
        net.page_requests
            .iter()
            .any(|r| r.starts_with("http://127.0.0.1:9/chainproof-probe.png (initiator null)")),
        "the control's request was not seen: {net:?}"
    );
}

#[test]
fn truncated_net_log_is_closed() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("net.json");
    let text = "{\"constants\":{\"logEventTypes\":{\"URL_REQUEST_START_JOB\":7}},\n\"events\": [\n\
                {\"type\":7,\"params\":{\"url\":\"https://example.test/a\",\"initiator\":\"null\"}},\n";
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write: {e}"));
    let net = analyse(&read_net_log(&path));
    assert_eq!(net.events, 1);
    assert_eq!(
        net.page_requests,
        ["https://example.test/a (initiator null)"]
    );
    assert_eq!(
        endpoint("HTTP://Host.Test:8080/x"),
        Some(("http".into(), "host.test".into()))
    );
    assert_eq!(
        endpoint("accounts.google.com"),
        Some(("dns".into(), "accounts.google.com".into()))
    );
    assert_eq!(
        endpoint("data:image/png;base64,AA"),
        Some(("data".into(), String::new()))
    );
}
