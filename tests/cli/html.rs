//! `chainproof report <run.json> --format html`: the self-contained HTML
//! report of a recorded run (no root needed: it only reads a record).

use std::path::Path;

use assert_cmd::Command;

use crate::common::TestResult;

#[test]
fn report_renders_the_baseline_as_one_offline_html_page() -> TestResult {
    let record = Path::new(env!("CARGO_MANIFEST_DIR")).join("ci/baseline/run.json");
    let out = Command::cargo_bin("chainproof")?
        .args(["report", "--format", "html"])
        .arg(&record)
        .assert()
        .success();
    let html = String::from_utf8(out.get_output().stdout.clone())?;
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; \
         style-src &#39;unsafe-inline&#39;; img-src data:\">"
    ));
    for id in [
        "summary",
        "matrix",
        "legend",
        "ir-readiness",
        "metadata",
        "trend",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "no #{id}");
    }
    for scenario in ["macro-doc-shell", "shortcut-script", "iso-exec"] {
        assert!(
            html.contains(&format!("id=\"chain-{scenario}\"")),
            "no section for {scenario}"
        );
    }
    for external in [" src=", "url(", "@import", "<script", "<link"] {
        assert!(!html.contains(external), "{external} in the page");
    }
    assert!(html.trim_end().ends_with("</html>"));
    Ok(())
}
